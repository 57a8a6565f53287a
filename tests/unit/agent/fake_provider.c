/* Test providers driven by struct fake_control. */
#include "fake_provider.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats_tree.h"

struct fake_control fake_ipsec_control = {.mtx = PTHREAD_MUTEX_INITIALIZER};
struct fake_control fake_sim_control = {.mtx = PTHREAD_MUTEX_INITIALIZER};

struct fake_records {
	uint64_t value;
};

uint64_t
fake_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
fake_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static void
reset_one(struct fake_control *c)
{
	pthread_mutex_lock(&c->mtx);
	c->collect_rv = 0;
	c->init_rv = 0;
	c->delay_ms = 0;
	c->value = 100;
	c->increment = false;
	c->collects = 0;
	c->inits = 0;
	memset(c->start_ms, 0, sizeof(c->start_ms));
	pthread_mutex_unlock(&c->mtx);
}

void
fake_reset(void)
{
	reset_one(&fake_ipsec_control);
	reset_one(&fake_sim_control);
}

void
fake_set(struct fake_control *c, int collect_rv, unsigned delay_ms)
{
	pthread_mutex_lock(&c->mtx);
	c->collect_rv = collect_rv;
	c->delay_ms = delay_ms;
	pthread_mutex_unlock(&c->mtx);
}

unsigned
fake_collects(struct fake_control *c)
{
	unsigned n;

	pthread_mutex_lock(&c->mtx);
	n = c->collects;
	pthread_mutex_unlock(&c->mtx);
	return n;
}

void
fake_config(struct agent_config *cfg, unsigned interval_ms)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->collect_interval_ms = interval_ms;
	cfg->procfs_root = "/nonexistent";
	cfg->sysfs_root = "/nonexistent";
	cfg->hostname = "fakehost";
}

static int
init_with(struct fake_control *c, void **state)
{
	int rv;

	pthread_mutex_lock(&c->mtx);
	c->inits++;
	rv = c->init_rv;
	c->init_rv = 0; /* fails once */
	pthread_mutex_unlock(&c->mtx);
	*state = c;
	return rv;
}

static int
ipsec_init(const struct agent_config *cfg, void **state)
{
	return init_with(&fake_ipsec_control, state);
}

static int
sim_init(const struct agent_config *cfg, void **state)
{
	return init_with(&fake_sim_control, state);
}

static int
fake_collect(void *state, void **records)
{
	struct fake_control *c = state;
	struct fake_records *r;
	unsigned delay;
	int rv;

	pthread_mutex_lock(&c->mtx);
	if (c->collects < FAKE_MAX_STARTS) {
		c->start_ms[c->collects] = fake_now_ms();
	}
	c->collects++;
	delay = c->delay_ms;
	pthread_mutex_unlock(&c->mtx);

	if (delay > 0) {
		fake_sleep_ms(delay);
	}

	pthread_mutex_lock(&c->mtx);
	rv = c->collect_rv;
	if (rv == 0) {
		r = malloc(sizeof(*r));
		if (r == NULL) {
			rv = -ENOMEM;
		} else {
			r->value = c->value;
			*records = r;
		}
		if (c->increment) {
			c->value++;
		}
	}
	pthread_mutex_unlock(&c->mtx);
	return rv;
}

static void
ipsec_contribute(const void *records, struct stats_tree *t)
{
	const struct fake_records *r = records;

	TREE_SET(&t->ipsec_drop, invalid_spis_on_inbound, r->value);
	TREE_SET(&t->ipsec_drop, total_drop_packets_inbound, r->value + 1);
	TREE_SET(&t->ipsec_in, encrypted_byte_count, r->value);
	TREE_SET(&t->ipsec_in, total_successful_packets, r->value + 2);
	TREE_SET(&t->ipsec_out, total_successful_packets, r->value + 3);
}

static void
sim_contribute(const void *records, struct stats_tree *t)
{
	const struct fake_records *r = records;

	TREE_SET(&t->km_ip[KEY_MODULE_IKE][IP_V4], total_main_modes_started,
	         r->value);
	TREE_SET(&t->km_ip[KEY_MODULE_IKEV2][IP_V4], total_main_modes_started,
	         r->value + 10);
}

static void
fake_records_free(void *records)
{
	free(records);
}

const struct provider_ops fake_ipsec_provider = {
    .abi_version = PROVIDER_ABI_VERSION,
    .name = "fake-ipsec",
    .description = "test provider (IPsec)",
    .families = PROVIDES_IPSEC,
    .simulated = false,
    .init = ipsec_init,
    .collect = fake_collect,
    .contribute = ipsec_contribute,
    .records_free = fake_records_free,
};

const struct provider_ops fake_sim_provider = {
    .abi_version = PROVIDER_ABI_VERSION,
    .name = "fake-sim",
    .description = "test provider (simulated IPsec and IKE)",
    .families = PROVIDES_IPSEC | PROVIDES_IKE,
    .simulated = true,
    .init = sim_init,
    .collect = fake_collect,
    .contribute = sim_contribute,
    .records_free = fake_records_free,
};
