/*
 * The iscsi provider: the open-iscsi initiator's hosts, sessions and
 * connections from sysfs (iscsi_sysfs.h), each connection's statistics
 * over NETLINK_ISCSI (iscsi_nl.h), mapped onto the MSiSCSI_* classes.
 * Per-HBA IPsec statistics are joined from the IPsec SAs earlier
 * providers (xfrm, vici) put in the tree. docs/sources/iscsi.md has every
 * rule.
 *
 * What tests need is exposed here: collection with an injected
 * statistics source, the 32-to-64-bit widening, the SA coverage rule.
 */
#ifndef SECSTAT_PROVIDER_ISCSI_H
#define SECSTAT_PROVIDER_ISCSI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iscsi_nl.h"
#include "iscsi_sysfs.h"
#include "provider.h"
#include "secstat/v1/sa.pb-c.h"

struct stats_tree;

extern const struct provider_ops iscsi_provider;

/* How long one connection's statistics may take to arrive. */
#define ISCSI_STATS_TIMEOUT_MS 500

/* One connection's statistics, widened: monotonic 64-bit values. */
struct iscsi_conn_stats {
	bool present;
	uint64_t txdata_octets;
	uint64_t rxdata_octets;
	uint64_t counters[ISCSI_NL_COUNTERS];
};

/* One collection; owns everything it points to. */
struct iscsi_records {
	struct iscsi_sysfs sys;
	struct iscsi_conn_stats *stats; /* one per sys.conns[i] */
	/* 0 when every connection's statistics were read; otherwise why
	 * some or all are absent (-EPERM/-EACCES: denied). */
	int stats_status;
	/* Per sys.hosts[i]: sessions seen entering FAILED since the agent
	 * started (sampled at each collection). */
	uint64_t *host_failures;
};

/* Widening state of one connection across collections. */
struct iscsi_widen {
	uint32_t sid;
	uint32_t cid;
	uint64_t last_tx, last_rx; /* raw 64-bit octets last seen */
	uint64_t base_tx, base_rx; /* carried over connection restarts */
	uint32_t last[ISCSI_NL_COUNTERS];
	uint64_t wide[ISCSI_NL_COUNTERS];
};

/*
 * Folds one raw reading into `w` and writes the monotonic values to
 * `out`. `first`: `w` holds nothing yet. A 32-bit counter that went down
 * wrapped (it advanced by the modular difference); 64-bit octet counters
 * that went down mean the kernel connection was re-created (iscsid
 * recovery): every counter restarted at 0, so the new raw values are
 * added to what was counted before.
 */
void iscsi_widen_update(struct iscsi_widen *w, bool first,
                        const struct iscsi_nl_stats *raw,
                        struct iscsi_conn_stats *out);

/* A statistics source: the netlink one, or a replay in tests. Returns 0,
 * or a negative errno that leaves this connection's statistics absent. */
typedef int (*iscsi_stats_fn)(void *arg, const struct iscsi_sysfs_host *h,
                              uint32_t sid, uint32_t cid,
                              struct iscsi_nl_stats *out);

/* The provider's collect() with its statistics source replaced. */
int iscsi_collect_with(void *state, iscsi_stats_fn fn, void *arg,
                       void **records);

/*
 * Whether IPsec SA `sa` (as the xfrm or vici provider listed it) carries
 * the TCP connection between initiator address `local` (NULL: unknown)
 * and portal `portal`:`port`. See docs/sources/iscsi.md, "Per-HBA IPsec".
 */
bool iscsi_sa_covers(const Secstat__V1__IpsecSaDetail *sa, const char *local,
                     const char *portal, uint32_t port);

/* Whether traffic selector text ("192.0.2.0/24", "192.0.2.1/32[tcp/3260]",
 * "::/0[tcp]") admits TCP to or from `addr`:`port`. */
bool iscsi_ts_covers(const char *ts, const char *addr, uint32_t port);

#endif /* SECSTAT_PROVIDER_ISCSI_H */
