#!/bin/bash
# The secstat CLI against a real secstatd (sim provider) on an ipc path:
# every command and format, exit statuses, errors on stderr.
# Usage: cli_agent_test.sh SECSTAT_CLI  (secstatd from $SECSTATD)
set -euo pipefail

cli=$1
agent=${SECSTATD:?SECSTATD not set}
dir=$(mktemp -d /tmp/secstat-cli-test.XXXXXX)
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

url=ipc://$dir/agent.sock
dead=ipc://$dir/nobody.sock
"$agent" --provider sim --listen "$url" --hostname alpha --sim-seed 3 \
	--collect-interval 200 2>"$dir/agent.log" &
pid=$!
for _ in $(seq 50); do
	[ -S "$dir/agent.sock" ] && break
	sleep 0.1
done
[ -S "$dir/agent.sock" ] || fail "agent did not start: $(cat "$dir/agent.log")"

# Human table, every command.
for cmd in ipsec ikeext iscsi info; do
	"$cli" -s "$url" "$cmd" >"$dir/out" 2>"$dir/err" ||
		fail "$cmd: exit $?"
	head -1 "$dir/out" | grep -q "^alpha  $url  ERROR_SUCCESS .*SIMULATED" ||
		fail "$cmd: header: $(head -1 "$dir/out")"
	[ ! -s "$dir/err" ] || fail "$cmd: stderr: $(cat "$dir/err")"
done
# (Into files, not pipes: grep -q leaving early would fail the pipeline.)
"$cli" -s "$url" ipsec >"$dir/out"
grep -Eq '^    activeSas +[0-9]+$' "$dir/out" || fail "ipsec: no activeSas row"
"$cli" -s "$url" ikeext >"$dir/out"
grep -q '^  ikeV2Statistics.v4Statistics$' "$dir/out" ||
	fail "ikeext: no IKEv2 group"

# JSON: one document, protobuf JSON names.
"$cli" -s "$url" --json ikeext >"$dir/out"
python3 - "$dir/out" <<'PY' || fail "ikeext --json"
import json, sys
d = json.load(open(sys.argv[1]))
h = d["hosts"][0]
assert h["status"] == 0 and h["statusName"] == "ERROR_SUCCESS", h
s = h["reply"]["ikeext"]["statistics"]
assert len(s["ikeStatistics"]["errorFrequencyTable"]) == 97
assert "totalSuccessfulMainModes" in s["ikeV2Statistics"]["v4Statistics"]
PY

# TSV: three columns, a status line, paths from the walker.
"$cli" -s "$url" --dump ipsec >"$dir/out"
awk -F'\t' 'NF != 3 { exit 1 }' "$dir/out" || fail "--dump: not 3 columns"
grep -q "^$url	status	ERROR_SUCCESS$" "$dir/out" || fail "--dump: status"
grep -Eq "^$url	ipsec\.statistics\.aggregateSaStatistics\.activeSas	[0-9]+$" \
	"$dir/out" || fail "--dump: activeSas"

# Version 0: no version-1-only members.
"$cli" -s "$url" --v0 --dump ipsec >"$dir/out"
if grep -q 'totalDropPacketsInbound\|totalSuccessfulPackets' "$dir/out"; then
	fail "--v0 ipsec has version-1 members"
fi

# $SECSTAT_SERVER is the default server.
SECSTAT_SERVER=$url "$cli" info >"$dir/out"
grep -Eq "^    hostname +alpha$" "$dir/out" || fail "SECSTAT_SERVER"

# Exit statuses: some failed 2, all failed 1, usage 64.
set +e
"$cli" -s "$url" -s "$dead" ipsec >"$dir/out" 2>"$dir/err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "partial failure: exit $rc"
grep -q "RPC_E_SERVER_DIED_DNE (0x80010012): The agent could not be reached" \
	"$dir/err" || fail "partial failure: stderr: $(cat "$dir/err")"
# Several hosts: the fleet view, one row per host (host, status, ...,
# server).
grep -Eq "^- +RPC_E_SERVER_DIED_DNE .* $dead\$" "$dir/out" ||
	fail "partial failure: table"
set +e
"$cli" -s "$dead" --json info >"$dir/out" 2>/dev/null
rc=$?
set -e
[ "$rc" = 1 ] || fail "all failed: exit $rc"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["hosts"][0]["statusName"]=="RPC_E_SERVER_DIED_DNE"' \
	"$dir/out" || fail "all failed: json"
for args in "" "nosuchcommand" "--json --dump ipsec" "--timeout 0 ipsec" \
	"ipsec extra" "--v0 info"; do
	set +e
	# shellcheck disable=SC2086
	"$cli" -s "$url" $args >/dev/null 2>&1
	rc=$?
	set -e
	[ "$rc" = 64 ] || fail "usage '$args': exit $rc"
done
"$cli" help >"$dir/out"
grep -q "^Usage: secstat" "$dir/out" || fail "help"

echo "ok"
