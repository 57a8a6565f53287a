/* server: the REP contexts in-process over ipc://, with a fake provider
 * behind a real registry and collector. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "collector.h"
#include "fake_provider.h"
#include "hostinfo.h"
#include "log.h"
#include "methods.h"
#include "registry.h"
#include "server.h"
#include "snapshot.h"
#include "testlib.h"

struct agent {
	struct agent_config cfg;
	struct hostinfo host;
	struct registry *reg;
	struct collector *collector;
	struct server *server;
	uint8_t *caps;
	size_t caps_len;
	struct snapshot_source src;
	char url[256];
	nng_socket client;
};

static void
agent_start(struct agent *a, const char *name, unsigned interval_ms)
{
	const struct provider_ops *ops[] = {&fake_ipsec_provider};
	struct registry_params params = {interval_ms, 0};

	memset(a, 0, sizeof(*a));
	fake_config(&a->cfg, interval_ms);
	snprintf(a->url, sizeof(a->url), "%s", test_ipc_url(name));
	assert_int_equal(hostinfo_init(&a->host, &a->cfg), 0);
	assert_int_equal(methods_capabilities_encode(NULL, ops, 1, interval_ms,
	                                             &a->caps, &a->caps_len),
	                 0);
	assert_int_equal(registry_create(&a->reg, &a->cfg, ops, 1, &params), 0);
	assert_int_equal(registry_start(a->reg), 0);
	a->src = (struct snapshot_source){.registry = a->reg,
	                                  .host = &a->host,
	                                  .capabilities = a->caps,
	                                  .capabilities_len = a->caps_len};
	assert_int_equal(collector_create(&a->collector, &a->src, interval_ms),
	                 0);
	assert_int_equal(collector_start(a->collector), 0);
	assert_int_equal(server_create(&a->server, a->collector), 0);
	assert_int_equal(server_listen(a->server, a->url), 0);
	assert_int_equal(server_start(a->server), 0);

	assert_int_equal(nng_req0_open(&a->client), 0);
	assert_int_equal(nng_socket_set_ms(a->client, NNG_OPT_RECVTIMEO, 5000),
	                 0);
	assert_int_equal(nng_socket_set_ms(a->client, NNG_OPT_REQ_RESENDTIME,
	                                   NNG_DURATION_INFINITE),
	                 0);
	assert_int_equal(nng_dial(a->client, a->url, NULL, 0), 0);
}

static void
agent_stop(struct agent *a)
{
	nng_close(a->client);
	server_destroy(a->server);
	collector_destroy(a->collector);
	registry_destroy(a->reg);
	free(a->caps);
}

/* One synchronous call with raw request bytes. */
static Secstat__V1__Reply *
call_raw(struct agent *a, const void *req, size_t len)
{
	void *buf = NULL;
	size_t n = 0;
	Secstat__V1__Reply *r;

	assert_int_equal(nng_send(a->client, (void *)req, len, 0), 0);
	assert_int_equal(nng_recv(a->client, &buf, &n, NNG_FLAG_ALLOC), 0);
	r = secstat__v1__reply__unpack(NULL, n, buf);
	nng_free(buf, n);
	assert_non_null(r);
	assert_true(r->has_status);
	return r;
}

static Secstat__V1__Reply *
call(struct agent *a, const Secstat__V1__Request *req)
{
	uint8_t buf[512];
	size_t len = secstat__v1__request__get_packed_size(req);
	Secstat__V1__Reply *r;

	assert_true(len <= sizeof(buf));
	secstat__v1__request__pack(req, buf);
	r = call_raw(a, buf, len);
	return r;
}

static Secstat__V1__Request
request(const char *method, uint64_t id)
{
	Secstat__V1__Request req;

	secstat__v1__request__init(&req);
	req.method = (char *)method;
	req.has_request_id = 1;
	req.request_id = id;
	return req;
}

static uint64_t
ipsec_value(const Secstat__V1__Reply *r)
{
	assert_int_equal(r->result_case, SECSTAT__V1__REPLY__RESULT_IPSEC);
	return r->ipsec->statistics->aggregate_drop_packet_statistics
	    ->invalid_spis_on_inbound;
}

static int
setup(void **state)
{
	fake_reset();
	return 0;
}

static void
test_request_id_echo(void **state)
{
	static const uint64_t ids[] = {0, 1, 127, 128, 42, UINT64_MAX};
	struct agent a;
	Secstat__V1__Request req;
	Secstat__V1__Reply *r;

	agent_start(&a, "echo", 60000);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		req = request("IPsecGetStatistics1", ids[i]);
		r = call(&a, &req);
		assert_true(r->has_request_id);
		assert_true(r->request_id == ids[i]);
		assert_int_equal(r->status, METHODS_ERROR_SUCCESS);
		assert_int_equal(ipsec_value(r), 100);
		assert_string_equal(r->host->hostname, "fakehost");
		secstat__v1__reply__free_unpacked(r, NULL);
	}

	/* Without an id, the reply has none. */
	req = request("GetHostInfo", 0);
	req.has_request_id = 0;
	r = call(&a, &req);
	assert_false(r->has_request_id);
	assert_int_equal(r->result_case, SECSTAT__V1__REPLY__RESULT_HOST_INFO);
	secstat__v1__reply__free_unpacked(r, NULL);
	agent_stop(&a);
}

static void
test_unknown_method(void **state)
{
	struct agent a;
	Secstat__V1__Request req;
	Secstat__V1__Reply *r;

	agent_start(&a, "unknown", 60000);
	req = request("IPsecGetStatistics7", 9);
	r = call(&a, &req);
	assert_int_equal(r->status, METHODS_FWP_E_NOT_FOUND);
	assert_string_equal(r->message, "unknown method 'IPsecGetStatistics7'");
	assert_int_equal(r->request_id, 9);
	assert_int_equal(r->result_case, SECSTAT__V1__REPLY__RESULT__NOT_SET);
	/* Per-request errors still say who answered. */
	assert_non_null(r->host);
	assert_string_equal(r->host->hostname, "fakehost");
	secstat__v1__reply__free_unpacked(r, NULL);

	req.method = NULL;
	r = call(&a, &req);
	assert_int_equal(r->status, METHODS_FWP_E_NOT_FOUND);
	assert_non_null(strstr(r->message, "no method given"));
	secstat__v1__reply__free_unpacked(r, NULL);
	agent_stop(&a);
}

static void
test_malformed(void **state)
{
	static const struct {
		uint8_t bytes[8];
		size_t len;
		bool has_id;
		uint64_t id;
	} cases[] = {
	    {{0xff, 0xff, 0xff}, 3, false, 0},
	    {{0x12, 0x50, 'a'}, 3, false, 0}, /* length past the end */
	    {{0x08, 0x07, 0xff, 0xff}, 4, true, 7},
	    {{0x08, 0x80, 0x01, 0x12, 0x09}, 5, true, 128},
	    {{0x08}, 1, false, 0},
	};
	struct agent a;

	agent_start(&a, "malformed", 60000);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Secstat__V1__Reply *r =
		    call_raw(&a, cases[i].bytes, cases[i].len);

		assert_int_equal(r->status, METHODS_FWP_E_INVALID_PARAMETER);
		assert_non_null(r->message);
		assert_memory_equal(r->message, "malformed request: ", 19);
		assert_int_equal(r->has_request_id, cases[i].has_id);
		if (cases[i].has_id) {
			assert_int_equal(r->request_id, cases[i].id);
		}
		secstat__v1__reply__free_unpacked(r, NULL);
	}
	agent_stop(&a);
}

/* The per-context decode buffer is bounded: a request that needs more
 * is refused, one that fits is decoded. */
static void
test_decode_buffer_bound(void **state)
{
	struct agent a;
	Secstat__V1__Request req;
	Secstat__V1__Reply *r;
	char *name = malloc(SERVER_DECODE_BYTES + 1);
	uint8_t *buf = malloc(2 * SERVER_DECODE_BYTES);
	size_t len;

	agent_start(&a, "bound", 60000);
	memset(name, 'x', SERVER_DECODE_BYTES);
	name[SERVER_DECODE_BYTES] = '\0';
	req = request(name, 5);
	len = secstat__v1__request__pack(&req, buf);
	r = call_raw(&a, buf, len);
	assert_int_equal(r->status, METHODS_FWP_E_INVALID_PARAMETER);
	assert_non_null(strstr(r->message, "more than the agent decodes"));
	assert_int_equal(r->request_id, 5);
	secstat__v1__reply__free_unpacked(r, NULL);

	name[SERVER_DECODE_BYTES / 2] = '\0';
	req = request(name, 6);
	len = secstat__v1__request__pack(&req, buf);
	r = call_raw(&a, buf, len);
	assert_int_equal(r->status, METHODS_FWP_E_NOT_FOUND);
	secstat__v1__reply__free_unpacked(r, NULL);
	free(name);
	free(buf);
	agent_stop(&a);
}

/* max_age_ms older than the snapshot: the request triggers a refresh
 * and is served from the new snapshot. */
static void
test_max_age_refresh(void **state)
{
	struct agent a;
	Secstat__V1__Request req;
	Secstat__V1__Reply *r;
	uint64_t first, collects;

	fake_ipsec_control.increment = true;
	/* Long interval: only on-demand refreshes make new data. */
	agent_start(&a, "maxage", 60000);
	req = request("IPsecGetStatistics1", 1);
	r = call(&a, &req);
	first = ipsec_value(r);
	secstat__v1__reply__free_unpacked(r, NULL);

	/* Without max_age, the same snapshot. */
	fake_sleep_ms(30);
	r = call(&a, &req);
	assert_int_equal(ipsec_value(r), first);
	secstat__v1__reply__free_unpacked(r, NULL);

	collects = fake_collects(&fake_ipsec_control);
	req.has_max_age_ms = 1;
	req.max_age_ms = 10;
	r = call(&a, &req);
	assert_int_equal(r->status, METHODS_ERROR_SUCCESS);
	assert_true(ipsec_value(r) > first);
	assert_true(fake_collects(&fake_ipsec_control) > collects);
	secstat__v1__reply__free_unpacked(r, NULL);

	/* A generous max_age is met by the current snapshot: no collect. */
	collects = fake_collects(&fake_ipsec_control);
	req.max_age_ms = 60000;
	r = call(&a, &req);
	assert_int_equal(r->status, METHODS_ERROR_SUCCESS);
	assert_int_equal(fake_collects(&fake_ipsec_control), collects);
	secstat__v1__reply__free_unpacked(r, NULL);
	agent_stop(&a);
}

/* A source slower than the deadline: FWP_E_TIMEOUT with the freshest
 * result, within the deadline. */
static void
test_max_age_timeout(void **state)
{
	struct agent a;
	Secstat__V1__Request req;
	Secstat__V1__Reply *r;
	uint64_t t0, elapsed;

	agent_start(&a, "timeout", 60000);
	fake_set(&fake_ipsec_control, 0, 800);
	fake_sleep_ms(20);
	req = request("IPsecGetStatistics1", 3);
	req.has_max_age_ms = 1;
	req.max_age_ms = 5;
	req.has_deadline_ms = 1;
	req.deadline_ms = 300;
	t0 = fake_now_ms();
	r = call(&a, &req);
	/* Well before the source answers (800 ms); the slack over the
	 * 300 ms deadline absorbs scheduling on a loaded machine. */
	elapsed = fake_now_ms() - t0;
	if (elapsed >= 600) {
		fail_msg("reply after %llu ms, deadline 300 ms",
		         (unsigned long long)elapsed);
	}
	assert_int_equal(r->status, METHODS_FWP_E_TIMEOUT);
	assert_non_null(strstr(r->message, "max_age_ms 5"));
	assert_int_equal(r->request_id, 3);
	assert_int_equal(ipsec_value(r), 100);
	secstat__v1__reply__free_unpacked(r, NULL);
	agent_stop(&a); /* waits for the slow collect */
}

/* Just after start, a request waits for the first collection of the
 * providers feeding its method (up to its deadline) instead of getting
 * "no collection completed yet"; a method that needs no provider does
 * not wait; past the deadline the provisional answer is served as it
 * is, not as a max_age timeout. */
static void
test_first_collection_awaited(void **state)
{
	struct agent a;
	Secstat__V1__Request req;
	Secstat__V1__Reply *r;

	/* Longer than the collector waits for the first snapshot
	 * (COLLECTOR_REFRESH_WAIT_MS), so that the agent starts serving
	 * before the collection completes. */
	fake_set(&fake_ipsec_control, 0, COLLECTOR_REFRESH_WAIT_MS + 500);
	agent_start(&a, "first", 60000);
	req = request("GetHostInfo", 1);
	r = call(&a, &req);
	assert_int_equal(r->status, METHODS_ERROR_SUCCESS);
	assert_int_equal(r->n_providers, 1);
	assert_int_equal(r->providers[0]->health,
	                 SECSTAT__V1__HEALTH__HEALTH_UNSPECIFIED);
	secstat__v1__reply__free_unpacked(r, NULL);

	req = request("IPsecGetStatistics1", 2);
	req.has_deadline_ms = 1;
	req.deadline_ms = 10000;
	r = call(&a, &req);
	assert_int_equal(r->status, METHODS_ERROR_SUCCESS);
	assert_int_equal(ipsec_value(r), 100);
	secstat__v1__reply__free_unpacked(r, NULL);
	agent_stop(&a);

	fake_reset();
	fake_set(&fake_ipsec_control, 0, COLLECTOR_REFRESH_WAIT_MS + 500);
	agent_start(&a, "first-late", 60000);
	req = request("IPsecGetStatistics1", 3);
	req.has_deadline_ms = 1;
	req.deadline_ms = 200;
	r = call(&a, &req);
	assert_int_equal(r->status, METHODS_FWP_E_PROVIDER_NOT_FOUND);
	assert_non_null(strstr(r->message, "no collection completed yet"));
	assert_int_equal(r->request_id, 3);
	secstat__v1__reply__free_unpacked(r, NULL);
	agent_stop(&a); /* waits for the slow collect */
}

/* Every server context busy at once, from 64 REQ contexts. */
static void
test_concurrent(void **state)
{
	enum { N = SERVER_CONTEXTS };
	struct agent a;
	nng_ctx ctx[N];
	nng_aio *aio[N];

	agent_start(&a, "concurrent", 60000);
	for (int i = 0; i < N; i++) {
		Secstat__V1__Request req = request(
		    i % 2 ? "IPsecGetStatistics1" : "IkeextGetStatistics1",
		    1000 + (uint64_t)i);
		nng_msg *msg;
		uint8_t buf[128];
		size_t len;

		/* A quarter force a refresh: they wait concurrently. */
		if (i % 4 == 0) {
			req.has_max_age_ms = 1;
			req.max_age_ms = 1;
		}
		len = secstat__v1__request__pack(&req, buf);
		assert_int_equal(nng_ctx_open(&ctx[i], a.client), 0);
		assert_int_equal(nng_aio_alloc(&aio[i], NULL, NULL), 0);
		nng_aio_set_timeout(aio[i], 5000);
		assert_int_equal(nng_msg_alloc(&msg, 0), 0);
		assert_int_equal(nng_msg_append(msg, buf, len), 0);
		nng_aio_set_msg(aio[i], msg);
		nng_ctx_send(ctx[i], aio[i]);
	}
	for (int i = 0; i < N; i++) {
		nng_aio_wait(aio[i]);
		assert_int_equal(nng_aio_result(aio[i]), 0);
		nng_ctx_recv(ctx[i], aio[i]);
	}
	for (int i = 0; i < N; i++) {
		Secstat__V1__Reply *r;
		nng_msg *msg;

		nng_aio_wait(aio[i]);
		assert_int_equal(nng_aio_result(aio[i]), 0);
		msg = nng_aio_get_msg(aio[i]);
		r = secstat__v1__reply__unpack(NULL, nng_msg_len(msg),
		                               nng_msg_body(msg));
		assert_non_null(r);
		assert_int_equal(r->request_id, 1000 + (uint64_t)i);
		if (i % 2) {
			assert_int_equal(r->status, METHODS_ERROR_SUCCESS);
		} else {
			/* Only an IPsec provider runs. */
			assert_int_equal(r->status,
			                 METHODS_FWP_E_IKEEXT_NOT_RUNNING);
		}
		secstat__v1__reply__free_unpacked(r, NULL);
		nng_msg_free(msg);
		nng_ctx_close(ctx[i]);
		nng_aio_free(aio[i]);
	}
	agent_stop(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_request_id_echo, setup),
	    cmocka_unit_test_setup(test_unknown_method, setup),
	    cmocka_unit_test_setup(test_malformed, setup),
	    cmocka_unit_test_setup(test_decode_buffer_bound, setup),
	    cmocka_unit_test_setup(test_max_age_refresh, setup),
	    cmocka_unit_test_setup(test_max_age_timeout, setup),
	    cmocka_unit_test_setup(test_first_collection_awaited, setup),
	    cmocka_unit_test_setup(test_concurrent, setup),
	};

	int rv;

	if (getenv("SECSTAT_TEST_DEBUG") != NULL) {
		log_open(LOG_DEBUG, false);
	}
	rv = cmocka_run_group_tests(tests, NULL, NULL);
	nng_fini(); /* leak checkers see nng's threads gone */
	return rv;
}
