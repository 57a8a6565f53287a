/*
 * One immutable, reference-counted snapshot: every method's complete
 * Reply (without request_id) encoded once, from one consistent set of
 * provider records. The server answers a request by copying these bytes
 * behind the request's request_id; nothing is encoded per request.
 *
 * A snapshot is never modified after snapshot_build() returns; any thread
 * may read it while it holds a reference.
 */
#ifndef SECSTAT_AGENT_SNAPSHOT_H
#define SECSTAT_AGENT_SNAPSHOT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "provider.h"

struct hostinfo;
struct registry;
struct registry_left_out;

/* What a snapshot is built from; all of it outlives every snapshot. */
struct snapshot_source {
	struct registry *registry;
	const struct hostinfo *host;
	/* Providers compiled in (NULL-terminated, may be NULL): those the
	 * registry does not run are reported with the health and reason
	 * registry_select() gave them in `left_out`, else as
	 * HEALTH_DISABLED "not enabled". */
	const struct provider_ops *const *known;
	const uint8_t *capabilities; /* methods_capabilities_encode() */
	size_t capabilities_len;
	const struct registry_left_out *left_out;
	size_t n_left_out;
};

struct snapshot_bytes {
	const uint8_t *data;
	size_t len;
	uint32_t status; /* the Reply's status, for logs */
	/* Some provider feeding the method has not completed its first
	 * collection yet: the answer is provisional (just after start). */
	bool pending;
};

struct snapshot {
	atomic_uint refs;
	uint64_t seq;           /* build number, from 1 */
	uint64_t built_mono_ms; /* CLOCK_MONOTONIC */
	/* Age of the data: the oldest successful collection that
	 * contributed (the build time when nothing did). A request's
	 * max_age_ms is checked against this, not the build time, since a
	 * rebuild does not make the records any younger. */
	uint64_t collected_mono_ms;
	uint64_t collected_unix_ms;
	/* Reply field 4 (HostInfo), tag and length included, for replies
	 * built per request (errors). */
	struct snapshot_bytes host_field;
	size_t n_methods;
	struct snapshot_bytes reply[]; /* by methods_table index */
};

/*
 * Builds a snapshot: a fresh stats_tree, every provider's contribution,
 * pruning, then one encode per method. The result has one reference.
 * Returns NULL only when out of memory.
 */
struct snapshot *snapshot_build(const struct snapshot_source *src,
                                uint64_t seq);

/* Takes one more reference. */
struct snapshot *snapshot_hold(struct snapshot *s);
/* Drops a reference; the last one frees. NULL is a no-op. */
void snapshot_release(struct snapshot *s);

/* The cached Reply bytes of method `index` (methods_table). */
static inline struct snapshot_bytes
snapshot_reply(const struct snapshot *s, size_t index)
{
	return s->reply[index];
}

#endif /* SECSTAT_AGENT_SNAPSHOT_H */
