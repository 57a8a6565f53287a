/* Running whack: the provider's probe/init/collect against a stand-in
 * `ipsec` script (tests/fixtures/whack/bin/ipsec) that answers, hangs,
 * floods, fails or is refused, and what the provider reports for each.
 * Every child must be reaped and every process of its group gone. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "stats_tree.h"
#include "whack.h"

/* What a probe names when it finds nothing (provider_ops.probe). */
static char what[128];

static char tmpdir[] = "/tmp/whack_run_test.XXXXXX";
static char ctl[100];
static char pidfile[256];

static const char *
fixture(const char *name)
{
	static char path[4][4096];
	static int next;
	const char *src = getenv("SECSTAT_SOURCE_DIR");
	char *p = path[next++ % 4];

	snprintf(p, sizeof(path[0]), "%s/tests/fixtures/whack/%s",
	         src != NULL ? src : ".", name);
	return p;
}

static int
setup(void **state)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (mkdtemp(tmpdir) == NULL) {
		return -1;
	}
	snprintf(ctl, sizeof(ctl), "%s/pluto.ctl", tmpdir);
	snprintf(pidfile, sizeof(pidfile), "%s/pids", tmpdir);
	/* A socket file standing for pluto's control socket: probe()
	 * only looks at it, the fake script checks it is passed on. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", ctl);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		return -1;
	}
	close(fd);
	setenv("WHACK_FAKE_PIDFILE", pidfile, 1);
	setenv("WHACK_FAKE_GLOBAL", fixture("globalstatus-5.x.txt"), 1);
	setenv("WHACK_FAKE_TRAFFIC", fixture("trafficstatus-4.10-lab.txt"), 1);
	setenv("WHACK_FAKE_STATES", fixture("showstates-4.10-lab.txt"), 1);
	return 0;
}

static int
teardown(void **state)
{
	char reg[300];

	unlink(ctl);
	unlink(pidfile);
	snprintf(reg, sizeof(reg), "%s/regular", tmpdir);
	unlink(reg);
	rmdir(tmpdir);
	return 0;
}

/* No child of ours is left, running or zombie. */
static void
assert_no_children(void)
{
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* Every pid the script recorded is gone within a second (a process that
 * outlived its parent is reaped by init, not by us: a zombie whose
 * parent is someone else counts as gone). */
static void
assert_pids_gone(void)
{
	FILE *f = fopen(pidfile, "r");
	long pid;
	int seen = 0;

	if (f == NULL) {
		return;
	}
	while (fscanf(f, "%ld", &pid) == 1) {
		bool gone = false;

		seen++;
		for (int i = 0; i < 100 && !gone; i++) {
			char path[64], st = '?';
			long ppid = 0;
			FILE *s;

			snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
			s = fopen(path, "r");
			if (s == NULL) {
				gone = true;
				break;
			}
			/* pid (comm) state ppid: comm has no ')' here. */
			if (fscanf(s, "%*d (%*[^)]) %c %ld", &st, &ppid) == 2 &&
			    st == 'Z' && ppid != (long)getpid()) {
				gone = true;
			}
			fclose(s);
			if (!gone) {
				nanosleep(
				    &(struct timespec){.tv_nsec = 10000000},
				    NULL);
			}
		}
		if (!gone) {
			fail_msg("process %ld outlived the kill", pid);
		}
	}
	fclose(f);
	unlink(pidfile);
	assert_true(seen > 0);
}

static struct agent_config
config(const char *bin, const char *ctlsock)
{
	struct agent_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.whack_path = (char *)bin;
	cfg.whack_ctl = (char *)ctlsock;
	return cfg;
}

/* collect() with WHACK_FAKE=mode; returns its result and the time it
 * took in ms. */
static int
collect(const char *bin, const char *mode, uint64_t *ms, void **records)
{
	struct agent_config cfg = config(bin, ctl);
	void *state = NULL;
	uint64_t t0;
	int rv;

	setenv("WHACK_FAKE", mode, 1);
	setenv("WHACK_FAKE_CTL", ctl, 1);
	assert_int_equal(whack_provider.init(&cfg, &state), 0);
	t0 = whack_now_ms();
	rv = whack_provider.collect(state, records);
	*ms = whack_now_ms() - t0;
	whack_provider.fini(state);
	return rv;
}

static void
test_probe(void **state)
{
	char reg[300];
	struct agent_config cfg;
	FILE *f;

	snprintf(reg, sizeof(reg), "%s/regular", tmpdir);
	f = fopen(reg, "w");
	assert_non_null(f);
	fclose(f);

	cfg = config(fixture("bin/ipsec"), ctl);
	assert_int_equal(whack_provider.probe(&cfg, what, sizeof(what)), 0);
	cfg = config(fixture("bin/whack"), ctl);
	assert_int_equal(whack_provider.probe(&cfg, what, sizeof(what)), 0);
	cfg = config(fixture("bin/missing"), ctl);
	assert_int_equal(whack_provider.probe(&cfg, what, sizeof(what)),
	                 -ENOENT);
	assert_string_equal(what, fixture("bin/missing"));
	cfg = config(fixture("bin/noexec"), ctl);
	assert_int_equal(whack_provider.probe(&cfg, what, sizeof(what)),
	                 -EACCES);
	cfg = config("secstat-no-such-command", ctl);
	assert_int_equal(whack_provider.probe(&cfg, what, sizeof(what)),
	                 -ENOENT);
	/* An `ipsec` without pluto's socket is strongSwan's, or pluto is
	 * not running: absent either way. */
	cfg = config(fixture("bin/ipsec"), reg);
	assert_int_equal(whack_provider.probe(&cfg, what, sizeof(what)),
	                 -ENOENT);
	cfg = config(fixture("bin/ipsec"), "/nonexistent/pluto.ctl");
	assert_int_equal(whack_provider.probe(&cfg, what, sizeof(what)),
	                 -ENOENT);
	/* The status names what is missing. */
	assert_string_equal(what, "/nonexistent/pluto.ctl");
	unlink(reg);
}

struct ok_case {
	const char *bin;
	size_t keys;
	size_t sas;
};

static const struct ok_case ok_cases[] = {
    {"bin/ipsec", 528, 1}, /* the wrapper: `ipsec whack --ctlsocket ..` */
    {"bin/whack", 528, 1}, /* the binary: `whack --ctlsocket ..` */
};

static void
test_collect_ok(void **state)
{
	for (size_t i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
		void *records = NULL;
		uint64_t ms;
		struct whack_records *r;
		struct stats_tree t;

		assert_int_equal(
		    collect(fixture(ok_cases[i].bin), "ok", &ms, &records), 0);
		r = records;
		assert_int_equal(r->global.n, ok_cases[i].keys);
		assert_int_equal(r->traffic.n, ok_cases[i].sas);
		assert_int_equal(r->states.n, 2);
		stats_tree_init(&t);
		whack_provider.contribute(r, &t);
		assert_int_equal(t.km_ip[KEY_MODULE_IKEV2][IP_V4]
		                     .total_successful_main_modes,
		                 8);
		stats_tree_release(&t);
		whack_provider.records_free(records);
		assert_no_children();
	}
}

struct fail_case {
	const char *mode;
	int rv;
	uint64_t max_ms; /* the collection must return within this */
	bool pids;       /* the script's processes must be gone */
};

static const struct fail_case fail_cases[] = {
    /* A hung pluto: killed at the deadline, group and all. */
    {"hang", -ETIMEDOUT, WHACK_TIMEOUT_MS + 1000, true},
    /* Stdout closed but the process lives on. */
    {"closeout", -ETIMEDOUT, WHACK_TIMEOUT_MS + 1000, true},
    /* 10 MiB: refused at the 4 MiB bound, not buffered. */
    {"flood", -EFBIG, WHACK_TIMEOUT_MS + 1000, true},
    {"fail", -EIO, 1000, false},
    /* The third command fails after two succeeded: nothing kept, nothing
     * leaked (ASan). */
    {"lastfails", -EIO, 1000, false},
    {"denied", -EACCES, 1000, false},
    {"notrunning", -ENOENT, 1000, false},
};

static void
test_collect_failures(void **state)
{
	for (size_t i = 0; i < sizeof(fail_cases) / sizeof(fail_cases[0]);
	     i++) {
		const struct fail_case *c = &fail_cases[i];
		void *records = NULL;
		uint64_t ms;
		int rv = collect(fixture("bin/ipsec"), c->mode, &ms, &records);

		if (rv != c->rv || ms > c->max_ms) {
			fail_msg("%s: rv %d (want %d) after %llu ms (max %llu)",
			         c->mode, rv, c->rv, (unsigned long long)ms,
			         (unsigned long long)c->max_ms);
		}
		assert_null(records);
		assert_no_children();
		if (c->pids) {
			assert_pids_gone();
		}
		unlink(pidfile);
	}
}

static void
test_run_direct(void **state)
{
	char *const missing[] = {(char *)fixture("bin/missing"), NULL};
	char *const noexec[] = {(char *)fixture("bin/noexec"), NULL};
	char *const wrong[] = {(char *)fixture("bin/ipsec"), "nope", NULL};
	char *const env[] = {"/usr/bin/env", NULL};
	struct whack_output o;
	uint64_t deadline = whack_now_ms() + WHACK_TIMEOUT_MS;

	assert_int_equal(whack_run(missing, deadline, 1024, &o), -ENOENT);
	assert_null(o.out);
	assert_int_equal(whack_run(noexec, deadline, 1024, &o), -EACCES);
	/* The script refuses a wrong argv (exit 64): a non-zero exit. */
	unsetenv("WHACK_FAKE_CTL");
	assert_int_equal(whack_run(wrong, deadline, 1024, &o), -EIO);
	/* Output exactly at the bound is accepted, one byte more is not;
	 * `env` prints the environment, which we size first. */
	assert_int_equal(whack_run(env, deadline, WHACK_OUTPUT_MAX, &o), 0);
	{
		size_t n = o.len;

		assert_true(n > 0);
		assert_int_equal(o.out[n], '\0');
		whack_output_free(&o);
		assert_int_equal(whack_run(env, deadline, n, &o), 0);
		assert_int_equal(o.len, n);
		whack_output_free(&o);
		assert_int_equal(whack_run(env, deadline, n - 1, &o), -EFBIG);
	}
	/* A deadline already past: killed before anything is read. */
	assert_int_equal(whack_run(env, whack_now_ms(), 1024, &o), -ETIMEDOUT);
	assert_no_children();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_probe),
	    cmocka_unit_test(test_collect_ok),
	    cmocka_unit_test(test_collect_failures),
	    cmocka_unit_test(test_run_direct),
	};

	/* SIGCHLD at its default: the provider reaps its own children. */
	signal(SIGCHLD, SIG_DFL);
	return cmocka_run_group_tests(tests, setup, teardown);
}
