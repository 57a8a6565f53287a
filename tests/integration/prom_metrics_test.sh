#!/usr/bin/env bash
# secstatd --metrics-listen: /metrics parsed by Prometheus' own parser
# (promtool check metrics, Debian's prometheus package) and compared,
# sample by sample, with the RPC answers of the same snapshot
# (prom_check.py derives every expected name, label set and value from
# `secstat --json` independently of the C writer). Also: the HTTP
# contract (content type, 404 elsewhere), scrapes served from the cache
# until the snapshot changes, identity and provider health series, a
# real provider (procfs over a fixture tree), absent fields not
# emitted, the config-file key and bad addresses.
set -euo pipefail

: "${SECSTATD:?}" "${SECSTAT:?}" "${SECSTAT_SOURCE_DIR:?}" "${SECSTAT_FIXTURES:?}"
command -v promtool >/dev/null ||
	{ echo "FAIL: promtool missing (scripts/deps.sh test installs prometheus)" >&2; exit 1; }
. "$SECSTAT_SOURCE_DIR/tests/support/testlib.sh"
# get URL OUT: body into OUT, "STATUS CONTENT-TYPE" on stdout.
get() {
	python3 - "$1" "$2" <<'PY'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=10)
    body, status, ctype = r.read(), r.status, r.headers.get("Content-Type")
except urllib.error.HTTPError as e:
    body, status, ctype = e.read(), e.code, e.headers.get("Content-Type")
open(sys.argv[2], "wb").write(body)
print(status, ctype)
PY
}
check=$SECSTAT_SOURCE_DIR/tests/integration/prom_check.py
protos=$SECSTAT_SOURCE_DIR/proto/secstat/v1

# One sim agent whose snapshot does not change during the test (60 s),
# so /metrics and the RPC calls see the same data.
rpc=tcp://127.0.0.1:$(free_port)
mport=$(free_port)
start sim --provider sim --sim-seed 3 --hostname prom-a --listen "$rpc" \
	--allow-loopback-insecure --collect-interval 60000 \
	--metrics-listen "127.0.0.1:$mport"
url=http://127.0.0.1:$mport/metrics

# Same snapshot: compare the collection time of both, retry once if a
# rebuild fell between them.
for attempt in 1 2 3; do
	read -r status ctype < <(get "$url" "$work/m.txt")
	for c in ipsec ikeext iscsi; do
		"$SECSTAT" -s "$rpc" --json "$c" >"$work/$c.json"
	done
	t_rpc=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hosts"][0]["reply"]["collectedUnixMs"])' "$work/ipsec.json")
	t_prom=$(sed -n 's/^secstat_collected_timestamp_seconds \([0-9]*\)\.\([0-9]*\)$/\1\2/p' "$work/m.txt")
	[ "$t_rpc" = "$t_prom" ] && break
	[ $attempt = 3 ] && fail "collection times differ: rpc $t_rpc, metrics $t_prom"
done
[ "$status" = 200 ] || fail "GET /metrics: HTTP $status"
case $ctype in
"text/plain; version=0.0.4"*) ;;
*) fail "content type: $ctype" ;;
esac
promtool check metrics <"$work/m.txt" || fail "promtool check metrics rejected /metrics"
python3 "$check" "$protos" "$work/m.txt" "$work/ipsec.json" \
	"$work/ikeext.json" "$work/iscsi.json" || fail "/metrics differs from the RPC answers"

# The label dimensions and conversions the naming promises.
for re in \
	'^secstat_ike_successful_main_modes_total{key_module="ikev2",ip_version="v6"} [0-9]+$' \
	'^secstat_ipsec_traffic_encrypted_bytes_total{direction="outbound"} [0-9]+$' \
	'^secstat_ipsec_xfrm_mib_total{counter="XfrmInNoStates"} [0-9]+$' \
	'^secstat_ike_error_frequency_total{key_module="ike",error_code="13801"} [0-9]+$' \
	'^secstat_ike_main_mode_negotiation_time_seconds{key_module="ike"} [0-9]+\.[0-9]{3}$' \
	'^secstat_iscsi_qm_ipsec_active_sa{hba="[^"]+"} [0-9]+$' \
	'^secstat_host_info{hostname="prom-a",agent_version="[^"]+",.*epoch="[0-9a-f]{16}".*} 1$' \
	'^secstat_provider_up{provider="sim"} 1$' \
	'^secstat_provider_health{provider="sim",state="ok"} 1$' \
	'^secstat_provider_health{provider="sim",state="failing"} 0$' \
	'^secstat_simulated 1$' \
	'^# TYPE secstat_ipsec_aggregate_sa_sas_added_total counter$' \
	'^# TYPE secstat_ipsec_aggregate_sa_active_sas gauge$' \
	'^# HELP secstat_ipsec_aggregate_sa_active_sas SAs currently active\.$'; do
	grep -Eq "$re" "$work/m.txt" || fail "/metrics has no line matching $re"
done
grep -q 'milliseconds\|_ms[_ {]' "$work/m.txt" && fail "a non-base unit leaked into a name"

# Scrapes between two snapshots come from the cache: byte-identical.
get "$url" "$work/m2.txt" >/dev/null
cmp -s "$work/m.txt" "$work/m2.txt" || fail "two scrapes of one snapshot differ"
# Concurrent scrapes: all served, all the same text.
python3 - "$url" <<'PY' || fail "concurrent scrapes"
import sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
def get(_):
    r = urllib.request.urlopen(sys.argv[1], timeout=10)
    return r.status, r.read()
with ThreadPoolExecutor(16) as ex:
    res = list(ex.map(get, range(64)))
assert all(s == 200 for s, _ in res), [s for s, _ in res]
assert len({b for _, b in res}) == 1, "scrapes of one snapshot differ"
PY
read -r status _ < <(get "http://127.0.0.1:$mport/other" "$work/x")
[ "$status" = 404 ] || fail "GET /other: HTTP $status, expected 404"

# A new snapshot invalidates the cache: with a short collect interval
# the collection time moves between scrapes.
rpc4=tcp://127.0.0.1:$(free_port)
mport4=$(free_port)
start fast --provider sim --hostname prom-fast --listen "$rpc4" \
	--allow-loopback-insecure --collect-interval 100 \
	--metrics-listen "127.0.0.1:$mport4"
get "http://127.0.0.1:$mport4/metrics" "$work/f1.txt" >/dev/null
sleep 0.5
get "http://127.0.0.1:$mport4/metrics" "$work/f2.txt" >/dev/null
t1=$(sed -n 's/^secstat_collected_timestamp_seconds //p' "$work/f1.txt" | tr -d .)
t2=$(sed -n 's/^secstat_collected_timestamp_seconds //p' "$work/f2.txt" | tr -d .)
[ -n "$t1" ] && [ "$t2" -gt "$t1" ] || fail "cached text outlived its snapshot ($t1, $t2)"

# A real provider over a recorded procfs tree: what procfs cannot fill
# stays absent (no aggregate SA gauges, no traffic), the XFRM MIB
# counters are there with their kernel names.
root=$SECSTAT_FIXTURES/procfs/kernel-6.18
if [ -f "$root/net/xfrm_stat" ]; then
	rpc2=tcp://127.0.0.1:$(free_port)
	mport2=$(free_port)
	start procfs --provider procfs --procfs-root "$root" --listen "$rpc2" \
		--allow-loopback-insecure --hostname prom-b \
		--metrics-listen "127.0.0.1:$mport2"
	get "http://127.0.0.1:$mport2/metrics" "$work/p.txt" >/dev/null
	promtool check metrics <"$work/p.txt" || fail "promtool rejected the procfs agent's /metrics"
	"$SECSTAT" -s "$rpc2" --json ipsec >"$work/p-ipsec.json"
	python3 "$check" "$protos" "$work/p.txt" "$work/p-ipsec.json" ||
		fail "procfs /metrics differs from the RPC answer"
	grep -q '^secstat_ipsec_xfrm_mib_total{counter="Xfrm' "$work/p.txt" ||
		fail "procfs: no XFRM MIB counters"
	grep -q '^secstat_ipsec_aggregate_sa_active_sas' "$work/p.txt" &&
		fail "procfs: an SA gauge procfs cannot observe was emitted"
	grep -q '^secstat_ike_' "$work/p.txt" && fail "procfs: IKE series without an IKE source"
	grep -q '^secstat_provider_up{provider="procfs"} 1$' "$work/p.txt" ||
		fail "procfs: provider not up"
	grep -q '^secstat_simulated 0$' "$work/p.txt" || fail "procfs: flagged simulated"
fi

# The config-file key, and bad values on the command line and in the file.
mport3=$(free_port)
cat >"$work/agent.conf" <<CONF
provider = sim
hostname = prom-conf
listen = tcp://127.0.0.1:$(free_port)
allow-loopback-insecure = yes
metrics-listen = 127.0.0.1:$mport3
CONF
start conf --config "$work/agent.conf"
read -r status _ < <(get "http://127.0.0.1:$mport3/metrics" "$work/c.txt")
[ "$status" = 200 ] || fail "metrics-listen from the config file: HTTP $status"
grep -q 'hostname="prom-conf"' "$work/c.txt" || fail "config file agent: wrong identity"
# SIGHUP (the reload of the config file and ACL) leaves the endpoint
# serving.
kill -HUP "${pids[-1]}"
for _ in $(seq 100); do
	grep -q 'reloaded\|not reloaded' "$work/conf.log" && break
	sleep 0.05
done
read -r status _ < <(get "http://127.0.0.1:$mport3/metrics" "$work/c2.txt")
[ "$status" = 200 ] || fail "after SIGHUP: HTTP $status"
promtool check metrics <"$work/c2.txt" || fail "after SIGHUP: promtool"
for bad in 127.0.0.1 127.0.0.1:0 127.0.0.1:65536 :9450 '[::1' 'a:b:9450' 'host:x'; do
	rc=0
	"$SECSTATD" --metrics-listen "$bad" --provider sim 2>"$work/err" || rc=$?
	[ $rc = 64 ] || fail "--metrics-listen '$bad': exit $rc, expected 64"
	grep -q 'metrics-listen' "$work/err" || fail "--metrics-listen '$bad': no reason given"
done
# /metrics has no authentication: beyond loopback only with --insecure.
rc=0
"$SECSTATD" --metrics-listen "*:$mport3" --provider sim \
	--listen "ipc://$work/noauth.sock" 2>"$work/err" || rc=$?
[ $rc = 1 ] || fail "--metrics-listen on every address without --insecure: exit $rc"
grep -q -- '--insecure' "$work/err" || fail "no --insecure hint: $(cat "$work/err")"
printf 'provider = sim\nmetrics-listen = nowhere\n' >"$work/bad.conf"
rc=0
"$SECSTATD" --config "$work/bad.conf" 2>"$work/err" || rc=$?
[ $rc = 64 ] || fail "bad metrics-listen in the file: exit $rc"
grep -q "^$work/bad.conf:2: metrics-listen: " "$work/err" ||
	fail "bad metrics-listen in the file: no FILE:LINE: $(cat "$work/err")"
# An address already taken is a start-up failure, not a silent agent
# without metrics.
rc=0
"$SECSTATD" --provider sim --listen "tcp://127.0.0.1:$(free_port)" \
	--metrics-listen "127.0.0.1:$mport" 2>"$work/err" || rc=$?
[ $rc = 1 ] || fail "metrics port in use: exit $rc, expected 1"
finish
