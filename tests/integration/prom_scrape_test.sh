#!/usr/bin/env bash
# A real Prometheus server (Debian's prometheus) scrapes secstatd's
# /metrics on loopback: the target is up, and the values Prometheus
# stored are the agent's (a counter, a labelled series, a converted unit,
# the info metric), read back through Prometheus' query API.
set -euo pipefail

: "${SECSTATD:?}" "${SECSTAT:?}" "${SECSTAT_SOURCE_DIR:?}"
command -v prometheus >/dev/null ||
	{ echo "FAIL: prometheus missing (scripts/deps.sh test installs it)" >&2; exit 1; }
. "$SECSTAT_SOURCE_DIR/tests/support/testlib.sh"
fail_tail=$work/prometheus.log

rpc=tcp://127.0.0.1:$(free_port)
mport=$(free_port)
# A snapshot that stays put for the whole test, so the stored values and
# the RPC answer are the same data.
start agent --provider sim --sim-seed 9 --hostname scrape-a --listen "$rpc" \
	--allow-loopback-insecure --collect-interval 600000 \
	--metrics-listen "127.0.0.1:$mport"

pport=$(free_port)
cat >"$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: secstat
    static_configs:
      - targets: ['127.0.0.1:$mport']
YML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
	--web.listen-address="127.0.0.1:$pport" >"$work/prometheus.log" 2>&1 &
pids+=($!)

# query EXPR: the value of the single result, or nothing.
query() {
	python3 - "http://127.0.0.1:$pport/api/v1/query" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
try:
    u = sys.argv[1] + "?" + urllib.parse.urlencode({"query": sys.argv[2]})
    d = json.load(urllib.request.urlopen(u, timeout=5))
    r = d["data"]["result"]
    if len(r) == 1:
        print(r[0]["value"][1])
except Exception:
    pass
PY
}
up=
for _ in $(seq 120); do
	up=$(query 'up{job="secstat"}')
	[ "$up" = 1 ] && [ -n "$(query 'secstat_host_info')" ] && break
	sleep 0.25
done
[ "$up" = 1 ] || fail "Prometheus did not scrape the agent (up=$up)"

"$SECSTAT" -s "$rpc" --dump ipsec >"$work/ipsec.tsv"
"$SECSTAT" -s "$rpc" --dump ikeext >"$work/ike.tsv"
rpc_value() { awk -F'\t' -v p="$2" '$2 == p {print $3}' "$1"; }

want=$(rpc_value "$work/ipsec.tsv" ipsec.statistics.aggregateSaStatistics.totalSasAdded)
got=$(query 'secstat_ipsec_aggregate_sa_sas_added_total')
[ -n "$want" ] && [ "$got" = "$want" ] || fail "sas_added_total: Prometheus $got, RPC $want"
want=$(rpc_value "$work/ipsec.tsv" ipsec.statistics.outboundTrafficStatistics.encryptedByteCount)
got=$(query 'secstat_ipsec_traffic_encrypted_bytes_total{direction="outbound"}')
[ "$got" = "$want" ] || fail "encrypted bytes out: Prometheus $got, RPC $want"
want=$(rpc_value "$work/ike.tsv" ikeext.statistics.ikeV2Statistics.v6Statistics.totalFailedMainModes)
got=$(query 'secstat_ike_failed_main_modes_total{key_module="ikev2",ip_version="v6"}')
[ "$got" = "$want" ] || fail "ikev2 v6 failed main modes: Prometheus $got, RPC $want"
ms=$(rpc_value "$work/ike.tsv" ikeext.statistics.ikeStatistics.mainModeNegotiationTime)
got=$(query 'secstat_ike_main_mode_negotiation_time_seconds{key_module="ike"} * 1000')
[ "$got" = "$ms" ] || fail "negotiation time: Prometheus $got ms, RPC $ms ms"
got=$(query 'count(secstat_ike_error_frequency_total{key_module="ike"})')
[ "$got" = 97 ] || fail "error-frequency series: $got, expected 97"
got=$(query 'secstat_host_info{hostname="scrape-a"}')
[ "$got" = 1 ] || fail "host info: $got"
got=$(query 'secstat_provider_up{provider="sim"}')
[ "$got" = 1 ] || fail "provider up: $got"
finish
