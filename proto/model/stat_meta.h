/*
 * Statistics metadata: kind (counter or gauge), unit, JSON name and help
 * text of every field of every secstat message. The table is generated
 * from the .proto comments by tools/gen_stat_meta.py, so the schema is
 * the only place this knowledge lives.
 */
#ifndef SECSTAT_STAT_META_H
#define SECSTAT_STAT_META_H

#include <protobuf-c/protobuf-c.h>

/* Values match secstat.v1.StatKind. */
enum stat_kind {
	STAT_NONE = 0, /* not a statistic: a label, an id or a message */
	STAT_COUNTER = 1,
	STAT_GAUGE = 2,
};

struct stat_field_meta {
	const char *name;      /* proto field name */
	const char *json_name; /* protobuf JSON name (Windows member name) */
	enum stat_kind kind;
	const char *unit;
	const char *help;
};

struct stat_message_meta {
	const ProtobufCMessageDescriptor *desc;
	/* One entry per field, in the order of desc->fields. */
	const struct stat_field_meta *fields;
	unsigned n_fields;
};

extern const struct stat_message_meta stat_meta_messages[];
extern const unsigned stat_meta_n_messages;

/* The metadata of a message type, or NULL for a type outside the table. */
const struct stat_message_meta *
stat_meta_message(const ProtobufCMessageDescriptor *desc);

/* The metadata of field number `index` (index into desc->fields). Never
 * NULL for a message in the table and a valid index. */
const struct stat_field_meta *
stat_meta_field(const ProtobufCMessageDescriptor *desc, unsigned index);

#endif /* SECSTAT_STAT_META_H */
