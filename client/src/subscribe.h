/*
 * The subscriber's half of the ON_CHANGE protocol, over the descriptors:
 * bringing a state up to date with a delta (docs/protocol.md,
 * "Streaming"). Exposed for tests; the subscription thread is its only
 * other user.
 */
#ifndef SECSTAT_CLIENT_SUBSCRIBE_H
#define SECSTAT_CLIENT_SUBSCRIBE_H

#include <protobuf-c/protobuf-c.h>

/* Applies one delta to `state` (a message of the same type allocated
 * with malloc, as free_unpacked(.., NULL) frees it): first every field
 * present in `removed` (may be NULL) is cleared (a singular message
 * present and empty there is removed whole), then every field present
 * in `changed` (may be NULL) is set, lists replaced whole. Returns 0 or
 * -ENOMEM (the state is then partly updated and must be discarded). */
int subscribe_apply(ProtobufCMessage *state, const ProtobufCMessage *changed,
                    const ProtobufCMessage *removed);

#endif /* SECSTAT_CLIENT_SUBSCRIBE_H */
