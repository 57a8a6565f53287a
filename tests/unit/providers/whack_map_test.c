/* The whack mapping: globalstatus and trafficstatus fixtures of several
 * libreswan releases contributed to a stats tree, field by field,
 * including what must stay absent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats_tree.h"
#include "whack.h"

#define ABSENT (-1)

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
	FILE *f;
	char *buf;
	long n;

	if (name == NULL) {
		*len = 0;
		return calloc(1, 1);
	}
	f = fopen(fixture(name), "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* One key module's v4 block; ABSENT where nothing may be set. */
struct km_expect {
	int64_t active_main, active_quick;
	int64_t main_started, main_ok, main_failed;
	int64_t quick_started, quick_ok, quick_failed;
	bool errors; /* error table present */
	int64_t auth_fail, timed_out, invalid_hash;
};

struct map_case {
	const char *global;
	struct km_expect v2, v1;
};

static const struct map_case map_cases[] = {
    /* 3.x: old keys only; no per-kind started/finished. */
    {"globalstatus-3.27.txt",
     {2, 3, ABSENT, 7, 2, ABSENT, ABSENT, ABSENT, true, 2, 0, 0},
     {1, 1, ABSENT, 3, 1, ABSENT, ABSENT, ABSENT, true, 0, 0, 2}},
    /* 4.10, recorded from pluto here: IKE SA up, the CHILD_SA failed
     * because the kernel had no ESP (finished.other=1). */
    {"globalstatus-4.10-initiator.txt",
     {1, 0, 1, 1, 0, 1, 0, 1, true, 0, 0, 0},
     {0, 0, 0, 0, 0, 0, 0, 0, true, 0, 0, 0}},
    {"globalstatus-4.10-responder.txt",
     {1, 0, 1, 1, 0, 1, 0, 1, true, 0, 0, 0},
     {0, 0, 0, 0, 0, 0, 0, 0, true, 0, 0, 0}},
    /* 4.10 in the kernel lab: one IKE SA and its Child SA up (ESP),
     * two attempts refused with AUTHENTICATION_FAILED. */
    {"globalstatus-4.10-lab.txt",
     {1, 1, 3, 1, 2, 3, 1, 2, true, 2, 0, 0},
     {0, 0, 0, 0, 0, 0, 0, 0, true, 0, 0, 0}},
    /* 5.x: reasons per finished SA; no IKEv1 states in the build. */
    {"globalstatus-5.x.txt",
     {3, 3, 10, 8, 2, 12, 9, 2, true, 1, 2, 0},
     {ABSENT, ABSENT, 0, 0, 0, 0, 0, 0, true, 0, 0, 0}},
};

#define CHECK(what, want, msg, field)                                          \
	do {                                                                   \
		if ((want) == ABSENT) {                                        \
			if ((msg)->has_##field) {                              \
				fail_msg("%s %s: expected absent, got %llu",   \
				         file, what,                           \
				         (unsigned long long)(msg)->field);    \
			}                                                      \
		} else if (!(msg)->has_##field ||                              \
		           (msg)->field != (uint64_t)(want)) {                 \
			fail_msg("%s %s: expected %lld, got %s%llu", file,     \
			         what, (long long)(want),                      \
			         (msg)->has_##field ? "" : "absent ",          \
			         (unsigned long long)(msg)->field);            \
		}                                                              \
	} while (0)

static void
check_km(const char *file, const char *v, struct stats_tree *t,
         enum key_module km, const struct km_expect *e)
{
	const Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics *s =
	    &t->km_ip[km][IP_V4];
	const Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics *s6 =
	    &t->km_ip[km][IP_V6];
	const Secstat__V1__IkeextKeymoduleStatistics *m = &t->km[km];

	(void)v;
	CHECK("active main modes", e->active_main, s,
	      current_active_main_modes);
	CHECK("active quick modes", e->active_quick, s,
	      current_active_quick_modes);
	CHECK("main modes started", e->main_started, s,
	      total_main_modes_started);
	CHECK("successful main modes", e->main_ok, s,
	      total_successful_main_modes);
	CHECK("failed main modes", e->main_failed, s, total_failed_main_modes);
	CHECK("quick modes started", e->quick_started, s,
	      total_quick_modes_started);
	CHECK("successful quick modes", e->quick_ok, s,
	      total_successful_quick_modes);
	CHECK("failed quick modes", e->quick_failed, s,
	      total_failed_quick_modes);
	/* pluto cannot tell these. */
	CHECK("responder main modes", ABSENT, s, total_responder_main_modes);
	CHECK("new responder main modes", ABSENT, s,
	      current_new_responder_main_modes);
	CHECK("acquires", ABSENT, s, total_acquires);
	CHECK("v6 active main modes", ABSENT, s6, current_active_main_modes);
	CHECK("v6 successful main modes", ABSENT, s6,
	      total_successful_main_modes);
	CHECK("main mode negotiation time", ABSENT, m,
	      main_mode_negotiation_time);
	if (!e->errors) {
		assert_int_equal(m->n_error_frequency_table, 0);
		return;
	}
	assert_int_equal(m->n_error_frequency_table, IKE_ERROR_CODE_COUNT);
	assert_int_equal(m->error_code_base, IKE_ERROR_CODE_BASE);
	if (m->error_frequency_table[1] != (uint64_t)e->auth_fail ||
	    m->error_frequency_table[5] != (uint64_t)e->timed_out ||
	    m->error_frequency_table[70] != (uint64_t)e->invalid_hash) {
		fail_msg("%s %s errors: auth %llu timeout %llu hash %llu", file,
		         v, (unsigned long long)m->error_frequency_table[1],
		         (unsigned long long)m->error_frequency_table[5],
		         (unsigned long long)m->error_frequency_table[70]);
	}
	/* Nothing else is classified. */
	for (size_t i = 0; i < IKE_ERROR_CODE_COUNT; i++) {
		if (i != 1 && i != 5 && i != 70 && i != 26) {
			assert_int_equal(m->error_frequency_table[i], 0);
		}
	}
}

static struct whack_records *
records(const char *global, const char *traffic, const char *states)
{
	size_t glen, tlen, slen;
	char *g = slurp(global, &glen);
	char *tr = slurp(traffic, &tlen);
	char *st = slurp(states, &slen);
	struct whack_records *r =
	    whack_records_parse(g, glen, tr, tlen, st, slen);

	assert_non_null(r);
	free(g);
	free(tr);
	free(st);
	return r;
}

static void
test_globalstatus_mapping(void **state)
{
	for (size_t i = 0; i < sizeof(map_cases) / sizeof(map_cases[0]); i++) {
		const struct map_case *c = &map_cases[i];
		struct whack_records *r = records(c->global, NULL, NULL);
		struct stats_tree t;

		stats_tree_init(&t);
		whack_provider.contribute(r, &t);
		check_km(c->global, "IKEv2", &t, KEY_MODULE_IKEV2, &c->v2);
		check_km(c->global, "IKEv1", &t, KEY_MODULE_IKE, &c->v1);
		/* AuthIP is Windows-only; nothing in the common block or
		 * the IPsec statistics comes from pluto. */
		assert_false(t.km_ip[KEY_MODULE_AUTHIP][IP_V4]
		                 .has_total_successful_main_modes);
		stats_tree_finish(&t);
		assert_null(t.ike.authip_statistics);
		assert_null(t.ike.common_statistics);
		assert_null(t.ipsec_response.statistics);
		assert_int_equal(t.sa_response.n_ipsec_sas, 0);
		stats_tree_release(&t);
		whack_provider.records_free(r);
	}
}

/* Two pluto readings add up (the host-wide block sums sources). */
static void
test_contributions_add(void **state)
{
	struct whack_records *r = records("globalstatus-5.x.txt", NULL, NULL);
	struct stats_tree t;

	stats_tree_init(&t);
	whack_provider.contribute(r, &t);
	whack_provider.contribute(r, &t);
	assert_int_equal(
	    t.km_ip[KEY_MODULE_IKEV2][IP_V4].total_successful_main_modes, 16);
	assert_int_equal(t.km[KEY_MODULE_IKEV2].error_frequency_table[5], 4);
	stats_tree_release(&t);
	whack_provider.records_free(r);
}

/* Garbage or an empty reading contributes nothing at all. */
static void
test_nothing_from_nothing(void **state)
{
	static const char junk[] = "\x7f\x45\x4c\x46 binary\n000 \nhello=\n";
	struct whack_records *r =
	    whack_records_parse(junk, sizeof(junk) - 1, junk, sizeof(junk) - 1,
	                        junk, sizeof(junk) - 1);
	struct stats_tree t;

	assert_non_null(r);
	stats_tree_init(&t);
	whack_provider.contribute(r, &t);
	stats_tree_finish(&t);
	assert_null(t.ike_response.statistics);
	assert_null(t.ipsec_response.statistics);
	assert_int_equal(t.sa_response.n_ipsec_sas, 0);
	assert_int_equal(t.sa_response.n_ike_sas, 0);
	stats_tree_release(&t);
	whack_provider.records_free(r);
}

struct sa_case {
	const char *traffic;
	size_t n;
	const char *name0;
	uint32_t id0;
	uint64_t in0, out0, add0;
	const char *remote1; /* the second SA's instance address, or NULL */
};

static const struct sa_case sa_cases[] = {
    {"trafficstatus-4.10-lab.txt", 1, "good", 2, 320, 320, 1795309922, NULL},
    {"trafficstatus-3.27.txt", 2, "roadwarrior[1]", 3, 1234, 5678, 1521112101,
     NULL},
    {"trafficstatus-4.x.txt", 2, "west-east", 2, 840, 1680, 1700000000, NULL},
    {"trafficstatus-5.x.txt", 2, "tunnel/1x1", 6, 84, 84, 1732230000,
     "2001:db8::9"},
};

static void
test_sa_listing(void **state)
{
	for (size_t i = 0; i < sizeof(sa_cases) / sizeof(sa_cases[0]); i++) {
		const struct sa_case *c = &sa_cases[i];
		struct whack_records *r = records(NULL, c->traffic, NULL);
		struct stats_tree t;
		Secstat__V1__IpsecSaDetail *sa;

		stats_tree_init(&t);
		/* A kernel source counted SAs first: pluto's bytes must not
		 * reach the traffic statistics either way. */
		stats_tree_note_spi(&t, 0x1001);
		whack_provider.contribute(r, &t);
		assert_int_equal(t.sa_response.n_ipsec_sas, c->n);
		sa = t.sa_response.ipsec_sas[0];
		assert_string_equal(sa->source, "whack");
		assert_string_equal(sa->name, c->name0);
		assert_string_equal(sa->protocol, "esp");
		assert_string_equal(sa->state, "INSTALLED");
		assert_true(sa->has_unique_id);
		assert_int_equal(sa->unique_id, c->id0);
		assert_true(sa->has_bytes_in && sa->has_bytes_out);
		assert_int_equal(sa->bytes_in, c->in0);
		assert_int_equal(sa->bytes_out, c->out0);
		assert_int_equal(sa->install_unix_s, c->add0);
		/* trafficstatus has neither packets nor SPIs. */
		assert_false(sa->has_packets_in || sa->has_packets_out);
		assert_false(sa->has_spi_in || sa->has_spi_out);
		if (c->remote1 != NULL) {
			assert_string_equal(
			    t.sa_response.ipsec_sas[1]->remote_address,
			    c->remote1);
		}
		assert_false(t.ipsec_in.has_encrypted_byte_count);
		assert_false(t.ipsec_out.has_encrypted_byte_count);
		assert_false(t.ipsec_in.has_tunnel_byte_count);
		assert_false(t.ipsec_in.has_transport_byte_count);
		stats_tree_release(&t);
		whack_provider.records_free(r);
	}
}

/* showstates of the same kernel-lab run: the Child SA goes under its IKE
 * SA, with the SPIs the kernel used (ip xfrm state of that run: outbound
 * 192.0.2.1 -> 192.0.2.2 spi 0x287385b0, inbound spi 0x2a002597). */
static void
test_sa_listing_joined(void **state)
{
	struct whack_records *r = records(NULL, "trafficstatus-4.10-lab.txt",
	                                  "showstates-4.10-lab.txt");
	struct stats_tree t;
	Secstat__V1__IkeSaDetail *ike;
	Secstat__V1__IpsecSaDetail *sa;

	stats_tree_init(&t);
	whack_provider.contribute(r, &t);
	assert_int_equal(t.sa_response.n_ike_sas, 1);
	assert_int_equal(t.sa_response.n_ipsec_sas, 0);
	ike = t.sa_response.ike_sas[0];
	assert_string_equal(ike->source, "whack");
	assert_string_equal(ike->name, "good");
	assert_int_equal(ike->unique_id, 1);
	assert_int_equal(ike->version, 2);
	assert_string_equal(ike->state, "ESTABLISHED");
	assert_int_equal(ike->n_child_sas, 1);
	sa = ike->child_sas[0];
	assert_int_equal(sa->unique_id, 2);
	assert_true(sa->has_spi_out && sa->has_spi_in);
	assert_int_equal(sa->spi_out, 0x287385b0);
	assert_int_equal(sa->spi_in, 0x2a002597);
	assert_string_equal(sa->remote_address, "192.0.2.2");
	assert_string_equal(sa->local_address, "192.0.2.1");
	assert_int_equal(sa->ike_sa_unique_id, 1);
	assert_int_equal(sa->bytes_in, 320);
	assert_int_equal(sa->bytes_out, 320);
	stats_tree_release(&t);
	whack_provider.records_free(r);
}

/* A Child SA whose parent showstates does not list as established stays
 * on its own, with its SPIs. */
static void
test_sa_listing_orphan(void **state)
{
	static const char traffic[] =
	    "#7: \"c\", type=ESP, inBytes=1, outBytes=2\n";
	static const char states[] =
	    "000 #6: \"c\":500 STATE_V2_REKEY_IKE_I1 (sent CREATE_CHILD_SA);\n"
	    "000 #7: \"c\":500 STATE_V2_ESTABLISHED_CHILD_SA (x); IKE SA #6;\n"
	    "000 #7: \"c\" ah.1001@198.51.100.2 ah.2002@198.51.100.1\n";
	struct whack_records *r = whack_records_parse(
	    "", 0, traffic, sizeof(traffic) - 1, states, sizeof(states) - 1);
	struct stats_tree t;
	Secstat__V1__IpsecSaDetail *sa;

	assert_non_null(r);
	stats_tree_init(&t);
	whack_provider.contribute(r, &t);
	assert_int_equal(t.sa_response.n_ike_sas, 0);
	assert_int_equal(t.sa_response.n_ipsec_sas, 1);
	sa = t.sa_response.ipsec_sas[0];
	assert_int_equal(sa->spi_out, 0x1001);
	assert_int_equal(sa->spi_in, 0x2002);
	assert_int_equal(sa->ike_sa_unique_id, 6);
	stats_tree_release(&t);
	whack_provider.records_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_globalstatus_mapping),
	    cmocka_unit_test(test_contributions_add),
	    cmocka_unit_test(test_nothing_from_nothing),
	    cmocka_unit_test(test_sa_listing),
	    cmocka_unit_test(test_sa_listing_joined),
	    cmocka_unit_test(test_sa_listing_orphan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
