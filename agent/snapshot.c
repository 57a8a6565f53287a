/* Snapshot building: contribute, prune, encode every method once. */
#include "snapshot.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hostinfo.h"
#include "log.h"
#include "methods.h"
#include "registry.h"
#include "stats_tree.h"

#define STATUS_MESSAGE_MAX 512

static uint64_t
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000ULL +
	       (uint64_t)ts.tv_nsec / 1000000ULL;
}

static size_t
varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static size_t
varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* The status of a running provider (`st`), or of a built-in one the
 * agent does not run (`idle`, with `why` from registry_select() or
 * NULL). */
static Secstat__V1__ProviderStatus *
provider_status(struct arena *a, const struct registry_status *st,
                const struct provider_ops *idle,
                const struct registry_left_out *why)
{
	static const Secstat__V1__Family all[] = {
	    SECSTAT__V1__FAMILY__FAMILY_IPSEC,
	    SECSTAT__V1__FAMILY__FAMILY_IKE,
	    SECSTAT__V1__FAMILY__FAMILY_ISCSI,
	};
	const struct provider_ops *ops = idle ? idle : st->ops;
	Secstat__V1__ProviderStatus *ps = arena_alloc(a, sizeof(*ps));

	secstat__v1__provider_status__init(ps);
	ps->name = (char *)ops->name;
	ps->has_simulated = 1;
	ps->simulated = ops->simulated;
	ps->families = arena_alloc(a, 3 * sizeof(*ps->families));
	for (size_t i = 0; i < 3; i++) {
		if ((ops->families & PROVIDER_FAMILY(all[i])) != 0) {
			ps->families[ps->n_families++] = all[i];
		}
	}
	ps->has_health = 1;
	if (idle != NULL) {
		ps->health =
		    why ? why->health : SECSTAT__V1__HEALTH__HEALTH_DISABLED;
		ps->message =
		    why ? arena_strdup(a, why->message) : (char *)"not enabled";
		return ps;
	}
	ps->health = st->health;
	if (st->message[0] != '\0') {
		ps->message = arena_strdup(a, st->message);
	}
	if (st->last_success_unix_ms != 0) {
		ps->has_last_success_unix_ms = 1;
		ps->last_success_unix_ms = st->last_success_unix_ms;
	}
	ps->has_consecutive_failures = 1;
	ps->consecutive_failures = st->consecutive_failures;
	if (st->has_duration) {
		ps->has_collect_duration_us = 1;
		ps->collect_duration_us = st->collect_duration_us;
	}
	return ps;
}

/* Whether a provider feeding method m has not completed a collection
 * (a method that needs no provider never waits for one). */
static bool
method_pending(const struct method *m, const struct registry_status *st,
               size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((st[i].ops->families & m->families) != 0 &&
		    st[i].completed == 0) {
			return true;
		}
	}
	return false;
}

/* Status, message and simulated flag of a method fed by `families`. */
static uint32_t
method_status(const struct method *m, const struct registry_status *st,
              size_t n, struct arena *a, char **message, bool *simulated)
{
	char text[STATUS_MESSAGE_MAX];
	size_t len = 0;
	bool enabled = false;
	bool data = false;

	*message = NULL;
	*simulated = false;
	text[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (m->families != 0 &&
		    (st[i].ops->families & m->families) == 0) {
			continue;
		}
		enabled = true;
		if (st[i].has_records) {
			data = true;
			*simulated = *simulated || st[i].ops->simulated;
		} else if (len < sizeof(text)) {
			int k = snprintf(text + len, sizeof(text) - len,
			                 "%s%s: %s", len ? "; " : "",
			                 st[i].ops->name, st[i].message);
			len += k > 0 ? (size_t)k : 0;
		}
	}
	if (m->families == 0 || data) {
		return METHODS_ERROR_SUCCESS;
	}
	if (!enabled) {
		char fam[32];

		methods_family_text(m->families, fam, sizeof(fam));
		snprintf(text, sizeof(text), "no %s provider enabled", fam);
	}
	*message = arena_strdup(a, text);
	return m->unavailable_status;
}

struct snapshot *
snapshot_build(const struct snapshot_source *src, uint64_t seq)
{
	size_t n = registry_count(src->registry);
	struct registry_status *st = calloc(n ? n : 1, sizeof(*st));
	struct arena a = ARENA_INIT;
	struct stats_tree tree;
	Secstat__V1__HostInfo host;
	Secstat__V1__Reply *replies;
	Secstat__V1__Reply host_only;
	Secstat__V1__ProviderStatus **ps;
	struct method_build *builds;
	struct snapshot *s = NULL;
	size_t n_ps = 0, n_known = 0;
	size_t total, host_len;
	uint64_t now_mono, now_unix, collected;
	uint8_t *p;

	if (st == NULL) {
		return NULL;
	}
	stats_tree_init(&tree);
	registry_contribute(src->registry, &tree, st);
	stats_tree_finish(&tree);
	now_mono = clock_ms(CLOCK_MONOTONIC);
	now_unix = clock_ms(CLOCK_REALTIME);

	collected = now_mono;
	for (size_t i = 0; i < n; i++) {
		if (st[i].has_records &&
		    st[i].last_success_mono_ms < collected) {
			collected = st[i].last_success_mono_ms;
		}
	}

	hostinfo_to_proto(src->host, &host);
	while (src->known != NULL && src->known[n_known] != NULL) {
		n_known++;
	}
	ps = arena_alloc(&a, (n + n_known + 1) * sizeof(*ps));
	for (size_t i = 0; i < n; i++) {
		ps[n_ps++] = provider_status(&a, &st[i], NULL, NULL);
	}
	for (size_t k = 0; k < n_known; k++) {
		bool on = false;
		for (size_t i = 0; i < n; i++) {
			on = on || st[i].ops == src->known[k];
		}
		if (!on) {
			const struct registry_left_out *why = NULL;

			for (size_t j = 0; j < src->n_left_out; j++) {
				if (src->left_out[j].ops == src->known[k]) {
					why = &src->left_out[j];
				}
			}
			ps[n_ps++] =
			    provider_status(&a, NULL, src->known[k], why);
		}
	}

	replies = arena_alloc(&a, methods_count * sizeof(*replies));
	builds = arena_alloc(&a, methods_count * sizeof(*builds));
	total = 0;
	for (size_t i = 0; i < methods_count; i++) {
		const struct method *m = &methods_table[i];
		Secstat__V1__Reply *r = &replies[i];
		struct method_build *b = &builds[i];
		bool sim;

		secstat__v1__reply__init(r);
		r->has_status = 1;
		r->status = method_status(m, st, n, &a, &r->message, &sim);
		r->host = &host;
		r->has_collected_unix_ms = 1;
		r->collected_unix_ms = now_unix - (now_mono - collected);
		r->providers = ps;
		r->n_providers = n_ps;
		r->has_simulated = 1;
		r->simulated = sim;
		if (r->status == METHODS_ERROR_SUCCESS) {
			b->tree = &tree;
			b->arena = &a;
			b->host = &host;
			b->capabilities = src->capabilities;
			b->capabilities_len = src->capabilities_len;
			m->result(b, r);
		}
		total += secstat__v1__reply__get_packed_size(r);
		if (b->raw != NULL) {
			total += varint_len((uint64_t)b->raw_field << 3 | 2) +
			         varint_len(b->raw_len) + b->raw_len;
		}
	}
	secstat__v1__reply__init(&host_only);
	host_only.host = &host;
	host_len = secstat__v1__reply__get_packed_size(&host_only);
	total += host_len;

	s = malloc(sizeof(*s) + methods_count * sizeof(s->reply[0]) + total);
	if (s == NULL) {
		log_err("snapshot: out of memory (%zu bytes)", total);
		goto out;
	}
	atomic_init(&s->refs, 1);
	s->seq = seq;
	s->built_mono_ms = now_mono;
	s->collected_mono_ms = collected;
	s->collected_unix_ms = now_unix - (now_mono - collected);
	s->n_methods = methods_count;
	p = (uint8_t *)&s->reply[methods_count];
	for (size_t i = 0; i < methods_count; i++) {
		const struct method_build *b = &builds[i];
		uint8_t *start = p;

		p += secstat__v1__reply__pack(&replies[i], p);
		if (b->raw != NULL) {
			p += varint_put(p, (uint64_t)b->raw_field << 3 | 2);
			p += varint_put(p, b->raw_len);
			memcpy(p, b->raw, b->raw_len);
			p += b->raw_len;
		}
		s->reply[i] = (struct snapshot_bytes){
		    start, (size_t)(p - start), replies[i].status,
		    method_pending(&methods_table[i], st, n)};
	}
	s->host_field.data = p;
	s->host_field.len = secstat__v1__reply__pack(&host_only, p);
out:
	arena_release(&a);
	stats_tree_release(&tree);
	free(st);
	return s;
}

struct snapshot *
snapshot_hold(struct snapshot *s)
{
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void
snapshot_release(struct snapshot *s)
{
	if (s != NULL &&
	    atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) {
		free(s);
	}
}
