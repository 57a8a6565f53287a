#!/bin/sh
# The secstat benchmark: installs what it needs (Debian packages), builds
# secstatd and the benchmark tools in Release, runs every benchmark of
# docs/performance.md and writes the results.
#
#   bench/run.sh [--quick] [--update-docs] [--runs N] [--duration S]
#                [--fleet 10,100,1000] [--only rpc,fleet,rss,profile]
#
# Results: $BUILD_DIR/bench-results/{results.md,results.json,*.png}
# (BUILD_DIR defaults to build-bench in the source tree). --update-docs
# also rewrites the measured blocks of docs/performance.md and
# docs/perf/*.png. Every option after the script's own is passed to
# bench/bench.py (--help lists them). Not part of the test suite.
set -eu

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build-bench}

# Build: the project's own dependencies plus the gRPC C++ baseline's,
# gnuplot for the charts, openssl for the throw-away TLS certificate,
# valgrind and linux-perf for the profiles.
pkgs="cmake make gcc g++ pkg-config python3 openssl
libnng-dev libprotobuf-c-dev protobuf-c-compiler libinih-dev libmnl-dev
libmbedtls-dev
libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
gnuplot-nox valgrind linux-perf"
missing=
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	echo "installing:$missing" >&2
	if [ "$(id -u)" -eq 0 ]; then
		sudo=
	else
		sudo=sudo
	fi
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
fi

# Build output goes to stderr: stdout carries only the summary lines.
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSECSTAT_BENCH=ON \
    -DSECSTAT_TESTS=OFF >&2
cmake --build "$build" -j"$(nproc)" --target secstatd secstat-bench-load \
    secstat-bench-echo secstat-bench-fanout secstat-bench-fleet \
    secstat-bench-sub \
    secstat-bench-grpc-server \
    secstat-bench-grpc-load >&2

exec python3 "$src/bench/bench.py" --build-dir "$build" \
    --source-dir "$src" --out "$build/bench-results" "$@"
