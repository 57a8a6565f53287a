/*
 * Dial failures: how failed background attempts are named, and that the
 * counters are read from nng's own statistics for real dialers (nothing
 * listening, a peer of the wrong protocol, a working REP peer).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include <secstat/winerror.h>

#include "dial_failures.h"

static void
test_status_names_the_new_failures(void **state)
{
	struct dial_failures zero = {0}, f = {0};

	(void)state;
	assert_int_equal(dial_failures_new(&zero, &zero), 0);

	f.refused = 3;
	assert_int_equal(dial_failures_new(&zero, &f), 3);
	assert_int_equal(dial_failures_status(&zero, &f, false),
	                 RPC_E_SERVER_DIED_DNE);
	assert_int_equal(dial_failures_status(&zero, &f, true),
	                 RPC_E_SERVER_DIED_DNE);

	/* This side refused the agent's certificate. */
	f = zero;
	f.auth = 1;
	assert_int_equal(dial_failures_status(&zero, &f, true),
	                 RPC_E_ACCESS_DENIED);
	/* The agent ended the handshake: only TLS makes that a denial. */
	f = zero;
	f.other = 1;
	assert_int_equal(dial_failures_status(&zero, &f, true),
	                 RPC_E_ACCESS_DENIED);
	assert_int_equal(dial_failures_status(&zero, &f, false),
	                 RPC_E_SERVER_DIED_DNE);
	/* Another SP protocol, or an SP header not understood. */
	f = zero;
	f.reject = 2;
	assert_int_equal(dial_failures_status(&zero, &f, false),
	                 RPC_E_VERSION_MISMATCH);
	f = zero;
	f.proto = 1;
	assert_int_equal(dial_failures_status(&zero, &f, true),
	                 RPC_E_VERSION_MISMATCH);

	/* Only what is new since `before` counts: old refusals do not make
	 * a new handshake failure look like one. */
	struct dial_failures before = {.refused = 5, .auth = 1};
	f = before;
	f.refused = 9;
	assert_int_equal(dial_failures_new(&before, &f), 4);
	assert_int_equal(dial_failures_status(&before, &f, true),
	                 RPC_E_SERVER_DIED_DNE);
	/* Counters never go back; a smaller value is no failure. */
	f.auth = 0;
	assert_int_equal(dial_failures_new(&before, &f), 4);
}

/* A synchronous dial's error, named by the same rules. */
static void
test_dial_error_status(void **state)
{
	(void)state;
	assert_int_equal(dial_error_status(NNG_ECONNSHUT, true),
	                 RPC_E_ACCESS_DENIED);
	assert_int_equal(dial_error_status(NNG_ECONNSHUT, false),
	                 RPC_E_SERVER_DIED_DNE);
	assert_int_equal(dial_error_status(NNG_ECRYPTO, true),
	                 RPC_E_ACCESS_DENIED);
	assert_int_equal(dial_error_status(NNG_EPEERAUTH, true),
	                 RPC_E_ACCESS_DENIED);
	assert_int_equal(dial_error_status(NNG_ECONNREFUSED, true),
	                 RPC_E_SERVER_DIED_DNE);
	assert_int_equal(dial_error_status(NNG_EPROTO, false),
	                 RPC_E_VERSION_MISMATCH);
}

/* Dials `url` from a REQ socket in the background and returns the
 * counters once any failure is counted or after 5 s. */
static struct dial_failures
failures_of(const char *url, nng_socket *sock, nng_dialer *d)
{
	struct dial_failures f = {0};

	assert_int_equal(nng_req0_open(sock), 0);
	assert_int_equal(nng_dialer_create(d, *sock, url), 0);
	assert_int_equal(nng_socket_set_ms(*sock, NNG_OPT_RECONNMINT, 10), 0);
	assert_int_equal(nng_dialer_start(*d, NNG_FLAG_NONBLOCK), 0);
	for (int i = 0; i < 500; i++) {
		nng_stat *snap;

		assert_int_equal(nng_stats_get(&snap), 0);
		assert_true(dial_failures_read(snap, *d, &f));
		nng_stats_free(snap);
		if (dial_failures_new(&(struct dial_failures){0}, &f) > 0) {
			break;
		}
		nng_msleep(10);
	}
	return f;
}

static void
test_refused(void **state)
{
	struct dial_failures zero = {0}, f;
	nng_socket sock;
	nng_dialer d;
	char url[128];

	(void)state;
	snprintf(url, sizeof(url), "ipc:///tmp/secstat-dialfail-%d.sock",
	         (int)getpid());
	f = failures_of(url, &sock, &d);
	assert_true(f.refused > 0);
	assert_int_equal(dial_failures_status(&zero, &f, false),
	                 RPC_E_SERVER_DIED_DNE);
	nng_close(sock);
}

static void
test_wrong_protocol(void **state)
{
	struct dial_failures zero = {0}, f;
	nng_socket pub, sock;
	nng_dialer d;
	char url[128];

	(void)state;
	snprintf(url, sizeof(url), "ipc:///tmp/secstat-dialpub-%d.sock",
	         (int)getpid());
	assert_int_equal(nng_pub0_open(&pub), 0);
	assert_int_equal(nng_listen(pub, url, NULL, 0), 0);
	f = failures_of(url, &sock, &d);
	assert_true(f.reject > 0);
	assert_int_equal(dial_failures_status(&zero, &f, false),
	                 RPC_E_VERSION_MISMATCH);
	nng_close(sock);
	nng_close(pub);
}

static void
test_working_peer_counts_nothing(void **state)
{
	struct dial_failures f;
	nng_socket rep, sock;
	nng_dialer d;
	nng_stat *snap;
	char url[128];

	(void)state;
	snprintf(url, sizeof(url), "ipc:///tmp/secstat-dialrep-%d.sock",
	         (int)getpid());
	assert_int_equal(nng_rep0_open(&rep), 0);
	assert_int_equal(nng_listen(rep, url, NULL, 0), 0);
	assert_int_equal(nng_req0_open(&sock), 0);
	assert_int_equal(nng_dialer_create(&d, sock, url), 0);
	assert_int_equal(nng_dialer_start(d, 0), 0);
	assert_int_equal(nng_stats_get(&snap), 0);
	assert_true(dial_failures_read(snap, d, &f));
	assert_int_equal(dial_failures_new(&(struct dial_failures){0}, &f), 0);
	nng_stats_free(snap);

	/* A dialer the snapshot does not hold reads as none. */
	nng_close(sock);
	assert_int_equal(nng_stats_get(&snap), 0);
	assert_false(dial_failures_read(snap, d, &f));
	assert_int_equal(dial_failures_new(&(struct dial_failures){0}, &f), 0);
	nng_stats_free(snap);
	nng_close(rep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status_names_the_new_failures),
	    cmocka_unit_test(test_dial_error_status),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_wrong_protocol),
	    cmocka_unit_test(test_working_peer_counts_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
