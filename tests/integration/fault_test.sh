#!/usr/bin/env bash
# Hostile and broken clients and sources against the real secstatd. After
# each fault the agent must still give a well-behaved client a correct
# answer (ERROR_SUCCESS, the right host) within its timeout.
set -uo pipefail
: "${SECSTATD:?}" "${SECSTAT:?}" "${SECSTAT_SOURCE_DIR:?}"
pki=$SECSTAT_SOURCE_DIR/certs/secstat-pki.sh
tool="python3 $SECSTAT_SOURCE_DIR/tests/integration/fault_tool.py"
. "$SECSTAT_SOURCE_DIR/tests/support/testlib.sh"
keep_going=1
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# In the ASan build, LeakSanitizer is off for this test only: after these
# faults (handshakes cut short, a listener replaced by the ipc watchdog)
# nng 1.5.2 leaves some of its own listener and connection objects
# unreleased at exit, all allocated and lost inside libnng. Memory errors
# are still fatal here; leaks of ordinary runs are checked by every other
# test and by valgrind_test.sh.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

"$pki" ca "$work/ca" >/dev/null 2>&1 &&
	"$pki" agent "$work/ca" agent localhost 127.0.0.1 >/dev/null 2>&1 &&
	"$pki" client "$work/ca" good >/dev/null 2>&1 &&
	"$pki" token "$work/ca" good >"$work/acl" 2>/dev/null || {
	fail "pki"
	exit 1
}
chmod 600 "$work/acl"
P_TCP=$(free_port)
P_TLS=$(free_port)
P_PUB=$(free_port)
TCP=tcp://127.0.0.1:$P_TCP
TLS=tls+tcp://127.0.0.1:$P_TLS
IPC=ipc://$work/agent.sock
start agent --provider sim --hostname fault-host --collect-interval 200 \
	--listen "$TCP" --listen "$TLS" --listen "$IPC" \
	--publish "tcp://127.0.0.1:$P_PUB" \
	--tls-cert "$work/ca/agent.pem" --tls-key "$work/ca/agent.key" \
	--tls-ca "$work/ca/ca.pem" --acl "$work/acl" --allow-loopback-insecure || exit 1
agent=$pid

# healthy WHAT: every listener answers a well-behaved client correctly.
healthy() {
	local u
	for u in "$TCP" "$IPC"; do
		if ! "$SECSTAT" -t 5000 -s "$u" ipsec >"$work/ok" 2>&1 ||
			! grep -q '^fault-host .*ERROR_SUCCESS' "$work/ok"; then
			cat "$work/ok" >&2
			fail "after $1: $u not served"
		fi
	done
	if ! "$SECSTAT" -t 5000 --tls-ca "$work/ca/ca.pem" \
		--tls-cert "$work/ca/good.pem" --tls-key "$work/ca/good.key" \
		--client-id good --token-file "$work/ca/good.token" \
		-s "$TLS" ipsec >"$work/ok" 2>&1 ||
		! grep -q '^fault-host .*ERROR_SUCCESS' "$work/ok"; then
		cat "$work/ok" >&2
		fail "after $1: $TLS not served"
	fi
	kill -0 "$agent" 2>/dev/null || fail "after $1: the agent is gone"
}
healthy "start"

say "garbage bytes on every listener"
for a in "127.0.0.1:$P_TCP" "127.0.0.1:$P_TLS" "127.0.0.1:$P_PUB" "$work/agent.sock"; do
	for _ in 1 2 3; do $tool garbage "$a" || fail "garbage to $a: tool failed"; done
done
# nng 1.5.2's ipc listener can stop accepting after a peer hangs up in
# its handshake; the agent's watchdog notices within a second and
# replaces it (at most 4 s: its probe waits 3 s for an answer); the
# client's 5 s connection deadline below covers the rest.
sleep 2.5
healthy "garbage"

say "half-finished TLS handshakes (200, held 3 s) while serving"
$tool halftls "127.0.0.1:$P_TLS" 200 3 &
ht=$!
sleep 1
healthy "half-open TLS handshakes"
wait $ht

say "a client that sends requests and never reads"
$tool noread "127.0.0.1:$P_TCP" 20000 6 >"$work/noread.out" &
nr=$!
sleep 2
healthy "a client that never reads"
wait $nr
grep -q 'did not take its reply' "$work/agent.log" ||
	fail "the non-reading client was not cut off (sent $(cat "$work/noread.out") requests)"
healthy "the non-reading client left"

say "1000 concurrent connections"
$tool hold "127.0.0.1:$P_TCP" 1000 6 >"$work/hold.out" &
hd=$!
sleep 3
healthy "1000 connections open"
wait $hd
[ "$(cat "$work/hold.out")" = 1000 ] ||
	fail "the agent kept $(cat "$work/hold.out") of 1000 connections (limit 2048)"

say "--max-connections: the excess is refused, the agent survives"
P_LIM=$(free_port)
start limited --provider sim --hostname limited --listen "tcp://127.0.0.1:$P_LIM" \
	--max-connections 50 --allow-loopback-insecure || exit 1
limited=$pid
$tool hold "127.0.0.1:$P_LIM" 120 3 >"$work/lim.out"
kept=$(cat "$work/lim.out")
[ "$kept" -le 50 ] && [ "$kept" -ge 45 ] || fail "limit 50: the agent kept $kept"
grep -q 'refusing more' "$work/limited.log" || fail "refusals not logged"
sleep 0.5
"$SECSTAT" -t 5000 -s "tcp://127.0.0.1:$P_LIM" info >"$work/ok" 2>&1 &&
	grep -q '^limited ' "$work/ok" || fail "limited agent does not serve after the flood"
kill "$limited"

say "a vici source that accepts and never answers"
python3 - "$work/charon.vici" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1]); s.listen(16)
conns = []
end = time.time() + 20
s.settimeout(0.5)
while time.time() < end:
    try:
        conns.append(s.accept()[0])  # accepted, never answered
    except socket.timeout:
        pass
PY
hang=$!
pids+=("$hang")
sleep 0.5
P_V=$(free_port)
start vici --provider sim,vici --vici "unix://$work/charon.vici" --hostname hung \
	--collect-interval 200 --listen "tcp://127.0.0.1:$P_V" --allow-loopback-insecure || exit 1
for i in 1 2 3 4 5; do
	t0=$(date +%s%N)
	"$SECSTAT" -t 3000 -s "tcp://127.0.0.1:$P_V" ipsec >"$work/ok" 2>&1 &&
		grep -q '^hung .*ERROR_SUCCESS' "$work/ok" ||
		{ cat "$work/ok" >&2; fail "request $i not served while vici hangs"; }
	t1=$(date +%s%N)
	[ $(((t1 - t0) / 1000000)) -lt 2500 ] || fail "request $i took $(((t1 - t0) / 1000000)) ms"
	sleep 0.3
done
kill "$pid" "$hang" 2>/dev/null

say "SIGHUP keeps the listeners (requests during reloads)"
for i in 1 2 3; do
	kill -HUP "$agent"
	healthy "SIGHUP $i"
done
[ "$(grep -c 'ACL .* reloaded' "$work/agent.log")" -ge 3 ] || fail "reloads not logged"

say "SIGTERM during load: clean exit, ipc socket removed"
for i in 1 2 3 4; do
	(for _ in $(seq 40); do "$SECSTAT" -t 2000 -s "$TCP" ipsec >/dev/null 2>&1; done) &
done
sleep 0.5
kill -TERM "$agent"
# Bounded: an agent that does not stop is a failure with its threads'
# stacks, not a hang of the suite.
for ((i = 0; i < 200; i++)); do
	kill -0 "$agent" 2>/dev/null || break
	sleep 0.05
done
if kill -0 "$agent" 2>/dev/null; then
	command -v gdb >/dev/null &&
		gdb -q -batch -p "$agent" -ex "thread apply all bt 12" 2>&1 | grep -E '^(Thread|#)' >&2
	kill -9 "$agent"
	fail "the agent did not stop within 10 s of SIGTERM under load"
fi
wait "$agent"
rc=$?
[ "$rc" = 0 ] || {
	grep -v ' info \| debug ' "$work/agent.log" | tail -n 60 >&2
	fail "exit status $rc after SIGTERM under load"
}
[ -e "$work/agent.sock" ] && fail "ipc socket left behind"
wait

finish
