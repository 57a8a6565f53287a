/* Descriptor-driven fleet sums with presence counts and extremes. */
#include "aggregate.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <secstat/v1/ipsec.pb-c.h>

#include "model.h"

/* Presence and extremes of one summed statistic (or list element). */
struct agg_stat {
	uint32_t hosts;
	uint32_t min_host;
	uint32_t max_host;
	uint64_t min;
	uint64_t max;
};

struct node;

/* What the builder keeps beside one field of one aggregate message. */
struct field_state {
	struct agg_stat *stats; /* numeric statistic: one per element */
	size_t n_stats;
	struct node *sub;    /* singular message field */
	struct node **elems; /* list merged by key: parallel to the list */
	size_t n_elems;
};

struct node {
	const ProtobufCMessageDescriptor *desc;
	ProtobufCMessage *msg; /* owned by the aggregate message tree */
	struct field_state *f; /* one per descriptor field */
};

struct aggregate {
	const ProtobufCMessageDescriptor *desc;
	struct node *root;
	size_t count;
	bool failed;
};

static void *
field_addr(ProtobufCMessage *msg, unsigned offset)
{
	return (char *)msg + offset;
}

static struct node *
node_new(const ProtobufCMessageDescriptor *desc)
{
	struct node *n = calloc(1, sizeof(*n));

	if (n == NULL) {
		return NULL;
	}
	n->msg = calloc(1, desc->sizeof_message);
	n->f = calloc(desc->n_fields ? desc->n_fields : 1, sizeof(*n->f));
	if (n->msg == NULL || n->f == NULL) {
		free(n->msg);
		free(n->f);
		free(n);
		return NULL;
	}
	desc->message_init(n->msg);
	n->desc = desc;
	return n;
}

/* Frees the bookkeeping; the messages belong to the aggregate tree. */
static void
node_free(struct node *n)
{
	if (n == NULL) {
		return;
	}
	for (unsigned i = 0; i < n->desc->n_fields; i++) {
		struct field_state *fs = &n->f[i];

		free(fs->stats);
		node_free(fs->sub);
		for (size_t k = 0; k < fs->n_elems; k++) {
			node_free(fs->elems[k]);
		}
		free(fs->elems);
	}
	free(n->f);
	free(n);
}

ProtobufCMessage *
aggregate_copy(const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len ? len : 1);
	ProtobufCMessage *copy;

	if (buf == NULL) {
		return NULL;
	}
	protobuf_c_message_pack(msg, buf);
	copy = protobuf_c_message_unpack(msg->descriptor, NULL, len, buf);
	free(buf);
	return copy;
}

static bool
is_numeric(const ProtobufCFieldDescriptor *fd)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return false;
	default:
		return true;
	}
}

static enum stat_kind
kind_of(const ProtobufCMessageDescriptor *desc, unsigned i)
{
	const struct stat_field_meta *m = stat_meta_field(desc, i);

	return m != NULL ? m->kind : STAT_NONE;
}

static void
stat_note(struct agg_stat *s, uint64_t v, uint32_t host)
{
	if (s->hosts == 0) {
		s->min = s->max = v;
		s->min_host = s->max_host = host;
	} else {
		/* Ties keep the first host, so the result does not depend on
		 * the order replies arrived in (hosts are added in order). */
		if (v < s->min) {
			s->min = v;
			s->min_host = host;
		}
		if (v > s->max) {
			s->max = v;
			s->max_host = host;
		}
	}
	s->hosts++;
}

/* Grows the repeated field of `msg` to `n` elements (new ones zeroed). */
static int
array_resize(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd,
             size_t n)
{
	void **array = field_addr(msg, fd->offset);
	size_t *count = field_addr(msg, fd->quantifier_offset);
	size_t es = model_field_elem_size(fd);
	char *p;

	if (n <= *count) {
		return 0;
	}
	if ((p = realloc(*array, n * es)) == NULL) {
		return -ENOMEM;
	}
	memset(p + *count * es, 0, (n - *count) * es);
	*array = p;
	*count = n;
	return 0;
}

static int
stats_resize(struct field_state *fs, size_t n)
{
	struct agg_stat *s;

	if (n <= fs->n_stats) {
		return 0;
	}
	if ((s = realloc(fs->stats, n * sizeof(*s))) == NULL) {
		return -ENOMEM;
	}
	memset(s + fs->n_stats, 0, (n - fs->n_stats) * sizeof(*s));
	fs->stats = s;
	fs->n_stats = n;
	return 0;
}

static void
array_set_u64(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd,
              size_t i, uint64_t v)
{
	char *array = *(char **)field_addr(msg, fd->offset);

	if (model_field_elem_size(fd) == 8) {
		((uint64_t *)array)[i] = v;
	} else {
		((uint32_t *)array)[i] = (uint32_t)v;
	}
}

/* The key that merges elements of a list, or NULL: the list is then
 * concatenated. */
static const char *
list_key(const ProtobufCMessageDescriptor *elem)
{
	if (elem == &secstat__v1__xfrm_mib_counter__descriptor) {
		return "name";
	}
	if (elem == &secstat__v1__namespace_ipsec_statistics__descriptor) {
		return "netns";
	}
	return NULL;
}

static const char *
string_of(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd)
{
	if (fd == NULL || !model_field_present(msg, fd)) {
		return "";
	}
	return *(const char *const *)((const char *)msg + fd->offset);
}

/* Prefixes the element's name with "<hostname>/" so that concatenated
 * elements of different hosts stay apart. */
static int
tag_element(ProtobufCMessage *msg, const char *hostname)
{
	static const char *const names[] = {"instance_name", "name"};
	const ProtobufCFieldDescriptor *fd = NULL;
	const char *old;
	char *tagged;
	size_t len;

	for (size_t i = 0; i < 2 && fd == NULL; i++) {
		fd = protobuf_c_message_descriptor_get_field_by_name(
		    msg->descriptor, names[i]);
		if (fd != NULL && (fd->type != PROTOBUF_C_TYPE_STRING ||
		                   fd->label == PROTOBUF_C_LABEL_REPEATED)) {
			fd = NULL;
		}
	}
	if (fd == NULL) {
		return 0;
	}
	old = string_of(msg, fd);
	len = strlen(hostname) + 1 + strlen(old) + 1;
	if ((tagged = malloc(len)) == NULL) {
		return -ENOMEM;
	}
	snprintf(tagged, len, "%s/%s", hostname, old);
	if (model_field_present(msg, fd)) {
		free(*(char **)field_addr(msg, fd->offset));
	}
	*(char **)field_addr(msg, fd->offset) = tagged;
	return 0;
}

static int add_node(struct node *dst, const ProtobufCMessage *src,
                    uint32_t host, const char *hostname);

static int
add_list_concat(struct node *dst, const ProtobufCFieldDescriptor *fd,
                const ProtobufCMessage *src, size_t n, const char *hostname)
{
	size_t *count = field_addr(dst->msg, fd->quantifier_offset);
	size_t base = *count;
	int rv;

	if ((rv = array_resize(dst->msg, fd, base + n)) != 0) {
		return rv;
	}
	for (size_t k = 0; k < n; k++) {
		ProtobufCMessage **slot =
		    *(ProtobufCMessage ***)field_addr(dst->msg, fd->offset);
		ProtobufCMessage *copy =
		    aggregate_copy(model_field_message(src, fd, k));

		if (copy == NULL || tag_element(copy, hostname) != 0) {
			if (copy != NULL) {
				protobuf_c_message_free_unpacked(copy, NULL);
			}
			*count = base + k; /* keep the tree freeable */
			return -ENOMEM;
		}
		slot[base + k] = copy;
	}
	return 0;
}

static int
add_list_keyed(struct node *dst, struct field_state *fs,
               const ProtobufCFieldDescriptor *fd, const char *keyname,
               const ProtobufCMessage *src, size_t n, uint32_t host,
               const char *hostname)
{
	const ProtobufCMessageDescriptor *ed = fd->descriptor;
	const ProtobufCFieldDescriptor *kfd =
	    protobuf_c_message_descriptor_get_field_by_name(ed, keyname);
	size_t *count = field_addr(dst->msg, fd->quantifier_offset);
	int rv;

	for (size_t k = 0; k < n; k++) {
		const ProtobufCMessage *e = model_field_message(src, fd, k);
		const char *key = string_of(e, kfd);
		size_t j = SIZE_MAX;

		/* Hosts usually list the same names in the same order: try
		 * the same position first. */
		if (k < fs->n_elems &&
		    strcmp(string_of(fs->elems[k]->msg, kfd), key) == 0) {
			j = k;
		}
		for (size_t m = 0; j == SIZE_MAX && m < fs->n_elems; m++) {
			if (strcmp(string_of(fs->elems[m]->msg, kfd), key) ==
			    0) {
				j = m;
			}
		}
		if (j == SIZE_MAX) {
			struct node **elems;
			struct node *nn;

			elems = realloc(fs->elems,
			                (fs->n_elems + 1) * sizeof(*elems));
			if (elems == NULL) {
				return -ENOMEM;
			}
			fs->elems = elems;
			if ((nn = node_new(ed)) == NULL) {
				return -ENOMEM;
			}
			if ((rv = array_resize(dst->msg, fd, *count + 1)) !=
			    0) {
				ProtobufCMessage *m = nn->msg;

				node_free(nn);
				protobuf_c_message_free_unpacked(m, NULL);
				return rv;
			}
			(*(ProtobufCMessage ***)field_addr(
			    dst->msg, fd->offset))[*count - 1] = nn->msg;
			j = fs->n_elems++;
			fs->elems[j] = nn;
		}
		if ((rv = add_node(fs->elems[j], e, host, hostname)) != 0) {
			return rv;
		}
	}
	return 0;
}

static int
add_repeated_numbers(struct node *dst, struct field_state *fs,
                     const ProtobufCFieldDescriptor *fd, enum stat_kind kind,
                     const ProtobufCMessage *src, size_t n, uint32_t host)
{
	size_t have = model_field_count(dst->msg, fd);
	int rv;

	if (kind == STAT_NONE) {
		if (have > 0) {
			return 0; /* labels: the first host's */
		}
		if ((rv = array_resize(dst->msg, fd, n)) != 0) {
			return rv;
		}
		for (size_t k = 0; k < n; k++) {
			array_set_u64(dst->msg, fd, k,
			              model_field_u64(src, fd, k));
		}
		return 0;
	}
	if ((rv = array_resize(dst->msg, fd, n)) != 0 ||
	    (rv = stats_resize(fs, n)) != 0) {
		return rv;
	}
	for (size_t k = 0; k < n; k++) {
		uint64_t v = model_field_u64(src, fd, k);

		array_set_u64(dst->msg, fd, k,
		              model_field_u64(dst->msg, fd, k) + v);
		stat_note(&fs->stats[k], v, host);
	}
	return 0;
}

static int
set_oneof_case(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd)
{
	if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0) {
		*(uint32_t *)field_addr(msg, fd->quantifier_offset) = fd->id;
	}
	return 0;
}

static int
add_singular(struct node *dst, struct field_state *fs,
             const ProtobufCFieldDescriptor *fd, enum stat_kind kind,
             const ProtobufCMessage *src, uint32_t host, const char *hostname)
{
	bool have = model_field_present(dst->msg, fd);

	if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
		if (fs->sub == NULL) {
			if ((fs->sub = node_new(fd->descriptor)) == NULL) {
				return -ENOMEM;
			}
			*(ProtobufCMessage **)field_addr(dst->msg, fd->offset) =
			    fs->sub->msg;
			set_oneof_case(dst->msg, fd);
		}
		return add_node(fs->sub, model_field_message(src, fd, 0), host,
		                hostname);
	}
	if (fd->type == PROTOBUF_C_TYPE_STRING) {
		char *s;

		if (have) {
			return 0;
		}
		s = strdup(string_of(src, fd));
		if (s == NULL) {
			return -ENOMEM;
		}
		*(char **)field_addr(dst->msg, fd->offset) = s;
		return set_oneof_case(dst->msg, fd);
	}
	if (fd->type == PROTOBUF_C_TYPE_BYTES) {
		const ProtobufCBinaryData *b =
		    (const ProtobufCBinaryData *)((const char *)src +
		                                  fd->offset);
		ProtobufCBinaryData *d = field_addr(dst->msg, fd->offset);

		if (have) {
			return 0;
		}
		if ((d->data = malloc(b->len ? b->len : 1)) == NULL) {
			return -ENOMEM;
		}
		memcpy(d->data, b->data, b->len);
		d->len = b->len;
		if (fd->label == PROTOBUF_C_LABEL_OPTIONAL) {
			*(protobuf_c_boolean *)field_addr(
			    dst->msg, fd->quantifier_offset) = 1;
		}
		return set_oneof_case(dst->msg, fd);
	}
	if (!is_numeric(fd)) {
		return 0;
	}
	if (kind == STAT_NONE) {
		if (!have) {
			model_field_set_u64(dst->msg, fd,
			                    model_field_u64(src, fd, 0));
			set_oneof_case(dst->msg, fd);
		}
		return 0;
	}
	{
		uint64_t v = model_field_u64(src, fd, 0);
		int rv;

		if ((rv = stats_resize(fs, 1)) != 0) {
			return rv;
		}
		model_field_set_u64(dst->msg, fd,
		                    have ? model_field_u64(dst->msg, fd, 0) + v
		                         : v);
		set_oneof_case(dst->msg, fd);
		stat_note(&fs->stats[0], v, host);
	}
	return 0;
}

static int
add_node(struct node *dst, const ProtobufCMessage *src, uint32_t host,
         const char *hostname)
{
	const ProtobufCMessageDescriptor *desc = src->descriptor;
	int rv = 0;

	for (unsigned i = 0; i < desc->n_fields && rv == 0; i++) {
		const ProtobufCFieldDescriptor *fd = &desc->fields[i];
		struct field_state *fs = &dst->f[i];
		size_t n = model_field_count(src, fd);

		if (n == 0) {
			continue;
		}
		if (fd->label != PROTOBUF_C_LABEL_REPEATED) {
			rv = add_singular(dst, fs, fd, kind_of(desc, i), src,
			                  host, hostname);
		} else if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
			const char *key = list_key(fd->descriptor);

			rv = key != NULL
			         ? add_list_keyed(dst, fs, fd, key, src, n,
			                          host, hostname)
			         : add_list_concat(dst, fd, src, n, hostname);
		} else if (is_numeric(fd)) {
			rv = add_repeated_numbers(dst, fs, fd, kind_of(desc, i),
			                          src, n, host);
		}
		/* Repeated strings and bytes appear in no summed message. */
	}
	return rv;
}

int
aggregate_create(struct aggregate **ap, const ProtobufCMessageDescriptor *desc)
{
	struct aggregate *a = calloc(1, sizeof(*a));

	*ap = NULL;
	if (a == NULL) {
		return -ENOMEM;
	}
	a->desc = desc;
	*ap = a;
	return 0;
}

int
aggregate_add(struct aggregate *a, const ProtobufCMessage *result,
              uint32_t host, const char *hostname)
{
	char fallback[32];
	int rv;

	if (a->failed) {
		return -ENOMEM;
	}
	if (result == NULL || result->descriptor != a->desc) {
		return -EINVAL;
	}
	if (hostname == NULL || *hostname == '\0') {
		snprintf(fallback, sizeof(fallback), "host%u", host);
		hostname = fallback;
	}
	if (a->root == NULL && (a->root = node_new(a->desc)) == NULL) {
		a->failed = true;
		return -ENOMEM;
	}
	if ((rv = add_node(a->root, result, host, hostname)) != 0) {
		a->failed = true;
		return rv;
	}
	a->count++;
	return 0;
}

size_t
aggregate_count(const struct aggregate *a)
{
	return a->count;
}

ProtobufCMessage *
aggregate_take(struct aggregate *a)
{
	ProtobufCMessage *msg;

	if (a->root == NULL || a->failed) {
		return NULL;
	}
	msg = a->root->msg;
	node_free(a->root);
	a->root = NULL;
	return msg;
}

/* ---- summary ---- */

struct summary_ctx {
	Secstat__V1__FleetAggregate *out;
	size_t cap;
	char path[MODEL_PATH_MAX];
};

static const char *
json_name(const ProtobufCMessageDescriptor *d, unsigned i)
{
	const struct stat_field_meta *m = stat_meta_field(d, i);

	return m != NULL && m->json_name != NULL ? m->json_name
	                                         : d->fields[i].name;
}

static size_t
path_push(char *path, size_t len, const char *name, long index)
{
	int n;

	if (index >= 0) {
		n = snprintf(path + len, MODEL_PATH_MAX - len, "%s%s[%ld]",
		             len ? "." : "", name, index);
	} else {
		n = snprintf(path + len, MODEL_PATH_MAX - len, "%s%s",
		             len ? "." : "", name);
	}
	if (n < 0 || (size_t)n >= MODEL_PATH_MAX - len) {
		return 0;
	}
	return len + (size_t)n;
}

static int
summary_emit(struct summary_ctx *c, enum stat_kind kind,
             const struct agg_stat *s, uint64_t sum)
{
	Secstat__V1__FleetAggregate *out = c->out;
	Secstat__V1__FleetFieldSummary *f;

	if (out->n_fields == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		Secstat__V1__FleetFieldSummary **v =
		    realloc(out->fields, cap * sizeof(*v));
		if (v == NULL) {
			return -ENOMEM;
		}
		out->fields = v;
		c->cap = cap;
	}
	if ((f = malloc(sizeof(*f))) == NULL) {
		return -ENOMEM;
	}
	secstat__v1__fleet_field_summary__init(f);
	if ((f->path = strdup(c->path)) == NULL) {
		free(f);
		return -ENOMEM;
	}
	f->has_kind = 1;
	f->kind = (Secstat__V1__StatKind)kind;
	f->has_sum = 1;
	f->sum = sum;
	f->has_hosts = 1;
	f->hosts = s->hosts;
	f->has_min = f->has_max = 1;
	f->min = s->min;
	f->max = s->max;
	f->has_min_host = f->has_max_host = 1;
	f->min_host = s->min_host;
	f->max_host = s->max_host;
	out->fields[out->n_fields++] = f;
	return 0;
}

static int
summary_node(struct summary_ctx *c, const struct node *n, size_t len)
{
	const ProtobufCMessageDescriptor *desc = n->msg->descriptor;
	int rv = 0;

	for (unsigned i = 0; i < desc->n_fields && rv == 0; i++) {
		const ProtobufCFieldDescriptor *fd = &desc->fields[i];
		const struct field_state *fs = &n->f[i];
		bool repeated = fd->label == PROTOBUF_C_LABEL_REPEATED;
		size_t l;

		if (fs->stats != NULL) {
			for (size_t k = 0; k < fs->n_stats && rv == 0; k++) {
				if (fs->stats[k].hosts == 0) {
					continue;
				}
				l = path_push(c->path, len, json_name(desc, i),
				              repeated ? (long)k : -1);
				if (l != 0) {
					rv = summary_emit(
					    c, kind_of(desc, i), &fs->stats[k],
					    model_field_u64(n->msg, fd, k));
				}
				c->path[len] = '\0';
			}
		}
		if (fs->sub != NULL) {
			l = path_push(c->path, len, json_name(desc, i), -1);
			if (l != 0) {
				rv = summary_node(c, fs->sub, l);
			}
			c->path[len] = '\0';
		}
		for (size_t k = 0; k < fs->n_elems && rv == 0; k++) {
			l = path_push(c->path, len, json_name(desc, i),
			              (long)k);
			if (l != 0) {
				rv = summary_node(c, fs->elems[k], l);
			}
			c->path[len] = '\0';
		}
	}
	return rv;
}

int
aggregate_summary(const struct aggregate *a, Secstat__V1__FleetAggregate *out)
{
	struct summary_ctx c = {.out = out, .cap = out->n_fields};

	if (a->root == NULL) {
		return 0;
	}
	c.path[0] = '\0';
	return summary_node(&c, a->root, 0);
}

void
aggregate_free(struct aggregate *a)
{
	if (a == NULL) {
		return;
	}
	if (a->root != NULL) {
		ProtobufCMessage *msg = a->root->msg;

		node_free(a->root);
		protobuf_c_message_free_unpacked(msg, NULL);
	}
	free(a);
}
