/*
 * Pure parsing of NETLINK_XFRM messages (uapi <linux/xfrm.h>) into plain
 * records: no sockets, no allocation, every length checked, so the
 * functions here can be fed arbitrary bytes (unit tests, fuzzers).
 *
 * Keys: XFRMA_ALG_* attributes carry the SA's key material after the
 * algorithm name. The parser keeps only the names and overwrites the key
 * bytes in the caller's buffer as soon as it has seen them, so no key
 * survives the parse, neither in the records nor in the receive buffer.
 */
#ifndef SECSTAT_PROVIDER_XFRM_PARSE_H
#define SECSTAT_PROVIDER_XFRM_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/xfrm.h>

/* CRYPTO_MAX_ALG_NAME of the kernel (xfrm_algo.alg_name[64]). */
#define XFRM_ALG_NAME_MAX 64

/* XFRMA_SA_DIR and its values appeared in Linux 6.10; the uapi headers
 * of older distributions lack them, the numbers are fixed ABI. */
#define XFRM_PARSE_ATTR_SA_DIR 33
#define XFRM_PARSE_DIR_IN      1
#define XFRM_PARSE_DIR_OUT     2

/* What kind of message a record came from. */
enum xfrm_msg_kind {
	XFRM_KIND_NONE = 0,
	XFRM_KIND_NEWSA, /* dump reply or NEWSA event */
	XFRM_KIND_UPDSA, /* SA updated (larval SA completed by an IKE daemon) */
	XFRM_KIND_DELSA, /* SA deleted; carries its final counters */
	XFRM_KIND_EXPIRE, /* soft (rekey due) or hard (SA gone) expiry */
	XFRM_KIND_ACQUIRE,
	XFRM_KIND_FLUSHSA, /* every SA of one protocol deleted at once */
};

/* One kernel SA as the parser saw it. Addresses are in network order. */
struct xfrm_sa {
	enum xfrm_msg_kind kind;
	bool hard; /* EXPIRE: hard expiry (the kernel deletes the SA) */

	uint16_t family; /* AF_INET / AF_INET6 (outer addresses) */
	uint8_t proto;   /* IPPROTO_ESP / IPPROTO_AH / IPPROTO_COMP */
	uint8_t mode;    /* XFRM_MODE_* */
	uint8_t flags;   /* XFRM_STATE_* */
	uint8_t dir;     /* XFRM_PARSE_DIR_*, 0 when the kernel did not say */
	uint32_t spi;    /* host order */
	uint32_t reqid;
	xfrm_address_t daddr;
	xfrm_address_t saddr;
	struct xfrm_selector sel;

	/* curlft and stats of xfrm_usersa_info */
	uint64_t bytes;
	uint64_t packets;
	uint64_t add_time;            /* wall-clock seconds */
	uint64_t use_time;            /* wall-clock seconds, 0 = never used */
	uint32_t replay_window_drops; /* xfrm_stats.replay_window */
	uint32_t replay;              /* xfrm_stats.replay */
	uint32_t integrity_failed;    /* xfrm_stats.integrity_failed */

	bool has_replay_state; /* XFRMA_REPLAY_VAL or XFRMA_REPLAY_ESN_VAL */
	bool esn;
	uint64_t oseq; /* highest sequence number sent (64 bit with ESN) */
	uint64_t seq;  /* highest sequence number received */

	bool has_lastused;
	uint64_t lastused;

	/* Algorithm names; "" when the attribute is absent. */
	char enc[XFRM_ALG_NAME_MAX];  /* XFRMA_ALG_CRYPT */
	char auth[XFRM_ALG_NAME_MAX]; /* XFRMA_ALG_AUTH or _AUTH_TRUNC */
	char aead[XFRM_ALG_NAME_MAX]; /* XFRMA_ALG_AEAD */
	char comp[XFRM_ALG_NAME_MAX]; /* XFRMA_ALG_COMP */

	bool encap;     /* XFRMA_ENCAP: UDP encapsulation (NAT-T) */
	bool offloaded; /* XFRMA_OFFLOAD_DEV */
	uint32_t offload_ifindex;

	unsigned unknown_attrs; /* attributes this parser does not know */
};

/* XFRM_MSG_NEWSADINFO */
struct xfrm_sadinfo {
	bool has_count;
	uint32_t
	    count; /* XFRMA_SAD_CNT: SAs in the SAD, larval ones included */
	bool has_hinfo;
	uint32_t hash_buckets;
	uint32_t hash_buckets_max;
};

/* XFRM_MSG_NEWSPDINFO */
struct xfrm_spdinfo {
	bool has_info;
	struct xfrmu_spdinfo info; /* policies per direction, socket ones too */
};

/*
 * Parses one SA message: a NEWSA/UPDSA (dump reply or event), a DELSA
 * event (xfrm_usersa_id + XFRMA_SA), an EXPIRE, an ACQUIRE (only the SA
 * id, addresses, selector and reqid are filled) or a FLUSHSA (only
 * proto). `buf` holds one netlink message of `len` bytes; key bytes in it
 * are overwritten; on failure all `len` bytes are, since a message that
 * cannot be walked may still hold keys. Returns 0, -EBADMSG when the
 * message is malformed or truncated, -EPROTO when it is not one of these
 * types.
 */
int xfrm_parse_sa(void *buf, size_t len, struct xfrm_sa *sa);

/* Parses XFRM_MSG_NEWSADINFO / XFRM_MSG_NEWSPDINFO. 0 or -EBADMSG /
 * -EPROTO as above. */
int xfrm_parse_sadinfo(const void *buf, size_t len, struct xfrm_sadinfo *out);
int xfrm_parse_spdinfo(const void *buf, size_t len, struct xfrm_spdinfo *out);

/* Whether the SA is a larval state: created by an ACQUIRE or by
 * XFRM_MSG_ALLOCSPI and not yet completed with algorithms by the key
 * manager. */
bool xfrm_parse_is_larval(const struct xfrm_sa *sa);

/* Whether the SA protects with a real cipher (ESP with an encryption
 * algorithm other than null, or an AEAD). */
bool xfrm_parse_is_encrypting(const struct xfrm_sa *sa);

/* Formats an address ("" for an unknown family). Returns buf. */
const char *xfrm_parse_addr_str(uint16_t family, const xfrm_address_t *a,
                                char *buf, size_t size);

/* Formats one side of a selector as "addr/prefix[proto/port]" (the
 * strongSwan notation): `source` picks saddr/sport, else daddr/dport.
 * The bracket is left out when the selector matches every protocol.
 * Returns buf. */
const char *xfrm_parse_selector_str(const struct xfrm_selector *sel,
                                    bool source, char *buf, size_t size);

/* "transport", "tunnel", "beet", ... or NULL for an unknown mode. */
const char *xfrm_parse_mode_name(uint8_t mode);
/* "esp", "ah", "comp" or NULL. */
const char *xfrm_parse_proto_name(uint8_t proto);

#endif /* SECSTAT_PROVIDER_XFRM_PARSE_H */
