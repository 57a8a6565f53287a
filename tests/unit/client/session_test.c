/*
 * libsecstat sessions against an in-process fake agent: every status a
 * call can end with, timing bounds of the failure cases, concurrency and
 * reconnection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include <secstat/secstat.h>

#include "fake_agent.h"
#include "testlib.h"

#define TIMEOUT_MS 400
#define SLACK_MS   1000

struct fixture {
	char url[256];
	struct fake_agent *agent;
	secstat_session *s;
};

static int
setup(void **state)
{
	static unsigned n;
	struct fixture *f = calloc(1, sizeof(*f));
	struct secstat_session_options o;
	char name[32];

	snprintf(name, sizeof(name), "session%u", n++);
	snprintf(f->url, sizeof(f->url), "%s", test_ipc_url(name));
	f->agent = fake_agent_start(f->url, FAKE_ECHO);
	assert_non_null(f->agent);
	secstat_session_options_init(&o);
	o.timeout_ms = TIMEOUT_MS;
	assert_int_equal(secstat_session_open(&f->s, f->url, &o),
	                 ERROR_SUCCESS);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	secstat_session_close(f->s);
	fake_agent_stop(f->agent);
	free(f);
	return 0;
}

/* One behaviour, the status and reply presence it must produce. */
static const struct {
	enum fake_behaviour behaviour;
	uint32_t agent_status;
	const char *method;
	uint32_t want;
	bool want_reply;
} cases[] = {
    {FAKE_ECHO, 0, SECSTAT_METHOD_IPSEC_GET_STATISTICS1, ERROR_SUCCESS, true},
    {FAKE_ECHO, 0, SECSTAT_METHOD_IKEEXT_GET_STATISTICS1, ERROR_SUCCESS, true},
    {FAKE_ECHO, 0, SECSTAT_METHOD_GET_HOST_INFO, ERROR_SUCCESS, true},
    {FAKE_WRONG_ID, 0, SECSTAT_METHOD_IPSEC_GET_STATISTICS1, RPC_E_INVALID_DATA,
     false},
    {FAKE_WRONG_TYPE, 0, SECSTAT_METHOD_IPSEC_GET_STATISTICS1,
     RPC_E_INVALID_DATA, false},
    {FAKE_WRONG_TYPE, 0, SECSTAT_METHOD_IKEEXT_GET_STATISTICS0,
     RPC_E_INVALID_DATA, false},
    {FAKE_NO_STATUS, 0, SECSTAT_METHOD_IPSEC_GET_STATISTICS1,
     RPC_E_INVALID_DATA, false},
    {FAKE_GARBAGE, 0, SECSTAT_METHOD_IPSEC_GET_STATISTICS1,
     RPC_E_CLIENT_CANTUNMARSHAL_DATA, false},
    {FAKE_STATUS, FWP_E_PROVIDER_NOT_FOUND,
     SECSTAT_METHOD_IPSEC_GET_STATISTICS1, FWP_E_PROVIDER_NOT_FOUND, true},
    {FAKE_STATUS, FWP_E_IKEEXT_NOT_RUNNING,
     SECSTAT_METHOD_IKEEXT_GET_STATISTICS1, FWP_E_IKEEXT_NOT_RUNNING, true},
    {FAKE_STATUS, ERROR_ACCESS_DENIED, SECSTAT_METHOD_ISCSI_GET_STATISTICS,
     ERROR_ACCESS_DENIED, true},
    {FAKE_STATUS, FWP_E_NOT_FOUND, "NoSuchMethod", FWP_E_NOT_FOUND, true},
    {FAKE_STALE, 0, SECSTAT_METHOD_IPSEC_GET_STATISTICS1, FWP_E_TIMEOUT, true},
    /* A method this library does not know: any result is accepted. */
    {FAKE_ECHO, 0, "FutureMethod", ERROR_SUCCESS, true},
};

static void
test_statuses(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Secstat__V1__Reply *r = (void *)1;
		uint32_t st;

		fake_agent_set(f->agent, cases[i].behaviour,
		               cases[i].agent_status);
		st = secstat_session_call(f->s, cases[i].method, &r);
		if (st != cases[i].want) {
			fail_msg("case %zu: status 0x%08x, want 0x%08x", i, st,
			         cases[i].want);
		}
		assert_int_equal(r != NULL, cases[i].want_reply);
		if (r != NULL) {
			assert_int_equal(r->status, st);
			assert_string_equal(r->host->hostname, "fake");
		}
		secstat_reply_free(r);
	}
}

static void
test_echo_contents(void **state)
{
	struct fixture *f = *state;
	Secstat__V1__Reply *r;

	assert_int_equal(secstat_ipsec_get_statistics1(f->s, &r),
	                 ERROR_SUCCESS);
	assert_int_equal(r->result_case, SECSTAT__V1__REPLY__RESULT_IPSEC);
	assert_true(
	    r->ipsec->statistics->aggregate_sa_statistics->has_active_sas);
	assert_int_equal(
	    r->ipsec->statistics->aggregate_sa_statistics->active_sas,
	    FAKE_ACTIVE_SAS);
	/* Absent stays absent. */
	assert_false(r->ipsec->statistics->aggregate_sa_statistics
	                 ->has_pending_sa_negotiations);
	assert_null(r->ipsec->statistics->esp_drop_packet_statistics);
	secstat_reply_free(r);
	/* The request carries the method and the deadline. */
	assert_string_equal(fake_agent_last_method(f->agent),
	                    SECSTAT_METHOD_IPSEC_GET_STATISTICS1);
	assert_true(fake_agent_last_deadline(f->agent) > 0);
	assert_true(fake_agent_last_deadline(f->agent) <= TIMEOUT_MS);
}

static void
test_wrappers(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint32_t (*fn)(secstat_session *, Secstat__V1__Reply **);
		const char *method;
	} w[] = {
	    {secstat_ipsec_get_statistics0,
	     SECSTAT_METHOD_IPSEC_GET_STATISTICS0},
	    {secstat_ipsec_get_statistics1,
	     SECSTAT_METHOD_IPSEC_GET_STATISTICS1},
	    {secstat_ikeext_get_statistics0,
	     SECSTAT_METHOD_IKEEXT_GET_STATISTICS0},
	    {secstat_ikeext_get_statistics1,
	     SECSTAT_METHOD_IKEEXT_GET_STATISTICS1},
	    {secstat_iscsi_get_statistics, SECSTAT_METHOD_ISCSI_GET_STATISTICS},
	    {secstat_get_host_info, SECSTAT_METHOD_GET_HOST_INFO},
	    {secstat_get_capabilities, SECSTAT_METHOD_GET_CAPABILITIES},
	};

	fake_agent_set(f->agent, FAKE_STATUS, FWP_E_NOT_FOUND);
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		Secstat__V1__Reply *r;
		assert_int_equal(w[i].fn(f->s, &r), FWP_E_NOT_FOUND);
		assert_string_equal(fake_agent_last_method(f->agent),
		                    w[i].method);
		secstat_reply_free(r);
	}
}

static void
test_timeout(void **state)
{
	struct fixture *f = *state;
	Secstat__V1__Reply *r;
	nng_time t0;
	nng_duration took;

	fake_agent_set(f->agent, FAKE_SILENT, 0);
	t0 = nng_clock();
	assert_int_equal(secstat_session_call(
	                     f->s, SECSTAT_METHOD_IPSEC_GET_STATISTICS1, &r),
	                 RPC_E_TIMEOUT);
	took = (nng_duration)(nng_clock() - t0);
	assert_null(r);
	assert_true(took >= TIMEOUT_MS - 10);
	assert_true(took <= TIMEOUT_MS + SLACK_MS);
	/* No resend: the agent saw the request once. */
	assert_int_equal(fake_agent_requests(f->agent), 1);
	/* The session is still usable. */
	fake_agent_set(f->agent, FAKE_ECHO, 0);
	assert_int_equal(secstat_ipsec_get_statistics1(f->s, &r),
	                 ERROR_SUCCESS);
	secstat_reply_free(r);
}

static void
test_disconnect(void **state)
{
	struct fixture *f = *state;
	struct secstat_session_options o;
	secstat_session *s;
	Secstat__V1__Reply *r;
	nng_time t0;

	/* A long timeout: the loss must be reported well before it. */
	secstat_session_options_init(&o);
	o.timeout_ms = 10000;
	assert_int_equal(secstat_session_open(&s, f->url, &o), ERROR_SUCCESS);
	fake_agent_set(f->agent, FAKE_CLOSE, 0);
	t0 = nng_clock();
	assert_int_equal(
	    secstat_session_call(s, SECSTAT_METHOD_IPSEC_GET_STATISTICS1, &r),
	    RPC_E_DISCONNECTED);
	assert_null(r);
	assert_true(nng_clock() - t0 < 2000);
	assert_true(fake_agent_closed(f->agent));
	secstat_session_close(s);
}

/* nng refuses a message over the receive limit by dropping the
 * connection, so the call sees the connection go. */
static void
test_oversized_reply(void **state)
{
	struct fixture *f = *state;
	struct secstat_session_options o;
	secstat_session *s = NULL;
	Secstat__V1__Reply *r;
	nng_time t0;

	/* Building and sending 16 MiB can take longer than the fixture's
	 * short timeout on a loaded machine: a timeout long enough that only
	 * the dropped connection can end the call. */
	secstat_session_options_init(&o);
	o.timeout_ms = 20000;
	assert_int_equal(secstat_session_open(&s, f->url, &o), ERROR_SUCCESS);
	fake_agent_set(f->agent, FAKE_HUGE, 0);
	t0 = nng_clock();
	assert_int_equal(secstat_ipsec_get_statistics1(s, &r),
	                 RPC_E_DISCONNECTED);
	assert_null(r);
	assert_true(nng_clock() - t0 < 20000);
	secstat_session_close(s);
}

static void
test_reconnect(void **state)
{
	struct fixture *f = *state;
	Secstat__V1__Reply *r = NULL;
	uint32_t st;
	int tries;

	fake_agent_set(f->agent, FAKE_CLOSE, 0);
	assert_int_equal(secstat_ipsec_get_statistics1(f->s, &r),
	                 RPC_E_DISCONNECTED);
	fake_agent_stop(f->agent);
	f->agent = fake_agent_start(f->url, FAKE_ECHO);
	assert_non_null(f->agent);
	/* The session redials on its own (backoff from 100 ms). */
	for (tries = 0; tries < 50; tries++) {
		st = secstat_ipsec_get_statistics1(f->s, &r);
		if (st == ERROR_SUCCESS) {
			break;
		}
		secstat_reply_free(r);
		nng_msleep(100);
	}
	assert_int_equal(st, ERROR_SUCCESS);
	secstat_reply_free(r);
}

static void
test_no_server(void **state)
{
	static const char *urls[] = {
	    "ipc:///nonexistent/secstat/agent.sock",
	    NULL, /* tcp, filled below */
	};
	char tcp[64];
	secstat_session *s = (void *)1;
	struct secstat_session_options o;

	(void)state;
	snprintf(tcp, sizeof(tcp), "tcp://127.0.0.1:%d", test_free_port());
	urls[1] = tcp;
	secstat_session_options_init(&o);
	o.timeout_ms = 3000;
	for (size_t i = 0; i < 2; i++) {
		nng_time t0 = nng_clock();
		assert_int_equal(secstat_session_open(&s, urls[i], &o),
		                 RPC_E_SERVER_DIED_DNE);
		assert_null(s);
		/* At once, not after the timeout. */
		assert_true(nng_clock() - t0 < 500);
	}
}

/* A peer that accepts TCP connections (the kernel does, from the listen
 * backlog) but never speaks: the first dial must give up at
 * connect_timeout_ms instead of waiting forever. */
static void
test_connect_timeout(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct secstat_session_options o;
	secstat_session *s;
	char url[64];
	nng_time t0;
	nng_duration took;

	(void)state;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", ntohs(sa.sin_port));
	secstat_session_options_init(&o);
	o.timeout_ms = 5000;
	o.connect_timeout_ms = 300;
	t0 = nng_clock();
	assert_int_equal(secstat_session_open(&s, url, &o),
	                 RPC_E_SERVER_DIED_DNE);
	took = (nng_duration)(nng_clock() - t0);
	assert_null(s);
	assert_true(took >= 290);
	assert_true(took <= 300 + SLACK_MS);
	close(fd);
}

static void
test_nonblock(void **state)
{
	struct secstat_session_options o;
	secstat_session *s;
	Secstat__V1__Reply *r;
	char url[64];

	(void)state;
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", test_free_port());
	secstat_session_options_init(&o);
	o.timeout_ms = 300;
	o.flags = SECSTAT_SESSION_NONBLOCK;
	assert_int_equal(secstat_session_open(&s, url, &o), ERROR_SUCCESS);
	/* Never connected: the request never left. */
	assert_int_equal(secstat_ipsec_get_statistics1(s, &r),
	                 RPC_E_SERVER_DIED_DNE);
	assert_null(r);
	secstat_session_close(s);
}

static void
test_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct secstat_session_options o;
	unsigned char big[sizeof(o) + 8];
	secstat_session *s;
	Secstat__V1__Reply *r;

	assert_int_equal(secstat_session_open(NULL, f->url, NULL),
	                 ERROR_INVALID_PARAMETER);
	assert_int_equal(secstat_session_call(f->s, "x", NULL),
	                 ERROR_INVALID_PARAMETER);
	assert_int_equal(secstat_session_call(NULL, "x", &r),
	                 ERROR_INVALID_PARAMETER);
	assert_null(r);
	assert_int_equal(secstat_session_call(f->s, NULL, &r),
	                 ERROR_INVALID_PARAMETER);
	assert_int_equal(secstat_session_call(f->s, "", &r),
	                 ERROR_INVALID_PARAMETER);

	/* Options: too small, unknown flag, unknown non-zero tail. */
	secstat_session_options_init(&o);
	o.size = 2;
	assert_int_equal(secstat_session_open(&s, f->url, &o),
	                 ERROR_INVALID_PARAMETER);
	assert_null(s);
	secstat_session_options_init(&o);
	o.flags = 0x80;
	assert_int_equal(secstat_session_open(&s, f->url, &o),
	                 ERROR_INVALID_PARAMETER);
	memset(big, 0, sizeof(big));
	secstat_session_options_init(&o);
	o.size = sizeof(big);
	memcpy(big, &o, sizeof(o));
	assert_int_equal(secstat_session_open(
	                     &s, f->url, (struct secstat_session_options *)big),
	                 ERROR_SUCCESS);
	secstat_session_close(s);
	big[sizeof(o) + 3] = 1;
	assert_int_equal(secstat_session_open(
	                     &s, f->url, (struct secstat_session_options *)big),
	                 ERROR_INVALID_PARAMETER);
	/* An old caller that knew only size and timeout_ms. */
	o.size = offsetof(struct secstat_session_options, connect_timeout_ms);
	assert_int_equal(secstat_session_open(&s, f->url, &o), ERROR_SUCCESS);
	secstat_session_close(s);

	/* URLs. */
	assert_int_equal(secstat_session_open(&s, "bogus://x", NULL),
	                 RPC_E_INVALID_PARAMETER);
	assert_int_equal(secstat_session_open(&s, "tcp://", NULL),
	                 RPC_E_INVALID_PARAMETER);
	secstat_session_close(NULL);
	secstat_reply_free(NULL);
	assert_string_equal(secstat_session_url(f->s), f->url);
}

static void
test_default_url(void **state)
{
	struct fixture *f = *state;
	secstat_session *s;

	unsetenv(SECSTAT_ENV_SERVER);
	assert_string_equal(secstat_default_url(), SECSTAT_DEFAULT_URL);
	setenv(SECSTAT_ENV_SERVER, "", 1);
	assert_string_equal(secstat_default_url(), SECSTAT_DEFAULT_URL);
	setenv(SECSTAT_ENV_SERVER, f->url, 1);
	assert_string_equal(secstat_default_url(), f->url);
	assert_int_equal(secstat_session_open(&s, NULL, NULL), ERROR_SUCCESS);
	assert_string_equal(secstat_session_url(s), f->url);
	secstat_session_close(s);
	unsetenv(SECSTAT_ENV_SERVER);
}

#define THREADS 4
#define CALLS   25

struct worker {
	secstat_session *s;
	unsigned ok;
};

static void
worker(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < CALLS; i++) {
		Secstat__V1__Reply *r;
		const char *m = i % 2 ? SECSTAT_METHOD_IPSEC_GET_STATISTICS1
		                      : SECSTAT_METHOD_IKEEXT_GET_STATISTICS1;
		if (secstat_session_call(w->s, m, &r) == ERROR_SUCCESS &&
		    r->result_case ==
		        (i % 2 ? SECSTAT__V1__REPLY__RESULT_IPSEC
		               : SECSTAT__V1__REPLY__RESULT_IKEEXT)) {
			w->ok++;
		}
		secstat_reply_free(r);
	}
}

static void
test_concurrent(void **state)
{
	struct fixture *f = *state;
	struct worker w[THREADS];
	nng_thread *t[THREADS];

	for (int i = 0; i < THREADS; i++) {
		w[i].s = f->s;
		w[i].ok = 0;
		assert_int_equal(nng_thread_create(&t[i], worker, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		nng_thread_destroy(t[i]);
		assert_int_equal(w[i].ok, CALLS);
	}
	assert_int_equal(fake_agent_requests(f->agent), THREADS * CALLS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_statuses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_echo_contents, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_wrappers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_disconnect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversized_reply, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
	    cmocka_unit_test(test_no_server),
	    cmocka_unit_test(test_connect_timeout),
	    cmocka_unit_test(test_nonblock),
	    cmocka_unit_test_setup_teardown(test_bad_arguments, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_default_url, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
