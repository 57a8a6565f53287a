/*
 * The collector: owns the current snapshot. Its thread rebuilds the
 * snapshot every collect interval from the providers' latest records, and
 * on demand after asking every provider for fresh records (waiting at
 * most COLLECTOR_REFRESH_WAIT_MS for them). Readers take a reference to
 * the current snapshot under a mutex held only for the pointer copy, so
 * serving never waits on collection.
 */
#ifndef SECSTAT_AGENT_COLLECTOR_H
#define SECSTAT_AGENT_COLLECTOR_H

#include <stdint.h>

#include "snapshot.h"

struct collector;

/* Longest a refresh waits for providers before building anyway. */
#define COLLECTOR_REFRESH_WAIT_MS 1000

/* `src` (and everything it points to) must outlive the collector. */
int collector_create(struct collector **cp, const struct snapshot_source *src,
                     unsigned interval_ms);

/* Builds the first snapshot after a refresh (so it is never empty when
 * the sources answer within the wait), then starts the thread. */
int collector_start(struct collector *c);

/* Stops and joins the thread, releases the current snapshot and frees
 * `c`. Snapshots still held by readers stay valid. NULL is a no-op. */
void collector_destroy(struct collector *c);

/* The current snapshot with a reference the caller releases with
 * snapshot_release(); NULL before the first build. Never blocks on a
 * build. Any thread. */
struct snapshot *collector_acquire(struct collector *c);

/* Synchronous refresh: triggers every provider, waits for their fresh
 * records (bounded), builds and installs a snapshot. Blocks up to about
 * COLLECTOR_REFRESH_WAIT_MS: never call it from an nng callback. */
void collector_refresh(struct collector *c);

/* Asynchronous refresh: asks the collector thread to refresh as soon as
 * possible and returns at once. Requests made while a refresh is running
 * are coalesced into one more refresh. Safe from nng callbacks. */
void collector_request_refresh(struct collector *c);

#endif /* SECSTAT_AGENT_COLLECTOR_H */
