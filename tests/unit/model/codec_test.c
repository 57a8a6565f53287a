/*
 * Every message of the schema survives pack → unpack → pack unchanged,
 * with every field set (nested messages, repeated fields, oneofs, values
 * at the edges of their types), and truncated encodings are rejected or
 * decoded without reading past the buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"
#include "secstat/v1/service.pb-c.h"

/* Builds messages from descriptors; everything is freed with the pool. */
struct pool {
	void *p[4096];
	size_t n;
};

static void *
pool_alloc(struct pool *pl, size_t size)
{
	void *p = calloc(1, size ? size : 1);

	assert_non_null(p);
	assert_true(pl->n < sizeof(pl->p) / sizeof(pl->p[0]));
	pl->p[pl->n++] = p;
	return p;
}

static void
pool_free(struct pool *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		free(pl->p[i]);
	}
	pl->n = 0;
}

static ProtobufCMessage *fill(struct pool *pl,
                              const ProtobufCMessageDescriptor *d, int depth,
                              uint64_t seed);

/* Writes one value of the field's type at p; `seed` varies the values so
 * that equal-looking fields cannot be swapped unnoticed. */
static void
fill_value(struct pool *pl, const ProtobufCFieldDescriptor *fd, void *p,
           int depth, uint64_t seed)
{
	char buf[48];

	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		/* alternate the extremes of the wire format */
		*(uint64_t *)p = seed % 3 == 0   ? UINT64_MAX
		                 : seed % 3 == 1 ? 0
		                                 : seed * 0x9e3779b97f4a7c15u;
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*(int64_t *)p = seed % 2 ? INT64_MIN : (int64_t)seed;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		*(uint32_t *)p = seed % 2 ? UINT32_MAX : (uint32_t)seed;
		break;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		*(int32_t *)p = seed % 2 ? INT32_MIN : (int32_t)seed;
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = fd->descriptor;
		*(int32_t *)p = ed->values[seed % ed->n_values].value;
		break;
	}
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)p = 1;
		break;
	case PROTOBUF_C_TYPE_STRING: {
		char *s;
		snprintf(buf, sizeof(buf), "%s-%llu", fd->name,
		         (unsigned long long)seed);
		s = pool_alloc(pl, strlen(buf) + 1);
		memcpy(s, buf, strlen(buf) + 1);
		*(char **)p = s;
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = p;
		b->len = 3;
		b->data = pool_alloc(pl, 3);
		memcpy(b->data, "\0\x01\xff", 3);
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		*(ProtobufCMessage **)p =
		    fill(pl, fd->descriptor, depth + 1, seed * 31 + 7);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		break;
	}
}

static ProtobufCMessage *
fill(struct pool *pl, const ProtobufCMessageDescriptor *d, int depth,
     uint64_t seed)
{
	ProtobufCMessage *m = pool_alloc(pl, d->sizeof_message);

	d->message_init(m);
	if (depth > 4) {
		return m; /* deep enough: every message type is reached */
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		char *base = (char *)m;
		uint64_t s = seed + i;

		if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			/* only the first member of each oneof */
			uint32_t *oneof_case =
			    (uint32_t *)(base + fd->quantifier_offset);
			if (*oneof_case != 0) {
				continue;
			}
			*oneof_case = fd->id;
			fill_value(pl, fd, base + fd->offset, depth, s);
		} else if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = fd->type == PROTOBUF_C_TYPE_MESSAGE ? 2 : 3;
			char *arr =
			    pool_alloc(pl, n * model_field_elem_size(fd));
			for (size_t k = 0; k < n; k++) {
				fill_value(pl, fd,
				           arr + k * model_field_elem_size(fd),
				           depth, s + k);
			}
			*(size_t *)(base + fd->quantifier_offset) = n;
			*(void **)(base + fd->offset) = arr;
		} else {
			fill_value(pl, fd, base + fd->offset, depth, s);
			if (fd->label == PROTOBUF_C_LABEL_OPTIONAL &&
			    fd->type != PROTOBUF_C_TYPE_MESSAGE &&
			    fd->type != PROTOBUF_C_TYPE_STRING) {
				*(protobuf_c_boolean *)(base +
				                        fd->quantifier_offset) =
				    1;
			}
		}
	}
	return m;
}

static uint8_t *
pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *buf;

	*len = protobuf_c_message_get_packed_size(m);
	buf = malloc(*len ? *len : 1);
	assert_non_null(buf);
	assert_int_equal(protobuf_c_message_pack(m, buf), *len);
	return buf;
}

static void
test_round_trip_every_message(void **state)
{
	for (unsigned i = 0; i < stat_meta_n_messages; i++) {
		const ProtobufCMessageDescriptor *d =
		    stat_meta_messages[i].desc;
		struct pool pl = {.n = 0};
		ProtobufCMessage *m = fill(&pl, d, 0, i + 1);
		ProtobufCMessage *u;
		size_t len, len2;
		uint8_t *a, *b;

		assert_true(protobuf_c_message_check(m));
		a = pack(m, &len);
		u = protobuf_c_message_unpack(d, NULL, len, a);
		if (u == NULL) {
			fail_msg("%s does not decode its own encoding",
			         d->name);
		}
		b = pack(u, &len2);
		if (len != len2 || memcmp(a, b, len) != 0) {
			fail_msg("%s changes in a round trip", d->name);
		}
		/* Every prefix is rejected or decodes within the buffer (ASan
		 * watches the reads). */
		for (size_t cut = 0; cut < len; cut++) {
			uint8_t *c = malloc(cut ? cut : 1);
			ProtobufCMessage *p;

			memcpy(c, a, cut);
			p = protobuf_c_message_unpack(d, NULL, cut, c);
			protobuf_c_message_free_unpacked(p, NULL);
			free(c);
		}
		protobuf_c_message_free_unpacked(u, NULL);
		free(a);
		free(b);
		pool_free(&pl);
	}
}

/* The reply envelope carries each result type of the service. */
static void
test_every_result_of_the_reply(void **state)
{
	const ProtobufCMessageDescriptor *d = &secstat__v1__reply__descriptor;
	unsigned oneofs = 0;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		struct pool pl = {.n = 0};
		Secstat__V1__Reply *r, *u;
		uint8_t *buf;
		size_t len;

		if (!(fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) {
			continue;
		}
		oneofs++;
		r = pool_alloc(&pl, sizeof(*r));
		secstat__v1__reply__init(r);
		r->result_case = (Secstat__V1__Reply__ResultCase)fd->id;
		*(ProtobufCMessage **)((char *)r + fd->offset) =
		    fill(&pl, fd->descriptor, 1, fd->id);
		buf = pack(&r->base, &len);
		u = secstat__v1__reply__unpack(NULL, len, buf);
		assert_non_null(u);
		assert_int_equal(u->result_case, fd->id);
		secstat__v1__reply__free_unpacked(u, NULL);
		free(buf);
		pool_free(&pl);
	}
	assert_true(oneofs >= 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_every_message),
	    cmocka_unit_test(test_every_result_of_the_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
