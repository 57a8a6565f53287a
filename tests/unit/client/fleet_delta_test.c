/*
 * The ON_CHANGE round trip, table-driven: the publisher's diff of two
 * answers, encoded and decoded as on the wire, applied by the subscriber
 * to the older answer, gives the newer one byte for byte; values that
 * change, appear and disappear, whole blocks that go, lists that grow,
 * shrink and empty. An unchanged answer gives no delta at all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "publisher.h"
#include "subscribe.h"

#include "secstat/v1/ipsec.pb-c.h"
#include "secstat/v1/stream.pb-c.h"

/* A small answer: active SAs, ESP drops, MIB counters. <0 = absent. */
struct shape {
	long active;
	long esp_invalid; /* <-1: no ESP block at all */
	int n_mib;        /* counters "c0".."cN" with value 10*i + mib_add */
	int mib_add;
};

static Secstat__V1__IpsecGetStatisticsResponse *
make(const struct shape *s)
{
	Secstat__V1__IpsecGetStatisticsResponse r;
	Secstat__V1__IpsecStatistics st;
	Secstat__V1__IpsecAggregateSaStatistics sa;
	Secstat__V1__IpsecEspDropPacketStatistics esp;
	Secstat__V1__XfrmMibCounter c[4], *cp[4];
	char names[4][16];
	uint8_t buf[1024];
	size_t len;

	secstat__v1__ipsec_get_statistics_response__init(&r);
	secstat__v1__ipsec_statistics__init(&st);
	secstat__v1__ipsec_aggregate_sa_statistics__init(&sa);
	secstat__v1__ipsec_esp_drop_packet_statistics__init(&esp);
	if (s->active >= 0) {
		sa.has_active_sas = 1;
		sa.active_sas = (uint64_t)s->active;
	}
	sa.has_total_sas_added = 1;
	sa.total_sas_added = 7;
	st.aggregate_sa_statistics = &sa;
	if (s->esp_invalid >= -1) {
		if (s->esp_invalid >= 0) {
			esp.has_invalid_spis_on_inbound = 1;
			esp.invalid_spis_on_inbound = (uint64_t)s->esp_invalid;
		}
		esp.has_replay_check_failures_on_inbound = 1;
		esp.replay_check_failures_on_inbound = 3;
		st.esp_drop_packet_statistics = &esp;
	}
	r.statistics = &st;
	for (int i = 0; i < s->n_mib; i++) {
		secstat__v1__xfrm_mib_counter__init(&c[i]);
		snprintf(names[i], sizeof(names[i]), "c%d", i);
		c[i].name = names[i];
		c[i].has_value = 1;
		c[i].value = (uint64_t)(10 * i + s->mib_add);
		cp[i] = &c[i];
	}
	r.n_xfrm_mib = (size_t)s->n_mib;
	r.xfrm_mib = cp;
	/* Through the wire format: a malloc'ed tree, as a subscriber holds. */
	len = secstat__v1__ipsec_get_statistics_response__pack(&r, buf);
	return secstat__v1__ipsec_get_statistics_response__unpack(NULL, len,
	                                                          buf);
}

static const struct {
	const char *name;
	struct shape prev, cur;
} cases[] = {
    {"value changes", {5, 1, 2, 0}, {6, 1, 2, 0}},
    {"value appears", {-1, 1, 2, 0}, {4, 1, 2, 0}},
    {"value disappears", {5, 1, 2, 0}, {-1, 1, 2, 0}},
    {"block disappears", {5, 1, 2, 0}, {5, -2, 2, 0}},
    {"block appears", {5, -2, 2, 0}, {5, 9, 2, 0}},
    {"field in block disappears", {5, 1, 2, 0}, {5, -1, 2, 0}},
    {"list element changes", {5, 1, 3, 0}, {5, 1, 3, 1}},
    {"list grows", {5, 1, 2, 0}, {5, 1, 4, 0}},
    {"list shrinks", {5, 1, 4, 0}, {5, 1, 1, 0}},
    {"list empties", {5, 1, 3, 0}, {5, 1, 0, 0}},
    {"everything at once", {-1, -2, 0, 0}, {8, 2, 3, 5}},
};

static size_t
packed(const ProtobufCMessage *m, uint8_t *buf)
{
	return protobuf_c_message_pack(m, buf);
}

static void
test_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Secstat__V1__IpsecGetStatisticsResponse *prev =
		    make(&cases[i].prev);
		Secstat__V1__IpsecGetStatisticsResponse *cur =
		    make(&cases[i].cur);
		struct arena a = ARENA_INIT;
		ProtobufCMessage *ch = NULL, *rm = NULL;
		Secstat__V1__Publish pub, *got;
		Secstat__V1__StreamData d, r;
		uint8_t wire[4096], x[1024], y[1024];
		size_t len, lx, ly;

		print_message("case %s\n", cases[i].name);
		publisher_diff(&a, &prev->base, &cur->base, &ch, &rm);
		assert_true(ch != NULL || rm != NULL);
		secstat__v1__publish__init(&pub);
		secstat__v1__stream_data__init(&d);
		secstat__v1__stream_data__init(&r);
		d.ipsec = (Secstat__V1__IpsecGetStatisticsResponse *)ch;
		r.ipsec = (Secstat__V1__IpsecGetStatisticsResponse *)rm;
		pub.data = ch != NULL ? &d : NULL;
		pub.removed = rm != NULL ? &r : NULL;
		len = secstat__v1__publish__pack(&pub, wire);
		arena_release(&a);
		got = secstat__v1__publish__unpack(NULL, len, wire);
		assert_non_null(got);
		assert_int_equal(
		    subscribe_apply(
		        &prev->base, got->data ? &got->data->ipsec->base : NULL,
		        got->removed ? &got->removed->ipsec->base : NULL),
		    0);
		lx = packed(&prev->base, x);
		ly = packed(&cur->base, y);
		assert_int_equal(lx, ly);
		assert_memory_equal(x, y, ly);
		secstat__v1__publish__free_unpacked(got, NULL);
		secstat__v1__ipsec_get_statistics_response__free_unpacked(prev,
		                                                          NULL);
		secstat__v1__ipsec_get_statistics_response__free_unpacked(cur,
		                                                          NULL);
	}
}

static void
test_unchanged(void **state)
{
	static const struct shape s = {5, 1, 3, 2};
	Secstat__V1__IpsecGetStatisticsResponse *a = make(&s), *b = make(&s);
	struct arena ar = ARENA_INIT;
	ProtobufCMessage *ch = (void *)1, *rm = (void *)1;

	(void)state;
	publisher_diff(&ar, &a->base, &b->base, &ch, &rm);
	assert_null(ch);
	assert_null(rm);
	arena_release(&ar);
	secstat__v1__ipsec_get_statistics_response__free_unpacked(a, NULL);
	secstat__v1__ipsec_get_statistics_response__free_unpacked(b, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_unchanged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
