#!/usr/bin/env bash
# Transport security and authorization through the real secstatd and
# secstat: certificates made now with certs/secstat-pki.sh, mutual TLS,
# the ACL's credentials and rights, ipc peer credentials and socket mode,
# a relay and stream subscribers as TLS clients,
# listener policy, ACL errors at start, SIGHUP reloads, SIGTERM cleanup.
# Every refusal is checked for its exact status, and every check is paired
# with one that succeeds, so that a broken agent cannot pass by refusing
# everything. Usage: security_test.sh [SECURITY_FWPMU_BINARY]
set -uo pipefail
: "${SECSTATD:?}" "${SECSTAT:?}" "${SECSTAT_SOURCE_DIR:?}"
pki=$SECSTAT_SOURCE_DIR/certs/secstat-pki.sh
. "$SECSTAT_SOURCE_DIR/tests/support/testlib.sh"
keep_going=1
chmod 755 "$work"

say "certificates and tokens, made now"
ca=$work/ca
rogue=$work/rogue
{
	"$pki" ca "$ca" && "$pki" agent "$ca" agent1 localhost 127.0.0.1 &&
		"$pki" client "$ca" noc && "$pki" client "$ca" storage &&
		NOT_BEFORE=20200101000000Z NOT_AFTER=20210101000000Z \
			"$pki" client "$ca" expired &&
		"$pki" ca "$rogue" && "$pki" client "$rogue" intruder &&
		"$pki" token "$ca" noc >"$work/noc.acl" &&
		"$pki" token "$ca" storage >"$work/storage.acl"
} >"$work/pki.log" 2>&1 || { cat "$work/pki.log"; fail "secstat-pki.sh"; exit 1; }
# noc reads IPsec, IKE and info; storage only iSCSI.
{
	echo "# test ACL"
	head -n 2 "$work/noc.acl"
	echo "rights = ipsec ike info"
	echo
	head -n 2 "$work/storage.acl"
	echo "rights = iscsi"
} >"$work/acl"
chmod 600 "$work/acl"

tls_port=$(free_port)
tcp_port=$(free_port)
TLS=tls+tcp://127.0.0.1:$tls_port
TCP=tcp://127.0.0.1:$tcp_port
IPC=ipc://$work/agent.sock
start agent --provider sim --hostname secure-host \
	--listen "$TLS" --listen "$TCP" --listen "$IPC" \
	--tls-cert "$ca/agent1.pem" --tls-key "$ca/agent1.key" \
	--tls-ca "$ca/ca.pem" --acl "$work/acl" || exit 1
agent_pid=$pid

cli() { # cli CLIENT [TOKEN_OWNER] ARGS...: secstat over TLS as CLIENT
	local who=$1 dir=$ca
	shift
	[ "$who" = intruder ] && dir=$rogue
	"$SECSTAT" -t $((3000 * slow)) --tls-ca "$ca/ca.pem" --tls-cert "$dir/$who.pem" \
		--tls-key "$dir/$who.key" "$@"
}
cred() { echo --client-id "$1" --token-file "$ca/$1.token"; }

say "mutual TLS with a credential: granted rights only"
expect 0 '^secure-host .*ERROR_SUCCESS' cli noc $(cred noc) -s "$TLS" ipsec
expect 0 '^secure-host .*ERROR_SUCCESS' cli noc $(cred noc) -s "$TLS" ikeext
expect 0 'secure-host' cli noc $(cred noc) -s "$TLS" info
expect 1 'ERROR_ACCESS_DENIED' cli noc $(cred noc) -s "$TLS" iscsi
expect 0 'ERROR_SUCCESS' cli storage $(cred storage) -s "$TLS" iscsi
expect 1 'ERROR_ACCESS_DENIED' cli storage $(cred storage) -s "$TLS" ipsec
# The server name is checked: localhost is in the certificate, a wrong
# name is refused.
expect 0 'ERROR_SUCCESS' cli noc $(cred noc) -s "tls+tcp://localhost:$tls_port" ipsec
expect 1 'RPC_E_ACCESS_DENIED' cli noc $(cred noc) --tls-server-name other.example -s "$TLS" ipsec

say "bad credentials are refused and logged"
echo "not-the-token" >"$work/bad.token"
expect 1 'ERROR_ACCESS_DENIED' cli noc --client-id noc --token-file "$work/bad.token" -s "$TLS" ipsec
grep -q 'access denied: client noc from 127.0.0.1:[0-9]* calling IPsecGetStatistics1: wrong token' \
	"$work/agent.log" || fail "wrong token not logged with client, address and method"
expect 1 'ERROR_ACCESS_DENIED' cli noc --client-id ghost --token-file "$ca/noc.token" -s "$TLS" ipsec
grep -q 'client ghost from .* client id not in the ACL' "$work/agent.log" ||
	fail "unknown client not logged"
# Another client's token under noc's id.
expect 1 'ERROR_ACCESS_DENIED' cli noc --client-id noc --token-file "$ca/storage.token" -s "$TLS" ipsec
# A certificate from the CA but no credential: the ACL has no [tls] rights.
expect 1 'ERROR_ACCESS_DENIED' cli noc -s "$TLS" info
# The reply does not say which part of the credential failed.
grep -q 'wrong token' "$work/out" && fail "denial reason leaked to the client"

say "handshakes that must fail"
expect 1 'RPC_E_ACCESS_DENIED' cli intruder $(cred noc) -s "$TLS" ipsec
expect 1 'RPC_E_ACCESS_DENIED' cli expired $(cred noc) -s "$TLS" ipsec
expect 1 'RPC_E_ACCESS_DENIED' "$SECSTAT" -t $((3000 * slow)) --tls-ca "$ca/ca.pem" $(cred noc) -s "$TLS" ipsec
# A client that does not know the agent's CA refuses the agent.
expect 1 'RPC_E_ACCESS_DENIED' "$SECSTAT" -t $((3000 * slow)) --tls-ca "$rogue/ca.pem" \
	--tls-cert "$rogue/intruder.pem" --tls-key "$rogue/intruder.key" -s "$TLS" ipsec
# The agent still serves the good client after all that.
expect 0 'ERROR_SUCCESS' cli noc $(cred noc) -s "$TLS" ipsec

say "plain tcp:// on loopback: no credential, no right (default deny)"
expect 1 'ERROR_ACCESS_DENIED' "$SECSTAT" -s "$TCP" info
grep -q 'access denied: anonymous from 127.0.0.1:[0-9]* calling GetHostInfo' \
	"$work/agent.log" || fail "anonymous denial not logged"
# The library never sends a credential outside TLS: the agent sees none.
expect 1 'ERROR_ACCESS_DENIED' "$SECSTAT" $(cred noc) -s "$TCP" info

say "ipc://: peer uid, socket mode"
expect 0 'ERROR_SUCCESS' "$SECSTAT" -s "$IPC" ipsec
mode=$(stat -c %a "$work/agent.sock")
[ "$mode" = 660 ] || fail "ipc socket mode $mode, want 660"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	# Not in the socket's group: cannot even connect.
	expect 1 'RPC_E_' as_nobody "$SECSTAT" -t $((2000 * slow)) -s "$IPC" info
	# In the group (--ipc-group) and in the ACL for info only.
	ipc2=ipc://$work/agent2.sock
	printf '[local]\nuid = nobody\nrights = info\n' >"$work/acl2"
	chmod 600 "$work/acl2"
	start agent2 --provider sim --hostname second --listen "$ipc2" \
		--ipc-group nogroup --acl "$work/acl2"
	[ "$(stat -c %G "$work/agent2.sock")" = nogroup ] || fail "--ipc-group not applied"
	expect 0 'second' as_nobody "$SECSTAT" -s "$ipc2" info
	expect 1 'ERROR_ACCESS_DENIED' as_nobody "$SECSTAT" -s "$ipc2" ipsec
	grep -q 'access denied: uid [0-9]* gid [0-9]* from ipc calling IPsecGetStatistics1: lacks right ipsec' \
		"$work/agent2.log" || fail "ipc denial not logged with uid"
else
	echo "(not root: the other-user ipc checks are skipped)"
fi

if [ -n "${1:-}" ]; then
	say "fwpmu.h: FwpmEngineOpen0 with SEC_WINNT_AUTH_IDENTITY_W"
	fw() { SECSTAT_TLS_CA=$ca/ca.pem SECSTAT_TLS_CERT=$ca/noc.pem \
		SECSTAT_TLS_KEY=$ca/noc.key "$@"; }
	expect 0 'IPsecGetStatistics1 ERROR_SUCCESS' fw "$1" "$TLS" noc "$ca/noc.token"
	expect 1 'IPsecGetStatistics1 ERROR_ACCESS_DENIED' fw "$1" "$TLS" noc "$work/bad.token"
	expect 1 'IPsecGetStatistics1 ERROR_ACCESS_DENIED' fw "$1" "$TLS"
	expect 1 'open RPC_E_NO_GOOD_SECURITY_PACKAGES' fw "$1" "$TCP" noc "$ca/noc.token"
	# The agent ends the handshake of a certificate it does not trust,
	# and this side refuses an agent it cannot verify: both are denials
	# at the open, not an absent agent.
	expect 1 'open RPC_E_ACCESS_DENIED' env SECSTAT_TLS_CA="$ca/ca.pem" \
		SECSTAT_TLS_CERT="$rogue/intruder.pem" SECSTAT_TLS_KEY="$rogue/intruder.key" \
		"$1" "$TLS" noc "$ca/noc.token"
	expect 1 'open RPC_E_ACCESS_DENIED' env SECSTAT_TLS_CA="$rogue/ca.pem" \
		SECSTAT_TLS_CERT="$ca/noc.pem" SECSTAT_TLS_KEY="$ca/noc.key" \
		"$1" "$TLS" noc "$ca/noc.token"
fi

say "PUB subscribers: admitted by address ([subscribers])"
tool="python3 $SECSTAT_SOURCE_DIR/tests/integration/fault_tool.py"
pub_ok=$(free_port)
pub_no=$(free_port)
printf '[subscribers]\nnetworks = 127.0.0.1\n' >"$work/sub-ok.acl"
printf '[subscribers]\nnetworks = 192.0.2.0/24\n' >"$work/sub-no.acl"
chmod 600 "$work/sub-ok.acl" "$work/sub-no.acl"
start pubok --provider sim --listen "ipc://$work/p1.sock" \
	--publish "tcp://127.0.0.1:$pub_ok" --acl "$work/sub-ok.acl"
pubok=$pid
start pubno --provider sim --listen "ipc://$work/p2.sock" \
	--publish "tcp://127.0.0.1:$pub_no" --acl "$work/sub-no.acl"
pubno=$pid
[ "$($tool hold "127.0.0.1:$pub_ok" 3 2 sub)" = 3 ] || fail "allowed subscribers refused"
[ "$($tool hold "127.0.0.1:$pub_no" 3 2 sub)" = 0 ] || fail "subscribers not on the list kept"
grep -q 'access denied: subscriber from 127.0.0.1:[0-9]* calling (subscribe)' \
	"$work/pubno.log" || fail "subscriber refusal not logged"
kill "$pubok" "$pubno"

say "relay over a tls+tcp:// agent: its own client certificate and credential"
echo "$TLS relayed-host" >"$work/relay.hosts"
start relay-tls --hostname relay-tls --relay "$work/relay.hosts" \
	--listen "ipc://$work/relay-tls.sock" --relay-tls-ca "$ca/ca.pem" \
	--relay-tls-cert "$ca/noc.pem" --relay-tls-key "$ca/noc.key" \
	--relay-client-id noc --relay-token-file "$ca/noc.token"
relay_tls=$pid
expect 0 'relay-tls .*ERROR_SUCCESS' "$SECSTAT" -t $((5000 * slow)) \
	-s "ipc://$work/relay-tls.sock" ipsec
expect 0 'relayed-host' "$SECSTAT" -t $((5000 * slow)) \
	-s "ipc://$work/relay-tls.sock" relay-hosts
# Without a client certificate the relay cannot reach the host, and says
# why; with one but no credential the host's ACL refuses it.
start relay-plain --hostname relay-plain --relay "$work/relay.hosts" \
	--listen "ipc://$work/relay-plain.sock"
relay_plain=$pid
start relay-nocred --hostname relay-nocred --relay "$work/relay.hosts" \
	--listen "ipc://$work/relay-nocred.sock" --relay-tls-ca "$ca/ca.pem" \
	--relay-tls-cert "$ca/noc.pem" --relay-tls-key "$ca/noc.key"
relay_nocred=$pid
for r in plain nocred; do
	expect 1 'FWP_E_PROVIDER_NOT_FOUND' "$SECSTAT" -t $((5000 * slow)) \
		-s "ipc://$work/relay-$r.sock" ipsec
done
# The relay's first attempt may time out before the TLS handshake is
# done (slow under memcheck); a later one meets the ACL.
wait_log "$work/relay-plain.log" 'relay: host relayed-host: ERROR_INVALID_PARAMETER' ||
	fail "relay without TLS options: no clear reason logged"
wait_log "$work/relay-nocred.log" 'relay: host relayed-host: ERROR_ACCESS_DENIED' ||
	fail "relay without a credential: no clear reason logged"
kill "$relay_tls" "$relay_plain" "$relay_nocred"
say "PUB over tls+tcp://: subscribers with a client certificate"
pub_tls=$(free_port)
rep_tls=$(free_port)
{
	cat "$work/acl"
	printf '\n[subscribers]\nnetworks = 127.0.0.1\n'
} >"$work/sub-tls.acl"
chmod 600 "$work/sub-tls.acl"
start pubtls --provider sim --hostname pub-tls --publish-interval 200 \
	--listen "tls+tcp://127.0.0.1:$rep_tls" \
	--publish "tls+tcp://127.0.0.1:$pub_tls" \
	--tls-cert "$ca/agent1.pem" --tls-key "$ca/agent1.key" \
	--tls-ca "$ca/ca.pem" --acl "$work/sub-tls.acl"
pubtls=$pid
echo "tls+tcp://127.0.0.1:$rep_tls pub-tls pub=tls+tcp://127.0.0.1:$pub_tls" \
	>"$work/sub.hosts"
# watch NAME ARGS...: a bounded watch --stream of sub.hosts
watch() {
	local name=$1
	shift
	timeout $((20 * slow)) "$SECSTAT" -t $((3000 * slow)) "$@" \
		--hosts "$work/sub.hosts" watch --stream --count 6 \
		>"$work/$name.out" 2>&1
}
watch watch-tls --tls-ca "$ca/ca.pem" --tls-cert "$ca/noc.pem" \
	--tls-key "$ca/noc.key" $(cred noc) || fail "watch --stream over TLS: exit $?"
grep -q 'UP   pub-tls' "$work/watch-tls.out" &&
	grep -q 'hosts=1/1 statistics\.' "$work/watch-tls.out" || {
	cat "$work/watch-tls.out" >&2
	fail "watch --stream over TLS: no updates"
}
# No client certificate: the handshake is refused, nothing arrives.
watch watch-nocert --tls-ca "$ca/ca.pem"
grep -Eq 'UP|hosts=1/1' "$work/watch-nocert.out" &&
	fail "subscriber without a client certificate got the stream"
grep -q 'hosts=0/1' "$work/watch-nocert.out" ||
	fail "watch --stream without a certificate: no output"
# The host is reported down with the reason, not only after its silence.
grep -q 'DOWN pub-tls (RPC_E_ACCESS_DENIED)' "$work/watch-nocert.out" ||
	fail "watch --stream without a certificate: no DOWN with the reason"
# A certificate from another CA: refused likewise.
watch watch-rogue --tls-ca "$ca/ca.pem" --tls-cert "$rogue/intruder.pem" \
	--tls-key "$rogue/intruder.key"
grep -Eq 'UP|hosts=1/1' "$work/watch-rogue.out" &&
	fail "subscriber with a foreign certificate got the stream"
grep -q 'DOWN pub-tls (RPC_E_ACCESS_DENIED)' "$work/watch-rogue.out" ||
	fail "watch --stream with a foreign certificate: no DOWN with the reason"
# No TLS options at all: an error at once, not a silent wait.
rc=0
watch watch-none || rc=$?
[ "$rc" = 1 ] && grep -q 'watch --stream: A parameter is incorrect' "$work/watch-none.out" || {
	cat "$work/watch-none.out" >&2
	fail "watch --stream to tls+tcp:// without TLS options: exit $rc"
}
kill "$pubtls"

say "SIGHUP: the ACL is reread, the listeners stay"
# Revoke noc.
{
	head -n 2 "$work/storage.acl"
	echo "rights = iscsi"
} >"$work/acl.new"
chmod 600 "$work/acl.new"
mv "$work/acl.new" "$work/acl"
kill -HUP "$agent_pid"
for _ in $(seq $((50 * slow))); do grep -q 'ACL .* reloaded' "$work/agent.log" && break; sleep 0.1; done
grep -q 'ACL .* reloaded' "$work/agent.log" || fail "no reload logged"
expect 1 'ERROR_ACCESS_DENIED' cli noc $(cred noc) -s "$TLS" ipsec
expect 0 'ERROR_SUCCESS' cli storage $(cred storage) -s "$TLS" iscsi
# A broken ACL: secure default (nobody remote), the error logged.
echo "[client broken" >"$work/acl"
kill -HUP "$agent_pid"
for _ in $(seq $((50 * slow))); do grep -q 'ACL not loaded' "$work/agent.log" && break; sleep 0.1; done
grep -q "ACL: $work/acl:1: malformed section header" "$work/agent.log" ||
	fail "broken ACL: no file:line error"
grep -q 'ACL not loaded' "$work/agent.log" || fail "broken ACL: fallback not logged"
expect 1 'ERROR_ACCESS_DENIED' cli storage $(cred storage) -s "$TLS" iscsi
expect 0 'ERROR_SUCCESS' "$SECSTAT" -s "$IPC" ipsec
# A deleted ACL: the same.
rm -f "$work/acl"
kill -HUP "$agent_pid"
sleep $((slow))
grep -q "ACL: $work/acl: No such file or directory" "$work/agent.log" ||
	fail "missing ACL on reload: no clear error"
expect 0 'ERROR_SUCCESS' "$SECSTAT" -s "$IPC" ipsec
kill -0 "$agent_pid" || fail "agent died on SIGHUP"

say "SIGTERM: clean exit, ipc socket removed"
kill -TERM "$agent_pid"
wait "$agent_pid"
rc=$?
[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM"
[ -e "$work/agent.sock" ] && fail "ipc socket left behind"

say "start-up refusals"
# expect_start_fail PATTERN ARGS...: the agent exits non-zero, saying why.
expect_start_fail() {
	local pat=$1 got=0
	shift
	timeout $((10 * slow)) "$SECSTATD" --provider sim "$@" >"$work/start.out" 2>&1 || got=$?
	if [ "$got" = 0 ] || [ "$got" = 124 ] || ! grep -Eq -- "$pat" "$work/start.out"; then
		cat "$work/start.out" >&2
		fail "start with $* : exit $got, want a failure matching '$pat'"
	fi
}
expect_start_fail 'refusing plain tcp://0.0.0.0:[0-9]+ on a non-loopback address' \
	--listen "tcp://0.0.0.0:$(free_port)"
expect_start_fail 'needs --tls-cert, --tls-key and --tls-ca' \
	--listen "tls+tcp://127.0.0.1:$(free_port)" --tls-cert "$ca/agent1.pem" \
	--tls-key "$ca/agent1.key"
expect_start_fail "ACL: $work/nope: No such file or directory" \
	--listen "ipc://$work/x.sock" --acl "$work/nope"
printf '[local]\nuid = 0\nrights = all\n' >"$work/loose.acl"
chmod 666 "$work/loose.acl"
expect_start_fail 'writable by group or others' --listen "ipc://$work/x.sock" \
	--acl "$work/loose.acl"
printf '[local]\nuid = 0\nrights = everything\n' >"$work/bad.acl"
chmod 600 "$work/bad.acl"
expect_start_fail "$work/bad.acl:3: unknown right 'everything'" \
	--listen "ipc://$work/x.sock" --acl "$work/bad.acl"
expect_start_fail 'relay-tls-cert and --relay-tls-key go together' \
	--relay "$work/relay.hosts" --listen "ipc://$work/relay-x.sock" \
	--relay-tls-ca "$ca/ca.pem" --relay-tls-cert "$ca/noc.pem"
expect_start_fail 'relay-client-id and --relay-token-file go together' \
	--relay "$work/relay.hosts" --listen "ipc://$work/relay-x.sock" \
	--relay-client-id noc
expect_start_fail 'is not the key of --tls-cert' --listen "tls+tcp://127.0.0.1:$(free_port)" \
	--tls-cert "$ca/agent1.pem" --tls-key "$ca/noc.key" --tls-ca "$ca/ca.pem"
# --insecure: allowed, and loudly.
start insecure --provider sim --listen "tcp://0.0.0.0:$(free_port)" --insecure &&
	grep -q 'INSECURE: plain tcp://0.0.0.0' "$work/insecure.log" ||
	fail "--insecure listener not warned about"

finish
