/*
 * Who this agent is: the identity every reply carries. Filled once at
 * start-up and immutable afterwards.
 */
#ifndef SECSTAT_AGENT_HOSTINFO_H
#define SECSTAT_AGENT_HOSTINFO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "secstat/v1/meta.pb-c.h"

struct agent_config;

/* Bumped only when a client must act on it (see docs/protocol.md). */
#define HOSTINFO_SCHEMA_VERSION 1

struct hostinfo {
	char hostname[256];
	char boot_id[64]; /* "" when unreadable: the field stays absent */
	char kernel_release[65];
	char agent_version[32];
	uint32_t schema_version;
	uint64_t start_unix_ms;
	uint64_t epoch; /* never 0 */
};

/* Fills `h` from the system and the configuration (--hostname,
 * --procfs-root for boot_id). Returns 0 or a negative errno. */
int hostinfo_init(struct hostinfo *h, const struct agent_config *cfg);

/* The counters epoch: a non-zero hash of the boot id, the agent's start
 * time and pid, so it changes on reboot and on agent restart. */
uint64_t hostinfo_epoch(const char *boot_id, uint64_t start_ns, pid_t pid);

/* Points `msg` (initialised here) at the strings of `h`: `msg` borrows
 * them and is valid as long as `h` is. */
void hostinfo_to_proto(const struct hostinfo *h, Secstat__V1__HostInfo *msg);

#endif /* SECSTAT_AGENT_HOSTINFO_H */
