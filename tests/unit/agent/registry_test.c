/* registry: provider threads, backoff, health, staleness, triggers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fake_provider.h"
#include "providers/providers.h"
#include "registry.h"
#include "stats_tree.h"

static struct agent_config cfg;

static int
setup(void **state)
{
	fake_reset();
	return 0;
}

static struct registry *
start_one(const struct provider_ops *ops, unsigned interval_ms, unsigned max_ms)
{
	struct registry_params params = {interval_ms, max_ms};
	struct registry *r;

	fake_config(&cfg, interval_ms);
	assert_int_equal(registry_create(&r, &cfg, &ops, 1, &params), 0);
	assert_int_equal(registry_start(r), 0);
	return r;
}

/* Polls until provider 0 has completed `n` collections (bounded). */
static void
wait_completed(struct registry *r, uint64_t n, unsigned timeout_ms)
{
	struct registry_status st;
	uint64_t end = fake_now_ms() + timeout_ms;

	do {
		registry_status(r, 0, &st);
		if (st.completed >= n) {
			return;
		}
		fake_sleep_ms(2);
	} while (fake_now_ms() < end);
	fail_msg("%llu collections after %u ms, wanted %llu",
	         (unsigned long long)st.completed, timeout_ms,
	         (unsigned long long)n);
}

static void
test_health_of(void **state)
{
	static const struct {
		int err;
		Secstat__V1__Health health;
	} cases[] = {
	    {0, SECSTAT__V1__HEALTH__HEALTH_OK},
	    {-ENOENT, SECSTAT__V1__HEALTH__HEALTH_ABSENT},
	    {-ENODEV, SECSTAT__V1__HEALTH__HEALTH_ABSENT},
	    {-EPROTONOSUPPORT, SECSTAT__V1__HEALTH__HEALTH_ABSENT},
	    {-EACCES, SECSTAT__V1__HEALTH__HEALTH_DENIED},
	    {-EPERM, SECSTAT__V1__HEALTH__HEALTH_DENIED},
	    {-EIO, SECSTAT__V1__HEALTH__HEALTH_FAILING},
	    {-ECONNREFUSED, SECSTAT__V1__HEALTH__HEALTH_FAILING},
	    {-ETIMEDOUT, SECSTAT__V1__HEALTH__HEALTH_FAILING},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(registry_health_of(cases[i].err),
		                 cases[i].health);
	}
}

/* The same mapping through a running provider: health, message and the
 * records being dropped. */
static void
test_health_from_collect(void **state)
{
	static const struct {
		int err;
		Secstat__V1__Health health;
		const char *message;
	} cases[] = {
	    {-ENOENT, SECSTAT__V1__HEALTH__HEALTH_ABSENT,
	     "No such file or directory"},
	    {-EACCES, SECSTAT__V1__HEALTH__HEALTH_DENIED, "Permission denied"},
	    {-EIO, SECSTAT__V1__HEALTH__HEALTH_FAILING, "Input/output error"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct registry *r;
		struct registry_status st;

		fake_reset();
		r = start_one(&fake_ipsec_provider, 10000, 0);
		wait_completed(r, 1, 2000);
		registry_status(r, 0, &st);
		assert_int_equal(st.health, SECSTAT__V1__HEALTH__HEALTH_OK);
		assert_true(st.has_records);
		assert_string_equal(st.message, "");

		fake_set(&fake_ipsec_control, cases[i].err, 0);
		assert_int_equal(registry_wait(r, registry_trigger(r), 2000),
		                 0);
		registry_status(r, 0, &st);
		assert_int_equal(st.health, cases[i].health);
		assert_string_equal(st.message, cases[i].message);
		assert_false(st.has_records);
		assert_int_equal(st.consecutive_failures, 1);
		assert_true(st.last_success_unix_ms > 0);
		registry_destroy(r);
	}
}

/* collectd's rf_effective_interval: doubles after each failure up to
 * the ceiling, back to the base after a success. */
static void
test_backoff(void **state)
{
	const unsigned base = 20, max = 160;
	const unsigned expect[] = {40, 80, 160, 160, 160};
	struct registry *r;
	struct registry_status st;
	uint64_t starts[6];

	fake_set(&fake_ipsec_control, -EIO, 0);
	r = start_one(&fake_ipsec_provider, base, max);
	wait_completed(r, 6, 5000);
	registry_status(r, 0, &st);
	assert_int_equal(st.health, SECSTAT__V1__HEALTH__HEALTH_FAILING);
	assert_true(st.consecutive_failures >= 6);
	assert_int_equal(st.interval_ms, max);

	pthread_mutex_lock(&fake_ipsec_control.mtx);
	memcpy(starts, fake_ipsec_control.start_ms, sizeof(starts));
	pthread_mutex_unlock(&fake_ipsec_control.mtx);
	for (size_t i = 0; i < 5; i++) {
		uint64_t gap = starts[i + 1] - starts[i];
		/* Timers fire late, never early. */
		if (gap + 2 < expect[i] || gap > expect[i] + 250) {
			fail_msg("gap %zu is %llu ms, expected %u", i,
			         (unsigned long long)gap, expect[i]);
		}
	}

	fake_set(&fake_ipsec_control, 0, 0);
	assert_int_equal(registry_wait(r, registry_trigger(r), 2000), 0);
	registry_status(r, 0, &st);
	assert_int_equal(st.health, SECSTAT__V1__HEALTH__HEALTH_OK);
	assert_int_equal(st.consecutive_failures, 0);
	assert_int_equal(st.interval_ms, base);
	assert_true(st.last_success_unix_ms > 0);
	assert_true(st.has_duration);
	registry_destroy(r);
}

/* A collect running beyond two intervals: STALE, last records kept. */
static void
test_stale(void **state)
{
	struct registry *r;
	struct registry_status st;
	struct stats_tree tree;

	unsigned before;
	uint64_t end;

	r = start_one(&fake_ipsec_provider, 20, 0);
	wait_completed(r, 1, 2000);
	before = fake_collects(&fake_ipsec_control);
	fake_set(&fake_ipsec_control, 0, 1000);
	/* The collect in flight may predate the change: wait for one
	 * that started after it, then let it run past 2 x 20 ms. */
	end = fake_now_ms() + 3000;
	while (fake_collects(&fake_ipsec_control) < before + 2 &&
	       fake_now_ms() < end) {
		fake_sleep_ms(2);
	}
	fake_sleep_ms(100);
	registry_status(r, 0, &st);
	assert_int_equal(st.health, SECSTAT__V1__HEALTH__HEALTH_STALE);
	assert_non_null(strstr(st.message, "collection running for"));
	assert_true(st.has_records);

	stats_tree_init(&tree);
	registry_contribute(r, &tree, &st);
	assert_int_equal(st.health, SECSTAT__V1__HEALTH__HEALTH_STALE);
	assert_true(tree.ipsec_drop.has_invalid_spis_on_inbound);
	assert_int_equal(tree.ipsec_drop.invalid_spis_on_inbound, 100);
	stats_tree_release(&tree);

	fake_set(&fake_ipsec_control, 0, 0);
	assert_int_equal(registry_wait(r, registry_trigger(r), 3000), 0);
	registry_status(r, 0, &st);
	assert_int_equal(st.health, SECSTAT__V1__HEALTH__HEALTH_OK);
	registry_destroy(r);
}

static void
test_trigger_and_wait(void **state)
{
	struct registry *r;
	unsigned before;

	/* Interval far in the future: only triggers collect. */
	r = start_one(&fake_ipsec_provider, 60000, 0);
	wait_completed(r, 1, 2000);
	before = fake_collects(&fake_ipsec_control);
	assert_int_equal(registry_wait(r, registry_trigger(r), 2000), 0);
	assert_int_equal(fake_collects(&fake_ipsec_control), before + 1);

	/* A provider slower than the wait: bounded, -ETIMEDOUT. */
	fake_set(&fake_ipsec_control, 0, 300);
	uint64_t t0 = fake_now_ms();
	assert_int_equal(registry_wait(r, registry_trigger(r), 50), -ETIMEDOUT);
	assert_true(fake_now_ms() - t0 < 250);
	registry_destroy(r); /* joins the slow collect */
}

/* init() failing is retried like a failed collect. */
static void
test_init_retry(void **state)
{
	struct registry *r;
	struct registry_status st;

	fake_ipsec_control.init_rv = -ENOENT;
	r = start_one(&fake_ipsec_provider, 10, 0);
	wait_completed(r, 2, 2000);
	registry_status(r, 0, &st);
	assert_int_equal(st.health, SECSTAT__V1__HEALTH__HEALTH_OK);
	assert_int_equal(fake_ipsec_control.inits, 2);
	registry_destroy(r);
}

/* Contribution follows registry order and skips failed providers. */
static void
test_contribute(void **state)
{
	const struct provider_ops *ops[] = {&fake_ipsec_provider,
	                                    &fake_sim_provider};
	struct registry_params params = {60000, 0};
	struct registry *r;
	struct registry_status st[2];
	struct stats_tree tree;

	fake_config(&cfg, 60000);
	fake_sim_control.value = 7;
	fake_set(&fake_ipsec_control, -EACCES, 0);
	assert_int_equal(registry_create(&r, &cfg, ops, 2, &params), 0);
	assert_int_equal(registry_count(r), 2);
	assert_int_equal(registry_start(r), 0);
	assert_int_equal(registry_wait(r, registry_trigger(r), 2000), 0);

	stats_tree_init(&tree);
	registry_contribute(r, &tree, st);
	assert_ptr_equal(st[0].ops, &fake_ipsec_provider);
	assert_ptr_equal(st[1].ops, &fake_sim_provider);
	assert_int_equal(st[0].health, SECSTAT__V1__HEALTH__HEALTH_DENIED);
	assert_int_equal(st[1].health, SECSTAT__V1__HEALTH__HEALTH_OK);
	assert_false(tree.ipsec_drop.has_invalid_spis_on_inbound);
	assert_int_equal(
	    tree.km_ip[KEY_MODULE_IKE][IP_V4].total_main_modes_started, 7);
	stats_tree_release(&tree);
	registry_destroy(r);
}

/* Selection: named providers in built-in order; auto-detection never
 * enables a simulated provider. */
static void
test_select(void **state)
{
	const struct provider_ops *out[16];
	size_t n;
	char *names[16];
	size_t n_builtin = 0;

	fake_config(&cfg, 1000);
	cfg.procfs_root = "/proc";
	assert_int_equal(registry_select(&cfg, out, 16, &n, NULL, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		assert_false(out[i]->simulated);
	}

	/* Every built-in, named in reverse order. */
	while (providers_builtin[n_builtin] != NULL) {
		n_builtin++;
	}
	for (size_t i = 0; i < n_builtin; i++) {
		names[i] = (char *)providers_builtin[n_builtin - 1 - i]->name;
	}
	cfg.providers = names;
	cfg.n_providers = n_builtin;
	assert_int_equal(registry_select(&cfg, out, 16, &n, NULL, NULL), 0);
	assert_int_equal(n, n_builtin);
	for (size_t i = 0; i < n; i++) {
		assert_ptr_equal(out[i], providers_builtin[i]);
	}

	names[0] = "no-such-provider";
	cfg.n_providers = 1;
	assert_int_equal(registry_select(&cfg, out, 16, &n, NULL, NULL), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_health_of, setup),
	    cmocka_unit_test_setup(test_health_from_collect, setup),
	    cmocka_unit_test_setup(test_backoff, setup),
	    cmocka_unit_test_setup(test_stale, setup),
	    cmocka_unit_test_setup(test_trigger_and_wait, setup),
	    cmocka_unit_test_setup(test_init_retry, setup),
	    cmocka_unit_test_setup(test_contribute, setup),
	    cmocka_unit_test_setup(test_select, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
