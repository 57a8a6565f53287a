/* The vici codec: segment split, message decode, tree walk. */
#include <stdint.h>
#include <string.h>

#include "providers/vici/vici_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Visits every node below `n` with every accessor. */
static void
walk(const struct vici_msg *m, const struct vici_node *n, unsigned depth)
{
	uint64_t v;
	uint32_t h;

	if (depth > 64) {
		return;
	}
	for (const struct vici_node *c = vici_first(m, n); c != NULL;
	     c = vici_next(m, c)) {
		(void)vici_child(m, n, c->name);
		(void)vici_str(m, n, c->name);
		(void)vici_u64(m, n, c->name, &v);
		(void)vici_hex32(m, n, c->name, &h);
		(void)vici_yes(m, n, c->name);
		if (c->value != NULL) {
			(void)vici_parse_u64(c->value, &v);
		}
		walk(m, c, depth + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vici_packet p;
	struct vici_msg m;

	/* As read from charon's socket: segments, each a 32-bit big-endian
	 * length and a packet. */
	for (size_t pos = 0, n = 0; pos + 4 <= size && n < 64; n++) {
		size_t len = (size_t)data[pos] << 24 |
		             (size_t)data[pos + 1] << 16 |
		             (size_t)data[pos + 2] << 8 | data[pos + 3];

		pos += 4;
		if (len > size - pos) {
			break;
		}
		if (vici_packet_parse(data + pos, len, &p) == 0 &&
		    p.body != NULL &&
		    vici_decode(p.body, p.body_len, &m) == 0) {
			walk(&m, vici_root(&m), 0);
			vici_msg_free(&m);
		}
		pos += len;
	}
	if (vici_decode(data, size, &m) == 0) {
		walk(&m, vici_root(&m), 0);
		(void)vici_section(&m, vici_root(&m), "child-sas");
		vici_msg_free(&m);
	}
	return 0;
}
