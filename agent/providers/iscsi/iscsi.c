/*
 * The iscsi provider: collection (sysfs + NETLINK_ISCSI, widening,
 * session-failure sampling) and the mapping onto MSiSCSI_* keyed as
 * Windows keys them: HBA InstanceName = iscsi_host name ("host0"),
 * UniqueAdapterId = host number, USID = session number, CID = connection
 * id. docs/sources/iscsi.md explains every field.
 */
#include "iscsi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "stats_tree.h"

struct seen_session {
	uint32_t sid;
	bool failed;
};

struct host_failures {
	uint32_t host_no;
	uint64_t count;
};

struct iscsi_state {
	char *sysfs_root;
	int nl_fd; /* -1: not open */
	struct iscsi_widen *widen;
	size_t n_widen;
	struct seen_session *seen;
	size_t n_seen;
	struct host_failures *fails;
	size_t n_fails;
	int last_stats_status; /* to log a change once, not every second */
};

/* ------------------------------------------------------------ widening */

void
iscsi_widen_update(struct iscsi_widen *w, bool first,
                   const struct iscsi_nl_stats *raw,
                   struct iscsi_conn_stats *out)
{
	bool restarted = !first && (raw->txdata_octets < w->last_tx ||
	                            raw->rxdata_octets < w->last_rx);

	if (first) {
		memset(w, 0, sizeof(*w));
		w->sid = raw->sid;
		w->cid = raw->cid;
		for (int i = 0; i < ISCSI_NL_COUNTERS; i++) {
			w->wide[i] = raw->counters[i];
		}
	} else if (restarted) {
		w->base_tx += w->last_tx;
		w->base_rx += w->last_rx;
		for (int i = 0; i < ISCSI_NL_COUNTERS; i++) {
			w->wide[i] += raw->counters[i];
		}
	} else {
		for (int i = 0; i < ISCSI_NL_COUNTERS; i++) {
			/* Modular difference: right across one wrap, which
			 * at one collection per second needs over 4e9 PDUs
			 * a second to be ambiguous. */
			w->wide[i] += (uint32_t)(raw->counters[i] - w->last[i]);
		}
	}
	w->last_tx = raw->txdata_octets;
	w->last_rx = raw->rxdata_octets;
	memcpy(w->last, raw->counters, sizeof(w->last));

	out->present = true;
	out->txdata_octets = w->base_tx + raw->txdata_octets;
	out->rxdata_octets = w->base_rx + raw->rxdata_octets;
	memcpy(out->counters, w->wide, sizeof(out->counters));
}

/* ---------------------------------------------------------- collection */

static int
nl_stats(void *arg, const struct iscsi_sysfs_host *h, uint32_t sid,
         uint32_t cid, struct iscsi_nl_stats *out)
{
	struct iscsi_state *s = arg;
	int rv;

	/* Without the host's own transport handle nothing is asked: the
	 * kernel would run that transport's get_stats() on the connection. */
	if (h != NULL && h->handle_denied) {
		return -EACCES;
	}
	if (h == NULL || !h->has_handle) {
		return -ENODEV;
	}
	if (s->nl_fd < 0) {
		rv = iscsi_nl_open();
		if (rv < 0) {
			return rv;
		}
		s->nl_fd = rv;
	}
	return iscsi_nl_get_stats(s->nl_fd, h->handle, sid, cid,
	                          ISCSI_STATS_TIMEOUT_MS, out);
}

static bool
is_denied(int err)
{
	return err == -EPERM || err == -EACCES;
}

static const struct iscsi_sysfs_session *
find_session(const struct iscsi_sysfs *sys, uint32_t sid)
{
	for (size_t i = 0; i < sys->n_sessions; i++) {
		if (sys->sessions[i].sid == sid) {
			return &sys->sessions[i];
		}
	}
	return NULL;
}

static const struct iscsi_widen *
find_widen(const struct iscsi_state *s, uint32_t sid, uint32_t cid)
{
	for (size_t i = 0; i < s->n_widen; i++) {
		if (s->widen[i].sid == sid && s->widen[i].cid == cid) {
			return &s->widen[i];
		}
	}
	return NULL;
}

/* Reads every connection's statistics, widened; replaces the widening
 * state so that vanished connections are forgotten. */
static int
collect_stats(struct iscsi_state *s, iscsi_stats_fn fn, void *arg,
              struct iscsi_records *r)
{
	const struct iscsi_sysfs *sys = &r->sys;
	struct iscsi_widen *next = NULL;
	size_t n_next = 0;
	int status = 0;

	if (sys->n_conns > 0) {
		next = calloc(sys->n_conns, sizeof(*next));
		if (next == NULL) {
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < sys->n_conns; i++) {
		const struct iscsi_sysfs_conn *c = &sys->conns[i];
		const struct iscsi_sysfs_session *ss =
		    find_session(sys, c->sid);
		const struct iscsi_sysfs_host *h = NULL;
		const struct iscsi_widen *old;
		struct iscsi_nl_stats raw;
		int rv;

		if (is_denied(status)) {
			break; /* every further request is refused too */
		}
		if (ss != NULL && ss->has_host) {
			h = iscsi_sysfs_host(sys, ss->host_no);
		}
		memset(&raw, 0, sizeof(raw));
		rv = fn(arg, h, c->sid, c->cid, &raw);
		if (rv != 0) {
			if (status == 0 || is_denied(rv)) {
				status = rv;
			}
			continue;
		}
		raw.sid = c->sid;
		raw.cid = c->cid;
		old = find_widen(s, c->sid, c->cid);
		if (old != NULL) {
			next[n_next] = *old;
		}
		iscsi_widen_update(&next[n_next], old == NULL, &raw,
		                   &r->stats[i]);
		n_next++;
	}
	free(s->widen);
	s->widen = next;
	s->n_widen = n_next;
	return status;
}

static uint64_t *
failure_slot(struct iscsi_state *s, uint32_t host_no)
{
	struct host_failures *p;

	for (size_t i = 0; i < s->n_fails; i++) {
		if (s->fails[i].host_no == host_no) {
			return &s->fails[i].count;
		}
	}
	p = realloc(s->fails, (s->n_fails + 1) * sizeof(*p));
	if (p == NULL) {
		return NULL;
	}
	s->fails = p;
	p[s->n_fails].host_no = host_no;
	p[s->n_fails].count = 0;
	return &p[s->n_fails++].count;
}

/* Counts sessions seen entering FAILED since the previous collection (a
 * session first seen already FAILED counts once). */
static int
sample_failures(struct iscsi_state *s, struct iscsi_records *r)
{
	const struct iscsi_sysfs *sys = &r->sys;
	struct seen_session *next = NULL;

	if (sys->n_sessions > 0) {
		next = calloc(sys->n_sessions, sizeof(*next));
		if (next == NULL) {
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < sys->n_sessions; i++) {
		const struct iscsi_sysfs_session *ss = &sys->sessions[i];
		bool failed = strcmp(ss->state, "FAILED") == 0;
		bool was_failed = false;
		uint64_t *slot;

		for (size_t j = 0; j < s->n_seen; j++) {
			if (s->seen[j].sid == ss->sid) {
				was_failed = s->seen[j].failed;
				break;
			}
		}
		next[i].sid = ss->sid;
		next[i].failed = failed;
		if (!ss->has_host) {
			continue;
		}
		if ((slot = failure_slot(s, ss->host_no)) == NULL) {
			free(next);
			return -ENOMEM;
		}
		if (failed && !was_failed) {
			(*slot)++;
		}
	}
	free(s->seen);
	s->seen = next;
	s->n_seen = sys->n_sessions;

	for (size_t i = 0; i < sys->n_hosts; i++) {
		uint64_t *slot = failure_slot(s, sys->hosts[i].host_no);

		if (slot == NULL) {
			return -ENOMEM;
		}
		r->host_failures[i] = *slot;
	}
	return 0;
}

static void
records_free(void *records)
{
	struct iscsi_records *r = records;

	if (r == NULL) {
		return;
	}
	iscsi_sysfs_free(&r->sys);
	free(r->stats);
	free(r->host_failures);
	free(r);
}

int
iscsi_collect_with(void *state, iscsi_stats_fn fn, void *arg, void **records)
{
	struct iscsi_state *s = state;
	struct iscsi_records *r = calloc(1, sizeof(*r));
	int rv;

	if (r == NULL) {
		return -ENOMEM;
	}
	if ((rv = iscsi_sysfs_read(s->sysfs_root, &r->sys)) != 0) {
		goto out;
	}
	r->stats = calloc(r->sys.n_conns + 1, sizeof(*r->stats));
	r->host_failures = calloc(r->sys.n_hosts + 1, sizeof(uint64_t));
	if (r->stats == NULL || r->host_failures == NULL) {
		rv = -ENOMEM;
		goto out;
	}
	r->stats_status = collect_stats(s, fn, arg, r);
	if (r->stats_status == -ENOMEM || (rv = sample_failures(s, r)) != 0) {
		rv = -ENOMEM;
		goto out;
	}
	if (r->stats_status != s->last_stats_status) {
		/* Partial health: the sysfs part stays OK, the statistics
		 * are absent; say so once per change. */
		if (is_denied(r->stats_status)) {
			log_warning("iscsi: connection statistics denied "
			            "(NETLINK_ISCSI needs CAP_SYS_ADMIN and "
			            "CAP_NET_ADMIN); sessions still listed");
		} else if (r->stats_status != 0) {
			log_notice("iscsi: some connection statistics "
			           "unavailable: %s",
			           strerror(-r->stats_status));
		}
		s->last_stats_status = r->stats_status;
	}
	*records = r;
	return 0;
out:
	records_free(r);
	return rv;
}

static int
collect(void *state, void **records)
{
	return iscsi_collect_with(state, nl_stats, state, records);
}

static int
probe(const struct agent_config *cfg, char *what, size_t len)
{
	snprintf(what, len, "%s/class/iscsi_session",
	         cfg->sysfs_root ? cfg->sysfs_root : "/sys");
	return access(what, F_OK) == 0 ? 0 : -ENOENT;
}

static int
init(const struct agent_config *cfg, void **state)
{
	struct iscsi_state *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		return -ENOMEM;
	}
	s->nl_fd = -1;
	s->sysfs_root = strdup(cfg->sysfs_root ? cfg->sysfs_root : "/sys");
	if (s->sysfs_root == NULL) {
		free(s);
		return -ENOMEM;
	}
	*state = s;
	return 0;
}

static void
fini(void *state)
{
	struct iscsi_state *s = state;

	if (s == NULL) {
		return;
	}
	if (s->nl_fd >= 0) {
		close(s->nl_fd);
	}
	free(s->sysfs_root);
	free(s->widen);
	free(s->seen);
	free(s->fails);
	free(s);
}

/* ------------------------------------------------- IPsec SA coverage */

/* Parses "addr/plen" (plen optional) into family, bytes and prefix. */
static bool
parse_prefix(const char *s, size_t len, int *family, uint8_t addr[16],
             unsigned *plen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	unsigned max;

	if (len == 0 || len >= sizeof(buf)) {
		return false;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
	}
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = AF_INET6;
		max = 128;
	} else {
		return false;
	}
	*plen = max;
	if (slash != NULL) {
		char *end;
		unsigned long v = strtoul(slash + 1, &end, 10);

		if (end == slash + 1 || *end != '\0' || v > max) {
			return false;
		}
		*plen = (unsigned)v;
	}
	return true;
}

static bool
prefix_match(const uint8_t *net, const uint8_t *a, unsigned plen)
{
	unsigned bytes = plen / 8;
	unsigned bits = plen % 8;

	if (memcmp(net, a, bytes) != 0) {
		return false;
	}
	if (bits == 0) {
		return true;
	}
	return ((net[bytes] ^ a[bytes]) & (uint8_t)(0xff00u >> bits)) == 0;
}

/* The "[proto]" or "[proto/port]" part: TCP (or any) and the port (or
 * any). strongSwan may print the IANA service name of 3260. */
static bool
proto_port_match(const char *spec, uint32_t port)
{
	char buf[64];
	char *slash;
	size_t len = strlen(spec);

	if (len < 2 || spec[len - 1] != ']' || len - 2 >= sizeof(buf)) {
		return false;
	}
	memcpy(buf, spec + 1, len - 2);
	buf[len - 2] = '\0';
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash++ = '\0';
	}
	if (strcmp(buf, "tcp") != 0 && strcmp(buf, "6") != 0) {
		return false;
	}
	if (slash == NULL || *slash == '\0') {
		return true;
	}
	if (strcmp(slash, "iscsi-target") == 0) {
		return port == 3260;
	}
	char *end;
	unsigned long v = strtoul(slash, &end, 10);

	return end != slash && *end == '\0' && v == port;
}

bool
iscsi_ts_covers(const char *ts, const char *addr, uint32_t port)
{
	const char *bracket;
	uint8_t net[16], a[16];
	int nf, af;
	unsigned plen, alen;

	if (ts == NULL || addr == NULL) {
		return false;
	}
	bracket = strchr(ts, '[');
	if (!parse_prefix(ts, bracket ? (size_t)(bracket - ts) : strlen(ts),
	                  &nf, net, &plen) ||
	    !parse_prefix(addr, strlen(addr), &af, a, &alen) || nf != af) {
		return false;
	}
	if (!prefix_match(net, a, plen)) {
		return false;
	}
	return bracket == NULL || proto_port_match(bracket, port);
}

static bool
any_ts_covers(char **ts, size_t n, const char *addr, uint32_t port)
{
	/* No selector listed: the SA carries whatever its policy sends. */
	if (n == 0) {
		return true;
	}
	for (size_t i = 0; i < n; i++) {
		if (iscsi_ts_covers(ts[i], addr, port)) {
			return true;
		}
	}
	return false;
}

static bool
same_addr(const char *a, const char *b)
{
	uint8_t x[16], y[16];
	int fx, fy;
	unsigned px, py;

	if (a == NULL || b == NULL) {
		return false;
	}
	return parse_prefix(a, strlen(a), &fx, x, &px) &&
	       parse_prefix(b, strlen(b), &fy, y, &py) && fx == fy &&
	       memcmp(x, y, fx == AF_INET ? 4 : 16) == 0;
}

bool
iscsi_sa_covers(const Secstat__V1__IpsecSaDetail *sa, const char *local,
                const char *portal, uint32_t port)
{
	bool tunnel = sa->mode != NULL && strcmp(sa->mode, "tunnel") == 0;

	/* The initiator's netlink family, hence its sessions, live in the
	 * agent's own namespace; SAs of named namespaces protect other
	 * traffic. */
	if (sa->netns != NULL && sa->netns[0] != '\0') {
		return false;
	}
	if (portal == NULL || portal[0] == '\0') {
		return false;
	}
	/* Port and protocol are checked on the remote (portal) side; the
	 * initiator's side is any port. */
	if (!any_ts_covers(sa->remote_ts, sa->n_remote_ts, portal, port)) {
		return false;
	}
	if (local != NULL && sa->n_local_ts > 0 &&
	    !any_ts_covers(sa->local_ts, sa->n_local_ts, local, 0)) {
		/* A local selector with a port would not match port 0:
		 * only the address decides on the initiator side. */
		bool hit = false;

		for (size_t i = 0; i < sa->n_local_ts && !hit; i++) {
			const char *b = strchr(sa->local_ts[i], '[');
			char buf[INET6_ADDRSTRLEN + 8];
			size_t len = b ? (size_t)(b - sa->local_ts[i])
			               : strlen(sa->local_ts[i]);

			if (len < sizeof(buf)) {
				memcpy(buf, sa->local_ts[i], len);
				buf[len] = '\0';
				hit = iscsi_ts_covers(buf, local, 0);
			}
		}
		if (!hit) {
			return false;
		}
	}
	if (tunnel) {
		return true; /* the selectors decided; outer = gateways */
	}
	/* Transport (and BEET): the SA's own addresses are the hosts'. */
	return same_addr(sa->remote_address, portal) &&
	       (local == NULL || same_addr(sa->local_address, local));
}

/* ------------------------------------------------------------- mapping */

/* SPIs already counted for one HBA: a kernel SA listed by xfrm and again
 * as an IKE daemon's CHILD_SA is counted once. */
struct spi_list {
	uint64_t spi[256]; /* SPI << 1 | inbound: SPIs are per direction */
	size_t n;
	bool full;
};

static bool
spi_seen(struct spi_list *l, uint32_t spi32, bool in, bool add)
{
	uint64_t spi = (uint64_t)spi32 << 1 | in;

	if (spi32 == 0) {
		return false;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (l->spi[i] == spi) {
			return true;
		}
	}
	if (add) {
		if (l->n < sizeof(l->spi) / sizeof(l->spi[0])) {
			l->spi[l->n++] = spi;
		} else {
			l->full = true;
		}
	}
	return false;
}

/* The TCP flows of one HBA: initiator address, portal, port. */
struct flow {
	const char *portal;
	uint32_t port;
};

static bool
sa_matches(const Secstat__V1__IpsecSaDetail *sa, const char *local,
           const struct flow *flows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (iscsi_sa_covers(sa, local, flows[i].portal,
		                    flows[i].port)) {
			return true;
		}
	}
	return false;
}

static bool
is_confidential(const Secstat__V1__IpsecSaDetail *sa)
{
	return sa->protocol != NULL && strcmp(sa->protocol, "esp") == 0 &&
	       sa->encryption_algorithm != NULL &&
	       strstr(sa->encryption_algorithm, "null") == NULL;
}

/* traffic: also add the SA's byte and drop counters (only when no
 * per-tunnel totals are listed; they are counted from the tunnels). */
static void
add_sa(Secstat__V1__MsiscsiQmIpsecStats *qm,
       const Secstat__V1__IpsecSaDetail *sa, const char **tunnel_peers,
       size_t *n_peers, size_t max_peers, bool traffic)
{
	bool ah = sa->protocol != NULL && strcmp(sa->protocol, "ah") == 0;
	bool conf = is_confidential(sa);
	bool tunnel = sa->mode != NULL && strcmp(sa->mode, "tunnel") == 0;
	bool transport = sa->mode == NULL || !tunnel;

	if (sa->state != NULL && strcmp(sa->state, "LARVAL") == 0) {
		TREE_ADD(qm, pending_key_operations, 1);
		return;
	}
	/* A CHILD_SA record is a pair (both SPIs); a kernel SA one way. */
	TREE_ADD(qm, active_sa, (sa->has_spi_in && sa->has_spi_out) ? 2 : 1);
	if (tunnel && sa->remote_address != NULL) {
		bool known = false;

		for (size_t i = 0; i < *n_peers; i++) {
			known |=
			    strcmp(tunnel_peers[i], sa->remote_address) == 0;
		}
		if (!known && *n_peers < max_peers) {
			tunnel_peers[(*n_peers)++] = sa->remote_address;
		}
	}
	if (!traffic) {
		return;
	}
	if (sa->has_bytes_out) {
		if (conf) {
			TREE_ADD(qm, confidential_bytes_sent, sa->bytes_out);
		}
		if (ah) {
			TREE_ADD(qm, authenticated_bytes_sent, sa->bytes_out);
		}
		if (transport) {
			TREE_ADD(qm, transport_bytes_sent, sa->bytes_out);
		} else {
			TREE_ADD(qm, tunnel_bytes_sent, sa->bytes_out);
		}
	}
	if (sa->has_bytes_in) {
		if (conf) {
			TREE_ADD(qm, confidential_bytes_received, sa->bytes_in);
		}
		if (ah) {
			TREE_ADD(qm, authenticated_bytes_received,
			         sa->bytes_in);
		}
		if (transport) {
			TREE_ADD(qm, transport_bytes_received, sa->bytes_in);
		} else {
			TREE_ADD(qm, tunnel_bytes_received, sa->bytes_in);
		}
	}
	if (sa->has_integrity_failures) {
		TREE_ADD(qm, packets_not_authenticated, sa->integrity_failures);
	}
	if (sa->has_replay_failures) {
		TREE_ADD(qm, packets_with_replay_detection,
		         sa->replay_failures);
	}
}

/* Whether a tunnel's traffic is the HBA's: the per-SA rule applied to
 * the tunnel's latest selectors and outer addresses. */
static bool
tunnel_matches(const Secstat__V1__TunnelDetail *tun, const char *local,
               const struct flow *flows, size_t n)
{
	Secstat__V1__IpsecSaDetail v;

	secstat__v1__ipsec_sa_detail__init(&v);
	v.netns = tun->netns;
	v.mode = tun->mode;
	v.protocol = tun->protocol;
	v.local_address = tun->local_address;
	v.remote_address = tun->remote_address;
	v.local_ts = tun->local_ts;
	v.n_local_ts = tun->n_local_ts;
	v.remote_ts = tun->remote_ts;
	v.n_remote_ts = tun->n_remote_ts;
	return sa_matches(&v, local, flows, n);
}

/*
 * Byte, drop and key-event sums over the matched tunnels' monotonic
 * totals: they survive every rekey, unlike the current SAs' counters.
 * The per-SA listing's sources each list a tunnel once (vici names the
 * kernel's tunnel instead of adding its own), so no tunnel is counted
 * twice. Returns the SAs created by IKE over the matched tunnels an IKE
 * daemon owns (named), or -1 when none is known.
 */
static int64_t
add_tunnels(const Secstat__V1__ListSecurityAssociationsResponse *sas,
            Secstat__V1__MsiscsiQmIpsecStats *qm, const char *local,
            const struct flow *flows, size_t n_flows)
{
	int64_t ike_added = -1;

	for (size_t i = 0; i < sas->n_tunnels; i++) {
		const Secstat__V1__TunnelDetail *tun = sas->tunnels[i];

		/* Zero is an observation when some tunnel source counts. */
		if (tun->has_sas_added) {
			TREE_ADD(qm, key_additions, 0);
		}
		if (tun->has_sas_deleted) {
			TREE_ADD(qm, key_deletions, 0);
		}
		if (tun->has_rekeys) {
			TREE_ADD(qm, re_keys, 0);
		}
	}
	for (size_t i = 0; i < sas->n_tunnels; i++) {
		const Secstat__V1__TunnelDetail *tun = sas->tunnels[i];
		bool ah =
		    tun->protocol != NULL && strcmp(tun->protocol, "ah") == 0;
		bool conf = tun->protocol != NULL &&
		            strcmp(tun->protocol, "esp") == 0 &&
		            tun->has_encrypted && tun->encrypted;
		bool tunnel =
		    tun->mode != NULL && strcmp(tun->mode, "tunnel") == 0;

		if (!tunnel_matches(tun, local, flows, n_flows)) {
			continue;
		}
		if (tun->has_bytes_out) {
			if (conf) {
				TREE_ADD(qm, confidential_bytes_sent,
				         tun->bytes_out);
			}
			if (ah) {
				TREE_ADD(qm, authenticated_bytes_sent,
				         tun->bytes_out);
			}
			if (tunnel) {
				TREE_ADD(qm, tunnel_bytes_sent, tun->bytes_out);
			} else {
				TREE_ADD(qm, transport_bytes_sent,
				         tun->bytes_out);
			}
		}
		if (tun->has_bytes_in) {
			if (conf) {
				TREE_ADD(qm, confidential_bytes_received,
				         tun->bytes_in);
			}
			if (ah) {
				TREE_ADD(qm, authenticated_bytes_received,
				         tun->bytes_in);
			}
			if (tunnel) {
				TREE_ADD(qm, tunnel_bytes_received,
				         tun->bytes_in);
			} else {
				TREE_ADD(qm, transport_bytes_received,
				         tun->bytes_in);
			}
		}
		if (tun->has_integrity_failures) {
			TREE_ADD(qm, packets_not_authenticated,
			         tun->integrity_failures);
		}
		if (tun->has_replay_failures) {
			TREE_ADD(qm, packets_with_replay_detection,
			         tun->replay_failures);
		}
		if (tun->has_sas_added) {
			TREE_ADD(qm, key_additions, tun->sas_added);
		}
		if (tun->has_sas_deleted) {
			TREE_ADD(qm, key_deletions, tun->sas_deleted);
		}
		if (tun->has_rekeys) {
			TREE_ADD(qm, re_keys, tun->rekeys);
		}
		if (tun->name != NULL && tun->has_sas_added) {
			ike_added = (ike_added < 0 ? 0 : ike_added) +
			            (int64_t)tun->sas_added;
		}
	}
	return ike_added;
}

/* Whether an IPsec source contributed SAs (or an empty SA block) to this
 * tree: only then is "no SA matched" an observation rather than
 * ignorance. */
static bool
have_ipsec_source(const struct stats_tree *t)
{
	return t->ipsec_sa.has_active_sas || t->sa_response.n_ipsec_sas > 0 ||
	       t->sa_response.n_ike_sas > 0 || t->sa_response.n_tunnels > 0;
}

static void
map_ipsec(struct stats_tree *t, Secstat__V1__IscsiHba *hba, const char *local,
          const struct flow *flows, size_t n_flows)
{
	const Secstat__V1__ListSecurityAssociationsResponse *sas =
	    &t->sa_response;
	Secstat__V1__MsiscsiQmIpsecStats *qm;
	Secstat__V1__MsiscsiMmIpsecStats *mm = NULL;
	struct spi_list *seen;
	const char *peers[64];
	size_t n_peers = 0;
	bool by_tunnel = sas->n_tunnels > 0;
	int64_t ike_added = -1;

	if (!have_ipsec_source(t)) {
		return;
	}
	qm = arena_alloc(&t->arena, sizeof(*qm));
	secstat__v1__msiscsi_qm_ipsec_stats__init(qm);
	seen = arena_alloc(&t->arena, sizeof(*seen));
	/* Gauges and sums over the matched SAs; zero when none matched. */
	TREE_SET(qm, active_sa, 0);
	TREE_SET(qm, pending_key_operations, 0);
	TREE_SET(qm, active_tunnels, 0);
	TREE_SET(qm, confidential_bytes_sent, 0);
	TREE_SET(qm, confidential_bytes_received, 0);
	TREE_SET(qm, authenticated_bytes_sent, 0);
	TREE_SET(qm, authenticated_bytes_received, 0);
	TREE_SET(qm, transport_bytes_sent, 0);
	TREE_SET(qm, transport_bytes_received, 0);
	TREE_SET(qm, tunnel_bytes_sent, 0);
	TREE_SET(qm, tunnel_bytes_received, 0);

	for (size_t i = 0; i < sas->n_ipsec_sas; i++) {
		const Secstat__V1__IpsecSaDetail *sa = sas->ipsec_sas[i];

		if (!sa_matches(sa, local, flows, n_flows)) {
			continue;
		}
		if (spi_seen(seen, sa->spi_in, true, true) |
		    spi_seen(seen, sa->spi_out, false, true)) {
			continue;
		}
		add_sa(qm, sa, peers, &n_peers, 64, !by_tunnel);
	}
	for (size_t i = 0; i < sas->n_ike_sas; i++) {
		const Secstat__V1__IkeSaDetail *ike = sas->ike_sas[i];
		size_t children = 0;
		bool ike_match = false;

		for (size_t j = 0; j < n_flows; j++) {
			ike_match |=
			    same_addr(ike->remote_address, flows[j].portal) &&
			    (local == NULL ||
			     same_addr(ike->local_address, local));
		}
		for (size_t c = 0; c < ike->n_child_sas; c++) {
			const Secstat__V1__IpsecSaDetail *sa =
			    ike->child_sas[c];

			if (!sa_matches(sa, local, flows, n_flows)) {
				continue;
			}
			children++;
			if (spi_seen(seen, sa->spi_in, true, false) ||
			    spi_seen(seen, sa->spi_out, false, false)) {
				continue; /* the kernel's record counted it */
			}
			spi_seen(seen, sa->spi_in, true, true);
			spi_seen(seen, sa->spi_out, false, true);
			add_sa(qm, sa, peers, &n_peers, 64, !by_tunnel);
		}
		if (!ike_match && children == 0) {
			continue;
		}
		if (mm == NULL) {
			mm = arena_alloc(&t->arena, sizeof(*mm));
			secstat__v1__msiscsi_mm_ipsec_stats__init(mm);
			TREE_SET(mm, connection_list_size, 0);
		}
		TREE_ADD(mm, connection_list_size, ike->n_child_sas);
	}
	if (by_tunnel) {
		ike_added = add_tunnels(sas, qm, local, flows, n_flows);
	}
	/* Quick-mode SAs IKE created for this HBA's traffic: the SAs added
	 * to the matched tunnels an IKE daemon owns. */
	if (ike_added >= 0) {
		if (mm == NULL) {
			mm = arena_alloc(&t->arena, sizeof(*mm));
			secstat__v1__msiscsi_mm_ipsec_stats__init(mm);
			TREE_SET(mm, connection_list_size, 0);
		}
		TREE_SET(mm, oakley_quick_mode, (uint64_t)ike_added);
	}
	TREE_SET(qm, active_tunnels, n_peers);
	hba->qm_ipsec_stats = qm;
	hba->mm_ipsec_stats = mm;
}

static char *
opt_str(struct stats_tree *t, const char *s)
{
	return s[0] != '\0' ? arena_strdup(&t->arena, s) : NULL;
}

static void
map_conn(struct stats_tree *t, Secstat__V1__MsiscsiConnectionStatistics *m,
         const struct iscsi_sysfs_session *ss, const struct iscsi_sysfs_conn *c,
         const struct iscsi_conn_stats *st)
{
	uint64_t tx = 0, rx = 0;

	m->iscsi_name = opt_str(t, ss->targetname);
	TREE_SET(m, cid, c->cid);
	TREE_SET(m, usid, ss->sid);
	if (ss->has_host) {
		TREE_SET(m, unique_adapter_id, ss->host_no);
	}
	m->state = opt_str(t, c->state);
	m->address = opt_str(t, c->address);
	if (c->has_port) {
		TREE_SET(m, port, c->port);
	}
	m->persistent_address = opt_str(t, c->persistent_address);
	if (c->has_persistent_port) {
		TREE_SET(m, persistent_port, c->persistent_port);
	}
	if (!st->present) {
		return;
	}
	for (int i = ISCSI_NL_TX_FIRST; i < ISCSI_NL_TX_END; i++) {
		tx += st->counters[i];
	}
	for (int i = ISCSI_NL_RX_FIRST; i < ISCSI_NL_RX_END; i++) {
		rx += st->counters[i];
	}
	TREE_SET(m, bytes_sent, st->txdata_octets);
	TREE_SET(m, bytes_received, st->rxdata_octets);
	TREE_SET(m, pdu_commands_sent, st->counters[ISCSI_NL_SCSICMD_PDUS]);
	TREE_SET(m, pdu_responses_received,
	         st->counters[ISCSI_NL_SCSIRSP_PDUS]);
	TREE_SET(m, digest_errors, st->counters[ISCSI_NL_DIGEST_ERR]);
	TREE_SET(m, timeout_errors, st->counters[ISCSI_NL_TIMEOUT_ERR]);
	TREE_SET(m, pdus_sent, tx);
	TREE_SET(m, pdus_received, rx);
}

/* Session sums are present only when every connection's statistics are:
 * a partial sum would look like a real, smaller value. */
static void
map_session(struct stats_tree *t, Secstat__V1__MsiscsiSessionStatistics *m,
            const struct iscsi_records *r, const struct iscsi_sysfs_session *ss)
{
	size_t n = 0, with = 0, k = 0;

	m->iscsi_name = opt_str(t, ss->targetname);
	TREE_SET(m, usid, ss->sid);
	if (ss->has_host) {
		TREE_SET(m, unique_adapter_id, ss->host_no);
	}
	m->state = opt_str(t, ss->state);
	m->initiator_name = opt_str(t, ss->initiatorname);
	if (ss->has_tpgt) {
		TREE_SET(m, tpgt, ss->tpgt);
	}
	{
		char name[32];

		snprintf(name, sizeof(name), "session%u", ss->sid);
		m->sysfs_name = arena_strdup(&t->arena, name);
	}
	for (size_t i = 0; i < r->sys.n_conns; i++) {
		if (r->sys.conns[i].sid == ss->sid) {
			n++;
			with += r->stats[i].present;
		}
	}
	if (n == 0) {
		return;
	}
	m->connections = arena_alloc(&t->arena, n * sizeof(*m->connections));
	for (size_t i = 0; i < r->sys.n_conns; i++) {
		const struct iscsi_conn_stats *st = &r->stats[i];
		Secstat__V1__MsiscsiConnectionStatistics *c;

		if (r->sys.conns[i].sid != ss->sid) {
			continue;
		}
		c = arena_alloc(&t->arena, sizeof(*c));
		secstat__v1__msiscsi_connection_statistics__init(c);
		map_conn(t, c, ss, &r->sys.conns[i], st);
		m->connections[k++] = c;
		if (with == n) {
			TREE_ADD(m, bytes_sent, st->txdata_octets);
			TREE_ADD(m, bytes_received, st->rxdata_octets);
			TREE_ADD(m, pdu_commands_sent,
			         st->counters[ISCSI_NL_SCSICMD_PDUS]);
			TREE_ADD(m, pdu_responses_received,
			         st->counters[ISCSI_NL_SCSIRSP_PDUS]);
			TREE_ADD(m, digest_errors,
			         st->counters[ISCSI_NL_DIGEST_ERR]);
			TREE_ADD(m, connection_timeout_errors,
			         st->counters[ISCSI_NL_TIMEOUT_ERR]);
		}
	}
	m->n_connections = k;
}

static void
map_hba(struct stats_tree *t, const struct iscsi_records *r, uint32_t host_no,
        const struct iscsi_sysfs_host *h, const uint64_t *failures)
{
	Secstat__V1__IscsiHba *hba;
	Secstat__V1__MsiscsiInitiatorInstanceStatistics *ii;
	struct flow *flows;
	size_t n = 0, k = 0, n_flows = 0, complete = 0;
	char name[32];

	snprintf(name, sizeof(name), "host%u", host_no);
	hba = stats_tree_add_hba(t, name);
	TREE_SET(hba, unique_adapter_id, host_no);
	if (h != NULL) {
		hba->initiator_name = opt_str(t, h->initiatorname);
		hba->ip_address = opt_str(t, h->ipaddress);
		hba->netdev = opt_str(t, h->netdev);
	}
	for (size_t i = 0; i < r->sys.n_sessions; i++) {
		const struct iscsi_sysfs_session *ss = &r->sys.sessions[i];

		n += ss->has_host && ss->host_no == host_no;
	}
	ii = arena_alloc(&t->arena, sizeof(*ii));
	secstat__v1__msiscsi_initiator_instance_statistics__init(ii);
	TREE_SET(ii, unique_adapter_id, host_no);
	if (failures != NULL) {
		TREE_SET(ii, session_failure_count, *failures);
	}
	hba->initiator_instance_statistics = ii;

	flows = arena_alloc(&t->arena, (r->sys.n_conns + 1) * sizeof(*flows));
	if (n > 0) {
		hba->sessions =
		    arena_alloc(&t->arena, n * sizeof(*hba->sessions));
	}
	for (size_t i = 0; i < r->sys.n_sessions; i++) {
		const struct iscsi_sysfs_session *ss = &r->sys.sessions[i];
		Secstat__V1__MsiscsiSessionStatistics *m;

		if (!ss->has_host || ss->host_no != host_no) {
			continue;
		}
		m = arena_alloc(&t->arena, sizeof(*m));
		secstat__v1__msiscsi_session_statistics__init(m);
		map_session(t, m, r, ss);
		hba->sessions[k++] = m;
		if (m->has_bytes_sent || m->n_connections == 0) {
			complete++;
		}
		for (size_t c = 0; c < m->n_connections; c++) {
			const Secstat__V1__MsiscsiConnectionStatistics *cs =
			    m->connections[c];
			const char *portal =
			    cs->address ? cs->address : cs->persistent_address;
			uint32_t port = cs->has_port ? cs->port
			                : cs->has_persistent_port
			                    ? cs->persistent_port
			                    : 3260;

			if (portal != NULL) {
				flows[n_flows].portal = portal;
				flows[n_flows].port = port;
				n_flows++;
			}
		}
	}
	hba->n_sessions = k;
	/* Instance sums: over every session, or absent. */
	if (complete == k) {
		TREE_SET(ii, session_digest_error_count, 0);
		TREE_SET(ii, session_connection_timeout_error_count, 0);
		for (size_t i = 0; i < k; i++) {
			const Secstat__V1__MsiscsiSessionStatistics *m =
			    hba->sessions[i];

			if (m->has_digest_errors) {
				TREE_ADD(ii, session_digest_error_count,
				         m->digest_errors);
			}
			if (m->has_connection_timeout_errors) {
				TREE_ADD(ii,
				         session_connection_timeout_error_count,
				         m->connection_timeout_errors);
			}
		}
	}
	map_ipsec(t, hba,
	          h != NULL && h->ipaddress[0] != '\0' ? h->ipaddress : NULL,
	          flows, n_flows);
}

static void
contribute(const void *records, struct stats_tree *t)
{
	const struct iscsi_records *r = records;
	uint32_t orphans[64];
	size_t n_orphans = 0;

	for (size_t i = 0; i < r->sys.n_hosts; i++) {
		map_hba(t, r, r->sys.hosts[i].host_no, &r->sys.hosts[i],
		        &r->host_failures[i]);
	}
	/* Sessions whose host directory was not readable still belong to
	 * an HBA: their host number is in their sysfs path. */
	for (size_t i = 0; i < r->sys.n_sessions; i++) {
		const struct iscsi_sysfs_session *ss = &r->sys.sessions[i];
		bool known = false;

		if (!ss->has_host || iscsi_sysfs_host(&r->sys, ss->host_no)) {
			continue;
		}
		for (size_t j = 0; j < n_orphans; j++) {
			known |= orphans[j] == ss->host_no;
		}
		if (!known &&
		    n_orphans < sizeof(orphans) / sizeof(orphans[0])) {
			orphans[n_orphans++] = ss->host_no;
			map_hba(t, r, ss->host_no, NULL, NULL);
		}
	}
}

const struct provider_ops iscsi_provider = {
    .abi_version = PROVIDER_ABI_VERSION,
    .name = "iscsi",
    .description = "open-iscsi initiator: sysfs sessions and connections, "
                   "NETLINK_ISCSI connection statistics, per-HBA IPsec",
    .families = PROVIDES_ISCSI,
    .probe = probe,
    .init = init,
    .collect = collect,
    .contribute = contribute,
    .records_free = records_free,
    .fini = fini,
};
