/* The ACL file, its defaults and the access decision. */
#include "acl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#define SHA256_LEN 32

struct acl_local {
	uint32_t *uids;
	size_t n_uids;
	uint32_t *gids;
	size_t n_gids;
	unsigned rights;
};

struct acl_client {
	char id[ACL_CLIENT_ID_MAX + 1];
	uint8_t hash[SHA256_LEN];
	unsigned rights;
};

/* Rights granted by address to callers without a credential. */
struct acl_netrule {
	struct acl_net *nets;
	size_t n_nets;
	unsigned rights;
};

struct acl {
	struct acl_local *local;
	size_t n_local;
	struct acl_client *clients;
	size_t n_clients;
	struct acl_netrule *tls; /* [tls] */
	size_t n_tls;
	struct acl_netrule *plain; /* [plain] */
	size_t n_plain;
	struct acl_net *subscribers; /* [subscribers] */
	size_t n_subscribers;
	bool has_subscribers;
};

static const struct {
	const char *name;
	unsigned rights;
} method_rights[] = {
    {"IPsecGetStatistics0", ACL_RIGHT_IPSEC},
    {"IPsecGetStatistics1", ACL_RIGHT_IPSEC},
    {"IkeextGetStatistics0", ACL_RIGHT_IKE},
    {"IkeextGetStatistics1", ACL_RIGHT_IKE},
    {"IscsiGetStatistics", ACL_RIGHT_ISCSI},
    {"ListSecurityAssociations", ACL_RIGHT_IPSEC | ACL_RIGHT_IKE},
    {"GetHostInfo", ACL_RIGHT_INFO},
    {"GetCapabilities", ACL_RIGHT_INFO},
};

static const struct {
	const char *name;
	unsigned bits;
} right_names[] = {
    {"ipsec", ACL_RIGHT_IPSEC}, {"ike", ACL_RIGHT_IKE},
    {"iscsi", ACL_RIGHT_ISCSI}, {"info", ACL_RIGHT_INFO},
    {"all", ACL_RIGHTS_ALL},
};

unsigned
acl_method_rights(const char *method)
{
	for (size_t i = 0; i < sizeof(method_rights) / sizeof(method_rights[0]);
	     i++) {
		if (strcmp(method_rights[i].name, method) == 0) {
			return method_rights[i].rights;
		}
	}
	return 0;
}

void
acl_rights_text(unsigned rights, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < 4 && n < len; i++) {
		if ((rights & right_names[i].bits) != 0) {
			int m = snprintf(buf + n, len - n, "%s%s", n ? " " : "",
			                 right_names[i].name);
			if (m < 0) {
				break;
			}
			n += (size_t)m;
		}
	}
	if (n == 0) {
		snprintf(buf, len, "none");
	}
}

static void
netrules_free(struct acl_netrule *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].nets);
	}
	free(r);
}

void
acl_free(struct acl *a)
{
	if (a == NULL) {
		return;
	}
	for (size_t i = 0; i < a->n_local; i++) {
		free(a->local[i].uids);
		free(a->local[i].gids);
	}
	free(a->local);
	/* The token hashes are not secrets, but keep them out of freed
	 * memory all the same. */
	if (a->clients != NULL) {
		memset(a->clients, 0, a->n_clients * sizeof(*a->clients));
	}
	free(a->clients);
	netrules_free(a->tls, a->n_tls);
	netrules_free(a->plain, a->n_plain);
	free(a->subscribers);
	free(a);
}

/* Grows *arr by one element of `size` bytes, zeroed. */
static void *
grow(void *arrp, size_t *n, size_t size)
{
	void **arr = arrp;
	char *p = realloc(*arr, (*n + 1) * size);

	if (p == NULL) {
		return NULL;
	}
	memset(p + *n * size, 0, size);
	*arr = p;
	(*n)++;
	return p + (*n - 1) * size;
}

static bool
append_u32(uint32_t **arr, size_t *n, uint32_t v)
{
	uint32_t *slot = grow(arr, n, sizeof(**arr));

	if (slot == NULL) {
		return false;
	}
	*slot = v;
	return true;
}

int
acl_net_parse(const char *s, struct acl_net *n)
{
	char buf[64];
	char *slash;
	unsigned max = 128;
	unsigned long prefix;
	struct in_addr a4;

	if (strlen(s) >= sizeof(buf)) {
		return -EINVAL;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
	}
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		n->addr[10] = 0xff;
		n->addr[11] = 0xff;
		memcpy(n->addr + 12, &a4, 4);
		max = 32;
	} else if (inet_pton(AF_INET6, buf, n->addr) != 1) {
		return -EINVAL;
	}
	n->prefix = 128;
	if (slash != NULL) {
		char *end;

		if (slash[1] < '0' || slash[1] > '9') {
			return -EINVAL;
		}
		errno = 0;
		prefix = strtoul(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || prefix > max) {
			return -EINVAL;
		}
		n->prefix = (unsigned)prefix + (128 - max);
	}
	return 0;
}

static bool
net_contains(const struct acl_net *n, const uint8_t addr[16])
{
	unsigned full = n->prefix / 8;
	unsigned rest = n->prefix % 8;

	if (memcmp(n->addr, addr, full) != 0) {
		return false;
	}
	if (rest != 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		return (n->addr[full] & mask) == (addr[full] & mask);
	}
	return true;
}

static bool
nets_contain(const struct acl_net *nets, size_t n, const uint8_t addr[16])
{
	for (size_t i = 0; i < n; i++) {
		if (net_contains(&nets[i], addr)) {
			return true;
		}
	}
	return false;
}

bool
acl_addr_is_loopback(const uint8_t addr[16])
{
	static const uint8_t v6[16] = {[15] = 1};
	static const uint8_t v4pfx[12] = {[10] = 0xff, [11] = 0xff};

	if (memcmp(addr, v6, 16) == 0) {
		return true;
	}
	return memcmp(addr, v4pfx, 12) == 0 && addr[12] == 127;
}

/* ---- parser ---- */

struct parser {
	struct acl *acl;
	const char *name;
	unsigned line;
	char *err;
	enum {
		SEC_NONE,
		SEC_LOCAL,
		SEC_CLIENT,
		SEC_TLS,
		SEC_PLAIN,
		SEC_SUBSCRIBERS,
	} sec;
	unsigned sec_line;
	bool seen_rights; /* of the current section */
	bool seen_token;
	bool seen_networks;
};

static int perr(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
perr(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, ACL_ERR_MAX, "%.160s:%u: ", p->name, p->line);
	if (n > 0 && n < ACL_ERR_MAX) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, ACL_ERR_MAX - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Splits `v` (modified) at spaces and commas; calls fn per item. */
static int
each_item(struct parser *p, char *v, int (*fn)(struct parser *, char *))
{
	char *save = NULL;
	int rv;
	size_t count = 0;

	for (char *t = strtok_r(v, " \t,", &save); t != NULL;
	     t = strtok_r(NULL, " \t,", &save)) {
		if ((rv = fn(p, t)) != 0) {
			return rv;
		}
		count++;
	}
	if (count == 0) {
		return perr(p, "empty list");
	}
	return 0;
}

static unsigned *
cur_rights(struct parser *p)
{
	struct acl *a = p->acl;

	switch (p->sec) {
	case SEC_LOCAL:
		return &a->local[a->n_local - 1].rights;
	case SEC_CLIENT:
		return &a->clients[a->n_clients - 1].rights;
	case SEC_TLS:
		return &a->tls[a->n_tls - 1].rights;
	case SEC_PLAIN:
		return &a->plain[a->n_plain - 1].rights;
	default:
		return NULL;
	}
}

static int
item_right(struct parser *p, char *t)
{
	for (size_t i = 0; i < sizeof(right_names) / sizeof(right_names[0]);
	     i++) {
		if (strcmp(right_names[i].name, t) == 0) {
			*cur_rights(p) |= right_names[i].bits;
			return 0;
		}
	}
	return perr(p, "unknown right '%.40s' (ipsec, ike, iscsi, info or all)",
	            t);
}

static int
parse_id(const char *t, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*t < '0' || *t > '9') {
		return -EINVAL;
	}
	errno = 0;
	v = strtoul(t, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX - 1) {
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

static int
item_uid(struct parser *p, char *t)
{
	struct acl_local *l = &p->acl->local[p->acl->n_local - 1];
	uint32_t id;

	if (parse_id(t, &id) != 0) {
		struct passwd pw, *res = NULL;
		char buf[4096];

		if (getpwnam_r(t, &pw, buf, sizeof(buf), &res) != 0 ||
		    res == NULL) {
			return perr(p, "unknown user '%.64s'", t);
		}
		id = (uint32_t)pw.pw_uid;
	}
	if (!append_u32(&l->uids, &l->n_uids, id)) {
		return -ENOMEM;
	}
	return 0;
}

static int
item_gid(struct parser *p, char *t)
{
	struct acl_local *l = &p->acl->local[p->acl->n_local - 1];
	uint32_t id;

	if (parse_id(t, &id) != 0) {
		struct group gr, *res = NULL;
		char buf[4096];

		if (getgrnam_r(t, &gr, buf, sizeof(buf), &res) != 0 ||
		    res == NULL) {
			return perr(p, "unknown group '%.64s'", t);
		}
		id = (uint32_t)gr.gr_gid;
	}
	if (!append_u32(&l->gids, &l->n_gids, id)) {
		return -ENOMEM;
	}
	return 0;
}

static int
item_net(struct parser *p, char *t)
{
	struct acl *a = p->acl;
	struct acl_net n, *slot;
	struct acl_net **arr;
	size_t *cnt;

	if (acl_net_parse(t, &n) != 0) {
		return perr(p, "'%.64s' is not an address or ADDR/PREFIX", t);
	}
	switch (p->sec) {
	case SEC_TLS:
		arr = &a->tls[a->n_tls - 1].nets;
		cnt = &a->tls[a->n_tls - 1].n_nets;
		break;
	case SEC_PLAIN:
		arr = &a->plain[a->n_plain - 1].nets;
		cnt = &a->plain[a->n_plain - 1].n_nets;
		break;
	default:
		arr = &a->subscribers;
		cnt = &a->n_subscribers;
		break;
	}
	if ((slot = grow(arr, cnt, sizeof(**arr))) == NULL) {
		return -ENOMEM;
	}
	*slot = n;
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	return -1;
}

static int
set_token_hash(struct parser *p, const char *v)
{
	struct acl_client *c = &p->acl->clients[p->acl->n_clients - 1];

	if (strlen(v) != 2 * SHA256_LEN) {
		return perr(p, "token-sha256 must be 64 hex digits (the "
		               "SHA-256 of the client's token)");
	}
	for (size_t i = 0; i < SHA256_LEN; i++) {
		int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			return perr(p, "token-sha256: '%c%c' is not hex",
			            v[2 * i], v[2 * i + 1]);
		}
		c->hash[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static bool
valid_client_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ACL_CLIENT_ID_MAX) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.' || c == '@')) {
			return false;
		}
	}
	return true;
}

/* Checks that the section just finished is complete. */
static int
end_section(struct parser *p)
{
	unsigned line = p->line;
	int rv = 0;

	p->line = p->sec_line;
	switch (p->sec) {
	case SEC_NONE:
		break;
	case SEC_LOCAL: {
		struct acl_local *l = &p->acl->local[p->acl->n_local - 1];
		if (l->n_uids == 0 && l->n_gids == 0) {
			rv = perr(p, "[local] needs uid or gid");
		}
		break;
	}
	case SEC_CLIENT:
		if (!p->seen_token) {
			rv = perr(p, "[client] needs token-sha256");
		}
		break;
	case SEC_PLAIN:
	case SEC_SUBSCRIBERS:
		if (!p->seen_networks) {
			rv = perr(p, "this section needs networks");
		}
		break;
	case SEC_TLS:
		break;
	}
	if (rv == 0 && p->sec != SEC_NONE && p->sec != SEC_SUBSCRIBERS &&
	    !p->seen_rights) {
		rv = perr(p, "section needs rights");
	}
	p->line = line;
	return rv;
}

static int
begin_section(struct parser *p, char *name)
{
	struct acl *a = p->acl;
	int rv;

	if ((rv = end_section(p)) != 0) {
		return rv;
	}
	p->sec_line = p->line;
	p->seen_rights = p->seen_token = p->seen_networks = false;
	if (strcmp(name, "local") == 0) {
		p->sec = SEC_LOCAL;
		return grow(&a->local, &a->n_local, sizeof(*a->local)) != NULL
		           ? 0
		           : -ENOMEM;
	}
	if (strcmp(name, "tls") == 0) {
		p->sec = SEC_TLS;
		return grow(&a->tls, &a->n_tls, sizeof(*a->tls)) != NULL
		           ? 0
		           : -ENOMEM;
	}
	if (strcmp(name, "plain") == 0) {
		p->sec = SEC_PLAIN;
		return grow(&a->plain, &a->n_plain, sizeof(*a->plain)) != NULL
		           ? 0
		           : -ENOMEM;
	}
	if (strcmp(name, "subscribers") == 0) {
		if (a->has_subscribers) {
			return perr(p, "[subscribers] given twice");
		}
		a->has_subscribers = true;
		p->sec = SEC_SUBSCRIBERS;
		return 0;
	}
	if (strncmp(name, "client", 6) == 0 &&
	    (name[6] == ' ' || name[6] == '\t')) {
		char *id = name + 7;
		struct acl_client *c;

		id += strspn(id, " \t");
		if (!valid_client_id(id)) {
			return perr(p,
			            "'%.80s' is not a client id (1 to %d of "
			            "A-Z a-z 0-9 - _ . @)",
			            id, ACL_CLIENT_ID_MAX);
		}
		for (size_t i = 0; i < a->n_clients; i++) {
			if (strcmp(a->clients[i].id, id) == 0) {
				return perr(p, "client '%s' given twice", id);
			}
		}
		p->sec = SEC_CLIENT;
		c = grow(&a->clients, &a->n_clients, sizeof(*a->clients));
		if (c == NULL) {
			return -ENOMEM;
		}
		snprintf(c->id, sizeof(c->id), "%s", id);
		return 0;
	}
	return perr(p,
	            "unknown section [%.60s] (local, client ID, tls, plain, "
	            "subscribers)",
	            name);
}

static int
key_value(struct parser *p, const char *key, char *v)
{
	if (p->sec == SEC_NONE) {
		return perr(p, "'%.40s' outside a section", key);
	}
	if (strcmp(key, "rights") == 0 && p->sec != SEC_SUBSCRIBERS) {
		p->seen_rights = true;
		return each_item(p, v, item_right);
	}
	if (p->sec == SEC_LOCAL && strcmp(key, "uid") == 0) {
		return each_item(p, v, item_uid);
	}
	if (p->sec == SEC_LOCAL && strcmp(key, "gid") == 0) {
		return each_item(p, v, item_gid);
	}
	if (p->sec == SEC_CLIENT && strcmp(key, "token-sha256") == 0) {
		if (p->seen_token) {
			return perr(p, "token-sha256 given twice");
		}
		p->seen_token = true;
		return set_token_hash(p, v);
	}
	if ((p->sec == SEC_TLS || p->sec == SEC_PLAIN ||
	     p->sec == SEC_SUBSCRIBERS) &&
	    strcmp(key, "networks") == 0) {
		p->seen_networks = true;
		return each_item(p, v, item_net);
	}
	return perr(p, "unknown key '%.40s' in this section", key);
}

static char *
trim(char *s)
{
	char *e;

	s += strspn(s, " \t\r");
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) {
		*--e = '\0';
	}
	return s;
}

static int
parse_line(struct parser *p, char *s)
{
	char *eq;
	char *hash;

	/* Comments: a line starting with # or ;, or " #" after a value. */
	s = trim(s);
	if (*s == '\0' || *s == '#' || *s == ';') {
		return 0;
	}
	if ((hash = strstr(s, " #")) != NULL ||
	    (hash = strstr(s, "\t#")) != NULL) {
		*hash = '\0';
		s = trim(s);
	}
	if (*s == '[') {
		char *end = strchr(s, ']');

		if (end == NULL || trim(end + 1)[0] != '\0') {
			return perr(p, "malformed section header");
		}
		*end = '\0';
		return begin_section(p, trim(s + 1));
	}
	if ((eq = strchr(s, '=')) == NULL) {
		return perr(p, "expected [section] or key = value");
	}
	*eq = '\0';
	return key_value(p, trim(s), trim(eq + 1));
}

int
acl_parse(const char *text, size_t len, const char *name, struct acl **out,
          char *err)
{
	struct parser p = {.name = name, .err = err};
	char line[1024];
	size_t pos = 0;
	int rv = 0;

	*out = NULL;
	err[0] = '\0';
	if (len > ACL_FILE_MAX) {
		snprintf(err, ACL_ERR_MAX, "%s: larger than %d bytes", name,
		         ACL_FILE_MAX);
		return -EFBIG;
	}
	if ((p.acl = calloc(1, sizeof(*p.acl))) == NULL) {
		return -ENOMEM;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = (nl != NULL ? (size_t)(nl - text) : len) - pos;

		p.line++;
		if (n >= sizeof(line)) {
			rv = perr(&p, "line longer than %zu bytes",
			          sizeof(line) - 1);
			goto out;
		}
		if (memchr(text + pos, '\0', n) != NULL) {
			rv = perr(&p, "NUL byte");
			goto out;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl != NULL ? 1 : 0);
		if ((rv = parse_line(&p, line)) != 0) {
			goto out;
		}
	}
	rv = end_section(&p);
out:
	if (rv == -ENOMEM) {
		snprintf(err, ACL_ERR_MAX, "%s: out of memory", name);
	}
	if (rv != 0) {
		acl_free(p.acl);
		return rv;
	}
	*out = p.acl;
	return 0;
}

int
acl_load(const char *path, struct acl **out, char *err)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd;
	int rv;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		rv = -errno;
		snprintf(err, ACL_ERR_MAX, "%s: %s", path, strerror(errno));
		return rv;
	}
	if (fstat(fd, &st) != 0) {
		rv = -errno;
		snprintf(err, ACL_ERR_MAX, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rv = -EINVAL;
		snprintf(err, ACL_ERR_MAX, "%s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		rv = -EPERM;
		snprintf(err, ACL_ERR_MAX,
		         "%s: writable by group or others (mode %04o): "
		         "refused, whoever can write it can grant any right",
		         path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size > ACL_FILE_MAX) {
		rv = -EFBIG;
		snprintf(err, ACL_ERR_MAX, "%s: larger than %d bytes", path,
		         ACL_FILE_MAX);
		goto out;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		rv = -ENOMEM;
		snprintf(err, ACL_ERR_MAX, "%s: out of memory", path);
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, text + len, (size_t)st.st_size - len);

		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			rv = -errno;
			snprintf(err, ACL_ERR_MAX, "%s: %s", path,
			         strerror(errno));
			goto out;
		}
		if (r == 0) {
			break; /* shrank meanwhile: parse what is there */
		}
		len += (size_t)r;
	}
	rv = acl_parse(text, len, path, out, err);
out:
	free(text);
	close(fd);
	return rv;
}

int
acl_allow_loopback(struct acl *a)
{
	struct acl_netrule *r = grow(&a->plain, &a->n_plain, sizeof(*a->plain));
	struct acl_net n;

	if (r == NULL) {
		return -ENOMEM;
	}
	r->rights = ACL_RIGHTS_ALL;
	if ((r->nets = calloc(2, sizeof(*r->nets))) == NULL) {
		return -ENOMEM;
	}
	acl_net_parse("127.0.0.0/8", &n);
	r->nets[r->n_nets++] = n;
	acl_net_parse("::1", &n);
	r->nets[r->n_nets++] = n;
	return 0;
}

struct acl *
acl_default(bool loopback_insecure)
{
	struct acl *a = calloc(1, sizeof(*a));

	if (a == NULL) {
		return NULL;
	}
	if (loopback_insecure && acl_allow_loopback(a) != 0) {
		acl_free(a);
		return NULL;
	}
	return a;
}

/* Equal in time independent of where the bytes differ. */
static bool
ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	volatile uint8_t d = 0;

	for (size_t i = 0; i < n; i++) {
		d |= a[i] ^ b[i];
	}
	return d == 0;
}

static unsigned
rights_by_net(const struct acl_netrule *r, size_t n, const uint8_t addr[16],
              bool empty_matches)
{
	unsigned rights = 0;

	for (size_t i = 0; i < n; i++) {
		if ((r[i].n_nets == 0 && empty_matches) ||
		    nets_contain(r[i].nets, r[i].n_nets, addr)) {
			rights |= r[i].rights;
		}
	}
	return rights;
}

/* Rights of a credential; fills d->who and d->reason. */
static unsigned
client_rights(const struct acl *a, const struct acl_peer *p,
              struct acl_decision *d)
{
	static const uint8_t dummy[SHA256_LEN];
	uint8_t hash[SHA256_LEN];
	const struct acl_client *found = NULL;
	bool ok;

	snprintf(d->who, sizeof(d->who), "client %.64s", p->client_id);
	for (size_t i = 0; i < a->n_clients; i++) {
		if (strcmp(a->clients[i].id, p->client_id) == 0) {
			found = &a->clients[i];
		}
	}
	if (p->token_len == 0 || p->token_len > ACL_TOKEN_MAX ||
	    mbedtls_sha256_ret(p->token, p->token_len, hash, 0) != 0) {
		snprintf(d->reason, sizeof(d->reason),
		         "credential without a usable token");
		return 0;
	}
	/* Compare against something even for an unknown id, so that the
	 * time taken does not tell which ids exist. */
	ok = ct_equal(hash, found != NULL ? found->hash : dummy, SHA256_LEN);
	memset(hash, 0, sizeof(hash));
	if (found == NULL) {
		snprintf(d->reason, sizeof(d->reason),
		         "client id not in the ACL");
		return 0;
	}
	if (!ok) {
		snprintf(d->reason, sizeof(d->reason), "wrong token");
		return 0;
	}
	return found->rights;
}

bool
acl_check(const struct acl *a, const struct acl_peer *p, unsigned need,
          struct acl_decision *d)
{
	unsigned rights = 0;

	memset(d, 0, sizeof(*d));
	snprintf(d->who, sizeof(d->who), "anonymous");
	if (p->client_id != NULL && p->transport != ACL_TRANSPORT_TLS) {
		snprintf(d->who, sizeof(d->who), "client %.64s", p->client_id);
		snprintf(d->reason, sizeof(d->reason),
		         "credentials are accepted over tls+tcp:// only");
		return false;
	}
	switch (p->transport) {
	case ACL_TRANSPORT_IPC:
		if (!p->has_cred) {
			snprintf(d->reason, sizeof(d->reason),
			         "peer credentials unavailable");
			break;
		}
		snprintf(d->who, sizeof(d->who), "uid %u gid %u",
		         (unsigned)p->uid, (unsigned)p->gid);
		/* Root and the agent's own user can read the agent's memory
		 * anyway; refusing them protects nothing (and, as on Windows
		 * for Administrators, keeps the owner from locking itself
		 * out). */
		if (p->uid == 0 || p->uid == (uint32_t)geteuid()) {
			rights = ACL_RIGHTS_ALL;
			break;
		}
		for (size_t i = 0; i < a->n_local; i++) {
			const struct acl_local *l = &a->local[i];
			bool match = false;

			for (size_t j = 0; j < l->n_uids; j++) {
				match = match || l->uids[j] == p->uid;
			}
			for (size_t j = 0; j < l->n_gids; j++) {
				match = match || l->gids[j] == p->gid;
			}
			if (match) {
				rights |= l->rights;
			}
		}
		break;
	case ACL_TRANSPORT_TLS:
		if (p->client_id != NULL) {
			rights = client_rights(a, p, d);
			break;
		}
		if (p->has_addr) {
			rights = rights_by_net(a->tls, a->n_tls, p->addr, true);
		}
		break;
	case ACL_TRANSPORT_TCP:
		if (p->has_addr) {
			rights =
			    rights_by_net(a->plain, a->n_plain, p->addr, false);
		}
		break;
	}
	if (rights == 0) {
		if (d->reason[0] == '\0') {
			snprintf(d->reason, sizeof(d->reason),
			         "no right granted to this caller");
		}
		return false;
	}
	if ((rights & need) != need) {
		char have[64], want[64];

		acl_rights_text(rights, have, sizeof(have));
		acl_rights_text(need & ~rights, want, sizeof(want));
		snprintf(d->reason, sizeof(d->reason),
		         "lacks right %s (has %s)", want, have);
		return false;
	}
	d->allowed = true;
	return true;
}

bool
acl_subscriber_allowed(const struct acl *a, const uint8_t addr[16])
{
	if (a == NULL || !a->has_subscribers) {
		return acl_addr_is_loopback(addr);
	}
	return nets_contain(a->subscribers, a->n_subscribers, addr);
}
