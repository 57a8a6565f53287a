#!/bin/bash
# kernel_lab_iscsi_strongswan: MSiSCSI_MMIPSECStats following strongSwan's
# IKE SAs (kernel backend) that protect an iSCSI portal.
#
# The LIO target of iscsi-lib.sh (netns tgt, 192.0.2.1:3260) and the
# open-iscsi initiator (root namespace, 192.0.2.2) each run a charon
# (kernel-netlink, PSK, IKEv2) whose CHILD_SA "iscsi" is a transport-mode
# SA pair covering TCP 3260 between the two. iSCSI logs in over it and
# writes and reads back data; the real secstatd with
# --provider iscsi,xfrm,procfs,vici (vici = the initiator's charon),
# started before the negotiation, is queried with the real secstat CLI.
# References: `swanctl --list-sas --raw` and `ip -s xfrm state`.
#   1. the HBA's MMIPSECStats is present, ConnectionListSize = the CHILD_SAs
#      of the IKE_SA to the portal, OakleyQuickMode = the tunnel's SAs
#      added (= QM KeyAdditions) = 2 (one CHILD_SA established);
#   2. `swanctl --rekey --child iscsi`: OakleyQuickMode grows by 2, the QM
#      byte sums stay monotonic and equal the old SAs' final kernel
#      counters plus the new SAs';
#   3. `swanctl --terminate --ike lab`: ConnectionListSize drops to 0
#      while OakleyQuickMode keeps the named tunnel's SAs added (the block
#      stays: the tunnel is kept after its SAs are gone).
# Fails at once when the lab cannot be built; every wait is bounded.
. "$LAB_LIB"
. "$SECSTAT_SOURCE_DIR/tests/lab/kernel/iscsi-lib.sh"
. "$SECSTAT_SOURCE_DIR/tests/lab/kernel/charon-lib.sh"

D=/tmp/iss
SOCK=ipc:///run/iss-secstatd.sock

cleanup()
{
	local p
	for p in $CHARON_PIDS; do kill "$p" 2>/dev/null; done
	for p in $CHARON_PIDS; do wait "$p" 2>/dev/null; done
	CHARON_PIDS=
}
trap cleanup EXIT

die()
{
	local f
	for f in $D/i/charon.log $D/t/charon.log; do
		[ -f "$f" ] && { echo "---- $f (tail)"; tail -n 25 "$f"; }
	done
	iscsi_logout >/dev/null 2>&1
	lab_die "$*"
}

[ -x "${SECSTATD:-}" ] && [ -x "${SECSTAT:-}" ] || die "SECSTATD/SECSTAT not set"
charon_require

# ---------------------------------------------------------------- lab
iscsi_target_start
lab_modprobe esp4 xfrm_user
for ns in - tgt; do
	in_ns $ns sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
		echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6' ||
		die "sysctls in $ns"
done

# As in strongswan_kernel_test.sh, but a transport-mode CHILD_SA on TCP
# 3260 and AES-GCM ESP without PFS (no DH at a rekey: cheap under
# emulation). Each charon gets a mount namespace with its own /run.
charon_conf i $ISCSI_INI_ADDR $ISCSI_TGT_ADDR ini@lab tgt@lab iscsi transport \
	"$ISCSI_INI_ADDR/32[tcp]" "$ISCSI_TGT_ADDR/32[tcp/3260]" aes128gcm16
charon_conf t $ISCSI_TGT_ADDR $ISCSI_INI_ADDR tgt@lab ini@lab iscsi transport \
	"$ISCSI_TGT_ADDR/32[tcp/3260]" "$ISCSI_INI_ADDR/32[tcp]" aes128gcm16
charon_start i unshare -m --propagation private
charon_start t ip netns exec tgt
for side in i t; do
	charon_wait $side
	charon_check_kernel $side
	charon_load $side || { cat $D/load-$side.txt; die "load $side"; }
done

# ---------------------------------------------------------------- agent
# Started before the negotiation: SAs added count from the agent's start.
secstatd_start --listen "$SOCK" --provider iscsi,xfrm,procfs,vici \
	--vici "unix://$D/i/charon.vici" --collect-interval 1000
ok=0
for i in $(seq 120); do
	"$SECSTAT" -s "$SOCK" --dump ikeext >$D/start.tsv 2>&1
	grep -q 'totalSuccessfulMainModes' $D/start.tsv && { ok=1; break; }
	sleep 0.5
done
[ $ok = 1 ] || { cat $D/start.tsv; die "the agent's vici events did not come up"; }

sw i --initiate --ike lab --child iscsi --timeout 90 >$D/initiate.txt 2>&1 ||
	{ cat $D/initiate.txt; die "swanctl --initiate"; }
ip -s xfrm state >$D/xfrm0.txt
[ "$(grep -c '^src' $D/xfrm0.txt)" = 2 ] &&
	grep -q 'mode transport' $D/xfrm0.txt ||
	{ cat $D/xfrm0.txt; die "no transport SA pair in the kernel"; }
ip xfrm policy | grep -q 'dport 3260' ||
	{ ip xfrm policy; die "no policy for TCP 3260"; }

iscsi_initiator_start
iscsi_login
iscsi_io 8

# ---------------------------------------------------------------- queries
jg() { flat_get "$LAB_OUT/$1.flat" "hosts[0].reply.iscsi.hbas[0]$2"; }

query() # NAME
{
	secstat_dump -s "$SOCK" iscsi >"$LAB_OUT/$1.tsv" ||
		lab_fail "secstat --dump iscsi exited $?"
	"$SECSTAT" -s "$SOCK" --json iscsi >"$LAB_OUT/$1.json" ||
		lab_fail "secstat --json iscsi exited $?"
	json_flatten "$LAB_OUT/$1.json" >"$LAB_OUT/$1.flat"
}

# refs: the root namespace's ESP SAs as "SPI DIR BYTES" (out = from the
# initiator).
refs()
{
	ip -s xfrm state | awk -v me=$ISCSI_INI_ADDR '
		/^src / { dir = ($2 == me) ? "out" : "in" }
		/proto esp spi/ { spi = $4 }
		/lifetime current:/ { getline; gsub(/[(),a-z]/, " ")
			print spi, dir, $1 }'
}

# stable_query NAME: an answer taken while the references stood still.
stable_query()
{
	local i
	for i in 1 2 3 4 5; do
		refs >"$LAB_OUT/$1.refs"
		sleep 2.5
		query "$1"
		refs >"$LAB_OUT/$1.refs2"
		# charon's listing (its times move every second: not compared)
		sw i --list-sas --raw >"$LAB_OUT/$1.sas" || die "swanctl --list-sas"
		cmp -s "$LAB_OUT/$1.refs" "$LAB_OUT/$1.refs2" && return 0
		echo "references moved during query $i; again"
	done
	lab_fail "references kept moving: no stable comparison possible"
}

sum_dir() { awk -v d=$2 '$2 == d { s += $3 } END { print s + 0 }' "$LAB_OUT/$1.refs"; }
# CHILD_SAs of the IKE_SA whose remote host is the portal.
children() { grep "remote-host=$ISCSI_TGT_ADDR " "$LAB_OUT/$1.sas" | grep -o '{name=' | wc -l; }

lab_say "1. CHILD_SA established, iSCSI over it"
stable_query est
grep -E 'MMIPSEC|QMIPSEC' "$LAB_OUT/est.tsv"
grep -c "remote-host=$ISCSI_TGT_ADDR " "$LAB_OUT/est.sas" | grep -qx 1 ||
	{ cat "$LAB_OUT/est.sas"; die "not one IKE_SA to the portal"; }
OUT1=$(sum_dir est out)
IN1=$(sum_dir est in)
assert_ge "kernel outbound SA carried the 8 MiB written" 8388608 "$OUT1"
assert_eq "CHILD_SAs of the IKE_SA to the portal" 1 "$(children est)"
assert_eq "MM ConnectionListSize = CHILD_SAs per swanctl" "$(children est)" \
	"$(jg est .MMIPSECStats.ConnectionListSize)"
assert_eq "MM OakleyQuickMode (2 SAs per CHILD_SA)" 2 \
	"$(jg est .MMIPSECStats.OakleyQuickMode)"
assert_eq "MM OakleyQuickMode = the tunnel's SAs added (QM KeyAdditions)" \
	"$(jg est .QMIPSECStats.KeyAdditions)" "$(jg est .MMIPSECStats.OakleyQuickMode)"
assert_eq "QM TransportBytesSent = kernel outbound SA" "$OUT1" \
	"$(jg est .QMIPSECStats.TransportBytesSent)"
assert_eq "QM TransportBytesReceived = kernel inbound SA" "$IN1" \
	"$(jg est .QMIPSECStats.TransportBytesReceived)"
assert_eq "QM ActiveSA" 2 "$(jg est .QMIPSECStats.ActiveSA)"
QM1=$(jg est .MMIPSECStats.OakleyQuickMode)

lab_say "2. swanctl --rekey --child iscsi"
# iSCSI is idle (NOP-In/Out off): the old SAs' counters now are final.
OLD_SPIS=$(awk '{ print $1 }' "$LAB_OUT/est.refs")
sw i --rekey --child iscsi >$D/rekey.txt 2>&1 || { cat $D/rekey.txt; die "rekey"; }
ok=0
for i in $(seq 120); do
	ip xfrm state >$D/xfrm-rekey.txt
	n=$(grep -c '^src' $D/xfrm-rekey.txt)
	old=0
	for s in $OLD_SPIS; do grep -q "spi $s " $D/xfrm-rekey.txt && old=$((old + 1)); done
	[ "$n" = 2 ] && [ $old = 0 ] && { ok=1; break; }
	sleep 0.5
done
[ $ok = 1 ] || { cat $D/xfrm-rekey.txt; die "the rekey did not complete"; }
iscsi_io 4
stable_query rekey
grep -E 'MMIPSEC|QMIPSEC' "$LAB_OUT/rekey.tsv"
OUT2=$(sum_dir rekey out)
IN2=$(sum_dir rekey in)
assert_ge "new outbound SA carried the 4 MiB written" 4194304 "$OUT2"
assert_eq "MM OakleyQuickMode grew by 2" $((QM1 + 2)) \
	"$(jg rekey .MMIPSECStats.OakleyQuickMode)"
assert_eq "MM ConnectionListSize = CHILD_SAs per swanctl" "$(children rekey)" \
	"$(jg rekey .MMIPSECStats.ConnectionListSize)"
assert_eq "QM TransportBytesSent = old final + new kernel bytes" \
	$((OUT1 + OUT2)) "$(jg rekey .QMIPSECStats.TransportBytesSent)"
assert_eq "QM TransportBytesReceived = old final + new kernel bytes" \
	$((IN1 + IN2)) "$(jg rekey .QMIPSECStats.TransportBytesReceived)"
assert_ge "QM TransportBytesSent monotonic" "$(jg est .QMIPSECStats.TransportBytesSent)" \
	"$(jg rekey .QMIPSECStats.TransportBytesSent)"
assert_ge "QM TransportBytesReceived monotonic" "$(jg est .QMIPSECStats.TransportBytesReceived)" \
	"$(jg rekey .QMIPSECStats.TransportBytesReceived)"
assert_eq "QM ReKeys" 1 "$(jg rekey .QMIPSECStats.ReKeys)"

lab_say "3. swanctl --terminate --ike lab"
sw i --terminate --ike lab --timeout 60 >$D/term.txt 2>&1 ||
	{ cat $D/term.txt; die "terminate"; }
ok=0
for i in $(seq 60); do
	[ -z "$(ip xfrm state)" ] && { ok=1; break; }
	sleep 0.5
done
[ $ok = 1 ] || { ip xfrm state; die "kernel SAs left after terminate"; }
sleep 2.5
query term
grep -E 'MMIPSEC|QMIPSEC' "$LAB_OUT/term.tsv"
# No IKE_SA matches any more; the tunnel charon named is kept with its
# totals, so the block stays (docs/sources/iscsi.md) with no connection.
assert_eq "MM ConnectionListSize after terminate (no IKE_SA left)" 0 \
	"$(jg term .MMIPSECStats.ConnectionListSize)"
assert_eq "MM OakleyQuickMode kept (the named tunnel's SAs added)" \
	$((QM1 + 2)) "$(jg term .MMIPSECStats.OakleyQuickMode)"
assert_eq "QM KeyDeletions (2 at the rekey, 2 at the end)" 4 \
	"$(jg term .QMIPSECStats.KeyDeletions)"
assert_eq "QM ActiveSA after terminate" 0 "$(jg term .QMIPSECStats.ActiveSA)"

iscsi_logout >/dev/null
lab_finish
