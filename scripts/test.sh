#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite:
# - a normal build (-Werror): unit, integration and fuzz-smoke tests;
# - an ASan+UBSan build: every test, including the lab tests against real
#   daemons and inside Debian's kernel under qemu, so the slow real-system
#   tests run once, with the sanitizers watching.
# Exit status 0 only when every test passed in both.
#   SECSTAT_SKIP_ASAN=1   run the normal build only (local iteration)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh" test || exit 1

status=0
run_suite() { # run_suite BUILD_DIR CTEST_ARGS CMAKE_ARGS...
	local dir=$1 ctest_args=$2
	shift 2
	echo "=== build $dir ($*)"
	cmake -S "$top" -B "$dir" -DSECSTAT_WERROR=ON "$@" >/dev/null &&
		cmake --build "$dir" -j"$(nproc)" >"$dir/build.log" 2>&1 || {
		tail -n 60 "$dir/build.log"
		echo "build failed: $dir"
		status=1
		return
	}
	echo "=== test $dir"
	# shellcheck disable=SC2086 # ctest_args is a list of words
	(cd "$dir" && ctest --output-on-failure -j2 --timeout 900 $ctest_args) || status=1
}

start=$(date +%s)
run_suite "$top/build" "-LE lab" -DCMAKE_BUILD_TYPE=Debug
if [ "${SECSTAT_SKIP_ASAN:-0}" != 1 ]; then
	run_suite "$top/build-asan" "" -DCMAKE_BUILD_TYPE=Debug -DSECSTAT_SANITIZE=ON
fi
echo "=== test.sh: $(($(date +%s) - start)) s, status $status"
exit $status
