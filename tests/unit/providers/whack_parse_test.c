/* whack_parse: globalstatus and trafficstatus text of several libreswan
 * releases (tests/fixtures/whack/README.md), and what must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "whack_parse.h"

static const char *
fixture(const char *name)
{
	static char path[4096];
	const char *src = getenv("SECSTAT_SOURCE_DIR");

	snprintf(path, sizeof(path), "%s/tests/fixtures/whack/%s",
	         src != NULL ? src : ".", name);
	return path;
}

static char *
slurp(const char *name, size_t *len)
{
	FILE *f = fopen(fixture(name), "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static uint64_t
must_u64(const struct whack_global *g, const char *key)
{
	uint64_t v = 0;

	if (!whack_global_u64(g, key, &v)) {
		fail_msg("key %s missing or not numeric", key);
	}
	return v;
}

/* ---- globalstatus fixtures ---- */

struct global_case {
	const char *file;
	size_t keys;
	const char *key; /* one key and its value, to see the prefix gone */
	uint64_t value;
	const char *text_key; /* a non-numeric key kept as text, or NULL */
	const char *text;
};

static const struct global_case global_cases[] = {
    {"globalstatus-3.27.txt", 476, "total.ike.ikev2.established", 7, NULL,
     NULL},
    {"globalstatus-4.10-initiator.txt", 551, "total.ike.traffic.out", 1233,
     NULL, NULL},
    {"globalstatus-4.10-responder.txt", 551, "total.ikev2.child.started", 1,
     NULL, NULL},
    {"globalstatus-4.10-lab.txt", 552, "total.ikev2.ike.finished.auth-failed",
     2, NULL, NULL},
    {"globalstatus-5.x.txt", 528, "total.ikev2.ike.finished.auth-failed", 1,
     NULL, NULL},
};

static void
test_global_fixtures(void **state)
{
	for (size_t i = 0; i < sizeof(global_cases) / sizeof(global_cases[0]);
	     i++) {
		const struct global_case *c = &global_cases[i];
		struct arena a = ARENA_INIT;
		struct whack_global g;
		size_t len;
		char *buf = slurp(c->file, &len);

		whack_parse_global(buf, len, &a, &g);
		if (g.n != c->keys || g.skipped != 0 || g.duplicates != 0 ||
		    g.truncated) {
			fail_msg("%s: n=%zu skipped=%u dup=%u trunc=%d",
			         c->file, g.n, g.skipped, g.duplicates,
			         g.truncated);
		}
		assert_int_equal(must_u64(&g, c->key), c->value);
		/* Sorted, unique keys. */
		for (size_t k = 1; k < g.n; k++) {
			assert_true(strcmp(g.kv[k - 1].key, g.kv[k].key) < 0);
		}
		assert_true(whack_global_has_prefix(&g, "current.states."));
		assert_false(whack_global_has_prefix(&g, "zzz"));
		assert_null(whack_global_find(&g, "000"));
		free(buf);
		arena_release(&a);
	}
}

/* ---- globalstatus edge cases ---- */

struct edge_case {
	const char *name;
	const char *text;
	size_t len; /* 0 = strlen(text) */
	size_t keys;
	unsigned skipped;
	unsigned duplicates;
	bool truncated;
	const char *key; /* checked when not NULL */
	bool numeric;
	uint64_t value;
	const char *value_text;
};

static const struct edge_case edge_cases[] = {
    {"empty", "", 0, 0, 0, 0, false, NULL, false, 0, NULL},
    {"duplicate keys: the first wins", "a.b=1\na.b=2\n000 a.b=3\n", 0, 1, 0, 2,
     false, "a.b", true, 1, "1"},
    {"u64 max", "k=18446744073709551615\n", 0, 1, 0, 0, false, "k", true,
     UINT64_MAX, "18446744073709551615"},
    {"past u64 max: kept as text, not numeric", "k=18446744073709551616\n", 0,
     1, 0, 0, false, "k", false, 0, "18446744073709551616"},
    {"spacing drift", "  006   k.x  =   42 \r\n", 0, 1, 0, 0, false, "k.x",
     true, 42, "42"},
    {"cut inside the last line", "a=1\nb=12", 0, 1, 0, 0, true, "b", false, 0,
     NULL},
    {"cut inside a key", "a=1\ntotal.ike", 0, 1, 0, 0, true, "a", true, 1, "1"},
    {"garbage lines",
     "=5\n9abc=1\nno equals sign\nkey=\n\x01\x02=3\n"
     "000 Total IPsec SAs:\n...\nok=7\n",
     0, 1, 7, 0, false, "ok", true, 7, "7"},
    {"negative and signed values stay text", "n=-1\np=+1\n", 0, 2, 0, 0, false,
     "n", false, 0, "-1"},
    {"embedded NUL", "a=1\n\0b=2\nc=3\n", 13, 2, 1, 0, false, "c", true, 3,
     "3"},
    {"text value", "total.ipsec.maxbytes=2^63B\n", 0, 1, 0, 0, false,
     "total.ipsec.maxbytes", false, 0, "2^63B"},
    {"reply code alone", "000\n000 \n", 0, 0, 0, 0, false, NULL, false, 0,
     NULL},
};

static void
test_global_edges(void **state)
{
	for (size_t i = 0; i < sizeof(edge_cases) / sizeof(edge_cases[0]);
	     i++) {
		const struct edge_case *c = &edge_cases[i];
		struct arena a = ARENA_INIT;
		struct whack_global g;
		size_t len = c->len ? c->len : strlen(c->text);

		whack_parse_global(c->text, len, &a, &g);
		if (g.n != c->keys || g.skipped != c->skipped ||
		    g.duplicates != c->duplicates ||
		    g.truncated != c->truncated) {
			fail_msg("%s: n=%zu skipped=%u dup=%u trunc=%d",
			         c->name, g.n, g.skipped, g.duplicates,
			         g.truncated);
		}
		if (c->key != NULL) {
			const struct whack_kv *kv =
			    whack_global_find(&g, c->key);

			if (c->value_text == NULL) {
				if (kv != NULL) {
					fail_msg("%s: %s should be absent",
					         c->name, c->key);
				}
			} else {
				assert_non_null(kv);
				assert_string_equal(kv->text, c->value_text);
				assert_int_equal(kv->numeric, c->numeric);
				if (c->numeric) {
					assert_int_equal(kv->value, c->value);
				}
			}
		}
		arena_release(&a);
	}
}

static void
test_global_long_key(void **state)
{
	struct arena a = ARENA_INIT;
	struct whack_global g;
	char *text = malloc(WHACK_KEY_MAX + 16);

	assert_non_null(text);
	memset(text, 'k', WHACK_KEY_MAX);
	memcpy(text + WHACK_KEY_MAX, "=1\nx=2\n", 8);
	whack_parse_global(text, strlen(text), &a, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.skipped, 1);
	assert_int_equal(must_u64(&g, "x"), 2);
	free(text);
	arena_release(&a);
}

/* More lines than WHACK_MAX_KEYS: the excess is refused, not grown. */
static void
test_global_key_bound(void **state)
{
	size_t lines = WHACK_MAX_KEYS + 10, len = 0;
	char *text = malloc(lines * 16);
	struct arena a = ARENA_INIT;
	struct whack_global g;

	assert_non_null(text);
	for (size_t i = 0; i < lines; i++) {
		len += (size_t)sprintf(text + len, "k%zu=%zu\n", i, i);
	}
	whack_parse_global(text, len, &a, &g);
	assert_int_equal(g.n, WHACK_MAX_KEYS);
	assert_int_equal(g.skipped, 10);
	assert_int_equal(must_u64(&g, "k0"), 0);
	assert_null(whack_global_find(&g, "k8195"));
	free(text);
	arena_release(&a);
}

/* ---- trafficstatus ---- */

struct sa_expect {
	uint64_t serial;
	const char *name;
	const char *peer;
	const char *type;
	const char *id;
	const char *username;
	int64_t add_time; /* -1 = absent */
	int64_t in_bytes;
	int64_t out_bytes;
};

struct traffic_case {
	const char *name; /* fixture file, or a label for `text` */
	const char *text; /* NULL = read the fixture */
	size_t n;
	unsigned skipped;
	bool truncated;
	struct sa_expect sa[2];
};

static const struct traffic_case traffic_cases[] = {
    {"trafficstatus-3.27.txt",
     NULL,
     2,
     0,
     false,
     {{3, "roadwarrior[1]", "192.0.2.101", "ESP", "CN=alice, O=Example",
       "alice", 1521112101, 1234, 5678},
      {5, "west-east", NULL, "ESP", "@east", NULL, 1521112200, 0, 0}}},
    {"trafficstatus-4.10-lab.txt",
     NULL,
     1,
     0,
     false,
     {{2, "good", NULL, "ESP", "@east", NULL, 1795309922, 320, 320}}},
    {"trafficstatus-4.x.txt",
     NULL,
     2,
     0,
     false,
     {{2, "west-east", NULL, "ESP", "@east", NULL, 1700000000, 840, 1680},
      {4, "west-east-v6", NULL, "ESP", "@east", NULL, 1700000100, 0, 0}}},
    {"trafficstatus-5.x.txt",
     NULL,
     2,
     0,
     false,
     {{6, "tunnel/1x1", NULL, "ESP", "@east", NULL, 1732230000, 84, 84},
      {9, "rw[2]", "2001:db8::9", "ESP", "C=XX, CN=bob", "bob", 1732230500,
       4096, 8192}}},
    {"empty", "", 0, 0, false, {{0}}},
    {"cut inside the second line",
     "#1: \"a\", type=ESP, inBytes=1, outBytes=2\n#2: \"b\", inBy",
     1,
     0,
     true,
     {{1, "a", NULL, "ESP", NULL, NULL, -1, 1, 2}}},
    {"huge and malformed numbers stay absent",
     "#7: \"c\", type=ESP, add_time=x, inBytes=18446744073709551616, "
     "outBytes=18446744073709551615\n",
     1,
     0,
     false,
     {{7, "c", NULL, "ESP", NULL, NULL, -1, -1, (int64_t)-2}}},
    {"unterminated quote and unknown fields",
     "#8: \"d\", future=1, type=AH, id='@x, y\n",
     1,
     0,
     false,
     {{8, "d", NULL, "AH", "@x, y", NULL, -1, -1, -1}}},
    {"garbage",
     "#x: \"a\"\n#1 \"a\"\n#2: a\n#3: \"\"\n#4: \"open\nhello\n"
     "#5: \"e\"[1 , type=ESP\n",
     0,
     7,
     false,
     {{0}}},
    {"no fields at all",
     "006 #12: \"bare\"\n",
     1,
     0,
     false,
     {{12, "bare", NULL, NULL, NULL, NULL, -1, -1, -1}}},
};

static void
check_opt_str(const char *what, const char *want, const char *got)
{
	if (want == NULL) {
		if (got != NULL) {
			fail_msg("%s: expected absent, got '%s'", what, got);
		}
	} else {
		if (got == NULL || strcmp(want, got) != 0) {
			fail_msg("%s: expected '%s', got '%s'", what, want,
			         got != NULL ? got : "(absent)");
		}
	}
}

static void
check_opt_u64(const char *what, int64_t want, bool has, uint64_t got)
{
	if (want == -1) {
		if (has) {
			fail_msg("%s: expected absent", what);
		}
		return;
	}
	if (!has) {
		fail_msg("%s: absent", what);
	}
	/* -2 stands for UINT64_MAX in the table. */
	if (got != (want == -2 ? UINT64_MAX : (uint64_t)want)) {
		fail_msg("%s: got %llu", what, (unsigned long long)got);
	}
}

static void
test_traffic(void **state)
{
	for (size_t i = 0; i < sizeof(traffic_cases) / sizeof(traffic_cases[0]);
	     i++) {
		const struct traffic_case *c = &traffic_cases[i];
		struct arena a = ARENA_INIT;
		struct whack_traffic t;
		char *buf = NULL;
		size_t len;

		if (c->text == NULL) {
			buf = slurp(c->name, &len);
		} else {
			len = strlen(c->text);
		}
		whack_parse_traffic(buf != NULL ? buf : c->text, len, &a, &t);
		if (t.n != c->n || t.skipped != c->skipped ||
		    t.truncated != c->truncated) {
			fail_msg("%s: n=%zu skipped=%u trunc=%d", c->name, t.n,
			         t.skipped, t.truncated);
		}
		for (size_t k = 0; k < t.n && k < 2; k++) {
			const struct sa_expect *e = &c->sa[k];
			const struct whack_sa *s = &t.sas[k];

			assert_int_equal(s->serial, e->serial);
			check_opt_str("name", e->name, s->name);
			check_opt_str("peer", e->peer, s->peer);
			check_opt_str("type", e->type, s->type);
			check_opt_str("id", e->id, s->id);
			check_opt_str("username", e->username, s->username);
			check_opt_u64("add_time", e->add_time, s->has_add_time,
			              s->add_time);
			check_opt_u64("inBytes", e->in_bytes, s->has_in_bytes,
			              s->in_bytes);
			check_opt_u64("outBytes", e->out_bytes,
			              s->has_out_bytes, s->out_bytes);
		}
		free(buf);
		arena_release(&a);
	}
}

/* ---- showstates ---- */

struct state_expect {
	uint64_t serial;
	const char *name;
	const char *state;
	int64_t parent; /* -1 = absent */
	const char *proto;
	int64_t spi_out, spi_in; /* -1 = absent */
	const char *remote, *local;
};

struct states_case {
	const char *name; /* fixture file, or a label for `text` */
	const char *text;
	size_t n;
	unsigned skipped;
	bool truncated;
	struct state_expect st[3];
};

static const struct states_case states_cases[] = {
    {"showstates-4.10-lab.txt",
     NULL,
     2,
     0,
     false,
     {{1, "good", "STATE_V2_ESTABLISHED_IKE_SA", -1, NULL, -1, -1, NULL, NULL},
      {2, "good", "STATE_V2_ESTABLISHED_CHILD_SA", 1, "esp", 0x287385b0,
       0x2a002597, "192.0.2.2", "192.0.2.1"}}},
    {"3.x IKEv1, isakmp#N, tun. and headings",
     "000 #1: \"v1\":500 STATE_MAIN_I4 (ISAKMP SA established); "
     "EVENT_SA_REPLACE in 2663s; newest ISAKMP; idle;\n"
     "000 #2: \"v1\":500 STATE_QUICK_I2 (sent QI2, IPsec SA established); "
     "newest IPSEC; eroute owner; isakmp#1; idle;\n"
     "000 #2: \"v1\" esp.9a2f6d2e@192.0.2.2 esp.c1e8f4d5@192.0.2.1 "
     "tun.0@192.0.2.2 tun.0@192.0.2.1 ref=0 refhim=0 Traffic: ESPin=0B\n"
     "000 \n000 Bare Shunt list:\n000  \n",
     2,
     1,
     false,
     {{1, "v1", "STATE_MAIN_I4", -1, NULL, -1, -1, NULL, NULL},
      {2, "v1", "STATE_QUICK_I2", 1, "esp", 0x9a2f6d2e, 0xc1e8f4d5, "192.0.2.2",
       "192.0.2.1"}}},
    {"instance, ISAKMP SA #N, esp before ah",
     "#9: \"rw\"[3] 2001:db8::9:500 STATE_QUICK_R2 (IPsec SA "
     "established); ISAKMP SA #8; idle;\n"
     "#9: \"rw\"[3] 2001:db8::9 ah.11@2001:db8::9 ah.22@2001:db8::1 "
     "esp.33@2001:db8::9 esp.44@2001:db8::1\n",
     1,
     0,
     false,
     {{9, "rw[3]", "STATE_QUICK_R2", 8, "esp", 0x33, 0x44, "2001:db8::9",
       "2001:db8::1"}}},
    {"malformed SAIDs and parents",
     "#3: \"x\" esp.123456789@a esp.@b esp.zz@c esp.ff esp.1@d; IKE SA #;\n"
     "#4: \"y\":500 STATE_V2_ESTABLISHED_CHILD_SA; IKE SA #5",
     1,
     0,
     true,
     {{3, "x", NULL, -1, "esp", 0x1, -1, "d", NULL}}},
    {"garbage",
     "#x: \"a\"\n#1 \"a\"\n\"a\" esp.1@b\n#2: \"\"\n",
     0,
     4,
     false,
     {{0}}},
};

static void
check_opt_spi(const char *what, int64_t want, bool has, uint32_t got)
{
	if (want == -1) {
		if (has) {
			fail_msg("%s: expected absent, got 0x%x", what, got);
		}
	} else if (!has || got != (uint32_t)want) {
		fail_msg("%s: expected 0x%llx, got %s0x%x", what,
		         (unsigned long long)want, has ? "" : "absent ", got);
	}
}

static void
test_states(void **state)
{
	for (size_t i = 0; i < sizeof(states_cases) / sizeof(states_cases[0]);
	     i++) {
		const struct states_case *c = &states_cases[i];
		struct arena a = ARENA_INIT;
		struct whack_states s;
		char *buf = NULL;
		size_t len;

		if (c->text == NULL) {
			buf = slurp(c->name, &len);
		} else {
			len = strlen(c->text);
		}
		whack_parse_states(buf != NULL ? buf : c->text, len, &a, &s);
		if (s.n != c->n || s.skipped != c->skipped ||
		    s.truncated != c->truncated) {
			fail_msg("%s: n=%zu skipped=%u trunc=%d", c->name, s.n,
			         s.skipped, s.truncated);
		}
		for (size_t k = 0; k < s.n && k < 3; k++) {
			const struct state_expect *e = &c->st[k];
			const struct whack_state *g =
			    whack_states_find(&s, e->serial);

			assert_non_null(g);
			check_opt_str("name", e->name, g->name);
			check_opt_str("state", e->state, g->state);
			check_opt_u64("parent", e->parent, g->has_parent,
			              g->parent);
			check_opt_str("proto", e->proto, g->proto);
			check_opt_spi("spi_out", e->spi_out, g->has_spi_out,
			              g->spi_out);
			check_opt_spi("spi_in", e->spi_in, g->has_spi_in,
			              g->spi_in);
			check_opt_str("remote", e->remote, g->remote);
			check_opt_str("local", e->local, g->local);
		}
		assert_null(whack_states_find(&s, 424242));
		free(buf);
		arena_release(&a);
	}
}

/* Every prefix of every fixture parses without reading past its end
 * (ASan in the sanitizer build) and never yields more than the whole. */
static void
test_every_prefix(void **state)
{
	static const char *files[] = {
	    "globalstatus-3.27.txt", "globalstatus-5.x.txt",
	    "trafficstatus-3.27.txt", "trafficstatus-5.x.txt",
	    "showstates-4.10-lab.txt"};

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		size_t len;
		char *buf = slurp(files[f], &len);

		for (size_t cut = 0; cut <= len; cut += 7) {
			char *copy = malloc(cut ? cut : 1);
			struct arena a = ARENA_INIT;
			struct whack_global g;
			struct whack_traffic t;
			struct whack_states st;

			assert_non_null(copy);
			memcpy(copy, buf, cut);
			whack_parse_global(copy, cut, &a, &g);
			whack_parse_traffic(copy, cut, &a, &t);
			whack_parse_states(copy, cut, &a, &st);
			assert_true(g.n <= 528);
			assert_true(t.n <= 2);
			assert_true(cut == len || cut == 0 ||
			            buf[cut - 1] == '\n' || g.truncated);
			free(copy);
			arena_release(&a);
		}
		free(buf);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_global_fixtures),
	    cmocka_unit_test(test_global_edges),
	    cmocka_unit_test(test_global_long_key),
	    cmocka_unit_test(test_global_key_bound),
	    cmocka_unit_test(test_traffic),
	    cmocka_unit_test(test_states),
	    cmocka_unit_test(test_every_prefix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
