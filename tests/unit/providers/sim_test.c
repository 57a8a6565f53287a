/*
 * sim provider: determinism, coverage of every statistic of the model,
 * internal consistency and monotonic counters.
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
#include "model.h"
#include "providers/procfs/procfs.h"
#include "providers/sim/sim.h"
#include "stats_tree.h"

/* What a probe names when it finds nothing (provider_ops.probe). */
static char what[128];

#define N_COLLECTIONS 10

/* One collection's three replies, built and packed. */
struct snapshot {
	struct stats_tree tree;
	uint8_t *packed[3];
	size_t len[3];
};

static const ProtobufCMessage *
reply(struct snapshot *s, unsigned i)
{
	const ProtobufCMessage *m[3] = {
	    &s->tree.ipsec_response.base,
	    &s->tree.ike_response.base,
	    &s->tree.iscsi_response.base,
	};

	return m[i];
}

static void
snapshot_build(struct snapshot *s, void *records)
{
	stats_tree_init(&s->tree);
	sim_provider.contribute(records, &s->tree);
	stats_tree_finish(&s->tree);
	for (unsigned i = 0; i < 3; i++) {
		s->len[i] = protobuf_c_message_get_packed_size(reply(s, i));
		s->packed[i] = malloc(s->len[i] + 1);
		assert_non_null(s->packed[i]);
		assert_int_equal(
		    protobuf_c_message_pack(reply(s, i), s->packed[i]),
		    s->len[i]);
	}
}

static void
snapshot_free(struct snapshot *s)
{
	for (unsigned i = 0; i < 3; i++) {
		free(s->packed[i]);
	}
	stats_tree_release(&s->tree);
}

/* Runs `n` collections of a fresh sim with `seed` into `out`. */
static void
run(uint64_t seed, struct snapshot *out, unsigned n)
{
	struct agent_config cfg = {.sim_seed = seed};
	void *state = NULL;

	assert_int_equal(sim_provider.init(&cfg, &state), 0);
	for (unsigned k = 0; k < n; k++) {
		void *records = NULL;

		assert_int_equal(sim_provider.collect(state, &records), 0);
		snapshot_build(&out[k], records);
		sim_provider.records_free(records);
	}
	sim_provider.fini(state);
}

static bool
same_bytes(const struct snapshot *a, const struct snapshot *b)
{
	for (unsigned i = 0; i < 3; i++) {
		if (a->len[i] != b->len[i] ||
		    memcmp(a->packed[i], b->packed[i], a->len[i]) != 0) {
			return false;
		}
	}
	return true;
}

static void
test_ops(void **state)
{
	assert_int_equal(sim_provider.abi_version, PROVIDER_ABI_VERSION);
	assert_string_equal(sim_provider.name, "sim");
	assert_true(sim_provider.simulated);
	assert_int_equal(sim_provider.families,
	                 PROVIDES_IPSEC | PROVIDES_IKE | PROVIDES_ISCSI);
	assert_non_null(sim_provider.probe);
	assert_int_equal(sim_provider.probe(NULL, what, sizeof(what)), 0);
}

/* Same seed, same collection number: same bytes, from separate runs. */
static void
test_determinism(void **state)
{
	static const uint64_t seeds[] = {1, 2, 42, UINT64_MAX};

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		struct snapshot a[4], b[4];

		run(seeds[i], a, 4);
		run(seeds[i], b, 4);
		for (unsigned k = 0; k < 4; k++) {
			assert_true(same_bytes(&a[k], &b[k]));
			/* The host evolves between collections. */
			if (k > 0) {
				assert_false(same_bytes(&a[k], &a[k - 1]));
			}
		}
		for (unsigned k = 0; k < 4; k++) {
			snapshot_free(&a[k]);
			snapshot_free(&b[k]);
		}
	}
}

/* Records are a pure function: contributing one twice gives the same
 * tree. */
static void
test_pure_contribute(void **state)
{
	struct sim_records r = {.seed = 7, .collection = 3};
	struct snapshot a, b;

	snapshot_build(&a, &r);
	snapshot_build(&b, &r);
	assert_true(same_bytes(&a, &b));
	snapshot_free(&a);
	snapshot_free(&b);
}

static void
test_seeds_differ(void **state)
{
	enum { N_SEEDS = 6 };
	struct snapshot s[N_SEEDS];

	for (unsigned i = 0; i < N_SEEDS; i++) {
		run(i + 1, &s[i], 1);
	}
	for (unsigned i = 0; i < N_SEEDS; i++) {
		for (unsigned j = i + 1; j < N_SEEDS; j++) {
			for (unsigned r = 0; r < 3; r++) {
				assert_false(s[i].len[r] == s[j].len[r] &&
				             memcmp(s[i].packed[r],
				                    s[j].packed[r],
				                    s[i].len[r]) == 0);
			}
		}
	}
	for (unsigned i = 0; i < N_SEEDS; i++) {
		snapshot_free(&s[i]);
	}
}

/* ------------------------------------------------- every statistic present */

#define MAX_SEEN 4096

struct seen {
	const ProtobufCFieldDescriptor *fd[MAX_SEEN];
	size_t n;
};

static int
note_seen(const struct model_stat *st, void *arg)
{
	struct seen *s = arg;

	for (size_t i = 0; i < s->n; i++) {
		if (s->fd[i] == st->fd) {
			return 0;
		}
	}
	assert_true(s->n < MAX_SEEN);
	s->fd[s->n++] = st->fd;
	return 0;
}

static bool
was_seen(const struct seen *s, const ProtobufCFieldDescriptor *fd)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->fd[i] == fd) {
			return true;
		}
	}
	return false;
}

/* Every statistic (kind counter or gauge in the metadata table) of every
 * message type reachable from `desc` must have been seen. */
static unsigned
check_reachable(const ProtobufCMessageDescriptor *desc, const struct seen *seen,
                const ProtobufCMessageDescriptor **visited, size_t *n_visited)
{
	const struct stat_message_meta *meta = stat_meta_message(desc);
	unsigned checked = 0;

	for (size_t i = 0; i < *n_visited; i++) {
		if (visited[i] == desc) {
			return 0;
		}
	}
	visited[(*n_visited)++] = desc;
	assert_non_null(meta);
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &desc->fields[i];

		if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
			checked += check_reachable(fd->descriptor, seen,
			                           visited, n_visited);
			continue;
		}
		if (meta->fields[i].kind == STAT_NONE) {
			continue;
		}
		if (!was_seen(seen, fd)) {
			fail_msg("%s.%s never present", desc->name, fd->name);
		}
		checked++;
	}
	return checked;
}

static void
test_every_statistic(void **state)
{
	struct snapshot s;
	struct seen *seen = calloc(1, sizeof(*seen));
	const ProtobufCMessageDescriptor *visited[64];
	size_t n_visited = 0;
	unsigned checked = 0;

	assert_non_null(seen);
	run(1, &s, 1);
	for (unsigned i = 0; i < 3; i++) {
		/* Walk what a client decodes, not the agent's own tree. */
		ProtobufCMessage *m = protobuf_c_message_unpack(
		    reply(&s, i)->descriptor, NULL, s.len[i], s.packed[i]);

		assert_non_null(m);
		assert_int_equal(model_walk(m, NULL, note_seen, seen), 0);
		checked +=
		    check_reachable(m->descriptor, seen, visited, &n_visited);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	/* Distinct statistic fields of the schema today: IPsec 33 + the
	 * XFRM MIB value, IKE 18 + 4 + 2 + 3, iSCSI 73. A floor against a
	 * traversal that reached nothing. */
	assert_true(checked >= 134);

	/* The error tables are complete. */
	const Secstat__V1__IkeextStatistics *ike = &s.tree.ike;
	const Secstat__V1__IkeextKeymoduleStatistics *kms[] = {
	    ike->ike_statistics, ike->authip_statistics,
	    ike->ike_v2_statistics};
	for (unsigned m = 0; m < 3; m++) {
		assert_non_null(kms[m]);
		assert_int_equal(kms[m]->n_error_frequency_table,
		                 IKE_ERROR_CODE_COUNT);
		assert_int_equal(kms[m]->error_code_base, IKE_ERROR_CODE_BASE);
	}
	free(seen);
	snapshot_free(&s);
}

/* ------------------------------------------------------------ invariants */

static void
check_keymodule(const Secstat__V1__IkeextKeymoduleStatistics *km, bool authip)
{
	const Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics *ipv[] = {
	    km->v4_statistics, km->v6_statistics};
	uint64_t failed = 0, table = 0;

	for (unsigned v = 0; v < 2; v++) {
		const Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics
		    *ip = ipv[v];

		assert_non_null(ip);
		assert_true(ip->total_successful_main_modes +
		                ip->total_failed_main_modes <=
		            ip->total_main_modes_started);
		assert_true(ip->total_successful_quick_modes +
		                ip->total_failed_quick_modes <=
		            ip->total_quick_modes_started);
		assert_true(ip->total_successful_extended_modes +
		                ip->total_failed_extended_modes <=
		            ip->total_extended_modes_started);
		assert_true(ip->current_active_main_modes <=
		            ip->total_successful_main_modes);
		assert_true(ip->current_active_quick_modes <=
		            ip->total_successful_quick_modes);
		assert_true(ip->current_active_extended_modes <=
		            ip->total_successful_extended_modes);
		assert_true(ip->total_responder_main_modes <=
		            ip->total_main_modes_started);
		assert_true(ip->current_new_responder_main_modes <=
		            ip->total_main_modes_started -
		                ip->total_successful_main_modes -
		                ip->total_failed_main_modes);
		assert_true(ip->total_reinit_acquires <= ip->total_acquires);
		assert_true(ip->total_impersonation_main_modes <=
		            ip->total_successful_main_modes);
		assert_true(ip->total_impersonation_extended_modes <=
		            ip->total_successful_extended_modes);
		assert_true(ip->total_successful_main_modes > 0);
		assert_true(ip->total_successful_quick_modes > 0);
		if (authip) {
			assert_true(ip->total_successful_extended_modes > 0);
		} else {
			/* Extended mode and impersonation are AuthIP's. */
			assert_true(ip->has_total_extended_modes_started);
			assert_int_equal(ip->total_extended_modes_started, 0);
			assert_int_equal(ip->current_active_extended_modes, 0);
			assert_int_equal(ip->total_impersonation_main_modes, 0);
			assert_int_equal(ip->total_impersonation_extended_modes,
			                 0);
		}
		failed += ip->total_failed_main_modes +
		          ip->total_failed_quick_modes +
		          ip->total_failed_extended_modes;
	}
	assert_int_equal(km->n_error_frequency_table, IKE_ERROR_CODE_COUNT);
	assert_int_equal(km->error_frequency_table[0], 0);
	for (size_t i = 0; i < km->n_error_frequency_table; i++) {
		table += km->error_frequency_table[i];
	}
	assert_int_equal(table, failed);
	assert_true(failed > 0);
	if (!authip) {
		assert_int_equal(km->extended_mode_negotiation_time, 0);
	}
}

static uint64_t
drop_sum(const Secstat__V1__IpsecAggregateDropPacketStatistics *d)
{
	return d->invalid_spis_on_inbound + d->decryption_failures_on_inbound +
	       d->authentication_failures_on_inbound +
	       d->udp_esp_validation_failures_on_inbound +
	       d->replay_check_failures_on_inbound +
	       d->invalid_clear_text_inbound +
	       d->sa_not_initialized_on_inbound +
	       d->receive_over_incorrect_sa_inbound +
	       d->secure_receives_not_matching_filters;
}

static void
check_traffic(const Secstat__V1__IpsecTrafficStatistics *ts)
{
	uint64_t bytes = ts->transport_byte_count + ts->tunnel_byte_count;

	assert_non_null(ts);
	/* Each byte is in one mode and under one protocol. */
	assert_int_equal(bytes, ts->authenticated_esp_byte_count +
	                            ts->authenticated_ah_byte_count);
	assert_true(ts->encrypted_byte_count <=
	            ts->authenticated_esp_byte_count);
	assert_true(ts->offload_byte_count <= bytes);
	/* Packets of 64 to 1400 bytes. */
	assert_true(ts->total_successful_packets > 0);
	assert_true(ts->total_successful_packets * 64 <= bytes);
	assert_true(bytes <= ts->total_successful_packets * 1400);
}

static void
check_ipsec(const struct stats_tree *t)
{
	const Secstat__V1__IpsecStatistics *s = t->ipsec_response.statistics;
	const Secstat__V1__IpsecAggregateSaStatistics *sa;
	const Secstat__V1__IpsecEspDropPacketStatistics *esp;
	const Secstat__V1__IpsecAhDropPacketStatistics *ah;
	const Secstat__V1__IpsecAggregateDropPacketStatistics *d;
	uint64_t xfrm_in = 0, active_qm = 0;

	assert_non_null(s);
	sa = s->aggregate_sa_statistics;
	esp = s->esp_drop_packet_statistics;
	ah = s->ah_drop_packet_statistics;
	d = s->aggregate_drop_packet_statistics;
	assert_true(sa->total_sas_deleted <= sa->total_sas_added);
	assert_true(sa->active_sas <=
	            sa->total_sas_added - sa->total_sas_deleted);
	assert_true(sa->active_tunnels <= sa->active_sas);
	assert_true(sa->offloaded_sas <= sa->active_sas);
	assert_true(sa->successful_rekeys <= sa->total_sas_deleted);

	/* Two SAs per active quick mode, over every key module. */
	const Secstat__V1__IkeextKeymoduleStatistics *kms[] = {
	    t->km + 0, t->km + 1, t->km + 2};
	for (unsigned m = 0; m < 3; m++) {
		active_qm += kms[m]->v4_statistics->current_active_quick_modes +
		             kms[m]->v6_statistics->current_active_quick_modes;
	}
	assert_int_equal(sa->active_sas, 2 * active_qm);

	assert_int_equal(d->invalid_spis_on_inbound,
	                 esp->invalid_spis_on_inbound +
	                     ah->invalid_spis_on_inbound);
	assert_int_equal(d->decryption_failures_on_inbound,
	                 esp->decryption_failures_on_inbound);
	assert_int_equal(d->authentication_failures_on_inbound,
	                 esp->authentication_failures_on_inbound +
	                     ah->authentication_failures_on_inbound);
	assert_int_equal(d->replay_check_failures_on_inbound,
	                 esp->replay_check_failures_on_inbound +
	                     ah->replay_check_failures_on_inbound);
	assert_int_equal(d->sa_not_initialized_on_inbound,
	                 esp->sa_not_initialized_on_inbound +
	                     ah->sa_not_initialized_on_inbound);
	assert_int_equal(d->total_drop_packets_inbound, drop_sum(d));
	check_traffic(s->inbound_traffic_statistics);
	check_traffic(s->outbound_traffic_statistics);

	/* The simulated XFRM MIB adds up to the same total. */
	assert_int_equal(t->ipsec_response.n_xfrm_mib, 28);
	for (size_t i = 0; i < t->ipsec_response.n_xfrm_mib; i++) {
		const Secstat__V1__XfrmMibCounter *c =
		    t->ipsec_response.xfrm_mib[i];

		assert_true(c->has_value);
		if (strncmp(c->name, "XfrmIn", 6) == 0 ||
		    strcmp(c->name, "XfrmAcquireError") == 0) {
			xfrm_in += c->value;
		}
	}
	assert_int_equal(xfrm_in, d->total_drop_packets_inbound);
}

static void
check_iscsi(const struct stats_tree *t)
{
	const Secstat__V1__IscsiGetStatisticsResponse *r = &t->iscsi_response;

	assert_true(r->n_hbas >= 1 && r->n_hbas <= 3);
	for (size_t h = 0; h < r->n_hbas; h++) {
		const Secstat__V1__IscsiHba *hba = r->hbas[h];
		uint64_t dig = 0, tmo = 0, fmt = 0, sent = 0, rcvd = 0;
		uint64_t pdus_sent = 0, pdus_rcvd = 0;
		size_t n_conns = 0;

		assert_non_null(hba->instance_name);
		assert_true(hba->has_unique_adapter_id);
		assert_true(hba->n_sessions >= 1);
		for (size_t s = 0; s < hba->n_sessions; s++) {
			const Secstat__V1__MsiscsiSessionStatistics *ss =
			    hba->sessions[s];
			uint64_t b_s = 0, b_r = 0, c_s = 0, c_r = 0, d = 0,
			         to = 0;

			assert_int_equal(ss->unique_adapter_id,
			                 hba->unique_adapter_id);
			assert_true(ss->n_connections >= 1);
			for (size_t c = 0; c < ss->n_connections; c++) {
				const Secstat__V1__MsiscsiConnectionStatistics
				    *cs = ss->connections[c];

				assert_int_equal(cs->usid, ss->usid);
				assert_int_equal(cs->unique_adapter_id,
				                 hba->unique_adapter_id);
				assert_true(cs->pdu_responses_received <=
				            cs->pdu_commands_sent);
				assert_true(cs->pdus_sent >=
				            cs->pdu_commands_sent);
				assert_true(cs->pdus_received >=
				            cs->pdu_responses_received);
				b_s += cs->bytes_sent;
				b_r += cs->bytes_received;
				c_s += cs->pdu_commands_sent;
				c_r += cs->pdu_responses_received;
				d += cs->digest_errors;
				to += cs->timeout_errors;
				pdus_sent += cs->pdus_sent;
				pdus_rcvd += cs->pdus_received;
				n_conns++;
			}
			/* A session is the sum of its connections. */
			assert_int_equal(ss->bytes_sent, b_s);
			assert_int_equal(ss->bytes_received, b_r);
			assert_int_equal(ss->pdu_commands_sent, c_s);
			assert_int_equal(ss->pdu_responses_received, c_r);
			assert_int_equal(ss->digest_errors, d);
			assert_int_equal(ss->connection_timeout_errors, to);
			dig += ss->digest_errors;
			tmo += ss->connection_timeout_errors;
			fmt += ss->format_errors;
			sent += ss->bytes_sent;
			rcvd += ss->bytes_received;
		}
		/* The instance counts are the sums over its sessions. */
		const Secstat__V1__MsiscsiInitiatorInstanceStatistics *is =
		    hba->initiator_instance_statistics;
		assert_int_equal(is->session_digest_error_count, dig);
		assert_int_equal(is->session_connection_timeout_error_count,
		                 tmo);
		assert_int_equal(is->session_format_error_count, fmt);

		const Secstat__V1__MsiscsiInitiatorLoginStatistics *ls =
		    hba->initiator_login_statistics;
		assert_int_equal(ls->login_failures,
		                 ls->login_other_fail_rsps +
		                     ls->login_auth_fail_rsps +
		                     ls->login_authenticate_fails +
		                     ls->login_negotiate_fails);
		assert_true(ls->login_accept_rsps >= hba->n_sessions);

		assert_int_equal(hba->n_nic_performance, 1);
		const Secstat__V1__MsiscsiNicPerformance *nic =
		    hba->nic_performance[0];
		assert_int_equal(nic->pdu_transmitted, pdus_sent);
		assert_int_equal(nic->pdu_received, pdus_rcvd);
		assert_true(nic->bytes_transmitted >= sent);
		assert_true(nic->bytes_received >= rcvd);

		assert_int_equal(hba->n_request_time_statistics, n_conns);
		for (size_t i = 0; i < hba->n_request_time_statistics; i++) {
			const Secstat__V1__MsiscsiRequestTimeStatistics *rt =
			    hba->request_time_statistics[i];
			assert_true(rt->maximum_processing_time >=
			            rt->average_processing_time);
		}

		const Secstat__V1__MsiscsiQmIpsecStats *qm =
		    hba->qm_ipsec_stats;
		assert_true(qm->key_deletions <= qm->key_additions);
		assert_true(qm->active_sa <=
		            qm->key_additions - qm->key_deletions);
		assert_true(qm->re_keys <= qm->key_deletions);
		assert_true(qm->confidential_bytes_sent >=
		            nic->bytes_transmitted);
		assert_int_equal(
		    qm->transport_bytes_sent + qm->tunnel_bytes_sent,
		    qm->confidential_bytes_sent + qm->authenticated_bytes_sent);

		const Secstat__V1__MsiscsiMmIpsecStats *mm =
		    hba->mm_ipsec_stats;
		assert_true(mm->authentication_failures <=
		            mm->negotiation_failures);
		assert_true(mm->get_spi_failures <= mm->total_get_spi);
	}
}

static void
test_invariants(void **state)
{
	static const uint64_t seeds[] = {1, 2, 3, 1000, 0xdeadbeef};

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		struct snapshot s[3];

		run(seeds[i], s, 3);
		for (unsigned k = 0; k < 3; k++) {
			const struct stats_tree *t = &s[k].tree;

			print_message("seed %llu collection %u\n",
			              (unsigned long long)seeds[i], k);
			check_keymodule(t->ike.ike_statistics, false);
			check_keymodule(t->ike.authip_statistics, true);
			check_keymodule(t->ike.ike_v2_statistics, false);
			assert_true(t->common.total_invalid_packets_received <=
			            t->common.total_packets_received);
			check_ipsec(t);
			check_iscsi(t);
			snapshot_free(&s[k]);
		}
	}
}

/* ------------------------------------------------------------ monotonic */

struct values {
	char (*path)[MODEL_PATH_MAX];
	uint64_t *value;
	enum stat_kind *kind;
	size_t n, cap;
};

static int
note_value(const struct model_stat *st, void *arg)
{
	struct values *v = arg;

	if (st->meta->kind == STAT_NONE) {
		return 0;
	}
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 256;
		v->path = realloc(v->path, v->cap * sizeof(*v->path));
		v->value = realloc(v->value, v->cap * sizeof(*v->value));
		v->kind = realloc(v->kind, v->cap * sizeof(*v->kind));
		assert_non_null(v->path);
		assert_non_null(v->value);
		assert_non_null(v->kind);
	}
	snprintf(v->path[v->n], MODEL_PATH_MAX, "%s", st->path);
	v->value[v->n] = st->value;
	v->kind[v->n] = st->meta->kind;
	v->n++;
	return 0;
}

static void
values_free(struct values *v)
{
	free(v->path);
	free(v->value);
	free(v->kind);
}

static void
test_monotonic(void **state)
{
	struct snapshot s[N_COLLECTIONS];
	struct values v[N_COLLECTIONS] = {{0}};
	size_t grew = 0, counters = 0;

	run(5, s, N_COLLECTIONS);
	for (unsigned k = 0; k < N_COLLECTIONS; k++) {
		for (unsigned i = 0; i < 3; i++) {
			model_walk(reply(&s[k], i), NULL, note_value, &v[k]);
		}
	}
	for (unsigned k = 1; k < N_COLLECTIONS; k++) {
		/* Same shape every time: same statistics, same order. */
		assert_int_equal(v[k].n, v[0].n);
		for (size_t i = 0; i < v[k].n; i++) {
			assert_string_equal(v[k].path[i], v[0].path[i]);
			if (v[k].kind[i] != STAT_COUNTER) {
				continue;
			}
			counters++;
			if (v[k].value[i] < v[k - 1].value[i]) {
				fail_msg("%s went from %llu to %llu",
				         v[k].path[i],
				         (unsigned long long)v[k - 1].value[i],
				         (unsigned long long)v[k].value[i]);
			}
			grew += v[k].value[i] > v[k - 1].value[i];
		}
	}
	/* Rare events (most error-table slots) may stay put for a while;
	 * traffic and negotiations move every second. */
	assert_true(counters > 0);
	assert_true(grew > 0);
	static const char *const busy[] = {
	    "statistics.inboundTrafficStatistics.totalSuccessfulPackets",
	    "statistics.outboundTrafficStatistics.tunnelByteCount",
	    "statistics.ikeV2Statistics.v4Statistics.totalQuickModesStarted",
	    "statistics.ikeV2Statistics.v4Statistics.totalSuccessfulQuickModes",
	    "hbas[0].SessionStatistics[0].BytesSent",
	};
	for (size_t b = 0; b < sizeof(busy) / sizeof(busy[0]); b++) {
		size_t i = 0;

		while (i < v[0].n && strcmp(v[0].path[i], busy[b]) != 0) {
			i++;
		}
		if (i == v[0].n) {
			fail_msg("no statistic %s", busy[b]);
		}
		for (unsigned k = 1; k < N_COLLECTIONS; k++) {
			if (v[k].value[i] <= v[k - 1].value[i]) {
				fail_msg("%s did not move", busy[b]);
			}
		}
	}
	for (unsigned k = 0; k < N_COLLECTIONS; k++) {
		values_free(&v[k]);
		snapshot_free(&s[k]);
	}
}

/* Named together with procfs, the sim does not add a second XFRM MIB. */
static void
test_with_procfs(void **state)
{
	static const char mib[] = "XfrmInError\t0\nXfrmInNoStates\t5\n";
	struct procfs_records *pr = NULL;
	struct sim_records r = {.seed = 1, .collection = 0};
	struct stats_tree t;

	assert_int_equal(procfs_parse(mib, sizeof(mib) - 1, &pr), 0);
	stats_tree_init(&t);
	procfs_provider.contribute(pr, &t);
	sim_provider.contribute(&r, &t);
	assert_int_equal(t.ipsec_response.n_xfrm_mib, 2);
	assert_string_equal(t.ipsec_response.xfrm_mib[1]->name,
	                    "XfrmInNoStates");
	assert_int_equal(t.ipsec_response.xfrm_mib[1]->value, 5);
	stats_tree_release(&t);
	procfs_provider.records_free(pr);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* --sim-sas 1000: 1000 listed SAs with distinct SPIs, counted by the
 * aggregate, and their counters grow from one collection to the next. */
static void
test_sa_listing(void **state)
{
	enum { NSAS = 1000 };
	struct agent_config cfg = {.sim_seed = 3, .sim_sas = NSAS};
	struct stats_tree t[2];
	uint32_t *spis = calloc(2 * NSAS, sizeof(*spis));
	void *st = NULL;

	assert_non_null(spis);
	assert_int_equal(sim_provider.init(&cfg, &st), 0);
	for (unsigned k = 0; k < 2; k++) {
		void *records = NULL;

		assert_int_equal(sim_provider.collect(st, &records), 0);
		stats_tree_init(&t[k]);
		sim_provider.contribute(records, &t[k]);
		/* The tree keeps working once the records are gone. */
		sim_provider.records_free(records);
	}
	sim_provider.fini(st);

	const Secstat__V1__ListSecurityAssociationsResponse *l0 =
	    &t[0].sa_response;
	const Secstat__V1__ListSecurityAssociationsResponse *l1 =
	    &t[1].sa_response;
	const Secstat__V1__IpsecAggregateSaStatistics *agg = &t[0].ipsec_sa;

	assert_int_equal(l0->n_ipsec_sas, NSAS);
	assert_int_equal(l1->n_ipsec_sas, NSAS);
	assert_true(agg->has_active_sas);
	assert_int_equal(agg->active_sas, NSAS);
	assert_int_equal(agg->total_sas_added - agg->total_sas_deleted, NSAS);
	for (unsigned i = 0; i < NSAS; i++) {
		const Secstat__V1__IpsecSaDetail *a = l0->ipsec_sas[i];
		const Secstat__V1__IpsecSaDetail *b = l1->ipsec_sas[i];

		assert_true(a->has_spi_in && a->has_spi_out);
		assert_non_null(a->local_address);
		assert_non_null(a->encryption_algorithm);
		assert_int_equal(a->spi_in, b->spi_in);
		assert_true(b->bytes_in > a->bytes_in);
		assert_true(b->bytes_out > a->bytes_out);
		assert_true(b->packets_in >= a->packets_in);
		spis[2 * i] = a->spi_in;
		spis[2 * i + 1] = a->spi_out;
	}
	qsort(spis, 2 * NSAS, sizeof(*spis), cmp_u32);
	for (unsigned i = 1; i < 2 * NSAS; i++) {
		assert_true(spis[i] != spis[i - 1]);
	}
	free(spis);
	stats_tree_release(&t[0]);
	stats_tree_release(&t[1]);

	/* Without --sim-sas nothing is listed. */
	struct snapshot s;

	run(3, &s, 1);
	assert_int_equal(s.tree.sa_response.n_ipsec_sas, 0);
	snapshot_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ops),
	    cmocka_unit_test(test_determinism),
	    cmocka_unit_test(test_pure_contribute),
	    cmocka_unit_test(test_seeds_differ),
	    cmocka_unit_test(test_every_statistic),
	    cmocka_unit_test(test_invariants),
	    cmocka_unit_test(test_monotonic),
	    cmocka_unit_test(test_with_procfs),
	    cmocka_unit_test(test_sa_listing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
