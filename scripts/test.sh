#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite twice:
# a normal build and an ASan+UBSan build. Exit status 0 only when every
# test passed in both.
#   SECSTAT_SKIP_ASAN=1   run the normal build only (local iteration)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh" test || exit 1

status=0
run_suite() { # run_suite BUILD_DIR CMAKE_ARGS...
	local dir=$1
	shift
	echo "=== build $dir ($*)"
	cmake -S "$top" -B "$dir" -DSECSTAT_WERROR=ON "$@" >/dev/null &&
		cmake --build "$dir" -j"$(nproc)" >"$dir/build.log" 2>&1 || {
		tail -n 60 "$dir/build.log"
		echo "build failed: $dir"
		status=1
		return
	}
	echo "=== test $dir"
	(cd "$dir" && ctest --output-on-failure -j2 --timeout 600) || status=1
}

run_suite "$top/build" -DCMAKE_BUILD_TYPE=Debug
if [ "${SECSTAT_SKIP_ASAN:-0}" != 1 ]; then
	run_suite "$top/build-asan" -DCMAKE_BUILD_TYPE=Debug -DSECSTAT_SANITIZE=ON
fi
exit $status
