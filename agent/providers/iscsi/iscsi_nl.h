/*
 * Per-connection iSCSI statistics over NETLINK_ISCSI, the way iscsid
 * answers `iscsiadm -m session -s`: an ISCSI_UEVENT_GET_STATS request
 * {transport handle, sid, cid}; the kernel (scsi_transport_iscsi.c,
 * iscsi_if_get_stats) answers with the request header followed by
 * struct iscsi_stats, sent to the ISCSI_NL_GRP_ISCSID multicast group
 * (not unicast), or with an ISCSI_KEVENT_IF_ERROR reply unicast to the
 * requester. The kernel header <scsi/iscsi_if.h> is not exported to user
 * space (Debian's linux-libc-dev has no copy), so the ABI is defined here.
 *
 * Parsing is separate from the socket so that recorded replies can be
 * replayed in tests.
 */
#ifndef SECSTAT_PROVIDER_ISCSI_NL_H
#define SECSTAT_PROVIDER_ISCSI_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* <linux/netlink.h> NETLINK_ISCSI; <scsi/iscsi_if.h> values. */
#define ISCSI_NL_PROTOCOL         8
#define ISCSI_NL_GRP_ISCSID       1
#define ISCSI_NL_UEVENT_GET_STATS 20  /* UEVENT_BASE (10) + 10 */
#define ISCSI_NL_KEVENT_IF_ERROR  103 /* KEVENT_BASE (100) + 3 */
#define ISCSI_NL_STATS_CUSTOM_MAX 32
#define ISCSI_NL_STATS_DESC_MAX   64

/*
 * The 32-bit counters of struct iscsi_stats, in ABI order: transmitted
 * PDUs, received PDUs, errors.
 */
enum iscsi_nl_counter {
	ISCSI_NL_NOPTX_PDUS,
	ISCSI_NL_SCSICMD_PDUS,
	ISCSI_NL_TMFCMD_PDUS,
	ISCSI_NL_LOGIN_PDUS,
	ISCSI_NL_TEXT_PDUS,
	ISCSI_NL_DATAOUT_PDUS,
	ISCSI_NL_LOGOUT_PDUS,
	ISCSI_NL_SNACK_PDUS,
	ISCSI_NL_NOPRX_PDUS,
	ISCSI_NL_SCSIRSP_PDUS,
	ISCSI_NL_TMFRSP_PDUS,
	ISCSI_NL_TEXTRSP_PDUS,
	ISCSI_NL_DATAIN_PDUS,
	ISCSI_NL_LOGOUTRSP_PDUS,
	ISCSI_NL_R2T_PDUS,
	ISCSI_NL_ASYNC_PDUS,
	ISCSI_NL_RJT_PDUS,
	ISCSI_NL_DIGEST_ERR,
	ISCSI_NL_TIMEOUT_ERR,
	ISCSI_NL_COUNTERS
};

/* First and one-past-last transmitted / received PDU counters. */
#define ISCSI_NL_TX_FIRST ISCSI_NL_NOPTX_PDUS
#define ISCSI_NL_TX_END   ISCSI_NL_NOPRX_PDUS
#define ISCSI_NL_RX_FIRST ISCSI_NL_NOPRX_PDUS
#define ISCSI_NL_RX_END   ISCSI_NL_DIGEST_ERR

/* Names as `iscsiadm -m session -s` prints them. */
extern const char *const iscsi_nl_counter_names[ISCSI_NL_COUNTERS];

/* One decoded statistics reply, host byte order, counters as sent. */
struct iscsi_nl_stats {
	uint32_t sid;
	uint32_t cid;
	uint64_t txdata_octets;
	uint64_t rxdata_octets;
	uint32_t counters[ISCSI_NL_COUNTERS];
	unsigned n_custom; /* transport extras (iscsi_tcp: 3) */
	struct {
		char desc[ISCSI_NL_STATS_DESC_MAX];
		uint64_t value;
	} custom[ISCSI_NL_STATS_CUSTOM_MAX];
};

/* Bytes of one GET_STATS request. */
#define ISCSI_NL_REQUEST_SIZE 72

/* Builds a GET_STATS request for connection sid:cid of the transport
 * whose sysfs handle is `handle`. */
void iscsi_nl_build_request(uint8_t buf[ISCSI_NL_REQUEST_SIZE], uint64_t handle,
                            uint32_t sid, uint32_t cid, uint32_t seq);

/*
 * Looks through one received datagram (one or more netlink messages) for
 * the answer about sid:cid. Returns 0 with `out` filled; 1 when the
 * datagram holds nothing about sid:cid (another requester's statistics,
 * another event); the kernel's error as a negative errno (-EPERM without
 * CAP_SYS_ADMIN, -EEXIST for an unknown connection, ...); -EBADMSG for a
 * truncated or malformed message about sid:cid.
 */
int iscsi_nl_parse(const void *buf, size_t len, uint32_t sid, uint32_t cid,
                   struct iscsi_nl_stats *out);

/* Opens a NETLINK_ISCSI socket subscribed to the iscsid group (where the
 * statistics arrive). Returns the descriptor or a negative errno:
 * -EPROTONOSUPPORT when scsi_transport_iscsi is not loaded, -EPERM
 * without CAP_NET_ADMIN. */
int iscsi_nl_open(void);

/* Asks for and waits (at most timeout_ms) for the statistics of sid:cid.
 * Returns 0, a kernel error, -ETIMEDOUT or another negative errno. */
int iscsi_nl_get_stats(int fd, uint64_t handle, uint32_t sid, uint32_t cid,
                       unsigned timeout_ms, struct iscsi_nl_stats *out);

#endif /* SECSTAT_PROVIDER_ISCSI_NL_H */
