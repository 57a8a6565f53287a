/*
 * Test providers for the agent unit tests: their collect() result, delay
 * and values are driven by the test through struct fake_control, so the
 * registry, snapshot and server can be exercised without any real source.
 */
#ifndef SECSTAT_TEST_FAKE_PROVIDER_H
#define SECSTAT_TEST_FAKE_PROVIDER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "provider.h"

#define FAKE_MAX_STARTS 64

struct fake_control {
	pthread_mutex_t mtx;
	int collect_rv;    /* returned by collect(); 0: success */
	int init_rv;       /* returned by the next init() */
	unsigned delay_ms; /* collect() sleeps this long first */
	uint64_t value;    /* base of the values contributed */
	bool increment;    /* value++ after every collect */
	unsigned collects; /* collect() calls started */
	unsigned inits;    /* init() calls */
	uint64_t start_ms[FAKE_MAX_STARTS]; /* CLOCK_MONOTONIC */
};

/*
 * fake_ipsec_provider: IPsec family, observed. Contributes
 *   ipsec aggregate drop: invalid_spis_on_inbound = value,
 *                         total_drop_packets_inbound = value + 1 (v1 only)
 *   inbound traffic:      encrypted_byte_count = value,
 *                         total_successful_packets = value + 2 (v1 only)
 *   outbound traffic:     total_successful_packets = value + 3 (v1 only)
 * fake_sim_provider: IPsec and IKE, simulated. Contributes
 *   IKEv1 v4 total_main_modes_started = value,
 *   IKEv2 v4 total_main_modes_started = value + 10 (v1 only).
 */
extern const struct provider_ops fake_ipsec_provider;
extern const struct provider_ops fake_sim_provider;
extern struct fake_control fake_ipsec_control;
extern struct fake_control fake_sim_control;

/* Resets both controls to: success, no delay, value 100, no increment. */
void fake_reset(void);

void fake_set(struct fake_control *c, int collect_rv, unsigned delay_ms);
unsigned fake_collects(struct fake_control *c);

/* A configuration with the given collect interval and nothing else. */
void fake_config(struct agent_config *cfg, unsigned interval_ms);

uint64_t fake_now_ms(void);
void fake_sleep_ms(unsigned ms);

#endif
