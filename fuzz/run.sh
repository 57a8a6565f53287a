#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for
# SECONDS seconds, starting from the seed corpus in fuzz/corpus/<target>/.
#
#   fuzz/run.sh SECONDS [TARGET...]     default: every target
#
# New inputs go to a scratch corpus under the build directory, never into
# the repository; a crash leaves its input there as crash-* and the run
# fails. Reproduce one with: $SECSTAT_FUZZ_BUILD/fuzz/fuzz_<target> FILE.
# Environment: SECSTAT_FUZZ_BUILD (default <repo>/build-fuzz).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
build=${SECSTAT_FUZZ_BUILD:-$top/build-fuzz}
all=(request reply vici xfrm procfs iscsi_nl iscsi_sysfs whack config acl)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
mkdir -p "$build"
if ! { CC=clang cmake -S "$top" -B "$build" -DSECSTAT_FUZZ=ON \
	-DSECSTAT_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug \
	-DCMAKE_C_FLAGS="$flags" \
	-DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
	>"$build/configure.log" 2>&1 &&
	cmake --build "$build" -j"$(nproc)" --target fuzz_all \
		>"$build/build.log" 2>&1; }; then
	tail -n 40 "$build/configure.log" "$build/build.log"
	echo "fuzz: build failed"
	exit 1
fi

export SECSTAT_FIXTURES=$top/tests/fixtures
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for t in "${targets[@]}"; do
	bin=$build/fuzz/fuzz_$t
	work=$build/fuzz-corpus/$t
	out=$build/fuzz-out/$t
	mkdir -p "$work" "$out"
	seeds=$top/fuzz/corpus/$t
	[ -d "$seeds" ] || seeds=
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$out/" "$work" $seeds \
		>"$out/log" 2>&1; then
		echo "fuzz_$t: ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$out/log" | grep -o '[0-9]*$') runs in ${secs}s)"
	else
		echo "fuzz_$t: FAILED (input and log in $out)"
		grep -m1 -A30 'ERROR\|SUMMARY\|deadly\|==ERROR' "$out/log" | head -40
		status=1
	fi
done
exit $status
