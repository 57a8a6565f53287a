/*
 * A simulated host. Each collection advances the host's clock by one
 * simulated second; every value is computed from (seed, clock) alone.
 *
 * Building blocks:
 * - counter(): a per-host rate q/1024 events per second, plus jitter
 *   smaller than one second's worth, which keeps it strictly growing
 *   (or flat for rates under one per second) while not looking linear;
 * - gauge(): a level drawn anew at each instant within a range;
 * - everything else is derived from those by sums, differences of one
 *   counter at two instants, and fixed fractions, so the invariants hold
 *   by construction: successful + failed <= started, active = added -
 *   deleted, session = sum of its connections, error table sum = failed
 *   negotiations, total drops = sum of drop reasons.
 */
#include "sim.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "stats_tree.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The simulated host has been up between one hour and one day. */
#define SIM_UPTIME_MIN 3600
#define SIM_UPTIME_MAX 86400

struct sim {
	uint64_t seed;
	uint64_t now; /* simulated seconds since boot */
};

/* Tags of the independent series; the numbers only need to differ. */
enum sim_tag {
	TAG_UPTIME = 1,
	TAG_ERR,
	TAG_MM_OK,
	TAG_QM_OK,
	TAG_EM_OK,
	TAG_MM_LIFE,
	TAG_QM_LIFE,
	TAG_EM_LIFE,
	TAG_RESPONDER,
	TAG_ACQUIRE,
	TAG_IMPERSONATION,
	TAG_NEG_TIME,
	TAG_SOCKET,
	TAG_COMMON,
	TAG_SA,
	TAG_ESP_DROP,
	TAG_AH_DROP,
	TAG_DROP,
	TAG_TRAFFIC,
	TAG_SIZE,
	TAG_XFRM,
	TAG_HBA,
	TAG_SESSION,
	TAG_CONN,
	TAG_LOGIN,
	TAG_MM_ISCSI,
	TAG_QM_ISCSI,
	TAG_REQ_TIME,
	TAG_SA_LIST,
};

static uint64_t
mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
key(enum sim_tag tag, unsigned a, unsigned b, unsigned c)
{
	return ((uint64_t)tag << 48) ^ ((uint64_t)(a & 0xffff) << 32) ^
	       ((uint64_t)(b & 0xffff) << 16) ^ (uint64_t)(c & 0xffff);
}

static uint64_t
rnd(const struct sim *s, uint64_t k, uint64_t salt)
{
	return mix64(s->seed ^ mix64(k ^ mix64(salt)));
}

/* A constant of this host in [lo, hi]. */
static uint64_t
param(const struct sim *s, uint64_t k, uint64_t lo, uint64_t hi)
{
	return lo + rnd(s, k, UINT64_MAX) % (hi - lo + 1);
}

/* The series `k` at time `at`, with a host-chosen rate of [qlo, qhi]/1024
 * events per second, drawn with a finer grain (1/65536) so that slow
 * series of different hosts and keys rarely coincide. Strictly growing
 * when the rate reaches 2/s (jitter below one second's increment), else
 * growing in steps. */
static uint64_t
counter_at(const struct sim *s, uint64_t k, uint64_t qlo, uint64_t qhi,
           uint64_t at)
{
	uint64_t q = param(s, k, qlo << 6, (qhi << 6) + 63);
	uint64_t v = (at * q) >> 16;
	uint64_t r = q >> 16;

	if (r >= 2) {
		v += rnd(s, k, at) % r;
	}
	return v;
}

static uint64_t
counter(const struct sim *s, uint64_t k, uint64_t qlo, uint64_t qhi)
{
	return counter_at(s, k, qlo, qhi, s->now);
}

/* A level in [lo, hi], redrawn every second. */
static uint64_t
gauge(const struct sim *s, uint64_t k, uint64_t lo, uint64_t hi)
{
	return lo + rnd(s, k, s->now ^ 0x6a09e667f3bcc908ULL) % (hi - lo + 1);
}

/* `v` scaled by a host-chosen fraction in [lo, hi]/256; growing when `v`
 * grows, never above `v` for hi <= 256. */
static uint64_t
part(const struct sim *s, uint64_t k, uint64_t v, uint64_t lo, uint64_t hi)
{
	return v / 256 * param(s, k, lo, hi) +
	       v % 256 * param(s, k, lo, hi) / 256;
}

/* ------------------------------------------------------------------ IKE */

/*
 * Error-table slots each phase fails with (index = Win32 code - 13800,
 * names in docs/data-model.md). Failures are counted per code and IP
 * version; a phase's failed total is the sum over its codes, so the
 * table always adds up to the failed negotiations.
 */
static const unsigned mm_codes[] = {1, 2, 5, 6, 13, 22, 25, 26, 46, 47, 85, 87};
static const unsigned qm_codes[] = {7, 10, 15, 21, 68, 84, 94, 95};
static const unsigned em_codes[] = {27, 51, 92};

enum phase { PHASE_MM, PHASE_QM, PHASE_EM, PHASE_COUNT };

static const struct phase_def {
	const unsigned *codes;
	size_t n_codes;
	enum sim_tag ok_tag;
	enum sim_tag life_tag;
	uint64_t ok_q[KEY_MODULE_COUNT]; /* max rate, 1/1024 per s */
} phases[PHASE_COUNT] = {
    [PHASE_MM] =
        {mm_codes, N(mm_codes), TAG_MM_OK, TAG_MM_LIFE, {2048, 1024, 4096}},
    [PHASE_QM] =
        {qm_codes, N(qm_codes), TAG_QM_OK, TAG_QM_LIFE, {6144, 3072, 12288}},
    [PHASE_EM] = {em_codes, N(em_codes), TAG_EM_OK, TAG_EM_LIFE, {0, 1024, 0}},
};

static bool
phase_exists(enum phase p, unsigned m)
{
	/* Extended mode is AuthIP's alone. */
	return p != PHASE_EM || m == KEY_MODULE_AUTHIP;
}

static uint64_t
failures_at(const struct sim *s, unsigned m, unsigned v, unsigned code,
            uint64_t at)
{
	return counter_at(s, key(TAG_ERR, m, v, code), 0, 6, at);
}

static uint64_t
failed_at(const struct sim *s, enum phase p, unsigned m, unsigned v,
          uint64_t at)
{
	uint64_t f = 0;

	if (!phase_exists(p, m)) {
		return 0;
	}
	for (size_t i = 0; i < phases[p].n_codes; i++) {
		f += failures_at(s, m, v, phases[p].codes[i], at);
	}
	return f;
}

static uint64_t
successful_at(const struct sim *s, enum phase p, unsigned m, unsigned v,
              uint64_t at)
{
	uint64_t qhi = phases[p].ok_q[m] >> v; /* IPv6 runs at half rate */

	if (!phase_exists(p, m)) {
		return 0;
	}
	return counter_at(s, key(phases[p].ok_tag, m, v, 0), qhi / 8, qhi, at);
}

/* A negotiation started at t ends (either way) by t + 1: started(t) is
 * completed(t + 1), and the difference is what is pending now. */
struct phase_values {
	uint64_t started, successful, failed, pending, active;
};

static struct phase_values
phase_values(const struct sim *s, enum phase p, unsigned m, unsigned v)
{
	struct phase_values pv = {0};
	uint64_t life;

	if (!phase_exists(p, m)) {
		return pv;
	}
	pv.successful = successful_at(s, p, m, v, s->now);
	pv.failed = failed_at(s, p, m, v, s->now);
	pv.started = successful_at(s, p, m, v, s->now + 1) +
	             failed_at(s, p, m, v, s->now + 1);
	pv.pending = pv.started - pv.successful - pv.failed;
	/* An SA lives `life` seconds; those established since are up. */
	life = param(s, key(phases[p].life_tag, m, v, 0), 120, 1800);
	pv.active = pv.successful - successful_at(s, p, m, v, s->now - life);
	return pv;
}

static uint64_t
sa_deleted(const struct sim *s, unsigned m, unsigned v)
{
	uint64_t life = param(s, key(TAG_QM_LIFE, m, v, 0), 120, 1800);

	return successful_at(s, PHASE_QM, m, v, s->now - life);
}

static void
sim_ike(const struct sim *s, struct stats_tree *t)
{
	for (unsigned m = 0; m < KEY_MODULE_COUNT; m++) {
		Secstat__V1__IkeextKeymoduleStatistics *km = &t->km[m];
		uint64_t *errors = stats_tree_ike_errors(t, m);
		bool authip = m == KEY_MODULE_AUTHIP;

		for (unsigned v = 0; v < IP_VERSION_COUNT; v++) {
			Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics
			    *ip = &t->km_ip[m][v];
			struct phase_values mm =
			    phase_values(s, PHASE_MM, m, v);
			struct phase_values qm =
			    phase_values(s, PHASE_QM, m, v);
			struct phase_values em =
			    phase_values(s, PHASE_EM, m, v);
			uint64_t acquires = part(s, key(TAG_ACQUIRE, m, v, 0),
			                         qm.started, 64, 192);

			TREE_SET(ip, current_active_main_modes, mm.active);
			TREE_SET(ip, total_main_modes_started, mm.started);
			TREE_SET(ip, total_successful_main_modes,
			         mm.successful);
			TREE_SET(ip, total_failed_main_modes, mm.failed);
			TREE_SET(ip, total_responder_main_modes,
			         part(s, key(TAG_RESPONDER, m, v, 0),
			              mm.started, 32, 224));
			TREE_SET(ip, current_new_responder_main_modes,
			         part(s, key(TAG_RESPONDER, m, v, 1),
			              mm.pending, 32, 224));
			TREE_SET(ip, current_active_quick_modes, qm.active);
			TREE_SET(ip, total_quick_modes_started, qm.started);
			TREE_SET(ip, total_successful_quick_modes,
			         qm.successful);
			TREE_SET(ip, total_failed_quick_modes, qm.failed);
			TREE_SET(ip, total_acquires, acquires);
			TREE_SET(ip, total_reinit_acquires,
			         part(s, key(TAG_ACQUIRE, m, v, 1), acquires, 4,
			              32));
			/* Windows defines the extended-mode and
			 * impersonation fields for AuthIP only; the other
			 * modules report them as 0. */
			TREE_SET(ip, current_active_extended_modes, em.active);
			TREE_SET(ip, total_extended_modes_started, em.started);
			TREE_SET(ip, total_successful_extended_modes,
			         em.successful);
			TREE_SET(ip, total_failed_extended_modes, em.failed);
			TREE_SET(ip, total_impersonation_extended_modes,
			         authip
			             ? part(s, key(TAG_IMPERSONATION, m, v, 0),
			                    em.successful, 16, 128)
			             : 0);
			TREE_SET(ip, total_impersonation_main_modes,
			         authip
			             ? part(s, key(TAG_IMPERSONATION, m, v, 1),
			                    mm.successful, 16, 128)
			             : 0);

			for (unsigned p = 0; p < PHASE_COUNT; p++) {
				if (!phase_exists(p, m)) {
					continue;
				}
				for (size_t i = 0; i < phases[p].n_codes; i++) {
					unsigned code = phases[p].codes[i];

					errors[code] +=
					    failures_at(s, m, v, code, s->now);
				}
			}
		}
		TREE_SET(km, main_mode_negotiation_time,
		         gauge(s, key(TAG_NEG_TIME, m, 0, 0), 40, 400));
		TREE_SET(km, quick_mode_negotiation_time,
		         gauge(s, key(TAG_NEG_TIME, m, 1, 0), 10, 120));
		TREE_SET(km, extended_mode_negotiation_time,
		         authip ? gauge(s, key(TAG_NEG_TIME, m, 2, 0), 20, 200)
		                : 0);
	}

	uint64_t received = 0;

	for (unsigned v = 0; v < IP_VERSION_COUNT; v++) {
		TREE_SET(&t->common_ip[v], total_socket_receive_failures,
		         counter(s, key(TAG_SOCKET, v, 0, 0), 1, 8));
		TREE_SET(&t->common_ip[v], total_socket_send_failures,
		         counter(s, key(TAG_SOCKET, v, 1, 0), 1, 8));
		/* Every negotiation takes two messages from the peer. */
		for (unsigned m = 0; m < KEY_MODULE_COUNT; m++) {
			for (unsigned p = 0; p < PHASE_COUNT; p++) {
				received +=
				    2 * phase_values(s, p, m, v).started;
			}
		}
	}
	uint64_t invalid = counter(s, key(TAG_COMMON, 0, 0, 0), 4, 64);
	/* Plus keepalives and informational exchanges. */
	received += invalid + counter(s, key(TAG_COMMON, 1, 0, 0), 256, 2048);
	TREE_SET(&t->common, total_packets_received, received);
	TREE_SET(&t->common, total_invalid_packets_received, invalid);
	TREE_SET(&t->common, current_queued_workitems,
	         gauge(s, key(TAG_COMMON, 2, 0, 0), 0, 8));
}

/* ---------------------------------------------------------------- IPsec */

/* Traffic categories: each byte is ESP with a cipher, ESP with integrity
 * only, or AH, and is in transport or in tunnel mode. */
enum traffic_cat {
	CAT_ESP_ENC_TRANSPORT,
	CAT_ESP_ENC_TUNNEL,
	CAT_ESP_NULL_TRANSPORT,
	CAT_ESP_NULL_TUNNEL,
	CAT_AH_TRANSPORT,
	CAT_AH_TUNNEL,
	CAT_COUNT
};

static const uint64_t cat_rate[CAT_COUNT] = {
    [CAT_ESP_ENC_TRANSPORT] = 400 << 10, [CAT_ESP_ENC_TUNNEL] = 800 << 10,
    [CAT_ESP_NULL_TRANSPORT] = 20 << 10, [CAT_ESP_NULL_TUNNEL] = 10 << 10,
    [CAT_AH_TRANSPORT] = 5 << 10,        [CAT_AH_TUNNEL] = 2 << 10,
};

static void
sim_traffic(const struct sim *s, unsigned dir,
            Secstat__V1__IpsecTrafficStatistics *ts)
{
	uint64_t bytes[CAT_COUNT], packets = 0;

	for (unsigned c = 0; c < CAT_COUNT; c++) {
		uint64_t p = counter(s, key(TAG_TRAFFIC, dir, c, 0),
		                     cat_rate[c] / 4, cat_rate[c]);

		/* A fixed mean packet size per category and direction. */
		bytes[c] = p * param(s, key(TAG_SIZE, dir, c, 0), 64, 1400);
		packets += p;
	}
	uint64_t enc = bytes[CAT_ESP_ENC_TRANSPORT] + bytes[CAT_ESP_ENC_TUNNEL];
	uint64_t null =
	    bytes[CAT_ESP_NULL_TRANSPORT] + bytes[CAT_ESP_NULL_TUNNEL];

	TREE_SET(ts, encrypted_byte_count, enc);
	TREE_SET(ts, authenticated_ah_byte_count,
	         bytes[CAT_AH_TRANSPORT] + bytes[CAT_AH_TUNNEL]);
	/* ESP always carries integrity here, ciphered or not. */
	TREE_SET(ts, authenticated_esp_byte_count, enc + null);
	TREE_SET(ts, transport_byte_count,
	         bytes[CAT_ESP_ENC_TRANSPORT] + bytes[CAT_ESP_NULL_TRANSPORT] +
	             bytes[CAT_AH_TRANSPORT]);
	TREE_SET(ts, tunnel_byte_count,
	         bytes[CAT_ESP_ENC_TUNNEL] + bytes[CAT_ESP_NULL_TUNNEL] +
	             bytes[CAT_AH_TUNNEL]);
	TREE_SET(ts, offload_byte_count,
	         part(s, key(TAG_TRAFFIC, dir, CAT_COUNT, 0),
	              bytes[CAT_ESP_ENC_TRANSPORT], 0, 64));
	TREE_SET(ts, total_successful_packets, packets);
}

/* The XFRM MIB of kernel 6.1, in its order. */
static const char *const xfrm_names[] = {
    "XfrmInError",
    "XfrmInBufferError",
    "XfrmInHdrError",
    "XfrmInNoStates",
    "XfrmInStateProtoError",
    "XfrmInStateModeError",
    "XfrmInStateSeqError",
    "XfrmInStateExpired",
    "XfrmInStateMismatch",
    "XfrmInStateInvalid",
    "XfrmInTmplMismatch",
    "XfrmInNoPols",
    "XfrmInPolBlock",
    "XfrmInPolError",
    "XfrmOutError",
    "XfrmOutBundleGenError",
    "XfrmOutBundleCheckError",
    "XfrmOutNoStates",
    "XfrmOutStateProtoError",
    "XfrmOutStateModeError",
    "XfrmOutStateSeqError",
    "XfrmOutStateExpired",
    "XfrmOutPolBlock",
    "XfrmOutPolDead",
    "XfrmOutPolError",
    "XfrmFwdHdrError",
    "XfrmOutStateInvalid",
    "XfrmAcquireError",
};

static void
sim_xfrm_mib(const struct sim *s, struct stats_tree *t)
{
	const Secstat__V1__IpsecAggregateDropPacketStatistics *d =
	    &t->ipsec_drop;

	/* A real MIB already there (procfs named too): keep one list. */
	if (t->ipsec_response.n_xfrm_mib > 0) {
		return;
	}

	/* The inbound drops as Linux would have counted them (the procfs
	 * mapping read backwards; a decryption failure is a protocol error
	 * there, a NAT-T encapsulation mismatch a state mismatch), so that
	 * the XfrmIn* counters and XfrmAcquireError add up to
	 * totalDropPacketsInbound. */
	for (size_t i = 0; i < N(xfrm_names); i++) {
		const char *n = xfrm_names[i];
		uint64_t v = 0;

		if (strcmp(n, "XfrmInNoStates") == 0) {
			v = d->invalid_spis_on_inbound;
		} else if (strcmp(n, "XfrmInStateProtoError") == 0) {
			v = d->authentication_failures_on_inbound +
			    d->decryption_failures_on_inbound;
		} else if (strcmp(n, "XfrmInStateSeqError") == 0) {
			v = d->replay_check_failures_on_inbound;
		} else if (strcmp(n, "XfrmInStateMismatch") == 0) {
			v = d->receive_over_incorrect_sa_inbound +
			    d->udp_esp_validation_failures_on_inbound;
		} else if (strcmp(n, "XfrmAcquireError") == 0) {
			v = d->sa_not_initialized_on_inbound;
		} else if (strcmp(n, "XfrmInNoPols") == 0) {
			v = d->secure_receives_not_matching_filters;
		} else if (strcmp(n, "XfrmInTmplMismatch") == 0) {
			v = d->invalid_clear_text_inbound;
		} else if (strncmp(n, "XfrmOut", 7) == 0) {
			v = counter(s, key(TAG_XFRM, (unsigned)i, 0, 0), 0, 6);
		}
		stats_tree_add_xfrm_mib(t, n, v);
	}
}

/* ------------------------------------------------------- SA listing */

/*
 * --sim-sas N: N listed IPsec SAs. Everything constant about an SA
 * (SPIs, addresses, algorithms, mode, rates) is drawn once at init; a
 * collection only moves the clock, and the byte and packet counters are
 * rate * age at that clock, so a snapshot costs one pass over the table.
 */
struct sim_sa {
	uint32_t spi_in, spi_out;
	uint32_t born;    /* simulated second the SA was installed */
	uint16_t size_in; /* mean packet size, bytes */
	uint16_t size_out;
	uint32_t rate_in; /* bytes per second */
	uint32_t rate_out;
	uint8_t alg; /* index into sa_algs */
	bool tunnel;
	char local[16];
	char remote[16];
};

struct sim_sa_table {
	atomic_uint refs;
	unsigned n;
	unsigned n_tunnel;
	struct sim_sa sas[];
};

static const struct {
	const char *enc;
	const char *integ;
} sa_algs[] = {
    {"aes-gcm-16-256", NULL},
    {"aes-gcm-16-128", NULL},
    {"aes-cbc-256", "hmac-sha2-256-128"},
    {"aes-cbc-128", "hmac-sha1-96"},
    {"chacha20-poly1305", NULL},
};

static struct sim_sa_table *
sim_sa_table_new(uint64_t seed, unsigned n, uint64_t uptime)
{
	struct sim s = {.seed = seed};
	struct sim_sa_table *tab =
	    malloc(sizeof(*tab) + (size_t)n * sizeof(tab->sas[0]));
	/* SPIs: an odd multiplier and a xor are bijections of the 32-bit
	 * numbers, so the 2n SPIs are distinct and still look random. */
	uint32_t spi_x = (uint32_t)rnd(&s, key(TAG_SA_LIST, 0, 0, 0), 0);
	uint32_t spi_m = (uint32_t)rnd(&s, key(TAG_SA_LIST, 1, 0, 0), 0) | 1;

	if (tab == NULL) {
		return NULL;
	}
	atomic_init(&tab->refs, 1);
	tab->n = n;
	tab->n_tunnel = 0;
	for (unsigned i = 0; i < n; i++) {
		struct sim_sa *sa = &tab->sas[i];
		uint64_t r = rnd(&s, key(TAG_SA_LIST, 2, 0, 0), i);
		uint64_t r2 = rnd(&s, key(TAG_SA_LIST, 3, 0, 0), i);

		sa->spi_in = (uint32_t)(2 * (uint64_t)i) * spi_m ^ spi_x;
		sa->spi_out = (uint32_t)(2 * (uint64_t)i + 1) * spi_m ^ spi_x;
		sa->born = (uint32_t)(r % uptime);
		sa->alg = (uint8_t)((r >> 32) % N(sa_algs));
		sa->tunnel = (r >> 40) % 4 != 0; /* three in four */
		sa->size_in = (uint16_t)(64 + (r2 & 0xffff) % 1337);
		sa->size_out = (uint16_t)(64 + ((r2 >> 16) & 0xffff) % 1337);
		sa->rate_in = (uint32_t)(1 + (r2 >> 32) % (1 << 20));
		sa->rate_out = (uint32_t)(1 + (r2 >> 52) * 256);
		/* This host is 10.0.0.0/8; its peers are in 172.16.0.0/12. */
		snprintf(sa->local, sizeof(sa->local), "10.%u.%u.%u",
		         (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
		snprintf(sa->remote, sizeof(sa->remote), "172.%u.%u.%u",
		         16 + ((i >> 16) & 0x0f), (i >> 8) & 0xff,
		         (i & 0xff) ^ 0x80);
		tab->n_tunnel += sa->tunnel;
	}
	return tab;
}

static struct sim_sa_table *
sim_sa_table_ref(struct sim_sa_table *tab)
{
	if (tab != NULL) {
		atomic_fetch_add(&tab->refs, 1);
	}
	return tab;
}

static void
sim_sa_table_unref(struct sim_sa_table *tab)
{
	if (tab != NULL && atomic_fetch_sub(&tab->refs, 1) == 1) {
		free(tab);
	}
}

static void
sim_sa_list(const struct sim *s, const struct sim_sa_table *tab,
            struct stats_tree *t)
{
	for (unsigned i = 0; i < tab->n; i++) {
		const struct sim_sa *sa = &tab->sas[i];
		Secstat__V1__IpsecSaDetail *d = stats_tree_add_ipsec_sa(t);
		uint64_t age = s->now - sa->born;
		uint64_t in = (uint64_t)sa->rate_in * age;
		uint64_t out = (uint64_t)sa->rate_out * age;

		d->source = "sim";
		d->state = "INSTALLED";
		d->mode = sa->tunnel ? "tunnel" : "transport";
		d->protocol = "esp";
		/* The tree outlives the records: copy the addresses. */
		d->local_address = arena_strdup(&t->arena, sa->local);
		d->remote_address = arena_strdup(&t->arena, sa->remote);
		d->encryption_algorithm = (char *)sa_algs[sa->alg].enc;
		d->integrity_algorithm = (char *)sa_algs[sa->alg].integ;
		TREE_SET(d, unique_id, i + 1);
		TREE_SET(d, reqid, i + 1);
		TREE_SET(d, spi_in, sa->spi_in);
		TREE_SET(d, spi_out, sa->spi_out);
		TREE_SET(d, bytes_in, in);
		TREE_SET(d, packets_in, in / sa->size_in);
		TREE_SET(d, bytes_out, out);
		TREE_SET(d, packets_out, out / sa->size_out);
	}
}

/* ---------------------------------------------------------------- IPsec */

static void
sim_ipsec(const struct sim *s, const struct sim_sa_table *sas,
          struct stats_tree *t)
{
	uint64_t added = 0, deleted = 0, pending = 0;

	/* Every quick mode installs an inbound and an outbound SA and
	 * deletes both when it ends. */
	for (unsigned m = 0; m < KEY_MODULE_COUNT; m++) {
		for (unsigned v = 0; v < IP_VERSION_COUNT; v++) {
			struct phase_values qm =
			    phase_values(s, PHASE_QM, m, v);

			added += 2 * qm.successful;
			deleted += 2 * sa_deleted(s, m, v);
			pending += qm.pending;
		}
	}
	uint64_t active = added - deleted;

	/* With a listing, the SAs up are the listed ones: activeSas is its
	 * length and totalSasAdded = totalSasDeleted + activeSas still holds.
	 */
	if (sas != NULL) {
		active = sas->n;
		added = deleted + active;
	}
	TREE_SET(&t->ipsec_sa, active_sas, active);
	TREE_SET(&t->ipsec_sa, pending_sa_negotiations, pending);
	TREE_SET(&t->ipsec_sa, total_sas_added, added);
	TREE_SET(&t->ipsec_sa, total_sas_deleted, deleted);
	TREE_SET(&t->ipsec_sa, successful_rekeys,
	         part(s, key(TAG_SA, 0, 0, 0), deleted / 2, 128, 240));
	TREE_SET(&t->ipsec_sa, active_tunnels,
	         sas != NULL
	             ? sas->n_tunnel
	             : part(s, key(TAG_SA, 1, 0, 0), active / 2, 64, 192));
	TREE_SET(&t->ipsec_sa, offloaded_sas,
	         part(s, key(TAG_SA, 2, 0, 0), active, 0, 64));

	Secstat__V1__IpsecEspDropPacketStatistics *esp = &t->ipsec_esp_drop;
	Secstat__V1__IpsecAhDropPacketStatistics *ah = &t->ipsec_ah_drop;
	Secstat__V1__IpsecAggregateDropPacketStatistics *d = &t->ipsec_drop;

	TREE_SET(esp, invalid_spis_on_inbound,
	         counter(s, key(TAG_ESP_DROP, 0, 0, 0), 8, 64));
	TREE_SET(esp, decryption_failures_on_inbound,
	         counter(s, key(TAG_ESP_DROP, 1, 0, 0), 1, 8));
	TREE_SET(esp, authentication_failures_on_inbound,
	         counter(s, key(TAG_ESP_DROP, 2, 0, 0), 2, 16));
	TREE_SET(esp, replay_check_failures_on_inbound,
	         counter(s, key(TAG_ESP_DROP, 3, 0, 0), 4, 32));
	TREE_SET(esp, sa_not_initialized_on_inbound,
	         counter(s, key(TAG_ESP_DROP, 4, 0, 0), 1, 8));
	TREE_SET(ah, invalid_spis_on_inbound,
	         counter(s, key(TAG_AH_DROP, 0, 0, 0), 1, 8));
	TREE_SET(ah, authentication_failures_on_inbound,
	         counter(s, key(TAG_AH_DROP, 1, 0, 0), 1, 4));
	TREE_SET(ah, replay_check_failures_on_inbound,
	         counter(s, key(TAG_AH_DROP, 2, 0, 0), 1, 4));
	TREE_SET(ah, sa_not_initialized_on_inbound,
	         counter(s, key(TAG_AH_DROP, 3, 0, 0), 0, 2));

	/* The aggregate block covers every protocol: ESP + AH, plus the
	 * reasons only it has. */
	TREE_SET(d, invalid_spis_on_inbound,
	         esp->invalid_spis_on_inbound + ah->invalid_spis_on_inbound);
	TREE_SET(d, decryption_failures_on_inbound,
	         esp->decryption_failures_on_inbound);
	TREE_SET(d, authentication_failures_on_inbound,
	         esp->authentication_failures_on_inbound +
	             ah->authentication_failures_on_inbound);
	TREE_SET(d, udp_esp_validation_failures_on_inbound,
	         counter(s, key(TAG_DROP, 0, 0, 0), 1, 8));
	TREE_SET(d, replay_check_failures_on_inbound,
	         esp->replay_check_failures_on_inbound +
	             ah->replay_check_failures_on_inbound);
	TREE_SET(d, invalid_clear_text_inbound,
	         counter(s, key(TAG_DROP, 1, 0, 0), 8, 96));
	TREE_SET(d, sa_not_initialized_on_inbound,
	         esp->sa_not_initialized_on_inbound +
	             ah->sa_not_initialized_on_inbound);
	TREE_SET(d, receive_over_incorrect_sa_inbound,
	         counter(s, key(TAG_DROP, 2, 0, 0), 1, 8));
	TREE_SET(d, secure_receives_not_matching_filters,
	         counter(s, key(TAG_DROP, 3, 0, 0), 1, 16));
	TREE_SET(d, total_drop_packets_inbound,
	         d->invalid_spis_on_inbound +
	             d->decryption_failures_on_inbound +
	             d->authentication_failures_on_inbound +
	             d->udp_esp_validation_failures_on_inbound +
	             d->replay_check_failures_on_inbound +
	             d->invalid_clear_text_inbound +
	             d->sa_not_initialized_on_inbound +
	             d->receive_over_incorrect_sa_inbound +
	             d->secure_receives_not_matching_filters);

	sim_traffic(s, 0, &t->ipsec_in);
	sim_traffic(s, 1, &t->ipsec_out);
	sim_xfrm_mib(s, t);
	if (sas != NULL) {
		sim_sa_list(s, sas, t);
	}
}

/* ---------------------------------------------------------------- iSCSI */

#define SIM_MAX_HBAS     3
#define SIM_MAX_SESSIONS 2
#define SIM_MAX_CONNS    2
/* Bytes of iSCSI basic header segment per PDU, and of ESP overhead per
 * packet (header, IV, padding, ICV). */
#define ISCSI_BHS    48
#define ESP_OVERHEAD 56

static void *
tree_new(struct stats_tree *t, size_t size)
{
	return arena_alloc(&t->arena, size);
}

static char *tree_printf(struct stats_tree *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static char *
tree_printf(struct stats_tree *t, const char *fmt, ...)
{
	char buf[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return arena_strdup(&t->arena, buf);
}

struct conn_sums {
	uint64_t bytes_sent, bytes_received, cmds, rsps, digest, timeout;
	uint64_t pdus_sent, pdus_received;
};

static Secstat__V1__MsiscsiConnectionStatistics *
sim_connection(const struct sim *s, struct stats_tree *t, unsigned h,
               unsigned se, unsigned c, const char *target, uint64_t usid,
               uint64_t adapter, struct conn_sums *sum)
{
	Secstat__V1__MsiscsiConnectionStatistics *cs = tree_new(t, sizeof(*cs));
	uint64_t k = key(TAG_CONN, h, se, c);
	uint64_t cmds = counter(s, k, 1 << 10, 1 << 14);
	/* A response follows its command within the second. */
	uint64_t rsps = counter_at(s, k, 1 << 10, 1 << 14, s->now - 1);
	uint64_t wsz = param(s, key(TAG_CONN, h, se, c + 100), 512, 8192);
	uint64_t rsz = param(s, key(TAG_CONN, h, se, c + 200), 512, 65536);
	uint64_t nops = s->now / 30; /* NOP-Out / NOP-In every 30 s */

	secstat__v1__msiscsi_connection_statistics__init(cs);
	cs->iscsi_name = (char *)target;
	TREE_SET(cs, cid, c);
	TREE_SET(cs, usid, usid);
	TREE_SET(cs, unique_adapter_id, adapter);
	TREE_SET(cs, bytes_sent, cmds * wsz);
	TREE_SET(cs, bytes_received, rsps * rsz);
	TREE_SET(cs, pdu_commands_sent, cmds);
	TREE_SET(cs, pdu_responses_received, rsps);
	cs->state = "LOGGED_IN";
	cs->address = tree_printf(t, "192.0.2.%u", 100 + h);
	cs->persistent_address = cs->address;
	TREE_SET(cs, port, 3260);
	TREE_SET(cs, persistent_port, 3260);
	TREE_SET(cs, digest_errors,
	         counter(s, key(TAG_CONN, h, se, c + 300), 0, 2));
	TREE_SET(cs, timeout_errors,
	         counter(s, key(TAG_CONN, h, se, c + 400), 0, 2));
	/* Commands, one Data-Out PDU per four commands, NOP-Outs. */
	TREE_SET(cs, pdus_sent, cmds + cmds / 4 + nops);
	/* Responses, one Data-In PDU per two responses, NOP-Ins. */
	TREE_SET(cs, pdus_received, rsps + rsps / 2 + nops);

	sum->bytes_sent += cs->bytes_sent;
	sum->bytes_received += cs->bytes_received;
	sum->cmds += cmds;
	sum->rsps += rsps;
	sum->digest += cs->digest_errors;
	sum->timeout += cs->timeout_errors;
	sum->pdus_sent += cs->pdus_sent;
	sum->pdus_received += cs->pdus_received;
	return cs;
}

static void
sim_hba(const struct sim *s, struct stats_tree *t, unsigned h,
        unsigned *session_no)
{
	char name[32];
	Secstat__V1__IscsiHba *hba;
	uint64_t adapter = rnd(s, key(TAG_HBA, h, 0, 0), 0) | 1;
	unsigned n_sessions = 1 + (unsigned)param(s, key(TAG_HBA, h, 1, 0), 0,
	                                          SIM_MAX_SESSIONS - 1);
	struct conn_sums hs = {0};
	uint64_t format = 0;

	snprintf(name, sizeof(name), "host%u", h);
	hba = stats_tree_add_hba(t, name);
	TREE_SET(hba, unique_adapter_id, adapter);
	hba->initiator_name =
	    tree_printf(t, "iqn.2026-11.org.secstat.sim:host%u-%u",
	                (unsigned)(s->seed & 0xffff), h);
	hba->ip_address = tree_printf(t, "192.0.2.%u", 10 + h);
	hba->netdev = tree_printf(t, "eth%u", h);

	hba->n_sessions = n_sessions;
	hba->sessions = tree_new(t, n_sessions * sizeof(*hba->sessions));
	hba->n_request_time_statistics = 0;
	hba->request_time_statistics =
	    tree_new(t, n_sessions * SIM_MAX_CONNS *
	                    sizeof(*hba->request_time_statistics));

	for (unsigned se = 0; se < n_sessions; se++) {
		Secstat__V1__MsiscsiSessionStatistics *ss =
		    tree_new(t, sizeof(*ss));
		unsigned n_conns =
		    1 + (unsigned)param(s, key(TAG_SESSION, h, se, 0), 0,
		                        SIM_MAX_CONNS - 1);
		uint64_t usid = ((uint64_t)(h + 1) << 32) | (se + 1);
		struct conn_sums cs = {0};
		char *target = tree_printf(
		    t, "iqn.2026-11.org.secstat.sim:target%u.%u", h, se);

		secstat__v1__msiscsi_session_statistics__init(ss);
		ss->iscsi_name = target;
		TREE_SET(ss, usid, usid);
		TREE_SET(ss, unique_adapter_id, adapter);
		ss->n_connections = n_conns;
		ss->connections =
		    tree_new(t, n_conns * sizeof(*ss->connections));
		for (unsigned c = 0; c < n_conns; c++) {
			Secstat__V1__MsiscsiRequestTimeStatistics *rt =
			    tree_new(t, sizeof(*rt));
			uint64_t avg =
			    gauge(s, key(TAG_REQ_TIME, h, se, c), 1, 20);

			ss->connections[c] = sim_connection(
			    s, t, h, se, c, target, usid, adapter, &cs);
			secstat__v1__msiscsi_request_time_statistics__init(rt);
			rt->iscsi_name = target;
			TREE_SET(rt, cid, c);
			TREE_SET(rt, usid, usid);
			TREE_SET(rt, unique_adapter_id, adapter);
			TREE_SET(rt, average_processing_time, avg);
			TREE_SET(rt, maximum_processing_time,
			         avg + gauge(s,
			                     key(TAG_REQ_TIME, h, se, c + 100),
			                     0, 200));
			hba->request_time_statistics
			    [hba->n_request_time_statistics++] = rt;
		}
		/* A session's traffic is its connections' traffic. */
		TREE_SET(ss, bytes_sent, cs.bytes_sent);
		TREE_SET(ss, bytes_received, cs.bytes_received);
		TREE_SET(ss, pdu_commands_sent, cs.cmds);
		TREE_SET(ss, pdu_responses_received, cs.rsps);
		TREE_SET(ss, digest_errors, cs.digest);
		TREE_SET(ss, connection_timeout_errors, cs.timeout);
		TREE_SET(ss, format_errors,
		         counter(s, key(TAG_SESSION, h, se, 1), 0, 2));
		ss->state = "LOGGED_IN";
		ss->initiator_name = hba->initiator_name;
		TREE_SET(ss, tpgt, 1);
		ss->sysfs_name = tree_printf(t, "session%u", ++*session_no);
		hba->sessions[se] = ss;

		hs.bytes_sent += cs.bytes_sent;
		hs.bytes_received += cs.bytes_received;
		hs.digest += cs.digest;
		hs.timeout += cs.timeout;
		hs.pdus_sent += cs.pdus_sent;
		hs.pdus_received += cs.pdus_received;
		format += ss->format_errors;
	}

	/* The instance's error counts are its sessions' sums. */
	Secstat__V1__MsiscsiInitiatorInstanceStatistics *is =
	    tree_new(t, sizeof(*is));
	secstat__v1__msiscsi_initiator_instance_statistics__init(is);
	TREE_SET(is, unique_adapter_id, adapter);
	TREE_SET(is, session_digest_error_count, hs.digest);
	TREE_SET(is, session_connection_timeout_error_count, hs.timeout);
	TREE_SET(is, session_format_error_count, format);
	TREE_SET(is, session_failure_count,
	         counter(s, key(TAG_HBA, h, 2, 0), 0, 3));
	hba->initiator_instance_statistics = is;

	/* Logins: every session logged in at least once; failures are the
	 * failed responses plus the logins the initiator aborted. */
	Secstat__V1__MsiscsiInitiatorLoginStatistics *ls =
	    tree_new(t, sizeof(*ls));
	uint64_t other = counter(s, key(TAG_LOGIN, h, 0, 0), 0, 2);
	uint64_t authf = counter(s, key(TAG_LOGIN, h, 1, 0), 0, 2);
	uint64_t tauth = counter(s, key(TAG_LOGIN, h, 2, 0), 0, 1);
	uint64_t negf = counter(s, key(TAG_LOGIN, h, 3, 0), 0, 1);

	secstat__v1__msiscsi_initiator_login_statistics__init(ls);
	TREE_SET(ls, unique_adapter_id, adapter);
	TREE_SET(ls, login_accept_rsps,
	         n_sessions + counter(s, key(TAG_LOGIN, h, 4, 0), 0, 4));
	TREE_SET(ls, login_other_fail_rsps, other);
	TREE_SET(ls, login_redirect_rsps,
	         counter(s, key(TAG_LOGIN, h, 5, 0), 0, 1));
	TREE_SET(ls, login_auth_fail_rsps, authf);
	TREE_SET(ls, login_authenticate_fails, tauth);
	TREE_SET(ls, login_negotiate_fails, negf);
	TREE_SET(ls, logout_normals, counter(s, key(TAG_LOGIN, h, 6, 0), 0, 4));
	TREE_SET(ls, logout_other_codes,
	         counter(s, key(TAG_LOGIN, h, 7, 0), 0, 1));
	TREE_SET(ls, login_failures, other + authf + tauth + negf);
	hba->initiator_login_statistics = ls;

	/* One port; it carries the iSCSI data plus a header per PDU. */
	Secstat__V1__MsiscsiNicPerformance *nic = tree_new(t, sizeof(*nic));
	secstat__v1__msiscsi_nic_performance__init(nic);
	nic->port = hba->netdev;
	TREE_SET(nic, bytes_transmitted,
	         hs.bytes_sent + ISCSI_BHS * hs.pdus_sent);
	TREE_SET(nic, bytes_received,
	         hs.bytes_received + ISCSI_BHS * hs.pdus_received);
	TREE_SET(nic, pdu_transmitted, hs.pdus_sent);
	TREE_SET(nic, pdu_received, hs.pdus_received);
	hba->n_nic_performance = 1;
	hba->nic_performance = tree_new(t, sizeof(*hba->nic_performance));
	hba->nic_performance[0] = nic;

	/* The HBA's traffic is protected by host-to-host transport-mode
	 * ESP: one SA pair per negotiation, an SA pair lives `life`. */
	Secstat__V1__MsiscsiQmIpsecStats *qm = tree_new(t, sizeof(*qm));
	uint64_t kq = key(TAG_QM_ISCSI, h, 0, 0);
	uint64_t life = param(s, key(TAG_QM_ISCSI, h, 1, 0), 600, 3600);
	uint64_t negos = 1 + counter(s, kq, 4, 16);
	uint64_t gone = 1 + counter_at(s, kq, 4, 16, s->now - life);

	secstat__v1__msiscsi_qm_ipsec_stats__init(qm);
	TREE_SET(qm, active_sa, 2 * (negos - gone) + 2);
	TREE_SET(qm, pending_key_operations,
	         gauge(s, key(TAG_QM_ISCSI, h, 2, 0), 0, 1));
	TREE_SET(qm, key_additions, 2 * negos);
	TREE_SET(qm, key_deletions, 2 * (gone - 1));
	TREE_SET(qm, re_keys, gone - 1);
	TREE_SET(qm, active_tunnels, 0);
	TREE_SET(qm, bad_spi_packets,
	         counter(s, key(TAG_QM_ISCSI, h, 3, 0), 0, 2));
	TREE_SET(qm, packets_not_decrypted,
	         counter(s, key(TAG_QM_ISCSI, h, 4, 0), 0, 1));
	TREE_SET(qm, packets_not_authenticated,
	         counter(s, key(TAG_QM_ISCSI, h, 5, 0), 0, 1));
	TREE_SET(qm, packets_with_replay_detection,
	         nic->pdu_transmitted + nic->pdu_received);
	TREE_SET(qm, confidential_bytes_sent,
	         nic->bytes_transmitted + ESP_OVERHEAD * nic->pdu_transmitted);
	TREE_SET(qm, confidential_bytes_received,
	         nic->bytes_received + ESP_OVERHEAD * nic->pdu_received);
	TREE_SET(qm, authenticated_bytes_sent, 0);
	TREE_SET(qm, authenticated_bytes_received, 0);
	TREE_SET(qm, transport_bytes_sent, qm->confidential_bytes_sent);
	TREE_SET(qm, transport_bytes_received, qm->confidential_bytes_received);
	TREE_SET(qm, tunnel_bytes_sent, 0);
	TREE_SET(qm, tunnel_bytes_received, 0);
	hba->qm_ipsec_stats = qm;

	/* Main mode: one IKE negotiation per quick mode here. */
	Secstat__V1__MsiscsiMmIpsecStats *mm = tree_new(t, sizeof(*mm));
	uint64_t km = key(TAG_MM_ISCSI, h, 0, 0);
	uint64_t auth_fail = counter(s, km + 1, 0, 1);
	uint64_t spi_fail = counter(s, km + 2, 0, 1);

	secstat__v1__msiscsi_mm_ipsec_stats__init(mm);
	TREE_SET(mm, active_acquire, gauge(s, km + 3, 0, 1));
	TREE_SET(mm, active_receive, gauge(s, km + 4, 0, 3));
	TREE_SET(mm, acquire_failures, counter(s, km + 5, 0, 1));
	TREE_SET(mm, receive_failures, counter(s, km + 6, 0, 1));
	TREE_SET(mm, send_failures, counter(s, km + 7, 0, 1));
	TREE_SET(mm, acquire_heap_size, gauge(s, km + 8, 0, 4));
	TREE_SET(mm, receive_heap_size, gauge(s, km + 9, 0, 8));
	TREE_SET(mm, negotiation_failures,
	         auth_fail + counter(s, km + 10, 0, 2));
	TREE_SET(mm, authentication_failures, auth_fail);
	TREE_SET(mm, invalid_cookies_received, counter(s, km + 11, 0, 2));
	TREE_SET(mm, total_get_spi, negos + spi_fail);
	TREE_SET(mm, key_additions, negos);
	TREE_SET(mm, key_updates, negos);
	TREE_SET(mm, get_spi_failures, spi_fail);
	TREE_SET(mm, key_addition_failures, counter(s, km + 12, 0, 1));
	TREE_SET(mm, key_update_failures, counter(s, km + 13, 0, 1));
	TREE_SET(mm, connection_list_size, qm->active_sa / 2);
	TREE_SET(mm, oakley_main_mode, negos);
	TREE_SET(mm, oakley_quick_mode, negos);
	TREE_SET(mm, invalid_packets, counter(s, km + 14, 0, 2));
	TREE_SET(mm, soft_associations, counter(s, km + 15, 0, 1));
	hba->mm_ipsec_stats = mm;
}

static void
sim_iscsi(const struct sim *s, struct stats_tree *t)
{
	unsigned n_hbas = 1 + (unsigned)param(s, key(TAG_HBA, 0xffff, 0, 0), 0,
	                                      SIM_MAX_HBAS - 1);
	unsigned session_no = 0;

	for (unsigned h = 0; h < n_hbas; h++) {
		sim_hba(s, t, h, &session_no);
	}
}

/* ------------------------------------------------------------- provider */

struct sim_state {
	uint64_t seed;
	uint64_t collections;
	struct sim_sa_table *sas;
};

static uint64_t
sim_uptime(uint64_t seed)
{
	struct sim s = {.seed = seed};

	return param(&s, key(TAG_UPTIME, 0, 0, 0), SIM_UPTIME_MIN,
	             SIM_UPTIME_MAX);
}

static int
sim_probe(const struct agent_config *cfg, char *what, size_t len)
{
	(void)what;
	(void)len;
	/* Always available; the core runs simulated providers only when
	 * they are named. */
	return 0;
}

static int
sim_init(const struct agent_config *cfg, void **state)
{
	struct sim_state *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		return -ENOMEM;
	}
	s->seed = cfg != NULL ? cfg->sim_seed : 1;
	if (cfg != NULL && cfg->sim_sas > 0) {
		s->sas = sim_sa_table_new(s->seed, cfg->sim_sas,
		                          sim_uptime(s->seed));
		if (s->sas == NULL) {
			free(s);
			return -ENOMEM;
		}
	}
	*state = s;
	return 0;
}

static int
sim_collect(void *state, void **records)
{
	struct sim_state *s = state;
	struct sim_records *r = malloc(sizeof(*r));

	if (r == NULL) {
		return -ENOMEM;
	}
	r->seed = s->seed;
	r->collection = s->collections++;
	r->sas = sim_sa_table_ref(s->sas);
	*records = r;
	return 0;
}

static void
sim_contribute(const void *records, struct stats_tree *t)
{
	const struct sim_records *r = records;
	struct sim s = {.seed = r->seed};

	s.now = sim_uptime(r->seed) + r->collection;
	sim_ipsec(&s, r->sas, t);
	sim_ike(&s, t);
	sim_iscsi(&s, t);
}

static void
sim_records_free(void *records)
{
	struct sim_records *r = records;

	if (r != NULL) {
		sim_sa_table_unref(r->sas);
	}
	free(r);
}

static void
sim_fini(void *state)
{
	struct sim_state *s = state;

	if (s != NULL) {
		sim_sa_table_unref(s->sas);
	}
	free(s);
}

const struct provider_ops sim_provider = {
    .abi_version = PROVIDER_ABI_VERSION,
    .name = "sim",
    .description = "Simulated host: deterministic values for every field",
    .families = PROVIDES_IPSEC | PROVIDES_IKE | PROVIDES_ISCSI,
    .simulated = true,
    .probe = sim_probe,
    .init = sim_init,
    .collect = sim_collect,
    .contribute = sim_contribute,
    .records_free = sim_records_free,
    .fini = sim_fini,
};
