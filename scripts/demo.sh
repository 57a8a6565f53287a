#!/usr/bin/env bash
# The main job on one machine: build secstat, start agents on loopback —
# one reading this host's real sources, three simulated hosts — and query
# all of them with the CLI.
#   KEEP=1 scripts/demo.sh   leaves the agents running afterwards
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build-demo}
base_port=${SECSTAT_DEMO_PORT:-7450}

"$top/scripts/deps.sh" build
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSECSTAT_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

secstatd=$build/agent/secstatd
secstat=$build/client/cli/secstat
run=$(mktemp -d /tmp/secstat-demo.XXXXXX)
pids=()
stop() {
	[ "${KEEP:-0}" = 1 ] && return
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$run"
}
trap stop EXIT

# start NAME ARGS...: starts an agent on the first free loopback port from
# $port on and appends its URL to urls[].
port=$base_port
start() {
	local name=$1 log=$run/$1.log url
	shift
	while [ "$port" -lt $((base_port + 100)) ]; do
		url=tcp://127.0.0.1:$port
		port=$((port + 1))
		# Loopback only, no credentials: the demo's agents serve any
		# local user (docs/security.md for TLS and the ACL).
		"$secstatd" --listen "$url" --allow-loopback-insecure "$@" \
			2>"$log" &
		pids+=($!)
		for _ in $(seq 100); do
			if grep -q ' ready' "$log"; then
				urls+=("$url")
				return
			fi
			kill -0 "${pids[-1]}" 2>/dev/null || break
			sleep 0.05
		done
		grep -q 'Address in use' "$log" || break
	done
	echo "demo: agent $name did not start:" >&2
	cat "$log" >&2
	exit 1
}

urls=()
# This host, real sources (auto-detected: /proc/net/xfrm_stat, the kernel's
# XFRM netlink, strongSwan, libreswan, open-iscsi when present).
start local
# Three simulated hosts under their own names.
for i in 1 2 3; do
	start "sim-$i" --provider sim --sim-seed "$i" --hostname "sim-host-$i"
done

servers=()
for u in "${urls[@]}"; do servers+=(-s "$u"); done
set -x
"$secstat" "${servers[@]}" info
"$secstat" "${servers[@]}" ipsec
"$secstat" -s "${urls[1]}" ikeext
"$secstat" -s "${urls[0]}" -s "${urls[1]}" --json info
"$secstat" "${servers[@]}" --dump ipsec >"$run/dump.tsv"
{ set +x; } 2>/dev/null
echo "(first 12 of $(wc -l <"$run/dump.tsv") TSV lines)"
head -n 12 "$run/dump.tsv"
if [ "${KEEP:-0}" = 1 ]; then
	echo "agents left running: ${urls[*]} (logs in $run)"
fi
