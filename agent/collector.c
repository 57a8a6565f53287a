/* The collector thread and the current-snapshot pointer. */
#include "collector.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "registry.h"

struct collector {
	const struct snapshot_source *src;
	unsigned interval_ms;

	/* Held only to copy or swap `current`: never during a build. */
	pthread_mutex_t cur_mtx;
	struct snapshot *current;

	/* Serialises builds (thread and collector_refresh callers). */
	pthread_mutex_t build_mtx;
	uint64_t seq;

	pthread_mutex_t mtx; /* protects the fields below */
	pthread_cond_t cv;
	bool stop;
	bool refresh_requested;
	pthread_t thread;
	bool started;
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000ULL +
	       (uint64_t)ts.tv_nsec / 1000000ULL;
}

int
collector_create(struct collector **cp, const struct snapshot_source *src,
                 unsigned interval_ms)
{
	struct collector *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;

	*cp = NULL;
	if (c == NULL) {
		return -ENOMEM;
	}
	c->src = src;
	c->interval_ms = interval_ms ? interval_ms : 1000;
	pthread_mutex_init(&c->cur_mtx, NULL);
	pthread_mutex_init(&c->build_mtx, NULL);
	pthread_mutex_init(&c->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	*cp = c;
	return 0;
}

static void
install(struct collector *c, struct snapshot *s)
{
	struct snapshot *old;

	pthread_mutex_lock(&c->cur_mtx);
	old = c->current;
	c->current = s;
	pthread_mutex_unlock(&c->cur_mtx);
	snapshot_release(old);
}

/* Builds and installs one snapshot; with `fresh`, asks the providers
 * for new records first. */
static void
rebuild(struct collector *c, bool fresh)
{
	struct snapshot *s;
	uint64_t t0 = mono_ms();

	pthread_mutex_lock(&c->build_mtx);
	if (fresh) {
		uint64_t ticket = registry_trigger(c->src->registry);
		if (registry_wait(c->src->registry, ticket,
		                  COLLECTOR_REFRESH_WAIT_MS) != 0) {
			log_debug("collector: refresh: some provider did not "
			          "answer within %d ms",
			          COLLECTOR_REFRESH_WAIT_MS);
		}
	}
	s = snapshot_build(c->src, ++c->seq);
	pthread_mutex_unlock(&c->build_mtx);
	if (s == NULL) {
		/* Keep serving the previous snapshot. */
		log_err("collector: snapshot %llu not built",
		        (unsigned long long)c->seq);
		return;
	}
	install(c, s);
	log_debug("collector: snapshot %llu built%s in %llu ms",
	          (unsigned long long)s->seq, fresh ? " on demand" : "",
	          (unsigned long long)(mono_ms() - t0));
}

static void *
collector_main(void *arg)
{
	struct collector *c = arg;
	uint64_t next = mono_ms() + c->interval_ms;

	pthread_mutex_lock(&c->mtx);
	while (!c->stop) {
		bool fresh;

		if (!c->refresh_requested && mono_ms() < next) {
			struct timespec ts = {
			    .tv_sec = (time_t)(next / 1000),
			    .tv_nsec = (long)(next % 1000) * 1000000L,
			};
			pthread_cond_timedwait(&c->cv, &c->mtx, &ts);
			continue;
		}
		fresh = c->refresh_requested;
		c->refresh_requested = false;
		pthread_mutex_unlock(&c->mtx);
		rebuild(c, fresh);
		next = mono_ms() + c->interval_ms;
		pthread_mutex_lock(&c->mtx);
	}
	pthread_mutex_unlock(&c->mtx);
	return NULL;
}

int
collector_start(struct collector *c)
{
	int rv;

	rebuild(c, true);
	if (c->current == NULL) {
		return -ENOMEM;
	}
	rv = pthread_create(&c->thread, NULL, collector_main, c);
	if (rv != 0) {
		log_err("collector: cannot start thread: %s", strerror(rv));
		return -rv;
	}
	c->started = true;
	return 0;
}

void
collector_destroy(struct collector *c)
{
	if (c == NULL) {
		return;
	}
	pthread_mutex_lock(&c->mtx);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mtx);
	if (c->started) {
		pthread_join(c->thread, NULL);
	}
	snapshot_release(c->current);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mtx);
	pthread_mutex_destroy(&c->build_mtx);
	pthread_mutex_destroy(&c->cur_mtx);
	free(c);
}

struct snapshot *
collector_acquire(struct collector *c)
{
	struct snapshot *s;

	pthread_mutex_lock(&c->cur_mtx);
	s = c->current ? snapshot_hold(c->current) : NULL;
	pthread_mutex_unlock(&c->cur_mtx);
	return s;
}

void
collector_refresh(struct collector *c)
{
	rebuild(c, true);
}

void
collector_request_refresh(struct collector *c)
{
	pthread_mutex_lock(&c->mtx);
	if (!c->refresh_requested) {
		c->refresh_requested = true;
		pthread_cond_signal(&c->cv);
	}
	pthread_mutex_unlock(&c->mtx);
}
