/*
 * Generic access to secstat messages through protobuf-c's run-time
 * descriptors: presence, values, a depth-first walk over every present
 * statistic, pruning and JSON output. Every view of the data model (JSON,
 * TSV, Prometheus, fleet sums, rates, on-change diffs) is built on these
 * few functions instead of per-field code.
 */
#ifndef SECSTAT_MODEL_H
#define SECSTAT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#include "stat_meta.h"

/* Longest dotted path the walker builds ("a.b[12].c"). */
#define MODEL_PATH_MAX 256

/* Whether an optional or oneof field is set; repeated: non-empty. */
bool model_field_present(const ProtobufCMessage *msg,
                         const ProtobufCFieldDescriptor *fd);

/* Number of elements of a repeated field; 1 or 0 for others. */
size_t model_field_count(const ProtobufCMessage *msg,
                         const ProtobufCFieldDescriptor *fd);

/* Element `i` of a numeric or bool field widened to uint64 (signed
 * values are cast). Only meaningful for numeric types. */
uint64_t model_field_u64(const ProtobufCMessage *msg,
                         const ProtobufCFieldDescriptor *fd, size_t i);

/* Element `i` of a message-typed field, or NULL. */
const ProtobufCMessage *model_field_message(const ProtobufCMessage *msg,
                                            const ProtobufCFieldDescriptor *fd,
                                            size_t i);

/* Size of one element of the field's C representation (of the array of a
 * repeated field). */
size_t model_field_elem_size(const ProtobufCFieldDescriptor *fd);

/* Marks a field present: the oneof case, or the has_ flag of an optional
 * scalar (strings and messages are present when their pointer is set). */
void model_field_mark_present(ProtobufCMessage *msg,
                              const ProtobufCFieldDescriptor *fd);

/* Sets an optional numeric field (and its has_ flag). */
void model_field_set_u64(ProtobufCMessage *msg,
                         const ProtobufCFieldDescriptor *fd, uint64_t v);

/* One present statistic (numeric field element) met by model_walk(). */
struct model_stat {
	const char *path;            /* dotted JSON-name path */
	const ProtobufCMessage *msg; /* message holding the field */
	const ProtobufCFieldDescriptor *fd;
	const struct stat_field_meta *meta; /* kind, unit, help */
	size_t index;                       /* element of a repeated field */
	uint64_t value;
};

/* Called for every present numeric field element, depth first in field
 * order. Return non-zero to stop the walk (the value is returned). */
typedef int (*model_stat_fn)(const struct model_stat *st, void *arg);

/* Walks `msg`; `prefix` (may be NULL) starts every path. Labels (fields
 * of kind STAT_NONE) are visited too: callers filter on meta->kind. */
int model_walk(const ProtobufCMessage *msg, const char *prefix,
               model_stat_fn fn, void *arg);

/* Clears every sub-message pointer whose message holds nothing present,
 * recursively, so absent blocks stay absent on the wire. Returns true
 * when `msg` itself holds something. For messages whose sub-messages are
 * not owned by an unpack (the agent's own trees). */
bool model_prune(ProtobufCMessage *msg);

/* Writes `msg` as JSON with protobuf JSON names. 64-bit values are JSON
 * numbers (not strings) so that shell tools can do arithmetic on them;
 * `indent` < 0 writes one line. */
void model_write_json(FILE *out, const ProtobufCMessage *msg, int indent);

/* Writes a JSON string literal, escaped. */
void model_write_json_string(FILE *out, const char *s);

#endif /* SECSTAT_MODEL_H */
