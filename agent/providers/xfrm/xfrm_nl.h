/*
 * NETLINK_XFRM and NETLINK_ROUTE I/O for the xfrm provider (libmnl):
 * SA dumps, SAD/SPD info, the multicast event socket, the local address
 * list, and network namespace switching.
 *
 * A netlink socket belongs to the namespace it was created in, for its
 * whole life. So sockets are opened once inside the target namespace
 * (xfrm_nl_open between xfrm_nl_netns_enter/leave) and used from the
 * agent's own namespace afterwards; only files under /proc/net need the
 * thread to be inside the namespace while reading.
 *
 * Every receive is bounded by a socket timeout; the receive buffers are
 * wiped after each read because dump replies carry SA keys.
 */
#ifndef SECSTAT_PROVIDER_XFRM_NL_H
#define SECSTAT_PROVIDER_XFRM_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "xfrm_parse.h"

struct mnl_socket;

/* Largest receive: one dump batch (the kernel fills up to ~16 KiB). */
#define XFRM_NL_BUF_SIZE 65536
/* Receive timeout of request sockets. */
#define XFRM_NL_TIMEOUT_MS 2000
/* Most events read in one drain; the rest waits for the next one. */
#define XFRM_NL_DRAIN_MAX 100000
/* Most local addresses remembered per namespace. */
#define XFRM_NL_ADDR_MAX 1024

struct xfrm_nl {
	struct mnl_socket *req; /* NETLINK_XFRM requests and dumps */
	struct mnl_socket *ev;  /* NETLINK_XFRM multicast events */
	struct mnl_socket *rt;  /* NETLINK_ROUTE, address dumps */
	uint32_t seq;
	unsigned char *buf; /* XFRM_NL_BUF_SIZE bytes */
};

struct xfrm_nl_addrs {
	size_t n;
	struct {
		uint16_t family;
		xfrm_address_t addr;
	} a[XFRM_NL_ADDR_MAX];
};

/* Opens the three sockets in the calling thread's current namespace and
 * subscribes the event socket to XFRMNLGRP_SA, _EXPIRE and _ACQUIRE.
 * Returns 0 or a negative errno (-EPERM without CAP_NET_ADMIN,
 * -EPROTONOSUPPORT when the kernel has no xfrm_user). */
int xfrm_nl_open(struct xfrm_nl *nl);
void xfrm_nl_close(struct xfrm_nl *nl);

/* Called once per SA of a dump (sa is scratch, copy what you keep).
 * A non-zero return aborts the dump with that value. */
typedef int (*xfrm_nl_sa_cb)(const struct xfrm_sa *sa, void *arg);

/* XFRM_MSG_GETSA dump. 0 or a negative errno; -EINTR when the SAD
 * changed while it was dumped (the dump is inconsistent: retry). */
int xfrm_nl_dump_sa(struct xfrm_nl *nl, xfrm_nl_sa_cb cb, void *arg);
int xfrm_nl_sadinfo(struct xfrm_nl *nl, struct xfrm_sadinfo *out);
int xfrm_nl_spdinfo(struct xfrm_nl *nl, struct xfrm_spdinfo *out);

/* Reads every queued event without blocking, calling cb for each SA
 * event (NEWSA, UPDSA, DELSA, EXPIRE, ACQUIRE, FLUSHSA). *lost is set
 * when the socket overflowed (ENOBUFS) and events were dropped by the
 * kernel. Returns 0 or a negative errno. */
int xfrm_nl_drain_events(struct xfrm_nl *nl, xfrm_nl_sa_cb cb, void *arg,
                         bool *lost);

/* The addresses configured on the namespace's interfaces. */
int xfrm_nl_local_addrs(struct xfrm_nl *nl, struct xfrm_nl_addrs *out);
bool xfrm_nl_addr_is_local(const struct xfrm_nl_addrs *addrs, uint16_t family,
                           const xfrm_address_t *a);

/* Enters the namespace whose file is `path` (e.g. /run/netns/NAME) on the
 * calling thread; *saved receives a descriptor of the previous one for
 * xfrm_nl_netns_leave. dev/ino (optional) receive the identity of the
 * namespace file. 0 or a negative errno. */
int xfrm_nl_netns_enter(const char *path, int *saved, dev_t *dev, ino_t *ino);
/* Returns to the namespace saved by xfrm_nl_netns_enter and closes it.
 * Failing to return would leave the thread in a foreign namespace, so
 * that failure aborts the process. */
void xfrm_nl_netns_leave(int saved);

#endif /* SECSTAT_PROVIDER_XFRM_NL_H */
