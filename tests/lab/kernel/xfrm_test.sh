#!/bin/bash
# kernel_lab_xfrm: the xfrm provider against real kernel ESP.
#
# Two network namespaces a (198.51.100.1) and b (198.51.100.2) with ESP
# transport SAs a->b (SPI 0x1001, reqid 1) and b->a (0x2002, reqid 2).
# The real secstatd (--provider xfrm,procfs --netns a --netns b), started
# before any SA exists, is queried with the real secstat CLI after each
# step, and its numbers must equal what the kernel shows through
# `ip -s xfrm state` and /proc/net/xfrm_stat in the same namespace:
#   1. traffic: per-namespace inbound/outbound bytes and packets = the
#      SA's lifetime counters (one SA per direction and namespace);
#   2. replay: a's outbound SA re-created (sequence numbers restart) ->
#      b's replayCheckFailuresOnInbound = the SA's replay counters =
#      XfrmInStateSeqError;
#   3. wrong key: b's inbound SA re-created with another auth key ->
#      authenticationFailuresOnInbound = the SA's "failed" counter =
#      XfrmInStateProtoError, while the replay failures of the SA that
#      was replaced are still counted;
#   4. rekey (make-before-break, new SPI 0x1003, old SA deleted): the
#      tunnel's totals carry on from where they were;
#   5. SAs added, deleted and rekeyed, counted from netlink events, per
#      namespace and summed host-wide.
# It also records the real kernel's SA dump messages into $LAB_OUT
# (xfrm_fixture_gen record) for the parser's fixtures.
. "$LAB_LIB"

echo "guest kernel $(uname -r)"
lab_modprobe esp4 xfrm_user veth
lab_netns_pair a 198.51.100.1 b 198.51.100.2

SOCK=ipc:///run/secstat-xfrm.sock
OUT=$LAB_OUT
# The keys are test constants: the SAs exist only inside this VM.
EK=0x$(printf '11%.0s' $(seq 16))
AK=0x$(printf '22%.0s' $(seq 32))
BK=0x$(printf '33%.0s' $(seq 32))

sa_add() # NS SRC DST SPI REQID AUTHKEY
{
	ip -n "$1" xfrm state add src "$2" dst "$3" proto esp spi "$4" \
		reqid "$5" mode transport replay-window 32 \
		enc 'cbc(aes)' "$EK" auth-trunc 'hmac(sha256)' "$6" 128 ||
		lab_die "xfrm state add $*"
}

sa_del() # NS SRC DST SPI
{
	ip -n "$1" xfrm state delete src "$2" dst "$3" proto esp spi "$4" ||
		lab_die "xfrm state delete $*"
}

# sa_stat NS SRC DST SPI replay|replay-window|failed: the SA's "stats:"
# line of `ip -s xfrm state`.
sa_stat()
{
	in_ns "$1" ip -s xfrm state get src "$2" dst "$3" proto esp spi "$4" |
		awk -v f="$5" '/^\tstats:/ { getline
			for (i = 1; i < NF; i++) if ($i == f) { print $(i + 1); exit } }'
}

mib() # NS NAME
{
	in_ns "$1" awk -v n="$2" '$1 == n { print $2 }' /proc/net/xfrm_stat
}

# query FILE: one `secstat --json ipsec` answer, after a collection that
# started once the kernel state of the step was in place. The answer is
# flattened once into FILE.flat ("NS<TAB>a.b.c<TAB>value" lines, NS
# "host" for the host-wide structure): python starts slowly in the guest.
# Under TCG on a loaded host a collection can lag: an answer whose xfrm
# health is not OK yet (e.g. stale) is asked again, at most 10 times.
query()
{
	local try
	sleep 0.6
	for try in 1 2 3 4 5 6 7 8 9 10; do
		query_once "$1"
		[ "$(get "$OUT/$1" provider xfrm)" = HEALTH_OK ] && return 0
		sleep 0.5
	done
}

query_once()
{
	"$SECSTAT" -s "$SOCK" --json ipsec >"$OUT/$1" ||
		lab_die "secstat ipsec failed ($(cat "$OUT/$1"))"
	python3 - "$OUT/$1" >"$OUT/$1.flat" <<'PY' || lab_die "bad JSON in $1"
import json, sys
reply = json.load(open(sys.argv[1]))["hosts"][0]["reply"]
for p in reply["providers"]:
    print("provider\t%s\t%s" % (p["name"], p["health"]))
r = reply["ipsec"]
def walk(ns, prefix, v):
    if isinstance(v, dict):
        for k, x in v.items():
            walk(ns, prefix + [k], x)
    elif isinstance(v, list):
        for e in v:
            if isinstance(e, dict) and "name" in e:
                print("%s\t%s\t%s" % (ns, ".".join(prefix + [e["name"]]),
                                        e.get("value", "")))
    else:
        print("%s\t%s\t%s" % (ns, ".".join(prefix), v))
walk("host", [], {k: v for k, v in r.items() if k != "namespaces"})
for n in r.get("namespaces", []):
    walk(n.get("netns", "") or "-", [], n)
PY
}

# get FILE NS PATH...: a value of namespace NS ("host" = the host-wide
# structure, "" = the agent's own namespace) in a query answer; nothing
# (and failure) when absent, so an absent value never equals 0.
get()
{
	local f=$1 ns=${2:--} path
	shift 2
	path=$(IFS=.; echo "$*")
	awk -F '\t' -v n="$ns" -v p="$path" \
		'$1 == n && $2 == p { print $3; found = 1; exit }
		 END { exit !found }' "$f.flat"
}

S=statistics
IN=inboundTrafficStatistics
OUTB=outboundTrafficStatistics
AGG=aggregateSaStatistics
ESP=espDropPacketStatistics
DROP=aggregateDropPacketStatistics

# ---------------------------------------------------------------- start
secstatd_start --listen "$SOCK" --provider xfrm,procfs --netns a \
	--netns b --collect-interval 200
query empty.json
assert_eq "health of xfrm" HEALTH_OK "$(get "$OUT/empty.json" provider xfrm)"
assert_eq "health of procfs" HEALTH_OK "$(get "$OUT/empty.json" provider procfs)"
for ns in "" a b; do
	assert_eq "activeSas before any SA [$ns]" 0 \
		"$(get "$OUT/empty.json" "$ns" $S $AGG activeSas)"
done

# ---------------------------------------------------------------- 1. traffic
lab_say "1. ESP SAs and traffic"
for ns in a b; do
	sa_add $ns 198.51.100.1 198.51.100.2 0x1001 1 "$AK"
	sa_add $ns 198.51.100.2 198.51.100.1 0x2002 2 "$AK"
done
ip -n a xfrm policy add src 198.51.100.1 dst 198.51.100.2 dir out \
	tmpl proto esp reqid 1 mode transport
ip -n a xfrm policy add src 198.51.100.2 dst 198.51.100.1 dir in \
	tmpl proto esp reqid 2 mode transport
ip -n b xfrm policy add src 198.51.100.2 dst 198.51.100.1 dir out \
	tmpl proto esp reqid 2 mode transport
ip -n b xfrm policy add src 198.51.100.1 dst 198.51.100.2 dir in \
	tmpl proto esp reqid 1 mode transport
assert_cmd "ping a -> b over ESP" \
	in_ns a ping -c 5 -i 0.2 -W 1 -q 198.51.100.2
query traffic.json
ip -n b -s xfrm state
in_ns b "$SECSTAT_BUILD_DIR/tests/unit/providers/xfrm_fixture_gen" \
	record "$OUT" || lab_fail "recording the SA dump"

# In a, 0x1001 is outbound and 0x2002 inbound; in b the reverse.
check_traffic() # FILE NS IN_SRC IN_DST IN_SPI OUT_SRC OUT_DST OUT_SPI
{
	local f=$1 ns=$2
	local ib ip ob op
	ib=$(xfrm_sa_current "$ns" "$3" "$4" "$5" bytes)
	ip=$(xfrm_sa_current "$ns" "$3" "$4" "$5" packets)
	ob=$(xfrm_sa_current "$ns" "$6" "$7" "$8" bytes)
	op=$(xfrm_sa_current "$ns" "$6" "$7" "$8" packets)
	assert_eq "[$ns] inbound bytes = SA $5" "$ib" \
		"$(get "$f" "$ns" $S $IN encryptedByteCount)"
	assert_eq "[$ns] inbound ESP-authenticated bytes = SA $5" "$ib" \
		"$(get "$f" "$ns" $S $IN authenticatedESPByteCount)"
	assert_eq "[$ns] inbound transport bytes = SA $5" "$ib" \
		"$(get "$f" "$ns" $S $IN transportByteCount)"
	assert_eq "[$ns] inbound packets = SA $5" "$ip" \
		"$(get "$f" "$ns" $S $IN totalSuccessfulPackets)"
	assert_eq "[$ns] outbound bytes = SA $8" "$ob" \
		"$(get "$f" "$ns" $S $OUTB encryptedByteCount)"
	assert_eq "[$ns] outbound packets = SA $8" "$op" \
		"$(get "$f" "$ns" $S $OUTB totalSuccessfulPackets)"
	assert_eq "[$ns] no tunnel-mode bytes" 0 \
		"$(get "$f" "$ns" $S $IN tunnelByteCount)"
}
check_traffic "$OUT/traffic.json" a 198.51.100.2 198.51.100.1 0x2002 \
	198.51.100.1 198.51.100.2 0x1001
check_traffic "$OUT/traffic.json" b 198.51.100.1 198.51.100.2 0x1001 \
	198.51.100.2 198.51.100.1 0x2002
assert_ge "[b] inbound packets after 5 pings" 5 \
	"$(get "$OUT/traffic.json" b $S $IN totalSuccessfulPackets)"
# The host-wide structure is the sum over the namespaces.
assert_eq "[host] inbound packets = a + b" \
	"$(($(get "$OUT/traffic.json" a $S $IN totalSuccessfulPackets) + \
	$(get "$OUT/traffic.json" b $S $IN totalSuccessfulPackets)))" \
	"$(get "$OUT/traffic.json" host $S $IN totalSuccessfulPackets)"
for ns in a b; do
	assert_eq "[$ns] activeSas" 2 \
		"$(get "$OUT/traffic.json" $ns $S $AGG activeSas)"
	assert_eq "[$ns] totalSasAdded (events)" 2 \
		"$(get "$OUT/traffic.json" $ns $S $AGG totalSasAdded)"
done
assert_eq "[host] activeSas" 4 \
	"$(get "$OUT/traffic.json" host $S $AGG activeSas)"
assert_eq "[host] totalSasAdded" 4 \
	"$(get "$OUT/traffic.json" host $S $AGG totalSasAdded)"

# ---------------------------------------------------------------- 2. replay
lab_say "2. replay: a's outbound SA re-created, its sequence numbers restart"
sa_del a 198.51.100.1 198.51.100.2 0x1001
sa_add a 198.51.100.1 198.51.100.2 0x1001 1 "$AK"
in_ns a ping -c 3 -i 0.2 -W 1 -q 198.51.100.2 >/dev/null # dropped by b
query replay.json
replay=$(sa_stat b 198.51.100.1 198.51.100.2 0x1001 replay)
window=$(sa_stat b 198.51.100.1 198.51.100.2 0x1001 replay-window)
seqerr=$(mib b XfrmInStateSeqError)
echo "b's SA 0x1001: replay $replay replay-window $window; XfrmInStateSeqError $seqerr"
assert_ge "[b] SA replay counter" 3 "$replay"
assert_eq "[b] replayCheckFailuresOnInbound = SA replay + replay-window" \
	"$((replay + window))" \
	"$(get "$OUT/replay.json" b $S $ESP replayCheckFailuresOnInbound)"
assert_eq "[b] XfrmInStateSeqError in the namespace's xfrmMib" "$seqerr" \
	"$(get "$OUT/replay.json" b xfrmMib XfrmInStateSeqError)"
assert_eq "[b] aggregate replayCheckFailuresOnInbound = XfrmInStateSeqError" \
	"$seqerr" "$(get "$OUT/replay.json" b $S $DROP replayCheckFailuresOnInbound)"
assert_eq "[host] aggregate replay failures = own + a + b" \
	"$(($(mib - XfrmInStateSeqError) + $(mib a XfrmInStateSeqError) + seqerr))" \
	"$(get "$OUT/replay.json" host $S $DROP replayCheckFailuresOnInbound)"
assert_eq "[a] SA deleted and re-added: deleted" 1 \
	"$(get "$OUT/replay.json" a $S $AGG totalSasDeleted)"
assert_eq "[a] SA deleted and re-added: added" 3 \
	"$(get "$OUT/replay.json" a $S $AGG totalSasAdded)"
assert_eq "[a] delete + add is not a rekey" 0 \
	"$(get "$OUT/replay.json" a $S $AGG successfulRekeys)"

# ---------------------------------------------------------------- 3. wrong key
lab_say "3. integrity: b's inbound SA re-created with another auth key"
sa_del b 198.51.100.1 198.51.100.2 0x1001
sa_add b 198.51.100.1 198.51.100.2 0x1001 1 "$BK"
in_ns a ping -c 3 -i 0.2 -W 1 -q 198.51.100.2 >/dev/null # ICV failures
query integrity.json
failed=$(sa_stat b 198.51.100.1 198.51.100.2 0x1001 failed)
protoerr=$(mib b XfrmInStateProtoError)
echo "b's SA 0x1001: failed $failed; XfrmInStateProtoError $protoerr"
assert_ge "[b] SA failed counter" 3 "$failed"
assert_eq "[b] authenticationFailuresOnInbound = SA failed" "$failed" \
	"$(get "$OUT/integrity.json" b $S $ESP authenticationFailuresOnInbound)"
assert_eq "[b] XfrmInStateProtoError in xfrmMib" "$protoerr" \
	"$(get "$OUT/integrity.json" b xfrmMib XfrmInStateProtoError)"
assert_eq "[b] aggregate authenticationFailuresOnInbound = XfrmInStateProtoError" \
	"$protoerr" \
	"$(get "$OUT/integrity.json" b $S $DROP authenticationFailuresOnInbound)"
assert_eq "[b] replay failures of the replaced SA still counted" \
	"$((replay + window))" \
	"$(get "$OUT/integrity.json" b $S $ESP replayCheckFailuresOnInbound)"
assert_eq "[b] inbound packets of the replaced SA still counted" \
	"$(get "$OUT/replay.json" b $S $IN totalSuccessfulPackets)" \
	"$(get "$OUT/integrity.json" b $S $IN totalSuccessfulPackets)"

# ---------------------------------------------------------------- 4. rekey
lab_say "4. rekey: new SA 0x1003 next to 0x1001, then 0x1001 deleted"
before_in=$(get "$OUT/integrity.json" b $S $IN totalSuccessfulPackets)
before_out=$(get "$OUT/integrity.json" a $S $OUTB totalSuccessfulPackets)
before_bytes=$(get "$OUT/integrity.json" a $S $OUTB encryptedByteCount)
for ns in a b; do
	sa_add $ns 198.51.100.1 198.51.100.2 0x1003 1 "$AK"
done
sa_del a 198.51.100.1 198.51.100.2 0x1001
sa_del b 198.51.100.1 198.51.100.2 0x1001
assert_cmd "ping a -> b over the new SA" \
	in_ns a ping -c 4 -i 0.2 -W 1 -q 198.51.100.2
query rekey.json
newp=$(xfrm_sa_current b 198.51.100.1 198.51.100.2 0x1003 packets)
newob=$(xfrm_sa_current a 198.51.100.1 198.51.100.2 0x1003 bytes)
newop=$(xfrm_sa_current a 198.51.100.1 198.51.100.2 0x1003 packets)
assert_ge "[b] new SA 0x1003 carried the pings" 4 "$newp"
assert_eq "[b] inbound packets = before the rekey + new SA" \
	"$((before_in + newp))" \
	"$(get "$OUT/rekey.json" b $S $IN totalSuccessfulPackets)"
assert_eq "[a] outbound packets = before the rekey + new SA" \
	"$((before_out + newop))" \
	"$(get "$OUT/rekey.json" a $S $OUTB totalSuccessfulPackets)"
assert_eq "[a] outbound bytes = before the rekey + new SA" \
	"$((before_bytes + newob))" \
	"$(get "$OUT/rekey.json" a $S $OUTB encryptedByteCount)"
assert_eq "[b] replay failures still counted after the rekey" \
	"$((replay + window))" \
	"$(get "$OUT/rekey.json" b $S $ESP replayCheckFailuresOnInbound)"
assert_eq "[b] integrity failures still counted after the rekey" \
	"$failed" \
	"$(get "$OUT/rekey.json" b $S $ESP authenticationFailuresOnInbound)"

# ---------------------------------------------------------------- 5. events
lab_say "5. SAs added, deleted, rekeyed (netlink events)"
assert_eq "health of xfrm at the end" HEALTH_OK \
	"$(get "$OUT/rekey.json" provider xfrm)"
for ns in a b; do
	assert_eq "[$ns] totalSasAdded" 4 \
		"$(get "$OUT/rekey.json" $ns $S $AGG totalSasAdded)"
	assert_eq "[$ns] totalSasDeleted" 2 \
		"$(get "$OUT/rekey.json" $ns $S $AGG totalSasDeleted)"
	assert_eq "[$ns] successfulRekeys" 1 \
		"$(get "$OUT/rekey.json" $ns $S $AGG successfulRekeys)"
	assert_eq "[$ns] activeSas" 2 \
		"$(get "$OUT/rekey.json" $ns $S $AGG activeSas)"
done
assert_eq "[host] totalSasAdded" 8 \
	"$(get "$OUT/rekey.json" host $S $AGG totalSasAdded)"
assert_eq "[host] totalSasDeleted" 4 \
	"$(get "$OUT/rekey.json" host $S $AGG totalSasDeleted)"
assert_eq "[host] successfulRekeys" 2 \
	"$(get "$OUT/rekey.json" host $S $AGG successfulRekeys)"
assert_eq "[own] no SA in the agent's own namespace" 0 \
	"$(get "$OUT/rekey.json" "" $S $AGG activeSas)"
lab_finish
