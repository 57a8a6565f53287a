#!/usr/bin/env bash
# The fleet side of the secstat CLI and secstatd's stream and relay
# options, with real processes: --hosts files, the aggregate in every
# format, exit statuses with a dead host, watch's line output, and the
# option and config-file validation of --publish and --relay.
set -euo pipefail

: "${SECSTATD:?}" "${SECSTAT_SOURCE_DIR:?}"
cli=${1:?usage: fleet_cli_test.sh SECSTAT_CLI}
. "$SECSTAT_SOURCE_DIR/tests/support/testlib.sh"
# Agents must stop on SIGTERM within 5 s; one that does not is a failure
# (and is killed), not a hang of the test.
strict_stop=1

for i in 1 2 3; do
	start "a$i" --provider sim --sim-seed "$i" --hostname "cli-$i" \
		--listen "ipc://$work/a$i.sock" --collect-interval 3600000
done
cat >"$work/hosts" <<HOSTS
# three agents and one that is not running
ipc://$work/a1.sock  web-1 prod
ipc://$work/a2.sock  web-2 prod
ipc://$work/a3.sock
ipc://$work/none.sock dead-1 prod   # never started
HOSTS

# Table: the aggregate, then one row per host; partial failure is 2.
expect_status 2 "$cli" --hosts "$work/hosts" --timeout 500 ipsec
grep -q '^fleet  IPsecGetStatistics1  4 hosts: 3 ok, 1 failed' "$work/out" ||
	fail "no fleet header"
grep -Eq '^cli-2 +ERROR_SUCCESS ' "$work/out" || fail "no row for cli-2"
grep -Eq '^dead-1 +RPC_E_SERVER_DIED_DNE ' "$work/out" ||
	fail "the dead host's row does not name it"
grep -q 'RPC_E_SERVER_DIED_DNE' "$work/err" || fail "failure not on stderr"

# JSON: the aggregate is the sum of the hosts, and the side table counts
# the hosts that answered.
expect_status 2 "$cli" --hosts "$work/hosts" --timeout 500 --json ipsec
python3 - "$work/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ok = [h for h in d["hosts"] if h["status"] == 0]
assert len(ok) == 3, d["hosts"]
agg = d["aggregate"]["ipsec"]["statistics"]["aggregateSaStatistics"]
want = sum(h["reply"]["ipsec"]["statistics"]["aggregateSaStatistics"]["activeSas"] for h in ok)
assert agg["activeSas"] == want, (agg, want)
assert d["fleet"]["hostsOk"] == 3
f = [x for x in d["fleet"]["fields"] if x["path"] == "statistics.aggregateSaStatistics.activeSas"][0]
assert f["hosts"] == 3 and f["sum"] == want
assert d["fleet"]["hosts"][3]["name"] == "dead-1"
assert d["fleet"]["hosts"][0]["tags"] == ["prod"]
PY

# Dump: the aggregate under the server name "fleet".
expect_status 0 "$cli" -s "ipc://$work/a1.sock" -s "ipc://$work/a2.sock" --dump ikeext
grep -q $'^fleet\tikeext.statistics.' "$work/out" || fail "no fleet lines in the dump"
# One host: the per-host output alone, as before.
expect_status 0 "$cli" -s "ipc://$work/a1.sock" --dump ikeext
grep -q $'^fleet\t' "$work/out" && fail "fleet lines for a single host"

# Watch, not on a terminal: one line per update, the dead host announced.
expect_status 2 "$cli" --hosts "$work/hosts" --timeout 300 watch --interval 0.2 --count 3
[ "$(grep -c ' hosts=3/4' "$work/out")" = 3 ] || fail "watch: not three updates"
grep -q ' DOWN dead-1 (RPC_E_SERVER_DIED_DNE)' "$work/out" || fail "watch: no DOWN line"
expect_status 64 "$cli" --hosts "$work/hosts" watch --interval 0
expect_status 64 "$cli" --hosts "$work/hosts" -s "ipc://$work/a1.sock" ipsec

# Watch over the publish streams: up as soon as the stream says so.
start p1 --provider sim --hostname cli-pub --listen "ipc://$work/p1.sock" \
	--publish "ipc://$work/p1-pub.sock" --publish-interval 100 \
	--heartbeat-interval 200 --collect-interval 100
printf 'ipc://%s/p1.sock cli-pub pub=ipc://%s/p1-pub.sock\n' "$work" "$work" \
	>"$work/stream-hosts"
expect_status 0 "$cli" --hosts "$work/stream-hosts" watch --stream --interval 0.3 --count 4
grep -q ' UP   cli-pub' "$work/out" || fail "watch --stream: no UP line"
[ "$(grep -c ' hosts=1/1' "$work/out")" = 4 ] || fail "watch --stream: not four updates"
grep -q 'totalSasAdded=[0-9]*([0-9.]*/s)' "$work/out" || fail "watch --stream: no rate"
expect_status 64 "$cli" --hosts "$work/hosts" watch --stream --count 1
grep -q 'has no pub=URL' "$work/err" || fail "watch --stream without pub= not explained"
# A stream URL where an RPC endpoint belongs is named as the wrong
# protocol at the first connection, not left to the deadline (which would
# say "could not be reached"); the reverse is a stream that stays down.
expect_status 1 "$cli" -s "ipc://$work/p1-pub.sock" --timeout 60000 ipsec
grep -q 'RPC_E_VERSION_MISMATCH' "$work/out" || fail "a PUB endpoint queried: not named"
printf 'ipc://%s/p1.sock cli-pub pub=ipc://%s/p1.sock\n' "$work" "$work" \
	>"$work/swapped-hosts"
expect_status 1 "$cli" --hosts "$work/swapped-hosts" watch --stream --interval 0.3 --count 2
[ "$(grep -c ' hosts=0/1' "$work/out")" = 2 ] || fail "watch --stream on a REP endpoint"

# Bad hosts files are usage errors with FILE:LINE.
printf 'web-1 tcp://127.0.0.1:1\n' >"$work/bad"
expect_status 64 "$cli" --hosts "$work/bad" ipsec
grep -q "$work/bad:1: expected a URL" "$work/err" || fail "hosts file error not located"

# secstatd: stream and relay options, on the command line and in a file.
expect_status 64 "$SECSTATD" --publish http://x
expect_status 64 "$SECSTATD" --full-every 0
expect_status 64 "$SECSTATD" --publish-queue 100000
printf 'publish = tcp://\n' >"$work/bad.conf"
expect_status 64 "$SECSTATD" --config "$work/bad.conf"
grep -q 'bad.conf:1: publish:' "$work/err" || fail "config error not located"

# A relay over the three agents (the dead one too) serves their sum, and
# publishes it.
start relay --relay "$work/hosts" --relay-timeout 300 --hostname relay-1 \
	--listen "ipc://$work/relay.sock" --publish "ipc://$work/relay-pub.sock" \
	--collect-interval 200
grep -q 'publishing on ipc://' "$work/relay.log" || fail "relay does not publish"
# Its first collection may finish after it is ready (a loaded machine).
for _ in $(seq 50); do
	"$cli" -s "ipc://$work/relay.sock" ipsec >/dev/null 2>&1 && break
	sleep 0.1
done
expect_status 0 "$cli" -s "ipc://$work/relay.sock" --json ipsec
python3 - "$work/out" "$work/agg.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["hosts"][0]["reply"]
assert d["host"]["hostname"] == "relay-1", d["host"]
assert [p["name"] for p in d["providers"] if p["health"] == "HEALTH_OK"] == ["relay"]
PY
"$cli" --hosts "$work/hosts" --timeout 500 --json ipsec >"$work/direct" 2>/dev/null || true
python3 - "$work/out" "$work/direct" <<'PY'
import json, sys
via = json.load(open(sys.argv[1]))["hosts"][0]["reply"]["ipsec"]
direct = json.load(open(sys.argv[2]))["aggregate"]["ipsec"]
assert via == direct, "relay and direct aggregates differ"
PY

finish
