/* Per-tunnel monotonic totals over rekeyed kernel SAs. */
#include "xfrm_totals.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <linux/ipsec.h>

/* Dumps a tombstone outlives the dump that retired it: long enough for a
 * DELSA that raced with that dump to be read at the next collection. */
#define TOMB_DUMPS 3

void
xfrm_totals_init(struct xfrm_totals *t)
{
	memset(t, 0, sizeof(*t));
}

void
xfrm_totals_fini(struct xfrm_totals *t)
{
	free(t->tunnel_idx.slots);
	free(t->live_idx.slots);
	free(t->tomb_idx.slots);
	free(t->tunnels);
	free(t->live);
	free(t->tombs);
	memset(t, 0, sizeof(*t));
}

/* Grows *arr to hold one more element. */
static int
reserve(void **arr, size_t n, size_t *cap, size_t size)
{
	void *p;
	size_t ncap;

	if (n < *cap) {
		return 0;
	}
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*arr, ncap * size);
	if (p == NULL) {
		return -ENOMEM;
	}
	*arr = p;
	*cap = ncap;
	return 0;
}

/* IPv4 addresses use the first 4 bytes of xfrm_address_t; the rest is
 * not guaranteed to be zero, so compare canonical copies. */
static xfrm_address_t
canon_addr(uint16_t family, const xfrm_address_t *a)
{
	xfrm_address_t c;

	memset(&c, 0, sizeof(c));
	if (family == AF_INET) {
		c.a4 = a->a4;
	} else {
		c = *a;
	}
	return c;
}

/* ------------------------------------------------------------ index */

/* FNV-1a over the key bytes, then a final mix so that keys differing in
 * the low bits of an address or SPI spread over the table. */
static size_t
hash_bytes(const void *p, size_t n, uint64_t h)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h = (h ^ b[i]) * 1099511628211ull;
	}
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	return (size_t)(h ^ (h >> 32));
}

static size_t
hash_sa_key(uint16_t family, uint8_t proto, uint32_t spi,
            const xfrm_address_t *canon_daddr)
{
	uint64_t h = 14695981039346656037ull;

	h = (h ^ family) * 1099511628211ull;
	h = (h ^ proto) * 1099511628211ull;
	h = (h ^ spi) * 1099511628211ull;
	return hash_bytes(canon_daddr, sizeof(*canon_daddr), h);
}

/* Hash of the element at `pos` of the array an index covers. */
typedef size_t (*hash_at_fn)(const struct xfrm_totals *t, size_t pos);

static size_t
hash_tunnel_at(const struct xfrm_totals *t, size_t pos)
{
	return hash_bytes(&t->tunnels[pos].key, sizeof(t->tunnels[pos].key),
	                  14695981039346656037ull);
}

static size_t
hash_live_at(const struct xfrm_totals *t, size_t pos)
{
	const struct xfrm_live *l = &t->live[pos];

	return hash_sa_key(l->family, l->proto, l->spi, &l->daddr);
}

static size_t
hash_tomb_at(const struct xfrm_totals *t, size_t pos)
{
	const struct xfrm_tomb *d = &t->tombs[pos];

	return hash_sa_key(d->family, d->proto, d->spi, &d->daddr);
}

static void
idx_place(struct xfrm_index *x, size_t h, uint32_t pos)
{
	size_t mask = x->cap - 1;
	size_t i = h & mask;

	while (x->slots[i] != XFRM_INDEX_EMPTY) {
		i = (i + 1) & mask;
	}
	x->slots[i] = pos;
	x->n++;
}

/* Rebuilds the index over positions [0, n) of its array. */
static int
idx_rebuild(const struct xfrm_totals *t, struct xfrm_index *x, hash_at_fn hf,
            size_t n)
{
	size_t cap = 16;

	while (cap < 2 * (n + 1)) {
		cap <<= 1;
	}
	if (cap != x->cap) {
		uint32_t *slots = malloc(cap * sizeof(*slots));

		if (slots == NULL) {
			return -ENOMEM;
		}
		free(x->slots);
		x->slots = slots;
		x->cap = cap;
	}
	memset(x->slots, 0xff, x->cap * sizeof(*x->slots));
	x->n = 0;
	for (size_t pos = 0; pos < n; pos++) {
		idx_place(x, hf(t, pos), (uint32_t)pos);
	}
	return 0;
}

/* Adds position `pos` (the array's last element, already in place). */
static int
idx_insert(const struct xfrm_totals *t, struct xfrm_index *x, hash_at_fn hf,
           size_t pos)
{
	if (2 * (x->n + 1) > x->cap) {
		return idx_rebuild(t, x, hf, pos + 1);
	}
	idx_place(x, hf(t, pos), (uint32_t)pos);
	return 0;
}

/* The slot holding `pos`; the element at `pos` must still be in place. */
static size_t
idx_slot_of(const struct xfrm_totals *t, const struct xfrm_index *x,
            hash_at_fn hf, size_t pos)
{
	size_t mask = x->cap - 1;
	size_t i = hf(t, pos) & mask;

	/* Bounded: the table is at most half full and holds pos. */
	while (x->slots[i] != pos) {
		i = (i + 1) & mask;
	}
	return i;
}

/*
 * Removes `pos` from the index, then points the entry of `last` (the
 * array's last element, about to be moved into `pos`) at `pos`. Both
 * elements must still be at their positions. Deletion shifts back the
 * entries that follow in the probe run, so no tombstone is needed.
 */
static void
idx_remove_swap(const struct xfrm_totals *t, struct xfrm_index *x,
                hash_at_fn hf, size_t pos, size_t last)
{
	size_t mask = x->cap - 1;
	size_t hole = idx_slot_of(t, x, hf, pos);
	size_t k = (hole + 1) & mask;

	while (x->slots[k] != XFRM_INDEX_EMPTY) {
		size_t home = hf(t, x->slots[k]) & mask;

		/* The entry at k may fill the hole when its home slot is not
		 * in the cyclic range (hole, k]. */
		if (((k - home) & mask) >= ((k - hole) & mask)) {
			x->slots[hole] = x->slots[k];
			hole = k;
		}
		k = (k + 1) & mask;
	}
	x->slots[hole] = XFRM_INDEX_EMPTY;
	x->n--;
	if (last != pos) {
		x->slots[idx_slot_of(t, x, hf, last)] = (uint32_t)pos;
	}
}

bool
xfrm_totals_tracks(const struct xfrm_sa *sa)
{
	return (sa->proto == IPPROTO_ESP || sa->proto == IPPROTO_AH) &&
	       sa->spi != 0;
}

static struct xfrm_counts
sa_counts(const struct xfrm_sa *sa)
{
	struct xfrm_counts c = {
	    .bytes = sa->bytes,
	    .packets = sa->packets,
	    .replay = sa->replay,
	    .replay_window_drops = sa->replay_window_drops,
	    .integrity_failed = sa->integrity_failed,
	};

	return c;
}

static void
counts_add(struct xfrm_counts *dst, const struct xfrm_counts *src)
{
	dst->bytes += src->bytes;
	dst->packets += src->packets;
	dst->replay += src->replay;
	dst->replay_window_drops += src->replay_window_drops;
	dst->integrity_failed += src->integrity_failed;
}

/* dst += what `final` has beyond `seen` (never negative: per-SA kernel
 * counters only grow during the SA's life). */
static void
counts_add_delta(struct xfrm_counts *dst, const struct xfrm_counts *final,
                 const struct xfrm_counts *seen)
{
#define DELTA(f) dst->f += final->f > seen->f ? final->f - seen->f : 0
	DELTA(bytes);
	DELTA(packets);
	DELTA(replay);
	DELTA(replay_window_drops);
	DELTA(integrity_failed);
#undef DELTA
}

static void
counts_max(struct xfrm_counts *dst, const struct xfrm_counts *src)
{
#define MAX(f) dst->f = src->f > dst->f ? src->f : dst->f
	MAX(bytes);
	MAX(packets);
	MAX(replay);
	MAX(replay_window_drops);
	MAX(integrity_failed);
#undef MAX
}

static int
tunnel_get(struct xfrm_totals *t, const struct xfrm_sa *sa, enum xfrm_dir dir,
           size_t *idx)
{
	struct xfrm_tunnel_key k;
	int rv;

	memset(&k, 0, sizeof(k));
	k.reqid = sa->reqid;
	k.family = sa->family;
	k.proto = sa->proto;
	k.dir = (uint8_t)dir;
	k.saddr = canon_addr(sa->family, &sa->saddr);
	k.daddr = canon_addr(sa->family, &sa->daddr);
	if (t->tunnel_idx.cap != 0) {
		size_t mask = t->tunnel_idx.cap - 1;

		for (size_t i =
		         hash_bytes(&k, sizeof(k), 14695981039346656037ull) &
		         mask;
		     t->tunnel_idx.slots[i] != XFRM_INDEX_EMPTY;
		     i = (i + 1) & mask) {
			uint32_t pos = t->tunnel_idx.slots[i];

			if (memcmp(&t->tunnels[pos].key, &k, sizeof(k)) == 0) {
				*idx = pos;
				return 0;
			}
		}
	}
	rv = reserve((void **)&t->tunnels, t->n_tunnels, &t->cap_tunnels,
	             sizeof(*t->tunnels));
	if (rv != 0) {
		return rv;
	}
	memset(&t->tunnels[t->n_tunnels], 0, sizeof(*t->tunnels));
	t->tunnels[t->n_tunnels].key = k;
	rv = idx_insert(t, &t->tunnel_idx, hash_tunnel_at, t->n_tunnels);
	if (rv != 0) {
		return rv;
	}
	*idx = t->n_tunnels++;
	return 0;
}

static void
tunnel_props(struct xfrm_tunnel *tun, const struct xfrm_sa *sa)
{
	if (xfrm_parse_is_larval(sa)) {
		return;
	}
	tun->mode = sa->mode;
	tun->encrypting = xfrm_parse_is_encrypting(sa);
	tun->authenticating =
	    sa->proto == IPPROTO_AH || sa->aead[0] != '\0' ||
	    (sa->auth[0] != '\0' && strstr(sa->auth, "digest_null") == NULL);
	tun->offloaded = sa->offloaded;
	tun->sel = sa->sel;
	tun->has_sel = true;
}

static bool
same_sa(uint16_t family, uint8_t proto, uint32_t spi,
        const xfrm_address_t *daddr, const struct xfrm_sa *sa)
{
	xfrm_address_t a = canon_addr(sa->family, &sa->daddr);

	return family == sa->family && proto == sa->proto && spi == sa->spi &&
	       memcmp(daddr, &a, sizeof(a)) == 0;
}

static size_t
hash_of_sa(const struct xfrm_sa *sa)
{
	xfrm_address_t a = canon_addr(sa->family, &sa->daddr);

	return hash_sa_key(sa->family, sa->proto, sa->spi, &a);
}

static struct xfrm_live *
live_find(struct xfrm_totals *t, const struct xfrm_sa *sa)
{
	size_t mask = t->live_idx.cap - 1;

	if (t->live_idx.cap == 0) {
		return NULL;
	}
	for (size_t i = hash_of_sa(sa) & mask;
	     t->live_idx.slots[i] != XFRM_INDEX_EMPTY; i = (i + 1) & mask) {
		struct xfrm_live *l = &t->live[t->live_idx.slots[i]];

		if (same_sa(l->family, l->proto, l->spi, &l->daddr, sa)) {
			return l;
		}
	}
	return NULL;
}

static struct xfrm_tomb *
tomb_find(struct xfrm_totals *t, const struct xfrm_sa *sa)
{
	size_t mask = t->tomb_idx.cap - 1;

	if (t->tomb_idx.cap == 0) {
		return NULL;
	}
	for (size_t i = hash_of_sa(sa) & mask;
	     t->tomb_idx.slots[i] != XFRM_INDEX_EMPTY; i = (i + 1) & mask) {
		struct xfrm_tomb *d = &t->tombs[t->tomb_idx.slots[i]];

		if (d->add_time == sa->add_time &&
		    same_sa(d->family, d->proto, d->spi, &d->daddr, sa)) {
			return d;
		}
	}
	return NULL;
}

static int
tomb_add(struct xfrm_totals *t, const struct xfrm_live *l,
         const struct xfrm_counts *retired, bool counted_delete)
{
	struct xfrm_tomb *d;
	int rv = reserve((void **)&t->tombs, t->n_tombs, &t->cap_tombs,
	                 sizeof(*t->tombs));

	if (rv != 0) {
		return rv;
	}
	d = &t->tombs[t->n_tombs++];
	memset(d, 0, sizeof(*d));
	d->family = l->family;
	d->proto = l->proto;
	d->spi = l->spi;
	d->daddr = l->daddr;
	d->add_time = l->add_time;
	d->tunnel = l->tunnel;
	d->counted_delete = counted_delete;
	d->dump_gen = t->dump_gen;
	d->retired = *retired;
	/* Counted with the tombstone, so that dropping it undoes it. */
	if (!counted_delete) {
		t->tunnels[l->tunnel].gone_unconfirmed++;
	}
	return idx_insert(t, &t->tomb_idx, hash_tomb_at, t->n_tombs - 1);
}

/*
 * Moves live SA `l` to its tunnel's retired totals with `final` as its
 * last counters. count: the deletion is known (event, or a resync) and
 * is counted now; otherwise the tombstone waits for the DELSA.
 */
static int
live_retire(struct xfrm_totals *t, struct xfrm_live *l,
            const struct xfrm_counts *final, bool count)
{
	struct xfrm_tunnel *tun = &t->tunnels[l->tunnel];
	struct xfrm_counts f = l->cur;
	size_t i = (size_t)(l - t->live);
	bool counted = count && l->complete;
	int rv;

	counts_max(&f, final);
	counts_add(&tun->retired, &f);
	tun->sas_retired++;
	if (l->complete) {
		tun->live_complete--;
	}
	if (counted) {
		t->deleted++;
		tun->deleted++;
	}
	/* A larval SA never counted as added is not counted as deleted
	 * either; its tombstone is marked counted so no DELSA counts it. */
	rv = tomb_add(t, l, &f, counted || !l->complete);
	idx_remove_swap(t, &t->live_idx, hash_live_at, i, t->n_live - 1);
	t->live[i] = t->live[--t->n_live];
	return rv;
}

/* Counts live SA `l` as added (once) and as a rekey when another
 * complete SA of its tunnel is still installed (make-before-break). */
static void
count_add(struct xfrm_totals *t, struct xfrm_live *l)
{
	if (l->counted_add || !l->complete) {
		return;
	}
	l->counted_add = true;
	t->added++;
	t->tunnels[l->tunnel].added++;
	/* live_complete includes l itself. An SA of the tunnel that the
	 * last dump missed counts until its DELSA: events come in the
	 * kernel's order, so a NEWSA before that DELSA was added while the
	 * old SA was still installed. */
	if (t->tunnels[l->tunnel].live_complete > 1 ||
	    t->tunnels[l->tunnel].gone_unconfirmed > 0) {
		t->rekeys++;
		t->tunnels[l->tunnel].rekeys++;
	}
}

static int
live_new(struct xfrm_totals *t, const struct xfrm_sa *sa, enum xfrm_dir dir,
         struct xfrm_live **out)
{
	struct xfrm_live *l;
	size_t tun;
	int rv;

	rv = tunnel_get(t, sa, dir, &tun);
	if (rv == 0) {
		rv = reserve((void **)&t->live, t->n_live, &t->cap_live,
		             sizeof(*t->live));
	}
	if (rv != 0) {
		return rv;
	}
	l = &t->live[t->n_live++];
	memset(l, 0, sizeof(*l));
	l->family = sa->family;
	l->proto = sa->proto;
	l->spi = sa->spi;
	l->daddr = canon_addr(sa->family, &sa->daddr);
	l->add_time = sa->add_time;
	l->tunnel = tun;
	rv = idx_insert(t, &t->live_idx, hash_live_at, t->n_live - 1);
	if (rv != 0) {
		t->n_live--;
		return rv;
	}
	*out = l;
	return 0;
}

/* Live SA `l` is complete now (`sa` is its complete state). A larval
 * state got its tunnel from placeholders: an IKE daemon allocates the SPI
 * before it knows the reqid and mode, and the kernel's UPDSA keeps the
 * add time when it completes in the same second. The SA joins its real
 * tunnel (the larval state carried nothing to move). */
static void
live_complete_now(struct xfrm_totals *t, struct xfrm_live *l,
                  const struct xfrm_sa *sa)
{
	size_t tun;

	if (tunnel_get(t, sa, (enum xfrm_dir)t->tunnels[l->tunnel].key.dir,
	               &tun) == 0) {
		l->tunnel = tun;
	}
	l->complete = true;
	t->tunnels[l->tunnel].live_complete++;
}

static void
live_update(struct xfrm_totals *t, struct xfrm_live *l,
            const struct xfrm_sa *sa)
{
	struct xfrm_counts c = sa_counts(sa);

	counts_max(&l->cur, &c);
	if (!xfrm_parse_is_larval(sa) && !l->complete) {
		live_complete_now(t, l, sa);
	}
	tunnel_props(&t->tunnels[l->tunnel], sa);
}

void
xfrm_totals_dump_begin(struct xfrm_totals *t)
{
	t->dump_gen++;
}

int
xfrm_totals_dump_sa(struct xfrm_totals *t, const struct xfrm_sa *sa,
                    enum xfrm_dir dir)
{
	struct xfrm_live *l;
	bool fresh = false;
	int rv;

	if (!xfrm_totals_tracks(sa)) {
		return 0;
	}
	l = live_find(t, sa);
	if (l != NULL &&
	    (l->add_time != sa->add_time || sa->bytes < l->cur.bytes ||
	     sa->packets < l->cur.packets)) {
		/* Same SPI, new instance: the old one was deleted and the
		 * SPI reused since the last look. */
		rv = live_retire(t, l, &l->cur, t->resync);
		if (rv != 0) {
			return rv;
		}
		l = NULL;
	}
	if (l == NULL) {
		rv = live_new(t, sa, dir, &l);
		if (rv != 0) {
			return rv;
		}
		fresh = true;
	}
	l->dump_gen = t->dump_gen;
	live_update(t, l, sa);
	/* Complete SAs of the first dump were there before the agent. Later
	 * ones are counted by their NEWSA/UPDSA event, or below when events
	 * were lost. */
	if (fresh && !t->primed && l->complete) {
		l->counted_add = true;
	}
	if (t->resync) {
		count_add(t, l);
	}
	return 0;
}

/* A tombstone dropped before its DELSA came: its SA no longer holds
 * back the tunnel's next SA from being a rekey. */
static void
tomb_forget(struct xfrm_totals *t, const struct xfrm_tomb *d)
{
	if (!d->counted_delete) {
		t->tunnels[d->tunnel].gone_unconfirmed--;
	}
}

void
xfrm_totals_dump_end(struct xfrm_totals *t)
{
	size_t i = 0;
	size_t j = 0;

	/* Bounded: every iteration retires (shrinking n_live) or advances. */
	while (i < t->n_live) {
		struct xfrm_live *l = &t->live[i];

		if (l->dump_gen != t->dump_gen) {
			/* Allocation failure only loses the tombstone: the
			 * totals are already retired. */
			(void)live_retire(t, l, &l->cur, t->resync);
		} else {
			i++;
		}
	}
	for (i = 0; i < t->n_tombs; i++) {
		if (t->tombs[i].dump_gen + TOMB_DUMPS > t->dump_gen) {
			t->tombs[j++] = t->tombs[i];
		} else {
			tomb_forget(t, &t->tombs[i]);
		}
	}
	if (j != t->n_tombs) {
		t->n_tombs = j;
		if (idx_rebuild(t, &t->tomb_idx, hash_tomb_at, j) != 0) {
			/* Without an index no tombstone can be found: drop
			 * them rather than keep unreachable ones. */
			for (i = 0; i < j; i++) {
				tomb_forget(t, &t->tombs[i]);
			}
			t->n_tombs = 0;
			t->tomb_idx.n = 0;
			if (t->tomb_idx.cap != 0) {
				memset(t->tomb_idx.slots, 0xff,
				       t->tomb_idx.cap *
				           sizeof(*t->tomb_idx.slots));
			}
		}
	}
	t->primed = true;
	t->resync = false;
}

void
xfrm_totals_lost_events(struct xfrm_totals *t)
{
	t->resync = true;
	t->resyncs++;
}

/* DELSA or hard EXPIRE: the SA is gone, `ev` has its final counters. */
static int
event_gone(struct xfrm_totals *t, const struct xfrm_sa *ev, enum xfrm_dir dir)
{
	struct xfrm_counts final = sa_counts(ev);
	struct xfrm_live *l = live_find(t, ev);
	struct xfrm_tomb *d;
	size_t tun;
	int rv;

	if (l != NULL && l->add_time == ev->add_time) {
		if (!xfrm_parse_is_larval(ev) && !l->complete) {
			live_complete_now(t, l, ev);
		}
		return live_retire(t, l, &final, true);
	}
	d = tomb_find(t, ev);
	if (d != NULL) {
		/* Retired by a dump (or a hard expire) before this event:
		 * add only what happened after that. */
		counts_add_delta(&t->tunnels[d->tunnel].retired, &final,
		                 &d->retired);
		counts_max(&d->retired, &final);
		if (!d->counted_delete) {
			d->counted_delete = true;
			t->deleted++;
			t->tunnels[d->tunnel].deleted++;
			t->tunnels[d->tunnel].gone_unconfirmed--;
		}
		return 0;
	}
	/* Never seen: added and deleted between two collections. Its NEWSA
	 * event was counted; its traffic is retired here. */
	rv = tunnel_get(t, ev, dir, &tun);
	if (rv != 0) {
		return rv;
	}
	counts_add(&t->tunnels[tun].retired, &final);
	t->tunnels[tun].sas_retired++;
	tunnel_props(&t->tunnels[tun], ev);
	if (!xfrm_parse_is_larval(ev)) {
		t->deleted++;
		t->tunnels[tun].deleted++;
	}
	{
		struct xfrm_live tmp = {
		    .family = ev->family,
		    .proto = ev->proto,
		    .spi = ev->spi,
		    .daddr = canon_addr(ev->family, &ev->daddr),
		    .add_time = ev->add_time,
		    .tunnel = tun,
		};

		return tomb_add(t, &tmp, &final, true);
	}
}

static int
event_flush(struct xfrm_totals *t, uint8_t proto)
{
	size_t i = 0;
	int rv = 0;

	/* Bounded: each step retires one SA or advances i. */
	while (i < t->n_live) {
		struct xfrm_live *l = &t->live[i];

		if (proto == 0 || proto == IPSEC_PROTO_ANY ||
		    proto == l->proto) {
			int r = live_retire(t, l, &l->cur, true);

			rv = rv ? rv : r;
		} else {
			i++;
		}
	}
	return rv;
}

int
xfrm_totals_event(struct xfrm_totals *t, const struct xfrm_sa *ev,
                  enum xfrm_dir dir)
{
	struct xfrm_live *l;
	int rv;

	switch (ev->kind) {
	case XFRM_KIND_ACQUIRE:
		t->acquires++;
		return 0;
	case XFRM_KIND_FLUSHSA:
		return event_flush(t, ev->proto);
	case XFRM_KIND_EXPIRE:
		if (ev->hard) {
			t->hard_expires++;
			return xfrm_totals_tracks(ev) ? event_gone(t, ev, dir)
			                              : 0;
		}
		t->soft_expires++;
		l = xfrm_totals_tracks(ev) ? live_find(t, ev) : NULL;
		if (l != NULL && l->add_time == ev->add_time) {
			live_update(t, l, ev);
		}
		return 0;
	case XFRM_KIND_DELSA:
		return xfrm_totals_tracks(ev) ? event_gone(t, ev, dir) : 0;
	case XFRM_KIND_NEWSA:
	case XFRM_KIND_UPDSA:
		break;
	default:
		return 0;
	}
	if (!xfrm_totals_tracks(ev)) {
		return 0;
	}
	l = live_find(t, ev);
	if (l != NULL && l->add_time != ev->add_time) {
		/* The SPI's previous instance went without a DELSA we saw. */
		rv = live_retire(t, l, &l->cur, true);
		if (rv != 0) {
			return rv;
		}
		l = NULL;
	}
	if (l == NULL) {
		if (tomb_find(t, ev) != NULL) {
			/* A late NEWSA/UPDSA of an SA already gone. */
			return 0;
		}
		rv = live_new(t, ev, dir, &l);
		if (rv != 0) {
			return rv;
		}
		l->dump_gen = t->dump_gen;
	}
	live_update(t, l, ev);
	count_add(t, l);
	return 0;
}

void
xfrm_totals_sums(const struct xfrm_totals *t, struct xfrm_counts *out)
{
	for (size_t i = 0; i < t->n_tunnels; i++) {
		out[i] = t->tunnels[i].retired;
	}
	for (size_t k = 0; k < t->n_live; k++) {
		counts_add(&out[t->live[k].tunnel], &t->live[k].cur);
	}
}

void
xfrm_totals_tunnel_sum(const struct xfrm_totals *t, size_t i,
                       struct xfrm_counts *out)
{
	*out = t->tunnels[i].retired;
	for (size_t k = 0; k < t->n_live; k++) {
		if (t->live[k].tunnel == i) {
			counts_add(out, &t->live[k].cur);
		}
	}
}
