/* Generic parsers for whack's globalstatus and trafficstatus text. */
#include "whack_parse.h"

#include <stdlib.h>
#include <string.h>

struct line {
	const char *s;
	size_t n;
};

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool
is_key_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '-' ||
	       c == '+';
}

/*
 * Next complete line from buf[*pos..len). A last line without its
 * newline is reported through *cut and not returned: whack ends every
 * line, so a missing newline means the output was cut and the value
 * could be a prefix of the real one.
 */
static bool
next_line(const char *buf, size_t len, size_t *pos, struct line *l, bool *cut)
{
	const char *nl;

	if (*pos >= len) {
		return false;
	}
	nl = memchr(buf + *pos, '\n', len - *pos);
	if (nl == NULL) {
		*cut = true;
		*pos = len;
		return false;
	}
	l->s = buf + *pos;
	l->n = (size_t)(nl - l->s);
	*pos += l->n + 1;
	return true;
}

/* Drops surrounding blanks and the three-digit reply code of libreswan
 * 3.x ("000 ", "006 ") when there is one. */
static void
trim_line(struct line *l)
{
	while (l->n > 0 && is_blank(l->s[0])) {
		l->s++;
		l->n--;
	}
	while (l->n > 0 && is_blank(l->s[l->n - 1])) {
		l->n--;
	}
	if (l->n >= 3 && is_digit(l->s[0]) && is_digit(l->s[1]) &&
	    is_digit(l->s[2]) && (l->n == 3 || l->s[3] == ' ')) {
		l->s += l->n == 3 ? 3 : 4;
		l->n -= l->n == 3 ? 3 : 4;
		while (l->n > 0 && is_blank(l->s[0])) {
			l->s++;
			l->n--;
		}
	}
}

/* Strict unsigned decimal that fits 64 bits. */
static bool
parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (!is_digit(s[i])) {
			return false;
		}
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10) {
			return false;
		}
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static char *
dup_n(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* One globalstatus line: key, blanks, '=', blanks, non-empty value. */
static bool
parse_kv(struct line l, struct arena *a, struct whack_kv *kv)
{
	size_t i = 0, key_n, v0;

	if (l.n == 0 || !is_alpha(l.s[0])) {
		return false;
	}
	while (i < l.n && is_key_char(l.s[i])) {
		i++;
	}
	key_n = i;
	if (key_n >= WHACK_KEY_MAX) {
		return false;
	}
	while (i < l.n && is_blank(l.s[i])) {
		i++;
	}
	if (i == l.n || l.s[i] != '=') {
		return false;
	}
	i++;
	while (i < l.n && is_blank(l.s[i])) {
		i++;
	}
	v0 = i;
	if (v0 == l.n) {
		return false;
	}
	kv->key = dup_n(a, l.s, key_n);
	kv->text = dup_n(a, l.s + v0, l.n - v0);
	kv->numeric = parse_u64(l.s + v0, l.n - v0, &kv->value);
	if (!kv->numeric) {
		kv->value = 0;
	}
	return true;
}

struct indexed_kv {
	struct whack_kv kv;
	size_t order;
};

static int
cmp_indexed(const void *pa, const void *pb)
{
	const struct indexed_kv *a = pa, *b = pb;
	int c = strcmp(a->kv.key, b->kv.key);

	if (c != 0) {
		return c;
	}
	return a->order < b->order ? -1 : a->order > b->order;
}

void
whack_parse_global(const char *buf, size_t len, struct arena *a,
                   struct whack_global *g)
{
	struct indexed_kv *tmp = NULL;
	size_t cap = 0, n = 0, pos = 0;
	struct line l;

	memset(g, 0, sizeof(*g));
	while (next_line(buf, len, &pos, &l, &g->truncated)) {
		struct whack_kv kv;

		trim_line(&l);
		if (l.n == 0) {
			continue;
		}
		if (n == WHACK_MAX_KEYS || !parse_kv(l, a, &kv)) {
			g->skipped++;
			continue;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;

			tmp = arena_grow(a, tmp, n, ncap, sizeof(*tmp));
			cap = ncap;
		}
		tmp[n].kv = kv;
		tmp[n].order = n;
		n++;
	}
	if (n == 0) {
		return;
	}
	qsort(tmp, n, sizeof(*tmp), cmp_indexed);
	g->kv = arena_alloc(a, n * sizeof(*g->kv));
	for (size_t i = 0; i < n; i++) {
		if (g->n > 0 &&
		    strcmp(g->kv[g->n - 1].key, tmp[i].kv.key) == 0) {
			g->duplicates++;
			continue;
		}
		g->kv[g->n++] = tmp[i].kv;
	}
}

const struct whack_kv *
whack_global_find(const struct whack_global *g, const char *key)
{
	size_t lo = 0, hi = g->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(g->kv[mid].key, key);

		if (c == 0) {
			return &g->kv[mid];
		}
		if (c < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return NULL;
}

bool
whack_global_u64(const struct whack_global *g, const char *key, uint64_t *v)
{
	const struct whack_kv *kv = whack_global_find(g, key);

	if (kv == NULL || !kv->numeric) {
		return false;
	}
	*v = kv->value;
	return true;
}

bool
whack_global_has_prefix(const struct whack_global *g, const char *prefix)
{
	size_t plen = strlen(prefix), lo = 0, hi = g->n;

	/* First key not below the prefix; sorted order puts every key
	 * that starts with it right there. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(g->kv[mid].key, prefix) < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo < g->n && strncmp(g->kv[lo].key, prefix, plen) == 0;
}

/*
 * The fields after the connection: ", key=value" repeated. A value in
 * single quotes (id='CN=a, O=b') runs to the quote that ends it and may
 * hold commas. Unknown keys are skipped; a known numeric key whose value
 * is not a decimal stays absent.
 */
static void
parse_sa_fields(const char *s, size_t n, struct arena *a, struct whack_sa *sa)
{
	size_t i = 0;

	while (i < n) {
		size_t k0, kn, v0, vn;

		while (i < n && (s[i] == ',' || is_blank(s[i]))) {
			i++;
		}
		k0 = i;
		while (i < n && s[i] != '=' && s[i] != ',') {
			i++;
		}
		kn = i - k0;
		if (i == n || s[i] != '=') {
			continue; /* a bare word: not a field */
		}
		i++;
		if (i < n && s[i] == '\'') {
			const char *q;

			v0 = ++i;
			q = memchr(s + i, '\'', n - i);
			/* An unterminated quote takes the rest of the line. */
			vn = q != NULL ? (size_t)(q - (s + v0)) : n - v0;
			i = v0 + vn + (q != NULL ? 1 : 0);
		} else {
			v0 = i;
			while (i < n && s[i] != ',') {
				i++;
			}
			vn = i - v0;
			while (vn > 0 && is_blank(s[v0 + vn - 1])) {
				vn--;
			}
		}
#define KEY_IS(lit) (kn == sizeof(lit) - 1 && memcmp(s + k0, lit, kn) == 0)
		if (KEY_IS("type")) {
			sa->type = dup_n(a, s + v0, vn);
		} else if (KEY_IS("id")) {
			sa->id = dup_n(a, s + v0, vn);
		} else if (KEY_IS("username")) {
			sa->username = dup_n(a, s + v0, vn);
		} else if (KEY_IS("add_time")) {
			sa->has_add_time = parse_u64(s + v0, vn, &sa->add_time);
		} else if (KEY_IS("inBytes")) {
			sa->has_in_bytes = parse_u64(s + v0, vn, &sa->in_bytes);
		} else if (KEY_IS("outBytes")) {
			sa->has_out_bytes =
			    parse_u64(s + v0, vn, &sa->out_bytes);
		}
#undef KEY_IS
	}
}

/* The head every state line starts with: `#N: "name"[inst]`. Sets the
 * serial, the name (instance suffixes included) and the offset after
 * them. */
static bool
parse_head(struct line l, struct arena *a, uint64_t *serial, const char **name,
           size_t *end)
{
	size_t i = 1, d0, name0, name_end;
	const char *q;

	if (l.n < 2 || l.s[0] != '#') {
		return false;
	}
	d0 = i;
	while (i < l.n && is_digit(l.s[i])) {
		i++;
	}
	if (!parse_u64(l.s + d0, i - d0, serial) || i == l.n || l.s[i] != ':') {
		return false;
	}
	i++;
	while (i < l.n && is_blank(l.s[i])) {
		i++;
	}
	if (i == l.n || l.s[i] != '"') {
		return false;
	}
	name0 = ++i;
	q = memchr(l.s + i, '"', l.n - i);
	if (q == NULL || q == l.s + name0) {
		return false;
	}
	i = (size_t)(q - l.s) + 1;
	name_end = (size_t)(q - l.s);
	/* Instance suffixes ("[1]", nested "[1][2]") belong to the name. */
	while (i < l.n && l.s[i] == '[') {
		const char *rb = memchr(l.s + i, ']', l.n - i);

		if (rb == NULL) {
			return false;
		}
		i = (size_t)(rb - l.s) + 1;
	}
	if (i > name_end + 1) {
		size_t inst = i - (name_end + 1);
		char *p = arena_alloc(a, name_end - name0 + inst + 1);

		memcpy(p, l.s + name0, name_end - name0);
		memcpy(p + (name_end - name0), l.s + name_end + 1, inst);
		*name = p;
	} else {
		*name = dup_n(a, l.s + name0, name_end - name0);
	}
	*end = i;
	return true;
}

/* `#N: "name"[inst] [peer], fields...` */
static bool
parse_sa(struct line l, struct arena *a, struct whack_sa *sa)
{
	size_t i, peer0;

	memset(sa, 0, sizeof(*sa));
	if (!parse_head(l, a, &sa->serial, &sa->name, &i)) {
		return false;
	}
	while (i < l.n && is_blank(l.s[i])) {
		i++;
	}
	peer0 = i;
	while (i < l.n && l.s[i] != ',' && !is_blank(l.s[i])) {
		i++;
	}
	/* A word before the first comma that is no field is the instance's
	 * peer address. */
	if (i > peer0 && memchr(l.s + peer0, '=', i - peer0) == NULL) {
		sa->peer = dup_n(a, l.s + peer0, i - peer0);
	} else {
		i = peer0;
	}
	parse_sa_fields(l.s + i, l.n - i, a, sa);
	return true;
}

void
whack_parse_traffic(const char *buf, size_t len, struct arena *a,
                    struct whack_traffic *t)
{
	size_t cap = 0, pos = 0;
	struct line l;

	memset(t, 0, sizeof(*t));
	while (next_line(buf, len, &pos, &l, &t->truncated)) {
		trim_line(&l);
		if (l.n == 0) {
			continue;
		}
		if (t->n == WHACK_MAX_SAS) {
			t->skipped++;
			continue;
		}
		if (t->n == cap) {
			size_t ncap = cap ? cap * 2 : 16;

			t->sas =
			    arena_grow(a, t->sas, t->n, ncap, sizeof(*t->sas));
			cap = ncap;
		}
		if (!parse_sa(l, a, &t->sas[t->n])) {
			t->skipped++;
			continue;
		}
		t->n++;
	}
}

static bool
is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* "esp.287385b0@192.0.2.2": protocol, SPI (1-8 hex digits), address. */
static bool
parse_said(const char *s, size_t n, const char *proto, uint32_t *spi,
           const char **addr, size_t *addr_n)
{
	size_t p = strlen(proto), i;
	uint32_t v = 0;

	if (n < p + 3 || memcmp(s, proto, p) != 0 || s[p] != '.') {
		return false;
	}
	for (i = p + 1; i < n && is_hex(s[i]); i++) {
		char c = s[i];

		if (i - (p + 1) == 8) {
			return false;
		}
		v = v * 16 +
		    (uint32_t)(is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	if (i == p + 1 || i + 1 >= n || s[i] != '@') {
		return false;
	}
	*spi = v;
	*addr = s + i + 1;
	*addr_n = n - i - 1;
	return true;
}

/* Words of the rest of a state line (blank, ';' or ',' separated). */
static void
parse_state_rest(const char *s, size_t n, struct arena *a,
                 struct whack_state *st)
{
	/* SPIs of this line per protocol, in order: [0] out, [1] in. */
	static const char *const protos[] = {"esp", "ah"};
	size_t i = 0;
	const char *parent = NULL;

	/* The parent IKE SA: "IKE SA #1" (4.x IKEv2), "ISAKMP SA #1" (4.x
	 * IKEv1), "isakmp#1" (3.x, both versions). */
	for (const char *k = s; k < s + n && parent == NULL; k++) {
		static const char *const marks[] = {"IKE SA #", "ISAKMP SA #",
		                                    "isakmp#"};

		for (size_t m = 0; m < 3; m++) {
			size_t ml = strlen(marks[m]);

			if ((size_t)(s + n - k) > ml &&
			    memcmp(k, marks[m], ml) == 0) {
				parent = k + ml;
				break;
			}
		}
	}
	if (parent != NULL) {
		size_t d = 0;

		while (parent + d < s + n && is_digit(parent[d])) {
			d++;
		}
		st->has_parent = parse_u64(parent, d, &st->parent);
	}
	for (size_t pi = 0; pi < 2 && st->proto == NULL; pi++) {
		unsigned seen = 0;

		for (i = 0; i < n;) {
			size_t w0, wn, an;
			uint32_t spi;
			const char *addr;

			while (i < n &&
			       (is_blank(s[i]) || s[i] == ';' || s[i] == ',')) {
				i++;
			}
			w0 = i;
			while (i < n && !is_blank(s[i]) && s[i] != ';' &&
			       s[i] != ',') {
				i++;
			}
			wn = i - w0;
			if (wn == 0 || !parse_said(s + w0, wn, protos[pi], &spi,
			                           &addr, &an)) {
				continue;
			}
			if (seen == 0) {
				st->spi_out = spi;
				st->has_spi_out = true;
				st->remote = dup_n(a, addr, an);
			} else if (seen == 1) {
				st->spi_in = spi;
				st->has_spi_in = true;
				st->local = dup_n(a, addr, an);
			}
			seen++;
		}
		if (seen > 0) {
			st->proto = protos[pi];
		}
	}
	for (i = 0; i < n && st->state == NULL;) {
		size_t w0;

		while (i < n && (is_blank(s[i]) || s[i] == ';')) {
			i++;
		}
		w0 = i;
		while (i < n &&
		       (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '_')) {
			i++;
		}
		if (i - w0 > 6 && memcmp(s + w0, "STATE_", 6) == 0) {
			st->state = dup_n(a, s + w0, i - w0);
		}
		while (i < n && !is_blank(s[i]) && s[i] != ';') {
			i++;
		}
	}
}

static int
cmp_state(const void *pa, const void *pb)
{
	const struct whack_state *a = pa, *b = pb;

	return a->serial < b->serial ? -1 : a->serial > b->serial;
}

/* Fills what `from` knows and `into` does not (a state's lines). */
static void
merge_state(struct whack_state *into, const struct whack_state *from)
{
	if (into->state == NULL) {
		into->state = from->state;
	}
	if (!into->has_parent && from->has_parent) {
		into->has_parent = true;
		into->parent = from->parent;
	}
	if (into->proto == NULL && from->proto != NULL) {
		into->proto = from->proto;
		into->has_spi_out = from->has_spi_out;
		into->spi_out = from->spi_out;
		into->remote = from->remote;
		into->has_spi_in = from->has_spi_in;
		into->spi_in = from->spi_in;
		into->local = from->local;
	}
}

void
whack_parse_states(const char *buf, size_t len, struct arena *a,
                   struct whack_states *s)
{
	struct whack_state *tmp = NULL;
	size_t cap = 0, n = 0, pos = 0;
	struct line l;

	memset(s, 0, sizeof(*s));
	while (next_line(buf, len, &pos, &l, &s->truncated)) {
		struct whack_state st;
		size_t end;

		trim_line(&l);
		if (l.n == 0) {
			continue;
		}
		memset(&st, 0, sizeof(st));
		if (n == WHACK_MAX_SAS ||
		    !parse_head(l, a, &st.serial, &st.name, &end)) {
			/* showstates also prints headings and blank
			 * reply-code lines: not states. */
			s->skipped++;
			continue;
		}
		parse_state_rest(l.s + end, l.n - end, a, &st);
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;

			tmp = arena_grow(a, tmp, n, ncap, sizeof(*tmp));
			cap = ncap;
		}
		tmp[n++] = st;
	}
	if (n == 0) {
		return;
	}
	/* qsort may reorder the lines of one state; merge_state() only
	 * fills what is still missing, and each line carries different
	 * facts, so the merge does not depend on that order. */
	qsort(tmp, n, sizeof(*tmp), cmp_state);
	s->st = tmp;
	for (size_t i = 0; i < n; i++) {
		if (s->n > 0 && s->st[s->n - 1].serial == tmp[i].serial) {
			merge_state(&s->st[s->n - 1], &tmp[i]);
			continue;
		}
		s->st[s->n++] = tmp[i];
	}
}

const struct whack_state *
whack_states_find(const struct whack_states *s, uint64_t serial)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->st[mid].serial == serial) {
			return &s->st[mid];
		}
		if (s->st[mid].serial < serial) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return NULL;
}
