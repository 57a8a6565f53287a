/*
 * The open-iscsi initiator's objects in sysfs (drivers/scsi/
 * scsi_transport_iscsi.c): /sys/class/iscsi_host/hostH,
 * iscsi_session/sessionS and iscsi_connection/connectionS:C, each a link
 * into /sys/devices/.../hostH/sessionS[/connectionS:C], which is how a
 * session is tied to its host. Hosts also name their driver
 * (class/scsi_host/hostH/proc_name) and so the transport whose netlink
 * handle the statistics request needs (class/iscsi_transport/T/handle).
 *
 * Attributes the kernel has no value for read "(null)" and stay absent,
 * as do missing, empty, unreadable or malformed ones.
 */
#ifndef SECSTAT_PROVIDER_ISCSI_SYSFS_H
#define SECSTAT_PROVIDER_ISCSI_SYSFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MAX_ISCSI_NAME_LEN (RFC 3720: 223 bytes) + NUL. */
#define ISCSI_SYSFS_NAME_MAX 224
#define ISCSI_SYSFS_ADDR_MAX 64
#define ISCSI_SYSFS_WORD_MAX 32
/* Bounds on what one reading keeps. */
#define ISCSI_SYSFS_MAX_HOSTS    256
#define ISCSI_SYSFS_MAX_SESSIONS 4096
#define ISCSI_SYSFS_MAX_CONNS    4096

struct iscsi_sysfs_host {
	uint32_t host_no;
	char ipaddress[ISCSI_SYSFS_ADDR_MAX];     /* "" = absent */
	char initiatorname[ISCSI_SYSFS_NAME_MAX]; /* offload HBAs only */
	char netdev[ISCSI_SYSFS_WORD_MAX];
	char transport[ISCSI_SYSFS_WORD_MAX]; /* e.g. "tcp" */
	bool has_handle;
	uint64_t handle;    /* netlink transport handle */
	bool handle_denied; /* readable with CAP_SYS_ADMIN only */
};

struct iscsi_sysfs_session {
	uint32_t sid;
	bool has_host;
	uint32_t host_no;
	char targetname[ISCSI_SYSFS_NAME_MAX];
	char initiatorname[ISCSI_SYSFS_NAME_MAX];
	char state[ISCSI_SYSFS_WORD_MAX]; /* LOGGED_IN, FAILED, FREE */
	bool has_tpgt;
	uint32_t tpgt;
};

struct iscsi_sysfs_conn {
	uint32_t sid;
	uint32_t cid;
	char state[ISCSI_SYSFS_WORD_MAX];   /* up, down, failed, ... */
	char address[ISCSI_SYSFS_ADDR_MAX]; /* portal in use */
	bool has_port;
	uint32_t port;
	char persistent_address[ISCSI_SYSFS_ADDR_MAX]; /* configured */
	bool has_persistent_port;
	uint32_t persistent_port;
	bool has_local_port;
	uint32_t local_port;
};

/* One reading, sorted by host number, sid, (sid, cid). */
struct iscsi_sysfs {
	struct iscsi_sysfs_host *hosts;
	size_t n_hosts;
	struct iscsi_sysfs_session *sessions;
	size_t n_sessions;
	struct iscsi_sysfs_conn *conns;
	size_t n_conns;
	unsigned skipped; /* entries refused: bad names, over the bounds */
};

/*
 * Reads the three classes under `sysfs_root` (normally "/sys"). Returns 0,
 * -ENOENT when class/iscsi_session does not exist (no iSCSI transport
 * class in this kernel: the source is absent) or -ENOMEM. Free with
 * iscsi_sysfs_free().
 */
int iscsi_sysfs_read(const char *sysfs_root, struct iscsi_sysfs *out);
void iscsi_sysfs_free(struct iscsi_sysfs *s);

/* The host numbered `host_no`, or NULL. */
const struct iscsi_sysfs_host *iscsi_sysfs_host(const struct iscsi_sysfs *s,
                                                uint32_t host_no);

#endif /* SECSTAT_PROVIDER_ISCSI_SYSFS_H */
