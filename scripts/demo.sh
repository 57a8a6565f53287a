#!/usr/bin/env bash
# The main job on one machine: build secstat, start agents on loopback —
# one reading this host's real sources, three simulated hosts — and query
# all of them with the CLI.
#   KEEP=1 scripts/demo.sh   leaves the agents running afterwards
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$top/build}
base_port=${SECSTAT_DEMO_PORT:-7450}

"$top/scripts/deps.sh" build
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSECSTAT_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null

secstatd=$build/agent/secstatd
secstat=$build/client/secstat
run=$(mktemp -d /tmp/secstat-demo.XXXXXX)
pids=()
stop() {
	[ "${KEEP:-0}" = 1 ] && return
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$run"
}
trap stop EXIT

start() { # start NAME URL ARGS...
	local name=$1 url=$2
	shift 2
	"$secstatd" --listen "$url" "$@" 2>"$run/$name.log" &
	pids+=($!)
	for _ in $(seq 100); do
		grep -q ready "$run/$name.log" && return
		sleep 0.05
	done
	echo "demo: agent $name did not start:" >&2
	cat "$run/$name.log" >&2
	exit 1
}

# This host, real sources (auto-detected: /proc/net/xfrm_stat, the kernel's
# XFRM netlink, strongSwan, libreswan, open-iscsi when present).
urls=("tcp://127.0.0.1:$base_port")
start local "${urls[0]}"
# Three simulated hosts under their own names.
for i in 1 2 3; do
	urls+=("tcp://127.0.0.1:$((base_port + i))")
	start "sim-$i" "${urls[$i]}" --provider sim --sim-seed "$i" --hostname "sim-host-$i"
done

servers=()
for u in "${urls[@]}"; do servers+=(-s "$u"); done
set -x
"$secstat" "${servers[@]}" info
"$secstat" "${servers[@]}" ipsec
"$secstat" -s "${urls[1]}" ikeext
"$secstat" "${servers[@]}" --dump ipsec | head -n 20
{ set +x; } 2>/dev/null
if [ "${KEEP:-0}" = 1 ]; then
	echo "agents left running: ${urls[*]} (logs in $run)"
fi
