/* The xfrm provider: kernel SAs per namespace onto IPSEC_STATISTICS1. */
#include "xfrm.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "config.h"
#include "stats_tree.h"
#include "xfrm_nl.h"

#ifdef XFRM_HAVE_PROCFS
#include "procfs.h"
#endif

#define NETNS_DIR "/run/netns/"
/* Dumps tried per collection when the SAD changes during the dump. */
#define DUMP_ATTEMPTS 3
/* Bound on one xfrm_stat read (the procfs provider's bound). */
#define MIB_READ_MAX 65536

struct ns_state {
	char *name;
	char *path; /* NULL: the agent's own namespace */
	bool open;
	dev_t dev;
	ino_t ino;
	struct xfrm_nl nl;
	struct xfrm_totals totals;
	struct xfrm_nl_addrs *addrs;
};

struct xfrm_state {
	char *procfs_root;
	size_t n_ns;
	struct ns_state *ns;
};

static void
ns_close(struct ns_state *n)
{
	if (n->open) {
		xfrm_nl_close(&n->nl);
		xfrm_totals_fini(&n->totals);
		n->open = false;
	}
}

static int
xfrm_probe(const struct agent_config *cfg, char *what, size_t len)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_XFRM);

	(void)cfg;
	if (fd < 0) {
		snprintf(what, len, "NETLINK_XFRM socket");
		return errno == EPROTONOSUPPORT || errno == EAFNOSUPPORT
		           ? -EPROTONOSUPPORT
		           : -errno;
	}
	close(fd);
	return 0;
}

static void xfrm_fini(void *state);

static int
xfrm_init(const struct agent_config *cfg, void **state)
{
	struct xfrm_state *s = calloc(1, sizeof(*s));
	int rv = -ENOMEM;

	if (s == NULL) {
		return -ENOMEM;
	}
	s->procfs_root = strdup(cfg->procfs_root ? cfg->procfs_root : "/proc");
	s->ns = calloc(1 + cfg->n_netns, sizeof(*s->ns));
	if (s->procfs_root == NULL || s->ns == NULL) {
		goto out;
	}
	for (size_t i = 0; i <= cfg->n_netns; i++) {
		const char *name = i == 0 ? "" : cfg->netns[i - 1];
		struct ns_state *n;
		bool dup = false;

		if (i > 0 &&
		    (name[0] == '\0' || strchr(name, '/') != NULL ||
		     strcmp(name, ".") == 0 || strcmp(name, "..") == 0)) {
			rv = -EINVAL;
			goto out;
		}
		/* A name given twice is one namespace, counted once. */
		for (size_t k = 1; k < s->n_ns; k++) {
			dup = dup || strcmp(s->ns[k].name, name) == 0;
		}
		if (dup) {
			continue;
		}
		n = &s->ns[s->n_ns++];
		n->name = strdup(name);
		n->addrs = malloc(sizeof(*n->addrs));
		if (n->name == NULL || n->addrs == NULL) {
			goto out;
		}
		if (i > 0) {
			size_t len = strlen(NETNS_DIR) + strlen(name) + 1;

			n->path = malloc(len);
			if (n->path == NULL) {
				goto out;
			}
			snprintf(n->path, len, "%s%s", NETNS_DIR, name);
		}
	}
	*state = s;
	return 0;
out:
	xfrm_fini(s);
	return rv;
}

static void
xfrm_fini(void *state)
{
	struct xfrm_state *s = state;

	if (s == NULL) {
		return;
	}
	for (size_t i = 0; i < s->n_ns; i++) {
		ns_close(&s->ns[i]);
		free(s->ns[i].name);
		free(s->ns[i].path);
		free(s->ns[i].addrs);
	}
	free(s->ns);
	free(s->procfs_root);
	free(s);
}

/* Opens the namespace's sockets (inside it), or reopens them when the
 * name now refers to another namespace: that one's SAs and counters
 * have nothing to do with the old totals. */
static int
ns_ensure_open(struct ns_state *n)
{
	struct stat st;
	int saved = -1;
	int rv;

	if (n->path != NULL) {
		struct stat own;

		if (stat(n->path, &st) != 0) {
			ns_close(n);
			return -errno;
		}
		/* The agent's own namespace under a name: already collected
		 * as "", it would be counted twice. */
		if (stat("/proc/thread-self/ns/net", &own) == 0 &&
		    own.st_dev == st.st_dev && own.st_ino == st.st_ino) {
			ns_close(n);
			return -EEXIST;
		}
		if (n->open && (st.st_dev != n->dev || st.st_ino != n->ino)) {
			ns_close(n);
		}
	}
	if (n->open) {
		return 0;
	}
	if (n->path != NULL) {
		rv = xfrm_nl_netns_enter(n->path, &saved, &n->dev, &n->ino);
		if (rv != 0) {
			return rv;
		}
	}
	rv = xfrm_nl_open(&n->nl);
	if (saved >= 0) {
		xfrm_nl_netns_leave(saved);
	}
	if (rv != 0) {
		return rv;
	}
	xfrm_totals_init(&n->totals);
	n->open = true;
	return 0;
}

static enum xfrm_dir
sa_dir(const struct ns_state *n, const struct xfrm_sa *sa)
{
	if (sa->dir == XFRM_PARSE_DIR_IN) {
		return XFRM_DIR_IN;
	}
	if (sa->dir == XFRM_PARSE_DIR_OUT) {
		return XFRM_DIR_OUT;
	}
	/* The kernel applies an SA to received packets only when they are
	 * addressed to this host: an SA whose destination is local is
	 * inbound, any other is outbound. */
	return xfrm_nl_addr_is_local(n->addrs, sa->family, &sa->daddr)
	           ? XFRM_DIR_IN
	           : XFRM_DIR_OUT;
}

static int
event_cb(const struct xfrm_sa *sa, void *arg)
{
	struct ns_state *n = arg;

	return xfrm_totals_event(&n->totals, sa, sa_dir(n, sa));
}

struct dump_ctx {
	struct ns_state *n;
	struct xfrm_ns_rec *rec;
	size_t cap;
};

static int
dump_cb(const struct xfrm_sa *sa, void *arg)
{
	struct dump_ctx *d = arg;
	struct xfrm_ns_rec *r = d->rec;
	enum xfrm_dir dir = sa_dir(d->n, sa);

	if (r->n_sas == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct xfrm_sa_rec *p = realloc(r->sas, cap * sizeof(*p));

		if (p == NULL) {
			return -ENOMEM;
		}
		r->sas = p;
		d->cap = cap;
	}
	r->sas[r->n_sas].sa = *sa;
	r->sas[r->n_sas].dir = dir;
	r->n_sas++;
	return xfrm_totals_dump_sa(&d->n->totals, sa, dir);
}

#ifdef XFRM_HAVE_PROCFS
static int
read_mib_file(const char *path, struct procfs_records **out)
{
	char *buf = malloc(MIB_READ_MAX);
	size_t len = 0;
	int fd;
	int rv = 0;

	if (buf == NULL) {
		return -ENOMEM;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rv = -errno;
		goto out;
	}
	/* Bounded: every pass adds bytes, ends or fails. */
	while (len < MIB_READ_MAX) {
		ssize_t got = read(fd, buf + len, MIB_READ_MAX - len);

		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got < 0) {
			rv = -errno;
			goto out;
		}
		if (got == 0) {
			break;
		}
		len += (size_t)got;
	}
	rv = procfs_parse(buf, len, out);
out:
	if (fd >= 0) {
		close(fd);
	}
	free(buf);
	return rv;
}

/* Keeps the namespace's xfrm_stat counters and their drop mapping, done
 * by the procfs provider's contribute on a scratch tree so that the two
 * providers can never map the same counter differently. */
static void
collect_mib(const struct xfrm_state *s, const struct ns_state *n,
            struct xfrm_ns_rec *r)
{
	struct procfs_records *pr = NULL;
	char path[PATH_MAX];
	struct stats_tree tree;
	int saved = -1;
	int rv;

	if (n->path != NULL) {
		/* /proc/net follows the reading thread's namespace. */
		snprintf(path, sizeof(path), "%s/thread-self/net/xfrm_stat",
		         s->procfs_root);
		rv = xfrm_nl_netns_enter(n->path, &saved, NULL, NULL);
		if (rv != 0) {
			return;
		}
		rv = read_mib_file(path, &pr);
		xfrm_nl_netns_leave(saved);
	} else {
		snprintf(path, sizeof(path), "%s/net/xfrm_stat",
		         s->procfs_root);
		rv = read_mib_file(path, &pr);
	}
	if (rv != 0) {
		return;
	}
	r->mib = calloc(pr->n ? pr->n : 1, sizeof(*r->mib));
	if (r->mib == NULL) {
		free(pr);
		return;
	}
	for (size_t i = 0; i < pr->n; i++) {
		snprintf(r->mib[i].name, sizeof(r->mib[i].name), "%s",
		         pr->counters[i].name);
		r->mib[i].value = pr->counters[i].value;
	}
	r->n_mib = pr->n;
	r->has_mib = true;
	stats_tree_init(&tree);
	procfs_provider.contribute(pr, &tree);
	r->drop = tree.ipsec_drop;
	r->has_drop = true;
	stats_tree_release(&tree);
	procfs_provider.records_free(pr);
}
#endif

static int
collect_ns(struct xfrm_state *s, struct ns_state *n, struct xfrm_ns_rec *r)
{
	struct dump_ctx d = {.n = n, .rec = r};
	struct xfrm_counts *sums;
	bool lost = false;
	int rv;

	rv = ns_ensure_open(n);
	if (rv == 0) {
		rv = xfrm_nl_local_addrs(&n->nl, n->addrs);
	}
	if (rv == 0) {
		/* Events first: they are older than the dump that follows. */
		rv = xfrm_nl_drain_events(&n->nl, event_cb, n, &lost);
		if (lost) {
			xfrm_totals_lost_events(&n->totals);
		}
	}
	if (rv == 0) {
		rv = xfrm_nl_sadinfo(&n->nl, &r->sad);
	}
	if (rv == 0) {
		rv = xfrm_nl_spdinfo(&n->nl, &r->spd);
	}
	/* A dump the SAD changed under is inconsistent: take another one
	 * (bounded; heavy churn fails the collection, retried later). */
	for (int attempt = 0; rv == 0 && attempt < DUMP_ATTEMPTS; attempt++) {
		r->n_sas = 0;
		xfrm_totals_dump_begin(&n->totals);
		rv = xfrm_nl_dump_sa(&n->nl, dump_cb, &d);
		if (rv == 0) {
			/* Only a complete dump may retire the SAs it did not
			 * list. */
			xfrm_totals_dump_end(&n->totals);
			break;
		}
		if (rv == -EINTR && attempt + 1 < DUMP_ATTEMPTS) {
			rv = 0;
		}
	}
	if (rv != 0) {
		return rv;
	}
	r->tuns = calloc(n->totals.n_tunnels ? n->totals.n_tunnels : 1,
	                 sizeof(*r->tuns));
	sums = calloc(n->totals.n_tunnels ? n->totals.n_tunnels : 1,
	              sizeof(*sums));
	if (r->tuns == NULL || sums == NULL) {
		free(sums);
		return -ENOMEM;
	}
	xfrm_totals_sums(&n->totals, sums);
	for (size_t i = 0; i < n->totals.n_tunnels; i++) {
		const struct xfrm_tunnel *tun = &n->totals.tunnels[i];
		struct xfrm_tun_rec *tr;

		/* Only larval states so far (an IKE daemon's SPI allocation,
		 * whose reqid and mode are not the SA's yet): no tunnel. */
		if (!tun->has_sel) {
			continue;
		}
		tr = &r->tuns[r->n_tuns++];
		tr->key = tun->key;
		tr->mode = tun->mode;
		tr->encrypting = tun->encrypting;
		tr->authenticating = tun->authenticating;
		tr->offloaded = tun->offloaded;
		tr->has_sel = tun->has_sel;
		tr->sel = tun->sel;
		tr->total = sums[i];
		tr->added = tun->added;
		tr->deleted = tun->deleted;
		tr->rekeys = tun->rekeys;
		tr->live = tun->live_complete;
	}
	free(sums);
	r->added = n->totals.added;
	r->deleted = n->totals.deleted;
	r->rekeys = n->totals.rekeys;
	r->acquires = n->totals.acquires;
	r->resyncs = n->totals.resyncs;
#ifdef XFRM_HAVE_PROCFS
	collect_mib(s, n, r);
#else
	(void)s;
#endif
	return 0;
}

static int
xfrm_collect(void *state, void **records)
{
	struct xfrm_state *s = state;
	struct xfrm_records *out = calloc(1, sizeof(*out));
	int rv = 0;

	if (out == NULL) {
		return -ENOMEM;
	}
	out->ns = calloc(s->n_ns, sizeof(*out->ns));
	if (out->ns == NULL) {
		free(out);
		return -ENOMEM;
	}
	out->n_ns = s->n_ns;
	out->per_namespace = s->n_ns > 1;
	for (size_t i = 0; i < s->n_ns; i++) {
		struct xfrm_ns_rec *r = &out->ns[i];

		r->name = strdup(s->ns[i].name);
		if (r->name == NULL) {
			rv = -ENOMEM;
			break;
		}
		r->status = collect_ns(s, &s->ns[i], r);
		/* The agent's own namespace decides the provider's health;
		 * a named namespace that is missing only loses its block.
		 * Lacking the capability anywhere is reported as denied. */
		if (r->status != 0 &&
		    (i == 0 || r->status == -EPERM || r->status == -EACCES)) {
			rv = r->status;
			break;
		}
	}
	if (rv != 0) {
		xfrm_records_free(out);
		return rv;
	}
	*records = out;
	return 0;
}

void
xfrm_records_free(void *records)
{
	struct xfrm_records *r = records;

	if (r == NULL) {
		return;
	}
	for (size_t i = 0; i < r->n_ns; i++) {
		free(r->ns[i].name);
		free(r->ns[i].sas);
		free(r->ns[i].tuns);
		free(r->ns[i].mib);
	}
	free(r->ns);
	free(r);
}

/* ------------------------------------------------------------ mapping */

static bool
is_ipsec(const struct xfrm_sa *sa)
{
	return sa->proto == IPPROTO_ESP || sa->proto == IPPROTO_AH;
}

/* A tunnel-mode connection: reqid, family and the pair of outer
 * addresses in either order, so a CHILD_SA's inbound and outbound SA,
 * and the old and new SAs during a rekey, are one. */
struct conn_key {
	uint32_t reqid;
	uint16_t family;
	xfrm_address_t lo;
	xfrm_address_t hi;
};

static int
conn_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct conn_key));
}

uint64_t
xfrm_active_tunnels(const struct xfrm_ns_rec *r)
{
	struct conn_key *keys = calloc(r->n_sas ? r->n_sas : 1, sizeof(*keys));
	size_t n = 0;
	uint64_t distinct = 0;

	if (keys == NULL) {
		return 0;
	}
	for (size_t i = 0; i < r->n_sas; i++) {
		const struct xfrm_sa *sa = &r->sas[i].sa;
		size_t alen = sa->family == AF_INET ? 4 : 16;
		struct conn_key *k = &keys[n];

		if (!is_ipsec(sa) || xfrm_parse_is_larval(sa) ||
		    sa->mode != XFRM_MODE_TUNNEL) {
			continue;
		}
		/* calloc zeroed the key: padding and unused address bytes
		 * compare equal. */
		k->reqid = sa->reqid;
		k->family = sa->family;
		if (memcmp(&sa->saddr, &sa->daddr, alen) <= 0) {
			memcpy(&k->lo, &sa->saddr, alen);
			memcpy(&k->hi, &sa->daddr, alen);
		} else {
			memcpy(&k->lo, &sa->daddr, alen);
			memcpy(&k->hi, &sa->saddr, alen);
		}
		n++;
	}
	qsort(keys, n, sizeof(*keys), conn_cmp);
	for (size_t i = 0; i < n; i++) {
		distinct += i == 0 || conn_cmp(&keys[i - 1], &keys[i]) != 0;
	}
	free(keys);
	return distinct;
}

static void
map_sa_block(const struct xfrm_ns_rec *r,
             Secstat__V1__IpsecAggregateSaStatistics *dst)
{
	uint64_t active = 0;
	uint64_t pending = 0;
	uint64_t offloaded = 0;

	for (size_t i = 0; i < r->n_sas; i++) {
		const struct xfrm_sa *sa = &r->sas[i].sa;

		if (!is_ipsec(sa)) {
			continue;
		}
		if (xfrm_parse_is_larval(sa)) {
			pending++;
			continue;
		}
		active++;
		offloaded += sa->offloaded;
	}
	TREE_ADD(dst, active_sas, active);
	TREE_ADD(dst, pending_sa_negotiations, pending);
	TREE_ADD(dst, offloaded_sas, offloaded);
	TREE_ADD(dst, active_tunnels, xfrm_active_tunnels(r));
	TREE_ADD(dst, total_sas_added, r->added);
	TREE_ADD(dst, total_sas_deleted, r->deleted);
	TREE_ADD(dst, successful_rekeys, r->rekeys);
}

static void
map_drops(const struct xfrm_ns_rec *r,
          Secstat__V1__IpsecEspDropPacketStatistics *esp,
          Secstat__V1__IpsecAhDropPacketStatistics *ah)
{
	uint64_t replay[2] = {0, 0};
	uint64_t auth[2] = {0, 0};

	for (size_t i = 0; i < r->n_tuns; i++) {
		const struct xfrm_tun_rec *t = &r->tuns[i];
		int k = t->key.proto == IPPROTO_AH;

		replay[k] += t->total.replay + t->total.replay_window_drops;
		auth[k] += t->total.integrity_failed;
	}
	TREE_ADD(esp, replay_check_failures_on_inbound, replay[0]);
	TREE_ADD(esp, authentication_failures_on_inbound, auth[0]);
	TREE_ADD(ah, replay_check_failures_on_inbound, replay[1]);
	TREE_ADD(ah, authentication_failures_on_inbound, auth[1]);
}

static void
map_traffic(const struct xfrm_ns_rec *r,
            Secstat__V1__IpsecTrafficStatistics *in,
            Secstat__V1__IpsecTrafficStatistics *out)
{
	Secstat__V1__IpsecTrafficStatistics *both[2] = {in, out};

	for (int d = 0; d < 2; d++) {
		TREE_ADD(both[d], encrypted_byte_count, 0);
		TREE_ADD(both[d], authenticated_ah_byte_count, 0);
		TREE_ADD(both[d], authenticated_esp_byte_count, 0);
		TREE_ADD(both[d], transport_byte_count, 0);
		TREE_ADD(both[d], tunnel_byte_count, 0);
		TREE_ADD(both[d], offload_byte_count, 0);
		TREE_ADD(both[d], total_successful_packets, 0);
	}
	for (size_t i = 0; i < r->n_tuns; i++) {
		const struct xfrm_tun_rec *t = &r->tuns[i];
		Secstat__V1__IpsecTrafficStatistics *dst;
		uint64_t b = t->total.bytes;

		if (t->key.dir == XFRM_DIR_IN) {
			dst = in;
		} else if (t->key.dir == XFRM_DIR_OUT) {
			dst = out;
		} else {
			continue;
		}
		if (t->encrypting) {
			TREE_ADD(dst, encrypted_byte_count, b);
		}
		if (t->authenticating) {
			if (t->key.proto == IPPROTO_AH) {
				TREE_ADD(dst, authenticated_ah_byte_count, b);
			} else {
				TREE_ADD(dst, authenticated_esp_byte_count, b);
			}
		}
		if (t->mode == XFRM_MODE_TRANSPORT) {
			TREE_ADD(dst, transport_byte_count, b);
		} else if (t->mode == XFRM_MODE_TUNNEL) {
			TREE_ADD(dst, tunnel_byte_count, b);
		}
		if (t->offloaded) {
			TREE_ADD(dst, offload_byte_count, b);
		}
		TREE_ADD(dst, total_successful_packets, t->total.packets);
	}
}

static void
add_drop(Secstat__V1__IpsecAggregateDropPacketStatistics *dst,
         const Secstat__V1__IpsecAggregateDropPacketStatistics *src)
{
#define ADD_IF(f)                                                              \
	do {                                                                   \
		if (src->has_##f) {                                            \
			TREE_ADD(dst, f, src->f);                              \
		}                                                              \
	} while (0)
	ADD_IF(invalid_spis_on_inbound);
	ADD_IF(decryption_failures_on_inbound);
	ADD_IF(authentication_failures_on_inbound);
	ADD_IF(udp_esp_validation_failures_on_inbound);
	ADD_IF(replay_check_failures_on_inbound);
	ADD_IF(invalid_clear_text_inbound);
	ADD_IF(sa_not_initialized_on_inbound);
	ADD_IF(receive_over_incorrect_sa_inbound);
	ADD_IF(secure_receives_not_matching_filters);
	ADD_IF(total_drop_packets_inbound);
#undef ADD_IF
}

static void
map_statistics(const struct xfrm_ns_rec *r, Secstat__V1__IpsecStatistics *s)
{
	map_sa_block(r, s->aggregate_sa_statistics);
	map_drops(r, s->esp_drop_packet_statistics,
	          s->ah_drop_packet_statistics);
	map_traffic(r, s->inbound_traffic_statistics,
	            s->outbound_traffic_statistics);
}

static char **
one_string(struct stats_tree *t, const char *s)
{
	char **v = arena_alloc(&t->arena, sizeof(*v));

	v[0] = arena_strdup(&t->arena, s);
	return v;
}

static void
add_detail(struct stats_tree *t, const struct xfrm_ns_rec *r,
           const struct xfrm_sa_rec *rec)
{
	const struct xfrm_sa *sa = &rec->sa;
	Secstat__V1__IpsecSaDetail *d = stats_tree_add_ipsec_sa(t);
	bool in = rec->dir == XFRM_DIR_IN;
	char buf[INET6_ADDRSTRLEN + 32];
	const char *name;
	uint64_t replay = (uint64_t)sa->replay + sa->replay_window_drops;

	d->source = "xfrm";
	d->netns = arena_strdup(&t->arena, r->name);
	d->has_reqid = 1;
	d->reqid = sa->reqid;
	d->state = xfrm_parse_is_larval(sa) ? "LARVAL" : "INSTALLED";
	if ((name = xfrm_parse_mode_name(sa->mode)) != NULL) {
		d->mode = (char *)name;
	}
	if ((name = xfrm_parse_proto_name(sa->proto)) != NULL) {
		d->protocol = (char *)name;
	}
	d->has_encap = 1;
	d->encap = sa->encap;
	d->local_address = arena_strdup(
	    &t->arena,
	    xfrm_parse_addr_str(sa->family, in ? &sa->daddr : &sa->saddr, buf,
	                        sizeof(buf)));
	d->remote_address = arena_strdup(
	    &t->arena,
	    xfrm_parse_addr_str(sa->family, in ? &sa->saddr : &sa->daddr, buf,
	                        sizeof(buf)));
	if (in) {
		d->has_spi_in = 1;
		d->spi_in = sa->spi;
		d->has_bytes_in = d->has_packets_in = 1;
		d->bytes_in = sa->bytes;
		d->packets_in = sa->packets;
		if (sa->use_time != 0) {
			d->has_last_use_in_unix_s = 1;
			d->last_use_in_unix_s = sa->use_time;
		}
	} else {
		d->has_spi_out = 1;
		d->spi_out = sa->spi;
		d->has_bytes_out = d->has_packets_out = 1;
		d->bytes_out = sa->bytes;
		d->packets_out = sa->packets;
		if (sa->use_time != 0) {
			d->has_last_use_out_unix_s = 1;
			d->last_use_out_unix_s = sa->use_time;
		}
	}
	if (sa->aead[0] != '\0') {
		d->encryption_algorithm = arena_strdup(&t->arena, sa->aead);
	} else if (sa->enc[0] != '\0') {
		d->encryption_algorithm = arena_strdup(&t->arena, sa->enc);
	} else if (sa->comp[0] != '\0') {
		d->encryption_algorithm = arena_strdup(&t->arena, sa->comp);
	}
	if (sa->auth[0] != '\0') {
		d->integrity_algorithm = arena_strdup(&t->arena, sa->auth);
	}
	/* The selector describes the packets the SA carries, source to
	 * destination: for an inbound SA the local side is the
	 * destination. */
	d->n_local_ts = d->n_remote_ts = 1;
	d->local_ts = one_string(
	    t, xfrm_parse_selector_str(&sa->sel, !in, buf, sizeof(buf)));
	d->remote_ts = one_string(
	    t, xfrm_parse_selector_str(&sa->sel, in, buf, sizeof(buf)));
	if (sa->add_time != 0) {
		d->has_install_unix_s = 1;
		d->install_unix_s = sa->add_time;
	}
	d->has_replay_failures = d->has_integrity_failures = 1;
	d->replay_failures = replay;
	d->integrity_failures = sa->integrity_failed;
}

static void
add_mib(struct stats_tree *t, const struct xfrm_ns_rec *r,
        Secstat__V1__NamespaceIpsecStatistics *ns)
{
	ns->xfrm_mib = arena_alloc(&t->arena, (r->n_mib ? r->n_mib : 1) *
	                                          sizeof(*ns->xfrm_mib));
	for (size_t i = 0; i < r->n_mib; i++) {
		Secstat__V1__XfrmMibCounter *c =
		    arena_alloc(&t->arena, sizeof(*c));

		secstat__v1__xfrm_mib_counter__init(c);
		c->name = arena_strdup(&t->arena, r->mib[i].name);
		c->has_value = 1;
		c->value = r->mib[i].value;
		ns->xfrm_mib[i] = c;
	}
	ns->n_xfrm_mib = r->n_mib;
}

/* A tunnel as seen from this host: the SAs of one direction and of the
 * other direction of the same pair have the same key. */
struct pair_key {
	uint32_t reqid;
	uint16_t family;
	uint8_t proto;
	uint8_t dir; /* sorts IN before OUT within a pair; not compared */
	xfrm_address_t local;
	xfrm_address_t remote;
	size_t idx; /* into r->tuns */
};

static int
pair_cmp_key(const struct pair_key *a, const struct pair_key *b)
{
	int c;

	if (a->reqid != b->reqid) {
		return a->reqid < b->reqid ? -1 : 1;
	}
	if (a->family != b->family) {
		return a->family < b->family ? -1 : 1;
	}
	if (a->proto != b->proto) {
		return a->proto < b->proto ? -1 : 1;
	}
	if ((c = memcmp(&a->local, &b->local, sizeof(a->local))) != 0) {
		return c;
	}
	return memcmp(&a->remote, &b->remote, sizeof(a->remote));
}

static int
pair_cmp(const void *pa, const void *pb)
{
	const struct pair_key *a = pa;
	const struct pair_key *b = pb;
	int c = pair_cmp_key(a, b);

	if (c != 0) {
		return c;
	}
	return a->dir != b->dir ? (a->dir < b->dir ? -1 : 1) : 0;
}

static void
tunnel_side(Secstat__V1__TunnelDetail *d, const struct xfrm_tun_rec *tun)
{
	uint64_t replay = tun->total.replay + tun->total.replay_window_drops;

	if (tun->key.dir == XFRM_DIR_IN) {
		TREE_ADD(d, bytes_in, tun->total.bytes);
		TREE_ADD(d, packets_in, tun->total.packets);
	} else {
		TREE_ADD(d, bytes_out, tun->total.bytes);
		TREE_ADD(d, packets_out, tun->total.packets);
	}
	TREE_ADD(d, sas_added, tun->added);
	TREE_ADD(d, sas_deleted, tun->deleted);
	/* One rekey of a pair replaces an SA in each direction: the pair
	 * counts it once. */
	if (!d->has_rekeys || tun->rekeys > d->rekeys) {
		TREE_SET(d, rekeys, tun->rekeys);
	}
	TREE_ADD(d, replay_failures, replay);
	TREE_ADD(d, integrity_failures, tun->total.integrity_failed);
	TREE_ADD(d, active_sas, tun->live);
	if (tun->encrypting || (d->has_encrypted && d->encrypted)) {
		TREE_SET(d, encrypted, 1);
	} else {
		TREE_SET(d, encrypted, 0);
	}
}

/* `tun` is the direction whose properties describe the entry (the
 * outbound one of a pair: the latest SA the host itself sends with). */
static Secstat__V1__TunnelDetail *
tunnel_entry(struct stats_tree *t, const struct xfrm_ns_rec *r,
             const struct xfrm_tun_rec *tun)
{
	Secstat__V1__TunnelDetail *d = stats_tree_add_tunnel(t);
	bool in = tun->key.dir == XFRM_DIR_IN;
	char buf[INET6_ADDRSTRLEN + 32];
	const char *name;

	d->source = "xfrm";
	d->netns = arena_strdup(&t->arena, r->name);
	TREE_SET(d, reqid, tun->key.reqid);
	if ((name = xfrm_parse_mode_name(tun->mode)) != NULL) {
		d->mode = (char *)name;
	}
	if ((name = xfrm_parse_proto_name(tun->key.proto)) != NULL) {
		d->protocol = (char *)name;
	}
	d->local_address =
	    arena_strdup(&t->arena, xfrm_parse_addr_str(tun->key.family,
	                                                in ? &tun->key.daddr
	                                                   : &tun->key.saddr,
	                                                buf, sizeof(buf)));
	d->remote_address =
	    arena_strdup(&t->arena, xfrm_parse_addr_str(tun->key.family,
	                                                in ? &tun->key.saddr
	                                                   : &tun->key.daddr,
	                                                buf, sizeof(buf)));
	if (tun->has_sel) {
		d->n_local_ts = d->n_remote_ts = 1;
		d->local_ts =
		    one_string(t, xfrm_parse_selector_str(&tun->sel, !in, buf,
		                                          sizeof(buf)));
		d->remote_ts =
		    one_string(t, xfrm_parse_selector_str(&tun->sel, in, buf,
		                                          sizeof(buf)));
	}
	return d;
}

void
xfrm_add_tunnels(struct stats_tree *t, const struct xfrm_ns_rec *r)
{
	struct pair_key *keys;
	size_t n = 0;

	if (r->n_tuns == 0) {
		return;
	}
	keys = calloc(r->n_tuns, sizeof(*keys));
	if (keys == NULL) {
		return; /* the listing goes without tunnels this time */
	}
	for (size_t i = 0; i < r->n_tuns; i++) {
		const struct xfrm_tunnel_key *k = &r->tuns[i].key;
		bool in = k->dir == XFRM_DIR_IN;
		size_t alen = k->family == AF_INET ? 4 : 16;

		/* A tunnel that never had a complete SA (only larval states:
		 * a negotiation) has no properties and nothing to total. */
		if (!r->tuns[i].has_sel) {
			continue;
		}
		/* calloc zeroed the key: unused address bytes compare
		 * equal. */
		keys[n].reqid = k->reqid;
		keys[n].family = k->family;
		keys[n].proto = k->proto;
		keys[n].dir = k->dir;
		memcpy(&keys[n].local, in ? &k->daddr : &k->saddr, alen);
		memcpy(&keys[n].remote, in ? &k->saddr : &k->daddr, alen);
		keys[n].idx = i;
		n++;
	}
	qsort(keys, n, sizeof(*keys), pair_cmp);
	for (size_t i = 0; i < n;) {
		const struct xfrm_tun_rec *a = &r->tuns[keys[i].idx];
		const struct xfrm_tun_rec *b = NULL;
		Secstat__V1__TunnelDetail *d;

		/* Sorted IN before OUT: a pair is two neighbours. */
		if (i + 1 < n && pair_cmp_key(&keys[i], &keys[i + 1]) == 0 &&
		    keys[i].dir == XFRM_DIR_IN &&
		    keys[i + 1].dir == XFRM_DIR_OUT) {
			b = &r->tuns[keys[i + 1].idx];
		}
		d = tunnel_entry(t, r, b != NULL ? b : a);
		tunnel_side(d, a);
		if (b != NULL) {
			tunnel_side(d, b);
		}
		i += b != NULL ? 2 : 1;
	}
	free(keys);
}

void
xfrm_contribute(const void *records, struct stats_tree *t)
{
	const struct xfrm_records *rs = records;
	/* The procfs provider contributes before this one and owns the
	 * agent's own xfrm_stat in the host-wide blocks; when it did not
	 * (not enabled), this provider adds it instead. */
	bool own_mib_done = t->ipsec_response.n_xfrm_mib > 0;

	for (size_t i = 0; i < rs->n_ns; i++) {
		const struct xfrm_ns_rec *r = &rs->ns[i];

		if (r->status != 0) {
			continue;
		}
		map_statistics(r, &t->ipsec);
		if (r->has_drop && (i > 0 || !own_mib_done)) {
			add_drop(&t->ipsec_drop, &r->drop);
		}
		if (i == 0 && !own_mib_done && r->has_mib) {
			for (size_t k = 0; k < r->n_mib; k++) {
				stats_tree_add_xfrm_mib(t, r->mib[k].name,
				                        r->mib[k].value);
			}
		}
		if (rs->per_namespace) {
			Secstat__V1__NamespaceIpsecStatistics *ns =
			    stats_tree_add_namespace(t, r->name);

			map_statistics(r, ns->statistics);
			if (r->has_drop) {
				add_drop(ns->statistics
				             ->aggregate_drop_packet_statistics,
				         &r->drop);
			}
			if (r->has_mib) {
				add_mib(t, r, ns);
			}
		}
		xfrm_add_tunnels(t, r);
		for (size_t k = 0; k < r->n_sas; k++) {
			const struct xfrm_sa *sa = &r->sas[k].sa;

			add_detail(t, r, &r->sas[k]);
			if (is_ipsec(sa) && !xfrm_parse_is_larval(sa)) {
				stats_tree_note_spi(t, sa->spi);
			}
		}
	}
}

const struct provider_ops xfrm_provider = {
    .abi_version = PROVIDER_ABI_VERSION,
    .name = "xfrm",
    .description = "Kernel IPsec SAs over NETLINK_XFRM (per namespace)",
    .families = PROVIDES_IPSEC,
    .simulated = false,
    .probe = xfrm_probe,
    .init = xfrm_init,
    .collect = xfrm_collect,
    .contribute = xfrm_contribute,
    .records_free = xfrm_records_free,
    .fini = xfrm_fini,
};
