/*
 * Fleet aggregation rules on hand-made answers: sums over the hosts that
 * have a field with its presence count and extremes, labels kept, XFRM
 * MIB counters merged by name, error tables summed entry by entry, iSCSI
 * HBAs concatenated and tagged with their host, wrong types refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aggregate.h"
#include "model.h"

#include <secstat/v1/ike.pb-c.h>
#include <secstat/v1/ipsec.pb-c.h>
#include <secstat/v1/iscsi.pb-c.h>

/* One host's IPsec answer: active SAs (absent when < 0), SAs added, and
 * MIB counters "name=value" (NULL-terminated). */
struct ipsec_host {
	long active;
	uint64_t added;
	const char *mib[4];
	uint64_t mib_value[4];
};

static Secstat__V1__IpsecGetStatisticsResponse *
make_ipsec(const struct ipsec_host *h)
{
	Secstat__V1__IpsecGetStatisticsResponse *r = calloc(1, sizeof(*r));
	Secstat__V1__IpsecStatistics *st = calloc(1, sizeof(*st));
	Secstat__V1__IpsecAggregateSaStatistics *sa = calloc(1, sizeof(*sa));
	size_t n = 0;

	secstat__v1__ipsec_get_statistics_response__init(r);
	secstat__v1__ipsec_statistics__init(st);
	secstat__v1__ipsec_aggregate_sa_statistics__init(sa);
	if (h->active >= 0) {
		sa->has_active_sas = 1;
		sa->active_sas = (uint64_t)h->active;
	}
	sa->has_total_sas_added = 1;
	sa->total_sas_added = h->added;
	st->aggregate_sa_statistics = sa;
	r->statistics = st;
	while (n < 4 && h->mib[n] != NULL) {
		n++;
	}
	r->n_xfrm_mib = n;
	r->xfrm_mib = calloc(n ? n : 1, sizeof(*r->xfrm_mib));
	for (size_t i = 0; i < n; i++) {
		Secstat__V1__XfrmMibCounter *c = calloc(1, sizeof(*c));
		secstat__v1__xfrm_mib_counter__init(c);
		c->name = strdup(h->mib[i]);
		c->has_value = 1;
		c->value = h->mib_value[i];
		r->xfrm_mib[i] = c;
	}
	return r;
}

static const Secstat__V1__FleetFieldSummary *
summary_of(const Secstat__V1__FleetAggregate *s, const char *path)
{
	for (size_t i = 0; i < s->n_fields; i++) {
		if (strcmp(s->fields[i]->path, path) == 0) {
			return s->fields[i];
		}
	}
	return NULL;
}

static void
test_sums_presence_extremes(void **state)
{
	static const struct ipsec_host hosts[3] = {
	    {10, 100, {"XfrmInNoStates", "XfrmOutPolDead"}, {1, 2}},
	    {-1, 50, {"XfrmOutPolDead", "XfrmNew"}, {5, 7}},
	    {3, 0, {NULL}, {0}},
	};
	Secstat__V1__FleetAggregate sum;
	Secstat__V1__IpsecGetStatisticsResponse *agg;
	const Secstat__V1__FleetFieldSummary *f;
	struct aggregate *a;

	(void)state;
	secstat__v1__fleet_aggregate__init(&sum);
	assert_int_equal(
	    aggregate_create(
	        &a, &secstat__v1__ipsec_get_statistics_response__descriptor),
	    0);
	for (uint32_t i = 0; i < 3; i++) {
		Secstat__V1__IpsecGetStatisticsResponse *r =
		    make_ipsec(&hosts[i]);
		assert_int_equal(aggregate_add(a, &r->base, i, NULL), 0);
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	assert_int_equal(aggregate_count(a), 3);
	assert_int_equal(aggregate_summary(a, &sum), 0);
	agg = (Secstat__V1__IpsecGetStatisticsResponse *)aggregate_take(a);
	assert_non_null(agg);

	/* Absent on host 1: summed over hosts 0 and 2, with that count. */
	assert_true(agg->statistics->aggregate_sa_statistics->has_active_sas);
	assert_int_equal(agg->statistics->aggregate_sa_statistics->active_sas,
	                 13);
	f = summary_of(&sum, "statistics.aggregateSaStatistics.activeSas");
	assert_non_null(f);
	assert_int_equal(f->hosts, 2);
	assert_int_equal(f->min, 3);
	assert_int_equal(f->min_host, 2);
	assert_int_equal(f->max, 10);
	assert_int_equal(f->max_host, 0);
	assert_int_equal(f->kind, SECSTAT__V1__STAT_KIND__STAT_KIND_GAUGE);
	f = summary_of(&sum, "statistics.aggregateSaStatistics.totalSasAdded");
	assert_non_null(f);
	assert_int_equal(f->sum, 150);
	assert_int_equal(f->hosts, 3);
	assert_int_equal(f->kind, SECSTAT__V1__STAT_KIND__STAT_KIND_COUNTER);
	/* Absent everywhere stays absent. */
	assert_false(
	    agg->statistics->aggregate_sa_statistics->has_successful_rekeys);
	assert_null(agg->statistics->esp_drop_packet_statistics);

	/* MIB counters by name, in order of first appearance. */
	assert_int_equal(agg->n_xfrm_mib, 3);
	assert_string_equal(agg->xfrm_mib[0]->name, "XfrmInNoStates");
	assert_int_equal(agg->xfrm_mib[0]->value, 1);
	assert_string_equal(agg->xfrm_mib[1]->name, "XfrmOutPolDead");
	assert_int_equal(agg->xfrm_mib[1]->value, 7);
	assert_string_equal(agg->xfrm_mib[2]->name, "XfrmNew");
	assert_int_equal(agg->xfrm_mib[2]->value, 7);
	f = summary_of(&sum, "xfrmMib[1].value");
	assert_non_null(f);
	assert_int_equal(f->hosts, 2);

	protobuf_c_message_free_unpacked(&agg->base, NULL);
	for (size_t i = 0; i < sum.n_fields; i++) {
		protobuf_c_message_free_unpacked(&sum.fields[i]->base, NULL);
	}
	free(sum.fields);
	aggregate_free(a);
}

static Secstat__V1__IkeextGetStatisticsResponse *
make_ike(uint64_t err5, uint64_t active)
{
	Secstat__V1__IkeextGetStatisticsResponse *r = calloc(1, sizeof(*r));
	Secstat__V1__IkeextStatistics *st = calloc(1, sizeof(*st));
	Secstat__V1__IkeextKeymoduleStatistics *km = calloc(1, sizeof(*km));
	Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics *v4 =
	    calloc(1, sizeof(*v4));

	secstat__v1__ikeext_get_statistics_response__init(r);
	secstat__v1__ikeext_statistics__init(st);
	secstat__v1__ikeext_keymodule_statistics__init(km);
	secstat__v1__ikeext_ip_version_specific_keymodule_statistics__init(v4);
	v4->has_current_active_main_modes = 1;
	v4->current_active_main_modes = active;
	km->v4_statistics = v4;
	km->n_error_frequency_table = 97;
	km->error_frequency_table = calloc(97, sizeof(uint64_t));
	km->error_frequency_table[5] = err5;
	km->has_error_code_base = 1;
	km->error_code_base = 13800;
	st->ike_v2_statistics = km;
	r->statistics = st;
	return r;
}

static void
test_error_table_and_labels(void **state)
{
	Secstat__V1__IkeextGetStatisticsResponse *agg;
	struct aggregate *a;

	(void)state;
	assert_int_equal(
	    aggregate_create(
	        &a, &secstat__v1__ikeext_get_statistics_response__descriptor),
	    0);
	for (uint32_t i = 0; i < 2; i++) {
		Secstat__V1__IkeextGetStatisticsResponse *r =
		    make_ike(i + 2, 10 * (i + 1));
		assert_int_equal(aggregate_add(a, &r->base, i, "h"), 0);
		protobuf_c_message_free_unpacked(&r->base, NULL);
	}
	agg = (Secstat__V1__IkeextGetStatisticsResponse *)aggregate_take(a);
	assert_int_equal(
	    agg->statistics->ike_v2_statistics->n_error_frequency_table, 97);
	assert_int_equal(
	    agg->statistics->ike_v2_statistics->error_frequency_table[5], 5);
	/* A label, not a statistic: kept, not summed. */
	assert_int_equal(agg->statistics->ike_v2_statistics->error_code_base,
	                 13800);
	assert_int_equal(agg->statistics->ike_v2_statistics->v4_statistics
	                     ->current_active_main_modes,
	                 30);
	protobuf_c_message_free_unpacked(&agg->base, NULL);
	aggregate_free(a);
}

static void
test_hbas_concatenated(void **state)
{
	static const char *const names[] = {"web-1", "web-2"};
	Secstat__V1__IscsiGetStatisticsResponse *agg;
	struct aggregate *a;

	(void)state;
	assert_int_equal(
	    aggregate_create(
	        &a, &secstat__v1__iscsi_get_statistics_response__descriptor),
	    0);
	for (uint32_t i = 0; i < 2; i++) {
		Secstat__V1__IscsiGetStatisticsResponse r;
		Secstat__V1__IscsiHba hba, *hbas[1] = {&hba};
		Secstat__V1__MsiscsiQmIpsecStats qm;

		secstat__v1__iscsi_get_statistics_response__init(&r);
		secstat__v1__iscsi_hba__init(&hba);
		secstat__v1__msiscsi_qm_ipsec_stats__init(&qm);
		hba.instance_name = "host0";
		qm.has_active_sa = 1;
		qm.active_sa = i + 1;
		hba.qm_ipsec_stats = &qm;
		r.n_hbas = 1;
		r.hbas = hbas;
		assert_int_equal(aggregate_add(a, &r.base, i, names[i]), 0);
	}
	agg = (Secstat__V1__IscsiGetStatisticsResponse *)aggregate_take(a);
	assert_int_equal(agg->n_hbas, 2);
	assert_string_equal(agg->hbas[0]->instance_name, "web-1/host0");
	assert_string_equal(agg->hbas[1]->instance_name, "web-2/host0");
	assert_int_equal(agg->hbas[1]->qm_ipsec_stats->active_sa, 2);
	protobuf_c_message_free_unpacked(&agg->base, NULL);
	aggregate_free(a);
}

static void
test_refusals(void **state)
{
	Secstat__V1__IscsiGetStatisticsResponse r;
	struct aggregate *a;

	(void)state;
	secstat__v1__iscsi_get_statistics_response__init(&r);
	assert_int_equal(
	    aggregate_create(
	        &a, &secstat__v1__ipsec_get_statistics_response__descriptor),
	    0);
	assert_int_equal(aggregate_add(a, &r.base, 0, "x"), -EINVAL);
	assert_int_equal(aggregate_add(a, NULL, 0, "x"), -EINVAL);
	assert_null(aggregate_take(a)); /* nothing added */
	aggregate_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sums_presence_extremes),
	    cmocka_unit_test(test_error_table_and_labels),
	    cmocka_unit_test(test_hbas_concatenated),
	    cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
