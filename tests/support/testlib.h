/* Helpers shared by the cmocka tests. */
#ifndef SECSTAT_TESTLIB_H
#define SECSTAT_TESTLIB_H

#include <stddef.h>

/* Path of a fixture file under tests/fixtures (static buffer). */
const char *test_fixture(const char *relpath);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int test_free_port(void);

/* A fresh ipc:// URL under a private temporary directory. */
const char *test_ipc_url(const char *name);

#endif

#include <sys/types.h>

/* A secstatd process started by a test. */
struct test_agent {
	pid_t pid;
	int log_fd;      /* read end of its stderr */
	char log[16384]; /* what it logged up to "ready" */
};

/*
 * Starts $SECSTATD with `argv` (NULL-terminated, without argv[0]) and
 * waits up to 10 s for its "ready" log line. Returns 0, or -1 with the
 * agent's log on stderr (the agent is killed).
 */
int test_agent_start(struct test_agent *a, const char *const argv[]);

/* Stops the agent (SIGSTOP) and returns once the kernel reports it
 * stopped: kill() only queues the signal, and a thread already running
 * may still answer a request sent right after it. */
void test_agent_freeze(struct test_agent *a);

/* Sends `sig` and waits for the exit; returns the wait status. */
int test_agent_stop(struct test_agent *a, int sig);
