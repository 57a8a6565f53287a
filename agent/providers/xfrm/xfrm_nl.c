/* libmnl sockets for the xfrm provider. */
#define _GNU_SOURCE /* setns, CLONE_NEWNET */
#include "xfrm_nl.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

/* Requested size of the event socket's receive queue: a rekey storm of a
 * few thousand SAs fits between two collections. */
#define EV_RCVBUF (4 * 1024 * 1024)
/* Bound on the batches of one dump (each holds at least one message). */
#define DUMP_BATCH_MAX (1u << 20)

static int
neg_errno(int fallback)
{
	return errno > 0 ? -errno : -fallback;
}

static int
set_timeout(struct mnl_socket *s)
{
	struct timeval tv = {
	    .tv_sec = XFRM_NL_TIMEOUT_MS / 1000,
	    .tv_usec = (XFRM_NL_TIMEOUT_MS % 1000) * 1000,
	};

	if (setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVTIMEO, &tv,
	               sizeof(tv)) != 0) {
		return neg_errno(EIO);
	}
	return 0;
}

static int
open_one(int bus, unsigned groups, struct mnl_socket **out)
{
	struct mnl_socket *s = mnl_socket_open2(bus, SOCK_CLOEXEC);
	int rv;

	*out = NULL;
	if (s == NULL) {
		return neg_errno(EIO);
	}
	if (mnl_socket_bind(s, groups, MNL_SOCKET_AUTOPID) != 0) {
		rv = neg_errno(EIO);
		mnl_socket_close(s);
		return rv;
	}
	*out = s;
	return 0;
}

int
xfrm_nl_open(struct xfrm_nl *nl)
{
	int one = 1;
	int size = EV_RCVBUF;
	int rv;

	memset(nl, 0, sizeof(*nl));
	nl->seq = (uint32_t)time(NULL);
	nl->buf = malloc(XFRM_NL_BUF_SIZE);
	if (nl->buf == NULL) {
		return -ENOMEM;
	}
	rv = open_one(NETLINK_XFRM, 0, &nl->req);
	if (rv == 0) {
		rv = set_timeout(nl->req);
	}
	if (rv == 0) {
		/* Binding to XFRM groups needs CAP_NET_ADMIN, like the
		 * requests themselves. */
		rv = open_one(NETLINK_XFRM,
		              (1u << (XFRMNLGRP_ACQUIRE - 1)) |
		                  (1u << (XFRMNLGRP_EXPIRE - 1)) |
		                  (1u << (XFRMNLGRP_SA - 1)),
		              &nl->ev);
	}
	if (rv == 0) {
		int fd = mnl_socket_get_fd(nl->ev);

		/* FORCE exceeds rmem_max (CAP_NET_ADMIN); fall back to
		 * what the sysctl allows. */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
		               sizeof(size)) != 0) {
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size,
			                 sizeof(size));
		}
		if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
			rv = neg_errno(EIO);
		}
	}
	if (rv == 0) {
		rv = open_one(NETLINK_ROUTE, 0, &nl->rt);
	}
	if (rv == 0) {
		rv = set_timeout(nl->rt);
	}
	if (rv == 0) {
		/* Only complete messages; extended ACKs help nobody here. */
		(void)setsockopt(mnl_socket_get_fd(nl->req), SOL_NETLINK,
		                 NETLINK_CAP_ACK, &one, sizeof(one));
	}
	if (rv != 0) {
		xfrm_nl_close(nl);
	}
	return rv;
}

void
xfrm_nl_close(struct xfrm_nl *nl)
{
	if (nl->req != NULL) {
		mnl_socket_close(nl->req);
	}
	if (nl->ev != NULL) {
		mnl_socket_close(nl->ev);
	}
	if (nl->rt != NULL) {
		mnl_socket_close(nl->rt);
	}
	free(nl->buf);
	memset(nl, 0, sizeof(*nl));
}

struct run_ctx {
	xfrm_nl_sa_cb cb;
	void *arg;
	int err; /* first error of a callback */
	struct xfrm_sadinfo *sad;
	struct xfrm_spdinfo *spd;
	struct xfrm_nl_addrs *addrs;
	bool got;
};

/*
 * Reads and discards whatever is queued on `s` without blocking: late
 * replies of a request that timed out, or the rest of a dump abandoned
 * on an error. The kernel queues a dump's next batch as soon as one is
 * read, so this consumes an abandoned dump to its end.
 */
static void
flush(struct xfrm_nl *nl, struct mnl_socket *s)
{
	for (unsigned i = 0; i < DUMP_BATCH_MAX; i++) {
		ssize_t n = recv(mnl_socket_get_fd(s), nl->buf,
		                 XFRM_NL_BUF_SIZE, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			return;
		}
		explicit_bzero(nl->buf, (size_t)n);
	}
}

static int
run_batches(struct xfrm_nl *nl, struct mnl_socket *s, struct nlmsghdr *nlh,
            mnl_cb_t cb, struct run_ctx *ctx)
{
	uint32_t portid = mnl_socket_get_portid(s);
	uint32_t seq = nlh->nlmsg_seq;
	int rv = 0;

	for (unsigned batch = 0; batch < DUMP_BATCH_MAX; batch++) {
		ssize_t n = mnl_socket_recvfrom(s, nl->buf, XFRM_NL_BUF_SIZE);

		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return errno == EAGAIN || errno == EWOULDBLOCK
			           ? -ETIMEDOUT
			           : neg_errno(EIO);
		}
		errno = 0;
		rv = mnl_cb_run(nl->buf, (size_t)n, seq, portid, cb, ctx);
		explicit_bzero(nl->buf, (size_t)n);
		if (ctx->err != 0) {
			return ctx->err;
		}
		if (rv == MNL_CB_ERROR) {
			/* libmnl: the kernel's error, or EINTR when the SAD
			 * changed during the dump (NLM_F_DUMP_INTR). */
			return neg_errno(EPROTO);
		}
		if (rv == MNL_CB_STOP) {
			return 0;
		}
		if (!(nlh->nlmsg_flags & NLM_F_DUMP) && ctx->got) {
			return 0;
		}
	}
	return -E2BIG;
}

/* Sends `nlh` on `s` and runs every reply batch through `cb` until the
 * kernel says done (dump) or acknowledges (single reply). On failure the
 * socket is left empty for the next request. */
static int
request(struct xfrm_nl *nl, struct mnl_socket *s, struct nlmsghdr *nlh,
        mnl_cb_t cb, struct run_ctx *ctx)
{
	int rv;

	flush(nl, s);
	if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0) {
		return neg_errno(EIO);
	}
	rv = run_batches(nl, s, nlh, cb, ctx);
	if (rv != 0) {
		flush(nl, s);
	}
	return rv;
}

static struct nlmsghdr *
prepare(struct xfrm_nl *nl, unsigned char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

static int
sa_cb(const struct nlmsghdr *nlh, void *data)
{
	struct run_ctx *ctx = data;
	struct xfrm_sa sa;
	int rv;

	if (nlh->nlmsg_type != XFRM_MSG_NEWSA) {
		return MNL_CB_OK;
	}
	/* The parser wipes the keys in place: the buffer is ours. */
	rv = xfrm_parse_sa((void *)nlh, nlh->nlmsg_len, &sa);
	if (rv != 0) {
		ctx->err = rv;
		return MNL_CB_ERROR;
	}
	rv = ctx->cb(&sa, ctx->arg);
	if (rv != 0) {
		ctx->err = rv;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int
xfrm_nl_dump_sa(struct xfrm_nl *nl, xfrm_nl_sa_cb cb, void *arg)
{
	unsigned char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = prepare(nl, buf, XFRM_MSG_GETSA, NLM_F_DUMP);
	struct run_ctx ctx = {.cb = cb, .arg = arg};

	return request(nl, nl->req, nlh, sa_cb, &ctx);
}

static int
info_cb(const struct nlmsghdr *nlh, void *data)
{
	struct run_ctx *ctx = data;
	int rv = 0;

	if (ctx->sad != NULL && nlh->nlmsg_type == XFRM_MSG_NEWSADINFO) {
		rv = xfrm_parse_sadinfo(nlh, nlh->nlmsg_len, ctx->sad);
		ctx->got = true;
	} else if (ctx->spd != NULL && nlh->nlmsg_type == XFRM_MSG_NEWSPDINFO) {
		rv = xfrm_parse_spdinfo(nlh, nlh->nlmsg_len, ctx->spd);
		ctx->got = true;
	}
	if (rv != 0) {
		ctx->err = rv;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static int
get_info(struct xfrm_nl *nl, uint16_t type, struct run_ctx *ctx)
{
	unsigned char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = prepare(nl, buf, type, 0);
	uint32_t *flags = mnl_nlmsg_put_extra_header(nlh, sizeof(uint32_t));

	*flags = 0xffffffff; /* the kernel ignores the value */
	return request(nl, nl->req, nlh, info_cb, ctx);
}

int
xfrm_nl_sadinfo(struct xfrm_nl *nl, struct xfrm_sadinfo *out)
{
	struct run_ctx ctx = {.sad = out};

	memset(out, 0, sizeof(*out));
	return get_info(nl, XFRM_MSG_GETSADINFO, &ctx);
}

int
xfrm_nl_spdinfo(struct xfrm_nl *nl, struct xfrm_spdinfo *out)
{
	struct run_ctx ctx = {.spd = out};

	memset(out, 0, sizeof(*out));
	return get_info(nl, XFRM_MSG_GETSPDINFO, &ctx);
}

static int
event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct run_ctx *ctx = data;
	struct xfrm_sa sa;
	int rv;

	switch (nlh->nlmsg_type) {
	case XFRM_MSG_NEWSA:
	case XFRM_MSG_UPDSA:
	case XFRM_MSG_DELSA:
	case XFRM_MSG_EXPIRE:
	case XFRM_MSG_ACQUIRE:
	case XFRM_MSG_FLUSHSA:
		break;
	default:
		return MNL_CB_OK;
	}
	/* A malformed event is skipped: the next dump repairs the state. */
	if (xfrm_parse_sa((void *)nlh, nlh->nlmsg_len, &sa) != 0) {
		return MNL_CB_OK;
	}
	rv = ctx->cb(&sa, ctx->arg);
	if (rv != 0) {
		ctx->err = rv;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int
xfrm_nl_drain_events(struct xfrm_nl *nl, xfrm_nl_sa_cb cb, void *arg,
                     bool *lost)
{
	struct run_ctx ctx = {.cb = cb, .arg = arg};

	*lost = false;
	for (unsigned i = 0; i < XFRM_NL_DRAIN_MAX; i++) {
		ssize_t n =
		    mnl_socket_recvfrom(nl->ev, nl->buf, XFRM_NL_BUF_SIZE);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				return 0;
			}
			if (errno == ENOBUFS) {
				/* The kernel dropped events; the socket stays
				 * usable. The caller resyncs by dump. */
				*lost = true;
				continue;
			}
			if (errno == EINTR) {
				continue;
			}
			return neg_errno(EIO);
		}
		(void)mnl_cb_run(nl->buf, (size_t)n, 0, 0, event_cb, &ctx);
		explicit_bzero(nl->buf, (size_t)n);
		if (ctx.err != 0) {
			return ctx.err;
		}
	}
	return 0;
}

static int
addr_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= IFA_MAX) {
		tb[type] = attr;
	}
	return MNL_CB_OK;
}

static int
addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct run_ctx *ctx = data;
	const struct nlattr *tb[IFA_MAX + 1] = {0};
	const struct ifaddrmsg *ifa;
	const struct nlattr *a;
	size_t alen;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa)) {
		return MNL_CB_OK;
	}
	ifa = mnl_nlmsg_get_payload(nlh);
	if (mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb) < 0) {
		return MNL_CB_OK;
	}
	/* IFA_LOCAL is the local end of point-to-point links, where
	 * IFA_ADDRESS is the peer. */
	a = tb[IFA_LOCAL] != NULL ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	alen = ifa->ifa_family == AF_INET ? 4 : 16;
	if (a == NULL ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) ||
	    mnl_attr_get_payload_len(a) < alen ||
	    ctx->addrs->n >= XFRM_NL_ADDR_MAX) {
		return MNL_CB_OK;
	}
	memset(&ctx->addrs->a[ctx->addrs->n], 0, sizeof(ctx->addrs->a[0]));
	ctx->addrs->a[ctx->addrs->n].family = ifa->ifa_family;
	memcpy(&ctx->addrs->a[ctx->addrs->n].addr, mnl_attr_get_payload(a),
	       alen);
	ctx->addrs->n++;
	return MNL_CB_OK;
}

int
xfrm_nl_local_addrs(struct xfrm_nl *nl, struct xfrm_nl_addrs *out)
{
	unsigned char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = prepare(nl, buf, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct run_ctx ctx = {.addrs = out};

	ifa->ifa_family = AF_UNSPEC;
	out->n = 0;
	return request(nl, nl->rt, nlh, addr_cb, &ctx);
}

bool
xfrm_nl_addr_is_local(const struct xfrm_nl_addrs *addrs, uint16_t family,
                      const xfrm_address_t *a)
{
	size_t len = family == AF_INET ? 4 : 16;

	for (size_t i = 0; i < addrs->n; i++) {
		if (addrs->a[i].family == family &&
		    memcmp(&addrs->a[i].addr, a, len) == 0) {
			return true;
		}
	}
	return false;
}

int
xfrm_nl_netns_enter(const char *path, int *saved, dev_t *dev, ino_t *ino)
{
	struct stat st;
	int fd;
	int rv = 0;

	*saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0) {
		return neg_errno(EIO);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rv = neg_errno(ENOENT);
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rv = neg_errno(EIO);
		goto out;
	}
	if (dev != NULL) {
		*dev = st.st_dev;
	}
	if (ino != NULL) {
		*ino = st.st_ino;
	}
	if (setns(fd, CLONE_NEWNET) != 0) {
		rv = neg_errno(EIO);
	}
out:
	if (fd >= 0) {
		close(fd);
	}
	if (rv != 0) {
		close(*saved);
		*saved = -1;
	}
	return rv;
}

void
xfrm_nl_netns_leave(int saved)
{
	if (setns(saved, CLONE_NEWNET) != 0) {
		/* Continuing would collect the wrong namespace's data under
		 * the right name, and every later netlink socket of this
		 * thread would be in it. */
		abort();
	}
	close(saved);
}
