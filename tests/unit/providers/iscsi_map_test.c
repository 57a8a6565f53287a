/*
 * iscsi provider: collection over the fixture sysfs trees with recorded
 * netlink replies as the statistics source, 32-to-64-bit widening across
 * collections, the mapping onto MSiSCSI_* (keys, sums, what stays
 * absent), partial health when statistics are denied, and the per-HBA
 * IPsec join against SA listings as the xfrm and vici providers write
 * them.
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

#include "config.h"
#include "providers/iscsi/iscsi.h"
#include "stats_tree.h"
#include "testlib.h"

/* What a probe names when it finds nothing (provider_ops.probe). */
static char what[128];

/* ------------------------------------------------ replayed statistics */

/* A statistics source: every connection answers with one fixture file
 * (its sid/cid rewritten), or with an error. */
struct replay {
	const char *file; /* NULL: answer `err` */
	int err;
	unsigned calls;
};

static int
replay_stats(void *arg, const struct iscsi_sysfs_host *h, uint32_t sid,
             uint32_t cid, struct iscsi_nl_stats *out)
{
	struct replay *r = arg;
	char rel[256];
	uint8_t buf[4096];
	size_t len;
	FILE *f;
	int rv;

	r->calls++;
	if (h == NULL || !h->has_handle) {
		return -ENODEV; /* as the netlink source: never guess */
	}
	if (r->file == NULL) {
		return r->err;
	}
	snprintf(rel, sizeof(rel), "iscsi/netlink/%s", r->file);
	f = fopen(test_fixture(rel), "rb");
	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	/* Recorded for sid 1 cid 0: ask for that, report it as ours. */
	rv = iscsi_nl_parse(buf, len, 1, 0, out);
	out->sid = sid;
	out->cid = cid;
	return rv;
}

static void *
new_state(const char *tree)
{
	char rel[128];
	struct agent_config cfg;
	void *state = NULL;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(rel, sizeof(rel), "iscsi/sysfs/%s", tree);
	cfg.sysfs_root = strdup(test_fixture(rel));
	assert_int_equal(iscsi_provider.init(&cfg, &state), 0);
	free(cfg.sysfs_root);
	return state;
}

static struct iscsi_records *
collect(void *state, struct replay *r)
{
	void *records = NULL;

	assert_int_equal(iscsi_collect_with(state, replay_stats, r, &records),
	                 0);
	return records;
}

/* ----------------------------------------------------------- widening */

static void
test_widen_wrap(void **state)
{
	struct iscsi_widen w;
	struct iscsi_nl_stats raw;
	struct iscsi_conn_stats out;

	(void)state;
	memset(&raw, 0, sizeof(raw));
	raw.txdata_octets = 100;
	raw.counters[ISCSI_NL_SCSICMD_PDUS] = 0xFFFFFFF6u;
	iscsi_widen_update(&w, true, &raw, &out);
	assert_true(out.present);
	assert_true(out.counters[ISCSI_NL_SCSICMD_PDUS] == 0xFFFFFFF6u);

	/* Wrapped: 2^32 - 10 -> 5 is 15 more. */
	raw.txdata_octets = 200;
	raw.counters[ISCSI_NL_SCSICMD_PDUS] = 5;
	iscsi_widen_update(&w, false, &raw, &out);
	assert_true(out.counters[ISCSI_NL_SCSICMD_PDUS] == 0x100000005ull);
	assert_true(out.txdata_octets == 200);

	/* Wrapped again much later: still monotonic. */
	raw.counters[ISCSI_NL_SCSICMD_PDUS] = 0xFFFFFFFFu;
	iscsi_widen_update(&w, false, &raw, &out);
	raw.counters[ISCSI_NL_SCSICMD_PDUS] = 1;
	iscsi_widen_update(&w, false, &raw, &out);
	assert_true(out.counters[ISCSI_NL_SCSICMD_PDUS] == 0x200000001ull);

	/* Connection re-created (octets went down): every counter restarted
	 * and is added to what was counted. */
	raw.txdata_octets = 50;
	raw.counters[ISCSI_NL_SCSICMD_PDUS] = 7;
	iscsi_widen_update(&w, false, &raw, &out);
	assert_true(out.txdata_octets == 250);
	assert_true(out.counters[ISCSI_NL_SCSICMD_PDUS] == 0x200000008ull);
}

/* Recorded replies through the provider: wrap, then restart. */
static void
test_collect_widens_across_collections(void **st)
{
	void *state = new_state("one-session");
	struct replay r = {"stats-wrap-before.bin", 0, 0};
	struct iscsi_records *a, *b, *c;

	(void)st;
	a = collect(state, &r);
	assert_int_equal(a->stats_status, 0);
	assert_true(a->stats[0].present);
	assert_true(a->stats[0].counters[ISCSI_NL_SCSICMD_PDUS] == 0xFFFFFFF6u);

	r.file = "stats-wrap-after.bin";
	b = collect(state, &r);
	assert_true(b->stats[0].counters[ISCSI_NL_SCSICMD_PDUS] ==
	            0xFFFFFFF6ull + 15);
	assert_true(b->stats[0].counters[ISCSI_NL_DATAOUT_PDUS] ==
	            0xFFFFFFFFull + 4);
	assert_true(b->stats[0].txdata_octets == 9392372);
	/* Counters that did not wrap are the raw values. */
	assert_true(b->stats[0].counters[ISCSI_NL_SCSIRSP_PDUS] == 35);

	r.file = "stats-restart.bin";
	c = collect(state, &r);
	assert_true(c->stats[0].txdata_octets == 9392372ull + 1000);
	assert_true(c->stats[0].rxdata_octets == 9406072ull + 2000);
	assert_true(c->stats[0].counters[ISCSI_NL_SCSICMD_PDUS] ==
	            0xFFFFFFF6ull + 15 + 35 / 7);
	iscsi_provider.records_free(a);
	iscsi_provider.records_free(b);
	iscsi_provider.records_free(c);
	iscsi_provider.fini(state);
}

/* ----------------------------------------------------------- mapping */

static Secstat__V1__IscsiGetStatisticsResponse *
map(struct stats_tree *t, const char *tree, struct replay *r)
{
	void *state = new_state(tree);
	struct iscsi_records *rec = collect(state, r);

	stats_tree_init(t);
	iscsi_provider.contribute(rec, t);
	stats_tree_finish(t);
	iscsi_provider.records_free(rec);
	iscsi_provider.fini(state);
	return &t->iscsi_response;
}

static void
test_map_one_session(void **st)
{
	struct stats_tree t;
	struct replay r = {"stats-tcp-6.1.bin", 0, 0};
	Secstat__V1__IscsiGetStatisticsResponse *resp;
	Secstat__V1__IscsiHba *h;
	Secstat__V1__MsiscsiSessionStatistics *s;
	Secstat__V1__MsiscsiConnectionStatistics *c;

	(void)st;
	resp = map(&t, "one-session", &r);
	assert_int_equal(resp->n_hbas, 1);
	h = resp->hbas[0];
	assert_string_equal(h->instance_name, "host0");
	assert_true(h->has_unique_adapter_id && h->unique_adapter_id == 0);
	assert_string_equal(h->ip_address, "192.0.2.2");
	assert_null(h->initiator_name); /* "(null)" in sysfs */
	assert_null(h->netdev);
	assert_null(h->qm_ipsec_stats); /* no IPsec source in the tree */
	assert_null(h->mm_ipsec_stats);
	assert_null(h->initiator_login_statistics);
	assert_int_equal(h->n_nic_performance, 0);
	assert_int_equal(h->n_request_time_statistics, 0);

	assert_int_equal(h->n_sessions, 1);
	s = h->sessions[0];
	assert_string_equal(s->iscsi_name,
	                    "iqn.2003-01.org.linux-iscsi.seclab:t0");
	assert_true(s->has_usid && s->usid == 1);
	assert_true(s->has_unique_adapter_id && s->unique_adapter_id == 0);
	assert_string_equal(s->state, "LOGGED_IN");
	assert_string_equal(s->initiator_name,
	                    "iqn.2005-03.org.open-iscsi:seclab");
	assert_true(s->has_tpgt && s->tpgt == 1);
	assert_string_equal(s->sysfs_name, "session1");
	/* iscsiadm: txdata 8392372, rxdata 8406072, scsicmd 35, scsirsp 35 */
	assert_true(s->has_bytes_sent && s->bytes_sent == 8392372);
	assert_true(s->has_bytes_received && s->bytes_received == 8406072);
	assert_true(s->has_pdu_commands_sent && s->pdu_commands_sent == 35);
	assert_true(s->has_pdu_responses_received &&
	            s->pdu_responses_received == 35);
	assert_true(s->has_digest_errors && s->digest_errors == 0);
	assert_true(s->has_connection_timeout_errors &&
	            s->connection_timeout_errors == 0);
	assert_false(s->has_format_errors); /* not observable */

	assert_int_equal(s->n_connections, 1);
	c = s->connections[0];
	assert_true(c->has_cid && c->cid == 0);
	assert_true(c->has_usid && c->usid == 1);
	assert_string_equal(c->state, "up");
	assert_string_equal(c->address, "192.0.2.1");
	assert_true(c->has_port && c->port == 3260);
	assert_string_equal(c->persistent_address, "192.0.2.1");
	assert_true(c->has_persistent_port && c->persistent_port == 3260);
	assert_true(c->bytes_sent == 8392372 && c->bytes_received == 8406072);
	assert_true(c->pdu_commands_sent == 35);
	assert_true(c->pdu_responses_received == 35);
	/* tx: scsicmd 35 + dataout 32; rx: scsirsp 35 + datain 48 + r2t 32 */
	assert_true(c->has_pdus_sent && c->pdus_sent == 67);
	assert_true(c->has_pdus_received && c->pdus_received == 115);

	assert_non_null(h->initiator_instance_statistics);
	assert_true(
	    h->initiator_instance_statistics->has_session_digest_error_count);
	assert_false(
	    h->initiator_instance_statistics->has_session_format_error_count);
	assert_true(
	    h->initiator_instance_statistics->has_session_failure_count);
	assert_int_equal(
	    h->initiator_instance_statistics->session_failure_count, 0);
	stats_tree_release(&t);
}

static void
test_map_two_hosts(void **st)
{
	struct stats_tree t;
	struct replay r = {"stats-tcp-6.1.bin", 0, 0};
	Secstat__V1__IscsiGetStatisticsResponse *resp;
	Secstat__V1__IscsiHba *h1;

	(void)st;
	resp = map(&t, "two-hosts", &r);
	assert_int_equal(r.calls, 4);
	assert_int_equal(resp->n_hbas, 2);
	assert_string_equal(resp->hbas[0]->instance_name, "host0");
	assert_int_equal(resp->hbas[0]->n_sessions, 1);
	h1 = resp->hbas[1];
	assert_string_equal(h1->instance_name, "host1");
	assert_true(h1->unique_adapter_id == 1);
	assert_int_equal(h1->n_sessions, 2);
	assert_true(h1->sessions[0]->usid == 2);
	assert_true(h1->sessions[1]->usid == 3);
	assert_string_equal(h1->sessions[1]->iscsi_name,
	                    "iqn.2003-01.org.linux-iscsi.seclab:t1");
	/* MC/S session: sums over both connections. */
	assert_int_equal(h1->sessions[1]->n_connections, 2);
	assert_true(h1->sessions[1]->connections[1]->cid == 1);
	assert_true(h1->sessions[1]->bytes_sent == 2 * 8392372ull);
	assert_true(h1->sessions[1]->pdu_commands_sent == 70);
	assert_true(h1->sessions[1]->unique_adapter_id == 1);
	stats_tree_release(&t);
}

static void
test_map_failed_session(void **st)
{
	void *state = new_state("failed-session");
	struct replay r = {"stats-tcp-6.1.bin", 0, 0};
	struct iscsi_records *a, *b;

	(void)st;
	/* First seen FAILED: one failure; still FAILED: not counted again. */
	a = collect(state, &r);
	assert_int_equal(a->host_failures[0], 1);
	b = collect(state, &r);
	assert_int_equal(b->host_failures[0], 1);
	iscsi_provider.records_free(a);
	iscsi_provider.records_free(b);
	iscsi_provider.fini(state);
}

/* No handle for the host: statistics are never asked for, so the
 * connection has none and the session sums stay absent. */
static void
test_map_missing_attributes(void **st)
{
	struct stats_tree t;
	struct replay r = {"stats-tcp-6.1.bin", 0, 0};
	Secstat__V1__IscsiHba *h;
	Secstat__V1__MsiscsiSessionStatistics *s;

	(void)st;
	h = map(&t, "missing-attributes", &r)->hbas[0];
	assert_null(h->ip_address);
	s = h->sessions[0];
	assert_null(s->iscsi_name);
	assert_false(s->has_tpgt);
	assert_false(s->has_bytes_sent);
	assert_false(s->has_digest_errors);
	assert_null(s->connections[0]->address);
	assert_false(s->connections[0]->has_port);
	assert_false(s->connections[0]->has_bytes_sent);
	assert_string_equal(s->connections[0]->persistent_address, "192.0.2.1");
	assert_false(
	    h->initiator_instance_statistics->has_session_digest_error_count);
	stats_tree_release(&t);
}

/* Statistics denied: sessions are listed, statistics absent, the
 * records say why (partial health), and no further request is made. */
static void
test_denied(void **st)
{
	void *state = new_state("two-hosts");
	struct replay r = {NULL, -EPERM, 0};
	struct iscsi_records *rec = collect(state, &r);
	struct stats_tree t;

	(void)st;
	assert_int_equal(rec->stats_status, -EPERM);
	assert_int_equal(r.calls, 1);
	assert_int_equal(rec->sys.n_sessions, 3);
	stats_tree_init(&t);
	iscsi_provider.contribute(rec, &t);
	stats_tree_finish(&t);
	assert_int_equal(t.iscsi_response.n_hbas, 2);
	assert_false(t.iscsi_response.hbas[0]->sessions[0]->has_bytes_sent);
	assert_false(t.iscsi_response.hbas[0]
	                 ->sessions[0]
	                 ->connections[0]
	                 ->has_bytes_sent);
	stats_tree_release(&t);
	iscsi_provider.records_free(rec);
	iscsi_provider.fini(state);
}

/* One connection's statistics failing (it vanished between the sysfs
 * read and the request) leaves only that session's sums absent. */
static void
test_partial_failure(void **st)
{
	void *state = new_state("one-session");
	struct replay r = {NULL, -EEXIST, 0};
	struct iscsi_records *rec = collect(state, &r);

	(void)st;
	assert_int_equal(rec->stats_status, -EEXIST);
	assert_false(rec->stats[0].present);
	iscsi_provider.records_free(rec);
	iscsi_provider.fini(state);
}

static void
test_absent(void **st)
{
	void *state = new_state("absent");
	struct replay r = {"stats-tcp-6.1.bin", 0, 0};
	void *records = NULL;
	struct agent_config cfg;

	(void)st;
	assert_int_equal(iscsi_collect_with(state, replay_stats, &r, &records),
	                 -ENOENT);
	assert_null(records);
	iscsi_provider.fini(state);
	memset(&cfg, 0, sizeof(cfg));
	cfg.sysfs_root = (char *)test_fixture("iscsi/sysfs/absent");
	assert_int_equal(iscsi_provider.probe(&cfg, what, sizeof(what)),
	                 -ENOENT);
	assert_non_null(strstr(what, "absent/class/iscsi_session"));
	cfg.sysfs_root = (char *)test_fixture("iscsi/sysfs/no-sessions");
	assert_int_equal(iscsi_provider.probe(&cfg, what, sizeof(what)), 0);
}

/* ------------------------------------------------------ IPsec join */

struct ts_case {
	const char *ts, *addr;
	uint32_t port;
	bool covers;
};

static const struct ts_case ts_cases[] = {
    {"192.0.2.1/32", "192.0.2.1", 3260, true},
    {"192.0.2.0/24", "192.0.2.77", 3260, true},
    {"0.0.0.0/0", "192.0.2.1", 3260, true},
    {"192.0.2.0/25", "192.0.2.200", 3260, false},
    {"192.0.2.1/32[tcp/3260]", "192.0.2.1", 3260, true},
    {"192.0.2.1/32[tcp/3261]", "192.0.2.1", 3260, false},
    {"192.0.2.1/32[udp/3260]", "192.0.2.1", 3260, false},
    {"192.0.2.1/32[tcp]", "192.0.2.1", 3260, true},
    {"192.0.2.1/32[tcp/iscsi-target]", "192.0.2.1", 3260, true},
    {"192.0.2.1/32[tcp/http]", "192.0.2.1", 3260, false},
    {"2001:db8::/32", "2001:db8::5", 3260, true},
    {"2001:db8::/32", "192.0.2.1", 3260, false},
    {"::/0[tcp/3260]", "2001:db8::5", 3260, true},
    {"192.0.2.1/33", "192.0.2.1", 3260, false},
    {"garbage", "192.0.2.1", 3260, false},
    {"192.0.2.1/32[tcp/3260", "192.0.2.1", 3260, false},
};

static void
test_ts_covers(void **st)
{
	(void)st;
	for (size_t i = 0; i < sizeof(ts_cases) / sizeof(ts_cases[0]); i++) {
		const struct ts_case *c = &ts_cases[i];

		print_message("%s covers %s:%u?\n", c->ts, c->addr, c->port);
		assert_int_equal(iscsi_ts_covers(c->ts, c->addr, c->port),
		                 c->covers);
	}
}

/* An SA as the xfrm provider lists it (one kernel SA, one direction). */
static Secstat__V1__IpsecSaDetail *
xfrm_sa(struct stats_tree *t, bool in, uint32_t spi, const char *mode,
        const char *proto, const char *enc, const char *local,
        const char *remote, const char *lts, const char *rts, uint64_t bytes)
{
	Secstat__V1__IpsecSaDetail *d = stats_tree_add_ipsec_sa(t);

	d->source = "xfrm";
	d->netns = "";
	d->state = "INSTALLED";
	d->mode = (char *)mode;
	d->protocol = (char *)proto;
	d->encryption_algorithm = (char *)enc;
	d->local_address = (char *)local;
	d->remote_address = (char *)remote;
	d->n_local_ts = d->n_remote_ts = 1;
	d->local_ts = arena_alloc(&t->arena, sizeof(char *));
	d->remote_ts = arena_alloc(&t->arena, sizeof(char *));
	d->local_ts[0] = (char *)lts;
	d->remote_ts[0] = (char *)rts;
	if (in) {
		d->has_spi_in = d->has_bytes_in = 1;
		d->spi_in = spi;
		d->bytes_in = bytes;
	} else {
		d->has_spi_out = d->has_bytes_out = 1;
		d->spi_out = spi;
		d->bytes_out = bytes;
	}
	d->has_integrity_failures = d->has_replay_failures = 1;
	d->integrity_failures = in ? 2 : 0;
	d->replay_failures = in ? 3 : 0;
	return d;
}

static Secstat__V1__IscsiHba *
join(struct stats_tree *t, void (*add)(struct stats_tree *))
{
	void *state = new_state("one-session");
	struct replay r = {"stats-tcp-6.1.bin", 0, 0};
	struct iscsi_records *rec = collect(state, &r);

	stats_tree_init(t);
	add(t);
	iscsi_provider.contribute(rec, t);
	stats_tree_finish(t);
	iscsi_provider.records_free(rec);
	iscsi_provider.fini(state);
	return t->iscsi_response.hbas[0];
}

#define GCM "rfc4106(gcm(aes))"
#define INI "192.0.2.2"
#define TGT "192.0.2.1"

/* The lab's SAs: transport ESP between initiator and portal (kernel
 * selectors any), plus SAs that must not match: another peer, another
 * namespace, a tunnel whose selectors exclude the portal. */
static void
add_transport(struct stats_tree *t)
{
	xfrm_sa(t, false, 0x3001, "transport", "esp", GCM, INI, TGT,
	        "0.0.0.0/0", "0.0.0.0/0", 1000);
	xfrm_sa(t, true, 0x3002, "transport", "esp", GCM, INI, TGT, "0.0.0.0/0",
	        "0.0.0.0/0", 2000);
	xfrm_sa(t, false, 0x4001, "transport", "esp", GCM, INI, "198.51.100.9",
	        "0.0.0.0/0", "0.0.0.0/0", 50);
	xfrm_sa(t, false, 0x5001, "transport", "esp", GCM, INI, TGT,
	        "0.0.0.0/0", "0.0.0.0/0", 70)
	    ->netns = "tgt";
	xfrm_sa(t, false, 0x6001, "tunnel", "esp", GCM, "203.0.113.1",
	        "203.0.113.2", "192.0.2.0/24", "10.0.0.0/8", 80);
	/* AH and ESP-null transport SAs to the portal on port 3260. */
	xfrm_sa(t, false, 0x7001, "transport", "ah", NULL, INI, TGT,
	        "192.0.2.2/32", "192.0.2.1/32[tcp/3260]", 5);
	xfrm_sa(t, true, 0x7002, "transport", "esp", "ecb(cipher_null)", INI,
	        TGT, "192.0.2.2/32", "192.0.2.1/32[tcp/3260]", 6);
	/* Same portal, another port: not iSCSI. */
	xfrm_sa(t, false, 0x8001, "transport", "esp", GCM, INI, TGT,
	        "192.0.2.2/32", "192.0.2.1/32[tcp/22]", 9);
	t->ipsec_sa.has_active_sas = 1;
}

static void
test_join_transport(void **st)
{
	struct stats_tree t;
	Secstat__V1__IscsiHba *h = join(&t, add_transport);
	Secstat__V1__MsiscsiQmIpsecStats *q = h->qm_ipsec_stats;

	(void)st;
	assert_non_null(q);
	assert_true(q->has_active_sa && q->active_sa == 4);
	assert_true(q->confidential_bytes_sent == 1000);
	assert_true(q->confidential_bytes_received == 2000);
	assert_true(q->authenticated_bytes_sent == 5);
	assert_true(q->authenticated_bytes_received == 0);
	assert_true(q->transport_bytes_sent == 1005);
	assert_true(q->transport_bytes_received == 2006);
	assert_true(q->has_tunnel_bytes_sent && q->tunnel_bytes_sent == 0);
	assert_true(q->active_tunnels == 0);
	assert_true(q->pending_key_operations == 0);
	assert_true(q->packets_not_authenticated == 4);
	assert_true(q->packets_with_replay_detection == 6);
	/* Host-scope only on Linux: never attributed to one HBA. */
	assert_false(q->has_bad_spi_packets);
	assert_false(q->has_packets_not_decrypted);
	assert_false(q->has_key_additions);
	assert_null(h->mm_ipsec_stats); /* no IKE source */
	stats_tree_release(&t);
}

/* Tunnel mode: the selectors decide; the outer addresses are gateways.
 * The CHILD_SA an IKE daemon lists for the same kernel SAs is counted
 * once; its IKE_SA gives the main-mode block. */
static void
add_tunnel_and_ike(struct stats_tree *t)
{
	Secstat__V1__IkeSaDetail *ike;
	Secstat__V1__IpsecSaDetail *child;

	xfrm_sa(t, false, 0x9001, "tunnel", "esp", GCM, "203.0.113.1",
	        "203.0.113.2", "192.0.2.0/24", "192.0.2.0/24", 300);
	xfrm_sa(t, true, 0x9002, "tunnel", "esp", GCM, "203.0.113.1",
	        "203.0.113.2", "192.0.2.0/24", "192.0.2.0/24", 400);
	ike = stats_tree_add_ike_sa(t);
	ike->source = "vici";
	ike->local_address = "203.0.113.1";
	ike->remote_address = "203.0.113.2";
	child = stats_tree_add_child_sa(t, ike);
	child->source = "vici";
	child->mode = "tunnel";
	child->protocol = "esp";
	child->encryption_algorithm = "AES_GCM_16_128";
	child->local_address = "203.0.113.1";
	child->remote_address = "203.0.113.2";
	child->has_spi_in = child->has_spi_out = 1;
	child->spi_in = 0x9002;
	child->spi_out = 0x9001;
	child->has_bytes_in = child->has_bytes_out = 1;
	child->bytes_in = 400;
	child->bytes_out = 300;
	child->n_local_ts = child->n_remote_ts = 1;
	child->local_ts = arena_alloc(&t->arena, sizeof(char *));
	child->remote_ts = arena_alloc(&t->arena, sizeof(char *));
	child->local_ts[0] = "192.0.2.0/24";
	child->remote_ts[0] = "192.0.2.0/24";
	/* A CHILD_SA only the daemon lists (userspace ESP): counted. */
	child = stats_tree_add_child_sa(t, ike);
	*child = *ike->child_sas[0];
	child->spi_in = 0xa002;
	child->spi_out = 0xa001;
	child->bytes_in = 40;
	child->bytes_out = 30;
}

static void
test_join_tunnel_and_ike(void **st)
{
	struct stats_tree t;
	Secstat__V1__IscsiHba *h = join(&t, add_tunnel_and_ike);
	Secstat__V1__MsiscsiQmIpsecStats *q = h->qm_ipsec_stats;

	(void)st;
	assert_non_null(q);
	assert_true(q->active_sa == 4); /* 2 kernel SAs + 1 CHILD_SA pair */
	assert_true(q->tunnel_bytes_sent == 330);
	assert_true(q->tunnel_bytes_received == 440);
	assert_true(q->confidential_bytes_sent == 330);
	assert_true(q->transport_bytes_sent == 0);
	assert_true(q->active_tunnels == 1);
	assert_non_null(h->mm_ipsec_stats);
	assert_true(h->mm_ipsec_stats->has_connection_list_size &&
	            h->mm_ipsec_stats->connection_list_size == 2);
	assert_false(h->mm_ipsec_stats->has_oakley_main_mode);
	stats_tree_release(&t);
}

/* An IPsec source ran and no SA matches: zero is an observation. */
static void
add_unrelated(struct stats_tree *t)
{
	xfrm_sa(t, false, 0x4001, "transport", "esp", GCM, INI, "198.51.100.9",
	        "0.0.0.0/0", "0.0.0.0/0", 50);
}

static void
test_join_nothing_matches(void **st)
{
	struct stats_tree t;
	Secstat__V1__IscsiHba *h = join(&t, add_unrelated);

	(void)st;
	assert_non_null(h->qm_ipsec_stats);
	assert_true(h->qm_ipsec_stats->has_active_sa);
	assert_int_equal(h->qm_ipsec_stats->active_sa, 0);
	assert_int_equal(h->qm_ipsec_stats->confidential_bytes_sent, 0);
	assert_null(h->mm_ipsec_stats);
	stats_tree_release(&t);
}

/* An IKE_SA with the portal itself (host-to-host) matches by address even
 * before it has a CHILD_SA; one with another peer does not. */
static void
add_ike_only(struct stats_tree *t)
{
	Secstat__V1__IkeSaDetail *ike = stats_tree_add_ike_sa(t);

	ike->source = "vici";
	ike->local_address = INI;
	ike->remote_address = TGT;
	ike = stats_tree_add_ike_sa(t);
	ike->source = "vici";
	ike->local_address = INI;
	ike->remote_address = "198.51.100.9";
	stats_tree_add_child_sa(t, ike)->remote_address = "198.51.100.9";
}

static void
test_join_ike_by_address(void **st)
{
	struct stats_tree t;
	Secstat__V1__IscsiHba *h = join(&t, add_ike_only);

	(void)st;
	assert_non_null(h->mm_ipsec_stats);
	assert_true(h->mm_ipsec_stats->has_connection_list_size);
	assert_int_equal(h->mm_ipsec_stats->connection_list_size, 0);
	assert_non_null(h->qm_ipsec_stats);
	assert_int_equal(h->qm_ipsec_stats->active_sa, 0);
	stats_tree_release(&t);
}

/* A tunnel as the xfrm (or vici) provider lists it: monotonic totals. */
static Secstat__V1__TunnelDetail *
tunnel(struct stats_tree *t, const char *name, const char *mode,
       const char *proto, bool encrypted, const char *local, const char *remote,
       const char *lts, const char *rts, uint64_t out, uint64_t in,
       uint64_t added)
{
	Secstat__V1__TunnelDetail *d = stats_tree_add_tunnel(t);

	d->source = "xfrm";
	d->netns = "";
	d->name = (char *)name;
	d->mode = (char *)mode;
	d->protocol = (char *)proto;
	TREE_SET(d, encrypted, encrypted);
	d->local_address = (char *)local;
	d->remote_address = (char *)remote;
	d->n_local_ts = d->n_remote_ts = 1;
	d->local_ts = arena_alloc(&t->arena, sizeof(char *));
	d->remote_ts = arena_alloc(&t->arena, sizeof(char *));
	d->local_ts[0] = (char *)lts;
	d->remote_ts[0] = (char *)rts;
	TREE_SET(d, bytes_out, out);
	TREE_SET(d, bytes_in, in);
	TREE_SET(d, sas_added, added);
	TREE_SET(d, sas_deleted, added > 2 ? added - 2 : 0);
	TREE_SET(d, rekeys, added > 2 ? (added - 2) / 2 : 0);
	TREE_SET(d, integrity_failures, 7);
	TREE_SET(d, replay_failures, 8);
	return d;
}

/* The lab's SAs after a rekey: the current SAs' counters restarted, the
 * tunnels' totals did not; the tunnels that must not match are those of
 * the SAs that must not. */
static void
add_transport_tunnels(struct stats_tree *t)
{
	add_transport(t);
	/* The ESP pair: 9000 bytes out and 10000 in on SAs replaced by one
	 * rekey before the current ones. */
	tunnel(t, NULL, "transport", "esp", true, INI, TGT, "0.0.0.0/0",
	       "0.0.0.0/0", 10000, 12000, 4);
	tunnel(t, NULL, "transport", "esp", true, INI, "198.51.100.9",
	       "0.0.0.0/0", "0.0.0.0/0", 50, 0, 2);
	tunnel(t, NULL, "transport", "esp", true, INI, TGT, "0.0.0.0/0",
	       "0.0.0.0/0", 70, 0, 2)
	    ->netns = "tgt";
	tunnel(t, NULL, "transport", "ah", false, INI, TGT, "192.0.2.2/32",
	       "192.0.2.1/32[tcp/3260]", 5, 0, 1);
	tunnel(t, NULL, "transport", "esp", false, INI, TGT, "192.0.2.2/32",
	       "192.0.2.1/32[tcp/3260]", 0, 6, 1);
	tunnel(t, NULL, "transport", "esp", true, INI, TGT, "192.0.2.2/32",
	       "192.0.2.1/32[tcp/22]", 9, 0, 1);
}

static void
test_join_tunnel_totals(void **st)
{
	struct stats_tree t;
	Secstat__V1__IscsiHba *h = join(&t, add_transport_tunnels);
	Secstat__V1__MsiscsiQmIpsecStats *q = h->qm_ipsec_stats;

	(void)st;
	assert_non_null(q);
	/* Gauges still from the SAs installed now. */
	assert_int_equal(q->active_sa, 4);
	assert_int_equal(q->active_tunnels, 0);
	/* Sums from the tunnels: they did not drop at the rekey. */
	assert_int_equal(q->confidential_bytes_sent, 10000);
	assert_int_equal(q->confidential_bytes_received, 12000);
	assert_int_equal(q->authenticated_bytes_sent, 5);
	assert_int_equal(q->authenticated_bytes_received, 0);
	assert_int_equal(q->transport_bytes_sent, 10005);
	assert_int_equal(q->transport_bytes_received, 12006);
	assert_int_equal(q->tunnel_bytes_sent, 0);
	assert_int_equal(q->packets_not_authenticated, 3 * 7);
	assert_int_equal(q->packets_with_replay_detection, 3 * 8);
	assert_true(q->has_key_additions && q->key_additions == 4 + 1 + 1);
	assert_true(q->has_key_deletions && q->key_deletions == 2);
	assert_true(q->has_re_keys && q->re_keys == 1);
	assert_false(q->has_bad_spi_packets);
	assert_false(q->has_packets_not_decrypted);
	/* No IKE daemon owns these tunnels. */
	assert_null(h->mm_ipsec_stats);
	stats_tree_release(&t);
}

/* Tunnel mode with IKE: the kernel's tunnel named by the daemon, and a
 * daemon-only (userspace ESP) tunnel; the named tunnels' SAs are the
 * quick-mode SAs IKE created for the HBA. */
static void
add_tunnel_and_ike_totals(struct stats_tree *t)
{
	add_tunnel_and_ike(t);
	tunnel(t, "iscsi", "tunnel", "esp", true, "203.0.113.1", "203.0.113.2",
	       "192.0.2.0/24", "192.0.2.0/24", 3000, 4000, 6);
	tunnel(t, "iscsi-u", "tunnel", "esp", true, "203.0.113.1",
	       "203.0.113.2", "192.0.2.0/24", "192.0.2.0/24", 30, 40, 2)
	    ->source = "vici";
	/* Another site's tunnel, named too: not this HBA's. */
	tunnel(t, "other", "tunnel", "esp", true, "203.0.113.1", "203.0.113.9",
	       "10.1.0.0/16", "10.2.0.0/16", 1, 1, 8);
}

static void
test_join_tunnel_totals_ike(void **st)
{
	struct stats_tree t;
	Secstat__V1__IscsiHba *h = join(&t, add_tunnel_and_ike_totals);
	Secstat__V1__MsiscsiQmIpsecStats *q = h->qm_ipsec_stats;
	Secstat__V1__MsiscsiMmIpsecStats *m = h->mm_ipsec_stats;

	(void)st;
	assert_non_null(q);
	assert_int_equal(q->active_sa, 4);
	assert_int_equal(q->active_tunnels, 1);
	assert_int_equal(q->tunnel_bytes_sent, 3030);
	assert_int_equal(q->tunnel_bytes_received, 4040);
	assert_int_equal(q->confidential_bytes_sent, 3030);
	assert_int_equal(q->transport_bytes_sent, 0);
	assert_int_equal(q->key_additions, 8);
	assert_int_equal(q->key_deletions, 4);
	assert_int_equal(q->re_keys, 2);
	assert_non_null(m);
	assert_int_equal(m->connection_list_size, 2);
	assert_true(m->has_oakley_quick_mode);
	assert_int_equal(m->oakley_quick_mode, 8);
	/* Daemon-wide in charon: never per HBA. */
	assert_false(m->has_oakley_main_mode);
	assert_false(m->has_key_additions);
	assert_false(m->has_negotiation_failures);
	stats_tree_release(&t);
}

/* Only tunnels listed (e.g. every SA of the tunnel is gone): the block
 * is still there, its gauges 0 and its sums the tunnels'. */
static void
add_tunnel_only(struct stats_tree *t)
{
	tunnel(t, NULL, "transport", "esp", true, INI, TGT, "0.0.0.0/0",
	       "0.0.0.0/0", 10, 20, 2);
}

static void
test_join_tunnel_only(void **st)
{
	struct stats_tree t;
	Secstat__V1__IscsiHba *h = join(&t, add_tunnel_only);
	Secstat__V1__MsiscsiQmIpsecStats *q = h->qm_ipsec_stats;

	(void)st;
	assert_non_null(q);
	assert_int_equal(q->active_sa, 0);
	assert_int_equal(q->confidential_bytes_sent, 10);
	assert_int_equal(q->transport_bytes_received, 20);
	assert_int_equal(q->key_additions, 2);
	stats_tree_release(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_widen_wrap),
	    cmocka_unit_test(test_collect_widens_across_collections),
	    cmocka_unit_test(test_map_one_session),
	    cmocka_unit_test(test_map_two_hosts),
	    cmocka_unit_test(test_map_failed_session),
	    cmocka_unit_test(test_map_missing_attributes),
	    cmocka_unit_test(test_denied),
	    cmocka_unit_test(test_partial_failure),
	    cmocka_unit_test(test_absent),
	    cmocka_unit_test(test_ts_covers),
	    cmocka_unit_test(test_join_transport),
	    cmocka_unit_test(test_join_tunnel_and_ike),
	    cmocka_unit_test(test_join_nothing_matches),
	    cmocka_unit_test(test_join_ike_by_address),
	    cmocka_unit_test(test_join_tunnel_totals),
	    cmocka_unit_test(test_join_tunnel_totals_ike),
	    cmocka_unit_test(test_join_tunnel_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
