/*
 * Rates of every counter between two answers per host, with reset
 * handling, and their fleet sums. Counters are matched by path; list
 * elements are named by their key (name, netns, InstanceName, ...)
 * rather than their position, so a host that reorders a list between two
 * answers still pairs each counter with itself.
 */
#include "error.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <secstat/secstat.h>

#include "model.h"

/* A counter value met in one answer. */
struct sample {
	const char *path; /* interned in the rates object */
	uint64_t value;
};

struct samples {
	struct sample *v;
	size_t n;
	size_t cap;
};

/* Open-addressing table of interned paths -> fleet entry index. */
struct intern {
	char **paths;  /* by fleet index */
	size_t *slots; /* index + 1; 0 empty */
	uint64_t *hashes;
	size_t cap; /* power of two */
	size_t n;
};

struct host_rates {
	struct secstat_rate *v;
	size_t n;
	uint32_t flags;
};

struct secstat_rates {
	struct intern names;
	struct secstat_rate *fleet; /* parallel to names.paths */
	size_t fleet_cap;
	struct host_rates *hosts;
	size_t n_hosts;
};

static const char *const element_keys[] = {
    "instance_name", "sysfs_name", "netns", "port", "name",
};

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static int
intern_grow(struct intern *t)
{
	size_t cap = t->cap ? t->cap * 2 : 512;
	size_t *slots = calloc(cap, sizeof(*slots));
	uint64_t *hashes = calloc(cap, sizeof(*hashes));

	if (slots == NULL || hashes == NULL) {
		free(slots);
		free(hashes);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->cap; i++) {
		if (t->slots[i] != 0) {
			size_t j = t->hashes[i] & (cap - 1);
			while (slots[j] != 0) {
				j = (j + 1) & (cap - 1);
			}
			slots[j] = t->slots[i];
			hashes[j] = t->hashes[i];
		}
	}
	free(t->slots);
	free(t->hashes);
	t->slots = slots;
	t->hashes = hashes;
	t->cap = cap;
	return 0;
}

/* Index of `path` in the fleet table, added (zeroed) when new; -1 when
 * out of memory. */
static long
intern_get(secstat_rates *r, const char *path)
{
	struct intern *t = &r->names;
	uint64_t h = fnv1a(path);
	size_t j;

	if ((t->n + 1) * 2 > t->cap && intern_grow(t) != 0) {
		return -1;
	}
	for (j = h & (t->cap - 1); t->slots[j] != 0;
	     j = (j + 1) & (t->cap - 1)) {
		if (t->hashes[j] == h &&
		    strcmp(t->paths[t->slots[j] - 1], path) == 0) {
			return (long)(t->slots[j] - 1);
		}
	}
	if (t->n == r->fleet_cap) {
		size_t cap = r->fleet_cap ? r->fleet_cap * 2 : 256;
		char **p = realloc(t->paths, cap * sizeof(*p));
		struct secstat_rate *f;

		if (p == NULL) {
			return -1;
		}
		t->paths = p;
		if ((f = realloc(r->fleet, cap * sizeof(*f))) == NULL) {
			return -1;
		}
		r->fleet = f;
		r->fleet_cap = cap;
	}
	if ((t->paths[t->n] = strdup(path)) == NULL) {
		return -1;
	}
	memset(&r->fleet[t->n], 0, sizeof(r->fleet[t->n]));
	r->fleet[t->n].path = t->paths[t->n];
	t->slots[j] = t->n + 1;
	t->hashes[j] = h;
	return (long)t->n++;
}

static const char *
element_name(const ProtobufCMessage *m)
{
	for (size_t k = 0; k < sizeof(element_keys) / sizeof(element_keys[0]);
	     k++) {
		const ProtobufCFieldDescriptor *fd =
		    protobuf_c_message_descriptor_get_field_by_name(
		        m->descriptor, element_keys[k]);
		if (fd != NULL && fd->type == PROTOBUF_C_TYPE_STRING &&
		    fd->label != PROTOBUF_C_LABEL_REPEATED &&
		    model_field_present(m, fd)) {
			const char *s = *(const char *const *)((const char *)m +
			                                       fd->offset);
			if (*s != '\0') {
				return s;
			}
		}
	}
	return NULL;
}

static const char *
json_name(const ProtobufCMessageDescriptor *d, unsigned i)
{
	const struct stat_field_meta *m = stat_meta_field(d, i);

	return m != NULL && m->json_name != NULL ? m->json_name
	                                         : d->fields[i].name;
}

static int
samples_push(struct samples *s, const char *path, uint64_t v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct sample *p = realloc(s->v, cap * sizeof(*p));
		if (p == NULL) {
			return -ENOMEM;
		}
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n].path = path;
	s->v[s->n].value = v;
	s->n++;
	return 0;
}

/* Collects every counter of `msg` with its keyed path. */
static int
collect(secstat_rates *r, const ProtobufCMessage *msg, char *path, size_t len,
        struct samples *out)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		const struct stat_field_meta *meta = stat_meta_field(d, i);
		size_t n = model_field_count(msg, fd);
		bool repeated = fd->label == PROTOBUF_C_LABEL_REPEATED;

		if (n == 0) {
			continue;
		}
		if (fd->type != PROTOBUF_C_TYPE_MESSAGE &&
		    (meta == NULL || meta->kind != STAT_COUNTER)) {
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			const ProtobufCMessage *sub = NULL;
			const char *key = NULL;
			int w;

			if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
				sub = model_field_message(msg, fd, k);
				key = repeated ? element_name(sub) : NULL;
			}
			if (key != NULL) {
				w = snprintf(path + len, MODEL_PATH_MAX - len,
				             "%s%s[%s]", len ? "." : "",
				             json_name(d, i), key);
			} else if (repeated) {
				w = snprintf(path + len, MODEL_PATH_MAX - len,
				             "%s%s[%zu]", len ? "." : "",
				             json_name(d, i), k);
			} else {
				w = snprintf(path + len, MODEL_PATH_MAX - len,
				             "%s%s", len ? "." : "",
				             json_name(d, i));
			}
			if (w < 0 || (size_t)w >= MODEL_PATH_MAX - len) {
				path[len] = '\0';
				continue;
			}
			if (sub != NULL) {
				int rv =
				    collect(r, sub, path, len + (size_t)w, out);
				if (rv != 0) {
					return rv;
				}
			} else {
				long idx = intern_get(r, path);
				if (idx < 0 ||
				    samples_push(out, r->names.paths[idx],
				                 model_field_u64(msg, fd, k)) !=
				        0) {
					return -ENOMEM;
				}
			}
			path[len] = '\0';
		}
	}
	return 0;
}

static const ProtobufCMessage *
reply_result(const Secstat__V1__Reply *r)
{
	const ProtobufCMessageDescriptor *d = r->base.descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];

		if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
		    model_field_present(&r->base, fd)) {
			return model_field_message(&r->base, fd, 0);
		}
	}
	return NULL;
}

static int
samples_of(secstat_rates *r, const Secstat__V1__Reply *reply,
           struct samples *out)
{
	char path[MODEL_PATH_MAX];
	const ProtobufCMessage *m = reply != NULL ? reply_result(reply) : NULL;

	out->n = 0;
	if (m == NULL) {
		return 0;
	}
	path[0] = '\0';
	return collect(r, m, path, 0, out);
}

/* Index of `path` (interned pointer) in prev, looking near `hint`
 * first: both answers usually list the same counters in the same
 * order. */
static long
find_sample(const struct samples *prev, const char *path, size_t hint)
{
	if (hint < prev->n && prev->v[hint].path == path) {
		return (long)hint;
	}
	for (size_t i = 0; i < prev->n; i++) {
		if (prev->v[i].path == path) {
			return (long)i;
		}
	}
	return -1;
}

static bool
epoch_changed(const Secstat__V1__Reply *a, const Secstat__V1__Reply *b)
{
	if (a->host == NULL || b->host == NULL || !a->host->has_epoch ||
	    !b->host->has_epoch) {
		return false;
	}
	return a->host->epoch != b->host->epoch;
}

static int
host_rates(secstat_rates *r, size_t i, const Secstat__V1__Reply *prev,
           const Secstat__V1__Reply *cur, struct samples *sp,
           struct samples *sc)
{
	struct host_rates *h = &r->hosts[i];
	bool epoch;
	int64_t dt_ms = 0;
	int rv;

	if (prev == NULL || cur == NULL || reply_result(prev) == NULL ||
	    reply_result(cur) == NULL) {
		h->flags |= SECSTAT_RATES_MISSING;
		return 0;
	}
	if ((rv = samples_of(r, prev, sp)) != 0 ||
	    (rv = samples_of(r, cur, sc)) != 0) {
		return rv;
	}
	epoch = epoch_changed(prev, cur);
	if (epoch) {
		h->flags |= SECSTAT_RATES_EPOCH_CHANGED;
	}
	if (prev->has_collected_unix_ms && cur->has_collected_unix_ms) {
		dt_ms =
		    (int64_t)(cur->collected_unix_ms - prev->collected_unix_ms);
	}
	if (dt_ms <= 0) {
		h->flags |= SECSTAT_RATES_NO_INTERVAL;
	}
	if ((h->v = calloc(sc->n ? sc->n : 1, sizeof(*h->v))) == NULL) {
		return -ENOMEM;
	}
	for (size_t k = 0; k < sc->n; k++) {
		long j = find_sample(sp, sc->v[k].path, k);
		struct secstat_rate *e;
		uint64_t now = sc->v[k].value, before, delta;
		bool reset = false;
		long fi;

		if (j < 0) {
			continue; /* new counter: nothing to compare with */
		}
		before = sp->v[j].value;
		if (now >= before) {
			delta = now - before;
		} else if (epoch) {
			/* Restarted from zero within the interval: what it
			 * counted since is the least that happened. */
			delta = now;
			reset = true;
		} else {
			/* Down without a restart: not trusted for this
			 * interval. */
			delta = 0;
			reset = true;
			h->flags |= SECSTAT_RATES_DECREASED;
		}
		e = &h->v[h->n++];
		e->path = sc->v[k].path;
		e->value = now;
		e->delta = delta;
		e->per_second =
		    dt_ms > 0 ? (double)delta * 1000.0 / (double)dt_ms : 0.0;
		e->hosts = 1;
		e->resets = reset ? 1 : 0;

		fi = intern_get(r, e->path);
		if (fi < 0) {
			return -ENOMEM;
		}
		r->fleet[fi].value += now;
		r->fleet[fi].delta += delta;
		r->fleet[fi].per_second += e->per_second;
		r->fleet[fi].hosts++;
		r->fleet[fi].resets += e->resets;
	}
	return 0;
}

void
secstat_rates_free(secstat_rates *r)
{
	if (r == NULL) {
		return;
	}
	for (size_t i = 0; i < r->names.n; i++) {
		free(r->names.paths[i]);
	}
	free(r->names.paths);
	free(r->names.slots);
	free(r->names.hashes);
	free(r->fleet);
	for (size_t i = 0; i < r->n_hosts; i++) {
		free(r->hosts[i].v);
	}
	free(r->hosts);
	free(r);
}

uint32_t
secstat_rates_compute_replies(const Secstat__V1__Reply *const *prev,
                              const Secstat__V1__Reply *const *cur, size_t n,
                              secstat_rates **out)
{
	struct samples sp = {0}, sc = {0};
	secstat_rates *r;
	int rv = 0;

	if (out == NULL) {
		return ERROR_INVALID_PARAMETER;
	}
	*out = NULL;
	if (prev == NULL || cur == NULL) {
		return ERROR_INVALID_PARAMETER;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->hosts = calloc(n ? n : 1, sizeof(*r->hosts))) == NULL) {
		free(r);
		return error_from_errno(-ENOMEM);
	}
	r->n_hosts = n;
	for (size_t i = 0; i < n && rv == 0; i++) {
		rv = host_rates(r, i, prev[i], cur[i], &sp, &sc);
	}
	free(sp.v);
	free(sc.v);
	if (rv != 0) {
		secstat_rates_free(r);
		return error_from_errno(rv);
	}
	*out = r;
	return ERROR_SUCCESS;
}

uint32_t
secstat_rates_compute(const secstat_fleet_result *prev,
                      const secstat_fleet_result *cur, secstat_rates **out)
{
	size_t n = secstat_fleet_result_count(cur);
	const Secstat__V1__Reply **p, **c;
	uint32_t status;

	if (out == NULL) {
		return ERROR_INVALID_PARAMETER;
	}
	*out = NULL;
	if (prev == NULL || cur == NULL ||
	    secstat_fleet_result_count(prev) != n) {
		return ERROR_INVALID_PARAMETER;
	}
	p = calloc(n ? n : 1, sizeof(*p));
	c = calloc(n ? n : 1, sizeof(*c));
	if (p == NULL || c == NULL) {
		free(p);
		free(c);
		return error_from_errno(-ENOMEM);
	}
	for (size_t i = 0; i < n; i++) {
		if (secstat_fleet_result_status(prev, i) == ERROR_SUCCESS) {
			p[i] = secstat_fleet_result_reply(prev, i);
		}
		if (secstat_fleet_result_status(cur, i) == ERROR_SUCCESS) {
			c[i] = secstat_fleet_result_reply(cur, i);
		}
	}
	status = secstat_rates_compute_replies(p, c, n, out);
	free(p);
	free(c);
	return status;
}

const struct secstat_rate *
secstat_rates_fleet(const secstat_rates *r, size_t *n)
{
	if (n != NULL) {
		*n = r != NULL ? r->names.n : 0;
	}
	return r != NULL ? r->fleet : NULL;
}

const struct secstat_rate *
secstat_rates_host(const secstat_rates *r, size_t i, size_t *n, uint32_t *flags)
{
	if (r == NULL || i >= r->n_hosts) {
		if (n != NULL) {
			*n = 0;
		}
		if (flags != NULL) {
			*flags = SECSTAT_RATES_MISSING;
		}
		return NULL;
	}
	if (n != NULL) {
		*n = r->hosts[i].n;
	}
	if (flags != NULL) {
		*flags = r->hosts[i].flags;
	}
	return r->hosts[i].v;
}
