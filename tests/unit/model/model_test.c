/* The descriptor walker, pruning, JSON output and the metadata table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"
#include "secstat/v1/service.pb-c.h"

static unsigned
count_stats(const ProtobufCMessageDescriptor *d)
{
	const struct stat_message_meta *m = stat_meta_message(d);
	unsigned n = 0;

	assert_non_null(m);
	for (unsigned f = 0; f < m->n_fields; f++) {
		n += m->fields[f].kind != STAT_NONE;
	}
	return n;
}

/* Every field of every message has metadata in descriptor order, and
 * each statistic has a unit and help text. */
static void
test_meta_covers_every_field(void **state)
{
	for (unsigned i = 0; i < stat_meta_n_messages; i++) {
		const struct stat_message_meta *m = &stat_meta_messages[i];

		assert_int_equal(m->n_fields, m->desc->n_fields);
		for (unsigned f = 0; f < m->n_fields; f++) {
			assert_string_equal(m->fields[f].name,
			                    m->desc->fields[f].name);
			if (m->fields[f].kind != STAT_NONE) {
				assert_true(m->fields[f].unit[0] != '\0');
				assert_true(m->fields[f].help[0] != '\0');
			}
		}
	}
}

/* The statistics of each Windows structure, counted against the SDK. */
static void
test_meta_matches_windows_structures(void **state)
{
	static const struct {
		const ProtobufCMessageDescriptor *desc;
		unsigned n;
	} windows[] = {
	    {&secstat__v1__ipsec_aggregate_sa_statistics__descriptor, 7},
	    {&secstat__v1__ipsec_esp_drop_packet_statistics__descriptor, 5},
	    {&secstat__v1__ipsec_ah_drop_packet_statistics__descriptor, 4},
	    {&secstat__v1__ipsec_aggregate_drop_packet_statistics__descriptor,
	     10},
	    {&secstat__v1__ipsec_traffic_statistics__descriptor, 7},
	    {&secstat__v1__ikeext_ip_version_specific_keymodule_statistics__descriptor,
	     18},
	    /* error table + three negotiation times */
	    {&secstat__v1__ikeext_keymodule_statistics__descriptor, 4},
	    {&secstat__v1__ikeext_ip_version_specific_common_statistics__descriptor,
	     2},
	    {&secstat__v1__ikeext_common_statistics__descriptor, 3},
	    {&secstat__v1__msiscsi_mm_ipsec_stats__descriptor, 21},
	    {&secstat__v1__msiscsi_qm_ipsec_stats__descriptor, 18},
	    {&secstat__v1__msiscsi_session_statistics__descriptor, 7},
	    {&secstat__v1__msiscsi_initiator_instance_statistics__descriptor,
	     4},
	    {&secstat__v1__msiscsi_initiator_login_statistics__descriptor, 9},
	    {&secstat__v1__msiscsi_nic_performance__descriptor, 4},
	    {&secstat__v1__msiscsi_request_time_statistics__descriptor, 2},
	};

	for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
		assert_int_equal(count_stats(windows[i].desc), windows[i].n);
	}
}

static void
test_json_names_follow_windows(void **state)
{
	const ProtobufCMessageDescriptor *d =
	    &secstat__v1__ipsec_traffic_statistics__descriptor;
	const ProtobufCMessageDescriptor *k =
	    &secstat__v1__ikeext_statistics__descriptor;

	assert_string_equal(stat_meta_field(d, 1)->json_name,
	                    "authenticatedAHByteCount");
	assert_string_equal(stat_meta_field(d, 6)->json_name,
	                    "totalSuccessfulPackets");
	assert_int_equal(stat_meta_field(d, 6)->kind, STAT_COUNTER);
	assert_string_equal(stat_meta_field(k, 2)->json_name,
	                    "ikeV2Statistics");
	assert_int_equal(
	    stat_meta_field(
	        &secstat__v1__ipsec_aggregate_sa_statistics__descriptor, 0)
	        ->kind,
	    STAT_GAUGE);
}

struct collected {
	char paths[16][MODEL_PATH_MAX];
	uint64_t values[16];
	int n;
};

static int
collect(const struct model_stat *st, void *arg)
{
	struct collected *c = arg;

	if (c->n < 16) {
		snprintf(c->paths[c->n], MODEL_PATH_MAX, "%s", st->path);
		c->values[c->n++] = st->value;
	}
	return 0;
}

static void
test_walk_visits_present_fields_only(void **state)
{
	Secstat__V1__IpsecStatistics s = SECSTAT__V1__IPSEC_STATISTICS__INIT;
	Secstat__V1__IpsecAggregateSaStatistics sa =
	    SECSTAT__V1__IPSEC_AGGREGATE_SA_STATISTICS__INIT;
	Secstat__V1__IpsecTrafficStatistics in =
	    SECSTAT__V1__IPSEC_TRAFFIC_STATISTICS__INIT;
	struct collected c = {.n = 0};

	sa.has_active_sas = 1;
	sa.active_sas = 3;
	sa.has_total_sas_deleted = 1; /* a present zero is a value */
	in.has_tunnel_byte_count = 1;
	in.tunnel_byte_count = UINT64_MAX;
	s.aggregate_sa_statistics = &sa;
	s.inbound_traffic_statistics = &in;

	assert_int_equal(model_walk(&s.base, "ipsec", collect, &c), 0);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.paths[0],
	                    "ipsec.aggregateSaStatistics.activeSas");
	assert_int_equal(c.values[0], 3);
	assert_string_equal(c.paths[1],
	                    "ipsec.aggregateSaStatistics.totalSasDeleted");
	assert_int_equal(c.values[1], 0);
	assert_string_equal(c.paths[2],
	                    "ipsec.inboundTrafficStatistics.tunnelByteCount");
	assert_true(c.values[2] == UINT64_MAX);
}

static void
test_prune_drops_empty_blocks(void **state)
{
	Secstat__V1__IpsecStatistics s = SECSTAT__V1__IPSEC_STATISTICS__INIT;
	Secstat__V1__IpsecAggregateSaStatistics sa =
	    SECSTAT__V1__IPSEC_AGGREGATE_SA_STATISTICS__INIT;
	Secstat__V1__IpsecTrafficStatistics in =
	    SECSTAT__V1__IPSEC_TRAFFIC_STATISTICS__INIT;

	s.aggregate_sa_statistics = &sa;
	s.inbound_traffic_statistics = &in;
	in.has_transport_byte_count = 1;
	assert_true(model_prune(&s.base));
	assert_null(s.aggregate_sa_statistics);
	assert_ptr_equal(s.inbound_traffic_statistics, &in);

	in.has_transport_byte_count = 0;
	assert_false(model_prune(&s.base));
	assert_null(s.inbound_traffic_statistics);
}

static char *
json_of(const ProtobufCMessage *m, int indent)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	model_write_json(f, m, indent);
	fclose(f);
	return buf;
}

static void
test_json_output(void **state)
{
	Secstat__V1__Reply r = SECSTAT__V1__REPLY__INIT;
	Secstat__V1__HostInfo h = SECSTAT__V1__HOST_INFO__INIT;
	Secstat__V1__ProviderStatus p = SECSTAT__V1__PROVIDER_STATUS__INIT;
	Secstat__V1__ProviderStatus *pp[] = {&p};
	Secstat__V1__IkeextGetStatisticsResponse ike =
	    SECSTAT__V1__IKEEXT_GET_STATISTICS_RESPONSE__INIT;
	char *js;

	h.hostname = "a\"b\\c\n";
	r.host = &h;
	r.has_status = 1;
	r.status = 0x80320044u;
	p.name = "vici";
	p.has_health = 1;
	p.health = SECSTAT__V1__HEALTH__HEALTH_DENIED;
	r.providers = pp;
	r.n_providers = 1;
	r.result_case = SECSTAT__V1__REPLY__RESULT_IKEEXT;
	r.ikeext = &ike;

	js = json_of(&r.base, -1);
	assert_string_equal(
	    js,
	    "{\"status\":2150760516,\"host\":{\"hostname\":\"a\\\"b\\\\c\\n\"},"
	    "\"providers\":[{\"name\":\"vici\",\"health\":\"HEALTH_DENIED\"}],"
	    "\"ikeext\":{}}");
	free(js);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_meta_covers_every_field),
	    cmocka_unit_test(test_meta_matches_windows_structures),
	    cmocka_unit_test(test_json_names_follow_windows),
	    cmocka_unit_test(test_walk_visits_present_fields_only),
	    cmocka_unit_test(test_prune_drops_empty_blocks),
	    cmocka_unit_test(test_json_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
