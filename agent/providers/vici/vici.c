/*
 * strongSwan charon over vici → IKEEXT_STATISTICS1, IPSEC_STATISTICS1 and
 * the per-SA listing. docs/sources/vici.md is the mapping, line by line.
 */
#define _GNU_SOURCE
#include "vici.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "stats_tree.h"

/* Recently seen IKE_SAs, for pairing a failure (event) with its reason
 * (log message): the two arrive in either order. */
#define RECENT_MAX 128
/* CHILD_SAs folded into the retired totals, remembered with what was
 * folded, so that a late event or listing about them moves them back
 * instead of counting them twice. */
#define FOLDED_MAX 512

struct recent_ike {
	uint32_t uniqueid; /* 0 = free slot */
	bool known;        /* km and fam set (from an SA event) */
	uint8_t km, fam;
	bool mm_failed;     /* failure counted, reason not yet applied */
	unsigned reason;    /* Win32 code from a log message, 0 = none */
	unsigned qm_failed; /* CHILD_SA failures not yet attributed */
};

struct vici_state {
	char *uri;
	pthread_mutex_t mu; /* everything below up to `cmd` */
	struct vici_acc acc;
	struct vici_child *children;
	size_t n_children, cap_children, hint;
	struct vici_tunnel *tunnels;
	size_t n_tunnels, cap_tunnels;
	uint64_t gen;
	struct vici_child folded[FOLDED_MAX]; /* uniqueid 0 = free */
	size_t folded_next;
	struct recent_ike recent[RECENT_MAX];
	size_t recent_next;
	bool userspace_esp;

	/* Command connection: collect() only. */
	struct vici_conn *cmd;
	bool cmd_list_sa; /* list-sa/list-conn registered */

	/* Event thread. */
	pthread_t thread;
	bool thread_started;
	int stop_pipe[2];
};

/* ---- small helpers ---- */

static enum vici_km
km_of(const struct vici_msg *m, const struct vici_node *sa)
{
	uint64_t v = 0;

	return vici_u64(m, sa, "version", &v) == 0 && v == 1 ? VICI_KM_IKEV1
	                                                     : VICI_KM_IKEV2;
}

static enum vici_fam
fam_of(const struct vici_msg *m, const struct vici_node *sa)
{
	const char *h = vici_str(m, sa, "remote-host");

	return h != NULL && strchr(h, ':') != NULL ? VICI_V6 : VICI_V4;
}

static bool
str_is(const char *s, const char *want)
{
	return s != NULL && strcmp(s, want) == 0;
}

static bool
is_aead(const char *encr)
{
	static const char *const aead[] = {
	    "AES_GCM", "AES_CCM", "CHACHA20_POLY1305", "NULL_AUTH_AES_GMAC",
	    "CAMELLIA_CCM"};

	for (size_t i = 0; i < sizeof(aead) / sizeof(aead[0]); i++) {
		if (strncmp(encr, aead[i], strlen(aead[i])) == 0) {
			return true;
		}
	}
	return false;
}

/* Windows traffic categories of a CHILD_SA (docs/sources/vici.md). */
static uint8_t
child_class(const struct vici_msg *m, const struct vici_node *c)
{
	const char *proto = vici_str(m, c, "protocol");
	const char *mode = vici_str(m, c, "mode");
	const char *encr = vici_str(m, c, "encr-alg");
	const char *integ = vici_str(m, c, "integ-alg");
	uint8_t cls = 0;

	if (str_is(proto, "AH")) {
		cls |= VICI_CLS_AH;
	} else if (str_is(proto, "ESP")) {
		if (encr != NULL && strcmp(encr, "NULL") != 0 &&
		    strcmp(encr, "NULL_AUTH_AES_GMAC") != 0) {
			cls |= VICI_CLS_ENCRYPTED;
		}
		if (integ != NULL || (encr != NULL && is_aead(encr))) {
			cls |= VICI_CLS_AUTH_ESP;
		}
	}
	if (str_is(mode, "TUNNEL")) {
		cls |= VICI_CLS_TUNNEL;
	} else if (str_is(mode, "TRANSPORT")) {
		cls |= VICI_CLS_TRANSPORT;
	}
	return cls;
}

static void
traffic_add(struct vici_traffic *tr, uint8_t cls, uint64_t bytes,
            uint64_t packets)
{
	if (cls & VICI_CLS_ENCRYPTED) {
		tr->encrypted += bytes;
	}
	if (cls & VICI_CLS_AUTH_ESP) {
		tr->auth_esp += bytes;
	}
	if (cls & VICI_CLS_AH) {
		tr->auth_ah += bytes;
	}
	if (cls & VICI_CLS_TUNNEL) {
		tr->tunnel += bytes;
	}
	if (cls & VICI_CLS_TRANSPORT) {
		tr->transport += bytes;
	}
	tr->packets += packets;
}

static void
traffic_sum(struct vici_traffic *dst, const struct vici_traffic *src)
{
	dst->encrypted += src->encrypted;
	dst->auth_ah += src->auth_ah;
	dst->auth_esp += src->auth_esp;
	dst->transport += src->transport;
	dst->tunnel += src->tunnel;
	dst->packets += src->packets;
}

/* ---- CHILD_SA tracking (caller holds mu) ---- */

static void
traffic_sub(struct vici_traffic *tr, uint8_t cls, uint64_t bytes,
            uint64_t packets)
{
	if (cls & VICI_CLS_ENCRYPTED) {
		tr->encrypted -= bytes;
	}
	if (cls & VICI_CLS_AUTH_ESP) {
		tr->auth_esp -= bytes;
	}
	if (cls & VICI_CLS_AH) {
		tr->auth_ah -= bytes;
	}
	if (cls & VICI_CLS_TUNNEL) {
		tr->tunnel -= bytes;
	}
	if (cls & VICI_CLS_TRANSPORT) {
		tr->transport -= bytes;
	}
	tr->packets -= packets;
}

/* A folded CHILD_SA that shows up again (left out of one listing, or a
 * late event with its final counters): takes its folded counts back out
 * of the retired totals and returns them, so it is tracked live again. */
static bool
unfold(struct vici_state *s, uint32_t uid, uint32_t spi_in,
       struct vici_child *out)
{
	for (size_t i = 0; i < FOLDED_MAX; i++) {
		struct vici_child *f = &s->folded[i];

		if (f->uniqueid != uid || f->spi_in != spi_in || uid == 0) {
			continue;
		}
		for (int d = 0; d < VICI_DIR_COUNT; d++) {
			traffic_sub(&s->acc.retired[f->kernel][d], f->cls,
			            f->bytes[d], f->packets[d]);
			if (f->tun != 0) {
				s->tunnels[f->tun - 1].bytes[d] -= f->bytes[d];
				s->tunnels[f->tun - 1].packets[d] -=
				    f->packets[d];
			}
		}
		*out = *f;
		memset(f, 0, sizeof(*f));
		return true;
	}
	return false;
}

static void
copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static size_t
copy_list(const struct vici_msg *m, const struct vici_node *sec,
          const char *key, char (*dst)[VICI_TS_LEN])
{
	const struct vici_node *l = vici_child(m, sec, key);
	size_t n = 0;

	if (l == NULL || l->kind != VICI_NODE_LIST) {
		return 0;
	}
	for (const struct vici_node *i = vici_first(m, l);
	     i != NULL && n < VICI_TS_MAX; i = vici_next(m, i)) {
		copy_str(dst[n++], VICI_TS_LEN, i->value);
	}
	return n;
}

static const char *
child_name(const struct vici_msg *m, const struct vici_node *c)
{
	const char *n = vici_str(m, c, "name");

	return n != NULL ? n : c->name;
}

/* The tunnel of CHILD_SA `c` of IKE_SA `sa` (index + 1), created on
 * first sight; 0 when the table is full or memory is short. */
static uint32_t
tunnel_of(struct vici_state *s, const struct vici_msg *m,
          const struct vici_node *sa, const struct vici_node *c)
{
	char conn[VICI_NAME_MAX], name[VICI_NAME_MAX];
	struct vici_tunnel *tun;

	copy_str(conn, sizeof(conn), sa->name);
	copy_str(name, sizeof(name), child_name(m, c));
	for (size_t i = 0; i < s->n_tunnels; i++) {
		if (strcmp(s->tunnels[i].name, name) == 0 &&
		    strcmp(s->tunnels[i].conn, conn) == 0) {
			return (uint32_t)(i + 1);
		}
	}
	if (s->n_tunnels == VICI_TUNNELS_MAX) {
		return 0;
	}
	if (s->n_tunnels == s->cap_tunnels) {
		size_t cap = s->cap_tunnels ? s->cap_tunnels * 2 : 8;
		struct vici_tunnel *n = realloc(s->tunnels, cap * sizeof(*n));

		if (n == NULL) {
			return 0;
		}
		s->tunnels = n;
		s->cap_tunnels = cap;
	}
	tun = &s->tunnels[s->n_tunnels++];
	memset(tun, 0, sizeof(*tun));
	memcpy(tun->conn, conn, sizeof(conn));
	memcpy(tun->name, name, sizeof(name));
	return (uint32_t)s->n_tunnels;
}

/* What a message says about the tunnel's latest CHILD_SA. */
static void
tunnel_note(struct vici_state *s, uint32_t idx, const struct vici_msg *m,
            const struct vici_node *sa, const struct vici_node *c)
{
	struct vici_tunnel *tun;
	const char *proto = vici_str(m, c, "protocol");
	const char *h;
	uint64_t v;
	size_t n;

	if (idx == 0) {
		return;
	}
	tun = &s->tunnels[idx - 1];
	if (vici_u64(m, c, "reqid", &v) == 0 && v <= UINT32_MAX) {
		tun->has_reqid = true;
		tun->reqid = (uint32_t)v;
	}
	if (vici_str(m, c, "mode") != NULL || proto != NULL) {
		tun->cls = child_class(m, c);
	}
	if (str_is(proto, "ESP")) {
		tun->proto = VICI_PROTO_ESP;
	} else if (str_is(proto, "AH")) {
		tun->proto = VICI_PROTO_AH;
	}
	tun->kernel = !s->userspace_esp;
	if ((h = vici_str(m, sa, "local-host")) != NULL) {
		copy_str(tun->local, sizeof(tun->local), h);
	}
	if ((h = vici_str(m, sa, "remote-host")) != NULL) {
		copy_str(tun->remote, sizeof(tun->remote), h);
	}
	/* Selectors replace the previous ones only when listed. */
	if ((n = copy_list(m, c, "local-ts", tun->lts)) > 0) {
		tun->n_lts = (uint8_t)n;
	}
	if ((n = copy_list(m, c, "remote-ts", tun->rts)) > 0) {
		tun->n_rts = (uint8_t)n;
	}
}

static struct vici_child *
find_child(struct vici_state *s, uint32_t uid, uint32_t spi_in)
{
	/* list-sas reports CHILD_SAs in a stable order: start after the
	 * previous match so that a listing costs O(n), not O(n^2). */
	for (size_t k = 0; k < s->n_children; k++) {
		size_t i = (s->hint + k) % s->n_children;

		if (s->children[i].uniqueid == uid &&
		    s->children[i].spi_in == spi_in) {
			s->hint = i + 1;
			return &s->children[i];
		}
	}
	return NULL;
}

/* Notes what a message says about one CHILD_SA: counters only grow, so
 * the largest value seen is the SA's latest. `gen` 0 = from an event. */
static void
observe_child(struct vici_state *s, const struct vici_msg *m,
              const struct vici_node *sa, const struct vici_node *c,
              uint64_t gen)
{
	struct vici_child *ch;
	uint64_t uid = 0, v;
	uint32_t spi_in = 0, spi_out = 0;
	uint32_t tun = tunnel_of(s, m, sa, c);
	static const char *const bkeys[2] = {"bytes-in", "bytes-out"};
	static const char *const pkeys[2] = {"packets-in", "packets-out"};

	tunnel_note(s, tun, m, sa, c);
	if (vici_u64(m, c, "uniqueid", &uid) != 0 || uid > UINT32_MAX ||
	    vici_hex32(m, c, "spi-in", &spi_in) != 0) {
		return; /* not installed yet: nothing to count */
	}
	vici_hex32(m, c, "spi-out", &spi_out);
	ch = find_child(s, (uint32_t)uid, spi_in);
	if (ch == NULL) {
		struct vici_child back;
		bool was = unfold(s, (uint32_t)uid, spi_in, &back);

		if (s->n_children == s->cap_children) {
			size_t cap = s->cap_children ? s->cap_children * 2 : 16;
			struct vici_child *n =
			    realloc(s->children, cap * sizeof(*n));

			if (n == NULL) {
				return;
			}
			s->children = n;
			s->cap_children = cap;
		}
		ch = &s->children[s->n_children++];
		if (was) {
			*ch = back;
		} else {
			memset(ch, 0, sizeof(*ch));
			ch->uniqueid = (uint32_t)uid;
			ch->spi_in = spi_in;
		}
		ch->seen_gen = s->gen;
	}
	ch->spi_out = spi_out;
	if (tun != 0) {
		ch->tun = tun;
	}
	ch->cls = child_class(m, c);
	ch->kernel = !s->userspace_esp;
	for (int d = 0; d < VICI_DIR_COUNT; d++) {
		if (vici_u64(m, c, bkeys[d], &v) == 0 && v > ch->bytes[d]) {
			ch->bytes[d] = v;
		}
		if (vici_u64(m, c, pkeys[d], &v) == 0 && v > ch->packets[d]) {
			ch->packets[d] = v;
		}
	}
	if (gen != 0) {
		ch->seen_gen = gen;
	}
}

/* Moves CHILD_SAs the latest listing no longer shows into the retired
 * totals, with the last counters seen for them. */
static void
fold_vanished(struct vici_state *s)
{
	size_t i = 0;

	while (i < s->n_children) {
		struct vici_child *ch = &s->children[i];

		if (ch->seen_gen == s->gen) {
			i++;
			continue;
		}
		for (int d = 0; d < VICI_DIR_COUNT; d++) {
			traffic_add(&s->acc.retired[ch->kernel][d], ch->cls,
			            ch->bytes[d], ch->packets[d]);
			if (ch->tun != 0) {
				s->tunnels[ch->tun - 1].bytes[d] +=
				    ch->bytes[d];
				s->tunnels[ch->tun - 1].packets[d] +=
				    ch->packets[d];
			}
		}
		/* The ring's oldest entry stays folded for good. */
		s->folded[s->folded_next] = *ch;
		s->folded_next = (s->folded_next + 1) % FOLDED_MAX;
		*ch = s->children[--s->n_children];
	}
	s->hint = 0;
}

/* ---- failure classification ---- */

static const struct {
	const char *needle;
	unsigned code;
} log_reasons[] = {
    /* Authentication: notify sent or received, PSK MAC mismatch. */
    {"N(AUTH_FAILED)", 13801},
    {"received AUTHENTICATION_FAILED notify", 13801},
    {"MAC mismatched", 13801},
    {"no shared key found", 13801},
    {"signature validation failed", 13826},
    {"no private key found", 13820},
    /* No acceptable proposal or configuration. */
    {"N(NO_PROP)", 13825},
    {"received NO_PROPOSAL_CHOSEN notify", 13825},
    {"no acceptable proposal found", 13825},
    {"no peer config found", 13825},
    /* Traffic selectors refused. */
    {"N(TS_UNACCEPT)", 13868},
    {"received TS_UNACCEPTABLE notify", 13868},
    /* Malformed messages. */
    {"received INVALID_SYNTAX notify", 13843},
    {"received UNSUPPORTED_CRITICAL_PAYLOAD notify", 13823},
    /* Peer silent: retransmits exhausted. */
    {"giving up after", 13805},
};

unsigned
vici_classify_log(const char *msg)
{
	if (msg == NULL) {
		return 0;
	}
	for (size_t i = 0; i < sizeof(log_reasons) / sizeof(log_reasons[0]);
	     i++) {
		if (strstr(msg, log_reasons[i].needle) != NULL) {
			return log_reasons[i].code;
		}
	}
	return 0;
}

static struct recent_ike *
recent_get(struct vici_state *s, uint32_t uid)
{
	struct recent_ike *r;

	for (size_t i = 0; i < RECENT_MAX; i++) {
		if (s->recent[i].uniqueid == uid) {
			return &s->recent[i];
		}
	}
	r = &s->recent[s->recent_next];
	s->recent_next = (s->recent_next + 1) % RECENT_MAX;
	memset(r, 0, sizeof(*r));
	r->uniqueid = uid;
	return r;
}

/* Applies what is known about one IKE_SA: a failure with a reason goes
 * to the error table once; CHILD_SA failures need the key module. */
static void
recent_settle(struct vici_state *s, struct recent_ike *r)
{
	if (!r->known) {
		return;
	}
	if (r->mm_failed && r->reason != 0) {
		s->acc.errors[r->km][r->reason - 13800]++;
		r->mm_failed = false;
		r->reason = 0;
	}
	while (r->qm_failed > 0) {
		s->acc.neg[r->km][r->fam].qm_failed++;
		if (r->reason != 0) {
			s->acc.errors[r->km][r->reason - 13800]++;
			r->reason = 0;
		}
		r->qm_failed--;
	}
}

static void
recent_know(struct vici_state *s, uint32_t uid, enum vici_km km,
            enum vici_fam fam)
{
	struct recent_ike *r = recent_get(s, uid);

	r->known = true;
	r->km = (uint8_t)km;
	r->fam = (uint8_t)fam;
	recent_settle(s, r);
}

static const struct vici_node *first_section(const struct vici_msg *m,
                                             const struct vici_node *parent);
static uint32_t uid_of(const struct vici_msg *m, const struct vici_node *sa);

/* A CHILD_SA failure logged on an IKE_SA that was up before the agent
 * started (no event told its key module and family): the listing does.
 * Only entries waiting for that are looked up, so a large listing cannot
 * push pending failures out of the ring. */
static void
resolve_pending(struct vici_state *s, const struct vici_msg *sas, size_t n)
{
	for (size_t k = 0; k < RECENT_MAX; k++) {
		struct recent_ike *r = &s->recent[k];

		if (r->uniqueid == 0 || r->known ||
		    (r->qm_failed == 0 && !r->mm_failed)) {
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			const struct vici_node *sa =
			    first_section(&sas[i], vici_root(&sas[i]));

			if (sa != NULL && uid_of(&sas[i], sa) == r->uniqueid) {
				r->known = true;
				r->km = (uint8_t)km_of(&sas[i], sa);
				r->fam = (uint8_t)fam_of(&sas[i], sa);
				recent_settle(s, r);
				break;
			}
		}
	}
}

/* ---- events (caller holds mu) ---- */

static const struct vici_node *
first_section(const struct vici_msg *m, const struct vici_node *parent)
{
	for (const struct vici_node *n = vici_first(m, parent); n != NULL;
	     n = vici_next(m, n)) {
		if (n->kind == VICI_NODE_SECTION) {
			return n;
		}
	}
	return NULL;
}

static uint32_t
uid_of(const struct vici_msg *m, const struct vici_node *sa)
{
	uint64_t v = 0;

	return vici_u64(m, sa, "uniqueid", &v) == 0 && v <= UINT32_MAX
	           ? (uint32_t)v
	           : 0;
}

static bool
is_ipsec_proto(const struct vici_msg *m, const struct vici_node *c)
{
	const char *p = vici_str(m, c, "protocol");

	return str_is(p, "ESP") || str_is(p, "AH");
}

static void
on_ike_updown(struct vici_state *s, const struct vici_msg *m)
{
	const struct vici_node *root = vici_root(m);
	const struct vici_node *sa = first_section(m, root);
	enum vici_km km;
	enum vici_fam fam;
	bool resp;
	const char *state;
	uint32_t uid;

	if (sa == NULL) {
		return;
	}
	km = km_of(m, sa);
	fam = fam_of(m, sa);
	resp = !vici_yes(m, sa, "initiator");
	state = vici_str(m, sa, "state");
	uid = uid_of(m, sa);
	if (vici_yes(m, root, "up")) {
		s->acc.neg[km][fam].mm_ok++;
		s->acc.neg[km][fam].mm_resp_ok += resp;
	} else if (str_is(state, "CONNECTING") || str_is(state, "CREATED")) {
		/* Down before it was ever established: a failed
		 * negotiation (an established SA goes down as DELETING). */
		s->acc.neg[km][fam].mm_failed++;
		s->acc.neg[km][fam].mm_resp_failed += resp;
		if (uid != 0) {
			recent_get(s, uid)->mm_failed = true;
		}
	}
	if (uid != 0) {
		recent_know(s, uid, km, fam);
	}
}

static void
on_child_updown(struct vici_state *s, const struct vici_msg *m)
{
	const struct vici_node *root = vici_root(m);
	const struct vici_node *sa = first_section(m, root);
	const struct vici_node *children;
	bool up = vici_yes(m, root, "up");
	enum vici_km km;
	enum vici_fam fam;

	if (sa == NULL) {
		return;
	}
	km = km_of(m, sa);
	fam = fam_of(m, sa);
	children = vici_section(m, sa, "child-sas");
	for (const struct vici_node *c = vici_first(m, children); c != NULL;
	     c = vici_next(m, c)) {
		if (c->kind != VICI_NODE_SECTION) {
			continue;
		}
		uint32_t tun = tunnel_of(s, m, sa, c);

		if (up) {
			s->acc.neg[km][fam].qm_ok++;
		}
		if (is_ipsec_proto(m, c)) {
			if (up) {
				s->acc.sas_added += 2;
			} else {
				s->acc.sas_deleted += 2;
			}
			if (tun != 0 && up) {
				s->tunnels[tun - 1].added += 2;
			} else if (tun != 0) {
				s->tunnels[tun - 1].deleted += 2;
			}
		}
		observe_child(s, m, sa, c, 0);
	}
	if (uid_of(m, sa) != 0) {
		recent_know(s, uid_of(m, sa), km, fam);
	}
}

static void
on_child_rekey(struct vici_state *s, const struct vici_msg *m)
{
	const struct vici_node *sa = first_section(m, vici_root(m));
	const struct vici_node *children;
	enum vici_km km;
	enum vici_fam fam;

	if (sa == NULL) {
		return;
	}
	km = km_of(m, sa);
	fam = fam_of(m, sa);
	children = vici_section(m, sa, "child-sas");
	for (const struct vici_node *c = vici_first(m, children); c != NULL;
	     c = vici_next(m, c)) {
		const struct vici_node *old = vici_section(m, c, "old");
		const struct vici_node *nw = vici_section(m, c, "new");

		if (c->kind != VICI_NODE_SECTION) {
			continue;
		}
		uint32_t tun = tunnel_of(s, m, sa,
		                         nw != NULL    ? nw
		                         : old != NULL ? old
		                                       : c);
		struct vici_tunnel *tt = tun != 0 ? &s->tunnels[tun - 1] : NULL;

		s->acc.neg[km][fam].qm_ok++;
		s->acc.rekeys++;
		if (tt != NULL) {
			tt->rekeys++;
		}
		if (nw != NULL && is_ipsec_proto(m, nw)) {
			s->acc.sas_added += 2;
			if (tt != NULL) {
				tt->added += 2;
			}
		}
		if (old != NULL && is_ipsec_proto(m, old)) {
			/* The old pair is deleted right after; charon sends
			 * no child-updown for it. */
			s->acc.sas_deleted += 2;
			if (tt != NULL) {
				tt->deleted += 2;
			}
		}
		if (old != NULL) {
			observe_child(s, m, sa, old, 0);
		}
		if (nw != NULL) {
			observe_child(s, m, sa, nw, 0);
		}
	}
}

static void
on_ike_rekey(struct vici_state *s, const struct vici_msg *m)
{
	const struct vici_node *sa = first_section(m, vici_root(m));
	const struct vici_node *nw =
	    sa != NULL ? vici_section(m, sa, "new") : NULL;

	if (nw != NULL && uid_of(m, nw) != 0) {
		recent_know(s, uid_of(m, nw), km_of(m, nw), fam_of(m, nw));
	}
}

static void
on_log(struct vici_state *s, const struct vici_msg *m)
{
	const struct vici_node *root = vici_root(m);
	const char *msg = vici_str(m, root, "msg");
	uint64_t uid = 0;
	unsigned code;
	struct recent_ike *r;

	if (msg == NULL || vici_u64(m, root, "ikesa-uniqueid", &uid) != 0 ||
	    uid == 0 || uid > UINT32_MAX) {
		return;
	}
	code = vici_classify_log(msg);
	if (code != 0) {
		r = recent_get(s, (uint32_t)uid);
		r->reason = code;
		recent_settle(s, r);
	}
	if (strstr(msg, "failed to establish CHILD_SA") != NULL) {
		r = recent_get(s, (uint32_t)uid);
		r->qm_failed++;
		recent_settle(s, r);
	}
}

void
vici_handle_event(struct vici_state *s, const struct vici_packet *p)
{
	struct vici_msg m;

	if (p->type != VICI_EVENT ||
	    vici_decode(p->body, p->body_len, &m) != 0) {
		return;
	}
	pthread_mutex_lock(&s->mu);
	if (strcmp(p->name, "ike-updown") == 0) {
		on_ike_updown(s, &m);
	} else if (strcmp(p->name, "child-updown") == 0) {
		on_child_updown(s, &m);
	} else if (strcmp(p->name, "child-rekey") == 0) {
		on_child_rekey(s, &m);
	} else if (strcmp(p->name, "ike-rekey") == 0) {
		on_ike_rekey(s, &m);
	} else if (strcmp(p->name, "log") == 0) {
		on_log(s, &m);
	}
	pthread_mutex_unlock(&s->mu);
	vici_msg_free(&m);
}

/* ---- the event thread ---- */

static int
event_cb(void *arg, const struct vici_packet *p)
{
	vici_handle_event(arg, p);
	return 0;
}

/* Sleeps up to ms; true when asked to stop. */
static bool
stop_wait(struct vici_state *s, int ms)
{
	struct pollfd pfd = {.fd = s->stop_pipe[0], .events = POLLIN};

	return poll(&pfd, 1, ms) != 0;
}

static const char *const sa_events[] = {"ike-updown", "child-updown",
                                        "ike-rekey", "child-rekey"};

static int
event_register(struct vici_state *s, struct vici_conn *c)
{
	int64_t dl = vici_now_ms() + VICI_IDLE_MS * 4;
	int rv;

	for (size_t i = 0; i < sizeof(sa_events) / sizeof(sa_events[0]); i++) {
		rv = vici_conn_register(c, sa_events[i], true, VICI_IDLE_MS, dl,
		                        event_cb, s);
		if (rv != 0) {
			return rv;
		}
	}
	/* The log stream names failure reasons; without it failures are
	 * still counted, only not classified. */
	rv = vici_conn_register(c, "log", true, VICI_IDLE_MS, dl, event_cb, s);
	pthread_mutex_lock(&s->mu);
	s->acc.events_up = true;
	if (rv == 0) {
		s->acc.log_up = true;
	}
	/* charon numbers IKE_SAs from 1 again after a restart. */
	memset(s->recent, 0, sizeof(s->recent));
	pthread_mutex_unlock(&s->mu);
	return rv == -EOPNOTSUPP ? 0 : rv;
}

static void *
event_main(void *arg)
{
	struct vici_state *s = arg;
	int backoff = VICI_BACKOFF_MIN_MS;
	bool was_up = false;

	while (!stop_wait(s, 0)) {
		struct vici_conn *c = NULL;
		int rv;

		rv =
		    vici_conn_open(s->uri, vici_now_ms() + VICI_CONNECT_MS, &c);
		if (rv == 0) {
			vici_conn_set_cancel(c, s->stop_pipe[0]);
			rv = event_register(s, c);
		}
		if (rv != 0) {
			vici_conn_close(c);
			if (stop_wait(s, backoff)) {
				break;
			}
			backoff = backoff * 2 > VICI_BACKOFF_MAX_MS
			              ? VICI_BACKOFF_MAX_MS
			              : backoff * 2;
			continue;
		}
		if (was_up) {
			log_notice("vici: event stream to %s restored", s->uri);
		}
		was_up = true;
		backoff = VICI_BACKOFF_MIN_MS;
		/* Bounded by the stream: ends on stop, error or close. */
		for (;;) {
			struct pollfd pfd[2] = {
			    {.fd = vici_conn_fd(c), .events = POLLIN},
			    {.fd = s->stop_pipe[0], .events = POLLIN},
			};
			struct vici_packet p;
			uint8_t *seg = NULL;
			size_t len;

			if (poll(pfd, 2, -1) < 0) {
				if (errno == EINTR) {
					continue;
				}
				break;
			}
			if (pfd[1].revents != 0) {
				break;
			}
			rv = vici_conn_recv(c, VICI_IDLE_MS,
			                    vici_now_ms() + VICI_IDLE_MS * 4,
			                    &seg, &len);
			if (rv != 0) {
				break;
			}
			if (vici_packet_parse(seg, len, &p) == 0 &&
			    p.type == VICI_EVENT) {
				vici_handle_event(s, &p);
			}
			free(seg);
		}
		vici_conn_close(c);
		if (stop_wait(s, 0)) {
			break;
		}
		pthread_mutex_lock(&s->mu);
		s->acc.event_drops++;
		pthread_mutex_unlock(&s->mu);
		log_warning("vici: event stream to %s lost, reconnecting",
		            s->uri);
		if (stop_wait(s, backoff)) {
			break;
		}
	}
	return NULL;
}

/* ---- state ---- */

struct vici_state *
vici_state_new(const char *uri)
{
	struct vici_state *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		return NULL;
	}
	s->uri = strdup(uri != NULL ? uri : VICI_DEFAULT_URI);
	if (s->uri == NULL || pipe2(s->stop_pipe, O_CLOEXEC) != 0) {
		free(s->uri);
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	return s;
}

void
vici_state_free(struct vici_state *s)
{
	if (s == NULL) {
		return;
	}
	if (s->thread_started) {
		(void)!write(s->stop_pipe[1], "x", 1);
		pthread_join(s->thread, NULL);
	}
	vici_conn_close(s->cmd);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	pthread_mutex_destroy(&s->mu);
	free(s->children);
	free(s->tunnels);
	free(s->uri);
	free(s);
}

/* ---- records ---- */

static void
free_msgs(struct vici_msg *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		vici_msg_free(&v[i]);
	}
	free(v);
}

void
vici_records_free(struct vici_records *r)
{
	if (r == NULL) {
		return;
	}
	vici_msg_free(&r->version);
	vici_msg_free(&r->stats);
	vici_msg_free(&r->counters);
	free_msgs(r->sas, r->n_sas);
	free_msgs(r->conns, r->n_conns);
	free(r->live);
	free(r->tunnels);
	free(r);
}

static bool
has_plugin(const struct vici_msg *m, const char *name)
{
	const struct vici_node *l = vici_child(m, vici_root(m), "plugins");

	for (const struct vici_node *n = vici_first(m, l); n != NULL;
	     n = vici_next(m, n)) {
		if (n->kind == VICI_NODE_ITEM && strcmp(n->value, name) == 0) {
			return true;
		}
	}
	return false;
}

static void
take(struct vici_msg *dst, bool *has, struct vici_msg *src)
{
	if (src != NULL) {
		*dst = *src;
		memset(src, 0, sizeof(*src));
		*has = true;
	}
}

int
vici_records_make(struct vici_state *s, struct vici_msg *version,
                  struct vici_msg *stats, struct vici_msg *counters,
                  struct vici_msg *sas, size_t n_sas, struct vici_msg *conns,
                  size_t n_conns, struct vici_records **out)
{
	struct vici_records *r = calloc(1, sizeof(*r));
	bool oom;

	*out = NULL;
	if (r == NULL) {
		if (version != NULL) {
			vici_msg_free(version);
		}
		if (stats != NULL) {
			vici_msg_free(stats);
		}
		if (counters != NULL) {
			vici_msg_free(counters);
		}
		free_msgs(sas, n_sas);
		free_msgs(conns, n_conns);
		return -ENOMEM;
	}
	take(&r->version, &r->has_version, version);
	take(&r->stats, &r->has_stats, stats);
	take(&r->counters, &r->has_counters, counters);
	r->sas = sas;
	r->n_sas = n_sas;
	r->conns = conns;
	r->n_conns = n_conns;
	r->userspace_esp =
	    r->has_stats && has_plugin(&r->stats, "kernel-libipsec");

	pthread_mutex_lock(&s->mu);
	s->userspace_esp = r->userspace_esp;
	s->gen++;
	for (size_t i = 0; i < n_sas; i++) {
		const struct vici_msg *m = &sas[i];
		const struct vici_node *sa = first_section(m, vici_root(m));
		const struct vici_node *ch = vici_section(m, sa, "child-sas");

		for (const struct vici_node *c = vici_first(m, ch); c != NULL;
		     c = vici_next(m, c)) {
			if (c->kind == VICI_NODE_SECTION) {
				observe_child(s, m, sa, c, s->gen);
			}
		}
	}
	resolve_pending(s, sas, n_sas);
	fold_vanished(s);
	r->acc = s->acc;
	if (s->n_children > 0) {
		r->live = malloc(s->n_children * sizeof(*r->live));
		if (r->live != NULL) {
			memcpy(r->live, s->children,
			       s->n_children * sizeof(*r->live));
			r->n_live = s->n_children;
		}
	}
	if (s->n_tunnels > 0) {
		r->tunnels = malloc(s->n_tunnels * sizeof(*r->tunnels));
		if (r->tunnels != NULL) {
			memcpy(r->tunnels, s->tunnels,
			       s->n_tunnels * sizeof(*r->tunnels));
			r->n_tunnels = s->n_tunnels;
		}
	}
	oom = (s->n_children > 0 && r->live == NULL) ||
	      (s->n_tunnels > 0 && r->tunnels == NULL);
	pthread_mutex_unlock(&s->mu);
	if (oom) {
		vici_records_free(r);
		return -ENOMEM;
	}
	*out = r;
	return 0;
}

/* ---- collection ---- */

struct msg_list {
	const char *event; /* the streamed event wanted */
	struct vici_msg *v;
	size_t n, cap;
	int err;
};

static int
collect_event(void *arg, const struct vici_packet *p)
{
	struct msg_list *l = arg;
	struct vici_msg m;

	if (strcmp(p->name, l->event) != 0) {
		return 0;
	}
	if (vici_decode(p->body, p->body_len, &m) != 0) {
		l->err = -EBADMSG;
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct vici_msg *nv = realloc(l->v, cap * sizeof(*nv));

		if (nv == NULL) {
			vici_msg_free(&m);
			return -ENOMEM;
		}
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = m;
	return 0;
}

static int
streamed(struct vici_conn *c, const char *cmd, const char *event,
         const struct vici_builder *body, int64_t deadline, struct msg_list *l)
{
	struct vici_msg reply;
	int rv;

	l->event = event;
	rv = vici_conn_command(c, cmd, body, VICI_IDLE_MS, deadline,
	                       collect_event, l, &reply);
	if (rv == 0) {
		vici_msg_free(&reply);
		rv = l->err;
	}
	return rv;
}

int
vici_collect(struct vici_state *s, struct vici_records **out)
{
	int64_t deadline = vici_now_ms() + VICI_COLLECT_MAX_MS;
	struct vici_msg version, stats, counters;
	bool has_version = false, has_counters = false;
	struct msg_list sas = {0}, conns = {0};
	int rv;

	*out = NULL;
	memset(&stats, 0, sizeof(stats));
	if (s->cmd != NULL && vici_conn_broken(s->cmd)) {
		vici_conn_close(s->cmd);
		s->cmd = NULL;
	}
	if (s->cmd == NULL) {
		s->cmd_list_sa = false;
		rv = vici_conn_open(s->uri, vici_now_ms() + VICI_CONNECT_MS,
		                    &s->cmd);
		if (rv != 0) {
			goto out;
		}
	}
	if (!s->cmd_list_sa) {
		rv = vici_conn_register(s->cmd, "list-sa", true, VICI_IDLE_MS,
		                        deadline, NULL, NULL);
		if (rv == 0) {
			rv = vici_conn_register(s->cmd, "list-conn", true,
			                        VICI_IDLE_MS, deadline, NULL,
			                        NULL);
		}
		if (rv != 0) {
			goto out;
		}
		s->cmd_list_sa = true;
	}
	rv = vici_conn_command(s->cmd, "version", NULL, VICI_IDLE_MS, deadline,
	                       NULL, NULL, &version);
	if (rv == 0) {
		has_version = true;
	} else if (rv != -EOPNOTSUPP) {
		goto out;
	}
	rv = vici_conn_command(s->cmd, "stats", NULL, VICI_IDLE_MS, deadline,
	                       NULL, NULL, &stats);
	if (rv != 0) {
		goto out;
	}
	/* Blocking, as swanctl lists: with noblock charon leaves out the
	 * IKE_SAs another of its threads holds at that moment (during any
	 * exchange, a rekey for one), which would make live SAs look gone.
	 * charon holds an IKE_SA only while it processes a message; the
	 * idle deadline still bounds a stuck one. */
	rv = streamed(s->cmd, "list-sas", "list-sa", NULL, deadline, &sas);
	if (rv != 0) {
		goto out;
	}
	rv =
	    streamed(s->cmd, "list-conns", "list-conn", NULL, deadline, &conns);
	if (rv != 0) {
		goto out;
	}
	rv = vici_conn_command(s->cmd, "get-counters", NULL, VICI_IDLE_MS,
	                       deadline, NULL, NULL, &counters);
	if (rv == 0) {
		has_counters =
		    vici_yes(&counters, vici_root(&counters), "success");
		if (!has_counters) {
			vici_msg_free(&counters);
		}
	} else if (rv != -EOPNOTSUPP) {
		goto out;
	}
	rv = vici_records_make(s, has_version ? &version : NULL, &stats,
	                       has_counters ? &counters : NULL, sas.v, sas.n,
	                       conns.v, conns.n, out);
	has_version = false;
	memset(&sas, 0, sizeof(sas));
	memset(&conns, 0, sizeof(conns));
	memset(&stats, 0, sizeof(stats));
out:
	if (rv != 0 && s->cmd != NULL && vici_conn_broken(s->cmd)) {
		vici_conn_close(s->cmd);
		s->cmd = NULL;
	}
	if (has_version) {
		vici_msg_free(&version);
	}
	vici_msg_free(&stats);
	free_msgs(sas.v, sas.n);
	free_msgs(conns.v, conns.n);
	return rv;
}

/* ---- contribution ---- */

static Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics *
km_block(struct stats_tree *t, enum vici_km km, enum vici_fam fam)
{
	return &t->km_ip[km == VICI_KM_IKEV1 ? KEY_MODULE_IKE
	                                     : KEY_MODULE_IKEV2][fam];
}

static uint64_t
u64_or0(const struct vici_msg *m, const struct vici_node *sec, const char *key)
{
	uint64_t v = 0;

	return vici_u64(m, sec, key, &v) == 0 ? v : 0;
}

static void
contribute_counters(const struct vici_records *r, struct stats_tree *t)
{
	static const char *const in_keys[] = {
	    "ike-init-in-req",  "ike-init-in-resp",    "ike-auth-in-req",
	    "ike-auth-in-resp", "create-child-in-req", "create-child-in-resp",
	    "info-in-req",      "info-in-resp"};
	const struct vici_msg *m = &r->counters;
	const struct vici_node *all = vici_section(m, vici_root(m), "counters");
	const struct vici_node *g = vici_section(m, all, "");
	uint64_t valid = 0, invalid;

	if (g == NULL) {
		return;
	}
	for (size_t i = 0; i < sizeof(in_keys) / sizeof(in_keys[0]); i++) {
		valid += u64_or0(m, g, in_keys[i]);
	}
	invalid = u64_or0(m, g, "invalid") + u64_or0(m, g, "invalid-spi");
	TREE_ADD(&t->common, total_packets_received, valid + invalid);
	TREE_ADD(&t->common, total_invalid_packets_received, invalid);
}

static void
contribute_stats(const struct vici_records *r, struct stats_tree *t)
{
	static const char *const q[] = {"critical", "high", "medium", "low"};
	const struct vici_msg *m = &r->stats;
	const struct vici_node *queues =
	    vici_section(m, vici_root(m), "queues");
	uint64_t sum = 0, v;
	bool any = false;

	for (size_t i = 0; i < 4; i++) {
		if (vici_u64(m, queues, q[i], &v) == 0) {
			sum += v;
			any = true;
		}
	}
	if (any) {
		TREE_ADD(&t->common, current_queued_workitems, sum);
	}
}

static const char *
tdup(struct stats_tree *t, const char *s)
{
	return s != NULL ? arena_strdup(&t->arena, s) : NULL;
}

static char *
lower_dup(struct stats_tree *t, const char *s)
{
	char *d;

	if (s == NULL) {
		return NULL;
	}
	d = arena_strdup(&t->arena, s);
	for (char *p = d; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z') {
			*p = (char)(*p - 'A' + 'a');
		}
	}
	return d;
}

/* "AES_CBC-256" like swanctl prints it; the bare name without a size. */
static char *
alg_dup(struct stats_tree *t, const struct vici_msg *m,
        const struct vici_node *sec, const char *alg_key, const char *size_key)
{
	const char *alg = vici_str(m, sec, alg_key);
	const char *size = vici_str(m, sec, size_key);
	char buf[300];

	if (alg == NULL) {
		return NULL;
	}
	if (size == NULL) {
		return arena_strdup(&t->arena, alg);
	}
	snprintf(buf, sizeof(buf), "%s-%s", alg, size);
	return arena_strdup(&t->arena, buf);
}

static void
list_dup(struct stats_tree *t, const struct vici_msg *m,
         const struct vici_node *sec, const char *name, char ***out, size_t *n)
{
	const struct vici_node *l = vici_child(m, sec, name);
	size_t count = 0;

	*n = 0;
	*out = NULL;
	if (l == NULL || l->kind != VICI_NODE_LIST) {
		return;
	}
	for (const struct vici_node *i = vici_first(m, l); i != NULL;
	     i = vici_next(m, i)) {
		count++;
	}
	if (count == 0) {
		return;
	}
	*out = arena_alloc(&t->arena, count * sizeof(char *));
	for (const struct vici_node *i = vici_first(m, l); i != NULL;
	     i = vici_next(m, i)) {
		(*out)[(*n)++] = arena_strdup(&t->arena, i->value);
	}
}

#define SET_U64(msg, field, m, sec, key)                                       \
	do {                                                                   \
		uint64_t v_;                                                   \
		if (vici_u64(m, sec, key, &v_) == 0) {                         \
			TREE_SET(msg, field, v_);                              \
		}                                                              \
	} while (0)

#define SET_U32(msg, field, m, sec, key)                                       \
	do {                                                                   \
		uint64_t v_;                                                   \
		if (vici_u64(m, sec, key, &v_) == 0 && v_ <= UINT32_MAX) {     \
			TREE_SET(msg, field, (uint32_t)v_);                    \
		}                                                              \
	} while (0)

/*
 * The kernel SAs an earlier provider listed (ipsec_sas, one entry per
 * direction), by SPI: a CHILD_SA of charon's kernel backend is the same
 * pair, and the listing's ipsec_sas are the SAs no IKE SA accounts for.
 */
struct kernel_index {
	uint32_t *spi; /* 0 = empty */
	size_t *pos;   /* index in t->sa_response.ipsec_sas */
	size_t cap;    /* power of two, 0 = no kernel SAs */
};

static size_t
kidx_hash(uint32_t spi, size_t cap)
{
	return (size_t)((spi * 2654435761u) & (cap - 1));
}

static void
kidx_build(struct stats_tree *t, struct kernel_index *k)
{
	size_t n = t->sa_response.n_ipsec_sas;

	memset(k, 0, sizeof(*k));
	if (n == 0) {
		return;
	}
	k->cap = 16;
	while (k->cap < n * 2) {
		k->cap <<= 1;
	}
	k->spi = arena_alloc(&t->arena, k->cap * sizeof(*k->spi));
	k->pos = arena_alloc(&t->arena, k->cap * sizeof(*k->pos));
	for (size_t i = 0; i < n; i++) {
		const Secstat__V1__IpsecSaDetail *e =
		    t->sa_response.ipsec_sas[i];
		uint32_t spi = e->has_spi_in    ? e->spi_in
		               : e->has_spi_out ? e->spi_out
		                                : 0;
		size_t h;

		if (spi == 0) {
			continue;
		}
		for (h = kidx_hash(spi, k->cap);
		     k->spi[h] != 0 && k->spi[h] != spi;
		     h = (h + 1) & (k->cap - 1)) {
		}
		if (k->spi[h] == 0) {
			k->spi[h] = spi;
			k->pos[h] = i;
		}
	}
}

/* The listed kernel SA with this SPI, taken out of ipsec_sas (its slot
 * set to NULL, compacted later), or NULL. */
static Secstat__V1__IpsecSaDetail *
kidx_take(struct stats_tree *t, struct kernel_index *k, uint32_t spi)
{
	Secstat__V1__IpsecSaDetail *e;
	size_t h;

	if (k->cap == 0 || spi == 0) {
		return NULL;
	}
	for (h = kidx_hash(spi, k->cap); k->spi[h] != 0;
	     h = (h + 1) & (k->cap - 1)) {
		if (k->spi[h] == spi) {
			e = t->sa_response.ipsec_sas[k->pos[h]];
			t->sa_response.ipsec_sas[k->pos[h]] = NULL;
			return e;
		}
	}
	return NULL;
}

static void
kidx_compact(struct stats_tree *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->sa_response.n_ipsec_sas; i++) {
		if (t->sa_response.ipsec_sas[i] != NULL) {
			t->sa_response.ipsec_sas[n++] =
			    t->sa_response.ipsec_sas[i];
		}
	}
	t->sa_response.n_ipsec_sas = n;
}

/* A CHILD_SA's kernel pair leaves the unowned list; the inbound SA's
 * drop counters (kernel-only knowledge) move into the CHILD_SA. */
static void
absorb_kernel_pair(struct stats_tree *t, struct kernel_index *k,
                   Secstat__V1__IpsecSaDetail *d)
{
	Secstat__V1__IpsecSaDetail *in =
	    d->has_spi_in ? kidx_take(t, k, d->spi_in) : NULL;

	if (d->has_spi_out) {
		(void)kidx_take(t, k, d->spi_out);
	}
	if (in == NULL) {
		return;
	}
	if (in->has_replay_failures) {
		TREE_SET(d, replay_failures, in->replay_failures);
	}
	if (in->has_integrity_failures) {
		TREE_SET(d, integrity_failures, in->integrity_failures);
	}
	if (d->netns == NULL && in->netns != NULL) {
		d->netns = in->netns;
	}
}

static void
detail_child(struct stats_tree *t, struct kernel_index *k,
             Secstat__V1__IkeSaDetail *ike, const struct vici_msg *m,
             const struct vici_node *sa, const struct vici_node *c,
             uint64_t wall)
{
	Secstat__V1__IpsecSaDetail *d = stats_tree_add_child_sa(t, ike);
	uint32_t spi;
	uint64_t v;

	d->source = (char *)"vici";
	d->name = (char *)tdup(t, vici_str(m, c, "name"));
	SET_U32(d, reqid, m, c, "reqid");
	SET_U32(d, unique_id, m, c, "uniqueid");
	SET_U32(d, ike_sa_unique_id, m, sa, "uniqueid");
	d->state = (char *)tdup(t, vici_str(m, c, "state"));
	d->mode = lower_dup(t, vici_str(m, c, "mode"));
	d->protocol = lower_dup(t, vici_str(m, c, "protocol"));
	TREE_SET(d, encap, vici_yes(m, c, "encap"));
	d->local_address = (char *)tdup(t, vici_str(m, sa, "local-host"));
	d->remote_address = (char *)tdup(t, vici_str(m, sa, "remote-host"));
	if (vici_hex32(m, c, "spi-in", &spi) == 0) {
		TREE_SET(d, spi_in, spi);
	}
	if (vici_hex32(m, c, "spi-out", &spi) == 0) {
		TREE_SET(d, spi_out, spi);
	}
	d->encryption_algorithm = alg_dup(t, m, c, "encr-alg", "encr-keysize");
	d->integrity_algorithm = alg_dup(t, m, c, "integ-alg", "integ-keysize");
	list_dup(t, m, c, "local-ts", &d->local_ts, &d->n_local_ts);
	list_dup(t, m, c, "remote-ts", &d->remote_ts, &d->n_remote_ts);
	if (vici_u64(m, c, "install-time", &v) == 0 && v <= wall) {
		TREE_SET(d, install_unix_s, wall - v);
	}
	SET_U64(d, bytes_in, m, c, "bytes-in");
	SET_U64(d, packets_in, m, c, "packets-in");
	SET_U64(d, bytes_out, m, c, "bytes-out");
	SET_U64(d, packets_out, m, c, "packets-out");
	if (vici_u64(m, c, "use-in", &v) == 0 && v <= wall) {
		TREE_SET(d, last_use_in_unix_s, wall - v);
	}
	if (vici_u64(m, c, "use-out", &v) == 0 && v <= wall) {
		TREE_SET(d, last_use_out_unix_s, wall - v);
	}
	SET_U64(d, rekey_in_s, m, c, "rekey-time");
	SET_U64(d, expire_in_s, m, c, "life-time");
	absorb_kernel_pair(t, k, d);
}

static void
detail_ike(struct stats_tree *t, struct kernel_index *k,
           const struct vici_msg *m, const struct vici_node *sa, uint64_t wall)
{
	Secstat__V1__IkeSaDetail *d = stats_tree_add_ike_sa(t);
	const struct vici_node *ch = vici_section(m, sa, "child-sas");

	d->source = (char *)"vici";
	d->name = (char *)tdup(t, sa->name);
	SET_U32(d, unique_id, m, sa, "uniqueid");
	SET_U32(d, version, m, sa, "version");
	d->state = (char *)tdup(t, vici_str(m, sa, "state"));
	d->local_address = (char *)tdup(t, vici_str(m, sa, "local-host"));
	SET_U32(d, local_port, m, sa, "local-port");
	d->local_id = (char *)tdup(t, vici_str(m, sa, "local-id"));
	d->remote_address = (char *)tdup(t, vici_str(m, sa, "remote-host"));
	SET_U32(d, remote_port, m, sa, "remote-port");
	d->remote_id = (char *)tdup(t, vici_str(m, sa, "remote-id"));
	TREE_SET(d, initiator, vici_yes(m, sa, "initiator"));
	d->encryption_algorithm = alg_dup(t, m, sa, "encr-alg", "encr-keysize");
	d->integrity_algorithm =
	    alg_dup(t, m, sa, "integ-alg", "integ-keysize");
	d->prf_algorithm = (char *)tdup(t, vici_str(m, sa, "prf-alg"));
	d->dh_group = (char *)tdup(t, vici_str(m, sa, "dh-group"));
	SET_U64(d, established_s, m, sa, "established");
	SET_U64(d, rekey_in_s, m, sa, "rekey-time");
	TREE_SET(d, nat_local, vici_yes(m, sa, "nat-local"));
	TREE_SET(d, nat_remote, vici_yes(m, sa, "nat-remote"));
	for (const struct vici_node *c = vici_first(m, ch); c != NULL;
	     c = vici_next(m, c)) {
		if (c->kind == VICI_NODE_SECTION) {
			detail_child(t, k, d, m, sa, c, wall);
		}
	}
}

static void
detail_conn(const struct vici_records *r, struct stats_tree *t,
            const struct vici_msg *m, const struct vici_node *conn)
{
	Secstat__V1__ConnectionDetail *d = stats_tree_add_connection(t);
	const struct vici_node *children = vici_section(m, conn, "children");
	const char *ver = vici_str(m, conn, "version");
	bool established = false;
	uint32_t active = 0;
	size_t n = 0;

	d->source = (char *)"vici";
	d->name = (char *)tdup(t, conn->name);
	/* list-conns says "IKEv1", "IKEv2" or "IKEv1/2" (any). */
	if (ver != NULL) {
		TREE_SET(d, version,
		         strcmp(ver, "IKEv1") == 0   ? 1u
		         : strcmp(ver, "IKEv2") == 0 ? 2u
		                                     : 0u);
	}
	list_dup(t, m, conn, "local_addrs", &d->local_addrs, &d->n_local_addrs);
	list_dup(t, m, conn, "remote_addrs", &d->remote_addrs,
	         &d->n_remote_addrs);
	for (const struct vici_node *c = vici_first(m, children); c != NULL;
	     c = vici_next(m, c)) {
		n += c->kind == VICI_NODE_SECTION;
	}
	if (n > 0) {
		d->children = arena_alloc(&t->arena, n * sizeof(char *));
		for (const struct vici_node *c = vici_first(m, children);
		     c != NULL; c = vici_next(m, c)) {
			if (c->kind == VICI_NODE_SECTION) {
				d->children[d->n_children++] =
				    arena_strdup(&t->arena, c->name);
			}
		}
	}
	for (size_t i = 0; i < r->n_sas; i++) {
		const struct vici_msg *sm = &r->sas[i];
		const struct vici_node *sa = first_section(sm, vici_root(sm));
		const struct vici_node *ch;

		if (sa == NULL || strcmp(sa->name, conn->name) != 0 ||
		    !str_is(vici_str(sm, sa, "state"), "ESTABLISHED")) {
			continue;
		}
		established = true;
		ch = vici_section(sm, sa, "child-sas");
		for (const struct vici_node *c = vici_first(sm, ch); c != NULL;
		     c = vici_next(sm, c)) {
			active += c->kind == VICI_NODE_SECTION &&
			          str_is(vici_str(sm, c, "state"), "INSTALLED");
		}
	}
	TREE_SET(d, established, established);
	TREE_SET(d, active_child_sas, active);
}

/* The strings of a fixed-size table as an arena array. */
static char **
ts_dup(struct stats_tree *t, char (*ts)[VICI_TS_LEN], size_t n)
{
	char **v = arena_alloc(&t->arena, (n ? n : 1) * sizeof(*v));

	for (size_t i = 0; i < n; i++) {
		v[i] = arena_strdup(&t->arena, ts[i]);
	}
	return v;
}

/* Unidirectional SAs of tunnel `tun` installed now (2 per CHILD_SA). */
static uint64_t
tunnel_active(const struct vici_records *r, const struct vici_tunnel *tun)
{
	uint64_t n = 0;

	for (size_t i = 0; i < r->n_sas; i++) {
		const struct vici_msg *m = &r->sas[i];
		const struct vici_node *sa = first_section(m, vici_root(m));
		const struct vici_node *ch;
		char conn[VICI_NAME_MAX], name[VICI_NAME_MAX];

		if (sa == NULL) {
			continue;
		}
		copy_str(conn, sizeof(conn), sa->name);
		if (strcmp(conn, tun->conn) != 0) {
			continue;
		}
		ch = vici_section(m, sa, "child-sas");
		for (const struct vici_node *c = vici_first(m, ch); c != NULL;
		     c = vici_next(m, c)) {
			if (c->kind != VICI_NODE_SECTION) {
				continue;
			}
			copy_str(name, sizeof(name), child_name(m, c));
			if (strcmp(name, tun->name) == 0 &&
			    str_is(vici_str(m, c, "state"), "INSTALLED") &&
			    is_ipsec_proto(m, c)) {
				n += 2;
			}
		}
	}
	return n;
}

/* Names the kernel source's tunnels that carry this CHILD_SA name's SAs:
 * same reqid (charon's reqid is the kernel SA's) and, when known, the
 * same outer addresses. Returns how many it found. */
static size_t
name_kernel_tunnels(struct stats_tree *t, const struct vici_tunnel *tun)
{
	size_t found = 0;

	if (!tun->has_reqid) {
		return 0;
	}
	for (size_t i = 0; i < t->sa_response.n_tunnels; i++) {
		Secstat__V1__TunnelDetail *k = t->sa_response.tunnels[i];

		if (!str_is(k->source, "xfrm") || !k->has_reqid ||
		    k->reqid != tun->reqid) {
			continue;
		}
		if (tun->local[0] != '\0' && k->local_address != NULL &&
		    strcmp(tun->local, k->local_address) != 0) {
			continue;
		}
		if (tun->remote[0] != '\0' && k->remote_address != NULL &&
		    strcmp(tun->remote, k->remote_address) != 0) {
			continue;
		}
		if (k->name == NULL) {
			k->name = arena_strdup(&t->arena, tun->name);
		}
		found++;
	}
	return found;
}

/*
 * One TunnelDetail per CHILD_SA name, with the monotonic totals: the
 * folded CHILD_SAs' final counters plus the tracked ones'. A tunnel whose
 * SAs are in the kernel belongs to the kernel source when there is one
 * (as its traffic does): its entry is named instead, and none is added.
 */
static void
contribute_tunnels(const struct vici_records *r, struct stats_tree *t,
                   bool kernel_source)
{
	for (size_t i = 0; i < r->n_tunnels; i++) {
		const struct vici_tunnel *tun = &r->tunnels[i];
		Secstat__V1__TunnelDetail *d;
		uint64_t bytes[VICI_DIR_COUNT], packets[VICI_DIR_COUNT];

		if (tun->kernel && kernel_source) {
			(void)name_kernel_tunnels(t, tun);
			continue;
		}
		if (tun->proto == 0) {
			continue; /* never installed (e.g. IPComp only) */
		}
		for (int k = 0; k < VICI_DIR_COUNT; k++) {
			bytes[k] = tun->bytes[k];
			packets[k] = tun->packets[k];
		}
		for (size_t k = 0; k < r->n_live; k++) {
			if (r->live[k].tun != i + 1) {
				continue;
			}
			for (int dd = 0; dd < VICI_DIR_COUNT; dd++) {
				bytes[dd] += r->live[k].bytes[dd];
				packets[dd] += r->live[k].packets[dd];
			}
		}
		d = stats_tree_add_tunnel(t);
		d->source = (char *)"vici";
		d->name = arena_strdup(&t->arena, tun->name);
		if (tun->has_reqid) {
			TREE_SET(d, reqid, tun->reqid);
		}
		if (tun->cls & VICI_CLS_TUNNEL) {
			d->mode = (char *)"tunnel";
		} else if (tun->cls & VICI_CLS_TRANSPORT) {
			d->mode = (char *)"transport";
		}
		d->protocol =
		    (char *)(tun->proto == VICI_PROTO_AH ? "ah" : "esp");
		TREE_SET(d, encrypted, (tun->cls & VICI_CLS_ENCRYPTED) != 0);
		d->local_address =
		    (char *)tdup(t, tun->local[0] ? tun->local : NULL);
		d->remote_address =
		    (char *)tdup(t, tun->remote[0] ? tun->remote : NULL);
		if (tun->n_lts > 0) {
			d->local_ts = ts_dup(t, (char(*)[VICI_TS_LEN])tun->lts,
			                     tun->n_lts);
			d->n_local_ts = tun->n_lts;
		}
		if (tun->n_rts > 0) {
			d->remote_ts = ts_dup(t, (char(*)[VICI_TS_LEN])tun->rts,
			                      tun->n_rts);
			d->n_remote_ts = tun->n_rts;
		}
		TREE_SET(d, bytes_in, bytes[VICI_IN]);
		TREE_SET(d, packets_in, packets[VICI_IN]);
		TREE_SET(d, bytes_out, bytes[VICI_OUT]);
		TREE_SET(d, packets_out, packets[VICI_OUT]);
		if (r->acc.events_up) {
			TREE_SET(d, sas_added, tun->added);
			TREE_SET(d, sas_deleted, tun->deleted);
			TREE_SET(d, rekeys, tun->rekeys);
		}
		TREE_SET(d, active_sas, tunnel_active(r, tun));
	}
}

static bool
counted_elsewhere(const struct stats_tree *t, uint32_t in, uint32_t out)
{
	return stats_tree_spi_counted(t, in) || stats_tree_spi_counted(t, out);
}

static void
traffic_set(Secstat__V1__IpsecTrafficStatistics *w,
            const struct vici_traffic *tr)
{
	TREE_ADD(w, encrypted_byte_count, tr->encrypted);
	TREE_ADD(w, authenticated_ah_byte_count, tr->auth_ah);
	TREE_ADD(w, authenticated_esp_byte_count, tr->auth_esp);
	TREE_ADD(w, transport_byte_count, tr->transport);
	TREE_ADD(w, tunnel_byte_count, tr->tunnel);
	TREE_ADD(w, total_successful_packets, tr->packets);
}

void
vici_contribute(const struct vici_records *r, struct stats_tree *t)
{
	/* A kernel XFRM provider contributed before us when it filled the
	 * SA aggregate or noted SPIs: it then owns every kernel SA. */
	bool kernel_source =
	    t->ipsec_sa.has_active_sas || t->counted_spis.n > 0;
	bool own_ipsec = r->userspace_esp || !kernel_source;
	uint64_t connecting[VICI_KM_COUNT][VICI_FAM_COUNT] = {{0}};
	uint64_t resp_connecting[VICI_KM_COUNT][VICI_FAM_COUNT] = {{0}};
	uint64_t active_sas = 0, tunnels = 0, pending = 0;
	struct vici_traffic tr[VICI_DIR_COUNT];
	uint64_t wall = (uint64_t)time(NULL);
	struct kernel_index kidx;

	memset(tr, 0, sizeof(tr));
	kidx_build(t, &kidx);
	/* The daemon answered: zero SAs is an observation, not absence. */
	for (int k = 0; k < VICI_KM_COUNT; k++) {
		for (int f = 0; f < VICI_FAM_COUNT; f++) {
			Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics
			    *b = km_block(t, k, f);

			TREE_ADD(b, current_active_main_modes, 0);
			TREE_ADD(b, current_new_responder_main_modes, 0);
			TREE_ADD(b, current_active_quick_modes, 0);
		}
	}
	for (size_t i = 0; i < r->n_sas; i++) {
		const struct vici_msg *m = &r->sas[i];
		const struct vici_node *sa = first_section(m, vici_root(m));
		const struct vici_node *ch;
		enum vici_km km;
		enum vici_fam fam;
		const char *state;
		Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics *b;

		if (sa == NULL) {
			continue;
		}
		km = km_of(m, sa);
		fam = fam_of(m, sa);
		b = km_block(t, km, fam);
		state = vici_str(m, sa, "state");
		if (str_is(state, "ESTABLISHED")) {
			TREE_ADD(b, current_active_main_modes, 1);
		} else if (str_is(state, "CONNECTING") ||
		           str_is(state, "CREATED")) {
			bool resp = !vici_yes(m, sa, "initiator");

			connecting[km][fam]++;
			resp_connecting[km][fam] += resp;
			pending++;
			if (resp) {
				TREE_ADD(b, current_new_responder_main_modes,
				         1);
			}
		}
		ch = vici_section(m, sa, "child-sas");
		for (const struct vici_node *c = vici_first(m, ch); c != NULL;
		     c = vici_next(m, c)) {
			const char *cs = vici_str(m, c, "state");
			uint32_t in = 0, out = 0;

			if (c->kind != VICI_NODE_SECTION) {
				continue;
			}
			vici_hex32(m, c, "spi-in", &in);
			vici_hex32(m, c, "spi-out", &out);
			if (str_is(cs, "INSTALLED")) {
				TREE_ADD(b, current_active_quick_modes, 1);
				/* As for traffic below: a kernel SA belongs to
				 * the kernel source even when its dump does not
				 * hold it (yet), e.g. during a rekey. */
				if (is_ipsec_proto(m, c) &&
				    !counted_elsewhere(t, in, out) &&
				    (r->userspace_esp || !kernel_source)) {
					active_sas += 2;
					tunnels += str_is(
					    vici_str(m, c, "mode"), "TUNNEL");
				}
			} else if (str_is(cs, "CREATED") ||
			           str_is(cs, "INSTALLING") ||
			           str_is(cs, "RETRYING")) {
				pending++;
			}
		}
		detail_ike(t, &kidx, m, sa, wall);
	}
	kidx_compact(t);
	contribute_tunnels(r, t, kernel_source);
	for (size_t i = 0; i < r->n_conns; i++) {
		const struct vici_msg *m = &r->conns[i];
		const struct vici_node *c = first_section(m, vici_root(m));

		if (c != NULL) {
			detail_conn(r, t, m, c);
		}
	}

	/* Negotiation totals from events since the agent started. */
	if (r->acc.events_up) {
		for (int k = 0; k < VICI_KM_COUNT; k++) {
			for (int f = 0; f < VICI_FAM_COUNT; f++) {
				const struct vici_neg *n = &r->acc.neg[k][f];
				Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics
				    *b = km_block(t, k, f);

				TREE_ADD(b, total_main_modes_started,
				         n->mm_ok + n->mm_failed +
				             connecting[k][f]);
				TREE_ADD(b, total_successful_main_modes,
				         n->mm_ok);
				TREE_ADD(b, total_failed_main_modes,
				         n->mm_failed);
				TREE_ADD(b, total_responder_main_modes,
				         n->mm_resp_ok + n->mm_resp_failed +
				             resp_connecting[k][f]);
				TREE_ADD(b, total_successful_quick_modes,
				         n->qm_ok);
				if (r->acc.log_up) {
					TREE_ADD(b, total_failed_quick_modes,
					         n->qm_failed);
					TREE_ADD(b, total_quick_modes_started,
					         n->qm_ok + n->qm_failed);
				}
			}
		}
		if (r->acc.log_up) {
			uint64_t *e1 = stats_tree_ike_errors(t, KEY_MODULE_IKE);
			uint64_t *e2 =
			    stats_tree_ike_errors(t, KEY_MODULE_IKEV2);

			/* Slot 0 is the range marker and stays 0. */
			for (int i = 1; i < IKE_ERROR_CODE_COUNT; i++) {
				e1[i] += r->acc.errors[VICI_KM_IKEV1][i];
				e2[i] += r->acc.errors[VICI_KM_IKEV2][i];
			}
		}
	}
	if (r->has_counters) {
		contribute_counters(r, t);
	}
	if (r->has_stats) {
		contribute_stats(r, t);
	}

	/* IPsec SAs and traffic, minus what a kernel source counted. */
	for (size_t i = 0; i < r->n_live; i++) {
		const struct vici_child *c = &r->live[i];

		/* A kernel SA belongs to the kernel source when there is
		 * one, whether or not it still lists the SA. */
		if (counted_elsewhere(t, c->spi_in, c->spi_out) ||
		    (c->kernel && kernel_source)) {
			continue;
		}
		for (int d = 0; d < VICI_DIR_COUNT; d++) {
			traffic_add(&tr[d], c->cls, c->bytes[d], c->packets[d]);
		}
	}
	for (int d = 0; d < VICI_DIR_COUNT; d++) {
		traffic_sum(&tr[d], &r->acc.retired[0][d]);
		if (!kernel_source) {
			traffic_sum(&tr[d], &r->acc.retired[1][d]);
		}
	}
	TREE_ADD(&t->ipsec_sa, active_sas, active_sas);
	TREE_ADD(&t->ipsec_sa, active_tunnels, tunnels);
	if (own_ipsec) {
		TREE_ADD(&t->ipsec_sa, pending_sa_negotiations, pending);
		if (r->acc.events_up) {
			TREE_ADD(&t->ipsec_sa, total_sas_added,
			         r->acc.sas_added);
			TREE_ADD(&t->ipsec_sa, total_sas_deleted,
			         r->acc.sas_deleted);
			/* Per SA, as the kernel counts it: a CHILD_SA
			 * rekey replaces an SA in each direction. */
			TREE_ADD(&t->ipsec_sa, successful_rekeys,
			         2 * r->acc.rekeys);
		}
		traffic_set(&t->ipsec_in, &tr[VICI_IN]);
		traffic_set(&t->ipsec_out, &tr[VICI_OUT]);
	} else {
		/* Userspace SAs the kernel cannot see still add up. */
		bool any = false;

		for (int d = 0; d < VICI_DIR_COUNT; d++) {
			any = any || tr[d].packets != 0 ||
			      tr[d].encrypted != 0 || tr[d].auth_esp != 0 ||
			      tr[d].auth_ah != 0;
		}
		if (any) {
			traffic_set(&t->ipsec_in, &tr[VICI_IN]);
			traffic_set(&t->ipsec_out, &tr[VICI_OUT]);
		}
	}
}

/* ---- provider ops ---- */

static const char *
uri_of(const struct agent_config *cfg)
{
	return cfg != NULL && cfg->vici_uri != NULL && cfg->vici_uri[0] != '\0'
	           ? cfg->vici_uri
	           : VICI_DEFAULT_URI;
}

static int
vici_probe(const struct agent_config *cfg, char *what, size_t len)
{
	const char *uri = uri_of(cfg);
	struct stat st;

	snprintf(what, len, "%s", uri);
	if (strncmp(uri, "unix://", 7) != 0) {
		return 0; /* a TCP endpoint was asked for explicitly */
	}
	if (stat(uri + 7, &st) != 0) {
		return errno == EACCES ? -EACCES : -ENOENT;
	}
	if (!S_ISSOCK(st.st_mode)) {
		return -ENOENT;
	}
	return access(uri + 7, W_OK) == 0 ? 0 : -EACCES;
}

static int
vici_init(const struct agent_config *cfg, void **state)
{
	struct vici_state *s = vici_state_new(uri_of(cfg));

	if (s == NULL) {
		return -ENOMEM;
	}
	if (pthread_create(&s->thread, NULL, event_main, s) != 0) {
		vici_state_free(s);
		return -EAGAIN;
	}
	s->thread_started = true;
	*state = s;
	return 0;
}

static int
vici_ops_collect(void *state, void **records)
{
	struct vici_records *r = NULL;
	int rv = vici_collect(state, &r);

	*records = r;
	return rv;
}

static void
vici_ops_contribute(const void *records, struct stats_tree *t)
{
	vici_contribute(records, t);
}

static void
vici_ops_records_free(void *records)
{
	vici_records_free(records);
}

static void
vici_ops_fini(void *state)
{
	vici_state_free(state);
}

const struct provider_ops vici_provider = {
    .abi_version = PROVIDER_ABI_VERSION,
    .name = "vici",
    .description = "strongSwan charon IKE and IPsec SAs through vici",
    .families = PROVIDES_IPSEC | PROVIDES_IKE,
    .simulated = false,
    .probe = vici_probe,
    .init = vici_init,
    .collect = vici_ops_collect,
    .contribute = vici_ops_contribute,
    .records_free = vici_ops_records_free,
    .fini = vici_ops_fini,
};
