#!/bin/bash
# The secstat CLI against a real secstatd (sim provider) on an ipc path:
# every command and format, exit statuses, errors on stderr.
# Usage: cli_agent_test.sh SECSTAT_CLI  (secstatd from $SECSTATD)
set -euo pipefail

cli=$1
: "${SECSTATD:?SECSTATD not set}" "${SECSTAT_SOURCE_DIR:?}"
. "$SECSTAT_SOURCE_DIR/tests/support/testlib.sh"

url=ipc://$work/agent.sock
dead=ipc://$work/nobody.sock
start agent --provider sim --listen "$url" --hostname alpha --sim-seed 3 \
	--collect-interval 200

# Human table, every command.
for cmd in ipsec ikeext iscsi info; do
	"$cli" -s "$url" "$cmd" >"$work/out" 2>"$work/err" ||
		fail "$cmd: exit $?"
	head -1 "$work/out" | grep -q "^alpha  $url  ERROR_SUCCESS .*SIMULATED" ||
		fail "$cmd: header: $(head -1 "$work/out")"
	[ ! -s "$work/err" ] || fail "$cmd: stderr: $(cat "$work/err")"
done
# (Into files, not pipes: grep -q leaving early would fail the pipeline.)
"$cli" -s "$url" ipsec >"$work/out"
grep -Eq '^    activeSas +[0-9]+$' "$work/out" || fail "ipsec: no activeSas row"
"$cli" -s "$url" ikeext >"$work/out"
grep -q '^  ikeV2Statistics.v4Statistics$' "$work/out" ||
	fail "ikeext: no IKEv2 group"

# JSON: one document, protobuf JSON names.
"$cli" -s "$url" --json ikeext >"$work/out"
python3 - "$work/out" <<'PY' || fail "ikeext --json"
import json, sys
d = json.load(open(sys.argv[1]))
h = d["hosts"][0]
assert h["status"] == 0 and h["statusName"] == "ERROR_SUCCESS", h
s = h["reply"]["ikeext"]["statistics"]
assert len(s["ikeStatistics"]["errorFrequencyTable"]) == 97
assert "totalSuccessfulMainModes" in s["ikeV2Statistics"]["v4Statistics"]
PY

# TSV: three columns, a status line, paths from the walker.
"$cli" -s "$url" --dump ipsec >"$work/out"
awk -F'\t' 'NF != 3 { exit 1 }' "$work/out" || fail "--dump: not 3 columns"
grep -q "^$url	status	ERROR_SUCCESS$" "$work/out" || fail "--dump: status"
grep -Eq "^$url	ipsec\.statistics\.aggregateSaStatistics\.activeSas	[0-9]+$" \
	"$work/out" || fail "--dump: activeSas"

# Version 0: no version-1-only members.
"$cli" -s "$url" --v0 --dump ipsec >"$work/out"
if grep -q 'totalDropPacketsInbound\|totalSuccessfulPackets' "$work/out"; then
	fail "--v0 ipsec has version-1 members"
fi

# $SECSTAT_SERVER is the default server.
SECSTAT_SERVER=$url "$cli" info >"$work/out"
grep -Eq "^    hostname +alpha$" "$work/out" || fail "SECSTAT_SERVER"

# Exit statuses: some failed 2, all failed 1, usage 64.
set +e
"$cli" -s "$url" -s "$dead" ipsec >"$work/out" 2>"$work/err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "partial failure: exit $rc"
grep -q "RPC_E_SERVER_DIED_DNE (0x80010012): The agent could not be reached" \
	"$work/err" || fail "partial failure: stderr: $(cat "$work/err")"
# Several hosts: the fleet view, one row per host (host, status, ...,
# server).
grep -Eq "^- +RPC_E_SERVER_DIED_DNE .* $dead\$" "$work/out" ||
	fail "partial failure: table"
set +e
"$cli" -s "$dead" --json info >"$work/out" 2>/dev/null
rc=$?
set -e
[ "$rc" = 1 ] || fail "all failed: exit $rc"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["hosts"][0]["statusName"]=="RPC_E_SERVER_DIED_DNE"' \
	"$work/out" || fail "all failed: json"
for args in "" "nosuchcommand" "--json --dump ipsec" "--timeout 0 ipsec" \
	"ipsec extra" "--v0 info"; do
	set +e
	# shellcheck disable=SC2086
	"$cli" -s "$url" $args >/dev/null 2>&1
	rc=$?
	set -e
	[ "$rc" = 64 ] || fail "usage '$args': exit $rc"
done
"$cli" help >"$work/out"
grep -q "^Usage: secstat" "$work/out" || fail "help"

finish
