/* NETLINK_ISCSI GET_STATS: request, reply parsing, bounded socket I/O. */
#include "iscsi_nl.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>

/*
 * struct iscsi_uevent of the kernel's include/scsi/iscsi_if.h: type,
 * iferror, transport_handle, then two unions. The largest member of `u`
 * (msg_bind_conn, msg_stop_conn: u32, u32, u64, u32) is 24 bytes, of `r`
 * (msg_recv_req, msg_ping_comp) 16, and the struct is aligned to 8: 56
 * bytes, unchanged since Linux 2.6.x. GET_STATS uses u.get_stats {sid,
 * cid}. The kernel rejects shorter messages, so the full size is sent.
 */
struct iscsi_nl_uevent {
	uint32_t type;
	uint32_t iferror; /* a negative errno in a u32 */
	uint64_t transport_handle;
	union {
		struct {
			uint32_t sid;
			uint32_t cid;
		} get_stats;
		uint8_t pad[24];
	} u;
	uint8_t r[16];
};

/*
 * struct iscsi_stats: two u64 octet counters, 19 u32 counters (8 tx PDU,
 * 9 rx PDU, 2 error), u32 custom_length, then custom_length entries of
 * struct iscsi_stats_custom {char desc[64]; u64 value;} aligned to 8: the
 * fixed part is 96 bytes (a reply from Debian's 6.1 kernel with iscsi_tcp's
 * 3 custom counters is 16 + 56 + 96 + 3 * 72 = 384 bytes; see
 * tests/fixtures/iscsi/netlink/).
 */
struct iscsi_nl_stats_abi {
	uint64_t txdata_octets;
	uint64_t rxdata_octets;
	uint32_t counters[ISCSI_NL_COUNTERS];
	uint32_t custom_length;
};

struct iscsi_nl_custom_abi {
	char desc[ISCSI_NL_STATS_DESC_MAX];
	uint64_t value;
};

_Static_assert(sizeof(struct iscsi_nl_uevent) == 56, "iscsi_uevent ABI");
_Static_assert(offsetof(struct iscsi_nl_uevent, u) == 16, "iscsi_uevent ABI");
_Static_assert(sizeof(struct iscsi_nl_stats_abi) == 96, "iscsi_stats ABI");
_Static_assert(offsetof(struct iscsi_nl_stats_abi, custom_length) == 92,
               "iscsi_stats ABI");
_Static_assert(sizeof(struct iscsi_nl_custom_abi) == 72,
               "iscsi_stats_custom ABI");
_Static_assert(ISCSI_NL_REQUEST_SIZE ==
                   NLMSG_HDRLEN + sizeof(struct iscsi_nl_uevent),
               "request size");

const char *const iscsi_nl_counter_names[ISCSI_NL_COUNTERS] = {
    [ISCSI_NL_NOPTX_PDUS] = "noptx_pdus",
    [ISCSI_NL_SCSICMD_PDUS] = "scsicmd_pdus",
    [ISCSI_NL_TMFCMD_PDUS] = "tmfcmd_pdus",
    [ISCSI_NL_LOGIN_PDUS] = "login_pdus",
    [ISCSI_NL_TEXT_PDUS] = "text_pdus",
    [ISCSI_NL_DATAOUT_PDUS] = "dataout_pdus",
    [ISCSI_NL_LOGOUT_PDUS] = "logout_pdus",
    [ISCSI_NL_SNACK_PDUS] = "snack_pdus",
    [ISCSI_NL_NOPRX_PDUS] = "noprx_pdus",
    [ISCSI_NL_SCSIRSP_PDUS] = "scsirsp_pdus",
    [ISCSI_NL_TMFRSP_PDUS] = "tmfrsp_pdus",
    [ISCSI_NL_TEXTRSP_PDUS] = "textrsp_pdus",
    [ISCSI_NL_DATAIN_PDUS] = "datain_pdus",
    [ISCSI_NL_LOGOUTRSP_PDUS] = "logoutrsp_pdus",
    [ISCSI_NL_R2T_PDUS] = "r2t_pdus",
    [ISCSI_NL_ASYNC_PDUS] = "async_pdus",
    [ISCSI_NL_RJT_PDUS] = "rjt_pdus",
    [ISCSI_NL_DIGEST_ERR] = "digest_err",
    [ISCSI_NL_TIMEOUT_ERR] = "timeout_err",
};

/* Most netlink messages looked at per request: iscsid's own traffic on
 * the group may interleave with the answer. */
#define ISCSI_NL_MAX_MESSAGES 64

void
iscsi_nl_build_request(uint8_t buf[ISCSI_NL_REQUEST_SIZE], uint64_t handle,
                       uint32_t sid, uint32_t cid, uint32_t seq)
{
	struct nlmsghdr nlh = {
	    .nlmsg_len = ISCSI_NL_REQUEST_SIZE,
	    .nlmsg_type = ISCSI_NL_UEVENT_GET_STATS,
	    .nlmsg_seq = seq,
	};
	struct iscsi_nl_uevent ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = ISCSI_NL_UEVENT_GET_STATS;
	ev.transport_handle = handle;
	ev.u.get_stats.sid = sid;
	ev.u.get_stats.cid = cid;
	memset(buf, 0, ISCSI_NL_REQUEST_SIZE);
	memcpy(buf, &nlh, sizeof(nlh));
	memcpy(buf + NLMSG_HDRLEN, &ev, sizeof(ev));
}

/* Decodes the statistics after the uevent header of one message whose
 * payload is `len` bytes. */
static int
parse_stats(const uint8_t *p, size_t len, struct iscsi_nl_stats *out)
{
	struct iscsi_nl_stats_abi abi;
	size_t need;

	if (len < sizeof(struct iscsi_nl_uevent) + sizeof(abi)) {
		return -EBADMSG;
	}
	p += sizeof(struct iscsi_nl_uevent);
	len -= sizeof(struct iscsi_nl_uevent);
	memcpy(&abi, p, sizeof(abi));
	if (abi.custom_length > ISCSI_NL_STATS_CUSTOM_MAX) {
		return -EBADMSG;
	}
	need = sizeof(abi) +
	       (size_t)abi.custom_length * sizeof(struct iscsi_nl_custom_abi);
	if (len < need) {
		return -EBADMSG;
	}
	out->txdata_octets = abi.txdata_octets;
	out->rxdata_octets = abi.rxdata_octets;
	memcpy(out->counters, abi.counters, sizeof(out->counters));
	out->n_custom = abi.custom_length;
	for (unsigned i = 0; i < abi.custom_length; i++) {
		struct iscsi_nl_custom_abi c;

		memcpy(&c, p + sizeof(abi) + i * sizeof(c), sizeof(c));
		/* The kernel NUL-terminates; a recorded or foreign message
		 * might not. */
		memcpy(out->custom[i].desc, c.desc, sizeof(c.desc));
		out->custom[i].desc[ISCSI_NL_STATS_DESC_MAX - 1] = '\0';
		out->custom[i].value = c.value;
	}
	return 0;
}

int
iscsi_nl_parse(const void *buf, size_t len, uint32_t sid, uint32_t cid,
               struct iscsi_nl_stats *out)
{
	const uint8_t *p = buf;
	unsigned n = 0;

	while (len >= NLMSG_HDRLEN && n++ < ISCSI_NL_MAX_MESSAGES) {
		struct nlmsghdr nlh;
		struct iscsi_nl_uevent ev;
		size_t payload;
		int rv;

		memcpy(&nlh, p, sizeof(nlh));
		if (nlh.nlmsg_len < NLMSG_HDRLEN || nlh.nlmsg_len > len) {
			/* A cut datagram: it may have been about us, but
			 * nothing in it can be trusted. */
			return -EBADMSG;
		}
		payload = nlh.nlmsg_len - NLMSG_HDRLEN;
		if (nlh.nlmsg_type == NLMSG_ERROR &&
		    payload >= sizeof(struct nlmsgerr)) {
			struct nlmsgerr e;

			memcpy(&e, p + NLMSG_HDRLEN, sizeof(e));
			if (e.error != 0) {
				return e.error < 0 ? e.error : -e.error;
			}
		} else if (payload >= 16 + sizeof(ev.u.get_stats)) {
			memset(&ev, 0, sizeof(ev));
			memcpy(&ev, p + NLMSG_HDRLEN,
			       payload < sizeof(ev) ? payload : sizeof(ev));
			if (ev.u.get_stats.sid == sid &&
			    ev.u.get_stats.cid == cid) {
				if (ev.type == ISCSI_NL_KEVENT_IF_ERROR) {
					int32_t err = (int32_t)ev.iferror;

					return err < 0 ? err : -EIO;
				}
				if (ev.type == ISCSI_NL_UEVENT_GET_STATS) {
					rv = parse_stats(p + NLMSG_HDRLEN,
					                 payload, out);
					if (rv == 0) {
						out->sid = sid;
						out->cid = cid;
					}
					return rv;
				}
			}
		}
		if (NLMSG_ALIGN(nlh.nlmsg_len) >= len) {
			break;
		}
		p += NLMSG_ALIGN(nlh.nlmsg_len);
		len -= NLMSG_ALIGN(nlh.nlmsg_len);
	}
	return 1;
}

int
iscsi_nl_open(void)
{
	struct sockaddr_nl sa = {
	    .nl_family = AF_NETLINK,
	    .nl_groups = 1u << (ISCSI_NL_GRP_ISCSID - 1),
	};
	int rcvbuf = 256 * 1024;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, ISCSI_NL_PROTOCOL);
	int rv;

	if (fd < 0) {
		return -errno;
	}
	/* The group also carries iscsid's traffic; a roomy buffer keeps a
	 * burst of it from pushing the kernel into retrying its multicast. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rv = -errno;
		close(fd);
		return rv;
	}
	return fd;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
iscsi_nl_get_stats(int fd, uint64_t handle, uint32_t sid, uint32_t cid,
                   unsigned timeout_ms, struct iscsi_nl_stats *out)
{
	static uint32_t seq;
	uint8_t req[ISCSI_NL_REQUEST_SIZE];
	uint8_t buf[8192];
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	int64_t deadline = now_ms() + timeout_ms;
	ssize_t n;

	/* Leftovers (answers to a request that timed out, other requesters'
	 * statistics) must not be taken for this answer's freshness. */
	for (int i = 0; i < ISCSI_NL_MAX_MESSAGES; i++) {
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0) {
			break;
		}
	}
	iscsi_nl_build_request(req, handle, sid, cid, ++seq);
	do {
		n = sendto(fd, req, sizeof(req), 0, (struct sockaddr *)&kernel,
		           sizeof(kernel));
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		return -errno;
	}
	for (int i = 0; i < ISCSI_NL_MAX_MESSAGES; i++) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - now_ms();
		int rv;

		if (left <= 0) {
			return -ETIMEDOUT;
		}
		rv = poll(&pfd, 1, (int)left);
		if (rv < 0 && errno == EINTR) {
			continue;
		}
		if (rv < 0) {
			return -errno;
		}
		if (rv == 0) {
			return -ETIMEDOUT;
		}
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == ENOBUFS) {
				/* ENOBUFS: the group overran the buffer; the
				 * answer may still come. */
				continue;
			}
			return -errno;
		}
		rv = iscsi_nl_parse(buf, (size_t)n, sid, cid, out);
		if (rv <= 0) {
			return rv;
		}
	}
	return -ETIMEDOUT;
}
