/*
 * The relay provider (secstatd --relay HOSTS_FILE): its source is the
 * fleet of agents listed in the hosts file. Each collection queries all
 * of them concurrently (libsecstat's fleet API: one request per host and
 * family, per-host deadline --relay-timeout, connections kept open) and
 * keeps the three aggregates; contribute() adds them to the snapshot's
 * tree, so the relay serves the fleet's sums over the same RPC methods
 * and PUB stream as any agent, and a relay of relays sums again.
 * docs/scaling.md.
 */
#ifndef SECSTAT_PROVIDER_RELAY_H
#define SECSTAT_PROVIDER_RELAY_H

#include <protobuf-c/protobuf-c.h>

#include "arena.h"
#include "provider.h"

extern const struct provider_ops relay_provider;

/* Adds every present field of `src` into `dst` (same type), allocating
 * in `a`: statistics summed, labels and strings kept when already set,
 * lists appended. Exposed for tests. */
void relay_add(struct arena *a, ProtobufCMessage *dst,
               const ProtobufCMessage *src);

#endif /* SECSTAT_PROVIDER_RELAY_H */
