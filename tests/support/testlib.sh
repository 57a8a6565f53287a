# testlib.sh: what the shell tests of the real binaries share. A test
# sources it once its own arguments and tools are checked:
#     . "$SECSTAT_SOURCE_DIR/tests/support/testlib.sh"
# Sourcing it makes the work directory and sets the EXIT trap; the test's
# last line is `finish`.
#
# Globals it sets:
#   work   a new directory under /tmp, removed at exit
#   pids   processes stopped at exit: start adds its agents, a test may add
#          its own
#   pid    the agent of the last start
#   fails  the checks failed so far
#   slow   the time scale, $SECSTAT_TEST_SLOW or 1 (valgrind_test.sh runs
#          the agents under memcheck with 5): every wait here is scaled
# Globals a test may set after sourcing:
#   keep_going=1   fail counts and carries on, finish reports the count;
#                  otherwise the first fail ends the test with status 1
#   strict_stop=1  an agent still running 5 s (x slow) after the SIGTERM
#                  sent at exit is a failure ("did not stop on SIGTERM")
#   fail_tail=FILE fail also shows the last 20 lines of FILE
#
# fail MSG...        "FAIL: MSG" on stderr, counted in fails; exits 1 unless
#                    keep_going=1
# say MSG...         "--- MSG", a section heading
# free_port          a TCP port free on 127.0.0.1 now
# start NAME ARGS... runs "$SECSTATD" ARGS in the background (stderr in
#                    $work/NAME.log, pid in $pid and pids) and waits up to
#                    10 s (x slow) for its " ready" line; when it does not
#                    come, shows the log, fails "agent NAME did not start"
#                    and returns 1
# start_cmd NAME CMD ARGS...  the same with another agent binary
# expect_status WANT CMD...   runs CMD (stdout in $work/out, stderr in
#                    $work/err); unless it exits WANT, shows both and fails
# expect WANT PATTERN CMD...  runs CMD (stdout and stderr in $work/out);
#                    unless it exits WANT and PATTERN (grep -E) is in its
#                    output, shows it and fails
# wait_log FILE PATTERN [SECONDS]  waits up to SECONDS (default 10, x slow)
#                    for PATTERN (grep -E) in FILE; returns 1 when it does
#                    not come (the caller fails with its own message)
# finish             "N failure(s)" and exit 1 when a check failed, else
#                    "NAME: all checks passed" (NAME: the script's, no .sh)
#
# The scripts run with set -u, some with set -e: everything here works
# under both.

test_name=$(basename "$0" .sh)
slow=${SECSTAT_TEST_SLOW:-1}
fails=0
pid=
pids=()
declare -A agent_names=()
work=$(mktemp -d "/tmp/secstat-$test_name.XXXXXX")

testlib_cleanup() {
	local rc=$? p i alive=
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	# Bounded: an agent that ignores SIGTERM must not hang the test.
	for ((i = 0; i < 50 * slow; i++)); do
		alive=
		for p in "${pids[@]}"; do
			kill -0 "$p" 2>/dev/null && alive="$alive $p"
		done
		[ -z "$alive" ] && break
		sleep 0.1
	done
	for p in $alive; do
		if [ "${strict_stop:-0}" = 1 ]; then
			echo "FAIL: agent $p${agent_names[$p]:+ (${agent_names[$p]})} did not stop on SIGTERM" >&2
			rc=1
		fi
		kill -9 "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$work"
	exit "$rc"
}
trap testlib_cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
	if [ -n "${fail_tail:-}" ] && [ -f "$fail_tail" ]; then
		tail -n 20 "$fail_tail" >&2
	fi
	[ "${keep_going:-0}" = 1 ] || exit 1
}

say() {
	echo "--- $*"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_cmd() {
	local name=$1 i
	shift
	"$@" 2>"$work/$name.log" &
	pid=$!
	pids+=("$pid")
	agent_names[$pid]=$name
	for ((i = 0; i < 200 * slow; i++)); do
		grep -qs ' ready' "$work/$name.log" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	cat "$work/$name.log" >&2
	fail "agent $name did not start"
	return 1
}

start() {
	start_cmd "$1" "$SECSTATD" "${@:2}"
}

expect_status() {
	local want=$1 got=0
	shift
	"$@" >"$work/out" 2>"$work/err" || got=$?
	[ "$got" = "$want" ] && return 0
	cat "$work/out" "$work/err" >&2
	fail "exit status $got, expected $want: $*"
}

expect() {
	local want=$1 pat=$2 got=0
	shift 2
	"$@" >"$work/out" 2>&1 || got=$?
	[ "$got" = "$want" ] && grep -Eq -- "$pat" "$work/out" && return 0
	cat "$work/out" >&2
	fail "exit $got (want $want), pattern '$pat': $*"
}

wait_log() {
	local file=$1 pat=$2 i
	for ((i = 0; i < ${3:-10} * 10 * slow; i++)); do
		grep -Eq -- "$pat" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

finish() {
	if [ "$fails" != 0 ]; then
		echo "$fails failure(s)"
		exit 1
	fi
	echo "$test_name: all checks passed"
}
