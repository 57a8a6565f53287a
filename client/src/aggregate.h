/*
 * Fleet aggregation over the protobuf-c descriptors: one result message
 * per host is added into a sum of the same type, with, for every summed
 * statistic, the number of hosts that had it and its extremes. No
 * per-field code: the only schema knowledge is the kind table
 * (stat_meta.h) and the list rules below.
 *
 * Rules (docs/scaling.md):
 * - a numeric statistic (counter or gauge) is summed over the hosts that
 *   have it; absent on every host stays absent;
 * - a numeric label (kind none: error_code_base, ids) and a string keep
 *   the first host's value;
 * - a repeated number (the IKE error-frequency table) is summed element
 *   by element;
 * - XFRM MIB counters are merged by name and namespaces by netns
 *   (recursively); every other list (iSCSI HBAs, SA and connection
 *   details) is concatenated, each element tagged with its host by a
 *   "<hostname>/" prefix on its name (InstanceName for an HBA).
 */
#ifndef SECSTAT_CLIENT_AGGREGATE_H
#define SECSTAT_CLIENT_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

#include <secstat/v1/stream.pb-c.h>

struct aggregate;

/* A builder for results of type `desc`. Returns 0 or -ENOMEM. */
int aggregate_create(struct aggregate **ap,
                     const ProtobufCMessageDescriptor *desc);

/* Adds host `host`'s result (of the builder's type). `hostname` tags
 * concatenated list elements (NULL: "host<index>"). Returns 0, -EINVAL
 * (wrong type) or -ENOMEM (the builder is then unusable). */
int aggregate_add(struct aggregate *a, const ProtobufCMessage *result,
                  uint32_t host, const char *hostname);

/* Number of results added. */
size_t aggregate_count(const struct aggregate *a);

/* Moves the sum out of the builder: a message allocated with malloc,
 * freed with protobuf_c_message_free_unpacked(msg, NULL). NULL when
 * nothing was added. */
ProtobufCMessage *aggregate_take(struct aggregate *a);

/* Appends one FleetFieldSummary per summed statistic to `out` (fields
 * malloc'ed, freed with the FleetAggregate by free_unpacked(.., NULL)).
 * Call before aggregate_take(). Returns 0 or -ENOMEM. */
int aggregate_summary(const struct aggregate *a,
                      Secstat__V1__FleetAggregate *out);

void aggregate_free(struct aggregate *a);

/* Deep copy of any message with malloc, for free_unpacked(.., NULL).
 * NULL when out of memory. */
ProtobufCMessage *aggregate_copy(const ProtobufCMessage *msg);

#endif /* SECSTAT_CLIENT_AGGREGATE_H */
