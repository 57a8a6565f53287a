#!/usr/bin/env bash
# The secstat CLI against real secstatd processes: every command in every
# output format, several hosts, hosts that are down, and the exit status
# contract (0 all answered, 1 none, 2 some, 64 usage).
set -euo pipefail

: "${SECSTATD:?}" "${SECSTAT:?}" "${SECSTAT_SOURCE_DIR:?}"
. "$SECSTAT_SOURCE_DIR/tests/support/testlib.sh"

a=tcp://127.0.0.1:$(free_port)
start a --provider sim --sim-seed 1 --hostname host-a --listen "$a" \
	--allow-loopback-insecure
b=ipc://$work/b.sock
start b --provider sim --sim-seed 2 --hostname host-b --listen "$b"
down=tcp://127.0.0.1:$(free_port)

# Every command, human output: host line, Windows names, no failure.
for cmd in ipsec ikeext iscsi info; do
	expect_status 0 "$SECSTAT" -s "$a" -s "$b" "$cmd"
	grep -q '^host-a ' "$work/out" || fail "$cmd: no host-a line"
	grep -q '^host-b ' "$work/out" || fail "$cmd: no host-b line"
	grep -q SIMULATED "$work/out" || fail "$cmd: simulated data not flagged"
done
expect_status 0 "$SECSTAT" -s "$a" ipsec
grep -q 'totalDropPacketsInbound' "$work/out" || fail "ipsec: no totalDropPacketsInbound"
expect_status 0 "$SECSTAT" -s "$a" ikeext
grep -q 'totalSuccessfulMainModes' "$work/out" || fail "ikeext: no totalSuccessfulMainModes"

# --json: one valid document, one entry per host, Windows JSON names.
expect_status 0 "$SECSTAT" -s "$a" -s "$b" --json ipsec
python3 - "$work/out" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
hosts = doc["hosts"]
assert len(hosts) == 2, hosts
for h in hosts:
    assert h["status"] == 0 and h["statusName"] == "ERROR_SUCCESS", h
    s = h["reply"]["ipsec"]["statistics"]
    assert s["aggregateSaStatistics"]["activeSas"] >= 0
    assert "authenticatedAHByteCount" in s["inboundTrafficStatistics"]
assert hosts[0]["reply"]["host"]["hostname"] == "host-a"
EOF

# --dump: server, path, value; the v0 projection drops v1-only fields.
expect_status 0 "$SECSTAT" -s "$a" --dump ipsec
awk -F'\t' 'NF != 3 { exit 1 }' "$work/out" || fail "dump: not three columns"
grep -q $'\tipsec.statistics.aggregateDropPacketStatistics.totalDropPacketsInbound\t' "$work/out" ||
	fail "dump: no totalDropPacketsInbound"
expect_status 0 "$SECSTAT" -s "$a" --dump --v0 ipsec
grep -q 'totalDropPacketsInbound' "$work/out" && fail "v0 dump has a v1-only field"

# The same value twice within one snapshot interval: stable output.
"$SECSTAT" -s "$a" --dump info | grep -v collected >"$work/d1"
"$SECSTAT" -s "$a" --dump info | grep -v collected >"$work/d2"
grep -q 'host.epoch' "$work/d1" || fail "info dump has no epoch"

# Exit status: some hosts down → 2; all down → 1; the error is named.
expect_status 2 "$SECSTAT" -s "$a" -s "$down" --timeout 2000 ipsec
grep -q RPC_E_SERVER_DIED_DNE "$work/out" "$work/err" || fail "unreachable host not reported"
expect_status 2 "$SECSTAT" -s "$a" -s "$down" --json ipsec
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [h["statusName"] for h in d["hosts"]] == ["ERROR_SUCCESS","RPC_E_SERVER_DIED_DNE"], d' "$work/out"
expect_status 1 "$SECSTAT" -s "$down" ipsec
expect_status 64 "$SECSTAT" -s "$a" no-such-command
expect_status 64 "$SECSTAT" --no-such-option ipsec

finish
