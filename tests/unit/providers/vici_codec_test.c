/*
 * The vici codec over hand-made fixtures (every element type, nesting,
 * every class of malformed input) and segments recorded from real charon
 * 5.9.8 daemons: decode, dump, re-encode byte for byte, and survive every
 * truncation and bit flip.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vici_codec.h"
#include "vici_fixtures.h"

/* A canonical text form: name{...} sections, k=v, l=[a,b]; bytes outside
 * printable ASCII as \xNN. */
static void
dump_str(char *out, size_t size, size_t *pos, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *pos + 5 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f) {
			out[(*pos)++] = (char)c;
		} else {
			*pos += (size_t)snprintf(out + *pos, size - *pos,
			                         "\\x%02x", c);
		}
	}
	out[*pos] = '\0';
}

static void
dump_node(const struct vici_msg *m, const struct vici_node *parent, char *out,
          size_t size, size_t *pos)
{
	bool first = true;

	for (const struct vici_node *n = vici_first(m, parent); n != NULL;
	     n = vici_next(m, n)) {
		if (!first && *pos + 2 < size) {
			out[(*pos)++] =
			    parent->kind == VICI_NODE_LIST ? ',' : ' ';
		}
		first = false;
		if (n->kind != VICI_NODE_ITEM) {
			dump_str(out, size, pos, n->name, strlen(n->name));
		}
		switch (n->kind) {
		case VICI_NODE_SECTION:
			*pos += (size_t)snprintf(out + *pos, size - *pos, "{");
			dump_node(m, n, out, size, pos);
			*pos += (size_t)snprintf(out + *pos, size - *pos, "}");
			break;
		case VICI_NODE_LIST:
			*pos += (size_t)snprintf(out + *pos, size - *pos, "=[");
			dump_node(m, n, out, size, pos);
			*pos += (size_t)snprintf(out + *pos, size - *pos, "]");
			break;
		case VICI_NODE_KV:
			*pos += (size_t)snprintf(out + *pos, size - *pos, "=");
			/* fallthrough */
		default:
			dump_str(out, size, pos, n->value, n->value_len);
			break;
		}
	}
}

static const char *
dump(const struct vici_msg *m)
{
	static char out[8192];
	size_t pos = 0;

	out[0] = '\0';
	dump_node(m, vici_root(m), out, sizeof(out), &pos);
	return out;
}

/* Re-encodes a decoded tree with the builder. */
static void
build_node(const struct vici_msg *m, const struct vici_node *parent,
           struct vici_builder *b)
{
	for (const struct vici_node *n = vici_first(m, parent); n != NULL;
	     n = vici_next(m, n)) {
		switch (n->kind) {
		case VICI_NODE_SECTION:
			vici_builder_section_start(b, n->name);
			build_node(m, n, b);
			vici_builder_section_end(b);
			break;
		case VICI_NODE_LIST:
			vici_builder_list_start(b, n->name);
			build_node(m, n, b);
			vici_builder_list_end(b);
			break;
		case VICI_NODE_KV:
			vici_builder_kvn(b, n->name, n->value, n->value_len);
			break;
		default:
			vici_builder_list_item(b, n->value);
			break;
		}
	}
}

/* ---- hand-made fixtures ---- */

static const struct codec_case {
	const char *file;
	int packet_rv; /* vici_packet_parse */
	int type;
	const char *name;
	int decode_rv;
	const char *dump;
} codec_cases[] = {
    {"empty-response.bin", 0, VICI_CMD_RESPONSE, "", 0, ""},
    {"all-elements.bin", 0, VICI_CMD_RESPONSE, "", 0,
     "a=1 empty= bin=x\\x00y s{b=2 t{l=[i1,i2]}} e=[] {g=3}"},
    {"request-named.bin", 0, VICI_CMD_REQUEST, "list-sas", 0, "noblock=yes"},
    {"event-named.bin", 0, VICI_EVENT, "ike-updown", 0, "lab{uniqueid=7}"},
    {"depth-max.bin", 0, VICI_CMD_RESPONSE, "", 0, NULL},
    {"long-name.bin", 0, VICI_CMD_RESPONSE, "", 0, NULL},
    {"bad-depth.bin", 0, VICI_CMD_RESPONSE, "", -EBADMSG, NULL},
    {"bad-unknown-element.bin", 0, VICI_CMD_RESPONSE, "", -EBADMSG, NULL},
    {"bad-zero-element.bin", 0, VICI_CMD_RESPONSE, "", -EBADMSG, NULL},
    {"bad-truncated-kv.bin", 0, VICI_CMD_RESPONSE, "", -EBADMSG, NULL},
    {"bad-truncated-name.bin", 0, VICI_CMD_RESPONSE, "", -EBADMSG, NULL},
    {"bad-truncated-vlen.bin", 0, VICI_CMD_RESPONSE, "", -EBADMSG, NULL},
    {"bad-item-outside-list.bin", 0, VICI_CMD_RESPONSE, "", -EBADMSG, NULL},
    {"bad-list-end-outside.bin", 0, VICI_CMD_RESPONSE, "", -EBADMSG, NULL},
    {"bad-section-end-root.bin", 0, VICI_CMD_RESPONSE, "", -EBADMSG, NULL},
    {"bad-unclosed-section.bin", 0, VICI_CMD_RESPONSE, "", -EBADMSG, NULL},
    {"bad-unclosed-list.bin", 0, VICI_CMD_RESPONSE, "", -EBADMSG, NULL},
    {"bad-list-in-list.bin", 0, VICI_CMD_RESPONSE, "", -EBADMSG, NULL},
    {"bad-section-in-list.bin", 0, VICI_CMD_RESPONSE, "", -EBADMSG, NULL},
    {"bad-kv-in-list.bin", 0, VICI_CMD_RESPONSE, "", -EBADMSG, NULL},
    {"bad-nul-in-name.bin", 0, VICI_CMD_RESPONSE, "", -EBADMSG, NULL},
    {"bad-garbage.bin", 0, VICI_CMD_RESPONSE, "", -EBADMSG, NULL},
    {"pkt-bad-type.bin", -EBADMSG, 0, NULL, 0, NULL},
    {"pkt-cut-name.bin", -EBADMSG, 0, NULL, 0, NULL},
    {"pkt-no-name-len.bin", -EBADMSG, 0, NULL, 0, NULL},
};

static void
test_handmade(void **state)
{
	for (size_t i = 0; i < sizeof(codec_cases) / sizeof(codec_cases[0]);
	     i++) {
		const struct codec_case *c = &codec_cases[i];
		char rel[256];
		size_t len, seg_len;
		uint8_t *buf;
		const uint8_t *seg;
		struct vici_packet p;
		struct vici_msg m;
		int rv;

		snprintf(rel, sizeof(rel), "handmade/%s", c->file);
		buf = vici_fixture_read(rel, &len);
		assert_non_null(buf);
		seg = vici_fixture_segment(buf, len, 0, &seg_len);
		assert_non_null(seg);
		rv = vici_packet_parse(seg, seg_len, &p);
		if (rv != c->packet_rv) {
			fail_msg("%s: packet %d, want %d", c->file, rv,
			         c->packet_rv);
		}
		if (rv == 0) {
			assert_int_equal(p.type, c->type);
			assert_string_equal(p.name, c->name);
			rv = vici_decode(p.body, p.body_len, &m);
			if (rv != c->decode_rv) {
				fail_msg("%s: decode %d, want %d", c->file, rv,
				         c->decode_rv);
			}
			if (rv == 0 && c->dump != NULL) {
				assert_string_equal(dump(&m), c->dump);
			}
			if (rv != 0) {
				/* An error leaves nothing to free. */
				assert_null(m.nodes);
				assert_int_equal(m.n, 0);
			}
			vici_msg_free(&m);
		}
		free(buf);
	}
}

static void
test_accessors(void **state)
{
	struct vici_msg m;
	const struct vici_node *root, *s, *t, *l;
	uint64_t v;
	uint32_t x;

	assert_int_equal(vici_fixture_message("handmade/all-elements.bin", &m),
	                 0);
	root = vici_root(&m);
	assert_string_equal(vici_str(&m, root, "a"), "1");
	assert_int_equal(vici_u64(&m, root, "a", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(vici_u64(&m, root, "empty", &v), -EINVAL);
	assert_int_equal(vici_u64(&m, root, "nope", &v), -ENOENT);
	assert_int_equal(vici_hex32(&m, root, "nope", &x), -ENOENT);
	s = vici_section(&m, root, "s");
	assert_non_null(s);
	assert_null(vici_section(&m, root, "a")); /* a key, not a section */
	assert_null(vici_str(&m, root, "s"));     /* a section, not a key */
	t = vici_section(&m, s, "t");
	l = vici_child(&m, t, "l");
	assert_non_null(l);
	assert_int_equal(l->kind, VICI_NODE_LIST);
	assert_string_equal(vici_first(&m, l)->value, "i1");
	assert_non_null(vici_section(&m, root, "")); /* empty-named */
	assert_int_equal(vici_child(&m, root, "bin")->value_len, 3);
	assert_false(vici_yes(&m, root, "a"));
	vici_msg_free(&m);
}

static void
test_numbers(void **state)
{
	static const struct {
		const char *s;
		int rv;
		uint64_t v;
	} dec[] = {
	    {"0", 0, 0},
	    {"18446744073709551615", 0, UINT64_MAX},
	    {"18446744073709551616", -EINVAL, 0},
	    {"", -EINVAL, 0},
	    {"-1", -EINVAL, 0},
	    {" 1", -EINVAL, 0},
	    {"1 ", -EINVAL, 0},
	    {"0x10", -EINVAL, 0},
	};
	static const struct {
		const char *s;
		int rv;
		uint32_t v;
	} hex[] = {
	    {"c8b2ac5c", 0, 0xc8b2ac5c},
	    {"0B37EAE5", 0, 0x0b37eae5},
	    {"1", 0, 1},
	    {"123456789", -EINVAL, 0},
	    {"", -EINVAL, 0},
	    {"0x12", -EINVAL, 0},
	    {"zz", -EINVAL, 0},
	};

	for (size_t i = 0; i < sizeof(dec) / sizeof(dec[0]); i++) {
		uint64_t v = 0;

		assert_int_equal(vici_parse_u64(dec[i].s, &v), dec[i].rv);
		if (dec[i].rv == 0) {
			assert_true(v == dec[i].v);
		}
	}
	for (size_t i = 0; i < sizeof(hex) / sizeof(hex[0]); i++) {
		struct vici_builder b;
		struct vici_msg m;
		uint32_t v = 0;

		vici_builder_init(&b);
		vici_builder_kv(&b, "spi", hex[i].s);
		assert_int_equal(vici_builder_finish(&b), 0);
		assert_int_equal(vici_decode(b.buf, b.len, &m), 0);
		assert_int_equal(vici_hex32(&m, vici_root(&m), "spi", &v),
		                 hex[i].rv);
		if (hex[i].rv == 0) {
			assert_int_equal(v, hex[i].v);
		}
		vici_msg_free(&m);
		vici_builder_release(&b);
	}
}

/* ---- recorded fixtures ---- */

static const char *const recorded[] = {
    "ssa-events.bin",
    "ssb-events.bin",
    "ssa-traffic-list-sa.bin",
    "ssa-final-list-sa.bin",
    "ssb-traffic-list-sa.bin",
    "ssb-final-list-sa.bin",
    "ssa-traffic-list-conn.bin",
    "ssa-traffic-stats-reply.bin",
    "ssa-traffic-get-counters-reply.bin",
    "ssa-traffic-version-reply.bin",
    "ssa-traffic-list-sas-reply.bin",
    "ssa-traffic-unknown-reply.bin",
    "ssb-final-get-counters-reply.bin",
};

/* Every recorded segment decodes, and building the tree again gives the
 * daemon's bytes back exactly. */
static void
test_recorded_round_trip(void **state)
{
	size_t segments = 0;

	for (size_t f = 0; f < sizeof(recorded) / sizeof(recorded[0]); f++) {
		char rel[256];
		size_t len, n;
		uint8_t *buf;
		const uint8_t *seg;

		snprintf(rel, sizeof(rel), "recorded/%s", recorded[f]);
		buf = vici_fixture_read(rel, &len);
		assert_non_null(buf);
		for (size_t i = 0;
		     (seg = vici_fixture_segment(buf, len, i, &n)) != NULL;
		     i++) {
			struct vici_packet p;
			struct vici_msg m;
			struct vici_builder b;
			uint8_t *out;
			size_t out_len;

			assert_int_equal(vici_packet_parse(seg, n, &p), 0);
			assert_int_equal(vici_decode(p.body, p.body_len, &m),
			                 0);
			vici_builder_init(&b);
			build_node(&m, vici_root(&m), &b);
			assert_int_equal(vici_builder_finish(&b), 0);
			assert_int_equal(
			    vici_encode_packet(
			        p.type,
			        vici_packet_is_named(p.type) ? p.name : NULL,
			        b.buf, b.len, &out, &out_len),
			    0);
			assert_int_equal(out_len, n + 4);
			assert_memory_equal(out + 4, seg, n);
			free(out);
			vici_builder_release(&b);
			vici_msg_free(&m);
			segments++;
		}
		free(buf);
	}
	/* 2 event streams of ~90 events plus the snapshots. */
	assert_true(segments > 150);
}

static void
test_recorded_values(void **state)
{
	struct vici_msg *v = NULL;
	const struct vici_node *sa, *child;
	uint64_t bytes = 0;
	uint32_t spi = 0;
	int n;

	n = vici_fixture_messages("recorded/ssa-traffic-list-sa.bin", &v);
	assert_int_equal(n, 1);
	sa = vici_section(&v[0], vici_root(&v[0]), "lab");
	assert_non_null(sa);
	assert_string_equal(vici_str(&v[0], sa, "state"), "ESTABLISHED");
	assert_true(vici_yes(&v[0], sa, "initiator"));
	child = vici_first(&v[0], vici_section(&v[0], sa, "child-sas"));
	assert_non_null(child);
	assert_string_equal(vici_str(&v[0], child, "name"), "net");
	assert_int_equal(vici_u64(&v[0], child, "bytes-in", &bytes), 0);
	assert_true(bytes > 0);
	assert_int_equal(vici_hex32(&v[0], child, "spi-in", &spi), 0);
	assert_true(spi != 0);
	vici_msg_free(&v[0]);
	free(v);
}

/* Every prefix of every segment, and single-byte corruptions: an error
 * or a tree, never a crash or an out-of-bounds read (run under ASan). */
static void
test_truncations_and_flips(void **state)
{
	static const char *const files[] = {
	    "handmade/all-elements.bin", "handmade/depth-max.bin",
	    "recorded/ssa-final-list-sa.bin",
	    "recorded/ssa-traffic-get-counters-reply.bin",
	    "recorded/ssa-traffic-list-conn.bin"};
	unsigned seed = 12345;

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		size_t len, n;
		uint8_t *buf = vici_fixture_read(files[f], &len);
		const uint8_t *seg;

		assert_non_null(buf);
		seg = vici_fixture_segment(buf, len, 0, &n);
		assert_non_null(seg);
		for (size_t cut = 0; cut < n; cut++) {
			/* A copy of exactly `cut` bytes, so ASan sees any
			 * read past the end. */
			uint8_t *c = malloc(cut ? cut : 1);
			struct vici_packet p;
			struct vici_msg m;

			memcpy(c, seg, cut);
			if (vici_packet_parse(c, cut, &p) == 0 &&
			    vici_decode(p.body, p.body_len, &m) == 0) {
				vici_msg_free(&m);
			}
			free(c);
		}
		for (int k = 0; k < 2000; k++) {
			uint8_t *c = malloc(n);
			struct vici_packet p;
			struct vici_msg m;

			memcpy(c, seg, n);
			seed = seed * 1103515245u + 12345u;
			c[(seed >> 8) % n] ^=
			    (uint8_t)(1u << ((seed >> 4) & 7));
			if (vici_packet_parse(c, n, &p) == 0 &&
			    vici_decode(p.body, p.body_len, &m) == 0) {
				(void)dump(&m);
				vici_msg_free(&m);
			}
			free(c);
		}
		free(buf);
	}
}

/* ---- encoding ---- */

static void
test_builder_every_element(void **state)
{
	struct vici_builder b;
	struct vici_msg m;

	vici_builder_init(&b);
	vici_builder_kv(&b, "k", "v");
	vici_builder_section_start(&b, "s");
	vici_builder_list_start(&b, "l");
	vici_builder_list_item(&b, "a");
	vici_builder_list_item(&b, "");
	vici_builder_list_end(&b);
	vici_builder_section_start(&b, "");
	vici_builder_kvn(&b, "n", "\0\1", 2);
	vici_builder_section_end(&b);
	vici_builder_section_end(&b);
	assert_int_equal(vici_builder_finish(&b), 0);
	assert_int_equal(vici_decode(b.buf, b.len, &m), 0);
	assert_string_equal(dump(&m), "k=v s{l=[a,] {n=\\x00\\x01}}");
	vici_msg_free(&m);
	vici_builder_release(&b);
}

static void
test_builder_errors(void **state)
{
	char long_name[300];
	char *long_value = malloc(70000);
	struct vici_builder b;

	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	memset(long_value, 'v', 69999);
	long_value[69999] = '\0';

	vici_builder_init(&b);
	vici_builder_kv(&b, long_name, "v");
	assert_int_equal(vici_builder_finish(&b), -E2BIG);
	vici_builder_release(&b);

	vici_builder_init(&b);
	vici_builder_kv(&b, "k", long_value);
	assert_int_equal(vici_builder_finish(&b), -E2BIG);
	vici_builder_release(&b);

	vici_builder_init(&b); /* item outside a list */
	vici_builder_list_item(&b, "x");
	assert_int_equal(vici_builder_finish(&b), -EINVAL);
	vici_builder_release(&b);

	vici_builder_init(&b); /* section inside a list */
	vici_builder_list_start(&b, "l");
	vici_builder_section_start(&b, "s");
	assert_int_equal(vici_builder_finish(&b), -EINVAL);
	vici_builder_release(&b);

	vici_builder_init(&b); /* unbalanced */
	vici_builder_section_start(&b, "s");
	assert_int_equal(vici_builder_finish(&b), -EINVAL);
	vici_builder_release(&b);

	vici_builder_init(&b);
	vici_builder_section_end(&b);
	assert_int_equal(vici_builder_finish(&b), -EINVAL);
	vici_builder_release(&b);

	vici_builder_init(&b); /* the first error sticks */
	vici_builder_list_end(&b);
	vici_builder_kv(&b, "k", "v");
	assert_int_equal(vici_builder_finish(&b), -EINVAL);
	vici_builder_release(&b);
	free(long_value);
}

/* The segment limit is exact: a packet of 512 KiB encodes and decodes,
 * one byte more is refused by the encoder and the decoder. */
static void
test_segment_limit(void **state)
{
	struct vici_builder b;
	struct vici_msg m;
	uint8_t *out = NULL;
	size_t out_len, body;
	char *v = malloc(65536);

	memset(v, 'x', 65535);
	v[65535] = '\0';
	vici_builder_init(&b);
	/* 1 type byte of CMD_RESPONSE + body == VICI_SEGMENT_MAX */
	while (b.len + 65535 + 8 < VICI_SEGMENT_MAX - 1) {
		vici_builder_kv(&b, "big", v);
	}
	body = VICI_SEGMENT_MAX - 1 - b.len - 7; /* kv "pad": 1+1+3+2 */
	v[body] = '\0';
	vici_builder_kv(&b, "pad", v);
	assert_int_equal(vici_builder_finish(&b), 0);
	assert_int_equal(b.len, VICI_SEGMENT_MAX - 1);
	assert_int_equal(vici_encode_packet(VICI_CMD_RESPONSE, NULL, b.buf,
	                                    b.len, &out, &out_len),
	                 0);
	assert_int_equal(out_len, VICI_SEGMENT_MAX + 4);
	free(out);
	assert_int_equal(vici_decode(b.buf, b.len, &m), 0);
	vici_msg_free(&m);
	/* One byte more: the builder refuses to grow past the limit, the
	 * encoder refuses a body that leaves no room for the type. */
	vici_builder_kv(&b, "", "");
	assert_int_equal(vici_builder_finish(&b), -EMSGSIZE);
	vici_builder_release(&b);
	{
		uint8_t *big = calloc(1, VICI_SEGMENT_MAX + 1);

		assert_int_equal(vici_encode_packet(VICI_CMD_RESPONSE, NULL,
		                                    big, VICI_SEGMENT_MAX, &out,
		                                    &out_len),
		                 -EMSGSIZE);
		assert_null(out);
		assert_int_equal(vici_decode(big, VICI_SEGMENT_MAX + 1, &m),
		                 -EMSGSIZE);
		free(big);
	}
	free(v);
}

static void
test_packet_encode(void **state)
{
	uint8_t *out;
	size_t len;
	struct vici_packet p;
	char n256[257];

	assert_int_equal(
	    vici_encode_packet(VICI_EVENT_REGISTER, "log", NULL, 0, &out, &len),
	    0);
	assert_int_equal(len, 4 + 1 + 1 + 3);
	assert_memory_equal(out, "\0\0\0\5\3\3log", 9);
	assert_int_equal(vici_packet_parse(out + 4, len - 4, &p), 0);
	assert_int_equal(p.type, VICI_EVENT_REGISTER);
	assert_string_equal(p.name, "log");
	assert_int_equal(p.body_len, 0);
	free(out);

	memset(n256, 'a', 256);
	n256[256] = '\0';
	assert_int_equal(
	    vici_encode_packet(VICI_CMD_REQUEST, n256, NULL, 0, &out, &len),
	    -E2BIG);
	assert_int_equal(
	    vici_encode_packet(VICI_CMD_REQUEST, NULL, NULL, 0, &out, &len),
	    -EINVAL);
	assert_int_equal(
	    vici_encode_packet(VICI_CMD_RESPONSE, "x", NULL, 0, &out, &len),
	    -EINVAL);
	assert_int_equal(vici_encode_packet(9, NULL, NULL, 0, &out, &len),
	                 -EINVAL);
	assert_int_equal(vici_packet_parse((const uint8_t *)"", 0, &p),
	                 -EBADMSG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_handmade),
	    cmocka_unit_test(test_accessors),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_recorded_round_trip),
	    cmocka_unit_test(test_recorded_values),
	    cmocka_unit_test(test_truncations_and_flips),
	    cmocka_unit_test(test_builder_every_element),
	    cmocka_unit_test(test_builder_errors),
	    cmocka_unit_test(test_segment_limit),
	    cmocka_unit_test(test_packet_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
