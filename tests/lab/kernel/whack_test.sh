#!/bin/bash
# kernel_lab_whack: real libreswan pluto against the whack provider.
#
# Two pluto daemons in two network namespaces negotiate IKEv2 with a PSK
# and install ESP transport SAs in Debian's kernel; ping passes through
# them; a second connection with a mismatched PSK fails authentication.
# Then the real secstatd (--provider whack, once through the ipsec
# wrapper, once through the whack binary) is queried with the real
# secstat CLI, and every value it reports for IKEv2 must equal what
# `whack --globalstatus` and `--trafficstatus` print on the same pluto.
#
# Debian's libreswan conflicts with strongSwan's packages, so it is never
# installed: on the host this script downloads the .debs with
# `apt-get download` and unpacks them with `dpkg -x` under
# $SECSTAT_BUILD_DIR/libreswan (cached), then boots the guest through
# run-guest.sh with itself as the guest script. Register it as
#   add_test(NAME kernel_lab_whack COMMAND bash whack_test.sh)
# with the environment of secstat_add_kernel_lab_test (SECSTATD, SECSTAT,
# SECSTAT_BUILD_DIR): run-guest.sh on its own cannot fetch packages, the
# guest has no network.
#
# Exit status: as run-guest.sh (126 = the environment could not be built).

if [ -z "${LAB_LIB:-}" ]; then
	# ---------------------------------------------------------------- host
	set -euo pipefail
	HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	die_env()
	{
		echo "whack_test: ENVIRONMENT FAILURE: $*" >&2
		exit 126
	}
	# pluto's own package and the libraries it needs that a strongSwan
	# host may lack; certutil (libnss3-tools) creates pluto's NSS db.
	PKGS="libreswan libldns3 libevent-pthreads-2.1-7 libnss3-tools"
	base=${SECSTAT_LIBRESWAN_DIR:-${SECSTAT_BUILD_DIR:-/tmp/secstat}/libreswan}
	ver=$(apt-cache policy libreswan 2>/dev/null |
		awk '/Candidate:/ { print $2 }')
	[ -n "$ver" ] && [ "$ver" != "(none)" ] ||
		die_env "apt knows no libreswan package (apt-get update?)"
	dir=$base/$ver
	if ! [ -x "$dir/root/usr/libexec/ipsec/pluto" ]; then
		rm -rf "$dir"
		mkdir -p "$dir/debs"
		(cd "$dir/debs" && apt-get download $PKGS) >&2 ||
			die_env "apt-get download $PKGS failed"
		for deb in "$dir"/debs/*.deb; do
			dpkg -x "$deb" "$dir/root" || die_env "dpkg -x $deb failed"
		done
		[ -x "$dir/root/usr/libexec/ipsec/pluto" ] ||
			die_env "no pluto in the unpacked libreswan $ver"
	fi
	export SECSTAT_LIBRESWAN_ROOT=$dir/root
	echo "whack_test: libreswan $ver unpacked in $SECSTAT_LIBRESWAN_ROOT" >&2
	exec bash "$HERE/run-guest.sh" "$HERE/whack_test.sh" "$@"
fi

# ------------------------------------------------------------------- guest
. "$LAB_LIB"

L=${SECSTAT_LIBRESWAN_ROOT:-}
[ -n "$L" ] && [ -x "$L/usr/libexec/ipsec/pluto" ] ||
	lab_die "SECSTAT_LIBRESWAN_ROOT ('$L') has no pluto: run whack_test.sh" \
		"on the host, not run-guest.sh directly (it unpacks libreswan)"
export LD_LIBRARY_PATH=$L/usr/lib/x86_64-linux-gnu
WHACK=$L/usr/libexec/ipsec/whack
PSK=secstat-lab-psk-0123456789abcdef0123
WEST=192.0.2.1
EAST=192.0.2.2
W=/tmp/lsw

lab_modprobe esp4 xfrm_user veth
# The ESP transforms pinned below, loaded now: left to the kernel's
# on-demand module loading inside pluto's SA add, a loaded machine made it
# fail (ESRCH) after 30 s.
for m in authenc cbc aes_generic sha256_generic hmac echainiv seqiv; do
	modprobe "$m" 2>/dev/null || grep -qw "$m" /lib/modules/"$(uname -r)"/modules.builtin ||
		echo "note: no module $m (built in under another name?)"
done
# Instantiating the kernel's authenc(hmac(sha256),cbc(aes)) the first time
# (template lookups, module requests, self-tests) took over 30 s on a
# loaded emulated machine, long enough for the larval SA of pluto's SPI
# allocation to expire (xfrm_acq_expires, 30 s) and the Child SA to fail:
# instantiate it once now, with a throwaway SA.
t0=$(date +%s)
ip xfrm state add src 203.0.113.1 dst 203.0.113.2 proto esp spi 0x100 \
	mode transport enc 'cbc(aes)' 0x$(printf '33%.0s' $(seq 16)) \
	auth-trunc 'hmac(sha256)' 0x$(printf '44%.0s' $(seq 32)) 128 ||
	lab_die "the kernel refuses an ESP SA with cbc(aes) and hmac(sha256)"
ip xfrm state flush
echo "ESP transform ready after $(($(date +%s) - t0)) s"

lab_netns_pair west $WEST east $EAST
for ns in west east; do
	in_ns $ns sh -c 'echo 600 >/proc/sys/net/core/xfrm_acq_expires' ||
		lab_die "xfrm_acq_expires in $ns"
done

# pluto runs its helpers (addconn, _updown) from the compiled-in
# /usr/libexec/ipsec; the guest's root is a writable overlay.
mkdir -p /usr/libexec/ipsec
mount --bind "$L/usr/libexec/ipsec" /usr/libexec/ipsec ||
	lab_die "cannot bind $L/usr/libexec/ipsec"

# pluto_start NS ME PEER MYID PEERID
pluto_start()
{
	local ns=$1 me=$2 peer=$3 myid=$4 peerid=$5 d=$W/$1 i

	mkdir -p "$d/nss" "$d/run"
	"$L/usr/bin/certutil" -N -d "sql:$d/nss" --empty-password ||
		lab_die "certutil -N for $ns"
	# The bad connection's IDs get a different PSK on each side: its
	# authentication must fail.
	cat >"$d/ipsec.secrets" <<-EOF
		@west @east : PSK "$PSK"
		@west-bad @east : PSK "$ns-only-$PSK"
	EOF
	cat >"$d/ipsec.conf" <<-EOF
		config setup
		    logfile=$d/pluto.log
		conn %default
		    # Cheap under emulation, and what the modules above provide.
		    ike=aes128-sha2_256-modp2048
		    esp=aes128-sha2_256
		    # pluto's default runs \`ipsec _updown\`: strongSwan's ipsec
		    # when both are around.
		    leftupdown=/usr/libexec/ipsec/_updown
		conn good
		    ikev2=insist
		    authby=secret
		    type=transport
		    left=$me
		    leftid=$myid
		    right=$peer
		    rightid=$peerid
		    auto=add
		conn bad
		    ikev2=insist
		    authby=secret
		    type=transport
		    left=$me
		    leftid=$([ "$ns" = west ] && echo @west-bad || echo @east)
		    right=$peer
		    rightid=$([ "$ns" = west ] && echo @east || echo @west-bad)
		    keyingtries=1
		    auto=add
	EOF
	in_ns "$ns" "$L/usr/libexec/ipsec/pluto" --config "$d/ipsec.conf" \
		--nofork --rundir "$d/run" --nssdir "$d/nss" \
		--secretsfile "$d/ipsec.secrets" --ipsecdir "$d" \
		--logfile "$d/pluto.log" --no-dnssec --dumpdir "$d/run" \
		>"$d/stdout" 2>&1 &
	for i in $(seq 100); do
		[ -S "$d/run/pluto.ctl" ] && break
		sleep 0.1
	done
	[ -S "$d/run/pluto.ctl" ] || {
		cat "$d/stdout" "$d/pluto.log"
		lab_die "pluto in $ns did not create its control socket"
	}
	for c in good bad; do
		in_ns "$ns" "$L/usr/libexec/ipsec/addconn" --ctlsocket \
			"$d/run/pluto.ctl" --config "$d/ipsec.conf" $c ||
			lab_die "addconn $c in $ns"
	done
}

pluto_start west $WEST $EAST @west @east
pluto_start east $EAST $WEST @east @west
CTL=$W/west/run/pluto.ctl
whack_west() { "$WHACK" --ctlsocket "$CTL" "$@"; }

lab_say "IKEv2 with the right PSK"
# whack talks to pluto's unix socket only: no namespace needed.
timeout 120 "$WHACK" --ctlsocket "$CTL" --name good --initiate 2>&1 |
	tee "$LAB_OUT/initiate-good.txt"
# pluto revives a connection whose first Child SA failed: what counts is
# an established IPsec SA, now or within two minutes.
for i in $(seq 120); do
	whack_west --trafficstatus | grep -q 'type=ESP' && break
	sleep 1
done
whack_west --trafficstatus | grep -q 'type=ESP' ||
	{ tail -n 30 $W/west/pluto.log $W/east/pluto.log
	  lab_die "the good connection did not establish its Child SA"; }

assert_cmd "ping west -> east over ESP" \
	in_ns west ping -c 5 -i 0.2 -W 1 -q $EAST
# Kept for the record without the (throwaway) keys.
in_ns west ip -s xfrm state | sed -E 's/0x[0-9a-f]{16,}/<key>/' \
	>"$LAB_OUT/xfrm-west.txt"

lab_say "IKEv2 with a mismatched PSK"
timeout 120 "$WHACK" --ctlsocket "$CTL" --name bad --initiate \
	>"$LAB_OUT/initiate-bad.txt" 2>&1
cat "$LAB_OUT/initiate-bad.txt"
# pluto retries the failing connection by itself: delete it, so the
# counters hold still while they are compared, and let the last failed
# IKE SA be deleted, so it is counted as failed.
whack_west --name bad --delete >/dev/null 2>&1 || lab_fail "whack --delete bad"
sleep 3

# expectations FILE: every IKEv2 field the whack provider fills, as the
# globalstatus text in FILE gives it (docs/sources/whack.md), one
# "DUMP-PATH VALUE" line each.
expectations()
{
	local f=$1 V=ikeext.statistics.ikeV2Statistics
	local S=$V.v4Statistics
	gs()
	{
		awk -F= -v k="$1" '{ sub(/^[0-9][0-9][0-9] /, "") }
			$1 == k { print $2; found = 1; exit }
			END { if (!found) exit 1 }' "$f" ||
			echo "MISSING($1)"
	}
	gs0()
	{
		awk -F= -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' "$f"
	}
	echo "$S.currentActiveMainModes $(gs current.states.enumerate.STATE_V2_ESTABLISHED_IKE_SA)"
	echo "$S.totalMainModesStarted $(gs total.ikev2.ike.started)"
	echo "$S.totalSuccessfulMainModes $(gs total.ike.ikev2.established)"
	echo "$S.totalFailedMainModes $(gs total.ike.ikev2.failed)"
	echo "$S.currentActiveQuickModes $(gs current.states.enumerate.STATE_V2_ESTABLISHED_CHILD_SA)"
	echo "$S.totalQuickModesStarted $(gs total.ikev2.child.started)"
	echo "$S.totalSuccessfulQuickModes $(gs total.ikev2.child.established)"
	echo "$S.totalFailedQuickModes $(($(gs0 total.ikev2.child.finished) -
		$(gs0 total.ikev2.child.finished.completed)))"
	echo "$V.errorFrequencyTable[1] $(($(gs0 total.ikev2.sent.notifies.error.AUTHENTICATION_FAILED) +
		$(gs0 total.ikev2.recv.notifies.error.AUTHENTICATION_FAILED)))"
	echo "$V.errorFrequencyTable[5] $(($(gs0 total.ikev2.ike.finished.exchange-timeout) +
		$(gs0 total.ikev2.ike.finished.too-many-retransmits) +
		$(gs0 total.ikev2.child.finished.exchange-timeout) +
		$(gs0 total.ikev2.child.finished.too-many-retransmits)))"
}
expect() { awk -v p="$2" '$1 ~ p"$" { print $2; exit }' "$1"; }

# ---- what pluto says
whack_west --globalstatus >"$LAB_OUT/globalstatus.txt" ||
	lab_die "whack --globalstatus"
whack_west --trafficstatus >"$LAB_OUT/trafficstatus.txt" ||
	lab_die "whack --trafficstatus"
cat "$LAB_OUT/trafficstatus.txt"
whack_west --showstates >"$LAB_OUT/showstates.txt" || lab_die "whack --showstates"
cat "$LAB_OUT/showstates.txt"
expectations "$LAB_OUT/globalstatus.txt" >"$LAB_OUT/expected.txt"
cat "$LAB_OUT/expected.txt"

# The scenario itself: one IKE SA and one Child SA up, failed
# authentications; otherwise the comparison below proves little.
E=$LAB_OUT/expected.txt
assert_eq "pluto: established IKE SAs" 1 "$(expect $E currentActiveMainModes)"
assert_eq "pluto: established Child SAs" 1 "$(expect $E currentActiveQuickModes)"
assert_ge "pluto: IKE SAs failed" 1 "$(expect $E totalFailedMainModes)"
assert_ge "pluto: AUTHENTICATION_FAILED notifications" 1 \
	"$(expect $E 'errorFrequencyTable\\[1\\]')"

# The kernel's counters for the SA pluto installed, to hold trafficstatus
# against: west's inbound SA (east -> west) carried the echo replies.
tr_in=$(sed -n 's/.*inBytes=\([0-9]*\).*/\1/p' "$LAB_OUT/trafficstatus.txt" | head -n 1)
tr_out=$(sed -n 's/.*outBytes=\([0-9]*\).*/\1/p' "$LAB_OUT/trafficstatus.txt" | head -n 1)
spi_in=$(in_ns west ip xfrm state list src $EAST dst $WEST proto esp |
	awk '/spi/ { print $4; exit }')
spi_out=$(in_ns west ip xfrm state list src $WEST dst $EAST proto esp |
	awk '/spi/ { print $4; exit }')
assert_ge "trafficstatus inBytes" 320 "$tr_in"
assert_eq "trafficstatus inBytes = kernel inbound SA bytes" \
	"$(xfrm_sa_current west $EAST $WEST "$spi_in" bytes)" "$tr_in"
assert_eq "trafficstatus outBytes = kernel outbound SA bytes" \
	"$(xfrm_sa_current west $WEST $EAST "$spi_out" bytes)" "$tr_out"
# showstates names the outbound SA first (at the peer), then the inbound
# one (at this host): the provider's SPI join relies on that order.
# Compared as numbers: either side may print leading zeros.
said=$(grep -o 'esp\.[0-9a-f]*@[0-9.]*' "$LAB_OUT/showstates.txt" |
	while IFS=.@ read -r _ spi a b c d; do
		printf '%d@%s ' $((16#$spi)) "$a.$b.$c.$d"
	done)
assert_eq "showstates SPI pair = kernel outbound, inbound" \
	"$((spi_out))@$EAST $((spi_in))@$WEST " "$said"

# ---- what secstatd says, through the ipsec wrapper and the whack binary
# dumpval FILE PATH: one value of `secstat --dump` (TSV: server, path,
# value); prints nothing when the path is absent.
dumpval()
{
	awk -F'\t' -v p="$2" '$2 == p { print $3; exit }' "$1"
}

export IPSEC_EXECDIR=$L/usr/libexec/ipsec # read by the ipsec wrapper
n=0
for via in "$L/usr/sbin/ipsec" "$WHACK"; do
	n=$((n + 1))
	lab_say "secstatd --provider whack --whack $via"
	URL=ipc:///tmp/secstatd-whack-$n.sock
	# pluto's control socket is the west daemon's; the agent itself runs
	# in the root namespace (whack only talks to the unix socket).
	# Collections are spaced out: under emulation three whack runs can
	# take seconds, and one that passes the 2 s deadline fails the
	# collection (the provider then retries).
	secstatd_start --provider whack --whack "$via" --whack-ctl "$CTL" \
		--listen $URL --collect-interval 2000
	out=$LAB_OUT/ikeext-$n.tsv
	for i in $(seq 60); do
		"$SECSTAT" -s $URL --dump ikeext >"$out" 2>&1 &&
			grep -q 'v4Statistics.currentActiveMainModes' "$out" && break
		sleep 1
	done
	grep -q 'v4Statistics.currentActiveMainModes' "$out" ||
		lab_fail "no IKE statistics from secstatd via $via after 60 s: $(head -n 3 "$out")"
	"$SECSTAT" -s $URL info >"$LAB_OUT/info-$n.txt" 2>&1 || true
	# pluto's counters must not have moved meanwhile.
	whack_west --globalstatus >"$LAB_OUT/globalstatus-$n.txt"
	expectations "$LAB_OUT/globalstatus-$n.txt" >"$LAB_OUT/expected-$n.txt"
	assert_eq "[$n] pluto unchanged during the query" \
		"$(cat "$LAB_OUT/expected.txt")" "$(cat "$LAB_OUT/expected-$n.txt")"
	while read -r path want; do
		assert_eq "[$n] ${path#ikeext.statistics.}" "$want" "$(dumpval "$out" "$path")"
	done <"$LAB_OUT/expected-$n.txt"
	V=ikeext.statistics.ikeV2Statistics
	S=$V.v4Statistics
	# What pluto cannot tell stays absent.
	assert_eq "[$n] v6 block absent" "" "$(dumpval "$out" $V.v6Statistics.totalSuccessfulMainModes)"
	assert_eq "[$n] totalResponderMainModes absent" "" "$(dumpval "$out" $S.totalResponderMainModes)"
	assert_eq "[$n] totalAcquires absent" "" "$(dumpval "$out" $S.totalAcquires)"
	# trafficstatus through the per-SA listing, when the CLI has one.
	if "$SECSTAT" help 2>&1 | grep -qw '^ *sa'; then
		"$SECSTAT" -s $URL --dump sa >"$LAB_OUT/sa-$n.tsv" ||
			lab_fail "secstat sa via $via"
		got_in=$(awk -F'\t' '$2 ~ /(ipsecSas|childSas)\[0\]\.bytesIn$/ { print $3; exit }' "$LAB_OUT/sa-$n.tsv")
		got_out=$(awk -F'\t' '$2 ~ /(ipsecSas|childSas)\[0\]\.bytesOut$/ { print $3; exit }' "$LAB_OUT/sa-$n.tsv")
		# pluto's counters move with traffic only; none flowed since.
		assert_eq "[$n] listing bytesIn = trafficstatus inBytes" "$tr_in" "$got_in"
		assert_eq "[$n] listing bytesOut = trafficstatus outBytes" "$tr_out" "$got_out"
	else
		lab_fail "secstat has no per-SA listing command: trafficstatus" \
			"(inBytes=$tr_in outBytes=$tr_out) not compared through the CLI"
	fi
	secstatd_stop
done

lab_say "pluto logs (tail)"
tail -n 15 $W/west/pluto.log
for ns in west east; do
	kill "$(cat $W/$ns/run/pluto.pid 2>/dev/null)" 2>/dev/null
done
lab_finish
