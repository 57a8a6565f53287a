/*
 * The vici wire format of strongSwan's charon (protocol description:
 * src/libcharon/plugins/vici/README.md of strongSwan), implemented from
 * the description, without libvici.
 *
 * A stream carries segments: a 32-bit big-endian length, then that many
 * bytes (at most VICI_SEGMENT_MAX). A segment is one packet: a type byte,
 * for named types a u8 length and that many name bytes, then a message.
 * A message is a flat sequence of elements:
 *
 *   SECTION_START name   LIST_START name     KEY_VALUE name u16-len value
 *   SECTION_END          LIST_ITEM u16-len value                LIST_END
 *
 * Names are 1..255-byte strings (the length byte may be 0, which the
 * daemon uses for the global counters section); values are byte strings
 * up to 65535 bytes, numbers in decimal text. Lists hold items only and
 * do not nest.
 *
 * Everything here is pure: no I/O, no global state. The decoder accepts
 * any byte string and either returns a tree or an error, never reads
 * outside its input (it is fuzzed).
 */
#ifndef SECSTAT_PROVIDER_VICI_CODEC_H
#define SECSTAT_PROVIDER_VICI_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest segment (packet) either side may send. */
#define VICI_SEGMENT_MAX (512u * 1024u)
/* Deepest section nesting the decoder accepts (the daemon's deepest
 * reply, list-sas, nests four levels). */
#define VICI_DEPTH_MAX 32

enum vici_packet_type {
	VICI_CMD_REQUEST = 0,
	VICI_CMD_RESPONSE = 1,
	VICI_CMD_UNKNOWN = 2,
	VICI_EVENT_REGISTER = 3,
	VICI_EVENT_UNREGISTER = 4,
	VICI_EVENT_CONFIRM = 5,
	VICI_EVENT_UNKNOWN = 6,
	VICI_EVENT = 7,
};

enum vici_element_type {
	VICI_SECTION_START = 1,
	VICI_SECTION_END = 2,
	VICI_KEY_VALUE = 3,
	VICI_LIST_START = 4,
	VICI_LIST_ITEM = 5,
	VICI_LIST_END = 6,
};

/* Whether packets of this type carry a name. */
bool vici_packet_is_named(int type);

/* A packet split into its parts; points into the segment it came from. */
struct vici_packet {
	int type;
	char name[256];      /* NUL-terminated; "" for unnamed types */
	const uint8_t *body; /* the message */
	size_t body_len;
};

/* Splits one segment (without its length prefix). Returns 0, or -EBADMSG
 * for an unknown type, a cut name, or a name containing NUL. */
int vici_packet_parse(const uint8_t *seg, size_t len, struct vici_packet *p);

/* ---- decoded messages ---- */

enum vici_node_kind {
	VICI_NODE_SECTION,
	VICI_NODE_KV,
	VICI_NODE_LIST,
	VICI_NODE_ITEM,
};

/* One element of a decoded message. Index 0 is the message itself (an
 * unnamed section). Children are linked by index; 0 means none. */
struct vici_node {
	uint8_t kind; /* enum vici_node_kind */
	uint32_t first_child;
	uint32_t last_child;
	uint32_t next;
	const char *name;  /* NUL-terminated; "" for the root and items */
	const char *value; /* KV and ITEM: NUL-terminated copy, else NULL */
	size_t value_len;
};

struct vici_msg {
	struct vici_node *nodes;
	uint32_t n;
	char *pool; /* names and values */
};

/*
 * Decodes a message body. Returns 0 and fills `out` (release with
 * vici_msg_free), or -EBADMSG when the bytes are not a well-formed
 * message (unknown element, cut element, element in the wrong place,
 * unbalanced sections or lists, NUL in a name, nesting deeper than
 * VICI_DEPTH_MAX), or -ENOMEM, or -EMSGSIZE when len exceeds
 * VICI_SEGMENT_MAX. On error `out` is empty.
 */
int vici_decode(const uint8_t *buf, size_t len, struct vici_msg *out);
void vici_msg_free(struct vici_msg *m);

/* The root section (always present in a decoded message). */
const struct vici_node *vici_root(const struct vici_msg *m);
/* The first child of `parent`, and the sibling after `n`; NULL at the
 * end. */
const struct vici_node *vici_first(const struct vici_msg *m,
                                   const struct vici_node *parent);
const struct vici_node *vici_next(const struct vici_msg *m,
                                  const struct vici_node *n);
/* The first direct child of `parent` named `name` (any kind), or NULL. */
const struct vici_node *vici_child(const struct vici_msg *m,
                                   const struct vici_node *parent,
                                   const char *name);
/* The child section `name` of `parent`, or NULL. */
const struct vici_node *vici_section(const struct vici_msg *m,
                                     const struct vici_node *parent,
                                     const char *name);
/* The value of key `name` in section `sec`, or NULL when absent or not a
 * key-value. */
const char *vici_str(const struct vici_msg *m, const struct vici_node *sec,
                     const char *name);
/* Key `name` as a decimal u64: 0, -ENOENT when absent, -EINVAL when not
 * a plain decimal number that fits 64 bits. */
int vici_u64(const struct vici_msg *m, const struct vici_node *sec,
             const char *name, uint64_t *out);
/* Key `name` as a hexadecimal u32 (SPIs: 8 hex digits, no 0x): 0,
 * -ENOENT, -EINVAL. */
int vici_hex32(const struct vici_msg *m, const struct vici_node *sec,
               const char *name, uint32_t *out);
/* Whether key `name` is "yes" (absent and anything else: false). */
bool vici_yes(const struct vici_msg *m, const struct vici_node *sec,
              const char *name);

/* Parses a whole string as a decimal u64 (no sign, no blanks). */
int vici_parse_u64(const char *s, uint64_t *out);

/* ---- encoding ---- */

/* A message or packet under construction. Errors are sticky: after the
 * first failure every call is a no-op and vici_builder_finish reports
 * it, so callers check once. */
struct vici_builder {
	uint8_t *buf;
	size_t len;
	size_t cap;
	int err;
	int depth;    /* open sections */
	bool in_list; /* inside LIST_START..LIST_END */
};

void vici_builder_init(struct vici_builder *b);
void vici_builder_section_start(struct vici_builder *b, const char *name);
void vici_builder_section_end(struct vici_builder *b);
void vici_builder_kv(struct vici_builder *b, const char *name,
                     const char *value);
void vici_builder_kvn(struct vici_builder *b, const char *name,
                      const void *value, size_t value_len);
void vici_builder_list_start(struct vici_builder *b, const char *name);
void vici_builder_list_item(struct vici_builder *b, const char *value);
void vici_builder_list_end(struct vici_builder *b);
/* Returns 0 when the message is complete and well-formed (sections and
 * list closed), else the first error (-EINVAL misuse, -E2BIG a name or
 * value too long, -EMSGSIZE message too long, -ENOMEM). */
int vici_builder_finish(struct vici_builder *b);
void vici_builder_release(struct vici_builder *b);

/*
 * Encodes one whole segment, length prefix included: type, name (when
 * the type is named) and the message body. Returns 0 with a malloc'ed
 * buffer in *out (*out_len bytes), -E2BIG for a name over 255 bytes,
 * -EINVAL for a missing name or a name on an unnamed type, -EMSGSIZE when
 * the packet exceeds VICI_SEGMENT_MAX.
 */
int vici_encode_packet(int type, const char *name, const uint8_t *body,
                       size_t body_len, uint8_t **out, size_t *out_len);

#endif /* SECSTAT_PROVIDER_VICI_CODEC_H */
