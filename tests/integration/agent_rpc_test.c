/*
 * The real secstatd binary, started by the test on a loopback port and an
 * ipc path, called through libsecstat, <secstat/fwpmu.h> and raw nng:
 * every method, the version-0 projections, bad requests, an agent that is
 * not running, an agent killed in the middle of a call, and a clean exit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include <secstat/fwpmu.h>
#include <secstat/secstat.h>

#include "testlib.h"

struct fixture {
	struct test_agent agent;
	char tcp_url[64];
	char ipc_url[256];
	char ipc_path[256];
};

static struct fixture fx;

static uint64_t
unix_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

static int
start_agent(void **state)
{
	const char *ipc = test_ipc_url("agent");

	snprintf(fx.tcp_url, sizeof(fx.tcp_url), "tcp://127.0.0.1:%d",
	         test_free_port());
	snprintf(fx.ipc_url, sizeof(fx.ipc_url), "%s", ipc);
	snprintf(fx.ipc_path, sizeof(fx.ipc_path), "%s",
	         ipc + strlen("ipc://"));
	const char *argv[] = {
	    "--provider", "sim", "--sim-seed", "5", "--hostname", "it-host",
	    "--listen", fx.tcp_url, "--listen", fx.ipc_url,
	    "--collect-interval", "200",
	    /* The tcp:// listener serves loopback callers without a
	     * credential; the ipc:// one serves this user by its uid. */
	    "--allow-loopback-insecure", NULL};
	return test_agent_start(&fx.agent, argv);
}

static int
stop_agent(void **state)
{
	if (fx.agent.pid > 0) {
		test_agent_stop(&fx.agent, SIGKILL);
	}
	return 0;
}

static secstat_session *
open_session(const char *url, uint32_t timeout_ms)
{
	struct secstat_session_options o;
	secstat_session *s = NULL;

	secstat_session_options_init(&o);
	o.timeout_ms = timeout_ms;
	assert_int_equal(secstat_session_open(&s, url, &o), ERROR_SUCCESS);
	return s;
}

static void
test_every_method_over_tcp_and_ipc(void **state)
{
	static const struct {
		const char *method;
		unsigned result;
	} methods[] = {
	    {SECSTAT_METHOD_IPSEC_GET_STATISTICS0,
	     SECSTAT__V1__REPLY__RESULT_IPSEC},
	    {SECSTAT_METHOD_IPSEC_GET_STATISTICS1,
	     SECSTAT__V1__REPLY__RESULT_IPSEC},
	    {SECSTAT_METHOD_IKEEXT_GET_STATISTICS0,
	     SECSTAT__V1__REPLY__RESULT_IKEEXT},
	    {SECSTAT_METHOD_IKEEXT_GET_STATISTICS1,
	     SECSTAT__V1__REPLY__RESULT_IKEEXT},
	    {SECSTAT_METHOD_ISCSI_GET_STATISTICS,
	     SECSTAT__V1__REPLY__RESULT_ISCSI},
	    {SECSTAT_METHOD_GET_HOST_INFO,
	     SECSTAT__V1__REPLY__RESULT_HOST_INFO},
	    {SECSTAT_METHOD_GET_CAPABILITIES,
	     SECSTAT__V1__REPLY__RESULT_CAPABILITIES},
	};
	const char *urls[] = {fx.tcp_url, fx.ipc_url};

	for (size_t u = 0; u < 2; u++) {
		secstat_session *s = open_session(urls[u], 5000);

		for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]);
		     m++) {
			Secstat__V1__Reply *r = NULL;

			assert_int_equal(
			    secstat_session_call(s, methods[m].method, &r),
			    ERROR_SUCCESS);
			assert_int_equal(r->result_case, methods[m].result);
			assert_non_null(r->host);
			assert_string_equal(r->host->hostname, "it-host");
			assert_true(r->host->has_epoch && r->host->epoch != 0);
			assert_true(r->simulated);
			secstat_reply_free(r);
		}
		secstat_session_close(s);
	}
}

/* Version 0 is version 1 without the fields version 0 lacks. */
static void
test_version0_projection(void **state)
{
	secstat_session *s = open_session(fx.tcp_url, 5000);
	Secstat__V1__Reply *r0 = NULL, *r1 = NULL;

	assert_int_equal(secstat_ipsec_get_statistics0(s, &r0), ERROR_SUCCESS);
	assert_int_equal(secstat_ipsec_get_statistics1(s, &r1), ERROR_SUCCESS);
	assert_false(r0->ipsec->statistics->aggregate_drop_packet_statistics
	                 ->has_total_drop_packets_inbound);
	assert_false(r0->ipsec->statistics->inbound_traffic_statistics
	                 ->has_total_successful_packets);
	assert_true(r1->ipsec->statistics->aggregate_drop_packet_statistics
	                ->has_total_drop_packets_inbound);
	assert_true(r1->ipsec->statistics->outbound_traffic_statistics
	                ->has_total_successful_packets);
	secstat_reply_free(r0);
	secstat_reply_free(r1);

	assert_int_equal(secstat_ikeext_get_statistics0(s, &r0), ERROR_SUCCESS);
	assert_int_equal(secstat_ikeext_get_statistics1(s, &r1), ERROR_SUCCESS);
	assert_null(r0->ikeext->statistics->ike_v2_statistics);
	assert_non_null(r0->ikeext->statistics->ike_statistics);
	assert_non_null(r1->ikeext->statistics->ike_v2_statistics);
	secstat_reply_free(r0);
	secstat_reply_free(r1);
	secstat_session_close(s);
}

static void
test_unknown_method(void **state)
{
	secstat_session *s = open_session(fx.tcp_url, 5000);
	Secstat__V1__Reply *r = NULL;

	assert_int_equal(secstat_session_call(s, "IPsecGetStatistics7", &r),
	                 FWP_E_NOT_FOUND);
	assert_non_null(r);
	assert_non_null(strstr(r->message, "IPsecGetStatistics7"));
	secstat_reply_free(r);
	secstat_session_close(s);
}

/* Raw nng: bytes that are not a Request get a Reply that says so. */
static void
test_malformed_request_bytes(void **state)
{
	static const uint8_t garbage[][8] = {
	    {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, /* bad varint */
	    {0x12, 0x7f, 'x'},                                /* truncated */
	    {0x0b},                                           /* group tag */
	};
	static const size_t lens[] = {8, 3, 1};
	nng_socket sock;

	assert_int_equal(nng_req0_open(&sock), 0);
	assert_int_equal(nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, 5000), 0);
	assert_int_equal(nng_dial(sock, fx.tcp_url, NULL, 0), 0);
	for (size_t i = 0; i < 3; i++) {
		void *buf = NULL;
		size_t len = 0;
		Secstat__V1__Reply *r;

		assert_int_equal(nng_send(sock, (void *)garbage[i], lens[i], 0),
		                 0);
		assert_int_equal(nng_recv(sock, &buf, &len, NNG_FLAG_ALLOC), 0);
		r = secstat__v1__reply__unpack(NULL, len, buf);
		assert_non_null(r);
		assert_int_equal(r->status, FWP_E_INVALID_PARAMETER);
		assert_non_null(strstr(r->message, "malformed"));
		secstat__v1__reply__free_unpacked(r, NULL);
		nng_free(buf, len);
	}
	nng_close(sock);
}

/* A request over the agent's size limit is dropped with its connection;
 * the agent keeps serving everyone else. */
static void
test_oversized_request_does_not_hurt(void **state)
{
	size_t big = 4u << 20;
	char *junk = calloc(1, big);
	nng_socket sock;
	void *buf = NULL;
	size_t len = 0;
	secstat_session *s;
	Secstat__V1__Reply *r = NULL;

	assert_int_equal(nng_req0_open(&sock), 0);
	assert_int_equal(nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, 500), 0);
	assert_int_equal(nng_dial(sock, fx.tcp_url, NULL, 0), 0);
	assert_int_equal(nng_send(sock, junk, big, 0), 0);
	assert_int_equal(nng_recv(sock, &buf, &len, NNG_FLAG_ALLOC),
	                 NNG_ETIMEDOUT);
	nng_close(sock);
	free(junk);

	s = open_session(fx.tcp_url, 5000);
	assert_int_equal(secstat_get_host_info(s, &r), ERROR_SUCCESS);
	secstat_reply_free(r);
	secstat_session_close(s);
}

static void
test_agent_not_running(void **state)
{
	char url[64];
	struct secstat_session_options o;
	secstat_session *s = NULL;
	struct timespec t0, t1;

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", test_free_port());
	secstat_session_options_init(&o);
	o.timeout_ms = 3000;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(secstat_session_open(&s, url, &o),
	                 RPC_E_SERVER_DIED_DNE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_null(s);
	/* Refused at once, not after the timeout. */
	assert_true(t1.tv_sec - t0.tv_sec < 2);

	assert_int_equal(
	    secstat_session_open(&s, "ipc:///nonexistent/secstat.sock", &o),
	    RPC_E_SERVER_DIED_DNE);
}

struct call_arg {
	secstat_session *s;
	uint32_t status;
};

static void *
call_thread(void *p)
{
	struct call_arg *a = p;
	Secstat__V1__Reply *r = NULL;

	a->status = secstat_ipsec_get_statistics1(a->s, &r);
	secstat_reply_free(r);
	return NULL;
}

/* The agent dies while a call waits for its reply: the caller learns at
 * once that the connection is gone, not after its timeout. */
static void
test_agent_killed_mid_request(void **state)
{
	struct test_agent victim;
	char url[64];
	struct call_arg arg;
	pthread_t th;
	struct timespec t0, t1;

	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", test_free_port());
	const char *argv[] = {
	    "--provider", "sim", "--listen", url, "--allow-loopback-insecure",
	    NULL};
	assert_int_equal(test_agent_start(&victim, argv), 0);
	arg.s = open_session(url, 20000);

	test_agent_freeze(&victim); /* the request will sit unanswered */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pthread_create(&th, NULL, call_thread, &arg), 0);
	usleep(300 * 1000);
	test_agent_stop(&victim, SIGKILL);
	pthread_join(th, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);

	assert_int_equal(arg.status, RPC_E_DISCONNECTED);
	assert_true(t1.tv_sec - t0.tv_sec < 10);
	secstat_session_close(arg.s);
}

/* The providers auto-detection leaves out are in every reply with the
 * reason: ABSENT naming what the probe looked for, DISABLED for those
 * that run only when named or configured. */
static const Secstat__V1__ProviderStatus *
provider_named(const Secstat__V1__Reply *r, const char *name)
{
	for (size_t i = 0; i < r->n_providers; i++) {
		if (strcmp(r->providers[i]->name, name) == 0) {
			return r->providers[i];
		}
	}
	fail_msg("provider %s not in the reply", name);
	return NULL;
}

static void
test_providers_left_out(void **state)
{
	struct test_agent a;
	const char *url = test_ipc_url("autodetect");
	char procfs[4096];
	secstat_session *s;
	Secstat__V1__Reply *r = NULL;
	const Secstat__V1__ProviderStatus *p;

	(void)state;
	snprintf(procfs, sizeof(procfs), "%s",
	         test_fixture("procfs/debian-6.1"));
	const char *argv[] = {"--procfs-root",
	                      procfs,
	                      "--sysfs-root",
	                      "/nonexistent-sys",
	                      "--vici",
	                      "unix:///nonexistent/charon.vici",
	                      "--whack",
	                      "/nonexistent/ipsec",
	                      "--listen",
	                      url,
	                      NULL};
	assert_int_equal(test_agent_start(&a, argv), 0);
	s = open_session(url, 5000);
	assert_int_equal(secstat_get_host_info(s, &r), ERROR_SUCCESS);

	p = provider_named(r, "procfs");
	assert_int_equal(p->health, SECSTAT__V1__HEALTH__HEALTH_OK);
	p = provider_named(r, "vici");
	assert_int_equal(p->health, SECSTAT__V1__HEALTH__HEALTH_ABSENT);
	assert_non_null(strstr(p->message, "/nonexistent/charon.vici"));
	p = provider_named(r, "whack");
	assert_int_equal(p->health, SECSTAT__V1__HEALTH__HEALTH_ABSENT);
	assert_non_null(strstr(p->message, "/nonexistent/ipsec"));
	p = provider_named(r, "iscsi");
	assert_int_equal(p->health, SECSTAT__V1__HEALTH__HEALTH_ABSENT);
	assert_non_null(
	    strstr(p->message, "/nonexistent-sys/class/iscsi_session"));
	p = provider_named(r, "relay");
	assert_int_equal(p->health, SECSTAT__V1__HEALTH__HEALTH_DISABLED);
	assert_string_equal(p->message, "not configured");
	p = provider_named(r, "sim");
	assert_int_equal(p->health, SECSTAT__V1__HEALTH__HEALTH_DISABLED);
	assert_string_equal(p->message, "simulated: runs only when named");

	secstat_reply_free(r);
	secstat_session_close(s);
	test_agent_stop(&a, SIGTERM);
}

/* max_age_ms makes the agent refresh before answering. */
static void
test_max_age_forces_fresh_data(void **state)
{
	struct secstat_session_options o;
	secstat_session *s = NULL;
	Secstat__V1__Reply *r = NULL;
	uint64_t before;

	secstat_session_options_init(&o);
	o.max_age_ms = 1;
	assert_int_equal(secstat_session_open(&s, fx.tcp_url, &o),
	                 ERROR_SUCCESS);
	usleep(50 * 1000);
	before = unix_ms();
	assert_int_equal(secstat_ipsec_get_statistics1(s, &r), ERROR_SUCCESS);
	assert_true(r->collected_unix_ms + 1 >= before);
	secstat_reply_free(r);
	secstat_session_close(s);
}

/* A program written against the Windows documentation, against the real
 * agent: the numbers equal the library's, narrowed as Windows does. */
static void
test_fwpmu_against_the_agent(void **state)
{
	wchar_t server[128];
	HANDLE engine = NULL;
	IPSEC_STATISTICS1 ipsec;
	IKEEXT_STATISTICS1 ike;
	secstat_session *s;
	Secstat__V1__Reply *r = NULL;

	swprintf(server, 128, L"%s", fx.tcp_url);
	assert_int_equal(
	    FwpmEngineOpen0(server, RPC_C_AUTHN_WINNT, NULL, NULL, &engine),
	    ERROR_SUCCESS);
	assert_int_equal(IPsecGetStatistics1(engine, &ipsec), ERROR_SUCCESS);
	assert_int_equal(IkeextGetStatistics1(engine, &ike), ERROR_SUCCESS);

	s = open_session(fx.tcp_url, 5000);
	assert_int_equal(secstat_ipsec_get_statistics1(s, &r), ERROR_SUCCESS);
	/* Both calls may straddle a collection: counters only grow. */
	assert_true(ipsec.aggregateSaStatistics.totalSasAdded > 0);
	assert_true(
	    (uint32_t)r->ipsec->statistics->aggregate_sa_statistics
	            ->total_sas_added >=
	        ipsec.aggregateSaStatistics.totalSasAdded ||
	    r->ipsec->statistics->aggregate_sa_statistics->total_sas_added >
	        UINT32_MAX);
	assert_true(ipsec.inboundTrafficStatistics.encryptedByteCount > 0);
	assert_true(ike.ikeV2Statistics.v4Statistics.totalMainModesStarted > 0);
	secstat_reply_free(r);
	secstat_session_close(s);

	assert_int_equal(FwpmTransactionBegin0(engine, 0), ERROR_SUCCESS);
	assert_int_equal(IPsecGetStatistics1(engine, &ipsec),
	                 FWP_E_TXN_IN_PROGRESS);
	assert_int_equal(IkeextGetStatistics1(engine, &ike), ERROR_SUCCESS);
	assert_int_equal(FwpmTransactionAbort0(engine), ERROR_SUCCESS);
	assert_int_equal(FwpmEngineClose0(engine), ERROR_SUCCESS);
}

/* Runs last: SIGTERM ends the agent cleanly and removes its ipc socket. */
static void
test_sigterm_clean_exit(void **state)
{
	struct stat st;
	int status;

	assert_int_equal(stat(fx.ipc_path, &st), 0);
	status = test_agent_stop(&fx.agent, SIGTERM);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_not_equal(stat(fx.ipc_path, &st), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_method_over_tcp_and_ipc),
	    cmocka_unit_test(test_version0_projection),
	    cmocka_unit_test(test_unknown_method),
	    cmocka_unit_test(test_malformed_request_bytes),
	    cmocka_unit_test(test_oversized_request_does_not_hurt),
	    cmocka_unit_test(test_agent_not_running),
	    cmocka_unit_test(test_agent_killed_mid_request),
	    cmocka_unit_test(test_max_age_forces_fresh_data),
	    cmocka_unit_test(test_providers_left_out),
	    cmocka_unit_test(test_fwpmu_against_the_agent),
	    cmocka_unit_test(test_sigterm_clean_exit),
	};

	return cmocka_run_group_tests(tests, start_agent, stop_agent);
}
