/*
 * Rates from two answers per host, table-driven: a normal interval, an
 * agent restart (epoch change) with a counter that restarted and one that
 * went on, a counter that went down without a restart, the same sample
 * twice, a missing answer; and the fleet sums of the same.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <secstat/secstat.h>

#define ADDED   "statistics.aggregateSaStatistics.totalSasAdded"
#define DELETED "statistics.aggregateSaStatistics.totalSasDeleted"

/* One answer: epoch, collection time, SAs added and deleted, and an
 * active-SA gauge that must never be rated. */
struct sample {
	uint64_t epoch;
	uint64_t t_ms;
	uint64_t added;
	uint64_t deleted;
};

struct reply_mem {
	Secstat__V1__Reply r;
	Secstat__V1__HostInfo host;
	Secstat__V1__IpsecGetStatisticsResponse resp;
	Secstat__V1__IpsecStatistics st;
	Secstat__V1__IpsecAggregateSaStatistics sa;
};

static const Secstat__V1__Reply *
build(struct reply_mem *m, const struct sample *s)
{
	secstat__v1__reply__init(&m->r);
	secstat__v1__host_info__init(&m->host);
	secstat__v1__ipsec_get_statistics_response__init(&m->resp);
	secstat__v1__ipsec_statistics__init(&m->st);
	secstat__v1__ipsec_aggregate_sa_statistics__init(&m->sa);
	m->host.hostname = "h";
	m->host.has_epoch = 1;
	m->host.epoch = s->epoch;
	m->sa.has_total_sas_added = 1;
	m->sa.total_sas_added = s->added;
	m->sa.has_total_sas_deleted = 1;
	m->sa.total_sas_deleted = s->deleted;
	m->sa.has_active_sas = 1;
	m->sa.active_sas = 42;
	m->st.aggregate_sa_statistics = &m->sa;
	m->resp.statistics = &m->st;
	m->r.host = &m->host;
	m->r.has_status = 1;
	m->r.has_collected_unix_ms = 1;
	m->r.collected_unix_ms = s->t_ms;
	m->r.result_case = SECSTAT__V1__REPLY__RESULT_IPSEC;
	m->r.ipsec = &m->resp;
	return &m->r;
}

static const struct secstat_rate *
find(const struct secstat_rate *v, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v[i].path, path) == 0) {
			return &v[i];
		}
	}
	return NULL;
}

static const struct {
	const char *name;
	struct sample prev, cur;
	uint32_t flags;
	uint64_t added_delta, deleted_delta;
	double added_rate;
	uint32_t resets;
} cases[] = {
    {"normal", {1, 1000, 100, 10}, {1, 3000, 300, 10}, 0, 200, 0, 100.0, 0},
    /* Restart: added restarted at 20 (delta 20), deleted went on. */
    {"restart",
     {1, 1000, 100, 10},
     {2, 2000, 20, 15},
     SECSTAT_RATES_EPOCH_CHANGED,
     20,
     5,
     20.0,
     1},
    /* Down without a restart: not trusted, 0. */
    {"decreased",
     {1, 1000, 100, 10},
     {1, 2000, 40, 12},
     SECSTAT_RATES_DECREASED,
     0,
     2,
     0.0,
     1},
    /* The same snapshot twice: no interval, no rate. */
    {"same",
     {1, 1000, 100, 10},
     {1, 1000, 100, 10},
     SECSTAT_RATES_NO_INTERVAL,
     0,
     0,
     0.0,
     0},
};

static void
test_cases(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct reply_mem a, b;
		const Secstat__V1__Reply *p[1] = {build(&a, &cases[c].prev)};
		const Secstat__V1__Reply *q[1] = {build(&b, &cases[c].cur)};
		const struct secstat_rate *v, *e;
		secstat_rates *r = NULL;
		uint32_t flags;
		size_t n;

		print_message("case %s\n", cases[c].name);
		assert_int_equal(secstat_rates_compute_replies(p, q, 1, &r),
		                 ERROR_SUCCESS);
		v = secstat_rates_host(r, 0, &n, &flags);
		assert_int_equal(flags, cases[c].flags);
		/* Counters only: the gauge is never rated. */
		assert_int_equal(n, 2);
		assert_null(find(v, n,
		                 "statistics.aggregateSaStatistics."
		                 "activeSas"));
		e = find(v, n, ADDED);
		assert_non_null(e);
		assert_int_equal(e->delta, cases[c].added_delta);
		assert_true(fabs(e->per_second - cases[c].added_rate) < 1e-9);
		assert_int_equal(e->resets, cases[c].resets);
		e = find(v, n, DELETED);
		assert_int_equal(e->delta, cases[c].deleted_delta);
		assert_true(e->per_second >= 0.0);
		secstat_rates_free(r);
	}
}

static void
test_fleet_sums_and_missing(void **state)
{
	struct reply_mem m[5];
	static const struct sample s[5] = {
	    {1, 1000, 100, 0}, {1, 2000, 150, 0}, /* host 0: +50 in 1 s */
	    {7, 1000, 500, 0}, {8, 3000, 10, 0},  /* host 1: restart, +10 */
	    {1, 1000, 9, 0},                      /* host 2: gone */
	};
	const Secstat__V1__Reply *p[3] = {
	    build(&m[0], &s[0]), build(&m[2], &s[2]), build(&m[4], &s[4])};
	const Secstat__V1__Reply *q[3] = {build(&m[1], &s[1]),
	                                  build(&m[3], &s[3]), NULL};
	const struct secstat_rate *v, *e;
	secstat_rates *r = NULL;
	uint32_t flags;
	size_t n;

	(void)state;
	assert_int_equal(secstat_rates_compute_replies(p, q, 3, &r),
	                 ERROR_SUCCESS);
	secstat_rates_host(r, 2, &n, &flags);
	assert_int_equal(flags, SECSTAT_RATES_MISSING);
	assert_int_equal(n, 0);
	v = secstat_rates_fleet(r, &n);
	e = find(v, n, ADDED);
	assert_non_null(e);
	assert_int_equal(e->hosts, 2);
	assert_int_equal(e->resets, 1);
	/* Monotonic: 50 + 10, although the plain sum fell from 600 to 160. */
	assert_int_equal(e->delta, 60);
	assert_int_equal(e->value, 160);
	/* Each host over its own interval: 50/s + 10/2s. */
	assert_true(fabs(e->per_second - 55.0) < 1e-9);
	secstat_rates_free(r);

	assert_int_equal(secstat_rates_compute_replies(NULL, q, 3, &r),
	                 ERROR_INVALID_PARAMETER);
	assert_null(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_fleet_sums_and_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
