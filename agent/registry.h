/*
 * The provider registry: runs every enabled provider on its own thread,
 * on its own interval, with collectd-style backoff (the interval doubles
 * after each failed collection up to a ceiling and resets on success), and
 * keeps each provider's latest records and health for the snapshot
 * builder. A slow or broken source never delays another provider, a
 * snapshot build or a request.
 *
 * Threading: registry_create/start/destroy from one thread; everything
 * else from any thread.
 */
#ifndef SECSTAT_AGENT_REGISTRY_H
#define SECSTAT_AGENT_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "provider.h"
#include "secstat/v1/meta.pb-c.h"

struct agent_config;
struct registry;
struct stats_tree;

/* Backoff ceiling (collectd's max_read_interval). */
#define REGISTRY_MAX_INTERVAL_MS 60000
/* Longest message kept per provider. */
#define REGISTRY_MESSAGE_MAX 128

struct registry_params {
	unsigned interval_ms; /* collect interval, also the base of backoff */
	unsigned max_interval_ms; /* 0: REGISTRY_MAX_INTERVAL_MS */
};

/* One provider as the snapshot sees it. */
struct registry_status {
	const struct provider_ops *ops;
	Secstat__V1__Health health;
	char message[REGISTRY_MESSAGE_MAX]; /* "" when OK */
	bool has_records;              /* its latest collection succeeded */
	uint64_t last_success_unix_ms; /* 0: never */
	uint64_t last_success_mono_ms; /* CLOCK_MONOTONIC, 0: never */
	uint32_t consecutive_failures;
	bool has_duration;
	uint64_t collect_duration_us; /* of the last completed collection */
	unsigned interval_ms;         /* current interval, with backoff */
	uint64_t completed;           /* collections completed so far */
};

/* A built-in provider the agent does not run, and why: HEALTH_ABSENT or
 * HEALTH_DENIED with the probe's answer when auto-detection left it out,
 * HEALTH_DISABLED when the configuration did. */
struct registry_left_out {
	const struct provider_ops *ops;
	Secstat__V1__Health health;
	char message[REGISTRY_MESSAGE_MAX];
};

/*
 * The built-in providers to run for `cfg`, in providers_builtin order:
 * the named ones, or every non-simulated provider whose probe() succeeds
 * (or that has none). Writes at most `max` into `out`, and (when `left`
 * is not NULL) at most `max` of the others, with the reason, into
 * `left`. Returns 0 or -ENOENT when a named provider is not built in.
 */
int registry_select(const struct agent_config *cfg,
                    const struct provider_ops **out, size_t max, size_t *n,
                    struct registry_left_out *left, size_t *n_left);

/*
 * A registry for `n` providers, in contribution order. Checks every
 * mandatory op and the ABI version (aborts on a broken ops table, as
 * that is a build defect). `cfg` must outlive the registry. No thread
 * runs before registry_start().
 */
int registry_create(struct registry **rp, const struct agent_config *cfg,
                    const struct provider_ops *const *ops, size_t n,
                    const struct registry_params *params);
/* Starts one thread per provider; each collects at once. */
int registry_start(struct registry *r);
/* Stops and joins the threads (waiting for a running collect), frees
 * every provider's records and state, then `r`. NULL is a no-op. */
void registry_destroy(struct registry *r);

size_t registry_count(const struct registry *r);

/* Provider `i`'s current status. */
void registry_status(struct registry *r, size_t i, struct registry_status *st);

/*
 * Calls every provider's contribute() on its latest records, in registry
 * order, each under its provider's lock so that records are not swapped
 * out mid-contribution. When `st` is not NULL it receives
 * registry_count() statuses consistent with what was contributed.
 */
void registry_contribute(struct registry *r, struct stats_tree *tree,
                         struct registry_status *st);

/*
 * Asks every provider thread to collect now, whatever its interval or
 * backoff. Returns a ticket for registry_wait().
 */
uint64_t registry_trigger(struct registry *r);

/* Waits until every provider has completed a collection that started
 * after the trigger that returned `ticket`, at most `timeout_ms`.
 * Returns 0, or -ETIMEDOUT when some provider is still collecting. */
int registry_wait(struct registry *r, uint64_t ticket, unsigned timeout_ms);

/* Maps a collect()/init() error to a health value (provider.h). */
Secstat__V1__Health registry_health_of(int err);

#endif /* SECSTAT_AGENT_REGISTRY_H */
