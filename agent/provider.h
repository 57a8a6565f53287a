/*
 * The provider interface. A provider reads one Linux source in its own
 * terms (collect, on the provider's own thread, may block on I/O) and maps
 * what it read onto the Windows data model (contribute, pure and fast).
 * Providers are listed in providers/providers.c; the registry runs each
 * on its own thread with its own interval and backoff, so a slow or
 * broken source never delays the others or a request.
 *
 * Errors are negative errno values; the registry turns them into the
 * provider's health: -ENOENT/-ENODEV/-EPROTONOSUPPORT absent,
 * -EACCES/-EPERM denied, anything else failing (retried with backoff).
 */
#ifndef SECSTAT_AGENT_PROVIDER_H
#define SECSTAT_AGENT_PROVIDER_H

#include <stdbool.h>

#include "secstat/v1/meta.pb-c.h"

struct agent_config;
struct stats_tree;

#define PROVIDER_ABI_VERSION 2
/* provider_ops.probe(): the provider is off unless configured. */
#define PROVIDER_NOT_CONFIGURED 1

/* Bits of provider_ops.families. */
#define PROVIDER_FAMILY(f) (1u << (f))
#define PROVIDES_IPSEC     PROVIDER_FAMILY(SECSTAT__V1__FAMILY__FAMILY_IPSEC)
#define PROVIDES_IKE       PROVIDER_FAMILY(SECSTAT__V1__FAMILY__FAMILY_IKE)
#define PROVIDES_ISCSI     PROVIDER_FAMILY(SECSTAT__V1__FAMILY__FAMILY_ISCSI)
/* Not a statistics family: the relay's per-host data (RelayGetHosts). */
#define PROVIDES_RELAY (1u << 16)

struct provider_ops {
	unsigned abi_version; /* PROVIDER_ABI_VERSION */
	const char *name;     /* as given to --provider */
	const char *description;
	unsigned families; /* PROVIDES_* bits */
	bool simulated;    /* values are generated, not observed */
	/* Optional. Auto-detection: 0 when the source is present on this
	 * host; PROVIDER_NOT_CONFIGURED when it runs only when configured
	 * and is not; else a negative errno, with `what` (`len` bytes) naming
	 * what was looked for (a path, a socket) for the status and the log.
	 * Cheap, no side effects. */
	int (*probe)(const struct agent_config *cfg, char *what, size_t len);
	/* Optional. Allocates the provider's state. */
	int (*init)(const struct agent_config *cfg, void **state);
	/* Reads the source and returns a new, immutable records object that
	 * owns everything it points to. Runs on the provider's thread and
	 * must bound its own blocking (socket timeouts). */
	int (*collect)(void *state, void **records);
	/* Adds the records to the model. No I/O, no blocking: called while a
	 * snapshot is built. */
	void (*contribute)(const void *records, struct stats_tree *tree);
	void (*records_free)(void *records);
	/* Optional. Frees the state from init. */
	void (*fini)(void *state);
};

#endif /* SECSTAT_AGENT_PROVIDER_H */
