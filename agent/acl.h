/*
 * Authorization: who may read which statistics (the READ_STATS right of
 * the Windows engine, split per family). An ACL is immutable once parsed;
 * a reload (SIGHUP) builds a new one and swaps it in. docs/security.md
 * describes the file format and the model.
 *
 * Callers are identified by what the transport proves:
 * - ipc://: the peer's uid and gid (SO_PEERCRED through nng);
 * - tls+tcp://: a certificate from the configured CA (the handshake), plus
 *   a client id and secret token in the request envelope, checked against
 *   the token's SHA-256 in the ACL in constant time;
 * - plain tcp://: only the peer address; no credential is accepted there.
 */
#ifndef SECSTAT_AGENT_ACL_H
#define SECSTAT_AGENT_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Rights (bits). */
#define ACL_RIGHT_IPSEC                                                        \
	0x1u /* IPsecGetStatistics*, ListSecurityAssociations                  \
	      */
#define ACL_RIGHT_IKE                                                          \
	0x2u                 /* IkeextGetStatistics*, ListSecurityAssociations \
	                      */
#define ACL_RIGHT_ISCSI 0x4u /* IscsiGetStatistics */
#define ACL_RIGHT_INFO  0x8u /* GetHostInfo, GetCapabilities */
#define ACL_RIGHTS_ALL  0xfu

/* Bounds of the file and of its entries. */
#define ACL_FILE_MAX      (1024 * 1024)
#define ACL_CLIENT_ID_MAX 64
#define ACL_TOKEN_MAX     512
#define ACL_ERR_MAX       256

enum acl_transport {
	ACL_TRANSPORT_IPC,
	ACL_TRANSPORT_TCP, /* plain tcp:// */
	ACL_TRANSPORT_TLS, /* tls+tcp://, peer certificate verified */
};

/* An IPv4 or IPv6 network; IPv4 is held as ::ffff:a.b.c.d. */
struct acl_net {
	uint8_t addr[16];
	unsigned prefix; /* 0..128 over the 16 bytes */
};

/* What the server knows of the caller of one request. */
struct acl_peer {
	enum acl_transport transport;
	bool has_cred;     /* ipc: uid/gid known */
	uint32_t uid, gid; /* ipc */
	bool has_addr;     /* tcp, tls */
	uint8_t addr[16];  /* tcp, tls: v4-mapped for IPv4 */
	/* The request's Credential (NULL/0 when absent). */
	const char *client_id;
	const uint8_t *token;
	size_t token_len;
};

/* The outcome of acl_check(), for the log and the reply. */
struct acl_decision {
	bool allowed;
	char who[96];     /* "uid 1000", "client noc-7", "anonymous" */
	char reason[160]; /* why not, for the log; empty when allowed */
};

struct acl;

/*
 * Parses ACL text. `name` is the file name used in errors, which read
 * "NAME:LINE: message" (written into err, ACL_ERR_MAX). Returns 0 and a
 * new ACL, -EINVAL on a syntax or value error, -ENOMEM.
 */
int acl_parse(const char *text, size_t len, const char *name, struct acl **out,
              char *err);

/*
 * Reads and parses the file at `path`. Refuses a file larger than
 * ACL_FILE_MAX or writable by group or others (-EPERM: anyone who can
 * write it can grant themselves every right). Errors as acl_parse, or
 * "PATH: strerror" with the negative errno.
 */
int acl_load(const char *path, struct acl **out, char *err);

/*
 * The ACL of an agent started without --acl: root (uid 0) and the
 * agent's own user over ipc://, nobody else; plus, when
 * `loopback_insecure`, every right for plain tcp:// callers from
 * 127.0.0.0/8 and ::1 (--allow-loopback-insecure). Returns NULL only when
 * out of memory.
 */
struct acl *acl_default(bool loopback_insecure);

/* Adds the --allow-loopback-insecure grant to a parsed ACL. */
int acl_allow_loopback(struct acl *a);

void acl_free(struct acl *a);

/* Rights a method needs: 0 for a name that is not a method (the server
 * then answers FWP_E_NOT_FOUND to a caller with any right). */
unsigned acl_method_rights(const char *method);

/* Decides whether `p` holds every right of `need` under `a`. A caller
 * with no right at all is denied whatever `need` is. */
bool acl_check(const struct acl *a, const struct acl_peer *p, unsigned need,
               struct acl_decision *d);

/* True when a PUB connection from `addr` (16 bytes, v4-mapped) is on
 * the [subscribers] allow-list. Without a [subscribers] section only
 * loopback connections are allowed. */
bool acl_subscriber_allowed(const struct acl *a, const uint8_t addr[16]);

/* Parses "ADDR" or "ADDR/PREFIX" (IPv4 or IPv6). */
int acl_net_parse(const char *s, struct acl_net *n);

/* True when `addr` (16 bytes, v4-mapped) is in 127.0.0.0/8 or ::1. */
bool acl_addr_is_loopback(const uint8_t addr[16]);

/* "rights" text of a mask ("ipsec ike"), for logs. */
void acl_rights_text(unsigned rights, char *buf, size_t len);

#endif /* SECSTAT_AGENT_ACL_H */
