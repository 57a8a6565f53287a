# guest-lib.sh: helpers for guest scripts run by run-guest.sh.
#
# Source it first thing in a guest script:   . "$LAB_LIB"
# Then assert with assert_eq/assert_ge (they record failures and carry on,
# so one run shows every mismatch) and end with `lab_finish`, whose exit
# status is the test's result.
#
# Conventions inside the guest: cwd /lab; files written to $LAB_OUT come
# back to the host in the run directory (kept with LAB_KEEP=1); addresses
# are TEST-NET ones on veths the script creates; the guest has no NIC.

LAB_FAILURES=0
LAB_CHECKS=0
SECSTATD_PID=
SECSTATD_LOG=
: "${LAB_OUT:=/lab/out}"

lab_say()
{
	printf '\n===== %s\n' "$*"
}

# Records a failure without stopping the script.
lab_fail()
{
	LAB_FAILURES=$((LAB_FAILURES + 1))
	echo "FAIL: $*"
}

# Stops the script at once: for broken preconditions, where every later
# check would fail for the same reason.
lab_die()
{
	echo "FATAL: $*"
	[ -n "$SECSTATD_PID" ] && secstatd_stop
	exit 1
}

# assert_eq WHAT EXPECTED ACTUAL: prints both values either way, so a log
# shows what was compared, not only that something differed.
assert_eq()
{
	LAB_CHECKS=$((LAB_CHECKS + 1))
	if [ "$2" = "$3" ]; then
		echo "ok: $1: $3"
	else
		lab_fail "$1: expected '$2', got '$3'"
	fi
}

# assert_ge WHAT MIN ACTUAL: integer ACTUAL >= MIN.
assert_ge()
{
	LAB_CHECKS=$((LAB_CHECKS + 1))
	if [ -n "$3" ] && [ "$3" -ge "$2" ] 2>/dev/null; then
		echo "ok: $1: $3 >= $2"
	else
		lab_fail "$1: expected >= $2, got '$3'"
	fi
}

# assert_cmd WHAT COMMAND...: the command succeeds.
assert_cmd()
{
	local what=$1
	shift
	LAB_CHECKS=$((LAB_CHECKS + 1))
	if "$@"; then
		echo "ok: $what"
	else
		lab_fail "$what (command: $*)"
	fi
}

# Ends the script: status 0 only when at least one check ran and none
# failed (a script that checked nothing has proven nothing).
lab_finish()
{
	[ -n "$SECSTATD_PID" ] && secstatd_stop
	echo
	if [ "$LAB_CHECKS" -eq 0 ]; then
		echo "RESULT: no checks ran"
		exit 1
	fi
	if [ "$LAB_FAILURES" -ne 0 ]; then
		echo "RESULT: $LAB_FAILURES of $LAB_CHECKS checks failed"
		exit 1
	fi
	echo "RESULT: all $LAB_CHECKS checks passed"
	exit 0
}

# lab_modprobe MOD...: loads modules, dies naming the one that is missing.
lab_modprobe()
{
	local m
	for m in "$@"; do
		modprobe "$m" || lab_die "modprobe $m failed"
	done
}

# lab_netns_pair NS_A ADDR_A NS_B ADDR_B [PREFIXLEN]
# Two network namespaces joined by a veth pair (devices "v$NS_A" in NS_A,
# "v$NS_B" in NS_B), both up with loopback. NS_A may be "-" for the root
# namespace (the iSCSI initiator must live there: the kernel's iSCSI
# netlink family exists in init_net only).
lab_netns_pair()
{
	local a=$1 aaddr=$2 b=$3 baddr=$4 plen=${5:-24}
	local ia=v${a} ib=v${b}

	[ "$a" = - ] && ia=vroot
	[ "$a" = - ] || ip netns add "$a" || lab_die "netns add $a"
	ip netns add "$b" || lab_die "netns add $b"
	if [ "$a" = - ]; then
		ip link add "$ia" type veth peer name "$ib" netns "$b"
		ip addr add "$aaddr/$plen" dev "$ia"
		ip link set "$ia" up
	else
		ip link add "$ia" netns "$a" type veth peer name "$ib" netns "$b"
		ip -n "$a" addr add "$aaddr/$plen" dev "$ia"
		ip -n "$a" link set "$ia" up
		ip -n "$a" link set lo up
	fi
	ip -n "$b" addr add "$baddr/$plen" dev "$ib"
	ip -n "$b" link set "$ib" up
	ip -n "$b" link set lo up
}

# in_ns NS COMMAND...: runs in NS ("-" = root namespace). nsenter, unlike
# `ip netns exec`, keeps /sys as it is (configfs stays visible).
in_ns()
{
	local ns=$1
	shift
	if [ "$ns" = - ]; then
		"$@"
	else
		nsenter --net="/run/netns/$ns" "$@"
	fi
}

# xfrm_sa_current NS SRC DST SPI FIELD: the "lifetime current" counter of
# one SA as `ip -s xfrm state` prints it; FIELD is bytes or packets.
xfrm_sa_current()
{
	local ns=$1 src=$2 dst=$3 spi=$4 field=$5 col
	case $field in
	bytes) col=1 ;;
	packets) col=2 ;;
	*) lab_die "xfrm_sa_current: field $field" ;;
	esac
	in_ns "$ns" ip -s xfrm state get src "$src" dst "$dst" proto esp \
		spi "$spi" |
		awk -v c=$col '/lifetime current:/ { getline
			gsub(/[(),a-z]/, " "); print $c; exit }'
}

# secstatd_start ARGS...: starts $SECSTATD in the background (log in
# $LAB_OUT/secstatd.log) and waits up to 10 s for it to print "ready"
# (LAB_READY_PATTERN overrides the pattern).
secstatd_start()
{
	local i

	[ -x "${SECSTATD:-}" ] || lab_die "SECSTATD ('${SECSTATD:-}') not executable"
	SECSTATD_LOG=$LAB_OUT/secstatd.log
	"$SECSTATD" "$@" >"$SECSTATD_LOG" 2>&1 &
	SECSTATD_PID=$!
	for i in $(seq 100); do
		if grep -q "${LAB_READY_PATTERN:-ready}" "$SECSTATD_LOG"; then
			echo "secstatd ready (pid $SECSTATD_PID) after $((i / 10)).$((i % 10))s"
			return 0
		fi
		if ! kill -0 "$SECSTATD_PID" 2>/dev/null; then
			cat "$SECSTATD_LOG"
			SECSTATD_PID=
			lab_die "secstatd exited before it was ready"
		fi
		sleep 0.1
	done
	cat "$SECSTATD_LOG"
	lab_die "secstatd not ready after 10 s"
}

secstatd_stop()
{
	local pid=$SECSTATD_PID
	SECSTATD_PID=
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	echo "--- secstatd log (tail)"
	tail -n 20 "$SECSTATD_LOG"
}

# secstat_dump ARGS...: the CLI's machine-readable dump (JSON on stdout).
secstat_dump()
{
	[ -x "${SECSTAT:-}" ] || lab_die "SECSTAT ('${SECSTAT:-}') not executable"
	"$SECSTAT" --dump "$@"
}

# json_get FILE EXPR: a value out of a JSON document; EXPR is a Python
# subscript chain on the parsed document `d`, e.g.
#   json_get out.json '["hbas"][0]["InstanceName"]'
# Prints nothing (and fails) when the path does not exist, so an absent
# field never compares equal to 0.
json_get()
{
	python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
try:
    v = eval("d" + sys.argv[2], {"d": d})
except (KeyError, IndexError, TypeError):
    sys.exit(1)
print(v if not isinstance(v, bool) else str(v).lower())
PY
}

# json_flatten FILE: every leaf of a JSON document as "PATH<TAB>VALUE"
# lines (PATH like a.b[0].c; booleans true/false). One Python start for a
# whole document: under TCG each start costs about a second, so scripts
# with many checks flatten once and look values up with flat_get.
json_flatten()
{
	python3 - "$1" <<'PY'
import json, sys
def walk(p, v):
    if isinstance(v, dict):
        for k, x in v.items():
            walk(p + "." + k if p else k, x)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            walk("%s[%d]" % (p, i), x)
    else:
        print("%s\t%s" % (p, str(v).lower() if isinstance(v, bool) else v))
walk("", json.load(open(sys.argv[1])))
PY
}

# flat_get FLATFILE PATH: the value at PATH; fails (prints nothing) when
# absent.
flat_get()
{
	awk -F'\t' -v p="$2" '$1 == p { print $2; found = 1; exit }
		END { exit !found }' "$1"
}
