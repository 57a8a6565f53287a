#!/bin/bash
# kernel_lab_iscsi: the iscsi provider against a real LIO target and the
# real open-iscsi initiator, through the real secstatd and secstat.
#
#  1. plain iSCSI: every session and connection attribute and every
#     per-connection statistic secstat reports equals sysfs and
#     `iscsiadm -m session -s` (NOP-Outs are off, so nothing moves between
#     the two readings);
#  2. iSCSI over ESP transport SAs selecting TCP 3260, with the xfrm
#     provider: the HBA's MSiSCSI_QMIPSECStats bytes equal those SAs'
#     counters in `ip -s xfrm state`;
#  3. the outbound SA replaced (make-before-break, as a rekey): the byte
#     sums keep the old SA's final counters on top of the new SA's, and
#     KeyAdditions/KeyDeletions/ReKeys count the replacement.
. "$LAB_LIB"
. "$SECSTAT_SOURCE_DIR/tests/lab/kernel/iscsi-lib.sh"

SOCK=ipc:///run/secstatd.sock

# jg NAME PATH: a value of the first HBA in `secstat --json iscsi`
# ($LAB_OUT/NAME.json, flattened once by query); empty when absent.
jg()
{
	flat_get "$LAB_OUT/$1.flat" "hosts[0].reply.iscsi.hbas[0]$2"
}

# query NAME: `secstat --dump iscsi` into $LAB_OUT/NAME.tsv, and JSON too.
query()
{
	secstat_dump -s "$SOCK" iscsi >"$LAB_OUT/$1.tsv" ||
		lab_fail "secstat --dump iscsi exited $?"
	"$SECSTAT" -s "$SOCK" --json iscsi >"$LAB_OUT/$1.json" ||
		lab_fail "secstat --json iscsi exited $?"
	json_flatten "$LAB_OUT/$1.json" >"$LAB_OUT/$1.flat"
}

# refs: everything the checks compare against, read from the system's
# own tools (iscsiadm statistics, the ESP SAs' counters when present).
refs()
{
	iscsiadm -m session -r "$(iscsi_sid)" -s
	echo "sa_0x3001_bytes: $(xfrm_sa_current - $ISCSI_INI_ADDR $ISCSI_TGT_ADDR 0x3001 bytes 2>/dev/null)"
	echo "sa_0x3002_bytes: $(xfrm_sa_current - $ISCSI_TGT_ADDR $ISCSI_INI_ADDR 0x3002 bytes 2>/dev/null)"
	echo "sa_0x3003_bytes: $(xfrm_sa_current - $ISCSI_INI_ADDR $ISCSI_TGT_ADDR 0x3003 bytes 2>/dev/null)"
}

# stable_query NAME: queries the agent (two collection intervals after
# the last reading, so its snapshot is newer) at a moment when the
# reference values did not move: the kernel's SCSI layer may still send a
# command or two after I/O, and a value read a moment apart from the
# agent's would differ by exactly that. Leaves the references in
# $LAB_OUT/NAME.refs and the agent's view in NAME.json/.flat/.tsv.
stable_query()
{
	local i
	for i in 1 2 3 4 5; do
		refs >"$LAB_OUT/$1.refs"
		sleep 2.5
		query "$1"
		refs >"$LAB_OUT/$1.refs2"
		cmp -s "$LAB_OUT/$1.refs" "$LAB_OUT/$1.refs2" && return 0
		echo "references moved during query $i; again"
	done
	lab_fail "references kept moving: no stable comparison possible"
}

iscsi_target_start
iscsi_initiator_start
iscsi_login
iscsi_io 16

secstatd_start --listen "$SOCK" --provider iscsi --collect-interval 1000
sid=$(iscsi_sid)
[ -n "$sid" ] || lab_die "no iSCSI session"
stable_query plain
cp "$LAB_OUT/plain.refs" "$LAB_OUT/iscsiadm-plain.txt"
cat "$LAB_OUT/iscsiadm-plain.txt"
echo "--- secstat --dump iscsi"
cat "$LAB_OUT/plain.tsv"

lab_say "plain iSCSI: sessions and connections equal sysfs"
host=$(readlink "/sys/class/iscsi_session/session$sid" |
	grep -o 'host[0-9]*' | head -n 1)
hno=${host#host}
C=/sys/class/iscsi_connection/connection$sid:0
assert_eq "HBA InstanceName" "$host" "$(jg plain '.InstanceName')"
assert_eq "HBA UniqueAdapterId" "$hno" "$(jg plain '.UniqueAdapterId')"
assert_eq "HBA ip_address" "$(cat /sys/class/iscsi_host/$host/ipaddress)" \
	"$(jg plain '.ipAddress')"
assert_eq "session iSCSIName" "$(cat /sys/class/iscsi_session/session$sid/targetname)" \
	"$(jg plain '.SessionStatistics[0].iSCSIName')"
assert_eq "session USID" "$sid" "$(jg plain '.SessionStatistics[0].USID')"
assert_eq "session state" "$(cat /sys/class/iscsi_session/session$sid/state)" \
	"$(jg plain '.SessionStatistics[0].state')"
assert_eq "session initiator" "$ISCSI_INITIATOR" \
	"$(jg plain '.SessionStatistics[0].initiatorName')"
assert_eq "session tpgt" "$(cat /sys/class/iscsi_session/session$sid/tpgt)" \
	"$(jg plain '.SessionStatistics[0].tpgt')"
assert_eq "connection CID" 0 "$(jg plain '.SessionStatistics[0].connections[0].CID')"
assert_eq "connection address" "$(cat $C/address)" \
	"$(jg plain '.SessionStatistics[0].connections[0].address')"
assert_eq "connection port" "$(cat $C/port)" \
	"$(jg plain '.SessionStatistics[0].connections[0].port')"
assert_eq "connection persistent port" "$(cat $C/persistent_port)" \
	"$(jg plain '.SessionStatistics[0].connections[0].persistentPort')"
assert_eq "connection state" "$(cat $C/state)" \
	"$(jg plain '.SessionStatistics[0].connections[0].state')"

lab_say "plain iSCSI: statistics equal iscsiadm -m session -s"
st() { awk -v n="$1:" '$1 == n { print $2 }' "$LAB_OUT/iscsiadm-plain.txt"; }
tx=0
for f in noptx scsicmd tmfcmd login text dataout logout snack; do
	tx=$((tx + $(st ${f}_pdus)))
done
rx=0
for f in noprx scsirsp tmfrsp textrsp datain logoutrsp r2t async rjt; do
	rx=$((rx + $(st ${f}_pdus)))
done
assert_ge "txdata_octets after 16 MiB written" 16777216 "$(st txdata_octets)"
assert_eq "connection BytesSent = txdata_octets" "$(st txdata_octets)" \
	"$(jg plain '.SessionStatistics[0].connections[0].BytesSent')"
assert_eq "connection BytesReceived = rxdata_octets" "$(st rxdata_octets)" \
	"$(jg plain '.SessionStatistics[0].connections[0].BytesReceived')"
assert_eq "connection PDUCommandsSent = scsicmd_pdus" "$(st scsicmd_pdus)" \
	"$(jg plain '.SessionStatistics[0].connections[0].PDUCommandsSent')"
assert_eq "connection PDUResponsesReceived = scsirsp_pdus" "$(st scsirsp_pdus)" \
	"$(jg plain '.SessionStatistics[0].connections[0].PDUResponsesReceived')"
assert_eq "connection pdusSent = sum of tx PDUs" "$tx" \
	"$(jg plain '.SessionStatistics[0].connections[0].pdusSent')"
assert_eq "connection pdusReceived = sum of rx PDUs" "$rx" \
	"$(jg plain '.SessionStatistics[0].connections[0].pdusReceived')"
assert_eq "connection digestErrors = digest_err" "$(st digest_err)" \
	"$(jg plain '.SessionStatistics[0].connections[0].digestErrors')"
assert_eq "connection timeoutErrors = timeout_err" "$(st timeout_err)" \
	"$(jg plain '.SessionStatistics[0].connections[0].timeoutErrors')"
assert_eq "session BytesSent (one connection)" "$(st txdata_octets)" \
	"$(jg plain '.SessionStatistics[0].BytesSent')"
assert_eq "session PDUCommandsSent" "$(st scsicmd_pdus)" \
	"$(jg plain '.SessionStatistics[0].PDUCommandsSent')"
assert_eq "session DigestErrors" "$(st digest_err)" \
	"$(jg plain '.SessionStatistics[0].DigestErrors')"
assert_eq "session ConnectionTimeoutErrors" "$(st timeout_err)" \
	"$(jg plain '.SessionStatistics[0].ConnectionTimeoutErrors')"
assert_cmd "FormatErrors absent (not observable)" \
	bash -c "! grep -q 'FormatErrors' '$LAB_OUT/plain.tsv'"
assert_cmd "no QMIPSECStats without an IPsec provider" \
	bash -c "! grep -q 'QMIPSECStats' '$LAB_OUT/plain.tsv'"
secstatd_stop

lab_say "ESP transport SAs on TCP 3260, iSCSI over them"
iscsi_logout
modprobe -a esp4 xfrm_user || lab_die "esp4"
GK=0x$(printf '44%.0s' $(seq 20))
for ns in - tgt; do
	in_ns $ns ip xfrm state add src $ISCSI_INI_ADDR dst $ISCSI_TGT_ADDR \
		proto esp spi 0x3001 reqid 31 mode transport \
		aead 'rfc4106(gcm(aes))' $GK 128 || lab_die "SA 0x3001"
	in_ns $ns ip xfrm state add src $ISCSI_TGT_ADDR dst $ISCSI_INI_ADDR \
		proto esp spi 0x3002 reqid 32 mode transport \
		aead 'rfc4106(gcm(aes))' $GK 128 || lab_die "SA 0x3002"
done
ip xfrm policy add src $ISCSI_INI_ADDR dst $ISCSI_TGT_ADDR proto tcp dport 3260 \
	dir out tmpl proto esp reqid 31 mode transport
ip xfrm policy add src $ISCSI_TGT_ADDR dst $ISCSI_INI_ADDR proto tcp sport 3260 \
	dir in tmpl proto esp reqid 32 mode transport
in_ns tgt ip xfrm policy add src $ISCSI_TGT_ADDR dst $ISCSI_INI_ADDR proto tcp \
	sport 3260 dir out tmpl proto esp reqid 32 mode transport
in_ns tgt ip xfrm policy add src $ISCSI_INI_ADDR dst $ISCSI_TGT_ADDR proto tcp \
	dport 3260 dir in tmpl proto esp reqid 31 mode transport
iscsi_login
iscsi_io 8
secstatd_start --listen "$SOCK" --provider xfrm,iscsi --collect-interval 1000
stable_query esp
ip -s xfrm state
out_b=$(awk '$1 == "sa_0x3001_bytes:" { print $2 }' "$LAB_OUT/esp.refs")
in_b=$(awk '$1 == "sa_0x3002_bytes:" { print $2 }' "$LAB_OUT/esp.refs")
grep -E 'QMIPSECStats|MMIPSEC' "$LAB_OUT/esp.tsv"
assert_ge "outbound SA 0x3001 carried the 8 MiB written" 8388608 "$out_b"
assert_eq "QM ActiveSA (two kernel SAs)" 2 "$(jg esp '.QMIPSECStats.ActiveSA')"
assert_eq "QM ConfidentialBytesSent = SA 0x3001 bytes" "$out_b" \
	"$(jg esp '.QMIPSECStats.ConfidentialBytesSent')"
assert_eq "QM ConfidentialBytesReceived = SA 0x3002 bytes" "$in_b" \
	"$(jg esp '.QMIPSECStats.ConfidentialBytesReceived')"
assert_eq "QM TransportBytesSent = SA 0x3001 bytes" "$out_b" \
	"$(jg esp '.QMIPSECStats.TransportBytesSent')"
assert_eq "QM TransportBytesReceived = SA 0x3002 bytes" "$in_b" \
	"$(jg esp '.QMIPSECStats.TransportBytesReceived')"
assert_eq "QM TunnelBytesSent" 0 "$(jg esp '.QMIPSECStats.TunnelBytesSent')"
assert_eq "QM AuthenticatedBytesSent (no AH)" 0 \
	"$(jg esp '.QMIPSECStats.AuthenticatedBytesSent')"
assert_eq "QM KeyAdditions (SAs there before the agent are no additions)" 0 \
	"$(jg esp '.QMIPSECStats.KeyAdditions')"
sid=$(iscsi_sid)
assert_eq "connection BytesSent over ESP = txdata_octets" \
	"$(awk '$1 == "txdata_octets:" { print $2 }' "$LAB_OUT/esp.refs")" \
	"$(jg esp '.SessionStatistics[0].connections[0].BytesSent')"

lab_say "rekey: SA 0x3001 replaced by 0x3003, sums across the rekey"
# The new SA first (the kernel sends with the newest SA of a template),
# then the old one deleted once its counters are still: the agent learns
# its final counters from the DELSA event.
for ns in - tgt; do
	in_ns $ns ip xfrm state add src $ISCSI_INI_ADDR dst $ISCSI_TGT_ADDR \
		proto esp spi 0x3003 reqid 31 mode transport \
		aead 'rfc4106(gcm(aes))' $GK 128 || lab_die "SA 0x3003"
done
old_b=
for i in 1 2 3 4 5; do
	b=$(xfrm_sa_current - $ISCSI_INI_ADDR $ISCSI_TGT_ADDR 0x3001 bytes)
	[ -n "$b" ] && [ "$b" = "$old_b" ] && break
	old_b=$b
	sleep 1
done
for ns in - tgt; do
	in_ns $ns ip xfrm state delete src $ISCSI_INI_ADDR dst $ISCSI_TGT_ADDR \
		proto esp spi 0x3001 || lab_die "delete SA 0x3001"
done
iscsi_io 4
stable_query rekey
ip -s xfrm state
new_b=$(awk '$1 == "sa_0x3003_bytes:" { print $2 }' "$LAB_OUT/rekey.refs")
in_b=$(awk '$1 == "sa_0x3002_bytes:" { print $2 }' "$LAB_OUT/rekey.refs")
grep -E 'QMIPSECStats' "$LAB_OUT/rekey.tsv"
assert_ge "old SA 0x3001's final bytes" "$out_b" "$old_b"
assert_ge "new SA 0x3003 carried the 4 MiB written" 4194304 "$new_b"
assert_eq "QM ActiveSA after the rekey (0x3002, 0x3003)" 2 \
	"$(jg rekey '.QMIPSECStats.ActiveSA')"
assert_eq "QM ConfidentialBytesSent = 0x3001 final + 0x3003 bytes" \
	"$((old_b + new_b))" "$(jg rekey '.QMIPSECStats.ConfidentialBytesSent')"
assert_eq "QM TransportBytesSent = 0x3001 final + 0x3003 bytes" \
	"$((old_b + new_b))" "$(jg rekey '.QMIPSECStats.TransportBytesSent')"
assert_eq "QM ConfidentialBytesReceived = SA 0x3002 bytes" "$in_b" \
	"$(jg rekey '.QMIPSECStats.ConfidentialBytesReceived')"
assert_eq "QM KeyAdditions (0x3003)" 1 "$(jg rekey '.QMIPSECStats.KeyAdditions')"
assert_eq "QM KeyDeletions (0x3001)" 1 "$(jg rekey '.QMIPSECStats.KeyDeletions')"
assert_eq "QM ReKeys (make-before-break)" 1 "$(jg rekey '.QMIPSECStats.ReKeys')"
assert_eq "no MMIPSECStats without an IKE daemon" "" \
	"$(jg rekey '.MMIPSECStats.ConnectionListSize')"

lab_say "statistics denied: secstatd without privileges"
# As nobody the sysfs part still works; NETLINK_ISCSI refuses the group
# (CAP_NET_ADMIN) and the request (CAP_SYS_ADMIN): sessions are listed,
# statistics absent, the provider itself healthy (docs/sources/iscsi.md).
NSOCK=ipc:///tmp/secstatd-nobody.sock
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$SECSTATD" --listen "$NSOCK" --provider iscsi \
	>"$LAB_OUT/secstatd-nobody.log" 2>&1 &
npid=$!
sleep 3
"$SECSTAT" -s "$NSOCK" --json iscsi >"$LAB_OUT/nobody.json" ||
	lab_fail "secstat against the unprivileged agent exited $?"
json_flatten "$LAB_OUT/nobody.json" >"$LAB_OUT/nobody.flat"
kill $npid
wait $npid 2>/dev/null
cat "$LAB_OUT/secstatd-nobody.log"
assert_eq "unprivileged: session still listed" "$sid" \
	"$(jg nobody .SessionStatistics[0].USID)"
assert_eq "unprivileged: target name still listed" "$ISCSI_IQN" \
	"$(jg nobody .SessionStatistics[0].iSCSIName)"
assert_eq "unprivileged: connection statistics absent" "" \
	"$(jg nobody .SessionStatistics[0].connections[0].BytesSent)"
assert_eq "unprivileged: session sums absent" "" \
	"$(jg nobody .SessionStatistics[0].BytesSent)"
assert_cmd "unprivileged: the agent said why" \
	grep -q 'statistics denied' "$LAB_OUT/secstatd-nobody.log"

iscsi_logout >/dev/null
lab_finish
