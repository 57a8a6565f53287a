/*
 * /proc/net/xfrm_stat → IPSEC_AGGREGATE_DROP_PACKET_STATISTICS1.
 *
 * The file counts packets the XFRM code dropped, one counter per reason,
 * for the whole namespace and every IPsec protocol at once: it cannot
 * tell ESP from AH, so only the protocol-independent aggregate block is
 * filled, and only the fields whose kernel reason means what the Windows
 * field means. Everything else stays absent (docs/data-model.md).
 */
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "stats_tree.h"

#define DROP_FIELD(f)                                                          \
	offsetof(Secstat__V1__IpsecAggregateDropPacketStatistics, has_##f),    \
	    offsetof(Secstat__V1__IpsecAggregateDropPacketStatistics, f)

/*
 * The mapping, kernel counter → Windows aggregate drop field. Reasons
 * quoted from net/xfrm/xfrm_input.c and xfrm_policy.c. A Windows field
 * missing here stays absent: no kernel counter means the same thing.
 */
static const struct procfs_map {
	const char *counter;
	size_t has_offset;
	size_t value_offset;
} procfs_map[] = {
    /* xfrm_input(): no SA for (daddr, SPI, protocol): the bad-SPI drop. */
    {"XfrmInNoStates", DROP_FIELD(invalid_spis_on_inbound)},
    /* The protocol's input failed: ESP/AH ICV mismatch (wrong key,
     * tampering), which is how an authenticated SA sees any key or
     * data corruption. It also takes the rare post-decryption padding
     * errors; Linux does not count them apart, so decryption failures
     * stay absent rather than being split by guess. */
    {"XfrmInStateProtoError", DROP_FIELD(authentication_failures_on_inbound)},
    /* The SA's replay check refused the sequence number. */
    {"XfrmInStateSeqError", DROP_FIELD(replay_check_failures_on_inbound)},
    /* The packet does not fit the SA it arrived on: the SA's selector
     * does not match the inner packet, or its UDP encapsulation type
     * differs from the packet's. */
    {"XfrmInStateMismatch", DROP_FIELD(receive_over_incorrect_sa_inbound)},
    /* The SA is still larval (XFRM_STATE_ACQ): keys not installed yet. */
    {"XfrmAcquireError", DROP_FIELD(sa_not_initialized_on_inbound)},
    /* __xfrm_policy_check(): a packet that came through a tunnel-mode
     * SA matches no inbound policy: protected traffic no filter
     * admits. */
    {"XfrmInNoPols", DROP_FIELD(secure_receives_not_matching_filters)},
    /* An inbound policy demands transforms the packet did not go
     * through; almost always a clear-text packet where the policy
     * requires IPsec. Linux counts a packet protected by the wrong SA
     * for the policy here too (see docs/data-model.md). */
    {"XfrmInTmplMismatch", DROP_FIELD(invalid_clear_text_inbound)},
};

/* Whether a counter counts inbound drops. Every inbound drop path of
 * xfrm_input() and __xfrm_policy_check() increments exactly one XfrmIn*
 * counter, or XfrmAcquireError (raised only in xfrm_input()), so their
 * sum counts each dropped inbound packet once. New kernels add XfrmIn*
 * names (XfrmInStateDirError, XfrmInIptfsError): the prefix takes them. */
static bool
is_inbound_drop(const char *name)
{
	return strncmp(name, "XfrmIn", 6) == 0 ||
	       strcmp(name, "XfrmAcquireError") == 0;
}

static bool
is_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

const struct procfs_counter *
procfs_find(const struct procfs_records *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->counters[i].name, name) == 0) {
			return &r->counters[i];
		}
	}
	return NULL;
}

/* One line, without its newline. Returns false for anything that is not
 * exactly "Name<blanks>decimal[<blanks>]" with a name that fits and a
 * value that fits 64 bits. */
static bool
parse_line(const char *s, size_t len, struct procfs_counter *c)
{
	size_t i = 0, name_len;
	uint64_t v = 0;

	while (i < len && is_blank(s[i])) {
		i++;
	}
	name_len = 0;
	while (i < len && is_name_char(s[i])) {
		if (name_len + 1 >= PROCFS_NAME_MAX) {
			return false;
		}
		c->name[name_len++] = s[i++];
	}
	c->name[name_len] = '\0';
	if (name_len == 0 || i == len || !is_blank(s[i])) {
		return false;
	}
	while (i < len && is_blank(s[i])) {
		i++;
	}
	if (i == len || s[i] < '0' || s[i] > '9') {
		return false;
	}
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		unsigned d = (unsigned)(s[i++] - '0');

		if (v > (UINT64_MAX - d) / 10) {
			return false;
		}
		v = v * 10 + d;
	}
	while (i < len && (is_blank(s[i]) || s[i] == '\r')) {
		i++;
	}
	if (i != len) {
		return false;
	}
	c->value = v;
	return true;
}

int
procfs_parse(const char *buf, size_t len, struct procfs_records **out)
{
	struct procfs_records *r;
	size_t pos = 0;

	r = calloc(1, sizeof(*r) +
	                  PROCFS_MAX_COUNTERS * sizeof(struct procfs_counter));
	if (r == NULL) {
		return -ENOMEM;
	}
	while (pos < len) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;

		pos += n + (nl != NULL ? 1 : 0);
		if (nl == NULL) {
			/* The kernel ends every line; a value cut here
			 * could be a prefix of the real one. */
			r->truncated = true;
			r->skipped++;
			break;
		}
		if (r->n == PROCFS_MAX_COUNTERS ||
		    !parse_line(line, n, &r->counters[r->n]) ||
		    procfs_find(r, r->counters[r->n].name) != NULL) {
			r->skipped++;
			continue;
		}
		r->n++;
	}
	*out = r;
	return 0;
}

static int
errno_result(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		return -ENOENT;
	case EACCES:
	case EPERM:
		return -EACCES;
	default:
		return -err;
	}
}

struct procfs_state {
	char path[4096];
};

static int
procfs_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	return fd >= 0 ? fd : errno_result(errno);
}

static int
state_path(const struct agent_config *cfg, char *path, size_t size)
{
	const char *root = cfg != NULL && cfg->procfs_root != NULL &&
	                           cfg->procfs_root[0] != '\0'
	                       ? cfg->procfs_root
	                       : "/proc";
	int n = snprintf(path, size, "%s/net/xfrm_stat", root);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int
procfs_probe(const struct agent_config *cfg, char *what, size_t len)
{
	char path[4096];
	int rv = state_path(cfg, path, sizeof(path));

	snprintf(what, len, "%s", path);
	if (rv == 0 && (rv = procfs_open(path)) >= 0) {
		close(rv);
		rv = 0;
	}
	return rv;
}

static int
procfs_init(const struct agent_config *cfg, void **state)
{
	struct procfs_state *s = calloc(1, sizeof(*s));
	int rv;

	if (s == NULL) {
		return -ENOMEM;
	}
	rv = state_path(cfg, s->path, sizeof(s->path));
	if (rv != 0) {
		free(s);
		return rv;
	}
	*state = s;
	return 0;
}

static int
procfs_collect(void *state, void **records)
{
	struct procfs_state *s = state;
	struct procfs_records *r = NULL;
	char *buf = NULL;
	size_t len = 0;
	bool over = false;
	int fd, rv;

	fd = procfs_open(s->path);
	if (fd < 0) {
		return fd;
	}
	buf = malloc(PROCFS_READ_MAX);
	if (buf == NULL) {
		rv = -ENOMEM;
		goto out;
	}
	/* Bounded: every pass either adds bytes, ends, or fails. */
	while (len < PROCFS_READ_MAX) {
		ssize_t got = read(fd, buf + len, PROCFS_READ_MAX - len);

		if (got < 0 && errno == EINTR) {
			continue;
		}
		if (got < 0) {
			rv = errno_result(errno);
			goto out;
		}
		if (got == 0) {
			break;
		}
		len += (size_t)got;
	}
	if (len == PROCFS_READ_MAX) {
		char extra;

		over = read(fd, &extra, 1) > 0;
	}
	rv = procfs_parse(buf, len, &r);
	if (rv == 0) {
		r->truncated = r->truncated || over;
		*records = r;
	}
out:
	free(buf);
	close(fd);
	return rv;
}

static void
procfs_contribute(const void *records, struct stats_tree *t)
{
	const struct procfs_records *r = records;
	uint64_t total = 0;
	bool any = false;

	for (size_t i = 0; i < r->n; i++) {
		stats_tree_add_xfrm_mib(t, r->counters[i].name,
		                        r->counters[i].value);
		if (is_inbound_drop(r->counters[i].name)) {
			/* Wraps like the kernel's own counters do. */
			total += r->counters[i].value;
			any = true;
		}
	}
	for (size_t i = 0; i < sizeof(procfs_map) / sizeof(procfs_map[0]);
	     i++) {
		const struct procfs_counter *c =
		    procfs_find(r, procfs_map[i].counter);
		char *drop = (char *)&t->ipsec_drop;
		protobuf_c_boolean *has;
		uint64_t *value;

		if (c == NULL) {
			continue;
		}
		has = (protobuf_c_boolean *)(drop + procfs_map[i].has_offset);
		value = (uint64_t *)(drop + procfs_map[i].value_offset);
		/* Added, not set: the host-wide block sums namespaces. */
		*value = (*has ? *value : 0) + c->value;
		*has = 1;
	}
	if (any) {
		TREE_ADD(&t->ipsec_drop, total_drop_packets_inbound, total);
	}
}

static void
procfs_records_free(void *records)
{
	free(records);
}

static void
procfs_fini(void *state)
{
	free(state);
}

const struct provider_ops procfs_provider = {
    .abi_version = PROVIDER_ABI_VERSION,
    .name = "procfs",
    .description = "Kernel XFRM drop counters from /proc/net/xfrm_stat",
    .families = PROVIDES_IPSEC,
    .simulated = false,
    .probe = procfs_probe,
    .init = procfs_init,
    .collect = procfs_collect,
    .contribute = procfs_contribute,
    .records_free = procfs_records_free,
    .fini = procfs_fini,
};
