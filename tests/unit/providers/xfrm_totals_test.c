/*
 * xfrm_totals: per-tunnel monotonic totals and SA event counts over
 * scripted sequences of dumps and events (rekeys, SAs vanishing between
 * dumps, SPI reuse, lost events, hard expiry, flush, larval SAs).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xfrm_totals.h"

/* A compact SA: tunnel T1 is reqid 1 198.51.100.1 -> .2, T2 reqid 2. */
struct sa_spec {
	uint32_t spi; /* 0 ends a list */
	uint32_t reqid;
	uint64_t bytes;
	uint64_t packets;
	uint64_t add_time;
	uint32_t replay;
	uint32_t integrity;
	bool larval;
	uint8_t proto; /* 0 = ESP */
};

enum op {
	END = 0,
	DUMP,
	NEWSA,
	UPDSA,
	DELSA,
	EXPIRE_HARD,
	EXPIRE_SOFT,
	FLUSH,
	LOST,
	ACQUIRE
};

struct step {
	enum op op;
	struct sa_spec sas[4]; /* DUMP: the whole SAD; events: sas[0] */
	/* Expected after the step. */
	uint64_t t1_bytes; /* total of tunnel reqid 1 */
	uint64_t added;
	uint64_t deleted;
	uint64_t rekeys;
};

struct scenario {
	const char *name;
	struct step steps[10];
	/* Expected at the end for tunnel reqid 1. */
	uint64_t t1_packets;
	uint64_t t1_replay;
	uint64_t t1_integrity;
	uint64_t acquires;
};

#define A1(b, p, t)                                                            \
	{                                                                      \
		0x1001, 1, b, p, t, 0, 0, false, 0                             \
	}
#define B1(b, p, t)                                                            \
	{                                                                      \
		0x1002, 1, b, p, t, 0, 0, false, 0                             \
	}

static const struct scenario scenarios[] = {
    {"baseline dump, counters grow",
     {{DUMP, {A1(100, 1, 10)}, 100, 0, 0, 0},
      {DUMP, {A1(150, 2, 10)}, 150, 0, 0, 0}},
     2,
     0,
     0,
     0},
    {"make-before-break rekey by events",
     {{DUMP, {A1(100, 1, 10)}, 100, 0, 0, 0},
      {NEWSA, {B1(0, 0, 20)}, 100, 1, 0, 1},
      {DELSA, {A1(180, 3, 10)}, 180, 1, 1, 1},
      {DUMP, {B1(50, 1, 20)}, 230, 1, 1, 1},
      {DUMP, {B1(70, 2, 20)}, 250, 1, 1, 1}},
     5,
     0,
     0,
     0},
    /* The dump is newer than the events still queued: their order tells
     * that B was added while A was installed, a rekey (charon's CHILD_SA
     * rekeys, seen by an agent on a busy host). */
    {"SA vanishes between dumps, events arrive later",
     {{DUMP, {A1(100, 1, 10)}, 100, 0, 0, 0},
      {DUMP, {B1(10, 1, 20)}, 110, 0, 0, 0},
      {NEWSA, {B1(0, 0, 20)}, 110, 1, 0, 1},
      {DELSA, {A1(120, 2, 10)}, 130, 1, 1, 1},
      {DUMP, {B1(15, 2, 20)}, 135, 1, 1, 1},
      {NEWSA, {{0x1003, 1, 0, 0, 30, 0, 0, false, 0}}, 135, 2, 1, 2}},
     4,
     0,
     0,
     0},
    {"SA vanishes between dumps, DELSA before NEWSA: no rekey",
     {{DUMP, {A1(100, 1, 10)}, 100, 0, 0, 0},
      {DUMP, {B1(10, 1, 20)}, 110, 0, 0, 0},
      {DELSA, {A1(120, 2, 10)}, 130, 0, 1, 0},
      {NEWSA, {B1(0, 0, 20)}, 130, 1, 1, 0},
      {DUMP, {B1(15, 2, 20)}, 135, 1, 1, 0}},
     4,
     0,
     0,
     0},
    {"SA gone without a DELSA holds no later SA back for long",
     {{DUMP, {A1(100, 1, 10)}, 100, 0, 0, 0},
      {DUMP, {{0}}, 100, 0, 0, 0},
      {DUMP, {{0}}, 100, 0, 0, 0},
      {DUMP, {{0}}, 100, 0, 0, 0},
      {DUMP, {{0}}, 100, 0, 0, 0},
      {NEWSA, {B1(0, 0, 20)}, 100, 1, 0, 0}},
     1,
     0,
     0,
     0},
    {"SPI reused: same SPI, new add time, counters restart",
     {{DUMP, {A1(100, 4, 10)}, 100, 0, 0, 0},
      {DUMP, {A1(5, 1, 11)}, 105, 0, 0, 0},
      {DUMP, {A1(8, 2, 11)}, 108, 0, 0, 0}},
     6,
     0,
     0,
     0},
    {"counter reset without add time change is a new instance",
     {{DUMP, {A1(100, 4, 10)}, 100, 0, 0, 0},
      {DUMP, {A1(30, 1, 10)}, 130, 0, 0, 0}},
     5,
     0,
     0,
     0},
    {"delete then re-add by events (not a rekey)",
     {{DUMP, {A1(100, 4, 10)}, 100, 0, 0, 0},
      {DELSA, {A1(110, 5, 10)}, 110, 0, 1, 0},
      {NEWSA, {A1(0, 0, 12)}, 110, 1, 1, 0},
      {DUMP, {A1(20, 2, 12)}, 130, 1, 1, 0}},
     7,
     0,
     0,
     0},
    {"ENOBUFS: the next dump counts what the lost events said",
     {{DUMP, {A1(100, 1, 10)}, 100, 0, 0, 0},
      {LOST, {{0}}, 100, 0, 0, 0},
      {DUMP, {B1(20, 1, 20)}, 120, 1, 1, 1},
      {DELSA, {A1(130, 2, 10)}, 150, 1, 1, 1},
      {NEWSA, {B1(0, 0, 20)}, 150, 1, 1, 1}},
     3,
     0,
     0,
     0},
    {"hard expire deletes; a later DELSA of it counts nothing twice",
     {{DUMP, {A1(100, 1, 10)}, 100, 0, 0, 0},
      {EXPIRE_SOFT, {A1(110, 2, 10)}, 110, 0, 0, 0},
      {EXPIRE_HARD, {A1(120, 3, 10)}, 120, 0, 1, 0},
      {DELSA, {A1(120, 3, 10)}, 120, 0, 1, 0},
      {DUMP, {{0}}, 120, 0, 1, 0}},
     3,
     0,
     0,
     0},
    {"SA added and deleted between two dumps",
     {{NEWSA, {A1(0, 0, 10)}, 0, 1, 0, 0},
      {DELSA, {A1(500, 9, 10)}, 500, 1, 1, 0},
      {DUMP, {{0}}, 500, 1, 1, 0}},
     9,
     0,
     0,
     0},
    {"larval SA completed by UPDSA is added once, never a rekey",
     {{DUMP, {{0x1001, 1, 0, 0, 10, 0, 0, true, 0}}, 0, 0, 0, 0},
      {UPDSA, {A1(0, 0, 10)}, 0, 1, 0, 0},
      {UPDSA, {A1(40, 1, 10)}, 40, 1, 0, 0},
      {DUMP, {A1(50, 2, 10)}, 50, 1, 0, 0}},
     2,
     0,
     0,
     0},
    /* charon allocates the SPI (larval, reqid 0) before it installs
     * the SA (reqid 1); UPDSA in the same second keeps the add time. */
    {"larval SA completed into another tunnel joins that tunnel",
     {{DUMP, {A1(100, 1, 10)}, 100, 0, 0, 0},
      {DUMP,
       {A1(100, 1, 10), {0x1002, 0, 0, 0, 20, 0, 0, true, 0}},
       100,
       0,
       0,
       0},
      {UPDSA, {B1(0, 0, 20)}, 100, 1, 0, 1},
      {DELSA, {A1(120, 2, 10)}, 120, 1, 1, 1},
      {DUMP, {B1(30, 1, 20)}, 150, 1, 1, 1}},
     3,
     0,
     0,
     0},
    {"larval SA expiring is neither added nor deleted",
     {{DUMP, {{0x1001, 1, 0, 0, 10, 0, 0, true, 0}}, 0, 0, 0, 0},
      {EXPIRE_HARD, {{0x1001, 1, 0, 0, 10, 0, 0, true, 0}}, 0, 0, 0, 0},
      {DUMP, {{0}}, 0, 0, 0, 0}},
     0,
     0,
     0,
     0},
    {"flush deletes every SA of the protocol",
     {{DUMP,
       {A1(100, 1, 10), {0x2001, 2, 7, 1, 10, 0, 0, false, 0}},
       100,
       0,
       0,
       0},
      {FLUSH, {{0}}, 100, 0, 2, 0},
      {DUMP, {{0}}, 100, 0, 2, 0}},
     1,
     0,
     0,
     0},
    {"replay and integrity failures accumulate across a rekey",
     {{DUMP, {{0x1001, 1, 100, 5, 10, 3, 2, false, 0}}, 100, 0, 0, 0},
      {NEWSA, {B1(0, 0, 20)}, 100, 1, 0, 1},
      {DELSA, {{0x1001, 1, 100, 5, 10, 4, 2, false, 0}}, 100, 1, 1, 1},
      {DUMP, {{0x1002, 1, 10, 1, 20, 1, 0, false, 0}}, 110, 1, 1, 1}},
     6,
     5,
     2,
     0},
    {"IPComp and acquires are not SAs",
     {{NEWSA, {{0x1001, 1, 10, 1, 10, 0, 0, false, IPPROTO_COMP}}, 0, 0, 0, 0},
      {ACQUIRE, {{0}}, 0, 0, 0, 0},
      {DUMP, {{0x1001, 1, 10, 1, 10, 0, 0, false, IPPROTO_COMP}}, 0, 0, 0, 0}},
     0,
     0,
     0,
     1},
};

static struct xfrm_sa
make_sa(const struct sa_spec *s, enum xfrm_msg_kind kind)
{
	struct xfrm_sa sa;

	memset(&sa, 0, sizeof(sa));
	sa.kind = kind;
	sa.family = AF_INET;
	sa.proto = s->proto ? s->proto : IPPROTO_ESP;
	sa.mode = XFRM_MODE_TUNNEL;
	sa.spi = s->spi;
	sa.reqid = s->reqid;
	inet_pton(AF_INET, "198.51.100.1", &sa.saddr);
	inet_pton(AF_INET, "198.51.100.2", &sa.daddr);
	/* Garbage after the IPv4 address must not split a tunnel. */
	sa.daddr.a6[3] = s->spi;
	sa.bytes = s->bytes;
	sa.packets = s->packets;
	sa.add_time = s->add_time;
	sa.replay = s->replay;
	sa.integrity_failed = s->integrity;
	if (!s->larval) {
		snprintf(sa.enc, sizeof(sa.enc), "cbc(aes)");
		snprintf(sa.auth, sizeof(sa.auth), "hmac(sha256)");
	}
	return sa;
}

static bool
t1_find(const struct xfrm_totals *t, size_t *idx)
{
	for (size_t i = 0; i < t->n_tunnels; i++) {
		if (t->tunnels[i].key.reqid == 1) {
			*idx = i;
			return true;
		}
	}
	return false;
}

static void
run_step(struct xfrm_totals *t, const struct step *st)
{
	static const enum xfrm_msg_kind kinds[] = {
	    [NEWSA] = XFRM_KIND_NEWSA,        [UPDSA] = XFRM_KIND_UPDSA,
	    [DELSA] = XFRM_KIND_DELSA,        [EXPIRE_HARD] = XFRM_KIND_EXPIRE,
	    [EXPIRE_SOFT] = XFRM_KIND_EXPIRE, [FLUSH] = XFRM_KIND_FLUSHSA,
	    [ACQUIRE] = XFRM_KIND_ACQUIRE,
	};
	struct xfrm_sa sa;

	switch (st->op) {
	case DUMP:
		xfrm_totals_dump_begin(t);
		for (size_t i = 0; i < 4 && st->sas[i].spi != 0; i++) {
			sa = make_sa(&st->sas[i], XFRM_KIND_NEWSA);
			assert_int_equal(
			    xfrm_totals_dump_sa(t, &sa, XFRM_DIR_OUT), 0);
		}
		xfrm_totals_dump_end(t);
		break;
	case LOST:
		xfrm_totals_lost_events(t);
		break;
	default:
		sa = make_sa(&st->sas[0], kinds[st->op]);
		sa.hard = st->op == EXPIRE_HARD;
		if (st->op == FLUSH) {
			sa.proto = IPPROTO_ESP;
		}
		assert_int_equal(xfrm_totals_event(t, &sa, XFRM_DIR_OUT), 0);
		break;
	}
}

/* The per-tunnel event counters add up to the provider-wide ones, a
 * tunnel's live count is what the live table holds for it, and its
 * unconfirmed deletions are its tombstones still waiting for a DELSA. */
static void
check_tunnel_shares(const struct xfrm_totals *t)
{
	uint64_t added = 0, deleted = 0, rekeys = 0;

	for (size_t i = 0; i < t->n_tunnels; i++) {
		size_t live = 0;
		size_t waiting = 0;

		added += t->tunnels[i].added;
		deleted += t->tunnels[i].deleted;
		rekeys += t->tunnels[i].rekeys;
		for (size_t k = 0; k < t->n_live; k++) {
			live += t->live[k].tunnel == i && t->live[k].complete;
		}
		for (size_t k = 0; k < t->n_tombs; k++) {
			waiting += t->tombs[k].tunnel == i &&
			           !t->tombs[k].counted_delete;
		}
		assert_int_equal(t->tunnels[i].live_complete, live);
		assert_int_equal(t->tunnels[i].gone_unconfirmed, waiting);
	}
	assert_int_equal(added, t->added);
	assert_int_equal(deleted, t->deleted);
	assert_int_equal(rekeys, t->rekeys);
}

static void
test_scenarios(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(scenarios) / sizeof(scenarios[0]); k++) {
		const struct scenario *sc = &scenarios[k];
		struct xfrm_totals t;
		struct xfrm_counts c = {0};
		uint64_t prev = 0;
		size_t idx;

		print_message("%s\n", sc->name);
		xfrm_totals_init(&t);
		for (size_t s = 0; s < 10 && sc->steps[s].op != END; s++) {
			const struct step *st = &sc->steps[s];

			run_step(&t, st);
			memset(&c, 0, sizeof(c));
			if (t1_find(&t, &idx)) {
				xfrm_totals_tunnel_sum(&t, idx, &c);
			}
			print_message("  step %zu: bytes %llu added %llu "
			              "deleted %llu rekeys %llu\n",
			              s, (unsigned long long)c.bytes,
			              (unsigned long long)t.added,
			              (unsigned long long)t.deleted,
			              (unsigned long long)t.rekeys);
			assert_int_equal(c.bytes, st->t1_bytes);
			assert_true(c.bytes >= prev); /* never backwards */
			prev = c.bytes;
			assert_int_equal(t.added, st->added);
			assert_int_equal(t.deleted, st->deleted);
			assert_int_equal(t.rekeys, st->rekeys);
			check_tunnel_shares(&t);
		}
		assert_int_equal(c.packets, sc->t1_packets);
		assert_int_equal(c.replay, sc->t1_replay);
		assert_int_equal(c.integrity_failed, sc->t1_integrity);
		assert_int_equal(t.acquires, sc->acquires);
		xfrm_totals_fini(&t);
	}
}

/* Directions and reqids make separate tunnels; totals never mix. */
static void
test_tunnel_keys(void **state)
{
	struct xfrm_totals t;
	struct sa_spec a = A1(100, 1, 10);
	struct sa_spec b = {0x2002, 1, 40, 1, 10, 0, 0, false, 0};
	struct xfrm_sa sa;

	(void)state;
	xfrm_totals_init(&t);
	xfrm_totals_dump_begin(&t);
	sa = make_sa(&a, XFRM_KIND_NEWSA);
	assert_int_equal(xfrm_totals_dump_sa(&t, &sa, XFRM_DIR_OUT), 0);
	sa = make_sa(&b, XFRM_KIND_NEWSA);
	assert_int_equal(xfrm_totals_dump_sa(&t, &sa, XFRM_DIR_IN), 0);
	xfrm_totals_dump_end(&t);
	assert_int_equal(t.n_tunnels, 2);
	assert_int_equal(t.tunnels[0].key.dir, XFRM_DIR_OUT);
	assert_int_equal(t.tunnels[1].key.dir, XFRM_DIR_IN);
	assert_true(t.tunnels[0].encrypting);
	assert_true(t.tunnels[0].authenticating);
	assert_int_equal(t.tunnels[0].mode, XFRM_MODE_TUNNEL);
	xfrm_totals_fini(&t);
}

/* Tombstones expire, so a long run does not grow without bound. */
static void
test_tombstones_bounded(void **state)
{
	struct xfrm_totals t;

	(void)state;
	xfrm_totals_init(&t);
	for (uint32_t i = 1; i <= 1000; i++) {
		struct sa_spec s = {i, 1, i, 1, i, 0, 0, false, 0};
		struct xfrm_sa sa = make_sa(&s, XFRM_KIND_NEWSA);

		xfrm_totals_dump_begin(&t);
		assert_int_equal(xfrm_totals_dump_sa(&t, &sa, XFRM_DIR_OUT), 0);
		xfrm_totals_dump_end(&t);
	}
	assert_true(t.n_tombs <= 4);
	assert_int_equal(t.n_live, 1);
	assert_int_equal(t.n_tunnels, 1);
	assert_int_equal(t.tunnels[0].sas_retired, 999);
	xfrm_totals_fini(&t);
}

/*
 * Churn against a model: thousands of SPIs over 64 tunnels, created,
 * grown, deleted and reused (new add time) in a pseudo-random order with
 * dumps in between. After every dump, each tunnel's total must equal the
 * model's (final bytes of deleted SAs + current bytes of live ones), and
 * the live, added and deleted counts must match: a lookup the hashed
 * indexes got wrong would show up as a duplicate or a lost SA.
 */
#define CHURN_SPIS    4096
#define CHURN_TUNNELS 64
#define CHURN_STEPS   40000

struct churn_sa {
	bool live;
	uint64_t bytes;
	uint64_t add_time;
};

static uint32_t churn_seed = 12345;

static uint32_t
churn_rand(void)
{
	churn_seed = churn_seed * 1103515245u + 12345u;
	return churn_seed >> 8;
}

static struct xfrm_sa
churn_sa(uint32_t i, const struct churn_sa *m, enum xfrm_msg_kind kind)
{
	struct sa_spec s = {i + 1,
	                    i % CHURN_TUNNELS + 1,
	                    m->bytes,
	                    m->bytes,
	                    m->add_time,
	                    0,
	                    0,
	                    false,
	                    0};

	return make_sa(&s, kind);
}

static void
test_churn(void **state)
{
	static struct churn_sa m[CHURN_SPIS];
	static uint64_t model[CHURN_TUNNELS];
	struct xfrm_counts *sums;
	struct xfrm_totals t;
	uint64_t added = 0;
	uint64_t deleted = 0;
	uint64_t now = 1000;
	unsigned dumps = 0;

	(void)state;
	memset(m, 0, sizeof(m));
	memset(model, 0, sizeof(model));
	xfrm_totals_init(&t);
	for (unsigned step = 0; step < CHURN_STEPS; step++) {
		uint32_t i = churn_rand() % CHURN_SPIS;
		uint32_t op = churn_rand() % 100;
		struct xfrm_sa sa;

		if (op < 2) { /* a dump of the whole model SAD */
			size_t live = 0;

			xfrm_totals_dump_begin(&t);
			for (uint32_t k = 0; k < CHURN_SPIS; k++) {
				if (m[k].live) {
					sa =
					    churn_sa(k, &m[k], XFRM_KIND_NEWSA);
					assert_int_equal(
					    xfrm_totals_dump_sa(&t, &sa,
					                        XFRM_DIR_OUT),
					    0);
					live++;
				}
			}
			xfrm_totals_dump_end(&t);
			dumps++;
			assert_int_equal(t.n_live, live);
			assert_int_equal(t.added, added);
			assert_int_equal(t.deleted, deleted);
			assert_true(t.n_tunnels <= CHURN_TUNNELS);
			sums = calloc(CHURN_TUNNELS, sizeof(*sums));
			assert_non_null(sums);
			xfrm_totals_sums(&t, sums);
			for (size_t k = 0; k < t.n_tunnels; k++) {
				uint32_t reqid = t.tunnels[k].key.reqid;
				uint64_t cur = 0;

				for (uint32_t j = reqid - 1; j < CHURN_SPIS;
				     j += CHURN_TUNNELS) {
					cur += m[j].live ? m[j].bytes : 0;
				}
				assert_int_equal(sums[k].bytes,
				                 model[reqid - 1] + cur);
			}
			free(sums);
		} else if (!m[i].live && op < 40) { /* add (maybe reuse) */
			m[i].live = true;
			m[i].bytes = 0;
			m[i].add_time = ++now;
			sa = churn_sa(i, &m[i], XFRM_KIND_NEWSA);
			assert_int_equal(
			    xfrm_totals_event(&t, &sa, XFRM_DIR_OUT), 0);
			added++;
		} else if (m[i].live && op < 60) { /* delete, final count */
			m[i].bytes += churn_rand() % 100;
			sa = churn_sa(i, &m[i], XFRM_KIND_DELSA);
			assert_int_equal(
			    xfrm_totals_event(&t, &sa, XFRM_DIR_OUT), 0);
			model[i % CHURN_TUNNELS] += m[i].bytes;
			m[i].live = false;
			deleted++;
		} else if (m[i].live) { /* traffic, seen by the next dump */
			m[i].bytes += churn_rand() % 1000;
		}
	}
	print_message("%u dumps, %llu added, %llu deleted, %llu rekeys\n",
	              dumps, (unsigned long long)added,
	              (unsigned long long)deleted,
	              (unsigned long long)t.rekeys);
	assert_true(dumps > 100);
	assert_int_equal(t.n_tunnels, CHURN_TUNNELS);
	check_tunnel_shares(&t);
	xfrm_totals_fini(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scenarios),
	    cmocka_unit_test(test_tunnel_keys),
	    cmocka_unit_test(test_tombstones_bounded),
	    cmocka_unit_test(test_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
