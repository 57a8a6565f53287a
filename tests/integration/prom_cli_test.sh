#!/usr/bin/env bash
# secstat prom: the fleet in the Prometheus text format. promtool parses
# it; prom_check.py compares it sample by sample with the fleet JSON of
# the same snapshots (aggregate by default, each host with --per-host);
# hosts that are down are series with value 0, not missing data, and the
# exit status says some failed.
set -euo pipefail

: "${SECSTATD:?}" "${SECSTAT:?}" "${SECSTAT_SOURCE_DIR:?}"
command -v promtool >/dev/null ||
	{ echo "FAIL: promtool missing (scripts/deps.sh test installs prometheus)" >&2; exit 1; }
. "$SECSTAT_SOURCE_DIR/tests/support/testlib.sh"
check=$SECSTAT_SOURCE_DIR/tests/integration/prom_check.py
protos=$SECSTAT_SOURCE_DIR/proto/secstat/v1

urls=()
for i in 1 2 3; do
	u=tcp://127.0.0.1:$(free_port)
	start "a$i" --provider sim --sim-seed "$i" --hostname "fleet-$i" \
		--listen "$u" --allow-loopback-insecure --collect-interval 60000
	urls+=("$u")
done
down=tcp://127.0.0.1:$(free_port)
srv=()
for u in "${urls[@]}"; do srv+=(-s "$u"); done

# Aggregate (the default): no host label on statistics.
"$SECSTAT" "${srv[@]}" prom >"$work/agg.txt"
for c in ipsec ikeext iscsi; do
	"$SECSTAT" "${srv[@]}" --json "$c" >"$work/$c.json"
done
promtool check metrics <"$work/agg.txt" || fail "promtool rejected the aggregate"
python3 "$check" --aggregate "$protos" "$work/agg.txt" "$work/ipsec.json" \
	"$work/ikeext.json" "$work/iscsi.json" || fail "aggregate differs from the fleet answer"
grep -E '^secstat_(ipsec|ike|iscsi)_[a-z0-9_]+\{[^}]*host=' "$work/agg.txt" &&
	fail "aggregate statistics carry a host label"
grep -q '^secstat_fleet_hosts 3$' "$work/agg.txt" || fail "secstat_fleet_hosts"
grep -q '^secstat_fleet_hosts_ok{method="IPsecGetStatistics1"} 3$' "$work/agg.txt" ||
	fail "secstat_fleet_hosts_ok"
[ "$(grep -c '^secstat_fleet_host_up{host="tcp://127.0.0.1:[0-9]*"} 1$' "$work/agg.txt")" = 3 ] ||
	fail "secstat_fleet_host_up per host"
grep -q '^secstat_host_info{host="[^"]*",hostname="fleet-2",' "$work/agg.txt" ||
	fail "per-host identity missing in aggregate mode"

# --per-host: each host's statistics with host=URL, and no aggregate.
"$SECSTAT" "${srv[@]}" prom --per-host >"$work/ph.txt"
promtool check metrics <"$work/ph.txt" || fail "promtool rejected --per-host"
python3 "$check" --per-host "$protos" "$work/ph.txt" "$work/ipsec.json" \
	"$work/ikeext.json" "$work/iscsi.json" || fail "--per-host differs from the hosts' answers"
grep -E '^secstat_(ipsec|ike|iscsi)_[a-z0-9_]+( |\{)' "$work/ph.txt" |
	grep -v 'host="' && fail "--per-host: a statistic without a host label"

# A hosts file with names, and a host that is down: exit 2, the names are
# the host labels, the down host is up 0 and contributes nothing.
{
	echo "# prom test fleet"
	echo "${urls[0]} gw-one dc1"
	echo "${urls[1]} gw-two dc1"
	echo "$down gw-down dc2"
} >"$work/hosts"
rc=0
"$SECSTAT" --hosts "$work/hosts" --timeout 1000 prom >"$work/h.txt" 2>"$work/h.err" || rc=$?
[ $rc = 2 ] || fail "one host down: exit $rc, expected 2"
grep -q "$down" "$work/h.err" || fail "the down host is not reported on stderr"
promtool check metrics <"$work/h.txt" || fail "promtool rejected the partial fleet"
grep -q '^secstat_fleet_host_up{host="gw-down"} 0$' "$work/h.txt" || fail "gw-down not 0"
grep -q '^secstat_fleet_host_up{host="gw-one"} 1$' "$work/h.txt" || fail "gw-one not 1"
grep -q '^secstat_fleet_hosts_ok{method="IkeextGetStatistics1"} 2$' "$work/h.txt" ||
	fail "hosts_ok with a host down"
for c in ipsec ikeext iscsi; do
	"$SECSTAT" --hosts "$work/hosts" --timeout 1000 --json "$c" >"$work/h-$c.json" 2>/dev/null || true
done
python3 "$check" --aggregate "$protos" "$work/h.txt" "$work/h-ipsec.json" \
	"$work/h-ikeext.json" "$work/h-iscsi.json" || fail "partial aggregate differs"

# Usage errors.
rc=0
"$SECSTAT" "${srv[@]}" prom --bogus 2>/dev/null || rc=$?
[ $rc = 64 ] || fail "prom --bogus: exit $rc, expected 64"
# Nobody answers: exit 1, still a valid exposition saying so.
rc=0
"$SECSTAT" -s "$down" --timeout 500 prom >"$work/d.txt" 2>/dev/null || rc=$?
[ $rc = 1 ] || fail "all down: exit $rc, expected 1"
promtool check metrics <"$work/d.txt" || fail "promtool rejected the all-down output"
grep -q '^secstat_fleet_host_up{host="[^"]*"} 0$' "$work/d.txt" || fail "all down: host_up"
finish
