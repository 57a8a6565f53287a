/* Provider threads, backoff, health and the latest records. */
#include "registry.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "log.h"
#include "providers/providers.h"

struct reg_provider {
	struct registry *r;
	const struct provider_ops *ops;
	void *state;
	bool initialised; /* provider thread only */
	pthread_t thread;
	bool started;

	pthread_mutex_t mtx; /* protects everything below */
	pthread_cond_t wake; /* trigger or stop */
	pthread_cond_t done; /* a collection completed */
	bool stop;
	bool triggered;
	void *records; /* latest successful collection */
	bool has_records;
	bool collecting;
	uint64_t collect_started_ms;
	uint64_t next_due_ms;
	uint64_t collect_ticket; /* trigger seq seen at collect start */
	uint64_t done_ticket;    /* of the last completed collect */
	Secstat__V1__Health health;
	char message[REGISTRY_MESSAGE_MAX];
	uint64_t last_success_unix_ms;
	uint64_t last_success_mono_ms;
	uint32_t consecutive_failures;
	bool has_duration;
	uint64_t duration_us;
	unsigned interval_ms;
	uint64_t completed;
};

struct registry {
	const struct agent_config *cfg;
	unsigned interval_ms;
	unsigned max_interval_ms;
	atomic_uint_fast64_t trigger_seq;
	size_t n;
	struct reg_provider p[];
};

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t
mono_ms(void)
{
	return clock_ns(CLOCK_MONOTONIC) / 1000000ULL;
}

static struct timespec
mono_deadline(uint64_t ms)
{
	return (struct timespec){
	    .tv_sec = (time_t)(ms / 1000),
	    .tv_nsec = (long)(ms % 1000) * 1000000L,
	};
}

static void
error_text(int err, char *buf, size_t len)
{
	/* XSI strerror_r: this file does not define _GNU_SOURCE. */
	if (strerror_r(err, buf, len) != 0) {
		snprintf(buf, len, "error %d", err);
	}
}

Secstat__V1__Health
registry_health_of(int err)
{
	switch (err) {
	case 0:
		return SECSTAT__V1__HEALTH__HEALTH_OK;
	case -ENOENT:
	case -ENODEV:
	case -EPROTONOSUPPORT:
		return SECSTAT__V1__HEALTH__HEALTH_ABSENT;
	case -EACCES:
	case -EPERM:
		return SECSTAT__V1__HEALTH__HEALTH_DENIED;
	default:
		return SECSTAT__V1__HEALTH__HEALTH_FAILING;
	}
}

static const char *
health_word(Secstat__V1__Health h)
{
	switch (h) {
	case SECSTAT__V1__HEALTH__HEALTH_OK:
		return "ok";
	case SECSTAT__V1__HEALTH__HEALTH_ABSENT:
		return "absent";
	case SECSTAT__V1__HEALTH__HEALTH_DENIED:
		return "denied";
	case SECSTAT__V1__HEALTH__HEALTH_STALE:
		return "stale";
	case SECSTAT__V1__HEALTH__HEALTH_DISABLED:
		return "disabled";
	default:
		return "failing";
	}
}

/* Records that `ops` is not run, with its health and reason. */
static void
left_out(struct registry_left_out *left, size_t *n_left, size_t max,
         const struct provider_ops *ops, Secstat__V1__Health health,
         const char *why, const char *detail)
{
	struct registry_left_out *l;

	if (left == NULL || *n_left >= max) {
		return;
	}
	l = &left[(*n_left)++];
	l->ops = ops;
	l->health = health;
	/* The reason is cut to fit, like every provider message. */
	snprintf(l->message, sizeof(l->message), "%.40s%s%.80s", why,
	         detail != NULL ? ": " : "", detail != NULL ? detail : "");
}

int
registry_select(const struct agent_config *cfg, const struct provider_ops **out,
                size_t max, size_t *n, struct registry_left_out *left,
                size_t *n_left)
{
	size_t ignored;

	if (n_left == NULL) {
		n_left = &ignored;
	}
	*n = 0;
	*n_left = 0;
	for (size_t i = 0; i < cfg->n_providers; i++) {
		if (providers_find(cfg->providers[i]) == NULL) {
			log_err("unknown provider '%s'", cfg->providers[i]);
			return -ENOENT;
		}
	}
	for (size_t i = 0; providers_builtin[i] != NULL && *n < max; i++) {
		const struct provider_ops *ops = providers_builtin[i];
		bool on = false;

		if (cfg->n_providers > 0) {
			for (size_t j = 0; j < cfg->n_providers; j++) {
				on = on ||
				     strcmp(cfg->providers[j], ops->name) == 0;
			}
			if (!on) {
				left_out(left, n_left, max, ops,
				         SECSTAT__V1__HEALTH__HEALTH_DISABLED,
				         "not in the configured providers",
				         NULL);
			}
		} else if (ops->simulated) {
			log_debug("%s provider: simulated, enabled only when "
			          "named",
			          ops->name);
			left_out(left, n_left, max, ops,
			         SECSTAT__V1__HEALTH__HEALTH_DISABLED,
			         "simulated: runs only when named", NULL);
		} else if (ops->probe != NULL) {
			char what[REGISTRY_MESSAGE_MAX] = "";
			int rv = ops->probe(cfg, what, sizeof(what));

			if (rv == 0) {
				on = true;
			} else if (rv == PROVIDER_NOT_CONFIGURED) {
				left_out(left, n_left, max, ops,
				         SECSTAT__V1__HEALTH__HEALTH_DISABLED,
				         "not configured", NULL);
			} else {
				char err[64], msg[REGISTRY_MESSAGE_MAX];

				error_text(-rv, err, sizeof(err));
				snprintf(msg, sizeof(msg), "%.60s%s%.60s", what,
				         what[0] != '\0' ? ": " : "", err);
				log_info("%s provider: not detected: %s",
				         ops->name, msg);
				/* Anything but "denied" means the source is
				 * not on this host as far as the probe can
				 * tell. */
				left_out(left, n_left, max, ops,
				         rv == -EACCES || rv == -EPERM
				             ? SECSTAT__V1__HEALTH__HEALTH_DENIED
				             : SECSTAT__V1__HEALTH__HEALTH_ABSENT,
				         "not detected", msg);
			}
		} else {
			on = true;
		}
		if (on) {
			out[(*n)++] = ops;
		}
	}
	return 0;
}

static void
check_ops(const struct provider_ops *ops)
{
	const char *missing = NULL;

	if (ops == NULL || ops->name == NULL) {
		missing = "name";
	} else if (ops->abi_version != PROVIDER_ABI_VERSION) {
		missing = "abi_version";
	} else if (ops->collect == NULL) {
		missing = "collect";
	} else if (ops->contribute == NULL) {
		missing = "contribute";
	} else if (ops->records_free == NULL) {
		missing = "records_free";
	}
	if (missing != NULL) {
		/* A broken ops table is a build defect, never a run-time
		 * condition: refuse to start, in release builds too. */
		log_err("%s provider: invalid ops table (%s)",
		        ops && ops->name ? ops->name : "unnamed", missing);
		abort();
	}
}

int
registry_create(struct registry **rp, const struct agent_config *cfg,
                const struct provider_ops *const *ops, size_t n,
                const struct registry_params *params)
{
	struct registry *r;
	pthread_condattr_t ca;

	*rp = NULL;
	for (size_t i = 0; i < n; i++) {
		check_ops(ops[i]);
	}
	r = calloc(1, sizeof(*r) + n * sizeof(r->p[0]));
	if (r == NULL) {
		return -ENOMEM;
	}
	r->cfg = cfg;
	r->interval_ms = params->interval_ms ? params->interval_ms : 1000;
	r->max_interval_ms = params->max_interval_ms ? params->max_interval_ms
	                                             : REGISTRY_MAX_INTERVAL_MS;
	if (r->max_interval_ms < r->interval_ms) {
		r->max_interval_ms = r->interval_ms;
	}
	atomic_init(&r->trigger_seq, 0);
	r->n = n;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	for (size_t i = 0; i < n; i++) {
		struct reg_provider *p = &r->p[i];

		p->r = r;
		p->ops = ops[i];
		p->health = SECSTAT__V1__HEALTH__HEALTH_UNSPECIFIED;
		p->interval_ms = r->interval_ms;
		snprintf(p->message, sizeof(p->message),
		         "no collection completed yet");
		pthread_mutex_init(&p->mtx, NULL);
		pthread_cond_init(&p->wake, &ca);
		pthread_cond_init(&p->done, &ca);
	}
	pthread_condattr_destroy(&ca);
	*rp = r;
	return 0;
}

/* Called with p->mtx held. */
static void
finish_collect(struct reg_provider *p, int rv, void *records, uint64_t start_ms,
               uint64_t duration_us, void **old)
{
	struct registry *r = p->r;
	Secstat__V1__Health prev = p->health;
	uint64_t now = mono_ms();

	p->collecting = false;
	p->has_duration = true;
	p->duration_us = duration_us;
	p->done_ticket = p->collect_ticket;
	p->completed++;
	*old = p->records;
	if (rv == 0) {
		p->records = records;
		p->has_records = true;
		p->health = SECSTAT__V1__HEALTH__HEALTH_OK;
		p->message[0] = '\0';
		p->consecutive_failures = 0;
		p->interval_ms = r->interval_ms;
		p->last_success_mono_ms = now;
		p->last_success_unix_ms = clock_ns(CLOCK_REALTIME) / 1000000ULL;
		if (prev != SECSTAT__V1__HEALTH__HEALTH_OK &&
		    prev != SECSTAT__V1__HEALTH__HEALTH_UNSPECIFIED) {
			log_notice("%s provider: collecting again",
			           p->ops->name);
		}
	} else {
		/* A failed source serves nothing: old records would pass
		 * for current ones. */
		p->records = NULL;
		p->has_records = false;
		p->health = registry_health_of(rv);
		error_text(-rv, p->message, sizeof(p->message));
		p->consecutive_failures++;
		p->interval_ms = p->interval_ms >= r->max_interval_ms / 2
		                     ? r->max_interval_ms
		                     : p->interval_ms * 2;
		if (p->health != prev) {
			log_warning("%s provider: collect: %s (%s, retrying "
			            "in %u ms)",
			            p->ops->name, p->message,
			            health_word(p->health), p->interval_ms);
		} else {
			log_debug("%s provider: collect: %s (failure %u, "
			          "retrying in %u ms)",
			          p->ops->name, p->message,
			          p->consecutive_failures, p->interval_ms);
		}
	}
	/* Intervals run from the start of a collection, like collectd's,
	 * so a slow source does not drift. */
	p->next_due_ms = start_ms + p->interval_ms;
	if (p->next_due_ms < now) {
		p->next_due_ms = now;
	}
	pthread_cond_broadcast(&p->done);
}

static void *
provider_main(void *arg)
{
	struct reg_provider *p = arg;
	struct registry *r = p->r;

	pthread_mutex_lock(&p->mtx);
	while (!p->stop) {
		uint64_t now = mono_ms();
		uint64_t start_ms, t0, t1;
		void *records = NULL;
		void *old = NULL;
		int rv = 0;

		if (!p->triggered && now < p->next_due_ms) {
			struct timespec ts = mono_deadline(p->next_due_ms);
			pthread_cond_timedwait(&p->wake, &p->mtx, &ts);
			continue;
		}
		p->triggered = false;
		p->collecting = true;
		p->collect_started_ms = now;
		p->collect_ticket = atomic_load(&r->trigger_seq);
		start_ms = now;
		pthread_mutex_unlock(&p->mtx);

		t0 = clock_ns(CLOCK_MONOTONIC);
		if (!p->initialised && p->ops->init != NULL) {
			rv = p->ops->init(r->cfg, &p->state);
		}
		if (rv == 0) {
			p->initialised = true;
			rv = p->ops->collect(p->state, &records);
			if (rv > 0) {
				rv = -EPROTO; /* not a valid errno contract */
			}
			if (rv != 0 && records != NULL) {
				p->ops->records_free(records);
				records = NULL;
			}
		}
		t1 = clock_ns(CLOCK_MONOTONIC);

		pthread_mutex_lock(&p->mtx);
		finish_collect(p, rv, records, start_ms, (t1 - t0) / 1000,
		               &old);
		pthread_mutex_unlock(&p->mtx);
		if (old != NULL) {
			p->ops->records_free(old);
		}
		pthread_mutex_lock(&p->mtx);
	}
	pthread_mutex_unlock(&p->mtx);
	return NULL;
}

int
registry_start(struct registry *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct reg_provider *p = &r->p[i];
		int rv;

		rv = pthread_create(&p->thread, NULL, provider_main, p);
		if (rv != 0) {
			log_err("%s provider: cannot start thread: %s",
			        p->ops->name, strerror(rv));
			return -rv;
		}
		p->started = true;
		log_info("%s provider: started (%s)", p->ops->name,
		         p->ops->simulated ? "simulated" : "observed");
	}
	return 0;
}

void
registry_destroy(struct registry *r)
{
	if (r == NULL) {
		return;
	}
	for (size_t i = 0; i < r->n; i++) {
		struct reg_provider *p = &r->p[i];

		pthread_mutex_lock(&p->mtx);
		p->stop = true;
		pthread_cond_broadcast(&p->wake);
		pthread_cond_broadcast(&p->done);
		pthread_mutex_unlock(&p->mtx);
	}
	for (size_t i = 0; i < r->n; i++) {
		struct reg_provider *p = &r->p[i];

		if (p->started) {
			pthread_join(p->thread, NULL);
		}
		if (p->records != NULL) {
			p->ops->records_free(p->records);
		}
		if (p->initialised && p->ops->fini != NULL) {
			p->ops->fini(p->state);
		}
		pthread_cond_destroy(&p->wake);
		pthread_cond_destroy(&p->done);
		pthread_mutex_destroy(&p->mtx);
	}
	free(r);
}

size_t
registry_count(const struct registry *r)
{
	return r->n;
}

/* Called with p->mtx held. */
static void
fill_status(const struct reg_provider *p, uint64_t now,
            struct registry_status *st)
{
	memset(st, 0, sizeof(*st));
	st->ops = p->ops;
	st->health = p->health;
	st->has_records = p->has_records;
	st->last_success_unix_ms = p->last_success_unix_ms;
	st->last_success_mono_ms = p->last_success_mono_ms;
	st->consecutive_failures = p->consecutive_failures;
	st->has_duration = p->has_duration;
	st->collect_duration_us = p->duration_us;
	st->interval_ms = p->interval_ms;
	st->completed = p->completed;
	snprintf(st->message, sizeof(st->message), "%s", p->message);
	/* A collection stuck beyond two intervals: say so, and keep
	 * serving the last records (they are the best there is). */
	if (p->collecting &&
	    now - p->collect_started_ms > 2ULL * p->r->interval_ms) {
		st->health = SECSTAT__V1__HEALTH__HEALTH_STALE;
		snprintf(st->message, sizeof(st->message),
		         "collection running for %llu ms",
		         (unsigned long long)(now - p->collect_started_ms));
	}
}

void
registry_status(struct registry *r, size_t i, struct registry_status *st)
{
	struct reg_provider *p = &r->p[i];

	pthread_mutex_lock(&p->mtx);
	fill_status(p, mono_ms(), st);
	pthread_mutex_unlock(&p->mtx);
}

void
registry_contribute(struct registry *r, struct stats_tree *tree,
                    struct registry_status *st)
{
	uint64_t now = mono_ms();

	for (size_t i = 0; i < r->n; i++) {
		struct reg_provider *p = &r->p[i];

		pthread_mutex_lock(&p->mtx);
		if (st != NULL) {
			fill_status(p, now, &st[i]);
		}
		if (p->has_records && p->records != NULL) {
			p->ops->contribute(p->records, tree);
		}
		pthread_mutex_unlock(&p->mtx);
	}
}

uint64_t
registry_trigger(struct registry *r)
{
	uint64_t ticket = atomic_fetch_add(&r->trigger_seq, 1) + 1;

	for (size_t i = 0; i < r->n; i++) {
		struct reg_provider *p = &r->p[i];

		pthread_mutex_lock(&p->mtx);
		p->triggered = true;
		pthread_cond_signal(&p->wake);
		pthread_mutex_unlock(&p->mtx);
	}
	return ticket;
}

int
registry_wait(struct registry *r, uint64_t ticket, unsigned timeout_ms)
{
	struct timespec ts = mono_deadline(mono_ms() + timeout_ms);
	int rv = 0;

	for (size_t i = 0; i < r->n && rv == 0; i++) {
		struct reg_provider *p = &r->p[i];

		pthread_mutex_lock(&p->mtx);
		while (p->done_ticket < ticket && !p->stop) {
			if (pthread_cond_timedwait(&p->done, &p->mtx, &ts) ==
			    ETIMEDOUT) {
				rv = p->done_ticket < ticket ? -ETIMEDOUT : 0;
				break;
			}
		}
		pthread_mutex_unlock(&p->mtx);
	}
	return rv;
}
