/*
 * The sim provider: a simulated host. Every statistic of the model gets a
 * value that is a pure function of (cfg->sim_seed, number of collections
 * since init), so two agents with the same seed answer byte for byte the
 * same and a test can replay them. Counters only grow, gauges stay within
 * their counters, and sums hold (docs/data-model.md, "sim").
 *
 * Replies say the values are simulated (provider_ops.simulated); the
 * core enables this provider only when it is named.
 */
#ifndef SECSTAT_PROVIDER_SIM_H
#define SECSTAT_PROVIDER_SIM_H

#include <stdint.h>

#include "provider.h"

extern const struct provider_ops sim_provider;

struct sim_sa_table;

/* What one collection produced: the host and the instant it is at. */
struct sim_records {
	uint64_t seed;
	uint64_t collection; /* 0 for the first collection after init */
	/* The --sim-sas listing, built once at init and shared (counted
	 * reference) by the state and every records object; NULL when
	 * --sim-sas is 0. */
	struct sim_sa_table *sas;
};

#endif /* SECSTAT_PROVIDER_SIM_H */
