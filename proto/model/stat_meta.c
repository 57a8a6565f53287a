/* Lookup over the generated statistics metadata table. */
#include "stat_meta.h"

#include <stddef.h>

/*
 * A handful of message types reach the walker over and over while a
 * reply is formatted; remember the last hit per thread, which makes the
 * common case (consecutive fields of one message) a pointer compare.
 */
static _Thread_local const struct stat_message_meta *last_hit;

const struct stat_message_meta *
stat_meta_message(const ProtobufCMessageDescriptor *desc)
{
	const struct stat_message_meta *m = last_hit;

	if (m != NULL && m->desc == desc) {
		return m;
	}
	for (unsigned i = 0; i < stat_meta_n_messages; i++) {
		if (stat_meta_messages[i].desc == desc) {
			last_hit = &stat_meta_messages[i];
			return last_hit;
		}
	}
	return NULL;
}

const struct stat_field_meta *
stat_meta_field(const ProtobufCMessageDescriptor *desc, unsigned index)
{
	const struct stat_message_meta *m = stat_meta_message(desc);

	if (m == NULL || index >= m->n_fields) {
		return NULL;
	}
	return &m->fields[index];
}
