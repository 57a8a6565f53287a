#!/usr/bin/env bash
# Valgrind memcheck over the integration tests: runs agent_rpc_test,
# cli_test.sh, security_test.sh, fleet_cli_test.sh (fleets, relay, watch,
# streams) and prom_metrics_test.sh (/metrics) with $SECSTATD (and, but
# for the security test's many TLS handshakes, the CLI) wrapped in memcheck,
# then requires every process to have ended with no error and no
# definitely or indirectly lost block (still-reachable memory of nng's
# global state is allowed).
# Usage: valgrind_test.sh AGENT_RPC_TEST_BINARY SECURITY_FWPMU_BINARY
set -uo pipefail
: "${SECSTATD:?}" "${SECSTAT:?}" "${SECSTAT_SOURCE_DIR:?}"
usage="usage: valgrind_test.sh AGENT_RPC_TEST SECURITY_FWPMU"
rpc_test=${1:?$usage}
fwpmu=${2:?$usage}
command -v valgrind >/dev/null || { echo "valgrind not installed"; exit 1; }
. "$SECSTAT_SOURCE_DIR/tests/support/testlib.sh"
chmod 755 "$work"
mkdir -p "$work/logs"
chmod 777 "$work/logs" # the security test runs a client as nobody

# wrap NAME BINARY: a script that runs BINARY under memcheck, one log per
# process.
wrap() {
	cat >"$work/$1" <<WRAP
#!/bin/sh
exec valgrind --tool=memcheck --quiet --leak-check=full \\
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \\
	--track-fds=no --log-file=$work/logs/$1.%p.log "$2" "\$@"
WRAP
	chmod 755 "$work/$1"
}
wrap secstatd "$SECSTATD"
wrap secstat "$SECSTAT"

status=0
# run CLI ARGS...: the test with the agent under memcheck, and the CLI too
# when CLI is "vg" (a test that needs a fast client, e.g. many TLS
# handshakes, passes "native").
run() {
	local cli=$SECSTAT
	[ "$1" = vg ] && cli=$work/secstat
	shift
	echo "=== $* (under valgrind)"
	if ! SECSTATD=$work/secstatd SECSTAT=$cli SECSTAT_TEST_SLOW=5 "$@"; then
		echo "FAILED under valgrind: $*"
		status=1
	fi
}
run vg "$rpc_test"
run vg bash "$SECSTAT_SOURCE_DIR/tests/integration/cli_test.sh"
run native bash "$SECSTAT_SOURCE_DIR/tests/integration/security_test.sh" "$fwpmu"
run native bash "$SECSTAT_SOURCE_DIR/tests/integration/fleet_cli_test.sh" "$work/secstat"
run native bash "$SECSTAT_SOURCE_DIR/tests/integration/prom_metrics_test.sh"

# A process killed by the tests on purpose (SIGKILL) leaves a log without
# a summary; every other log must report zero errors.
n=0
for log in "$work"/logs/*.log; do
	[ -e "$log" ] || continue
	n=$((n + 1))
	if grep -Eq 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]|indirectly lost: [1-9]|Invalid (read|write|free)|uninitialised' "$log"; then
		echo "--- memcheck found something: $log"
		cat "$log"
		status=1
	fi
done
echo "valgrind: $n process logs checked"
[ "$n" -gt 0 ] || status=1
exit $status
