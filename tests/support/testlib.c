/* Helpers shared by the cmocka tests. */
#define _GNU_SOURCE /* pipe2 */
#include "testlib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

const char *
test_fixture(const char *relpath)
{
	static char path[4096];
	const char *dir = getenv("SECSTAT_FIXTURES");

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures",
	         relpath);
	return path;
}

int
test_free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
		port = ntohs(sa.sin_port);
	}
	if (fd >= 0) {
		close(fd);
	}
	return port;
}

const char *
test_ipc_url(const char *name)
{
	static char dir[64];
	static char url[256];

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/secstat-test-XXXXXX");
		if (mkdtemp(dir) == NULL) {
			return NULL;
		}
	}
	snprintf(url, sizeof(url), "ipc://%s/%s.sock", dir, name);
	return url;
}

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int
test_agent_start(struct test_agent *a, const char *const argv[])
{
	const char *bin = getenv("SECSTATD");
	const char *args[64];
	int fds[2];
	size_t n = 0, len = 0;
	long deadline;

	memset(a, 0, sizeof(*a));
	args[n++] = bin != NULL ? bin : "secstatd";
	for (size_t i = 0; argv[i] != NULL && n < 63; i++) {
		args[n++] = argv[i];
	}
	args[n] = NULL;
	if (pipe2(fds, O_CLOEXEC) != 0) {
		return -1;
	}
	a->pid = fork();
	if (a->pid < 0) {
		return -1;
	}
	if (a->pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		execv(args[0], (char *const *)args);
		fprintf(stderr, "exec %s: %s\n", args[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	a->log_fd = fds[0];
	/* SECSTAT_TEST_SLOW scales the wait (agents under valgrind). */
	deadline = now_ms() + 10000L * (getenv("SECSTAT_TEST_SLOW") != NULL
	                                    ? atol(getenv("SECSTAT_TEST_SLOW"))
	                                    : 1);
	while (now_ms() < deadline && len + 1 < sizeof(a->log)) {
		struct pollfd p = {.fd = a->log_fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, 100) <= 0) {
			continue;
		}
		r = read(a->log_fd, a->log + len, sizeof(a->log) - 1 - len);
		if (r <= 0) {
			break;
		}
		len += (size_t)r;
		a->log[len] = '\0';
		if (strstr(a->log, " ready") != NULL) {
			return 0;
		}
	}
	fprintf(stderr, "secstatd did not become ready:\n%s\n", a->log);
	test_agent_stop(a, SIGKILL);
	return -1;
}

void
test_agent_freeze(struct test_agent *a)
{
	char path[64], buf[512];

	kill(a->pid, SIGSTOP);
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)a->pid);
	for (int i = 0; i < 2000; i++) { /* at most 2 s */
		FILE *f = fopen(path, "r");
		const char *st;

		if (f == NULL) {
			return;
		}
		buf[0] = '\0';
		if (fgets(buf, sizeof(buf), f) == NULL) {
			buf[0] = '\0';
		}
		fclose(f);
		/* "pid (comm) S ...": the state follows the last ')'. */
		st = strrchr(buf, ')');
		if (st != NULL && (st[2] == 'T' || st[2] == 't')) {
			return;
		}
		usleep(1000);
	}
}

int
test_agent_stop(struct test_agent *a, int sig)
{
	int status = -1;

	if (a->pid > 0) {
		kill(a->pid, sig);
		while (waitpid(a->pid, &status, 0) < 0 && errno == EINTR) {
		}
		a->pid = 0;
	}
	if (a->log_fd > 0) {
		close(a->log_fd);
		a->log_fd = 0;
	}
	return status;
}
