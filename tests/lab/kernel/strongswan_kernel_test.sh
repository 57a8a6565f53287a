#!/bin/bash
# kernel_lab_strongswan: strongSwan with its kernel backend (kernel-netlink,
# real kernel ESP) seen by the vici and xfrm providers at once.
#
# Inside Debian's kernel (run-guest.sh): two network namespaces a
# (192.0.2.1, inner 198.51.100.1) and b (192.0.2.2, inner 203.0.113.1)
# joined by a veth, one charon per namespace with kernel-netlink (NOT
# kernel-libipsec), PSK IKEv2, one tunnel-mode CHILD_SA between the inner
# addresses, pings through it. Two real secstatd watch the initiator,
# both with --provider xfrm,procfs,vici and charon a's vici socket:
#   ns    started inside namespace a, like strongSwan itself: the normal
#         deployment (agent and IKE daemon share the namespace);
#   root  in the root namespace with --netns a: the kernel SAs come from
#         a named namespace and the per-SA listing must say which.
# Queried with the real secstat CLI (--dump ipsec / ikeext, --json sa for
# the per-SA listing). The kernel (`ip -s xfrm state`, xfrm_stat of
# namespace a) and charon (`swanctl --list-sas --raw`, `--counters --raw`)
# are the references:
#   1. inbound/outbound bytes and packets = the kernel counters of the
#      CHILD_SA's two SAs = swanctl's CHILD_SA bytes/packets: counted once;
#   2. activeSas = the kernel's SA count (2), activeTunnels 1, SAs added
#      counted once (the kernel's events; vici's own are left out);
#   3. the IKEv2 block (active and successful main and quick modes,
#      started, responder, IKE packets) is vici's and matches swanctl,
#      while the drop counters are the kernel's: forged ESP packets with
#      a bad ICV and an unknown SPI show up as the SA's integrity failures,
#      XfrmInStateProtoError and XfrmInNoStates;
#   4. the per-SA listing shows each kernel SA once: inside the CHILD_SA
#      entry under the IKE SA (with the kernel's integrity failures and,
#      for the root agent, namespace "a"), never again as an unowned SA;
#      the CHILD_SA's tunnel once, with the aggregate's totals;
#   5. after `swanctl --rekey --child`: totals = the old SAs' final kernel
#      counters + the new SAs', monotonic, still not doubled; SAs added,
#      deleted and rekeyed from the kernel's events only; in every answer
#      during the rekey, 2 to 4 SAs in one tunnel.
# Environment (run-guest.sh): SECSTATD, SECSTAT. Fails when anything of
# the lab cannot be built; an in-guest watchdog (SSK_DEADLINE, default
# 330 s) ends a stuck run with the daemons' logs.
#
# Under emulation every process start costs up to a second on a busy
# host: references are read once per step into files and parsed by one
# awk, the agents' answers are compared in bash, waits use a builtin.
. "$LAB_LIB"
. "$SECSTAT_SOURCE_DIR/tests/lab/kernel/charon-lib.sh"

D=/tmp/ssk
OUT=$LAB_OUT
URL_NS=ipc:///run/ssk-ns.sock
URL_ROOT=ipc:///run/ssk-root.sock
OUTER_A=192.0.2.1
OUTER_B=192.0.2.2
INNER_A=198.51.100.1
INNER_B=203.0.113.1
T0=${EPOCHREALTIME/./}

tlog()
{
	local d=$(((${EPOCHREALTIME/./} - T0) / 100000))
	echo "[$((d / 10)).$((d % 10))s] $*"
}

mkdir -p $D

AGENT_PIDS=
CHARON_PIDS=
WATCHDOG=
cleanup()
{
	local p i
	[ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null
	WATCHDOG=
	for p in $AGENT_PIDS $CHARON_PIDS; do kill "$p" 2>/dev/null; done
	for p in $AGENT_PIDS $CHARON_PIDS; do wait "$p" 2>/dev/null; done
	AGENT_PIDS= CHARON_PIDS=
	ip netns del a 2>/dev/null
	ip netns del b 2>/dev/null
	ip netns del warm 2>/dev/null
}

logs()
{
	local f
	for f in $D/a/charon.log $D/b/charon.log $OUT/agent-ns.log $OUT/agent-root.log; do
		[ -f "$f" ] && { echo "---- $f (tail)"; tail -n 25 "$f"; }
	done
}

# A broken environment: stop at once, with the logs.
die()
{
	echo "FATAL: $*"
	logs
	cleanup
	exit 1
}

# Under TCG on a loaded host everything is slow; a hang must still end
# with a reason rather than the VM's own timeout.
on_watchdog()
{
	tlog "WATCHDOG: ${SSK_DEADLINE:-330}s deadline reached"
	WATCHDOG=
	die "the test did not finish in time"
}
trap on_watchdog USR1
(sleep "${SSK_DEADLINE:-330}" && kill -USR1 $$) &
WATCHDOG=$!

echo "guest kernel $(uname -r)"
[ -x "${SECSTATD:-}" ] && [ -x "${SECSTAT:-}" ] || die "SECSTATD/SECSTAT not set"
charon_require
lab_modprobe esp4 xfrm_user veth

# Instantiating authenc(hmac(sha256),cbc(aes)) the first time takes tens
# of seconds under emulation (module requests, self-tests): a throwaway
# SA does it in the background while the daemons start, in a namespace of
# its own (the root agent watches the root namespace: an SA added and
# deleted there would be counted).
ip netns add warm || die "netns add warm"
(ip -n warm xfrm state add src 203.0.113.9 dst 203.0.113.10 proto esp \
	spi 0x100 mode tunnel enc 'cbc(aes)' 0x33333333333333333333333333333333 \
	auth-trunc 'hmac(sha256)' \
	0x4444444444444444444444444444444444444444444444444444444444444444 128 &&
	ip netns del warm) >$D/warm.log 2>&1 &
WARM=$!

# ---------------------------------------------------------------- network
lab_netns_pair a $OUTER_A b $OUTER_B
for ns in a b; do
	# No IPv6: a late link-local address makes charon send MOBIKE
	# updates. Larval SPIs live 10 min: a slow SA installation must not
	# outlive them.
	in_ns $ns sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
		echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6
		echo 600 >/proc/sys/net/core/xfrm_acq_expires' ||
		die "sysctls in $ns"
done
ip -n a addr add $INNER_A/32 dev lo || die "inner address in a"
ip -n b addr add $INNER_B/32 dev lo || die "inner address in b"

# ---------------------------------------------------------------- charon
charon_conf a $OUTER_A $OUTER_B a@lab b@lab net tunnel $INNER_A/32 $INNER_B/32 \
	aes128-sha256-modp2048
charon_conf b $OUTER_B $OUTER_A b@lab a@lab net tunnel $INNER_B/32 $INNER_A/32 \
	aes128-sha256-modp2048

tlog "network ready, starting charon"
charon_start a ip netns exec a
CHARON_A=$CHARON_PID
charon_start b ip netns exec b
charon_wait a
charon_wait b

# ---------------------------------------------------------------- agents
# Started before the negotiation, so they see every event. The ns agent
# runs in a (nsenter keeps the mount namespace: its socket is in /run).
agent_start() # name url command-prefix... (extra secstatd args in AGENT_ARGS)
{
	local name=$1 url=$2
	shift 2
	"$@" "$SECSTATD" --listen "$url" --provider xfrm,procfs,vici \
		--vici "unix://$D/a/charon.vici" --collect-interval 1000 \
		--hostname "ssk-$name" ${AGENT_ARGS:-} >"$OUT/agent-$name.log" 2>&1 &
	AGENT_PIDS="$AGENT_PIDS $!"
}
agent_start ns $URL_NS nsenter --net=/run/netns/a
AGENT_ARGS="--netns a" agent_start root $URL_ROOT env

# Meanwhile: the daemons answer and run ESP in the kernel.
charon_check_kernel a
charon_check_kernel b
tlog "both charons up (kernel-netlink, no kernel-libipsec)"

# Answers of both agents, loaded into V["URL PATH"] (bash only).
declare -A V
query() # FILE
{
	{
		"$SECSTAT" -s $URL_NS -s $URL_ROOT --timeout 5000 --dump ipsec
		"$SECSTAT" -s $URL_NS -s $URL_ROOT --timeout 5000 --dump ikeext
	} >"$1" 2>&1
	V=()
	local srv path val
	while IFS=$'\t' read -r srv path val; do
		V["$srv $path"]=$val
	done <"$1"
}

# The vici event streams must be registered before the negotiation: the
# negotiation totals are present once they are.
V4=ikeext.statistics.ikeV2Statistics.v4Statistics
ok=0
for i in $(seq 120); do
	query $D/start.tsv
	[ -n "${V[$URL_NS $V4.totalSuccessfulMainModes]}" ] &&
		[ -n "${V[$URL_ROOT $V4.totalSuccessfulMainModes]}" ] && { ok=1; break; }
	nap 0.5
done
[ $ok = 1 ] || { cat $D/start.tsv; die "the agents' vici event streams did not come up"; }
tlog "agents up, vici events registered"

charon_load a &
LOAD_a=$!
charon_load b &
LOAD_b=$!
wait $LOAD_a || { cat $D/load-a.txt; die "swanctl --load-all a"; }
wait $LOAD_b || { cat $D/load-b.txt; die "swanctl --load-all b"; }
wait $WARM || { cat $D/warm.log; die "the kernel refuses an ESP SA with cbc(aes) and hmac(sha256)"; }
tlog "configurations loaded, ESP transform ready"

# ---------------------------------------------------------------- references
# refs: charon a's listing and counters and namespace a's kernel SAs and
# xfrm_stat, read once, into R[...]:
#   R[ike_established] R[children_installed]
#   R[child.FIELD]        FIELD of the INSTALLED CHILD_SA (swanctl names)
#   R[ike_packets_in]     IKE messages received (counters plugin)
#   R[kernel_sas]         ESP SAs in a
#   R[sa.SPI.FIELD]       bytes packets replay-window replay failed
#   R[mib.NAME]           a's xfrm_stat; R[rootmib.NAME] the root's
declare -A R
load_kv() # FILE: "key value" lines into R
{
	local k v
	while read -r k v; do
		R[$k]=$v
	done <"$1"
}
refs()
{
	R=()
	sw a --list-sas --raw >$D/sas.raw || die "swanctl --list-sas"
	sw a --counters --raw >$D/counters.raw || die "swanctl --counters"
	ip -n a -s xfrm state >$D/xfrm.txt || die "ip xfrm state in a"
	awk 'FILENAME ~ /sas.raw$/ {
		for (i = 1; i <= NF; i++) {
			t = $i
			sub(/^\{+/, "", t)
			if (t == "state=ESTABLISHED" && $(i + 1) ~ /^local-host=/)
				ike++
			if (t ~ /^net-[0-9]+$/ && $(i + 1) ~ /^\{name=/) {
				inchild = 1
				split("", f)
				continue
			}
			if (!inchild)
				continue
			end = t ~ /\}$/
			sub(/\}+$/, "", t)
			if ((p = index(t, "=")) > 1)
				f[substr(t, 1, p - 1)] = substr(t, p + 1)
			if (end) {
				inchild = 0
				if (f["state"] == "INSTALLED" && ++inst == 1)
					for (k in f)
						print "child." k, f[k]
			}
		}
		next
	}
	FILENAME ~ /counters.raw$/ {
		gsub(/[{}]/, " ")
		for (i = 1; i <= NF; i++)
			if ($i ~ /^(ike-init|ike-auth|create-child|info)-in-(req|resp)=/ ||
			    $i ~ /^invalid(-spi)?=/) {
				split($i, kv, "=")
				pk += kv[2]
			}
		next
	}
	/^src / { n++ }
	/proto esp spi/ { spi = $4; sub(/^0x/, "", spi); sub(/\(.*/, "", spi) }
	/lifetime current:/ {
		getline
		gsub(/[(),a-z]/, " ")
		print "sa." spi ".bytes", $1
		print "sa." spi ".packets", $2
	}
	/^\tstats:/ {
		getline
		for (i = 1; i < NF; i++)
			if ($i ~ /^[a-z-]+$/)
				print "sa." spi "." $i, $(i + 1)
	}
	END {
		print "ike_established", ike + 0
		print "children_installed", inst + 0
		print "ike_packets_in", pk + 0
		print "kernel_sas", n + 0
	}' $D/sas.raw $D/counters.raw $D/xfrm.txt >$D/refs.kv ||
		die "parsing the references"
	load_kv $D/refs.kv
	# xfrm_stat of a through a process that lives there (charon a).
	local name val
	while read -r name val; do
		R[mib.$name]=$val
	done </proc/$CHARON_A/net/xfrm_stat
	while read -r name val; do
		R[rootmib.$name]=$val
	done </proc/net/xfrm_stat
}

# ---------------------------------------------------------------- checks
IN=ipsec.statistics.inboundTrafficStatistics
OUTB=ipsec.statistics.outboundTrafficStatistics
AGG=ipsec.statistics.aggregateSaStatistics
ESPD=ipsec.statistics.espDropPacketStatistics
DROP=ipsec.statistics.aggregateDropPacketStatistics
COMMON=ikeext.statistics.commonStatistics

# want PATH VALUE: expected of both agents (want_ns / want_root: one).
EXPECT=()
want_ns() { EXPECT+=("$URL_NS $1 $2"); }
want_root() { EXPECT+=("$URL_ROOT $1 $2"); }
want() { want_ns "$1" "$2"; want_root "$1" "$2"; }

# settle STEP: the agents collect on their own schedule, so they are
# asked again (for at most 60 s) until every expected value is there;
# then every expectation is asserted on the last answer (printed either
# way).
settle()
{
	local f=$OUT/$1.tsv e url path value i=0 bad
	local until=$((${EPOCHREALTIME/./} + 60000000))
	while :; do
		i=$((i + 1))
		query "$f"
		bad=
		for e in "${EXPECT[@]}"; do
			read -r url path value <<<"$e"
			[ "${V[$url $path]-ABSENT}" = "$value" ] ||
				{ bad="$url $path = ${V[$url $path]-ABSENT}, not $value"; break; }
		done
		[ -z "$bad" ] && break
		[ ${EPOCHREALTIME/./} -lt $until ] || break
		nap 0.5
	done
	tlog "$1: answers compared after $i queries${bad:+ (still different: $bad)}"
	for e in "${EXPECT[@]}"; do
		read -r url path value <<<"$e"
		n=${url#ipc:///run/ssk-}
		assert_eq "[${n%.sock}] $path" "$value" "${V[$url $path]-ABSENT}"
	done
	EXPECT=()
}

# listing STEP: the per-SA listing of both agents through the CLI
# (`secstat --json sa`), summarised by one python run as "URL KEY VALUE"
# lines into L["URL KEY"].
declare -A L
listing()
{
	local url k v
	"$SECSTAT" -s $URL_NS -s $URL_ROOT --timeout 5000 --json sa \
		>"$OUT/$1-sa.json" 2>&1 || lab_fail "secstat sa ($(head -c 300 "$OUT/$1-sa.json"))"
	python3 - "$OUT/$1-sa.json" "$((16#${R[child.spi-in]}))" \
		"$((16#${R[child.spi-out]}))" "${R[child.reqid]}" >"$OUT/$1-sa.txt" <<-'PY'
		import json, sys
		spi_in, spi_out, reqid = (int(a) for a in sys.argv[2:5])
		try:
		    hosts = json.load(open(sys.argv[1]))["hosts"]
		except Exception as e:
		    print("all error %s" % str(e).replace(" ", "_"))
		    hosts = []
		for h in hosts:
		    url = h.get("server")
		    def out(k, v):
		        print("%s %s %s" % (url, k, "EMPTY" if v == "" else v))
		    d = h.get("reply", {}).get("securityAssociations", {})
		    ike = d.get("ikeSas", [])
		    out("ike", ",".join("%s:%s:%s" % (s.get("name"), s.get("state"),
		                        s.get("source")) for s in ike) or "none")
		    inst = [c for s in ike for c in s.get("childSas", [])
		            if c.get("state") == "INSTALLED"]
		    out("installed", len(inst))
		    if len(inst) == 1:
		        c = inst[0]
		        for k in ("source", "spiIn", "spiOut", "bytesIn", "bytesOut",
		                  "packetsIn", "packetsOut", "integrityFailures",
		                  "replayFailures", "netns", "mode", "protocol"):
		            out("child." + k, c.get(k, "ABSENT"))
		    # Every place either kernel SPI shows up in the listing: once
		    # each, in the CHILD_SA.
		    for name, spi in (("in", spi_in), ("out", spi_out)):
		        where = []
		        for s in ike:
		            for c in s.get("childSas", []):
		                if spi in (c.get("spiIn"), c.get("spiOut")):
		                    where.append("child:" + c.get("state", "?"))
		        for e in d.get("ipsecSas", []):
		            if spi in (e.get("spiIn"), e.get("spiOut")):
		                where.append("unowned:" + e.get("source", "?"))
		        out("spi_" + name, ",".join(where) or "nowhere")
		    out("unowned", len(d.get("ipsecSas", [])))
		    # The CHILD_SA's tunnel (its reqid): listed once, whichever
		    # provider accounts it.
		    tun = [t for t in d.get("tunnels", []) if t.get("reqid") == reqid]
		    out("tunnels", "%d/%d" % (len(tun), len(d.get("tunnels", []))))
		    if len(tun) == 1:
		        for k in ("source", "bytesIn", "bytesOut", "packetsIn",
		                  "packetsOut", "sasAdded", "sasDeleted", "rekeys",
		                  "activeSas", "integrityFailures", "netns"):
		            out("tunnel." + k, tun[0].get(k, "ABSENT"))
		PY
	L=()
	while read -r url k v; do
		L["$url $k"]=$v
	done <"$OUT/$1-sa.txt"
}

# check_listing STEP ADDED DELETED REKEYS: each kernel SA once, merged
# into the CHILD_SA; the CHILD_SA's tunnel once (TUN_* from
# expect_traffic), with SAs added, deleted and pairs rekeyed.
check_listing()
{
	local url n si=$((16#${R[child.spi-in]})) so=$((16#${R[child.spi-out]}))
	for url in $URL_NS $URL_ROOT; do
		n=${url#ipc:///run/ssk-}
		n="$1 ${n%.sock}"
		assert_eq "[$n] IKE SAs" lab:ESTABLISHED:vici "${L[$url ike]}"
		assert_eq "[$n] INSTALLED CHILD_SAs" 1 "${L[$url installed]}"
		assert_eq "[$n] CHILD_SA source" vici "${L[$url child.source]}"
		assert_eq "[$n] CHILD_SA mode" tunnel "${L[$url child.mode]}"
		assert_eq "[$n] CHILD_SA spiIn = kernel inbound SA" $si "${L[$url child.spiIn]}"
		assert_eq "[$n] CHILD_SA spiOut = kernel outbound SA" $so "${L[$url child.spiOut]}"
		assert_eq "[$n] CHILD_SA bytesIn = kernel" "$KIB" "${L[$url child.bytesIn]}"
		assert_eq "[$n] CHILD_SA bytesOut = kernel" "$KOB" "${L[$url child.bytesOut]}"
		assert_eq "[$n] CHILD_SA packetsIn = kernel" "$KIP" "${L[$url child.packetsIn]}"
		# Kernel-only knowledge, merged into the CHILD_SA.
		assert_eq "[$n] CHILD_SA integrityFailures = kernel SA failed" \
			"${R[sa.${R[child.spi-in]}.failed]}" "${L[$url child.integrityFailures]}"
		assert_eq "[$n] CHILD_SA replayFailures = kernel SA replay" \
			"$((${R[sa.${R[child.spi-in]}.replay]} + ${R[sa.${R[child.spi-in]}.replay-window]}))" \
			"${L[$url child.replayFailures]}"
		assert_eq "[$n] kernel SA $si listed once, in the CHILD_SA" \
			child:INSTALLED "${L[$url spi_in]}"
		assert_eq "[$n] kernel SA $so listed once, in the CHILD_SA" \
			child:INSTALLED "${L[$url spi_out]}"
		assert_eq "[$n] no unowned kernel SA" 0 "${L[$url unowned]}"
		# The tunnel's totals across rekeys: listed once, = the
		# aggregate traffic, the kernel's SA events and drops.
		assert_eq "[$n] tunnels of reqid ${R[child.reqid]}/all" 1/1 "${L[$url tunnels]}"
		assert_eq "[$n] tunnel bytesIn" "$TUN_BIN" "${L[$url tunnel.bytesIn]}"
		assert_eq "[$n] tunnel bytesOut" "$TUN_BOUT" "${L[$url tunnel.bytesOut]}"
		assert_eq "[$n] tunnel packetsIn" "$TUN_PIN" "${L[$url tunnel.packetsIn]}"
		assert_eq "[$n] tunnel packetsOut" "$TUN_POUT" "${L[$url tunnel.packetsOut]}"
		assert_eq "[$n] tunnel activeSas" "${R[kernel_sas]}" "${L[$url tunnel.activeSas]}"
		assert_eq "[$n] tunnel sasAdded" "$2" "${L[$url tunnel.sasAdded]}"
		assert_eq "[$n] tunnel sasDeleted" "$3" "${L[$url tunnel.sasDeleted]}"
		assert_eq "[$n] tunnel rekeys (SA pairs replaced)" "$4" "${L[$url tunnel.rekeys]}"
		assert_eq "[$n] tunnel integrityFailures" "$FAILED" "${L[$url tunnel.integrityFailures]}"
	done
	assert_eq "[$1 root] CHILD_SA netns = the kernel SAs' namespace" a \
		"${L[$URL_ROOT child.netns]}"
	assert_eq "[$1 root] tunnel netns" a "${L[$URL_ROOT tunnel.netns]}"
}

# expect_traffic BASE_IN_B BASE_IN_P BASE_OUT_B BASE_OUT_P (after refs):
# kernel = swanctl for the CHILD_SA's two SAs, and the agents' totals =
# the bases (traffic of SAs gone) + the current SAs' counters.
expect_traffic()
{
	local si=${R[child.spi-in]} so=${R[child.spi-out]} p
	KIB=${R[sa.$si.bytes]} KIP=${R[sa.$si.packets]}
	KOB=${R[sa.$so.bytes]} KOP=${R[sa.$so.packets]}
	echo "kernel:  in $KIB B / $KIP pkts (SA $si), out $KOB B / $KOP pkts (SA $so)"
	echo "swanctl: in ${R[child.bytes-in]} B / ${R[child.packets-in]} pkts," \
		"out ${R[child.bytes-out]} B / ${R[child.packets-out]} pkts"
	assert_eq "swanctl bytes-in = kernel SA $si" "$KIB" "${R[child.bytes-in]}"
	assert_eq "swanctl packets-in = kernel SA $si" "$KIP" "${R[child.packets-in]}"
	assert_eq "swanctl bytes-out = kernel SA $so" "$KOB" "${R[child.bytes-out]}"
	assert_eq "swanctl packets-out = kernel SA $so" "$KOP" "${R[child.packets-out]}"
	for p in encryptedByteCount authenticatedESPByteCount tunnelByteCount; do
		want $IN.$p $(($1 + KIB))
		want $OUTB.$p $(($3 + KOB))
	done
	want $IN.transportByteCount 0
	want $OUTB.transportByteCount 0
	want $IN.totalSuccessfulPackets $(($2 + KIP))
	want $OUTB.totalSuccessfulPackets $(($4 + KOP))
	TUN_BIN=$(($1 + KIB)) TUN_PIN=$(($2 + KIP))
	TUN_BOUT=$(($3 + KOB)) TUN_POUT=$(($4 + KOP))
	want $AGG.activeSas "${R[kernel_sas]}"
	want $AGG.activeTunnels 1
}

# expect_ike SUCCESSFUL_QUICK_MODES: the IKEv2 block is vici's = swanctl.
expect_ike()
{
	want $V4.currentActiveMainModes "${R[ike_established]}"
	want $V4.currentActiveQuickModes "${R[children_installed]}"
	want $V4.totalMainModesStarted 1
	want $V4.totalSuccessfulMainModes 1
	want $V4.totalFailedMainModes 0
	want $V4.totalResponderMainModes 0
	want $V4.totalSuccessfulQuickModes "$1"
	want $COMMON.totalPacketsReceived "${R[ike_packets_in]}"
}

# ---------------------------------------------------------------- 1. up
lab_say "1. IKEv2 + CHILD_SA with kernel ESP, traffic, forged ESP"
sw a --initiate --ike lab --child net --timeout 90 >"$OUT/initiate.txt" 2>&1 ||
	{ cat "$OUT/initiate.txt"; die "initiate lab"; }
in_ns a ping -n -q -c 10 -i 0.1 -W 3 -s 200 -I $INNER_A $INNER_B >/dev/null ||
	die "no traffic through the kernel's ESP tunnel"
refs
SI=${R[child.spi-in]} SO=${R[child.spi-out]}
tlog "CHILD_SA up: spi-in $SI spi-out $SO, 10 pings through"
[ "${R[children_installed]}" = 1 ] || die "no INSTALLED CHILD_SA after initiate"
[ "${R[kernel_sas]}" = 2 ] && [ -n "${R[sa.$SI.bytes]}" ] && [ -n "${R[sa.$SO.bytes]}" ] ||
	{ cat $D/xfrm.txt; die "namespace a does not hold exactly the CHILD_SA's 2 kernel SAs"; }
assert_ge "kernel inbound SA carried the echo replies" 10 "${R[sa.$SI.packets]}"
# Drops only the kernel sees, from b: three packets for a's inbound SA
# (SPI, sequence numbers ahead of the window, 16-byte IV, two AES blocks,
# 16 bytes of wrong ICV) and one for an SPI nobody has. perl starts much
# faster than python under emulation.
in_ns b perl -MSocket -e '
	socket(my $s, PF_INET, SOCK_RAW, 50) or die "socket: $!";
	my $to = sockaddr_in(0, inet_aton($ARGV[0]));
	for my $seq (1000 .. 1002) {
		send($s, pack("NN", hex($ARGV[1]), $seq) . "\0" x 64, 0, $to) or die "send: $!";
	}
	send($s, pack("NN", 0x0badc0de, 1) . "\0" x 64, 0, $to) or die "send: $!";
	' $OUTER_A $SI || lab_fail "sending forged ESP"
nap 0.5
refs
FAILED=${R[sa.$SI.failed]}
echo "kernel: SA $SI failed=$FAILED; a: XfrmInStateProtoError=${R[mib.XfrmInStateProtoError]}" \
	"XfrmInNoStates=${R[mib.XfrmInNoStates]}"
assert_eq "kernel SA $SI counted the 3 bad ICVs" 3 "$FAILED"
assert_ge "a's XfrmInNoStates counted the unknown SPI" 1 "${R[mib.XfrmInNoStates]}"
# Forged packets are no traffic.
expect_traffic 0 0 0 0
want $AGG.totalSasAdded 2
want $AGG.totalSasDeleted 0
want $AGG.successfulRekeys 0
expect_ike 1
# The drop counters are the kernel's (vici has none).
want $ESPD.authenticationFailuresOnInbound "$FAILED"
want $ESPD.replayCheckFailuresOnInbound "$((${R[sa.$SI.replay]} + ${R[sa.$SI.replay-window]}))"
want_ns $DROP.authenticationFailuresOnInbound "${R[mib.XfrmInStateProtoError]}"
want_ns $DROP.invalidSpisOnInbound "${R[mib.XfrmInNoStates]}"
# The root agent: its own namespace's xfrm_stat (procfs) + a's (xfrm).
want_root $DROP.authenticationFailuresOnInbound \
	"$((${R[rootmib.XfrmInStateProtoError]} + ${R[mib.XfrmInStateProtoError]}))"
want_root $DROP.invalidSpisOnInbound \
	"$((${R[rootmib.XfrmInNoStates]} + ${R[mib.XfrmInNoStates]}))"
settle up

# ---------------------------------------------------------------- 2. listing
lab_say "2. per-SA listing: each kernel SA once, in its CHILD_SA"
listing up
check_listing up 2 0 0

# ---------------------------------------------------------------- 3. rekey
lab_say "3. swanctl --rekey --child net"
B_IN=$KIB B_INP=$KIP B_OUT=$KOB B_OUTP=$KOP
PREV_IN=${V[$URL_NS $IN.encryptedByteCount]}
PREV_OUT=${V[$URL_NS $OUTB.encryptedByteCount]}
sw a --rekey --child net >"$OUT/rekey.txt" 2>&1 || { cat "$OUT/rekey.txt"; die "rekey"; }
# Done when the kernel holds two SAs again, neither of the old pair
# (read without starting a parser: a builtin loop over `ip xfrm state`).
# Meanwhile the agents are asked too: whatever mix of before and after
# their providers' last collections hold, the rekey is one tunnel and at
# most 4 kernel SAs (old and new pair), never charon's new pair on top.
DURING=
for i in $(seq 100); do
	query $D/during.tsv
	for url in $URL_NS $URL_ROOT; do
		DURING="$DURING ${V[$url $AGG.activeSas]-?}/${V[$url $AGG.activeTunnels]-?}"
	done
	ip -n a xfrm state >$D/xfrm-wait.txt
	n=0 old=0
	while read -r w1 w2 w3 w4 _; do
		[ "$w1 $w2 $w3" = "proto esp spi" ] || continue
		n=$((n + 1))
		[ "${w4%%(*}" = 0x$SI ] || [ "${w4%%(*}" = 0x$SO ] && old=1
	done <$D/xfrm-wait.txt
	[ $n = 2 ] && [ $old = 0 ] && break
	nap 0.2
done
[ $n = 2 ] && [ $old = 0 ] || { cat $D/xfrm-wait.txt; die "the rekey did not complete"; }
echo "activeSas/activeTunnels seen during the rekey (ns, root, ...):$DURING"
bad=
for e in $DURING; do
	[ "${e#*/}" = 1 ] && [ "${e%/*}" -ge 2 ] 2>/dev/null && [ "${e%/*}" -le 4 ] || bad="$bad $e"
done
assert_eq "during the rekey: 2-4 SAs in 1 tunnel in every answer" "" "$bad"
in_ns a ping -n -q -c 5 -i 0.1 -W 3 -s 100 -I $INNER_A $INNER_B >/dev/null ||
	die "no traffic after the rekey"
refs
tlog "rekeyed: spi-in $SI -> ${R[child.spi-in]}, spi-out $SO -> ${R[child.spi-out]}, 5 pings through"
[ "${R[children_installed]}" = 1 ] && [ "${R[child.spi-in]}" != "$SI" ] ||
	{ cat $D/sas.raw; die "charon does not list the new CHILD_SA alone"; }
SI=${R[child.spi-in]} SO=${R[child.spi-out]}
# The old SAs' final counters: what the kernel showed before the rekey
# (no ESP passed in between).
expect_traffic "$B_IN" "$B_INP" "$B_OUT" "$B_OUTP"
want $AGG.totalSasAdded 4
want $AGG.totalSasDeleted 2
# One per kernel SA replaced make-before-break (xfrm.md, section 5); vici
# counts 1 per CHILD_SA: with both added up it would be 3.
want $AGG.successfulRekeys 2
# The bad ICVs of the replaced SA stay counted.
want $ESPD.authenticationFailuresOnInbound "$FAILED"
expect_ike 2
settle rekey
for url in $URL_NS $URL_ROOT; do
	n=${url#ipc:///run/ssk-}
	assert_ge "[${n%.sock}] inbound bytes monotonic across the rekey" "$PREV_IN" \
		"${V[$url $IN.encryptedByteCount]}"
	assert_ge "[${n%.sock}] outbound bytes monotonic across the rekey" "$PREV_OUT" \
		"${V[$url $OUTB.encryptedByteCount]}"
done
listing rekey
check_listing rekey 4 2 1

lab_say "summary"
echo "bytes in/out: kernel $B_IN/$B_OUT (old SAs) + $KIB/$KOB (new SAs);" \
	"ns agent ${V[$URL_NS $IN.encryptedByteCount]}/${V[$URL_NS $OUTB.encryptedByteCount]}," \
	"root agent ${V[$URL_ROOT $IN.encryptedByteCount]}/${V[$URL_ROOT $OUTB.encryptedByteCount]}"
for p in $AGENT_PIDS; do
	assert_cmd "agent $p still running at the end" kill -0 $p
done
cleanup
# A sanitized build (-DSECSTAT_SANITIZE=ON) reports at exit, too.
assert_eq "no sanitizer report in the agents' logs" "" \
	"$(grep -l -E 'AddressSanitizer|LeakSanitizer|runtime error:' $OUT/agent-*.log)"
tlog "guest script done"
cp $D/a/charon.log "$OUT/charon-a.log"
cp $D/b/charon.log "$OUT/charon-b.log"
lab_finish
