/*
 * The model one snapshot is built in: every Windows statistics structure
 * allocated up front and wired together, all fields absent. Providers set
 * what they observe (TREE_SET / TREE_ADD); after every provider has
 * contributed, stats_tree_finish() prunes the blocks nobody filled, so
 * absent stays absent on the wire. Dynamic parts (namespaces, XFRM MIB
 * counters, iSCSI HBAs) come from the tree's arena and die with it.
 */
#ifndef SECSTAT_AGENT_STATS_TREE_H
#define SECSTAT_AGENT_STATS_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "secstat/v1/ike.pb-c.h"
#include "secstat/v1/ipsec.pb-c.h"
#include "secstat/v1/iscsi.pb-c.h"
#include "secstat/v1/sa.pb-c.h"
#include "secstat/v1/service.pb-c.h"

#include "arena.h"

/* IKEEXT_ERROR_CODE_COUNT and ERROR_IPSEC_IKE_NEG_STATUS_BEGIN. */
#define IKE_ERROR_CODE_COUNT 97
#define IKE_ERROR_CODE_BASE  13800

enum key_module {
	KEY_MODULE_IKE = 0, /* IKEv1 */
	KEY_MODULE_AUTHIP = 1,
	KEY_MODULE_IKEV2 = 2,
	KEY_MODULE_COUNT
};

enum ip_version { IP_V4 = 0, IP_V6 = 1, IP_VERSION_COUNT };

/*
 * SPIs of the IPsec SAs whose traffic is already counted in the tree.
 * Providers contribute in registry order (kernel first); a later source
 * that sees the same SA (an IKE daemon listing its CHILD_SAs) skips the
 * SPIs found here, so nothing is counted twice. Open addressing in the
 * tree's arena.
 */
struct spi_set {
	uint32_t *slots; /* 0 = empty; SPI 0 is reserved by RFC 4303 */
	size_t cap;      /* power of two */
	size_t n;
};

struct stats_tree {
	struct arena arena;
	struct spi_set counted_spis;

	/* IPSEC_STATISTICS1 */
	Secstat__V1__IpsecStatistics ipsec;
	Secstat__V1__IpsecAggregateSaStatistics ipsec_sa;
	Secstat__V1__IpsecEspDropPacketStatistics ipsec_esp_drop;
	Secstat__V1__IpsecAhDropPacketStatistics ipsec_ah_drop;
	Secstat__V1__IpsecAggregateDropPacketStatistics ipsec_drop;
	Secstat__V1__IpsecTrafficStatistics ipsec_in;
	Secstat__V1__IpsecTrafficStatistics ipsec_out;
	Secstat__V1__IpsecGetStatisticsResponse ipsec_response;

	/* IKEEXT_STATISTICS1 */
	Secstat__V1__IkeextStatistics ike;
	Secstat__V1__IkeextKeymoduleStatistics km[KEY_MODULE_COUNT];
	Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics
	    km_ip[KEY_MODULE_COUNT][IP_VERSION_COUNT];
	uint64_t km_errors[KEY_MODULE_COUNT][IKE_ERROR_CODE_COUNT];
	Secstat__V1__IkeextCommonStatistics common;
	Secstat__V1__IkeextIpVersionSpecificCommonStatistics
	    common_ip[IP_VERSION_COUNT];
	Secstat__V1__IkeextGetStatisticsResponse ike_response;

	/* iSCSI */
	Secstat__V1__IscsiGetStatisticsResponse iscsi_response;

	/* Per-SA detail (ListSecurityAssociations) */
	Secstat__V1__ListSecurityAssociationsResponse sa_response;

	/* Per-host data of a relay (RelayGetHosts) */
	Secstat__V1__RelayHostsResponse relay_response;
};

/* Sets an optional field: TREE_SET(&t->ipsec_sa, active_sas, n). */
#define TREE_SET(msg, field, v)                                                \
	do {                                                                   \
		(msg)->field = (v);                                            \
		(msg)->has_##field = 1;                                        \
	} while (0)

/* Adds to an optional field, making it present. */
#define TREE_ADD(msg, field, v)                                                \
	do {                                                                   \
		if (!(msg)->has_##field) {                                     \
			(msg)->field = 0;                                      \
			(msg)->has_##field = 1;                                \
		}                                                              \
		(msg)->field += (v);                                           \
	} while (0)

/* Initialises an empty tree; stats_tree_release() frees it. */
void stats_tree_init(struct stats_tree *t);
void stats_tree_release(struct stats_tree *t);

/* The error-frequency table of a key module, made present (all zeros)
 * on first use: a provider calls this only when it classifies failures. */
uint64_t *stats_tree_ike_errors(struct stats_tree *t, enum key_module km);

/* Appends an XFRM MIB counter (name copied) to the host-wide list. */
void stats_tree_add_xfrm_mib(struct stats_tree *t, const char *name,
                             uint64_t value);

/* Appends an empty namespace block (name copied) and returns it; its
 * statistics sub-messages are allocated and wired, all absent. */
Secstat__V1__NamespaceIpsecStatistics *
stats_tree_add_namespace(struct stats_tree *t, const char *netns);

/* Appends an iSCSI HBA (instance name copied) and returns it. */
Secstat__V1__IscsiHba *stats_tree_add_hba(struct stats_tree *t,
                                          const char *instance_name);

/* Appends an empty IKE SA, an IPsec SA not owned by a listed IKE SA, a
 * CHILD_SA of `ike`, or a configured connection. Strings the caller sets
 * must live as long as the tree: use arena_strdup(&t->arena, ...). */
Secstat__V1__IkeSaDetail *stats_tree_add_ike_sa(struct stats_tree *t);
Secstat__V1__IpsecSaDetail *stats_tree_add_ipsec_sa(struct stats_tree *t);
Secstat__V1__IpsecSaDetail *
stats_tree_add_child_sa(struct stats_tree *t, Secstat__V1__IkeSaDetail *ike);
Secstat__V1__ConnectionDetail *stats_tree_add_connection(struct stats_tree *t);
/* Appends an empty per-tunnel totals entry (same string rule). */
Secstat__V1__TunnelDetail *stats_tree_add_tunnel(struct stats_tree *t);

/* Records that the traffic of the SA with this SPI is in the tree. */
void stats_tree_note_spi(struct stats_tree *t, uint32_t spi);
/* Whether an earlier provider already counted the SA with this SPI. */
bool stats_tree_spi_counted(const struct stats_tree *t, uint32_t spi);

/* Prunes every block no provider filled. Call once, after the last
 * contribution. */
void stats_tree_finish(struct stats_tree *t);

#endif /* SECSTAT_AGENT_STATS_TREE_H */
