/*
 * Why a dialer that keeps retrying in the background has not connected.
 *
 * nng 1.5.2 reports a background dialer's failed attempts nowhere but in
 * its statistics (there is no dial-failure callback), so a caller that
 * waits for a connection learns of a refused connection or a failed TLS
 * handshake only from its own deadline, as "could not be reached". These
 * helpers read the dialer's error counters from one statistics snapshot
 * and name the failure the way error_from_nng() names a synchronous one.
 */
#ifndef SECSTAT_CLIENT_DIAL_FAILURES_H
#define SECSTAT_CLIENT_DIAL_FAILURES_H

#include <stdbool.h>
#include <stdint.h>

#include <nng/nng.h>

/* A dialer's failed connection attempts, by kind, since it was created. */
struct dial_failures {
	uint64_t refused; /* nothing listens at the address */
	uint64_t auth;    /* TLS: this side did not accept the peer */
	uint64_t proto;   /* the peer's SP header was not understood */
	uint64_t reject;  /* the peer speaks another SP protocol than REP */
	uint64_t timeout; /* the attempt itself timed out */
	uint64_t other;   /* any other error; on TLS, the peer ended the
	                   * handshake (it did not accept this side) */
};

/* Fills `out` with dialer d's counters from `snapshot` (nng_stats_get());
 * false when the snapshot does not hold d (then `out` is zero). */
bool dial_failures_read(nng_stat *snapshot, nng_dialer d,
                        struct dial_failures *out);

/* The attempts counted in `now` but not in `before`. */
uint64_t dial_failures_new(const struct dial_failures *before,
                           const struct dial_failures *now);

/* The status a call reports for the attempts counted in `now` but not in
 * `before` (at least one): RPC_E_ACCESS_DENIED for a failed TLS handshake
 * on either side, RPC_E_VERSION_MISMATCH for a peer that is not an agent,
 * else RPC_E_SERVER_DIED_DNE. `tls`: the URL is tls+tcp://. */
uint32_t dial_failures_status(const struct dial_failures *before,
                              const struct dial_failures *now, bool tls);

/* The status of a synchronous dial that failed with nng error `rv`, by
 * the same rules: on TLS, the agent ending the handshake
 * (NNG_ECONNSHUT) is a denial, not an absent agent. */
uint32_t dial_error_status(int rv, bool tls);

#endif
