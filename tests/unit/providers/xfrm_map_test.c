/*
 * xfrm_contribute: records (as collect builds them) onto the Windows
 * model: the SA aggregate, ESP/AH drops, traffic by direction and kind,
 * the per-SA listing, counted SPIs, per-namespace blocks and the rule
 * that keeps the agent's own xfrm_stat from being counted twice.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats_tree.h"
#include "xfrm.h"

struct sa_row {
	uint32_t spi;
	uint8_t proto;
	uint8_t mode;
	enum xfrm_dir dir;
	uint32_t reqid;
	const char *src;
	const char *dst;
	const char *enc; /* NULL: larval */
	bool offloaded;
	uint64_t bytes;
	uint32_t replay;
	uint32_t integrity;
};

/* Host A = 10.0.0.1, peer B = 10.0.0.2. */
static const struct sa_row rows[] = {
    {0x101, IPPROTO_ESP, XFRM_MODE_TRANSPORT, XFRM_DIR_OUT, 1, "10.0.0.1",
     "10.0.0.2", "cbc(aes)", false, 1000, 0, 0},
    {0x102, IPPROTO_ESP, XFRM_MODE_TRANSPORT, XFRM_DIR_IN, 1, "10.0.0.2",
     "10.0.0.1", "cbc(aes)", false, 800, 3, 2},
    {0x201, IPPROTO_ESP, XFRM_MODE_TUNNEL, XFRM_DIR_OUT, 5, "10.0.0.1",
     "10.0.0.2", "ecb(cipher_null)", true, 300, 0, 0},
    {0x202, IPPROTO_ESP, XFRM_MODE_TUNNEL, XFRM_DIR_IN, 5, "10.0.0.2",
     "10.0.0.1", "ecb(cipher_null)", false, 200, 0, 0},
    {0x301, IPPROTO_AH, XFRM_MODE_TRANSPORT, XFRM_DIR_IN, 7, "10.0.0.2",
     "10.0.0.1", NULL, false, 50, 1, 4},
    {0x401, IPPROTO_ESP, XFRM_MODE_TUNNEL, XFRM_DIR_OUT, 9, "10.0.0.1",
     "10.0.0.3", NULL, false, 0, 0, 0}, /* larval */
    {0x501, IPPROTO_COMP, XFRM_MODE_TRANSPORT, XFRM_DIR_OUT, 1, "10.0.0.1",
     "10.0.0.2", NULL, false, 0, 0, 0},
};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

/* Retired traffic of a replaced SA of tunnel reqid 1 inbound, on top of
 * the current SA's counters. */
#define RETIRED_IN_BYTES  5000
#define RETIRED_IN_REPLAY 10

static void
fill_ns(struct xfrm_ns_rec *r, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->name = strdup(name);
	r->sas = calloc(N_ROWS, sizeof(*r->sas));
	r->tuns = calloc(N_ROWS, sizeof(*r->tuns));
	assert_non_null(r->sas);
	assert_non_null(r->tuns);
	for (size_t i = 0; i < N_ROWS; i++) {
		const struct sa_row *w = &rows[i];
		struct xfrm_sa *sa = &r->sas[i].sa;
		struct xfrm_tun_rec *t = &r->tuns[r->n_tuns];

		sa->family = AF_INET;
		sa->proto = w->proto;
		sa->mode = w->mode;
		sa->spi = w->spi;
		sa->reqid = w->reqid;
		inet_pton(AF_INET, w->src, &sa->saddr);
		inet_pton(AF_INET, w->dst, &sa->daddr);
		sa->sel.family = AF_INET;
		sa->sel.saddr = sa->saddr;
		sa->sel.daddr = sa->daddr;
		sa->sel.prefixlen_s = sa->sel.prefixlen_d = 32;
		sa->bytes = w->bytes;
		sa->packets = w->bytes / 100;
		sa->add_time = 1700000000;
		sa->replay = w->replay;
		sa->integrity_failed = w->integrity;
		sa->offloaded = w->offloaded;
		if (w->proto == IPPROTO_AH) {
			snprintf(sa->auth, sizeof(sa->auth), "hmac(sha1)");
		} else if (w->proto == IPPROTO_COMP) {
			snprintf(sa->comp, sizeof(sa->comp), "deflate");
		} else if (w->enc != NULL) {
			snprintf(sa->enc, sizeof(sa->enc), "%s", w->enc);
			snprintf(sa->auth, sizeof(sa->auth), "hmac(sha256)");
		}
		r->sas[i].dir = w->dir;
		r->n_sas++;
		if ((w->proto != IPPROTO_ESP && w->proto != IPPROTO_AH) ||
		    xfrm_parse_is_larval(sa)) {
			continue;
		}
		/* As xfrm_totals would: one tunnel per SA here. */
		t->key.reqid = w->reqid;
		t->key.family = AF_INET;
		t->key.proto = w->proto;
		t->key.dir = (uint8_t)w->dir;
		t->key.saddr = sa->saddr;
		t->key.daddr = sa->daddr;
		t->mode = w->mode;
		t->encrypting = xfrm_parse_is_encrypting(sa);
		t->authenticating = true;
		t->offloaded = w->offloaded;
		t->total.bytes = w->bytes;
		t->total.packets = w->bytes / 100;
		t->total.replay = w->replay;
		t->total.integrity_failed = w->integrity;
		t->has_sel = true;
		t->sel = sa->sel;
		t->live = 1;
		if (w->spi == 0x102) {
			t->total.bytes += RETIRED_IN_BYTES;
			t->total.replay += RETIRED_IN_REPLAY;
		}
		if (w->reqid == 1) {
			/* One make-before-break rekey of the pair. */
			t->added = 2;
			t->deleted = 1;
			t->rekeys = 1;
		}
		r->n_tuns++;
	}
	r->added = 4;
	r->deleted = 2;
	r->rekeys = 1;
}

static void
fill_mib(struct xfrm_ns_rec *r, uint64_t seq_errors)
{
	r->has_mib = true;
	r->mib = calloc(2, sizeof(*r->mib));
	assert_non_null(r->mib);
	snprintf(r->mib[0].name, sizeof(r->mib[0].name), "XfrmInNoStates");
	r->mib[0].value = 1;
	snprintf(r->mib[1].name, sizeof(r->mib[1].name), "XfrmInStateSeqError");
	r->mib[1].value = seq_errors;
	r->n_mib = 2;
	r->has_drop = true;
	secstat__v1__ipsec_aggregate_drop_packet_statistics__init(&r->drop);
	TREE_SET(&r->drop, invalid_spis_on_inbound, 1);
	TREE_SET(&r->drop, replay_check_failures_on_inbound, seq_errors);
}

static struct xfrm_records *
make_records(size_t n_ns)
{
	static const char *names[] = {"", "left", "right"};
	struct xfrm_records *rs = calloc(1, sizeof(*rs));

	assert_non_null(rs);
	rs->ns = calloc(n_ns, sizeof(*rs->ns));
	assert_non_null(rs->ns);
	rs->n_ns = n_ns;
	rs->per_namespace = n_ns > 1;
	for (size_t i = 0; i < n_ns; i++) {
		fill_ns(&rs->ns[i], names[i]);
	}
	return rs;
}

static void
check_block(const Secstat__V1__IpsecStatistics *s, uint64_t k)
{
	const Secstat__V1__IpsecAggregateSaStatistics *a =
	    s->aggregate_sa_statistics;
	const Secstat__V1__IpsecTrafficStatistics *in =
	    s->inbound_traffic_statistics;
	const Secstat__V1__IpsecTrafficStatistics *out =
	    s->outbound_traffic_statistics;

	/* ESP x4 + AH; not the larval ESP nor the IPComp SA. */
	assert_true(a->has_active_sas);
	assert_int_equal(a->active_sas, 5 * k);
	assert_int_equal(a->pending_sa_negotiations, 1 * k);
	assert_int_equal(a->active_tunnels, 1 * k); /* reqid 5 pair */
	assert_int_equal(a->offloaded_sas, 1 * k);
	assert_int_equal(a->total_sas_added, 4 * k);
	assert_int_equal(a->total_sas_deleted, 2 * k);
	assert_int_equal(a->successful_rekeys, 1 * k);

	assert_int_equal(
	    s->esp_drop_packet_statistics->replay_check_failures_on_inbound,
	    (3 + RETIRED_IN_REPLAY) * k);
	assert_int_equal(
	    s->esp_drop_packet_statistics->authentication_failures_on_inbound,
	    2 * k);
	assert_false(
	    s->esp_drop_packet_statistics->has_decryption_failures_on_inbound);
	assert_false(
	    s->esp_drop_packet_statistics->has_invalid_spis_on_inbound);
	assert_int_equal(
	    s->ah_drop_packet_statistics->replay_check_failures_on_inbound,
	    1 * k);
	assert_int_equal(
	    s->ah_drop_packet_statistics->authentication_failures_on_inbound,
	    4 * k);

	/* Inbound: ESP transport 800+5000 (cbc), ESP tunnel 200 (null
	 * cipher), AH 50. */
	assert_int_equal(in->encrypted_byte_count, 5800 * k);
	assert_int_equal(in->authenticated_esp_byte_count, 6000 * k);
	assert_int_equal(in->authenticated_ah_byte_count, 50 * k);
	assert_int_equal(in->transport_byte_count, 5850 * k);
	assert_int_equal(in->tunnel_byte_count, 200 * k);
	assert_true(in->has_offload_byte_count);
	assert_int_equal(in->offload_byte_count, 0);
	assert_int_equal(in->total_successful_packets, (8 + 2 + 0) * k);
	/* Outbound: ESP transport 1000 (cbc), ESP tunnel 300 (null,
	 * offloaded). */
	assert_int_equal(out->encrypted_byte_count, 1000 * k);
	assert_int_equal(out->authenticated_esp_byte_count, 1300 * k);
	assert_int_equal(out->authenticated_ah_byte_count, 0);
	assert_int_equal(out->transport_byte_count, 1000 * k);
	assert_int_equal(out->tunnel_byte_count, 300 * k);
	assert_int_equal(out->offload_byte_count, 300 * k);
	assert_int_equal(out->total_successful_packets, 13 * k);
}

static void
test_own_namespace(void **state)
{
	struct xfrm_records *rs = make_records(1);
	struct stats_tree t;
	const Secstat__V1__IpsecSaDetail *d = NULL;

	(void)state;
	fill_mib(&rs->ns[0], 7);
	stats_tree_init(&t);
	xfrm_contribute(rs, &t);
	check_block(&t.ipsec, 1);
	/* procfs did not contribute: this provider adds the own file. */
	assert_int_equal(t.ipsec_response.n_xfrm_mib, 2);
	assert_int_equal(t.ipsec_drop.replay_check_failures_on_inbound, 7);
	assert_int_equal(t.ipsec_response.n_namespaces, 0);

	assert_int_equal(t.sa_response.n_ipsec_sas, N_ROWS);
	for (size_t i = 0; i < t.sa_response.n_ipsec_sas; i++) {
		if (t.sa_response.ipsec_sas[i]->has_spi_in &&
		    t.sa_response.ipsec_sas[i]->spi_in == 0x102) {
			d = t.sa_response.ipsec_sas[i];
		}
	}
	assert_non_null(d);
	assert_string_equal(d->source, "xfrm");
	assert_string_equal(d->netns, "");
	assert_string_equal(d->state, "INSTALLED");
	assert_string_equal(d->mode, "transport");
	assert_string_equal(d->protocol, "esp");
	assert_string_equal(d->local_address, "10.0.0.1");
	assert_string_equal(d->remote_address, "10.0.0.2");
	assert_string_equal(d->encryption_algorithm, "cbc(aes)");
	assert_string_equal(d->integrity_algorithm, "hmac(sha256)");
	assert_int_equal(d->n_local_ts, 1);
	assert_string_equal(d->local_ts[0], "10.0.0.1/32");
	assert_string_equal(d->remote_ts[0], "10.0.0.2/32");
	assert_int_equal(d->bytes_in, 800);
	assert_false(d->has_bytes_out);
	assert_false(d->has_spi_out);
	assert_int_equal(d->replay_failures, 3);
	assert_int_equal(d->integrity_failures, 2);
	assert_int_equal(d->install_unix_s, 1700000000);

	/* Complete ESP/AH SPIs are counted; larval and IPComp are not. */
	assert_true(stats_tree_spi_counted(&t, 0x101));
	assert_true(stats_tree_spi_counted(&t, 0x301));
	assert_false(stats_tree_spi_counted(&t, 0x401));
	assert_false(stats_tree_spi_counted(&t, 0x501));
	stats_tree_finish(&t);
	stats_tree_release(&t);
	xfrm_records_free(rs);
}

/* procfs contributed the own namespace's file first: not again. */
static void
test_procfs_first(void **state)
{
	struct xfrm_records *rs = make_records(1);
	struct stats_tree t;

	(void)state;
	fill_mib(&rs->ns[0], 7);
	stats_tree_init(&t);
	stats_tree_add_xfrm_mib(&t, "XfrmInStateSeqError", 7);
	TREE_ADD(&t.ipsec_drop, replay_check_failures_on_inbound, 7);
	xfrm_contribute(rs, &t);
	assert_int_equal(t.ipsec_response.n_xfrm_mib, 1);
	assert_int_equal(t.ipsec_drop.replay_check_failures_on_inbound, 7);
	stats_tree_release(&t);
	xfrm_records_free(rs);
}

static void
test_namespaces(void **state)
{
	struct xfrm_records *rs = make_records(3);
	struct stats_tree t;

	(void)state;
	fill_mib(&rs->ns[0], 7);
	fill_mib(&rs->ns[1], 11);
	fill_mib(&rs->ns[2], 13);
	stats_tree_init(&t);
	stats_tree_add_xfrm_mib(&t, "XfrmInStateSeqError", 7); /* procfs */
	TREE_ADD(&t.ipsec_drop, replay_check_failures_on_inbound, 7);
	xfrm_contribute(rs, &t);
	check_block(&t.ipsec, 3); /* host-wide = sum of namespaces */
	assert_int_equal(t.ipsec_drop.replay_check_failures_on_inbound,
	                 7 + 11 + 13);
	assert_int_equal(t.ipsec_response.n_xfrm_mib, 1);
	assert_int_equal(t.ipsec_response.n_namespaces, 3);
	for (size_t i = 0; i < 3; i++) {
		const Secstat__V1__NamespaceIpsecStatistics *ns =
		    t.ipsec_response.namespaces[i];

		assert_string_equal(ns->netns, rs->ns[i].name);
		check_block(ns->statistics, 1);
		assert_int_equal(ns->n_xfrm_mib, 2);
		assert_int_equal(ns->xfrm_mib[1]->value,
		                 rs->ns[i].mib[1].value);
		assert_int_equal(
		    ns->statistics->aggregate_drop_packet_statistics
		        ->replay_check_failures_on_inbound,
		    rs->ns[i].mib[1].value);
	}
	assert_int_equal(t.sa_response.n_ipsec_sas, 3 * N_ROWS);
	stats_tree_finish(&t);
	stats_tree_release(&t);
	xfrm_records_free(rs);
}

/* A named namespace that could not be collected has no block and adds
 * nothing. */
static void
test_failed_namespace(void **state)
{
	struct xfrm_records *rs = make_records(2);
	struct stats_tree t;

	(void)state;
	rs->ns[1].status = -2;
	stats_tree_init(&t);
	xfrm_contribute(rs, &t);
	check_block(&t.ipsec, 1);
	assert_int_equal(t.ipsec_response.n_namespaces, 1);
	assert_int_equal(t.sa_response.n_ipsec_sas, N_ROWS);
	stats_tree_release(&t);
	xfrm_records_free(rs);
}

/* With nothing in the SAD, the kernel still observed zeros. */
static void
test_empty(void **state)
{
	struct xfrm_records *rs = make_records(1);
	struct stats_tree t;

	(void)state;
	rs->ns[0].n_sas = 0;
	rs->ns[0].n_tuns = 0;
	rs->ns[0].added = rs->ns[0].deleted = rs->ns[0].rekeys = 0;
	stats_tree_init(&t);
	xfrm_contribute(rs, &t);
	assert_true(t.ipsec_sa.has_active_sas);
	assert_int_equal(t.ipsec_sa.active_sas, 0);
	assert_true(t.ipsec_in.has_encrypted_byte_count);
	assert_int_equal(t.ipsec_in.encrypted_byte_count, 0);
	assert_false(t.ipsec_esp_drop.has_decryption_failures_on_inbound);
	assert_false(t.ipsec_drop.has_invalid_spis_on_inbound);
	stats_tree_release(&t);
	xfrm_records_free(rs);
}

/* One TunnelDetail per tunnel: the two directions of a pair merged,
 * a lone direction alone (its other direction's counters absent). */
static void
test_tunnels(void **state)
{
	struct xfrm_records *rs = make_records(2);
	struct stats_tree t;
	const Secstat__V1__TunnelDetail *d;

	(void)state;
	stats_tree_init(&t);
	xfrm_contribute(rs, &t);
	/* Per namespace: reqid 1 pair, reqid 5 pair, reqid 7 AH inbound. */
	assert_int_equal(t.sa_response.n_tunnels, 2 * 3);

	d = t.sa_response.tunnels[0];
	assert_string_equal(d->source, "xfrm");
	assert_string_equal(d->netns, "");
	assert_null(d->name);
	assert_int_equal(d->reqid, 1);
	assert_string_equal(d->mode, "transport");
	assert_string_equal(d->protocol, "esp");
	assert_string_equal(d->local_address, "10.0.0.1");
	assert_string_equal(d->remote_address, "10.0.0.2");
	assert_int_equal(d->n_local_ts, 1);
	assert_string_equal(d->local_ts[0], "10.0.0.1/32");
	assert_string_equal(d->remote_ts[0], "10.0.0.2/32");
	assert_true(d->has_encrypted && d->encrypted);
	/* Monotonic: the replaced inbound SA's traffic is in. */
	assert_int_equal(d->bytes_in, 800 + RETIRED_IN_BYTES);
	assert_int_equal(d->packets_in, 8);
	assert_int_equal(d->bytes_out, 1000);
	assert_int_equal(d->packets_out, 10);
	assert_int_equal(d->sas_added, 4);
	assert_int_equal(d->sas_deleted, 2);
	assert_int_equal(d->rekeys, 1); /* once per pair, not per SA */
	assert_int_equal(d->replay_failures, 3 + RETIRED_IN_REPLAY);
	assert_int_equal(d->integrity_failures, 2);
	assert_int_equal(d->active_sas, 2);

	d = t.sa_response.tunnels[1];
	assert_int_equal(d->reqid, 5);
	assert_string_equal(d->mode, "tunnel");
	assert_false(d->encrypted); /* null cipher */
	assert_int_equal(d->bytes_in, 200);
	assert_int_equal(d->bytes_out, 300);
	assert_int_equal(d->rekeys, 0);
	assert_int_equal(d->active_sas, 2);

	d = t.sa_response.tunnels[2];
	assert_int_equal(d->reqid, 7);
	assert_string_equal(d->protocol, "ah");
	assert_string_equal(d->local_address, "10.0.0.1");
	assert_string_equal(d->remote_address, "10.0.0.2");
	assert_string_equal(d->local_ts[0], "10.0.0.1/32");
	assert_int_equal(d->bytes_in, 50);
	assert_false(d->has_bytes_out);
	assert_false(d->has_packets_out);
	assert_int_equal(d->replay_failures, 1);
	assert_int_equal(d->integrity_failures, 4);
	assert_int_equal(d->active_sas, 1);

	assert_string_equal(t.sa_response.tunnels[3]->netns, "left");
	assert_int_equal(t.sa_response.tunnels[3]->reqid, 1);
	stats_tree_finish(&t);
	assert_int_equal(t.sa_response.n_tunnels, 6);
	stats_tree_release(&t);
	xfrm_records_free(rs);
}

/* Same reqid and addresses but another protocol: no pair. A tunnel that
 * never had a complete SA: no entry. */
static void
test_tunnels_unpaired(void **state)
{
	struct xfrm_records *rs = make_records(1);
	struct xfrm_ns_rec *r = &rs->ns[0];
	struct stats_tree t;

	(void)state;
	/* Keep the reqid 1 pair and turn the inbound one into AH; a
	 * tunnel that only ever had larval states is not listed. */
	r->n_tuns = 3;
	r->tuns[1].key.proto = IPPROTO_AH;
	r->tuns[2].has_sel = false;
	stats_tree_init(&t);
	xfrm_contribute(rs, &t);
	assert_int_equal(t.sa_response.n_tunnels, 2);
	for (size_t i = 0; i < 2; i++) {
		const Secstat__V1__TunnelDetail *d = t.sa_response.tunnels[i];

		assert_int_equal(d->reqid, 1);
		assert_true(d->has_bytes_in != d->has_bytes_out);
		assert_int_equal(d->active_sas, 1);
	}
	stats_tree_release(&t);
	xfrm_records_free(rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_own_namespace),
	    cmocka_unit_test(test_procfs_first),
	    cmocka_unit_test(test_namespaces),
	    cmocka_unit_test(test_failed_namespace),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_tunnels),
	    cmocka_unit_test(test_tunnels_unpaired),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
