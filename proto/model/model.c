/* Descriptor-driven access to secstat messages. */
#include "model.h"

#include <inttypes.h>
#include <string.h>

static const void *
field_ptr(const ProtobufCMessage *msg, unsigned offset)
{
	return (const char *)msg + offset;
}

static bool
is_oneof(const ProtobufCFieldDescriptor *fd)
{
	return (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
}

static bool
is_pointer_type(const ProtobufCFieldDescriptor *fd)
{
	return fd->type == PROTOBUF_C_TYPE_MESSAGE ||
	       fd->type == PROTOBUF_C_TYPE_STRING;
}

bool
model_field_present(const ProtobufCMessage *msg,
                    const ProtobufCFieldDescriptor *fd)
{
	if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
		return model_field_count(msg, fd) > 0;
	}
	if (is_oneof(fd)) {
		const uint32_t *oneof_case =
		    field_ptr(msg, fd->quantifier_offset);
		return *oneof_case == fd->id;
	}
	if (is_pointer_type(fd)) {
		const void *const *p = field_ptr(msg, fd->offset);
		return *p != NULL;
	}
	if (fd->type == PROTOBUF_C_TYPE_BYTES ||
	    fd->label == PROTOBUF_C_LABEL_OPTIONAL) {
		const protobuf_c_boolean *has =
		    field_ptr(msg, fd->quantifier_offset);
		return *has != 0;
	}
	return true; /* required */
}

size_t
model_field_count(const ProtobufCMessage *msg,
                  const ProtobufCFieldDescriptor *fd)
{
	if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
		const size_t *n = field_ptr(msg, fd->quantifier_offset);
		return *n;
	}
	return model_field_present(msg, fd) ? 1 : 0;
}

/* Address of element i: repeated fields hold a pointer to an array. */
static const void *
element_ptr(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd,
            size_t i, size_t elem_size)
{
	if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
		const char *const *array = field_ptr(msg, fd->offset);
		return *array + i * elem_size;
	}
	return field_ptr(msg, fd->offset);
}

uint64_t
model_field_u64(const ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd,
                size_t i)
{
	const void *p;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		p = element_ptr(msg, fd, i, sizeof(uint64_t));
		return *(const uint64_t *)p;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		p = element_ptr(msg, fd, i, sizeof(uint32_t));
		return *(const uint32_t *)p;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		p = element_ptr(msg, fd, i, sizeof(int32_t));
		return (uint64_t)(int64_t) * (const int32_t *)p;
	case PROTOBUF_C_TYPE_BOOL:
		p = element_ptr(msg, fd, i, sizeof(protobuf_c_boolean));
		return *(const protobuf_c_boolean *)p ? 1 : 0;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		break;
	}
	return 0;
}

const ProtobufCMessage *
model_field_message(const ProtobufCMessage *msg,
                    const ProtobufCFieldDescriptor *fd, size_t i)
{
	const ProtobufCMessage *const *p;

	if (fd->type != PROTOBUF_C_TYPE_MESSAGE ||
	    i >= model_field_count(msg, fd)) {
		return NULL;
	}
	p = element_ptr(msg, fd, i, sizeof(ProtobufCMessage *));
	return *p;
}

size_t
model_field_elem_size(const ProtobufCFieldDescriptor *fd)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_ENUM:
		break;
	}
	return 4;
}

void
model_field_mark_present(ProtobufCMessage *msg,
                         const ProtobufCFieldDescriptor *fd)
{
	if (is_oneof(fd)) {
		*(uint32_t *)((char *)msg + fd->quantifier_offset) = fd->id;
	} else if (fd->label == PROTOBUF_C_LABEL_OPTIONAL &&
	           !is_pointer_type(fd)) {
		*(protobuf_c_boolean *)((char *)msg + fd->quantifier_offset) =
		    1;
	}
}

void
model_field_set_u64(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd,
                    uint64_t v)
{
	void *p = (char *)msg + fd->offset;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		*(uint64_t *)p = v;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		*(uint32_t *)p = (uint32_t)v;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)p = v != 0;
		break;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return;
	}
	if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && !is_oneof(fd)) {
		*(protobuf_c_boolean *)((char *)msg + fd->quantifier_offset) =
		    1;
	}
}

static bool
is_numeric(const ProtobufCFieldDescriptor *fd)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		return false;
	default:
		return true;
	}
}

static const char *
json_name(const ProtobufCMessageDescriptor *desc, unsigned i)
{
	const struct stat_field_meta *m = stat_meta_field(desc, i);

	return m != NULL ? m->json_name : desc->fields[i].name;
}

/* Appends ".name" or "name" (and "[i]") to path at len; returns new len,
 * or 0 when the path would not fit. */
static size_t
path_push(char *path, size_t len, const char *name, long index)
{
	int n;

	n = snprintf(path + len, MODEL_PATH_MAX - len, "%s%s", len ? "." : "",
	             name);
	if (n < 0 || (size_t)n >= MODEL_PATH_MAX - len) {
		return 0;
	}
	len += (size_t)n;
	if (index >= 0) {
		n = snprintf(path + len, MODEL_PATH_MAX - len, "[%ld]", index);
		if (n < 0 || (size_t)n >= MODEL_PATH_MAX - len) {
			return 0;
		}
		len += (size_t)n;
	}
	return len;
}

static int
walk(const ProtobufCMessage *msg, char *path, size_t len, model_stat_fn fn,
     void *arg)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	static const struct stat_field_meta no_meta = {NULL, NULL, STAT_NONE,
	                                               "", ""};

	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &desc->fields[i];
		const struct stat_field_meta *meta;
		size_t n = model_field_count(msg, fd);
		bool repeated = fd->label == PROTOBUF_C_LABEL_REPEATED;

		if (n == 0) {
			continue;
		}
		meta = stat_meta_field(desc, i);
		for (size_t k = 0; k < n; k++) {
			size_t l = path_push(path, len, json_name(desc, i),
			                     repeated ? (long)k : -1);
			int rv;

			if (l == 0) {
				continue; /* too deep to name: skip */
			}
			if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
				rv = walk(model_field_message(msg, fd, k), path,
				          l, fn, arg);
			} else if (is_numeric(fd)) {
				struct model_stat st = {
				    .path = path,
				    .msg = msg,
				    .fd = fd,
				    .meta = meta != NULL ? meta : &no_meta,
				    .index = k,
				    .value = model_field_u64(msg, fd, k),
				};
				rv = fn(&st, arg);
			} else {
				rv = 0;
			}
			path[len] = '\0';
			if (rv != 0) {
				return rv;
			}
		}
	}
	return 0;
}

int
model_walk(const ProtobufCMessage *msg, const char *prefix, model_stat_fn fn,
           void *arg)
{
	char path[MODEL_PATH_MAX];
	size_t len = 0;

	path[0] = '\0';
	if (prefix != NULL && *prefix != '\0') {
		len = path_push(path, 0, prefix, -1);
	}
	return walk(msg, path, len, fn, arg);
}

bool
model_prune(ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	bool any = false;

	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &desc->fields[i];

		if (fd->type == PROTOBUF_C_TYPE_MESSAGE &&
		    fd->label != PROTOBUF_C_LABEL_REPEATED &&
		    model_field_present(msg, fd)) {
			ProtobufCMessage **sub =
			    (ProtobufCMessage **)((char *)msg + fd->offset);
			if (!model_prune(*sub)) {
				*sub = NULL;
				if (is_oneof(fd)) {
					*(uint32_t *)((char *)msg +
					              fd->quantifier_offset) =
					    0;
				}
				continue;
			}
		}
		if (fd->type == PROTOBUF_C_TYPE_MESSAGE &&
		    fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = model_field_count(msg, fd);
			for (size_t k = 0; k < n; k++) {
				ProtobufCMessage *sub =
				    (ProtobufCMessage *)model_field_message(
				        msg, fd, k);
				model_prune(sub);
			}
		}
		if (model_field_present(msg, fd)) {
			any = true;
		}
	}
	return any;
}

void
model_write_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		default:
			if (*p < 0x20) {
				fprintf(out, "\\u%04x", *p);
			} else {
				fputc(*p, out);
			}
		}
	}
	fputc('"', out);
}

static void
newline(FILE *out, int indent, int depth)
{
	if (indent < 0) {
		return;
	}
	fputc('\n', out);
	for (int i = 0; i < indent * depth; i++) {
		fputc(' ', out);
	}
}

static void write_json(FILE *out, const ProtobufCMessage *msg, int indent,
                       int depth);

static void
write_json_value(FILE *out, const ProtobufCMessage *msg,
                 const ProtobufCFieldDescriptor *fd, size_t k, int indent,
                 int depth)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_MESSAGE:
		write_json(out, model_field_message(msg, fd, k), indent, depth);
		break;
	case PROTOBUF_C_TYPE_STRING: {
		const char *const *p =
		    element_ptr(msg, fd, k, sizeof(const char *));
		model_write_json_string(out, *p);
		break;
	}
	case PROTOBUF_C_TYPE_BOOL:
		fputs(model_field_u64(msg, fd, k) ? "true" : "false", out);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = fd->descriptor;
		const ProtobufCEnumValue *ev =
		    protobuf_c_enum_descriptor_get_value(
		        ed, (int)model_field_u64(msg, fd, k));
		if (ev != NULL) {
			model_write_json_string(out, ev->name);
		} else {
			fprintf(out, "%" PRId64,
			        (int64_t)(int32_t)model_field_u64(msg, fd, k));
		}
		break;
	}
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		fprintf(out, "%" PRId64, (int64_t)model_field_u64(msg, fd, k));
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b =
		    element_ptr(msg, fd, k, sizeof(ProtobufCBinaryData));
		fputc('"', out);
		for (size_t i = 0; i < b->len; i++) {
			fprintf(out, "%02x", b->data[i]);
		}
		fputc('"', out);
		break;
	}
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		fputs("null", out); /* no float fields in the schema */
		break;
	default:
		fprintf(out, "%" PRIu64, model_field_u64(msg, fd, k));
	}
}

static void
write_json(FILE *out, const ProtobufCMessage *msg, int indent, int depth)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	bool first = true;

	fputc('{', out);
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &desc->fields[i];
		size_t n = model_field_count(msg, fd);

		if (n == 0) {
			continue;
		}
		if (!first) {
			fputc(',', out);
		}
		first = false;
		newline(out, indent, depth + 1);
		model_write_json_string(out, json_name(desc, i));
		fputs(indent < 0 ? ":" : ": ", out);
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			fputc('[', out);
			for (size_t k = 0; k < n; k++) {
				if (k > 0) {
					fputs(indent < 0 ? "," : ", ", out);
				}
				write_json_value(out, msg, fd, k, indent,
				                 depth + 1);
			}
			fputc(']', out);
		} else {
			write_json_value(out, msg, fd, 0, indent, depth + 1);
		}
	}
	if (!first) {
		newline(out, indent, depth);
	}
	fputc('}', out);
}

void
model_write_json(FILE *out, const ProtobufCMessage *msg, int indent)
{
	write_json(out, msg, indent, 0);
}
