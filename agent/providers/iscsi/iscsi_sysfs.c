/* Enumeration of iscsi_host, iscsi_session and iscsi_connection. */
#include "iscsi_sysfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Longest attribute read: sysfs attributes are at most a page. */
#define ATTR_MAX 4096

/* "<a>/<b>" into buf; false when it does not fit. */
static bool
join(char *buf, size_t size, const char *a, const char *b)
{
	int n = snprintf(buf, size, "%s/%s", a, b);

	return n > 0 && (size_t)n < size;
}

/*
 * Reads one attribute into `buf` without its trailing newline. Returns 0;
 * a negative errno when the file cannot be opened or read (-EACCES: the
 * kernel restricts some attributes to CAP_SYS_ADMIN); -ENODATA when the
 * value is empty, "(null)" (the kernel's rendering of a NULL string), too
 * long, or holds a control character (not text the kernel writes).
 */
static int
read_attr_err(const char *dir, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];
	char tmp[ATTR_MAX + 1];
	ssize_t n;
	size_t len;
	int fd;

	if (dir[0] == '\0' || !join(path, sizeof(path), dir, name)) {
		return -ENAMETOOLONG;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	do {
		n = read(fd, tmp, ATTR_MAX);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	len = (size_t)n;
	while (len > 0 && (tmp[len - 1] == '\n' || tmp[len - 1] == ' ')) {
		len--;
	}
	tmp[len] = '\0';
	if (len == 0 || len >= size || strcmp(tmp, "(null)") == 0) {
		return -ENODATA;
	}
	for (size_t i = 0; i < len; i++) {
		if (iscntrl((unsigned char)tmp[i])) {
			return -ENODATA;
		}
	}
	memcpy(buf, tmp, len + 1);
	return 0;
}

/* Whether the attribute has a value (see read_attr_err). */
static bool
read_attr(const char *dir, const char *name, char *buf, size_t size)
{
	return read_attr_err(dir, name, buf, size) == 0;
}

/* Strict decimal: digits only, no sign, within `max`. */
static bool
parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	unsigned long long x;

	if (!isdigit((unsigned char)s[0])) {
		return false;
	}
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || x > max) {
		return false;
	}
	*v = x;
	return true;
}

static bool
read_u32(const char *dir, const char *name, uint32_t *v)
{
	char buf[32];
	uint64_t x;

	if (!read_attr(dir, name, buf, sizeof(buf)) ||
	    !parse_u64(buf, UINT32_MAX, &x)) {
		return false;
	}
	*v = (uint32_t)x;
	return true;
}

/* "<prefix><u32>" and nothing else. */
static bool
parse_name(const char *name, const char *prefix, uint32_t *n)
{
	size_t pl = strlen(prefix);
	uint64_t x;

	return strncmp(name, prefix, pl) == 0 &&
	       parse_u64(name + pl, UINT32_MAX, &x) && ((*n = (uint32_t)x), 1);
}

/* "connection<sid>:<cid>". */
static bool
parse_conn_name(const char *name, uint32_t *sid, uint32_t *cid)
{
	char head[32];
	const char *colon = strchr(name, ':');
	size_t hl;
	uint64_t x;

	if (colon == NULL || (hl = (size_t)(colon - name)) >= sizeof(head)) {
		return false;
	}
	memcpy(head, name, hl);
	head[hl] = '\0';
	if (!parse_name(head, "connection", sid) ||
	    !parse_u64(colon + 1, UINT32_MAX, &x)) {
		return false;
	}
	*cid = (uint32_t)x;
	return true;
}

/*
 * The host a session hangs off: the "hostH" component right before
 * "sessionS" in the class entry's link target, e.g.
 * ../../devices/platform/host0/session1/iscsi_session/session1.
 */
static bool
session_host(const char *class_dir, const char *name, uint32_t *host_no)
{
	char path[PATH_MAX];
	char target[PATH_MAX];
	char *save = NULL;
	char *tok;
	bool have = false;
	uint32_t h = 0;
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s/%s", class_dir, name) >=
	    (int)sizeof(path)) {
		return false;
	}
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0) {
		return false;
	}
	target[n] = '\0';
	for (tok = strtok_r(target, "/", &save); tok != NULL;
	     tok = strtok_r(NULL, "/", &save)) {
		uint32_t x;

		if (parse_name(tok, "host", &x)) {
			h = x;
			have = true;
		} else if (strcmp(tok, name) == 0) {
			break;
		}
	}
	if (tok == NULL || !have) {
		return false;
	}
	*host_no = h;
	return true;
}

/*
 * The transport a host's driver registered: class/iscsi_transport/<name>
 * with <name> the scsi_host's proc_name ("bnx2i", "qla4xxx") or that name
 * without its "iscsi_" prefix ("iscsi_tcp" -> "tcp", "iscsi_iser" ->
 * "iser"), as open-iscsi resolves it. Only this transport's handle may be
 * used: the kernel calls the handle's get_stats() on the connection.
 */
static void
host_transport(const char *root, struct iscsi_sysfs_host *h)
{
	char dir[PATH_MAX];
	char proc[ISCSI_SYSFS_WORD_MAX];
	char buf[32];
	const char *names[2];
	int rv;

	snprintf(dir, sizeof(dir), "%s/class/scsi_host/host%u", root,
	         h->host_no);
	if (!read_attr(dir, "proc_name", proc, sizeof(proc))) {
		return;
	}
	names[0] = proc;
	names[1] = strncmp(proc, "iscsi_", 6) == 0 ? proc + 6 : NULL;
	for (int i = 0; i < 2 && names[i] != NULL; i++) {
		if (strchr(names[i], '/') != NULL || names[i][0] == '.') {
			continue;
		}
		snprintf(dir, sizeof(dir), "%s/class/iscsi_transport/%s", root,
		         names[i]);
		rv = read_attr_err(dir, "handle", buf, sizeof(buf));
		if (rv == -EACCES || rv == -EPERM) {
			/* Since Linux 5.12 (and stable kernels) only
			 * CAP_SYS_ADMIN may read handles: the statistics are
			 * denied, not missing. */
			h->handle_denied = true;
			snprintf(h->transport, sizeof(h->transport), "%s",
			         names[i]);
			return;
		}
		if (rv == 0 && parse_u64(buf, UINT64_MAX, &h->handle)) {
			h->has_handle = true;
			snprintf(h->transport, sizeof(h->transport), "%s",
			         names[i]);
			return;
		}
	}
}

static int
cmp_host(const void *a, const void *b)
{
	const struct iscsi_sysfs_host *x = a, *y = b;

	return (x->host_no > y->host_no) - (x->host_no < y->host_no);
}

static int
cmp_session(const void *a, const void *b)
{
	const struct iscsi_sysfs_session *x = a, *y = b;

	return (x->sid > y->sid) - (x->sid < y->sid);
}

static int
cmp_conn(const void *a, const void *b)
{
	const struct iscsi_sysfs_conn *x = a, *y = b;

	if (x->sid != y->sid) {
		return (x->sid > y->sid) - (x->sid < y->sid);
	}
	return (x->cid > y->cid) - (x->cid < y->cid);
}

/* Grows an array by one element, up to `max`; NULL at the bound or when
 * out of memory (*oom says which). */
static void *
push(void **array, size_t *n, size_t elem, size_t max, bool *oom)
{
	void *p;

	if (*n >= max) {
		return NULL;
	}
	p = realloc(*array, (*n + 1) * elem);
	if (p == NULL) {
		*oom = true;
		return NULL;
	}
	*array = p;
	p = (char *)p + *n * elem;
	memset(p, 0, elem);
	(*n)++;
	return p;
}

static int
read_hosts(const char *root, struct iscsi_sysfs *s)
{
	char cls[PATH_MAX];
	char dir[PATH_MAX];
	struct dirent *de;
	bool oom = false;
	DIR *d;

	snprintf(cls, sizeof(cls), "%s/class/iscsi_host", root);
	if ((d = opendir(cls)) == NULL) {
		return 0; /* no host yet: sessions decide presence */
	}
	while ((de = readdir(d)) != NULL) {
		struct iscsi_sysfs_host *h;
		uint32_t no;

		if (de->d_name[0] == '.') {
			continue;
		}
		if (!parse_name(de->d_name, "host", &no)) {
			s->skipped++;
			continue;
		}
		h = push((void **)&s->hosts, &s->n_hosts, sizeof(*h),
		         ISCSI_SYSFS_MAX_HOSTS, &oom);
		if (h == NULL) {
			if (oom) {
				break;
			}
			s->skipped++;
			continue;
		}
		h->host_no = no;
		if (!join(dir, sizeof(dir), cls, de->d_name)) {
			dir[0] = '\0'; /* no attribute is readable */
		}
		read_attr(dir, "ipaddress", h->ipaddress, sizeof(h->ipaddress));
		read_attr(dir, "initiatorname", h->initiatorname,
		          sizeof(h->initiatorname));
		read_attr(dir, "netdev", h->netdev, sizeof(h->netdev));
		host_transport(root, h);
	}
	closedir(d);
	return oom ? -ENOMEM : 0;
}

static int
read_sessions(const char *root, struct iscsi_sysfs *s)
{
	char cls[PATH_MAX];
	char dir[PATH_MAX];
	struct dirent *de;
	bool oom = false;
	DIR *d;

	snprintf(cls, sizeof(cls), "%s/class/iscsi_session", root);
	if ((d = opendir(cls)) == NULL) {
		return -ENOENT;
	}
	while ((de = readdir(d)) != NULL) {
		struct iscsi_sysfs_session *ss;
		uint32_t sid;

		if (de->d_name[0] == '.') {
			continue;
		}
		if (!parse_name(de->d_name, "session", &sid)) {
			s->skipped++;
			continue;
		}
		ss = push((void **)&s->sessions, &s->n_sessions, sizeof(*ss),
		          ISCSI_SYSFS_MAX_SESSIONS, &oom);
		if (ss == NULL) {
			if (oom) {
				break;
			}
			s->skipped++;
			continue;
		}
		ss->sid = sid;
		ss->has_host = session_host(cls, de->d_name, &ss->host_no);
		if (!join(dir, sizeof(dir), cls, de->d_name)) {
			dir[0] = '\0'; /* no attribute is readable */
		}
		read_attr(dir, "targetname", ss->targetname,
		          sizeof(ss->targetname));
		read_attr(dir, "initiatorname", ss->initiatorname,
		          sizeof(ss->initiatorname));
		read_attr(dir, "state", ss->state, sizeof(ss->state));
		ss->has_tpgt = read_u32(dir, "tpgt", &ss->tpgt);
	}
	closedir(d);
	return oom ? -ENOMEM : 0;
}

static int
read_conns(const char *root, struct iscsi_sysfs *s)
{
	char cls[PATH_MAX];
	char dir[PATH_MAX];
	struct dirent *de;
	bool oom = false;
	DIR *d;

	snprintf(cls, sizeof(cls), "%s/class/iscsi_connection", root);
	if ((d = opendir(cls)) == NULL) {
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		struct iscsi_sysfs_conn *c;
		uint32_t sid, cid;

		if (de->d_name[0] == '.') {
			continue;
		}
		if (!parse_conn_name(de->d_name, &sid, &cid)) {
			s->skipped++;
			continue;
		}
		c = push((void **)&s->conns, &s->n_conns, sizeof(*c),
		         ISCSI_SYSFS_MAX_CONNS, &oom);
		if (c == NULL) {
			if (oom) {
				break;
			}
			s->skipped++;
			continue;
		}
		c->sid = sid;
		c->cid = cid;
		if (!join(dir, sizeof(dir), cls, de->d_name)) {
			dir[0] = '\0'; /* no attribute is readable */
		}
		read_attr(dir, "state", c->state, sizeof(c->state));
		read_attr(dir, "address", c->address, sizeof(c->address));
		c->has_port =
		    read_u32(dir, "port", &c->port) && c->port <= UINT16_MAX;
		read_attr(dir, "persistent_address", c->persistent_address,
		          sizeof(c->persistent_address));
		c->has_persistent_port =
		    read_u32(dir, "persistent_port", &c->persistent_port) &&
		    c->persistent_port <= UINT16_MAX;
		c->has_local_port =
		    read_u32(dir, "local_port", &c->local_port) &&
		    c->local_port <= UINT16_MAX;
	}
	closedir(d);
	return oom ? -ENOMEM : 0;
}

int
iscsi_sysfs_read(const char *sysfs_root, struct iscsi_sysfs *out)
{
	const char *root = sysfs_root ? sysfs_root : "/sys";
	int rv;

	memset(out, 0, sizeof(*out));
	if ((rv = read_sessions(root, out)) != 0 ||
	    (rv = read_hosts(root, out)) != 0 ||
	    (rv = read_conns(root, out)) != 0) {
		goto out;
	}
	if (out->n_hosts > 1) {
		qsort(out->hosts, out->n_hosts, sizeof(*out->hosts), cmp_host);
	}
	if (out->n_sessions > 1) {
		qsort(out->sessions, out->n_sessions, sizeof(*out->sessions),
		      cmp_session);
	}
	if (out->n_conns > 1) {
		qsort(out->conns, out->n_conns, sizeof(*out->conns), cmp_conn);
	}
out:
	if (rv != 0) {
		iscsi_sysfs_free(out);
	}
	return rv;
}

void
iscsi_sysfs_free(struct iscsi_sysfs *s)
{
	free(s->hosts);
	free(s->sessions);
	free(s->conns);
	memset(s, 0, sizeof(*s));
}

const struct iscsi_sysfs_host *
iscsi_sysfs_host(const struct iscsi_sysfs *s, uint32_t host_no)
{
	for (size_t i = 0; i < s->n_hosts; i++) {
		if (s->hosts[i].host_no == host_no) {
			return &s->hosts[i];
		}
	}
	return NULL;
}
