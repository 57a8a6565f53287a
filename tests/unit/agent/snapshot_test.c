/* snapshot and methods: cached replies of every method, projections,
 * status codes, provider health, the simulated flag. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_provider.h"
#include "hostinfo.h"
#include "methods.h"
#include "registry.h"
#include "snapshot.h"

struct fixture {
	struct agent_config cfg;
	struct hostinfo host;
	struct registry *reg;
	uint8_t *caps;
	size_t caps_len;
	struct snapshot_source src;
	struct snapshot *snap;
};

/* A registry of `ops` whose every provider has completed one collect,
 * and a snapshot built from it. `known` lists the "built-in" ones. */
static void
fixture_build(struct fixture *f, const struct provider_ops *const *ops,
              size_t n, const struct provider_ops *const *known)
{
	struct registry_params params = {60000, 0};

	memset(f, 0, sizeof(*f));
	fake_config(&f->cfg, 60000);
	assert_int_equal(hostinfo_init(&f->host, &f->cfg), 0);
	assert_int_equal(methods_capabilities_encode(known, ops, n, 60000,
	                                             &f->caps, &f->caps_len),
	                 0);
	assert_int_equal(registry_create(&f->reg, &f->cfg, ops, n, &params), 0);
	assert_int_equal(registry_start(f->reg), 0);
	assert_int_equal(registry_wait(f->reg, registry_trigger(f->reg), 2000),
	                 0);
	f->src = (struct snapshot_source){.registry = f->reg,
	                                  .host = &f->host,
	                                  .known = known,
	                                  .capabilities = f->caps,
	                                  .capabilities_len = f->caps_len};
	f->snap = snapshot_build(&f->src, 1);
	assert_non_null(f->snap);
}

static void
fixture_free(struct fixture *f)
{
	snapshot_release(f->snap);
	registry_destroy(f->reg);
	free(f->caps);
}

static Secstat__V1__Reply *
decode(const struct snapshot *s, const char *method)
{
	int i = methods_find(method);
	struct snapshot_bytes b;
	Secstat__V1__Reply *r;

	assert_true(i >= 0);
	b = snapshot_reply(s, (size_t)i);
	r = secstat__v1__reply__unpack(NULL, b.len, b.data);
	assert_non_null(r);
	assert_true(r->has_status);
	assert_int_equal(r->status, b.status);
	return r;
}

static int
setup(void **state)
{
	fake_reset();
	return 0;
}

/* Every method decodes, carries the envelope, and never a request_id. */
static void
test_every_method(void **state)
{
	const struct provider_ops *ops[] = {&fake_ipsec_provider,
	                                    &fake_sim_provider};
	struct fixture f;

	fixture_build(&f, ops, 2, NULL);
	assert_int_equal(f.snap->n_methods, methods_count);
	for (size_t i = 0; i < methods_count; i++) {
		Secstat__V1__Reply *r = decode(f.snap, methods_table[i].name);

		const struct method *m = &methods_table[i];
		bool fed = m->families == 0 ||
		           (m->families & (PROVIDES_IPSEC | PROVIDES_IKE)) != 0;

		assert_false(r->has_request_id);
		if (fed) {
			assert_int_equal(r->status, METHODS_ERROR_SUCCESS);
			assert_null(r->message);
			assert_true(r->result_case !=
			            SECSTAT__V1__REPLY__RESULT__NOT_SET);
		} else {
			/* iSCSI: no fake provides it. */
			assert_int_equal(r->status, m->unavailable_status);
			assert_non_null(r->message);
		}
		assert_non_null(r->host);
		assert_string_equal(r->host->hostname, "fakehost");
		assert_true(r->host->has_epoch && r->host->epoch != 0);
		assert_int_equal(r->host->schema_version,
		                 HOSTINFO_SCHEMA_VERSION);
		assert_true(r->has_collected_unix_ms &&
		            r->collected_unix_ms > 0);
		assert_int_equal(r->n_providers, 2);
		assert_string_equal(r->providers[0]->name, "fake-ipsec");
		assert_int_equal(r->providers[0]->health,
		                 SECSTAT__V1__HEALTH__HEALTH_OK);
		assert_true(r->providers[0]->has_last_success_unix_ms);
		assert_int_equal(r->providers[1]->n_families, 2);
		secstat__v1__reply__free_unpacked(r, NULL);
	}
	fixture_free(&f);
}

/* Version 0 is version 1 minus its version-1-only members. */
static void
test_projections(void **state)
{
	const struct provider_ops *ops[] = {&fake_ipsec_provider,
	                                    &fake_sim_provider};
	struct fixture f;
	Secstat__V1__Reply *r0, *r1;
	Secstat__V1__IpsecStatistics *s0, *s1;

	fixture_build(&f, ops, 2, NULL);
	r1 = decode(f.snap, "IPsecGetStatistics1");
	r0 = decode(f.snap, "IPsecGetStatistics0");
	assert_int_equal(r1->result_case, SECSTAT__V1__REPLY__RESULT_IPSEC);
	assert_int_equal(r0->result_case, SECSTAT__V1__REPLY__RESULT_IPSEC);
	s1 = r1->ipsec->statistics;
	s0 = r0->ipsec->statistics;
	assert_non_null(s1);
	assert_non_null(s0);

	assert_int_equal(
	    s1->aggregate_drop_packet_statistics->invalid_spis_on_inbound, 100);
	assert_true(s1->aggregate_drop_packet_statistics
	                ->has_total_drop_packets_inbound);
	assert_int_equal(
	    s0->aggregate_drop_packet_statistics->invalid_spis_on_inbound, 100);
	assert_false(s0->aggregate_drop_packet_statistics
	                 ->has_total_drop_packets_inbound);

	assert_true(
	    s1->inbound_traffic_statistics->has_total_successful_packets);
	assert_int_equal(
	    s1->inbound_traffic_statistics->total_successful_packets, 102);
	assert_false(
	    s0->inbound_traffic_statistics->has_total_successful_packets);
	assert_int_equal(s0->inbound_traffic_statistics->encrypted_byte_count,
	                 100);
	/* Outbound held only a version-1 member: absent in version 0. */
	assert_non_null(s1->outbound_traffic_statistics);
	assert_null(s0->outbound_traffic_statistics);
	/* Blocks nobody filled stay absent in both. */
	assert_null(s1->esp_drop_packet_statistics);
	assert_null(s0->aggregate_sa_statistics);
	secstat__v1__reply__free_unpacked(r0, NULL);
	secstat__v1__reply__free_unpacked(r1, NULL);

	r1 = decode(f.snap, "IkeextGetStatistics1");
	r0 = decode(f.snap, "IkeextGetStatistics0");
	assert_non_null(r1->ikeext->statistics->ike_statistics);
	assert_non_null(r1->ikeext->statistics->ike_v2_statistics);
	assert_int_equal(r1->ikeext->statistics->ike_v2_statistics
	                     ->v4_statistics->total_main_modes_started,
	                 110);
	assert_non_null(r0->ikeext->statistics->ike_statistics);
	assert_null(r0->ikeext->statistics->ike_v2_statistics);
	assert_null(r0->ikeext->statistics->authip_statistics);
	secstat__v1__reply__free_unpacked(r0, NULL);
	secstat__v1__reply__free_unpacked(r1, NULL);

	/* The tree was shared: version 1 is intact after version 0. */
	r1 = decode(f.snap, "IPsecGetStatistics1");
	assert_true(r1->ipsec->statistics->aggregate_drop_packet_statistics
	                ->has_total_drop_packets_inbound);
	secstat__v1__reply__free_unpacked(r1, NULL);
	fixture_free(&f);
}

/* No provider of the family: the Windows "not running" codes, with a
 * reason, and no result. Host and capabilities still succeed. */
static void
test_status_without_provider(void **state)
{
	static const struct {
		const char *method;
		uint32_t status;
		const char *message;
	} cases[] = {
	    {"IPsecGetStatistics0", METHODS_FWP_E_PROVIDER_NOT_FOUND,
	     "no IPsec provider enabled"},
	    {"IPsecGetStatistics1", METHODS_FWP_E_PROVIDER_NOT_FOUND,
	     "no IPsec provider enabled"},
	    {"IkeextGetStatistics0", METHODS_FWP_E_IKEEXT_NOT_RUNNING,
	     "no IKE provider enabled"},
	    {"IkeextGetStatistics1", METHODS_FWP_E_IKEEXT_NOT_RUNNING,
	     "no IKE provider enabled"},
	    {"IscsiGetStatistics", METHODS_FWP_E_PROVIDER_NOT_FOUND,
	     "no iSCSI provider enabled"},
	    {"ListSecurityAssociations", METHODS_FWP_E_PROVIDER_NOT_FOUND,
	     "no IPsec or IKE provider enabled"},
	    {"GetHostInfo", METHODS_ERROR_SUCCESS, NULL},
	    {"GetCapabilities", METHODS_ERROR_SUCCESS, NULL},
	};
	struct fixture f;

	fixture_build(&f, NULL, 0, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Secstat__V1__Reply *r = decode(f.snap, cases[i].method);

		assert_int_equal(r->status, cases[i].status);
		if (cases[i].message != NULL) {
			assert_string_equal(r->message, cases[i].message);
			assert_int_equal(r->result_case,
			                 SECSTAT__V1__REPLY__RESULT__NOT_SET);
		} else {
			assert_null(r->message);
			assert_true(r->result_case !=
			            SECSTAT__V1__REPLY__RESULT__NOT_SET);
		}
		assert_false(r->simulated);
		secstat__v1__reply__free_unpacked(r, NULL);
	}
	fixture_free(&f);
}

/* An enabled provider that fails: the message says which and why. */
static void
test_status_failing_provider(void **state)
{
	const struct provider_ops *ops[] = {&fake_ipsec_provider};
	struct fixture f;
	Secstat__V1__Reply *r;

	fake_set(&fake_ipsec_control, -ECONNREFUSED, 0);
	fixture_build(&f, ops, 1, NULL);
	r = decode(f.snap, "IPsecGetStatistics1");
	assert_int_equal(r->status, METHODS_FWP_E_PROVIDER_NOT_FOUND);
	assert_string_equal(r->message, "fake-ipsec: Connection refused");
	assert_int_equal(r->providers[0]->health,
	                 SECSTAT__V1__HEALTH__HEALTH_FAILING);
	assert_string_equal(r->providers[0]->message, "Connection refused");
	assert_true(r->providers[0]->consecutive_failures >= 1);
	assert_false(r->providers[0]->has_last_success_unix_ms);
	secstat__v1__reply__free_unpacked(r, NULL);

	r = decode(f.snap, "IkeextGetStatistics1");
	assert_int_equal(r->status, METHODS_FWP_E_IKEEXT_NOT_RUNNING);
	assert_string_equal(r->message, "no IKE provider enabled");
	secstat__v1__reply__free_unpacked(r, NULL);
	fixture_free(&f);
}

/* Reply.simulated: set when a simulated provider fed the method. */
static void
test_simulated(void **state)
{
	const struct provider_ops *both[] = {&fake_ipsec_provider,
	                                     &fake_sim_provider};
	const struct provider_ops *real[] = {&fake_ipsec_provider};
	struct fixture f;
	Secstat__V1__Reply *r;

	fixture_build(&f, real, 1, NULL);
	r = decode(f.snap, "IPsecGetStatistics1");
	assert_true(r->has_simulated);
	assert_false(r->simulated);
	assert_false(r->providers[0]->simulated);
	secstat__v1__reply__free_unpacked(r, NULL);
	fixture_free(&f);

	fixture_build(&f, both, 2, NULL);
	r = decode(f.snap, "IPsecGetStatistics1");
	assert_true(r->simulated);
	assert_true(r->providers[1]->simulated);
	secstat__v1__reply__free_unpacked(r, NULL);
	r = decode(f.snap, "GetHostInfo");
	assert_true(r->simulated);
	secstat__v1__reply__free_unpacked(r, NULL);
	fixture_free(&f);

	/* The simulated provider failing: nothing simulated was served. */
	fake_set(&fake_sim_control, -EIO, 0);
	fixture_build(&f, both, 2, NULL);
	r = decode(f.snap, "IPsecGetStatistics1");
	assert_int_equal(r->status, METHODS_ERROR_SUCCESS);
	assert_false(r->simulated);
	secstat__v1__reply__free_unpacked(r, NULL);
	fixture_free(&f);
}

static void
test_capabilities_and_host(void **state)
{
	const struct provider_ops *ops[] = {&fake_ipsec_provider};
	const struct provider_ops *known[] = {&fake_sim_provider, NULL};
	struct fixture f;
	Secstat__V1__Reply *r;
	Secstat__V1__CapabilitiesResponse *c;
	bool counter = false, gauge = false;

	fixture_build(&f, ops, 1, known);
	r = decode(f.snap, "GetCapabilities");
	assert_int_equal(r->result_case,
	                 SECSTAT__V1__REPLY__RESULT_CAPABILITIES);
	c = r->capabilities;
	assert_int_equal(c->n_methods, methods_count);
	for (size_t i = 0; i < methods_count; i++) {
		assert_string_equal(c->methods[i], methods_table[i].name);
	}
	assert_int_equal(c->n_providers, 2);
	assert_string_equal(c->providers[0]->name, "fake-sim");
	assert_false(c->providers[0]->enabled);
	assert_int_equal(c->providers[0]->n_families, 2);
	assert_string_equal(c->providers[1]->name, "fake-ipsec");
	assert_true(c->providers[1]->enabled);
	assert_int_equal(c->schema_version, HOSTINFO_SCHEMA_VERSION);
	assert_int_equal(c->max_request_bytes, METHODS_MAX_REQUEST_BYTES);
	assert_int_equal(c->collect_interval_ms, 60000);
	assert_true(c->n_stats > 100);
	for (size_t i = 0; i < c->n_stats; i++) {
		assert_non_null(c->stats[i]->message);
		assert_non_null(c->stats[i]->json_name);
		assert_non_null(c->stats[i]->unit);
		counter =
		    counter || c->stats[i]->kind ==
		                   SECSTAT__V1__STAT_KIND__STAT_KIND_COUNTER;
		gauge = gauge || c->stats[i]->kind ==
		                     SECSTAT__V1__STAT_KIND__STAT_KIND_GAUGE;
		if (strcmp(c->stats[i]->json_name, "activeSas") == 0) {
			assert_int_equal(
			    c->stats[i]->kind,
			    SECSTAT__V1__STAT_KIND__STAT_KIND_GAUGE);
		}
	}
	assert_true(counter && gauge);
	/* A known provider that is not running: DISABLED in replies. */
	assert_int_equal(r->n_providers, 2);
	assert_string_equal(r->providers[1]->name, "fake-sim");
	assert_int_equal(r->providers[1]->health,
	                 SECSTAT__V1__HEALTH__HEALTH_DISABLED);
	assert_string_equal(r->providers[1]->message, "not enabled");
	secstat__v1__reply__free_unpacked(r, NULL);

	/* ... or with the health and reason registry_select() gave it. */
	{
		struct registry_left_out why = {
		    &fake_sim_provider, SECSTAT__V1__HEALTH__HEALTH_ABSENT,
		    "not detected: /run/x.sock: No such file or directory"};
		struct snapshot *s;

		f.src.left_out = &why;
		f.src.n_left_out = 1;
		s = snapshot_build(&f.src, 2);
		assert_non_null(s);
		r = decode(s, "GetHostInfo");
		assert_string_equal(r->providers[1]->name, "fake-sim");
		assert_int_equal(r->providers[1]->health,
		                 SECSTAT__V1__HEALTH__HEALTH_ABSENT);
		assert_string_equal(r->providers[1]->message, why.message);
		secstat__v1__reply__free_unpacked(r, NULL);
		snapshot_release(s);
	}

	r = decode(f.snap, "GetHostInfo");
	assert_int_equal(r->result_case, SECSTAT__V1__REPLY__RESULT_HOST_INFO);
	assert_string_equal(r->host_info->host->hostname, "fakehost");
	assert_int_equal(r->host_info->host->epoch, f.host.epoch);
	assert_non_null(r->host_info->host->agent_version);
	/* --procfs-root has no boot_id: absent, not empty. */
	assert_null(r->host_info->host->boot_id);
	secstat__v1__reply__free_unpacked(r, NULL);

	/* The host field kept for per-request replies decodes alone. */
	r = secstat__v1__reply__unpack(NULL, f.snap->host_field.len,
	                               f.snap->host_field.data);
	assert_non_null(r);
	assert_string_equal(r->host->hostname, "fakehost");
	assert_false(r->has_status);
	secstat__v1__reply__free_unpacked(r, NULL);
	fixture_free(&f);
}

static void
test_refcount(void **state)
{
	const struct provider_ops *ops[] = {&fake_ipsec_provider};
	struct fixture f;
	struct snapshot *s;

	fixture_build(&f, ops, 1, NULL);
	s = snapshot_hold(f.snap);
	assert_ptr_equal(s, f.snap);
	assert_int_equal(atomic_load(&s->refs), 2);
	snapshot_release(s);
	assert_int_equal(atomic_load(&f.snap->refs), 1);
	assert_int_equal(f.snap->seq, 1);
	assert_true(f.snap->collected_mono_ms <= f.snap->built_mono_ms);
	snapshot_release(NULL);
	fixture_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_every_method, setup),
	    cmocka_unit_test_setup(test_projections, setup),
	    cmocka_unit_test_setup(test_status_without_provider, setup),
	    cmocka_unit_test_setup(test_status_failing_provider, setup),
	    cmocka_unit_test_setup(test_simulated, setup),
	    cmocka_unit_test_setup(test_capabilities_and_host, setup),
	    cmocka_unit_test_setup(test_refcount, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
