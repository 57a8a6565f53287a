/*
 * The ipc watchdog's probe: a REP listener that answers passes; nothing
 * at the path, a socket that accepts and never answers, and a peer that
 * answers with another protocol's header fail; a URL the probe cannot
 * ask about is left alone.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>
#include <nng/protocol/reqrep0/rep.h>

#include "ipc_probe.h"
#include "testlib.h"

#define TIMEOUT_MS 300

/* Answers one request on `sock` with its own bytes. */
static void *
answer_once(void *arg)
{
	nng_socket *sock = arg;
	nng_msg *msg;

	if (nng_recvmsg(*sock, &msg, 0) == 0 &&
	    nng_sendmsg(*sock, msg, 0) != 0) {
		nng_msg_free(msg);
	}
	return NULL;
}

static void
test_answering_listener(void **state)
{
	const char *url = test_ipc_url("probe-rep");
	nng_socket rep;
	pthread_t t;

	(void)state;
	assert_int_equal(nng_rep0_open(&rep), 0);
	assert_int_equal(nng_socket_set_ms(rep, NNG_OPT_RECVTIMEO, 5000), 0);
	assert_int_equal(nng_listen(rep, url, NULL, 0), 0);
	assert_int_equal(pthread_create(&t, NULL, answer_once, &rep), 0);
	assert_true(ipc_probe(url, 5000));
	pthread_join(t, NULL);
	nng_close(rep);
}

static void
test_nothing_there(void **state)
{
	(void)state;
	assert_false(ipc_probe(test_ipc_url("probe-none"), TIMEOUT_MS));
}

/* A listening socket nobody accepts on: the kernel completes the
 * connection, no answer ever comes. */
static void
test_silent_listener(void **state)
{
	const char *url = test_ipc_url("probe-silent");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	(void)state;
	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s",
	         url + strlen("ipc://"));
	unlink(sa.sun_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_false(ipc_probe(url, TIMEOUT_MS));
	close(fd);
	unlink(sa.sun_path);
}

/* A PUB socket accepts and sends its header, but it is not REP and does
 * not answer. */
static void
test_other_protocol(void **state)
{
	const char *url = test_ipc_url("probe-pub");
	nng_socket pub;

	(void)state;
	assert_int_equal(nng_pub0_open(&pub), 0);
	assert_int_equal(nng_listen(pub, url, NULL, 0), 0);
	assert_false(ipc_probe(url, TIMEOUT_MS));
	nng_close(pub);
}

static void
test_not_askable(void **state)
{
	char long_url[200];

	(void)state;
	assert_true(ipc_probe("tcp://127.0.0.1:1", TIMEOUT_MS));
	snprintf(long_url, sizeof(long_url), "ipc:///tmp/%0150d", 0);
	assert_true(ipc_probe(long_url, TIMEOUT_MS));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_answering_listener),
	    cmocka_unit_test(test_nothing_there),
	    cmocka_unit_test(test_silent_listener),
	    cmocka_unit_test(test_other_protocol),
	    cmocka_unit_test(test_not_askable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
