/*
 * The vici provider: strongSwan's charon through its vici socket
 * (--vici URI, default unix:///var/run/charon.vici).
 *
 * Two connections. The command connection is used by collect() only:
 * version, stats, list-sas, list-conns and get-counters, one command at a
 * time, every packet bounded by VICI_IDLE_MS. The event connection
 * belongs to a thread of the provider, registered for ike-updown,
 * child-updown, ike-rekey, child-rekey and log: negotiation outcomes
 * happen between collections and are only visible as events, so they
 * are read as they come (charon queues events for a slow reader without
 * bound) and accumulated under a mutex; collect() copies the totals.
 *
 * CHILD_SA traffic is kept monotonic across rekeys and teardowns: every
 * CHILD_SA (by unique id and inbound SPI) is tracked with the largest
 * counters seen for it, from list-sas or from the final counters that
 * child-rekey and child-updown events carry; an SA that no longer appears
 * in list-sas is folded into retired totals, overall and per tunnel
 * (struct vici_tunnel). docs/sources/vici.md is the field-by-field
 * mapping.
 */
#ifndef SECSTAT_PROVIDER_VICI_H
#define SECSTAT_PROVIDER_VICI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "provider.h"
#include "vici_codec.h"
#include "vici_conn.h"

/* Longest wait for the next packet of a reply. */
#define VICI_IDLE_MS 1500
/* Longest connect. */
#define VICI_CONNECT_MS 1000
/* Upper bound of one whole collection (a list-sas of many SAs streams
 * many packets, each within VICI_IDLE_MS). */
#define VICI_COLLECT_MAX_MS 10000
/* Event connection reconnect backoff. */
#define VICI_BACKOFF_MIN_MS 100
#define VICI_BACKOFF_MAX_MS 5000

enum vici_km { VICI_KM_IKEV1 = 0, VICI_KM_IKEV2 = 1, VICI_KM_COUNT };
enum vici_fam { VICI_V4 = 0, VICI_V6 = 1, VICI_FAM_COUNT };
enum vici_dir { VICI_IN = 0, VICI_OUT = 1, VICI_DIR_COUNT };

/* Negotiation outcomes seen as events, per key module and family. */
struct vici_neg {
	uint64_t mm_ok;      /* ike-updown up */
	uint64_t mm_failed;  /* ike-updown down before ESTABLISHED */
	uint64_t mm_resp_ok; /* ... of those, as responder */
	uint64_t mm_resp_failed;
	uint64_t qm_ok;     /* child-updown up, child-rekey */
	uint64_t qm_failed; /* log: CHILD_SA not established */
};

/* IPsec traffic by Windows category, one direction. */
struct vici_traffic {
	uint64_t encrypted;
	uint64_t auth_ah;
	uint64_t auth_esp;
	uint64_t transport;
	uint64_t tunnel;
	uint64_t packets;
};

/* Everything accumulated from events since the agent started. */
struct vici_acc {
	bool events_up;       /* the four SA events were registered once */
	bool log_up;          /* log events too: failures classified */
	uint64_t event_drops; /* event connection losses */
	struct vici_neg neg[VICI_KM_COUNT][VICI_FAM_COUNT];
	uint64_t errors[VICI_KM_COUNT][97]; /* index = code - 13800 */
	uint64_t sas_added; /* unidirectional SAs: 2 per CHILD_SA */
	uint64_t sas_deleted;
	uint64_t rekeys; /* CHILD_SA rekeys */
	/* Retired CHILD_SA traffic: [0] SAs whose ESP ran in charon
	 * (kernel-libipsec), [1] SAs in the kernel. */
	struct vici_traffic retired[2][VICI_DIR_COUNT];
};

/* Bounds of the per-tunnel accounting: names and selectors longer than
 * these are cut, selectors beyond VICI_TS_MAX per side are left out, and
 * tunnels beyond VICI_TUNNELS_MAX are not tracked (their traffic still
 * counts in the host-wide totals). */
#define VICI_NAME_MAX    64
#define VICI_TS_MAX      4
#define VICI_TS_LEN      64
#define VICI_TUNNELS_MAX 4096

/*
 * One tunnel = one CHILD_SA name of one connection (IKE_SA name): every
 * CHILD_SA of that name, across rekeys and re-establishments, adds to it,
 * so its totals never go backwards while the agent runs. Properties are
 * those of its latest CHILD_SA.
 */
struct vici_tunnel {
	char conn[VICI_NAME_MAX]; /* IKE_SA (connection) name */
	char name[VICI_NAME_MAX]; /* CHILD_SA name */
	bool has_reqid;
	uint32_t reqid;
	uint8_t cls;   /* VICI_CLS_* */
	uint8_t proto; /* VICI_PROTO_* */
	bool kernel;   /* SAs in the kernel (not kernel-libipsec) */
	char local[VICI_TS_LEN], remote[VICI_TS_LEN]; /* IKE_SA hosts */
	char lts[VICI_TS_MAX][VICI_TS_LEN];
	char rts[VICI_TS_MAX][VICI_TS_LEN];
	uint8_t n_lts, n_rts;
	/* Final counters of its CHILD_SAs that are gone (folded). */
	uint64_t bytes[VICI_DIR_COUNT];
	uint64_t packets[VICI_DIR_COUNT];
	/* From events (acc.events_up): unidirectional SAs, 2 per CHILD_SA,
	 * and CHILD_SA rekeys. */
	uint64_t added, deleted, rekeys;
};

#define VICI_PROTO_ESP 1
#define VICI_PROTO_AH  2

/* One tracked CHILD_SA. */
struct vici_child {
	uint32_t uniqueid;
	uint32_t spi_in, spi_out;
	uint32_t tun; /* its tunnel: index + 1 in the tunnel table, 0 = none */
	uint8_t cls;  /* VICI_CLS_* bits */
	bool kernel;  /* SA in the kernel (not kernel-libipsec) */
	uint64_t bytes[VICI_DIR_COUNT];
	uint64_t packets[VICI_DIR_COUNT];
	uint64_t seen_gen; /* list-sas generation that last listed it */
};

#define VICI_CLS_ENCRYPTED 0x01
#define VICI_CLS_AUTH_ESP  0x02
#define VICI_CLS_AH        0x04
#define VICI_CLS_TUNNEL    0x08
#define VICI_CLS_TRANSPORT 0x10

/* One collection: the daemon's replies plus the accumulated totals. */
struct vici_records {
	struct vici_msg version;
	bool has_version;
	struct vici_msg stats;
	bool has_stats;
	struct vici_msg counters; /* absent: counters plugin not loaded */
	bool has_counters;
	struct vici_msg *sas; /* one list-sa event per IKE_SA */
	size_t n_sas;
	struct vici_msg *conns; /* one list-conn event per connection */
	size_t n_conns;
	bool userspace_esp; /* kernel-libipsec loaded */
	struct vici_acc acc;
	struct vici_child *live; /* tracked CHILD_SAs, largest counters */
	size_t n_live;
	struct vici_tunnel *tunnels; /* live[].tun indexes this (+1) */
	size_t n_tunnels;
};

struct vici_state;

extern const struct provider_ops vici_provider;

/* State without threads or sockets, for tests that feed messages. */
struct vici_state *vici_state_new(const char *uri);
void vici_state_free(struct vici_state *s);
/* Applies one event packet (as the event thread does). */
void vici_handle_event(struct vici_state *s, const struct vici_packet *p);
/*
 * Builds records from decoded replies, updating the CHILD_SA tracking
 * as collect() does; takes ownership of every message (also on error).
 * `counters` NULL = the counters plugin is absent.
 */
int vici_records_make(struct vici_state *s, struct vici_msg *version,
                      struct vici_msg *stats, struct vici_msg *counters,
                      struct vici_msg *sas, size_t n_sas,
                      struct vici_msg *conns, size_t n_conns,
                      struct vici_records **out);
void vici_records_free(struct vici_records *r);
/* Adds records to a tree (the provider's contribute). */
void vici_contribute(const struct vici_records *r, struct stats_tree *t);
/* Collects through the command connection of `s` (collect()). */
int vici_collect(struct vici_state *s, struct vici_records **out);

/* The Win32 IKE error (13801..13896) a charon log message names as the
 * reason a negotiation failed, or 0. */
unsigned vici_classify_log(const char *msg);

#endif /* SECSTAT_PROVIDER_VICI_H */
