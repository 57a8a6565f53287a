/*
 * Parsers for the text libreswan's pluto prints through whack:
 *
 * - `whack --globalstatus`: one `key=value` line per statistic, built in
 *   programs/pluto/pluto_stats.c and state.c. The set of keys, their
 *   order and the line prefix drift between releases (3.x prefixes every
 *   line with a three-digit code such as "000 ", 4.x and 5.x print the
 *   bare line; keys are added in most releases), so every well-formed
 *   line is kept in a generic map, known or not, and the mapping looks
 *   keys up by name.
 * - `whack --trafficstatus`: one line per established IPsec SA,
 *   `#N: "conn"[inst] addr, [username=u, ]type=ESP, add_time=T,
 *   inBytes=N, outBytes=N[, maxBytes=M][, id='ID'][, lease=L]`.
 *
 * Both parsers are pure (no I/O, no global state) and never fail on
 * content: what they refuse is counted, so they can be fuzzed directly.
 * Everything parsed lives in the records' arena.
 */
#ifndef SECSTAT_PROVIDER_WHACK_PARSE_H
#define SECSTAT_PROVIDER_WHACK_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

/* Longest key kept; pluto's longest (4.10) is 61 characters. */
#define WHACK_KEY_MAX 256
/* Most keys kept from one globalstatus (4.10 prints 540). */
#define WHACK_MAX_KEYS 8192
/* Most SAs kept from one trafficstatus. */
#define WHACK_MAX_SAS 65536

/* One globalstatus line. */
struct whack_kv {
	const char *key;
	const char *text; /* the value as printed, blanks trimmed */
	bool numeric;     /* text is a decimal that fits 64 bits */
	uint64_t value;
};

/* One globalstatus reading, sorted by key (first occurrence of a key
 * wins; later ones are counted as duplicates). */
struct whack_global {
	struct whack_kv *kv;
	size_t n;
	unsigned skipped;    /* lines that are not key=value */
	unsigned duplicates; /* repeated keys, dropped */
	bool truncated;      /* the text ended inside a line */
};

/* One trafficstatus line: an established IPsec SA (a CHILD_SA, both
 * directions). A field the line does not carry stays absent. */
struct whack_sa {
	uint64_t serial;      /* pluto's state number, "#N" */
	const char *name;     /* connection name with instance, e.g. c[1] */
	const char *peer;     /* instance address after the name, or NULL */
	const char *type;     /* "ESP", "AH", "IPCOMP", ... or NULL */
	const char *id;       /* peer ID without quotes, or NULL */
	const char *username; /* XAUTH/PAM user, or NULL */
	bool has_add_time;
	uint64_t add_time; /* wall clock, seconds */
	bool has_in_bytes;
	uint64_t in_bytes;
	bool has_out_bytes;
	uint64_t out_bytes;
};

struct whack_traffic {
	struct whack_sa *sas;
	size_t n;
	unsigned skipped;
	bool truncated;
};

/* One state of `whack --showstates` (several lines may describe it):
 *   #1: "c":500 STATE_V2_ESTABLISHED_IKE_SA (established IKE SA); ...
 *   #2: "c":500 STATE_V2_ESTABLISHED_CHILD_SA (...); ...; IKE SA #1; ...
 *   #2: "c" esp.287385b0@192.0.2.2 esp.2a002597@192.0.2.1 Traffic: ...
 * The first esp (else ah) SPI is the outbound SA, named by its
 * destination, the peer; the second the inbound one, at this host. */
struct whack_state {
	uint64_t serial;
	const char *name;  /* connection with instance */
	const char *state; /* "STATE_...", or NULL */
	bool has_parent;
	uint64_t parent;   /* the IKE (ISAKMP) SA of a Child SA */
	const char *proto; /* "esp" or "ah" when SPIs were seen */
	bool has_spi_out;
	uint32_t spi_out;
	const char *remote; /* the outbound SA's destination */
	bool has_spi_in;
	uint32_t spi_in;
	const char *local; /* the inbound SA's destination */
};

/* Sorted by serial, one entry per state. */
struct whack_states {
	struct whack_state *st;
	size_t n;
	unsigned skipped;
	bool truncated;
};

/* Parses `len` bytes of `whack --globalstatus` output into `g`, with
 * every string allocated from `a`. */
void whack_parse_global(const char *buf, size_t len, struct arena *a,
                        struct whack_global *g);

/* The line for `key`, or NULL. */
const struct whack_kv *whack_global_find(const struct whack_global *g,
                                         const char *key);

/* The numeric value of `key`: true and *v set when present and numeric. */
bool whack_global_u64(const struct whack_global *g, const char *key,
                      uint64_t *v);

/* Whether any key starts with `prefix`. */
bool whack_global_has_prefix(const struct whack_global *g, const char *prefix);

/* Parses `len` bytes of `whack --trafficstatus` output into `t`. */
void whack_parse_traffic(const char *buf, size_t len, struct arena *a,
                         struct whack_traffic *t);

/* Parses `len` bytes of `whack --showstates` output into `s`. */
void whack_parse_states(const char *buf, size_t len, struct arena *a,
                        struct whack_states *s);

/* The state numbered `serial`, or NULL. */
const struct whack_state *whack_states_find(const struct whack_states *s,
                                            uint64_t serial);

#endif /* SECSTAT_PROVIDER_WHACK_PARSE_H */
