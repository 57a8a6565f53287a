/*
 * The RPC methods of service secstat.v1.Secstat, as data: one table entry
 * per method gives its name, the provider families that feed it, the
 * status when none of them has data, and how to build its result from a
 * finished stats_tree. The snapshot builder encodes every entry once per
 * snapshot and the server looks names up here, so a new method is one
 * entry and never a server change.
 */
#ifndef SECSTAT_AGENT_METHODS_H
#define SECSTAT_AGENT_METHODS_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "provider.h"
#include "secstat/v1/service.pb-c.h"

struct stats_tree;

/* Wire status codes (Windows values, docs/protocol.md section 5). */
#define METHODS_ERROR_SUCCESS            0x00000000u
#define METHODS_FWP_E_PROVIDER_NOT_FOUND 0x80320005u
#define METHODS_FWP_E_NOT_FOUND          0x80320008u
#define METHODS_FWP_E_TIMEOUT            0x80320012u
#define METHODS_FWP_E_INVALID_PARAMETER  0x80320035u
#define METHODS_FWP_E_IKEEXT_NOT_RUNNING 0x80320044u

/* Largest request the server accepts (CapabilitiesResponse field). */
#define METHODS_MAX_REQUEST_BYTES 65536u

/* What a result builder gets. */
struct method_build {
	struct stats_tree *tree; /* finished (pruned); read-only by contract */
	struct arena *arena;     /* scratch for projections, freed after the
	                            encode */
	const Secstat__V1__HostInfo *host;
	/* A builder may instead hand over an already encoded result
	 * message: it is appended as Reply field `raw_field`. */
	const uint8_t *capabilities; /* encoded CapabilitiesResponse */
	size_t capabilities_len;
	uint32_t raw_field;
	const uint8_t *raw;
	size_t raw_len;
};

/* Sets the reply's result (result_case and member) from b->tree, or
 * b->raw*. Must not fail: absent data is an empty message. */
typedef void (*method_result_fn)(struct method_build *b,
                                 Secstat__V1__Reply *reply);

struct method {
	const char *name;  /* as in service Secstat */
	unsigned families; /* PROVIDES_* bits; 0: needs no provider */
	/* Status when no enabled provider of `families` has records. */
	uint32_t unavailable_status;
	method_result_fn result;
};

extern const struct method methods_table[];
extern const size_t methods_count;

/* Index of the method called `name` in methods_table, or -1. */
int methods_find(const char *name);

/* "IPsec", "IKE" or "iSCSI" for the message of an unavailable family
 * set ("IPsec or IKE" for a mask). Writes into buf. */
void methods_family_text(unsigned families, char *buf, size_t len);

/*
 * Encodes the GetCapabilities result once (it only changes with the
 * configuration): every method, every provider of `known` (NULL-
 * terminated, may be NULL) and of `enabled` with its enabled flag and
 * families, the schema version, every statistic descriptor of the
 * metadata table, the request size limit and the collect interval.
 * Returns 0 and a malloc'ed buffer in *out, or -ENOMEM.
 */
int methods_capabilities_encode(const struct provider_ops *const *known,
                                const struct provider_ops *const *enabled,
                                size_t n_enabled, unsigned collect_interval_ms,
                                uint8_t **out, size_t *len);

#endif /* SECSTAT_AGENT_METHODS_H */
