/*
 * The vici mapping: messages recorded from two real charon 5.9.8 daemons
 * (tests/fixtures/vici/recorded: ssa initiated "lab", passed traffic,
 * rekeyed CHILD_SA and IKE_SA, failed "bad" with a wrong PSK; ssb
 * responded) → exact fields of the model, event replay → negotiation
 * totals and the error table, monotonic traffic across rekeys and
 * teardowns, and the no-double-count rule with a kernel source.
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

#include "stats_tree.h"
#include "vici.h"
#include "vici_fixtures.h"

/* Loads one snapshot (<ns>-<tag>-*.bin) into records. `with_counters`
 * false drops the get-counters reply as if the plugin were absent. */
static struct vici_records *
snapshot(struct vici_state *s, const char *ns, const char *tag,
         bool with_counters)
{
	char rel[256];
	struct vici_msg version, stats, counters, *sas, *conns;
	int n_sas, n_conns;
	struct vici_records *r = NULL;

	snprintf(rel, sizeof(rel), "recorded/%s-%s-version-reply.bin", ns, tag);
	assert_int_equal(vici_fixture_message(rel, &version), 0);
	snprintf(rel, sizeof(rel), "recorded/%s-%s-stats-reply.bin", ns, tag);
	assert_int_equal(vici_fixture_message(rel, &stats), 0);
	snprintf(rel, sizeof(rel), "recorded/%s-%s-get-counters-reply.bin", ns,
	         tag);
	assert_int_equal(vici_fixture_message(rel, &counters), 0);
	snprintf(rel, sizeof(rel), "recorded/%s-%s-list-sa.bin", ns, tag);
	n_sas = vici_fixture_messages(rel, &sas);
	assert_true(n_sas >= 0);
	snprintf(rel, sizeof(rel), "recorded/%s-%s-list-conn.bin", ns, tag);
	n_conns = vici_fixture_messages(rel, &conns);
	assert_true(n_conns >= 0);
	if (!with_counters) {
		vici_msg_free(&counters);
	}
	assert_int_equal(vici_records_make(s, &version, &stats,
	                                   with_counters ? &counters : NULL,
	                                   sas, (size_t)n_sas, conns,
	                                   (size_t)n_conns, &r),
	                 0);
	return r;
}

/* Records of a daemon that lists no SA (stats from `ns`-`tag`). */
static struct vici_records *
empty_snapshot(struct vici_state *s, const char *ns, const char *tag)
{
	char rel[256];
	struct vici_msg stats;
	struct vici_records *r = NULL;

	snprintf(rel, sizeof(rel), "recorded/%s-%s-stats-reply.bin", ns, tag);
	assert_int_equal(vici_fixture_message(rel, &stats), 0);
	assert_int_equal(
	    vici_records_make(s, NULL, &stats, NULL, NULL, 0, NULL, 0, &r), 0);
	return r;
}

static void
replay_events(struct vici_state *s, const char *file)
{
	size_t len, n;
	uint8_t *buf = vici_fixture_read(file, &len);
	const uint8_t *seg;
	size_t count = 0;

	assert_non_null(buf);
	for (size_t i = 0;
	     (seg = vici_fixture_segment(buf, len, i, &n)) != NULL; i++) {
		struct vici_packet p;

		assert_int_equal(vici_packet_parse(seg, n, &p), 0);
		vici_handle_event(s, &p);
		count++;
	}
	assert_true(count > 50);
	free(buf);
}

/* An event built by hand (for orderings the recording does not have). */
static void
send_event(struct vici_state *s, const char *name, struct vici_builder *b)
{
	struct vici_packet p;

	assert_int_equal(vici_builder_finish(b), 0);
	memset(&p, 0, sizeof(p));
	p.type = VICI_EVENT;
	snprintf(p.name, sizeof(p.name), "%s", name);
	p.body = b->buf;
	p.body_len = b->len;
	vici_handle_event(s, &p);
	vici_builder_release(b);
}

#define V4 (&t.km_ip[KEY_MODULE_IKEV2][IP_V4])

static void
test_snapshot_fields(void **state)
{
	struct vici_state *s = vici_state_new("unix:///nonexistent");
	struct vici_records *r = snapshot(s, "ssa", "traffic", true);
	struct stats_tree t;
	Secstat__V1__IkeSaDetail *ike;
	Secstat__V1__IpsecSaDetail *c;
	Secstat__V1__ConnectionDetail *lab = NULL, *bad = NULL;

	stats_tree_init(&t);
	vici_contribute(r, &t);

	/* IKEv2 over IPv4: one IKE_SA, one CHILD_SA. */
	assert_true(V4->has_current_active_main_modes);
	assert_int_equal(V4->current_active_main_modes, 1);
	assert_int_equal(V4->current_new_responder_main_modes, 0);
	assert_int_equal(V4->current_active_quick_modes, 1);
	assert_int_equal(
	    t.km_ip[KEY_MODULE_IKEV2][IP_V6].current_active_main_modes, 0);
	assert_int_equal(
	    t.km_ip[KEY_MODULE_IKE][IP_V4].current_active_main_modes, 0);
	/* No events yet: the totals are unknown, not zero. */
	assert_false(V4->has_total_main_modes_started);
	assert_false(V4->has_total_successful_main_modes);
	assert_false(V4->has_total_failed_quick_modes);
	assert_false(V4->has_total_acquires);
	assert_int_equal(t.km[KEY_MODULE_IKEV2].n_error_frequency_table, 0);
	assert_false(
	    t.km_ip[KEY_MODULE_AUTHIP][IP_V4].has_current_active_main_modes);

	/* Common block: IKE messages received from the counters plugin
	 * (ike-init-in-resp 1 + ike-auth-in-resp 1), queues all 0. */
	assert_true(t.common.has_total_packets_received);
	assert_int_equal(t.common.total_packets_received, 2);
	assert_int_equal(t.common.total_invalid_packets_received, 0);
	assert_true(t.common.has_current_queued_workitems);
	assert_int_equal(t.common.current_queued_workitems, 0);
	assert_false(t.common_ip[IP_V4].has_total_socket_receive_failures);

	/* IPsec: one ESP tunnel-mode CHILD_SA = two SAs; AES-CBC with
	 * HMAC-SHA2-256: encrypted and ESP-authenticated. */
	assert_int_equal(t.ipsec_sa.active_sas, 2);
	assert_int_equal(t.ipsec_sa.active_tunnels, 1);
	assert_int_equal(t.ipsec_sa.pending_sa_negotiations, 0);
	assert_false(t.ipsec_sa.has_total_sas_added);
	assert_false(t.ipsec_sa.has_offloaded_sas);
	assert_int_equal(t.ipsec_in.encrypted_byte_count, 2320);
	assert_int_equal(t.ipsec_in.authenticated_esp_byte_count, 2320);
	assert_true(t.ipsec_in.has_authenticated_ah_byte_count);
	assert_int_equal(t.ipsec_in.authenticated_ah_byte_count, 0);
	assert_int_equal(t.ipsec_in.tunnel_byte_count, 2320);
	assert_int_equal(t.ipsec_in.transport_byte_count, 0);
	assert_int_equal(t.ipsec_in.total_successful_packets, 11);
	assert_false(t.ipsec_in.has_offload_byte_count);
	assert_int_equal(t.ipsec_out.encrypted_byte_count, 2340);
	assert_int_equal(t.ipsec_out.total_successful_packets, 11);

	/* Per-SA listing. */
	assert_int_equal(t.sa_response.n_ike_sas, 1);
	ike = t.sa_response.ike_sas[0];
	assert_string_equal(ike->source, "vici");
	assert_string_equal(ike->name, "lab");
	assert_int_equal(ike->unique_id, 1);
	assert_int_equal(ike->version, 2);
	assert_string_equal(ike->state, "ESTABLISHED");
	assert_string_equal(ike->local_address, "192.0.2.1");
	assert_int_equal(ike->local_port, 4500);
	assert_string_equal(ike->remote_id, "ssb@lab");
	assert_true(ike->initiator);
	assert_string_equal(ike->encryption_algorithm, "AES_CBC-256");
	assert_string_equal(ike->integrity_algorithm, "HMAC_SHA2_256_128");
	assert_string_equal(ike->dh_group, "MODP_2048");
	assert_int_equal(ike->established_s, 3);
	assert_true(ike->nat_remote);
	assert_int_equal(ike->n_child_sas, 1);
	c = ike->child_sas[0];
	assert_string_equal(c->name, "net");
	assert_string_equal(c->mode, "tunnel");
	assert_string_equal(c->protocol, "esp");
	assert_int_equal(c->spi_in, 0xc4b3cd30u);
	assert_int_equal(c->spi_out, 0xdfc1b105u);
	assert_int_equal(c->bytes_in, 2320);
	assert_int_equal(c->packets_out, 11);
	assert_int_equal(c->ike_sa_unique_id, 1);
	assert_string_equal(c->encryption_algorithm, "AES_CBC-128");
	assert_int_equal(c->n_local_ts, 1);
	assert_string_equal(c->local_ts[0], "198.51.100.1/32");
	assert_string_equal(c->remote_ts[0], "203.0.113.1/32");
	assert_int_equal(c->expire_in_s, 3957);
	assert_true(c->has_install_unix_s);

	/* Configured connections: "lab" up, "bad" down. */
	assert_int_equal(t.sa_response.n_connections, 2);
	for (size_t i = 0; i < 2; i++) {
		if (strcmp(t.sa_response.connections[i]->name, "lab") == 0) {
			lab = t.sa_response.connections[i];
		} else {
			bad = t.sa_response.connections[i];
		}
	}
	assert_non_null(lab);
	assert_non_null(bad);
	assert_string_equal(bad->name, "bad");
	assert_true(lab->established);
	assert_int_equal(lab->active_child_sas, 1);
	assert_int_equal(lab->version, 2);
	assert_string_equal(lab->remote_addrs[0], "192.0.2.2");
	assert_string_equal(lab->children[0], "net");
	assert_true(bad->has_established);
	assert_false(bad->established);
	assert_int_equal(bad->active_child_sas, 0);

	stats_tree_release(&t);
	vici_records_free(r);
	vici_state_free(s);
}

static void
test_counters_absent(void **state)
{
	struct vici_state *s = vici_state_new(NULL);
	struct vici_records *r = snapshot(s, "ssa", "traffic", false);
	struct stats_tree t;

	stats_tree_init(&t);
	vici_contribute(r, &t);
	assert_false(r->has_counters);
	assert_false(t.common.has_total_packets_received);
	assert_false(t.common.has_total_invalid_packets_received);
	assert_true(t.common.has_current_queued_workitems);
	stats_tree_release(&t);
	vici_records_free(r);
	vici_state_free(s);
}

static const struct replay_case {
	const char *ns;
	uint64_t started, ok, failed, responder, qm_ok;
	uint64_t auth_fail; /* error table slot 1 (13801) */
	uint64_t packets_received;
} replay_cases[] = {
    /* Initiator: "lab" established, "bad" failed with AUTH_FAILED. */
    {"ssa", 2, 1, 1, 0, 2, 1, 8},
    /* Responder: both negotiations were started by the peer. */
    {"ssb", 2, 1, 1, 2, 2, 1, 8},
};

static void
test_event_replay(void **state)
{
	for (size_t i = 0; i < sizeof(replay_cases) / sizeof(replay_cases[0]);
	     i++) {
		const struct replay_case *c = &replay_cases[i];
		struct vici_state *s = vici_state_new(NULL);
		struct vici_records *r;
		struct stats_tree t;
		struct vici_builder b;
		char rel[256];
		uint64_t *errors;

		vici_builder_init(&b);
		/* The provider registers first, then the daemon works. */
		send_event(s, "no-such-event", &b);
		snprintf(rel, sizeof(rel), "recorded/%s-events.bin", c->ns);
		replay_events(s, rel);
		r = snapshot(s, c->ns, "final", true);
		/* The event thread sets these when it registers. */
		r->acc.events_up = true;
		r->acc.log_up = true;
		stats_tree_init(&t);
		vici_contribute(r, &t);

		assert_int_equal(V4->total_main_modes_started, c->started);
		assert_int_equal(V4->total_successful_main_modes, c->ok);
		assert_int_equal(V4->total_failed_main_modes, c->failed);
		assert_int_equal(V4->total_responder_main_modes, c->responder);
		assert_int_equal(V4->total_successful_quick_modes, c->qm_ok);
		assert_int_equal(V4->total_failed_quick_modes, 0);
		assert_int_equal(V4->total_quick_modes_started, c->qm_ok);
		assert_int_equal(
		    t.km_ip[KEY_MODULE_IKEV2][IP_V6].total_main_modes_started,
		    0);
		assert_int_equal(t.km[KEY_MODULE_IKEV2].n_error_frequency_table,
		                 IKE_ERROR_CODE_COUNT);
		assert_int_equal(t.km[KEY_MODULE_IKEV2].error_code_base, 13800);
		errors = t.km[KEY_MODULE_IKEV2].error_frequency_table;
		assert_int_equal(errors[1], c->auth_fail);
		for (int k = 0; k < IKE_ERROR_CODE_COUNT; k++) {
			if (k != 1 && errors[k] != 0) {
				fail_msg("%s: error slot %d = %llu", c->ns, k,
				         (unsigned long long)errors[k]);
			}
			assert_int_equal(
			    t.km[KEY_MODULE_IKE].error_frequency_table[k], 0);
		}
		/* Rekey: +2 SAs, -2 SAs; teardown: -2 SAs. */
		assert_int_equal(t.ipsec_sa.total_sas_added, 4);
		assert_int_equal(t.ipsec_sa.total_sas_deleted, 4);
		assert_int_equal(t.ipsec_sa.successful_rekeys, 2);
		assert_int_equal(t.common.total_packets_received,
		                 c->packets_received);
		stats_tree_release(&t);
		vici_records_free(r);
		vici_state_free(s);
	}
}

static uint64_t
bytes_in_after(struct vici_records *r)
{
	struct stats_tree t;
	uint64_t v;

	stats_tree_init(&t);
	vici_contribute(r, &t);
	v = t.ipsec_in.encrypted_byte_count;
	assert_int_equal(t.ipsec_in.tunnel_byte_count, v);
	stats_tree_release(&t);
	vici_records_free(r);
	return v;
}

/* Per-SA counters restart at every rekey; the totals must not. */
static void
test_monotonic_across_rekey(void **state)
{
	struct vici_state *s = vici_state_new(NULL);
	struct vici_builder b;

	/* SA #1 with 2320 bytes in. */
	assert_int_equal(bytes_in_after(snapshot(s, "ssa", "traffic", true)),
	                 2320);
	/* After the rekey: #1 DELETED with its final 2320, #2 at 0. */
	assert_int_equal(bytes_in_after(snapshot(s, "ssa", "final", true)),
	                 2320);
	/* Both gone (the daemon dropped them between two listings). */
	assert_int_equal(bytes_in_after(empty_snapshot(s, "ssa", "final")),
	                 2320);
	/* A late listing of SAs already folded is not counted again. */
	assert_int_equal(bytes_in_after(snapshot(s, "ssa", "final", true)),
	                 2320);

	/* An SA that moved on after the last listing: the final counters
	 * from child-updown count. */
	vici_builder_init(&b);
	vici_builder_section_start(&b, "lab");
	vici_builder_kv(&b, "uniqueid", "9");
	vici_builder_kv(&b, "version", "2");
	vici_builder_kv(&b, "state", "DELETING");
	vici_builder_kv(&b, "remote-host", "192.0.2.2");
	vici_builder_section_start(&b, "child-sas");
	vici_builder_section_start(&b, "net-7");
	vici_builder_kv(&b, "name", "net");
	vici_builder_kv(&b, "uniqueid", "7");
	vici_builder_kv(&b, "state", "INSTALLED");
	vici_builder_kv(&b, "mode", "TUNNEL");
	vici_builder_kv(&b, "protocol", "ESP");
	vici_builder_kv(&b, "spi-in", "0000abcd");
	vici_builder_kv(&b, "spi-out", "0000dcba");
	vici_builder_kv(&b, "encr-alg", "AES_GCM_16");
	vici_builder_kv(&b, "bytes-in", "1000");
	vici_builder_kv(&b, "packets-in", "4");
	vici_builder_kv(&b, "bytes-out", "0");
	vici_builder_kv(&b, "packets-out", "0");
	vici_builder_section_end(&b);
	vici_builder_section_end(&b);
	vici_builder_section_end(&b);
	send_event(s, "child-updown", &b);
	assert_int_equal(bytes_in_after(empty_snapshot(s, "ssa", "final")),
	                 3320);
	vici_state_free(s);
}

/* A listing of one IKE_SA with one ESP tunnel CHILD_SA (uniqueid 7). */
static struct vici_records *
one_sa_snapshot(struct vici_state *s, const char *bytes_in)
{
	struct vici_builder b;
	struct vici_msg *sas = malloc(sizeof(*sas));
	struct vici_records *r = NULL;

	vici_builder_init(&b);
	vici_builder_section_start(&b, "lab");
	vici_builder_kv(&b, "uniqueid", "3");
	vici_builder_kv(&b, "version", "2");
	vici_builder_kv(&b, "state", "ESTABLISHED");
	vici_builder_kv(&b, "remote-host", "192.0.2.2");
	vici_builder_section_start(&b, "child-sas");
	vici_builder_section_start(&b, "net-7");
	vici_builder_kv(&b, "name", "net");
	vici_builder_kv(&b, "uniqueid", "7");
	vici_builder_kv(&b, "state", "INSTALLED");
	vici_builder_kv(&b, "mode", "TUNNEL");
	vici_builder_kv(&b, "protocol", "ESP");
	vici_builder_kv(&b, "spi-in", "c0ffee01");
	vici_builder_kv(&b, "spi-out", "c0ffee02");
	vici_builder_kv(&b, "encr-alg", "AES_CBC");
	vici_builder_kv(&b, "integ-alg", "HMAC_SHA2_256_128");
	vici_builder_kv(&b, "bytes-in", bytes_in);
	vici_builder_kv(&b, "packets-in", "1");
	vici_builder_section_end(&b);
	vici_builder_section_end(&b);
	vici_builder_section_end(&b);
	assert_int_equal(vici_builder_finish(&b), 0);
	assert_int_equal(vici_decode(b.buf, b.len, sas), 0);
	vici_builder_release(&b);
	assert_int_equal(
	    vici_records_make(s, NULL, NULL, NULL, sas, 1, NULL, 0, &r), 0);
	return r;
}

/* An SA left out of one listing (charon busy with it) and listed again
 * with more traffic: counted once, with its newest counters. */
static void
test_sa_back_after_gap(void **state)
{
	struct vici_state *s = vici_state_new(NULL);

	assert_int_equal(bytes_in_after(one_sa_snapshot(s, "1000")), 1000);
	assert_int_equal(bytes_in_after(empty_snapshot(s, "ssa", "final")),
	                 1000);
	assert_int_equal(bytes_in_after(one_sa_snapshot(s, "1500")), 1500);
	assert_int_equal(bytes_in_after(empty_snapshot(s, "ssa", "final")),
	                 1500);
	assert_int_equal(bytes_in_after(empty_snapshot(s, "ssa", "final")),
	                 1500);
	vici_state_free(s);
}

/* strongSwan with the kernel backend: the kernel source counted SPI
 * c4b3cd30 already; vici must not count that CHILD_SA again. */
static void
test_no_double_count(void **state)
{
	struct vici_state *s = vici_state_new(NULL);
	struct vici_records *r = snapshot(s, "ssa", "traffic", true);
	struct stats_tree t;

	/* Userspace ESP (kernel-libipsec) daemon, but pretend the kernel
	 * listed the SA: it is skipped, the rest stays. */
	stats_tree_init(&t);
	stats_tree_note_spi(&t, 0xc4b3cd30u);
	vici_contribute(r, &t);
	assert_int_equal(t.ipsec_sa.active_sas, 0);
	assert_int_equal(t.ipsec_in.encrypted_byte_count, 0);
	assert_int_equal(V4->current_active_quick_modes, 1); /* IKE view */
	stats_tree_release(&t);

	/* Kernel-backed daemon (no kernel-libipsec) and a kernel source
	 * that filled the aggregate: vici adds no IPsec traffic or totals,
	 * and never touches the kernel source's values. */
	r->userspace_esp = false;
	for (size_t i = 0; i < r->n_live; i++) {
		r->live[i].kernel = true;
	}
	r->acc.events_up = true;
	r->acc.sas_added = 10;
	stats_tree_init(&t);
	TREE_SET(&t.ipsec_sa, active_sas, 2);
	TREE_SET(&t.ipsec_sa, total_sas_added, 6);
	stats_tree_note_spi(&t, 0xc4b3cd30u);
	stats_tree_note_spi(&t, 0xdfc1b105u);
	vici_contribute(r, &t);
	assert_int_equal(t.ipsec_sa.active_sas, 2);
	assert_int_equal(t.ipsec_sa.total_sas_added, 6);
	assert_false(t.ipsec_in.has_encrypted_byte_count);
	assert_int_equal(V4->total_successful_main_modes, 0);
	stats_tree_release(&t);

	/* Same daemon, no kernel source: vici is the only one. */
	stats_tree_init(&t);
	vici_contribute(r, &t);
	assert_int_equal(t.ipsec_sa.active_sas, 2);
	assert_int_equal(t.ipsec_sa.total_sas_added, 10);
	assert_int_equal(t.ipsec_in.encrypted_byte_count, 2320);
	stats_tree_release(&t);
	vici_records_free(r);
	vici_state_free(s);
}

/* Kernel-backed daemon and a kernel source whose dump does not hold the
 * CHILD_SA's SPIs (its dump predates a CHILD_SA charon just installed or
 * rekeyed, or the kernel source does not watch charon's namespace): the
 * SAs belong to the kernel source all the same. Counting them here made
 * activeSas the kernel's SAs plus charon's new pair during every rekey,
 * while their traffic was (rightly) left out. */
static void
test_kernel_sa_not_in_dump(void **state)
{
	struct vici_state *s = vici_state_new(NULL);
	struct vici_records *r = snapshot(s, "ssa", "traffic", true);
	struct stats_tree t;

	r->userspace_esp = false;
	for (size_t i = 0; i < r->n_live; i++) {
		r->live[i].kernel = true;
	}
	stats_tree_init(&t);
	TREE_SET(&t.ipsec_sa, active_sas, 2); /* e.g. the old pair */
	TREE_SET(&t.ipsec_sa, active_tunnels, 1);
	stats_tree_note_spi(&t, 0x11111111u);
	stats_tree_note_spi(&t, 0x22222222u);
	vici_contribute(r, &t);
	assert_int_equal(t.ipsec_sa.active_sas, 2);
	assert_int_equal(t.ipsec_sa.active_tunnels, 1);
	assert_false(t.ipsec_in.has_encrypted_byte_count);
	assert_int_equal(V4->current_active_quick_modes, 1); /* IKE view */
	assert_int_equal(t.sa_response.n_ike_sas, 1);
	assert_int_equal(t.sa_response.ike_sas[0]->n_child_sas, 1);
	stats_tree_release(&t);

	/* The same with a kernel source that found no SA at all. */
	stats_tree_init(&t);
	TREE_SET(&t.ipsec_sa, active_sas, 0);
	vici_contribute(r, &t);
	assert_int_equal(t.ipsec_sa.active_sas, 0);
	assert_int_equal(t.ipsec_sa.active_tunnels, 0);
	stats_tree_release(&t);

	/* A userspace-ESP daemon's SAs are invisible to the kernel source:
	 * still counted here. */
	r->userspace_esp = true;
	stats_tree_init(&t);
	TREE_SET(&t.ipsec_sa, active_sas, 0);
	vici_contribute(r, &t);
	assert_int_equal(t.ipsec_sa.active_sas, 2);
	assert_int_equal(t.ipsec_sa.active_tunnels, 1);
	stats_tree_release(&t);
	vici_records_free(r);
	vici_state_free(s);
}

/* The listing: the kernel's two SAs of a CHILD_SA (listed first by the
 * kernel provider, one per direction) are that CHILD_SA, not unowned
 * SAs; the inbound one's drop counters move into the CHILD_SA. */
static void
test_listing_absorbs_kernel_pair(void **state)
{
	struct vici_state *s = vici_state_new(NULL);
	struct vici_records *r = snapshot(s, "ssa", "traffic", true);
	struct stats_tree t;
	Secstat__V1__IpsecSaDetail *in, *out, *other, *c;

	stats_tree_init(&t);
	in = stats_tree_add_ipsec_sa(&t);
	in->source = (char *)"xfrm";
	TREE_SET(in, spi_in, 0xc4b3cd30u);
	TREE_SET(in, replay_failures, 3);
	TREE_SET(in, integrity_failures, 1);
	in->netns = (char *)"blue";
	other = stats_tree_add_ipsec_sa(&t);
	other->source = (char *)"xfrm";
	TREE_SET(other, spi_out, 0x12345678u);
	out = stats_tree_add_ipsec_sa(&t);
	out->source = (char *)"xfrm";
	TREE_SET(out, spi_out, 0xdfc1b105u);
	vici_contribute(r, &t);
	assert_int_equal(t.sa_response.n_ipsec_sas, 1);
	assert_ptr_equal(t.sa_response.ipsec_sas[0], other);
	c = t.sa_response.ike_sas[0]->child_sas[0];
	assert_int_equal(c->replay_failures, 3);
	assert_int_equal(c->integrity_failures, 1);
	assert_string_equal(c->netns, "blue");
	stats_tree_release(&t);
	vici_records_free(r);
	vici_state_free(s);
}

static void
ike_event(struct vici_state *s, const char *uid, const char *state, bool up,
          bool initiator, const char *remote)
{
	struct vici_builder b;

	vici_builder_init(&b);
	if (up) {
		vici_builder_kv(&b, "up", "yes");
	}
	vici_builder_section_start(&b, "conn");
	vici_builder_kv(&b, "uniqueid", uid);
	vici_builder_kv(&b, "version", "2");
	vici_builder_kv(&b, "state", state);
	vici_builder_kv(&b, "remote-host", remote);
	if (initiator) {
		vici_builder_kv(&b, "initiator", "yes");
	}
	vici_builder_section_end(&b);
	send_event(s, "ike-updown", &b);
}

static void
log_event(struct vici_state *s, const char *uid, const char *msg)
{
	struct vici_builder b;

	vici_builder_init(&b);
	vici_builder_kv(&b, "group", "IKE");
	vici_builder_kv(&b, "level", "1");
	vici_builder_kv(&b, "ikesa-uniqueid", uid);
	vici_builder_kv(&b, "msg", msg);
	send_event(s, "log", &b);
}

/* The reason may come before or after the failure; each failure is
 * classified once; an SA that succeeds adds nothing to the table;
 * IPv6 peers land in the v6 block. */
static void
test_failure_classification(void **state)
{
	struct vici_state *s = vici_state_new(NULL);
	struct vici_records *r;
	struct stats_tree t;
	uint64_t *e;

	log_event(s, "5", "received NO_PROPOSAL_CHOSEN notify error");
	ike_event(s, "5", "CONNECTING", false, true, "2001:db8::2");
	ike_event(s, "6", "CONNECTING", false, false, "2001:db8::3");
	log_event(s, "6",
	          "tried 1 shared key for 'a' - 'b', but MAC mismatched");
	log_event(s, "6", "generating IKE_AUTH response 1 [ N(AUTH_FAILED) ]");
	ike_event(s, "7", "CONNECTING", false, true, "192.0.2.9");
	log_event(s, "7", "giving up after 5 retransmits");
	ike_event(s, "8", "ESTABLISHED", true, true, "192.0.2.9");
	log_event(s, "8", "received TS_UNACCEPTABLE notify, no CHILD_SA built");
	log_event(s, "8", "failed to establish CHILD_SA, keeping IKE_SA");
	ike_event(s, "9", "DELETING", false, true, "192.0.2.9"); /* teardown */
	r = empty_snapshot(s, "ssa", "final");
	r->acc.events_up = true;
	r->acc.log_up = true;
	stats_tree_init(&t);
	vici_contribute(r, &t);
	e = t.km[KEY_MODULE_IKEV2].error_frequency_table;
	assert_int_equal(e[25], 1); /* 13825 NO_POLICY */
	assert_int_equal(e[1], 1);  /* 13801 AUTH_FAIL, once */
	assert_int_equal(e[5], 1);  /* 13805 TIMED_OUT */
	assert_int_equal(e[68], 1); /* 13868 POLICY_MATCH (TS) */
	assert_int_equal(
	    t.km_ip[KEY_MODULE_IKEV2][IP_V6].total_failed_main_modes, 2);
	assert_int_equal(
	    t.km_ip[KEY_MODULE_IKEV2][IP_V6].total_responder_main_modes, 1);
	assert_int_equal(V4->total_failed_main_modes, 1);
	assert_int_equal(V4->total_successful_main_modes, 1);
	assert_int_equal(V4->total_failed_quick_modes, 1);
	stats_tree_release(&t);
	vici_records_free(r);
	vici_state_free(s);
}

static void
test_classify_table(void **state)
{
	static const struct {
		const char *msg;
		unsigned code;
	} cases[] = {
	    {"received AUTHENTICATION_FAILED notify error", 13801},
	    {"parsed IKE_AUTH response 1 [ N(AUTH_FAILED) ]", 13801},
	    {"tried 2 shared keys for 'ssb@lab' - 'bad@lab', but MAC "
	     "mismatched",
	     13801},
	    {"generating IKE_SA_INIT response 0 [ N(NO_PROP) ]", 13825},
	    {"no peer config found", 13825},
	    {"received TS_UNACCEPTABLE notify, no CHILD_SA built", 13868},
	    {"giving up after 2 retransmits", 13805},
	    {"authentication of 'ssb@lab' with pre-shared key successful", 0},
	    {"selected proposal: IKE:AES_CBC_256/HMAC_SHA2_256_128", 0},
	    {"", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(vici_classify_log(cases[i].msg),
		                 cases[i].code);
	}
	assert_int_equal(vici_classify_log(NULL), 0);
}

static void
print_tunnels(const struct stats_tree *t)
{
	for (size_t i = 0; i < t->sa_response.n_tunnels; i++) {
		const Secstat__V1__TunnelDetail *d = t->sa_response.tunnels[i];

		print_message(
		    "tunnel %s/%s reqid %u %s %s %s=%s ts %zu/%zu "
		    "in %llu/%llu out %llu/%llu added %llu deleted "
		    "%llu rekeys %llu active %llu\n",
		    d->source, d->name ? d->name : "-", d->reqid,
		    d->mode ? d->mode : "-", d->protocol ? d->protocol : "-",
		    d->local_address ? d->local_address : "-",
		    d->remote_address ? d->remote_address : "-", d->n_local_ts,
		    d->n_remote_ts, (unsigned long long)d->bytes_in,
		    (unsigned long long)d->packets_in,
		    (unsigned long long)d->bytes_out,
		    (unsigned long long)d->packets_out,
		    (unsigned long long)d->sas_added,
		    (unsigned long long)d->sas_deleted,
		    (unsigned long long)d->rekeys,
		    (unsigned long long)d->active_sas);
	}
}

/* One tunnel per CHILD_SA name: its totals hold across the recorded
 * rekey and after the daemon dropped every SA; SA events counted per
 * tunnel once the event connection is up. */
static void
test_tunnel_totals(void **state)
{
	struct vici_state *s = vici_state_new(NULL);
	struct vici_records *r = snapshot(s, "ssa", "traffic", true);
	struct stats_tree t;
	const Secstat__V1__TunnelDetail *d;
	static const struct {
		const char *tag; /* NULL: a listing without SAs */
		uint64_t active;
	} steps[] = {{"final", 2}, {NULL, 0}, {"final", 2}};

	(void)state;
	stats_tree_init(&t);
	vici_contribute(r, &t);
	print_tunnels(&t);
	assert_int_equal(t.sa_response.n_tunnels, 1);
	d = t.sa_response.tunnels[0];
	assert_string_equal(d->source, "vici");
	assert_string_equal(d->name, "net");
	assert_int_equal(d->reqid, 1);
	assert_string_equal(d->mode, "tunnel");
	assert_string_equal(d->protocol, "esp");
	assert_true(d->has_encrypted && d->encrypted);
	assert_string_equal(d->local_address, "192.0.2.1");
	assert_string_equal(d->remote_address, "192.0.2.2");
	assert_int_equal(d->n_local_ts, 1);
	assert_int_equal(d->n_remote_ts, 1);
	assert_int_equal(d->bytes_in, 2320);
	assert_int_equal(d->packets_in, 11);
	assert_int_equal(d->bytes_out, 2340);
	assert_int_equal(d->packets_out, 11);
	assert_int_equal(d->active_sas, 2);
	/* No event connection yet: the event counts are unknown. */
	assert_false(d->has_sas_added);
	assert_false(d->has_rekeys);
	/* charon does not report replay or integrity failures. */
	assert_false(d->has_replay_failures);
	assert_false(d->has_integrity_failures);
	stats_tree_release(&t);
	vici_records_free(r);

	replay_events(s, "recorded/ssa-events.bin");
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		r = steps[i].tag != NULL
		        ? snapshot(s, "ssa", steps[i].tag, true)
		        : empty_snapshot(s, "ssa", "final");
		r->acc.events_up = true;
		stats_tree_init(&t);
		vici_contribute(r, &t);
		print_tunnels(&t);
		assert_int_equal(t.sa_response.n_tunnels, 1);
		d = t.sa_response.tunnels[0];
		assert_string_equal(d->name, "net");
		/* The rekeyed CHILD_SA's traffic stays in. */
		assert_int_equal(d->bytes_in, 2320);
		assert_int_equal(d->bytes_out, 2340);
		/* As the host-wide totals: rekey +2/-2, teardown -2. */
		assert_int_equal(d->sas_added, 4);
		assert_int_equal(d->sas_deleted, 4);
		assert_int_equal(d->rekeys, 1);
		assert_int_equal(d->active_sas, steps[i].active);
		/* Selectors kept while no CHILD_SA is listed. */
		assert_int_equal(d->n_remote_ts, 1);
		stats_tree_release(&t);
		vici_records_free(r);
	}
	vici_state_free(s);
}

static Secstat__V1__TunnelDetail *
kernel_tunnel(struct stats_tree *t, uint32_t reqid, const char *remote)
{
	Secstat__V1__TunnelDetail *d = stats_tree_add_tunnel(t);

	d->source = "xfrm";
	d->netns = "";
	TREE_SET(d, reqid, reqid);
	d->local_address = "192.0.2.1";
	d->remote_address = (char *)remote;
	TREE_SET(d, bytes_in, 5000);
	return d;
}

/* charon with the kernel backend and a kernel source: the kernel's
 * tunnel of the same reqid and addresses gets the CHILD_SA name and
 * no second entry is listed; otherwise vici's own entry is. */
static void
test_tunnel_kernel_named(void **state)
{
	struct vici_state *s = vici_state_new(NULL);
	struct vici_records *r = snapshot(s, "ssa", "traffic", true);
	struct stats_tree t;

	(void)state;
	r->userspace_esp = false;
	for (size_t i = 0; i < r->n_tunnels; i++) {
		r->tunnels[i].kernel = true;
	}
	for (size_t i = 0; i < r->n_live; i++) {
		r->live[i].kernel = true;
	}
	stats_tree_init(&t);
	TREE_SET(&t.ipsec_sa, active_sas, 2);
	kernel_tunnel(&t, 1, "192.0.2.2");
	kernel_tunnel(&t, 1, "198.51.100.7"); /* same reqid, other peer */
	kernel_tunnel(&t, 2, "192.0.2.2");    /* other reqid */
	stats_tree_note_spi(&t, 0xc4b3cd30u);
	stats_tree_note_spi(&t, 0xdfc1b105u);
	vici_contribute(r, &t);
	print_tunnels(&t);
	assert_int_equal(t.sa_response.n_tunnels, 3);
	assert_string_equal(t.sa_response.tunnels[0]->name, "net");
	assert_string_equal(t.sa_response.tunnels[0]->source, "xfrm");
	assert_int_equal(t.sa_response.tunnels[0]->bytes_in, 5000);
	assert_null(t.sa_response.tunnels[1]->name);
	assert_null(t.sa_response.tunnels[2]->name);
	stats_tree_release(&t);

	/* The kernel source has not listed the tunnel yet: it still owns
	 * the SAs (their traffic too), so vici adds no entry. */
	stats_tree_init(&t);
	TREE_SET(&t.ipsec_sa, active_sas, 0);
	vici_contribute(r, &t);
	assert_int_equal(t.sa_response.n_tunnels, 0);
	stats_tree_release(&t);

	/* No kernel source: vici's entry is the only one. */
	stats_tree_init(&t);
	vici_contribute(r, &t);
	assert_int_equal(t.sa_response.n_tunnels, 1);
	assert_string_equal(t.sa_response.tunnels[0]->source, "vici");
	assert_int_equal(t.sa_response.tunnels[0]->bytes_in, 2320);
	stats_tree_release(&t);

	/* Userspace ESP: the kernel source cannot see these SAs; vici's
	 * entry is listed and the kernel's tunnels stay unnamed. */
	for (size_t i = 0; i < r->n_tunnels; i++) {
		r->tunnels[i].kernel = false;
	}
	stats_tree_init(&t);
	TREE_SET(&t.ipsec_sa, active_sas, 2);
	kernel_tunnel(&t, 1, "192.0.2.2");
	vici_contribute(r, &t);
	assert_int_equal(t.sa_response.n_tunnels, 2);
	assert_null(t.sa_response.tunnels[0]->name);
	assert_string_equal(t.sa_response.tunnels[1]->source, "vici");
	assert_string_equal(t.sa_response.tunnels[1]->name, "net");
	stats_tree_release(&t);
	vici_records_free(r);
	vici_state_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_snapshot_fields),
	    cmocka_unit_test(test_counters_absent),
	    cmocka_unit_test(test_event_replay),
	    cmocka_unit_test(test_monotonic_across_rekey),
	    cmocka_unit_test(test_sa_back_after_gap),
	    cmocka_unit_test(test_no_double_count),
	    cmocka_unit_test(test_tunnel_totals),
	    cmocka_unit_test(test_tunnel_kernel_named),
	    cmocka_unit_test(test_kernel_sa_not_in_dump),
	    cmocka_unit_test(test_listing_absorbs_kernel_pair),
	    cmocka_unit_test(test_failure_classification),
	    cmocka_unit_test(test_classify_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
