/*
 * The xfrm provider: the kernel's IPsec SAs over NETLINK_XFRM, in the
 * agent's own network namespace and in every --netns NAME
 * (/run/netns/NAME). Per namespace it dumps the SAD, asks for the SAD
 * and SPD counts, reads the SA multicast groups (adds, deletes, rekeys,
 * expiries, acquires) and keeps monotonic per-tunnel totals across
 * rekeys (xfrm_totals.h); for named namespaces it also reads their
 * /proc/net/xfrm_stat. docs/sources/xfrm.md maps every field.
 *
 * The records are exposed so that tests can build them without a kernel
 * and check the mapping (xfrm_contribute).
 */
#ifndef SECSTAT_PROVIDER_XFRM_H
#define SECSTAT_PROVIDER_XFRM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "provider.h"
#include "secstat/v1/ipsec.pb-c.h"

#include "xfrm_parse.h"
#include "xfrm_totals.h"

/* One SA of a dump with the direction the provider decided for it. */
struct xfrm_sa_rec {
	struct xfrm_sa sa;
	enum xfrm_dir dir;
};

/* One tunnel's monotonic totals. */
struct xfrm_tun_rec {
	struct xfrm_tunnel_key key;
	uint8_t mode;
	bool encrypting;
	bool authenticating;
	bool offloaded;
	bool has_sel; /* sel: the selector of its latest SA */
	struct xfrm_selector sel;
	struct xfrm_counts total;
	/* Its SAs added, deleted and rekeyed since the agent started, and
	 * its complete SAs in the SAD now. */
	uint64_t added;
	uint64_t deleted;
	uint64_t rekeys;
	uint64_t live;
};

struct xfrm_mib_rec {
	char name[64];
	uint64_t value;
};

/* What one collection saw in one namespace. */
struct xfrm_ns_rec {
	char *name; /* "" = the agent's own namespace */
	int status; /* 0, or why nothing was collected (block left out) */
	struct xfrm_sadinfo sad;
	struct xfrm_spdinfo spd;
	struct xfrm_sa_rec *sas;
	size_t n_sas;
	struct xfrm_tun_rec *tuns;
	size_t n_tuns;
	/* Event counters since the agent started (xfrm_totals). */
	uint64_t added;
	uint64_t deleted;
	uint64_t rekeys;
	uint64_t acquires;
	uint64_t resyncs;
	/* /proc/net/xfrm_stat of the namespace, when readable. */
	bool has_mib;
	struct xfrm_mib_rec *mib;
	size_t n_mib;
	/* The same file mapped onto the drop block by the procfs
	 * provider's own mapping, so both providers map it identically. */
	bool has_drop;
	Secstat__V1__IpsecAggregateDropPacketStatistics drop;
};

struct xfrm_records {
	/* Per-namespace blocks are emitted only when named namespaces are
	 * collected too (--netns). */
	bool per_namespace;
	size_t n_ns;
	struct xfrm_ns_rec *ns; /* [0] is the agent's own namespace */
};

extern const struct provider_ops xfrm_provider;

/* activeTunnels of one namespace: distinct (reqid, family, unordered
 * pair of outer addresses) over its complete tunnel-mode ESP/AH SAs. */
uint64_t xfrm_active_tunnels(const struct xfrm_ns_rec *r);

/* Appends one TunnelDetail per tunnel of the namespace to the listing,
 * a tunnel's inbound and outbound directions merged into one entry when
 * they form a pair (same reqid, family and protocol; the outbound
 * direction's source is the inbound one's destination and vice versa). */
void xfrm_add_tunnels(struct stats_tree *t, const struct xfrm_ns_rec *r);

/* The contribute op, for tests. */
void xfrm_contribute(const void *records, struct stats_tree *tree);
/* Frees records built by collect or by a test (every pointer from
 * malloc). */
void xfrm_records_free(void *records);

#endif /* SECSTAT_PROVIDER_XFRM_H */
