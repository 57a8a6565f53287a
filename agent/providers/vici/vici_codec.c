/* The vici wire format: packet framing, message decoding and encoding. */
#include "vici_codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool
vici_packet_is_named(int type)
{
	return type == VICI_CMD_REQUEST || type == VICI_EVENT_REGISTER ||
	       type == VICI_EVENT_UNREGISTER || type == VICI_EVENT;
}

int
vici_packet_parse(const uint8_t *seg, size_t len, struct vici_packet *p)
{
	size_t pos = 1;

	memset(p, 0, sizeof(*p));
	if (len < 1 || seg[0] > VICI_EVENT) {
		return -EBADMSG;
	}
	p->type = seg[0];
	if (vici_packet_is_named(p->type)) {
		size_t n;

		if (len < 2) {
			return -EBADMSG;
		}
		n = seg[1];
		pos = 2;
		if (len - pos < n || memchr(seg + pos, '\0', n) != NULL) {
			return -EBADMSG;
		}
		memcpy(p->name, seg + pos, n);
		p->name[n] = '\0';
		pos += n;
	}
	p->body = seg + pos;
	p->body_len = len - pos;
	return 0;
}

/* ---- decoding ---- */

/* Input cursor: every read checks the remaining length first. */
struct cursor {
	const uint8_t *p;
	size_t left;
};

static bool
take_name(struct cursor *c, const uint8_t **name, size_t *n)
{
	if (c->left < 1) {
		return false;
	}
	*n = c->p[0];
	if (c->left - 1 < *n || memchr(c->p + 1, '\0', *n) != NULL) {
		return false;
	}
	*name = c->p + 1;
	c->p += 1 + *n;
	c->left -= 1 + *n;
	return true;
}

static bool
take_value(struct cursor *c, const uint8_t **value, size_t *n)
{
	if (c->left < 2) {
		return false;
	}
	*n = ((size_t)c->p[0] << 8) | c->p[1];
	if (c->left - 2 < *n) {
		return false;
	}
	*value = c->p + 2;
	c->p += 2 + *n;
	c->left -= 2 + *n;
	return true;
}

/* Copies n bytes into the pool, NUL-terminated. The pool is sized so
 * that it cannot overflow: every copied byte came from the input, and
 * every copy's NUL is paid for by at least one header byte. */
static const char *
pool_put(char *pool, size_t *used, const uint8_t *s, size_t n)
{
	char *dst = pool + *used;

	if (n > 0) {
		memcpy(dst, s, n);
	}
	dst[n] = '\0';
	*used += n + 1;
	return dst;
}

static void
link_child(struct vici_msg *m, uint32_t parent, uint32_t child)
{
	struct vici_node *p = &m->nodes[parent];

	if (p->first_child == 0) {
		p->first_child = child;
	} else {
		m->nodes[p->last_child].next = child;
	}
	p->last_child = child;
}

void
vici_msg_free(struct vici_msg *m)
{
	free(m->nodes);
	free(m->pool);
	memset(m, 0, sizeof(*m));
}

int
vici_decode(const uint8_t *buf, size_t len, struct vici_msg *out)
{
	struct cursor c = {buf, len};
	uint32_t stack[VICI_DEPTH_MAX + 1];
	int depth = 0;
	uint32_t list = 0; /* open list node, 0 = none */
	size_t used = 0, max_nodes;
	int rv = -EBADMSG;

	memset(out, 0, sizeof(*out));
	if (len > VICI_SEGMENT_MAX) {
		return -EMSGSIZE;
	}
	/* Each element takes at least one byte: the node count is bounded
	 * by the input length (plus the root). */
	max_nodes = len + 1;
	out->nodes = calloc(max_nodes, sizeof(*out->nodes));
	out->pool = malloc(len + len + 2);
	if (out->nodes == NULL || out->pool == NULL) {
		rv = -ENOMEM;
		goto out;
	}
	out->nodes[0].kind = VICI_NODE_SECTION;
	out->nodes[0].name = pool_put(out->pool, &used, NULL, 0);
	out->n = 1;
	stack[0] = 0;

	while (c.left > 0) {
		uint8_t type = c.p[0];
		const uint8_t *name = NULL, *value = NULL;
		size_t name_len = 0, value_len = 0;
		struct vici_node *node;
		uint32_t idx;

		c.p++;
		c.left--;
		switch (type) {
		case VICI_SECTION_START:
		case VICI_LIST_START:
			if (list != 0 || !take_name(&c, &name, &name_len)) {
				goto out;
			}
			if (type == VICI_SECTION_START &&
			    depth == VICI_DEPTH_MAX) {
				goto out;
			}
			break;
		case VICI_KEY_VALUE:
			if (list != 0 || !take_name(&c, &name, &name_len) ||
			    !take_value(&c, &value, &value_len)) {
				goto out;
			}
			break;
		case VICI_LIST_ITEM:
			if (list == 0 || !take_value(&c, &value, &value_len)) {
				goto out;
			}
			break;
		case VICI_SECTION_END:
			if (list != 0 || depth == 0) {
				goto out;
			}
			depth--;
			continue;
		case VICI_LIST_END:
			if (list == 0) {
				goto out;
			}
			list = 0;
			continue;
		default:
			goto out;
		}

		idx = out->n++;
		node = &out->nodes[idx];
		node->name = pool_put(out->pool, &used, name, name_len);
		if (value != NULL) {
			node->value =
			    pool_put(out->pool, &used, value, value_len);
			node->value_len = value_len;
		}
		switch (type) {
		case VICI_SECTION_START:
			node->kind = VICI_NODE_SECTION;
			link_child(out, stack[depth], idx);
			stack[++depth] = idx;
			break;
		case VICI_LIST_START:
			node->kind = VICI_NODE_LIST;
			link_child(out, stack[depth], idx);
			list = idx;
			break;
		case VICI_KEY_VALUE:
			node->kind = VICI_NODE_KV;
			link_child(out, stack[depth], idx);
			break;
		default: /* VICI_LIST_ITEM */
			node->kind = VICI_NODE_ITEM;
			link_child(out, list, idx);
			break;
		}
	}
	if (depth != 0 || list != 0) {
		goto out;
	}
	rv = 0;
out:
	if (rv != 0) {
		vici_msg_free(out);
	}
	return rv;
}

const struct vici_node *
vici_root(const struct vici_msg *m)
{
	return m->n > 0 ? &m->nodes[0] : NULL;
}

const struct vici_node *
vici_first(const struct vici_msg *m, const struct vici_node *parent)
{
	if (parent == NULL || parent->first_child == 0) {
		return NULL;
	}
	return &m->nodes[parent->first_child];
}

const struct vici_node *
vici_next(const struct vici_msg *m, const struct vici_node *n)
{
	if (n == NULL || n->next == 0) {
		return NULL;
	}
	return &m->nodes[n->next];
}

const struct vici_node *
vici_child(const struct vici_msg *m, const struct vici_node *parent,
           const char *name)
{
	for (const struct vici_node *n = vici_first(m, parent); n != NULL;
	     n = vici_next(m, n)) {
		if (strcmp(n->name, name) == 0) {
			return n;
		}
	}
	return NULL;
}

const struct vici_node *
vici_section(const struct vici_msg *m, const struct vici_node *parent,
             const char *name)
{
	for (const struct vici_node *n = vici_first(m, parent); n != NULL;
	     n = vici_next(m, n)) {
		if (n->kind == VICI_NODE_SECTION &&
		    strcmp(n->name, name) == 0) {
			return n;
		}
	}
	return NULL;
}

const char *
vici_str(const struct vici_msg *m, const struct vici_node *sec,
         const char *name)
{
	for (const struct vici_node *n = vici_first(m, sec); n != NULL;
	     n = vici_next(m, n)) {
		if (n->kind == VICI_NODE_KV && strcmp(n->name, name) == 0) {
			return n->value;
		}
	}
	return NULL;
}

int
vici_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s == NULL || *s == '\0') {
		return -EINVAL;
	}
	for (; *s != '\0'; s++) {
		unsigned d;

		if (*s < '0' || *s > '9') {
			return -EINVAL;
		}
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10) {
			return -EINVAL;
		}
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int
vici_u64(const struct vici_msg *m, const struct vici_node *sec,
         const char *name, uint64_t *out)
{
	const char *s = vici_str(m, sec, name);

	if (s == NULL) {
		return -ENOENT;
	}
	return vici_parse_u64(s, out);
}

int
vici_hex32(const struct vici_msg *m, const struct vici_node *sec,
           const char *name, uint32_t *out)
{
	const char *s = vici_str(m, sec, name);
	uint32_t v = 0;
	size_t n = 0;

	if (s == NULL) {
		return -ENOENT;
	}
	for (; s[n] != '\0'; n++) {
		char ch = s[n];
		unsigned d;

		if (ch >= '0' && ch <= '9') {
			d = (unsigned)(ch - '0');
		} else if (ch >= 'a' && ch <= 'f') {
			d = (unsigned)(ch - 'a' + 10);
		} else if (ch >= 'A' && ch <= 'F') {
			d = (unsigned)(ch - 'A' + 10);
		} else {
			return -EINVAL;
		}
		if (n == 8) {
			return -EINVAL;
		}
		v = (v << 4) | d;
	}
	if (n == 0) {
		return -EINVAL;
	}
	*out = v;
	return 0;
}

bool
vici_yes(const struct vici_msg *m, const struct vici_node *sec,
         const char *name)
{
	const char *s = vici_str(m, sec, name);

	return s != NULL && strcmp(s, "yes") == 0;
}

/* ---- encoding ---- */

void
vici_builder_init(struct vici_builder *b)
{
	memset(b, 0, sizeof(*b));
}

void
vici_builder_release(struct vici_builder *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

static bool
put(struct vici_builder *b, const void *data, size_t n)
{
	if (b->err != 0) {
		return false;
	}
	/* A message travels in one segment with at least a type byte and
	 * a command name in front of it: keep the body below the segment
	 * limit. */
	if (n > VICI_SEGMENT_MAX - b->len) {
		b->err = -EMSGSIZE;
		return false;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *nb;

		while (cap < b->len + n) {
			cap *= 2;
		}
		nb = realloc(b->buf, cap);
		if (nb == NULL) {
			b->err = -ENOMEM;
			return false;
		}
		b->buf = nb;
		b->cap = cap;
	}
	if (n > 0) {
		memcpy(b->buf + b->len, data, n);
	}
	b->len += n;
	return true;
}

static void
put_type(struct vici_builder *b, uint8_t type)
{
	put(b, &type, 1);
}

static void
put_name(struct vici_builder *b, const char *name)
{
	size_t n;
	uint8_t n8;

	if (b->err != 0) {
		return;
	}
	if (name == NULL) {
		b->err = -EINVAL;
		return;
	}
	n = strlen(name);
	if (n > 255) {
		b->err = -E2BIG;
		return;
	}
	n8 = (uint8_t)n;
	put(b, &n8, 1);
	put(b, name, n);
}

static void
put_value(struct vici_builder *b, const void *value, size_t n)
{
	uint8_t len[2];

	if (b->err != 0) {
		return;
	}
	if (value == NULL && n > 0) {
		b->err = -EINVAL;
		return;
	}
	if (n > 65535) {
		b->err = -E2BIG;
		return;
	}
	len[0] = (uint8_t)(n >> 8);
	len[1] = (uint8_t)n;
	put(b, len, 2);
	put(b, value, n);
}

static bool
usable(struct vici_builder *b, bool want_list)
{
	if (b->err != 0) {
		return false;
	}
	if (b->in_list != want_list) {
		b->err = -EINVAL;
		return false;
	}
	return true;
}

void
vici_builder_section_start(struct vici_builder *b, const char *name)
{
	if (!usable(b, false)) {
		return;
	}
	if (b->depth == VICI_DEPTH_MAX) {
		b->err = -EINVAL;
		return;
	}
	put_type(b, VICI_SECTION_START);
	put_name(b, name);
	b->depth++;
}

void
vici_builder_section_end(struct vici_builder *b)
{
	if (!usable(b, false)) {
		return;
	}
	if (b->depth == 0) {
		b->err = -EINVAL;
		return;
	}
	put_type(b, VICI_SECTION_END);
	b->depth--;
}

void
vici_builder_kvn(struct vici_builder *b, const char *name, const void *value,
                 size_t value_len)
{
	if (!usable(b, false)) {
		return;
	}
	put_type(b, VICI_KEY_VALUE);
	put_name(b, name);
	put_value(b, value, value_len);
}

void
vici_builder_kv(struct vici_builder *b, const char *name, const char *value)
{
	if (value == NULL) {
		if (b->err == 0) {
			b->err = -EINVAL;
		}
		return;
	}
	vici_builder_kvn(b, name, value, strlen(value));
}

void
vici_builder_list_start(struct vici_builder *b, const char *name)
{
	if (!usable(b, false)) {
		return;
	}
	put_type(b, VICI_LIST_START);
	put_name(b, name);
	b->in_list = true;
}

void
vici_builder_list_item(struct vici_builder *b, const char *value)
{
	if (!usable(b, true)) {
		return;
	}
	if (value == NULL) {
		b->err = -EINVAL;
		return;
	}
	put_type(b, VICI_LIST_ITEM);
	put_value(b, value, strlen(value));
}

void
vici_builder_list_end(struct vici_builder *b)
{
	if (!usable(b, true)) {
		return;
	}
	put_type(b, VICI_LIST_END);
	b->in_list = false;
}

int
vici_builder_finish(struct vici_builder *b)
{
	if (b->err == 0 && (b->depth != 0 || b->in_list)) {
		b->err = -EINVAL;
	}
	return b->err;
}

int
vici_encode_packet(int type, const char *name, const uint8_t *body,
                   size_t body_len, uint8_t **out, size_t *out_len)
{
	size_t name_len = 0, len;
	uint8_t *p;

	*out = NULL;
	*out_len = 0;
	if (type < VICI_CMD_REQUEST || type > VICI_EVENT) {
		return -EINVAL;
	}
	if (vici_packet_is_named(type)) {
		if (name == NULL) {
			return -EINVAL;
		}
		name_len = strlen(name);
		if (name_len > 255) {
			return -E2BIG;
		}
	} else if (name != NULL) {
		return -EINVAL;
	}
	if (body == NULL && body_len > 0) {
		return -EINVAL;
	}
	len = 1 + (vici_packet_is_named(type) ? 1 + name_len : 0);
	if (body_len > VICI_SEGMENT_MAX - len) {
		return -EMSGSIZE;
	}
	len += body_len;
	p = malloc(4 + len);
	if (p == NULL) {
		return -ENOMEM;
	}
	p[0] = (uint8_t)(len >> 24);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[4] = (uint8_t)type;
	if (vici_packet_is_named(type)) {
		p[5] = (uint8_t)name_len;
		memcpy(p + 6, name, name_len);
	}
	if (body_len > 0) {
		memcpy(p + 4 + len - body_len, body, body_len);
	}
	*out = p;
	*out_len = 4 + len;
	return 0;
}
