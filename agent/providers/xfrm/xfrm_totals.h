/*
 * Monotonic per-tunnel accounting over kernel SAs whose counters restart
 * at every rekey.
 *
 * A tunnel is (reqid, direction, family, protocol, outer source,
 * outer destination): every SA that replaces another one for the same
 * tunnel (a rekey, or an SA re-created by hand) lands in the same
 * tunnel. Its totals are the final counters of every SA of the tunnel
 * that is gone ("retired") plus the current counters of its live SAs, so
 * they never go backwards while the agent runs.
 *
 * Two inputs feed it, in any interleaving:
 * - dumps (XFRM_MSG_GETSA): xfrm_totals_dump_begin, one
 *   xfrm_totals_dump_sa per SA, xfrm_totals_dump_end. An SA that was
 *   live and is missing from a dump is retired with the counters of the
 *   last dump that saw it and kept as a tombstone, so a DELSA event
 *   arriving later adds only what it carried on top.
 * - events (XFRMNLGRP_SA / XFRMNLGRP_EXPIRE / XFRMNLGRP_ACQUIRE):
 *   xfrm_totals_event. DELSA and hard EXPIRE carry the SA's final
 *   counters, which are retired exactly.
 * Only ESP and AH SAs are accounted (IPComp SAs and the kernel's internal
 * IPIP states of tunnel-mode IPComp belong to an ESP/AH SA), and only
 * complete ones: larval states (acquire or ALLOCSPI, no transform yet)
 * are counted as pending, never as added or deleted.
 *
 * Not thread-safe: one owner (the provider's collect thread).
 */
#ifndef SECSTAT_PROVIDER_XFRM_TOTALS_H
#define SECSTAT_PROVIDER_XFRM_TOTALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xfrm_parse.h"

/* Direction of an SA relative to this host (namespace). */
enum xfrm_dir {
	XFRM_DIR_UNKNOWN = 0,
	XFRM_DIR_IN = 1,
	XFRM_DIR_OUT = 2,
};

struct xfrm_tunnel_key {
	uint32_t reqid;
	uint16_t family;
	uint8_t proto;
	uint8_t dir; /* enum xfrm_dir */
	xfrm_address_t saddr;
	xfrm_address_t daddr;
};

/* Counters of one SA or sums of several. */
struct xfrm_counts {
	uint64_t bytes;
	uint64_t packets;
	uint64_t replay;              /* xfrm_stats.replay */
	uint64_t replay_window_drops; /* xfrm_stats.replay_window */
	uint64_t integrity_failed;
};

struct xfrm_tunnel {
	struct xfrm_tunnel_key key;
	/* Properties of the tunnel's latest SA. */
	uint8_t mode;
	bool encrypting;
	bool authenticating; /* ESP with an integrity algorithm or AEAD, AH */
	bool offloaded;
	bool has_sel;
	struct xfrm_selector sel;
	struct xfrm_counts retired; /* final counters of its vanished SAs */
	uint64_t sas_retired;
	size_t live_complete; /* its complete SAs in the SAD now */
	/* Its complete SAs a dump no longer showed and whose DELSA has not
	 * come yet: still installed as far as the event stream is concerned
	 * (a NEWSA before that DELSA is a make-before-break rekey). */
	size_t gone_unconfirmed;
	/* Its share of the event counters of struct xfrm_totals. */
	uint64_t added;
	uint64_t deleted;
	uint64_t rekeys;
};

/* One SA the accounting currently believes to be in the SAD. */
struct xfrm_live {
	uint16_t family;
	uint8_t proto;
	uint32_t spi;
	xfrm_address_t daddr;
	uint64_t add_time; /* tells two instances of one SPI apart */
	size_t tunnel;     /* index into xfrm_totals.tunnels */
	bool complete;     /* has a transform (not larval) */
	bool counted_add;  /* counted in `added`, or there before the start */
	unsigned dump_gen; /* last dump that saw it */
	struct xfrm_counts cur;
};

/* An SA that left the SAD: what was retired for it and whether its
 * deletion was counted, until the matching DELSA can no longer come. */
struct xfrm_tomb {
	uint16_t family;
	uint8_t proto;
	uint32_t spi;
	xfrm_address_t daddr;
	uint64_t add_time;
	size_t tunnel;
	bool counted_delete;
	unsigned dump_gen; /* dump that retired it */
	struct xfrm_counts retired;
};

/* Positions of array elements by key hash: open addressing, linear
 * probing, deletion by backward shift; at most half full. */
struct xfrm_index {
	uint32_t *slots; /* XFRM_INDEX_EMPTY or a position */
	size_t cap;      /* power of two, 0 before the first insert */
	size_t n;
};
#define XFRM_INDEX_EMPTY UINT32_MAX

struct xfrm_totals {
	/* Lookups are hashed (a gateway can hold tens of thousands of
	 * SAs, and every dump looks each one up). */
	struct xfrm_index tunnel_idx; /* by tunnel key */
	struct xfrm_index live_idx;   /* by (family, proto, SPI, daddr) */
	struct xfrm_index tomb_idx;   /* same key; add_time compared */
	struct xfrm_tunnel *tunnels;
	size_t n_tunnels;
	size_t cap_tunnels;
	struct xfrm_live *live;
	size_t n_live;
	size_t cap_live;
	struct xfrm_tomb *tombs;
	size_t n_tombs;
	size_t cap_tombs;

	unsigned dump_gen; /* completed dumps */
	bool primed;       /* the first dump (the baseline) is done */
	bool resync;       /* events were lost: the next dump counts changes */

	/* Events since the agent started. */
	uint64_t added;
	uint64_t deleted;
	uint64_t rekeys;
	uint64_t acquires;
	uint64_t soft_expires;
	uint64_t hard_expires;
	uint64_t resyncs; /* ENOBUFS recoveries */
};

void xfrm_totals_init(struct xfrm_totals *t);
void xfrm_totals_fini(struct xfrm_totals *t);

/* A dump starts; SAs not reported before xfrm_totals_dump_end are gone. */
void xfrm_totals_dump_begin(struct xfrm_totals *t);
/* One SA of the dump, with its direction. 0 or -ENOMEM. */
int xfrm_totals_dump_sa(struct xfrm_totals *t, const struct xfrm_sa *sa,
                        enum xfrm_dir dir);
/* The dump is complete: retire the SAs it did not report. */
void xfrm_totals_dump_end(struct xfrm_totals *t);

/* One multicast event, in arrival order. `dir` is used for SAs the
 * accounting has not seen yet. 0 or -ENOMEM. */
int xfrm_totals_event(struct xfrm_totals *t, const struct xfrm_sa *ev,
                      enum xfrm_dir dir);

/* The event socket overflowed (ENOBUFS): events were lost, so the next
 * complete dump counts the SAs that appeared or vanished meanwhile. */
void xfrm_totals_lost_events(struct xfrm_totals *t);

/* Totals of tunnel `i`: retired plus its live SAs' current counters. */
void xfrm_totals_tunnel_sum(const struct xfrm_totals *t, size_t i,
                            struct xfrm_counts *out);
/* The same for every tunnel at once, in one pass: out[n_tunnels]. */
void xfrm_totals_sums(const struct xfrm_totals *t, struct xfrm_counts *out);

/* Whether the SA is one the accounting tracks (complete or larval ESP/AH
 * with a non-zero SPI). */
bool xfrm_totals_tracks(const struct xfrm_sa *sa);

#endif /* SECSTAT_PROVIDER_XFRM_TOTALS_H */
