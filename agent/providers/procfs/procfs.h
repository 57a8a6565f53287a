/*
 * The procfs provider: <procfs_root>/net/xfrm_stat, the XFRM MIB of the
 * agent's network namespace (kernel net/xfrm/xfrm_proc.c, present only
 * with CONFIG_XFRM_STATISTICS). One "Name<whitespace>value" line per
 * counter; the set of names grows with the kernel, so lines are parsed
 * by name and every well-formed counter is kept, known or not.
 *
 * The records are exposed so that tests can check what the parser kept
 * and what it refused.
 */
#ifndef SECSTAT_PROVIDER_PROCFS_H
#define SECSTAT_PROVIDER_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "provider.h"

/* Longest counter name kept, NUL included; longer lines are refused. */
#define PROCFS_NAME_MAX 64
/* Most counters kept from one file (kernel 6.18 prints 32). */
#define PROCFS_MAX_COUNTERS 256
/* Most bytes read from one file (kernel 6.18 prints 1,056). */
#define PROCFS_READ_MAX 65536

struct procfs_counter {
	char name[PROCFS_NAME_MAX];
	uint64_t value;
};

/* One reading of xfrm_stat; owns nothing outside itself. */
struct procfs_records {
	size_t n;         /* counters kept, in file order */
	unsigned skipped; /* lines refused: malformed, duplicate, over limit */
	bool truncated;   /* the file ended inside a line or hit the bound */
	struct procfs_counter counters[];
};

extern const struct provider_ops procfs_provider;

/* Parses `len` bytes of xfrm_stat text. Never fails on content: refused
 * lines are counted in `skipped`. Returns 0 or -ENOMEM. */
int procfs_parse(const char *buf, size_t len, struct procfs_records **out);

/* The kept counter named `name`, or NULL. */
const struct procfs_counter *procfs_find(const struct procfs_records *r,
                                         const char *name);

#endif /* SECSTAT_PROVIDER_PROCFS_H */
