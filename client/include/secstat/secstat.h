/*
 * libsecstat: the client library of secstat.
 *
 * secstat serves the Windows IPsec, IKE and iSCSI statistics model
 * (IPsecGetStatistics1, IkeextGetStatistics1, MSiSCSI_*IPSECStats) from
 * Linux hosts. An agent, secstatd, answers requests over nng REQ/REP; this
 * library calls it and returns Windows-style status codes.
 *
 * The calls, in the order of use:
 *
 *   secstat_session_options_init()  optional: fill a struct of options
 *   secstat_session_open()          dial one agent URL
 *   secstat_ipsec_get_statistics1() or another method wrapper, or
 *   secstat_session_call()          call a method by name: status + reply
 *   secstat_reply_free()            free each reply a call returned
 *   secstat_session_close()         hang up
 *
 *   secstat_strerror(), secstat_status_name()   text of a status code
 *   secstat_default_url()                       $SECSTAT_SERVER or the
 *                                               default ipc:// URL
 *
 * Many agents at once (a fleet), in the order of use:
 *
 *   secstat_fleet_open() or secstat_fleet_open_file()   the hosts; every
 *                                   connection is dialled in parallel
 *   secstat_fleet_query()           one method on every host concurrently:
 *                                   per-host status and reply + aggregate
 *   secstat_fleet_result_*()        read a result; _free() it
 *   secstat_rates_compute()         per-host and fleet rates from two
 *                                   results; secstat_rates_free()
 *   secstat_fleet_close()
 *
 * Streams (agents started with --publish):
 *
 *   secstat_subscribe()             SUB to N agents' PUB sockets, state
 *                                   rebuilt per host, gaps resynced over
 *                                   REQ/REP, hosts marked down and up
 *   secstat_subscription_state()    copy of a host's current state
 *   secstat_subscription_close()
 *
 * <secstat/fwpmu.h> offers the same service with the Windows Filtering
 * Platform signatures (FwpmEngineOpen0, IPsecGetStatistics1, ...) and the
 * Windows structure layouts.
 *
 * Status codes (<secstat/winerror.h>): every call returns a uint32_t.
 * - ERROR_SUCCESS (0): the agent answered and the reply holds the result.
 * - the agent's own status when the call went through: ERROR_ACCESS_DENIED,
 *   FWP_E_NOT_FOUND (unknown method), FWP_E_INVALID_PARAMETER (the agent
 *   could not decode the request), FWP_E_PROVIDER_NOT_FOUND and
 *   FWP_E_IKEEXT_NOT_RUNNING (no source for this data), FWP_E_TIMEOUT
 *   (fresh data was not ready by the deadline; the reply carries the last
 *   snapshot). The reply is returned with these too.
 * - RPC_E_* when the call could not be completed with the agent; no reply:
 *     RPC_E_SERVER_DIED_DNE     agent not running or unreachable; the call
 *                               did not execute (safe to retry)
 *     RPC_E_TIMEOUT             no reply within the timeout; the call may
 *                               have executed
 *     RPC_E_DISCONNECTED        the connection was lost while waiting for
 *                               the reply; the call may have executed
 *     RPC_E_CLIENT_CANTUNMARSHAL_DATA  the reply could not be decoded
 *     RPC_E_INVALID_DATA        the reply decoded but does not answer the
 *                               request (request id, result type, status)
 *     RPC_E_INVALID_PARAMETER   the URL is invalid or its scheme unsupported
 *     RPC_E_VERSION_MISMATCH    the peer is not a secstat agent (not REP,
 *                               e.g. an agent's stream port)
 *     RPC_E_ACCESS_DENIED       the TLS handshake failed: this side did not
 *                               accept the agent's certificate, or the
 *                               agent ended the handshake (it did not
 *                               accept this client's)
 *     RPC_E_OUT_OF_RESOURCES    memory or another resource ran out
 *     RPC_E_CALL_CANCELED       the session was closed during the call
 *     RPC_E_FAULT               any other transport failure
 * - ERROR_INVALID_PARAMETER: a required pointer argument is NULL, the
 *   method name is empty, or the options struct is malformed. These are
 *   programming errors in the caller, so they are kept apart from the
 *   RPC_E_* family, which describes the conversation with an agent.
 *
 * Threads: a session may be used by several threads at once; each call
 * runs in its own nng context, so calls on one session proceed
 * concurrently over one connection. secstat_session_close() must not race
 * with calls on the same session. A fleet runs one query at a time (calls
 * on one fleet are serialised) and calls its progress function on the
 * querying thread. A subscription calls back on its own thread, one
 * event at a time; nothing else in this library calls back into the
 * application.
 *
 * Memory: each reply is decoded into memory the library allocates; the
 * caller owns it and frees it with secstat_reply_free(). Strings returned
 * by secstat_strerror(), secstat_status_name(), secstat_default_url() and
 * secstat_session_url() are owned by the library.
 *
 * Reply types: the generated protobuf-c types of
 * <secstat/v1/service.pb-c.h> and the files it includes
 * (Secstat__V1__Reply and the statistics messages it holds). Every
 * statistic is optional: a has_<field> flag of 0 means the agent's host
 * cannot observe that value, which is not the same as 0.
 */
#ifndef SECSTAT_SECSTAT_H
#define SECSTAT_SECSTAT_H

#include <stddef.h>
#include <stdint.h>

#include <secstat/winerror.h>
#include <secstat/v1/service.pb-c.h>
#include <secstat/v1/stream.pb-c.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SECSTAT_DECL
#if defined(__GNUC__)
#define SECSTAT_DECL __attribute__((visibility("default")))
#else
#define SECSTAT_DECL
#endif
#endif

/* URL used when none is given and $SECSTAT_SERVER is unset. */
#define SECSTAT_DEFAULT_URL "ipc:///run/secstat/secstatd.sock"
/* Environment variable naming the default agent URL. */
#define SECSTAT_ENV_SERVER "SECSTAT_SERVER"
/* Default for secstat_session_options.timeout_ms. */
#define SECSTAT_DEFAULT_TIMEOUT_MS 5000u
/* Largest reply accepted. nng drops the connection that carries a larger
 * message, so the call fails with RPC_E_DISCONNECTED. */
#define SECSTAT_REPLY_MAX_BYTES (16u * 1024u * 1024u)

/* Method names of service secstat.v1.Secstat (service.proto). */
#define SECSTAT_METHOD_IPSEC_GET_STATISTICS0      "IPsecGetStatistics0"
#define SECSTAT_METHOD_IPSEC_GET_STATISTICS1      "IPsecGetStatistics1"
#define SECSTAT_METHOD_IKEEXT_GET_STATISTICS0     "IkeextGetStatistics0"
#define SECSTAT_METHOD_IKEEXT_GET_STATISTICS1     "IkeextGetStatistics1"
#define SECSTAT_METHOD_ISCSI_GET_STATISTICS       "IscsiGetStatistics"
#define SECSTAT_METHOD_GET_HOST_INFO              "GetHostInfo"
#define SECSTAT_METHOD_GET_CAPABILITIES           "GetCapabilities"
#define SECSTAT_METHOD_LIST_SECURITY_ASSOCIATIONS "ListSecurityAssociations"
#define SECSTAT_METHOD_RELAY_GET_HOSTS            "RelayGetHosts"

/* An open connection to one agent. Opaque. */
typedef struct secstat_session secstat_session;

/* secstat_session_options.flags: do not wait for the first connection.
 * secstat_session_open() returns at once and the connection is made in
 * the background; a call made before it exists waits for it within its
 * timeout and fails with RPC_E_SERVER_DIED_DNE if it never comes (the
 * request was never sent). Meant for opening many sessions at once. */
#define SECSTAT_SESSION_NONBLOCK 0x1u

/*
 * Options of secstat_session_open(). Initialise with
 * secstat_session_options_init() (or SECSTAT_SESSION_OPTIONS_INIT), then
 * change what you need. `size` lets the struct grow (transport security
 * options come later) without breaking programs built against this
 * version: the library reads only the first `size` bytes and treats the
 * rest as defaults; bytes beyond what the library knows must be zero.
 */
struct secstat_session_options {
	uint32_t size;       /* sizeof(struct secstat_session_options) */
	uint32_t timeout_ms; /* per call, request sent to reply decoded;
	                      * 0: SECSTAT_DEFAULT_TIMEOUT_MS */
	uint32_t connect_timeout_ms; /* bound of the first dial in
	                              * secstat_session_open(); 0: timeout_ms */
	uint32_t max_age_ms; /* oldest acceptable snapshot; 0: whatever the
	                      * agent has (Request.max_age_ms) */
	uint32_t flags;      /* SECSTAT_SESSION_* */
	/* Transport security, for tls+tcp:// URLs (PEM file paths; NULL:
	 * none). The agent requires a client certificate (mutual TLS), so
	 * all three files are needed; tls_ca_file verifies the agent. */
	const char *tls_ca_file;
	const char *tls_cert_file;
	const char *tls_key_file;
	/* Name the agent's certificate must carry (subjectAltName DNS);
	 * NULL: the host of the URL. */
	const char *tls_server_name;
	/* The credential sent in every request: the client's id in the
	 * agent's ACL and its secret token (NUL-terminated). The agent
	 * accepts it over tls+tcp:// only; with any other URL, setting it
	 * is an error (ERROR_INVALID_PARAMETER) rather than a secret sent in
	 * clear. NULL: no credential. */
	const char *client_id;
	const char *token;
};

#define SECSTAT_SESSION_OPTIONS_INIT                                           \
	{                                                                      \
		sizeof(struct secstat_session_options), 0, 0, 0, 0             \
	}

/* Fills `opts` with the defaults (all zero but `size`). */
SECSTAT_DECL void
secstat_session_options_init(struct secstat_session_options *opts);

/*
 * Opens a session to the agent at `url` (tcp://host:port or
 * ipc:///path; NULL: secstat_default_url()). `opts` may be NULL for the
 * defaults; it is only read during the call.
 *
 * Unless SECSTAT_SESSION_NONBLOCK is set, the first connection is made
 * before returning, within connect_timeout_ms, so that an agent that is
 * not running is reported here at once. Once connected, a lost connection
 * is re-established automatically in the background.
 *
 * On ERROR_SUCCESS *sp is a new session, owned by the caller until
 * secstat_session_close(); otherwise *sp is set to NULL.
 * Returns ERROR_SUCCESS, ERROR_INVALID_PARAMETER (sp NULL, malformed
 * opts, TLS files missing or unreadable, a credential on a URL that is
 * not tls+tcp://), RPC_E_INVALID_PARAMETER (bad URL or scheme),
 * RPC_E_SERVER_DIED_DNE (not running, refused, unreachable, TLS
 * handshake refused, or not connected within connect_timeout_ms),
 * RPC_E_ACCESS_DENIED,
 * RPC_E_VERSION_MISMATCH, RPC_E_OUT_OF_RESOURCES, RPC_E_FAULT.
 */
SECSTAT_DECL uint32_t
secstat_session_open(secstat_session **sp, const char *url,
                     const struct secstat_session_options *opts);

/*
 * Closes the session and frees it; `s` is invalid afterwards. NULL is a
 * no-op. Replies already returned stay valid. Calls still running on
 * other threads fail with RPC_E_CALL_CANCELED, but the caller must make
 * sure no thread starts or is inside a call on `s` after this returns.
 */
SECSTAT_DECL void secstat_session_close(secstat_session *s);

/* The URL the session dials; valid until secstat_session_close(). */
SECSTAT_DECL const char *secstat_session_url(const secstat_session *s);

/*
 * Calls `method` (a name of service secstat.v1.Secstat, e.g.
 * SECSTAT_METHOD_IPSEC_GET_STATISTICS1) and waits for the reply, at most
 * the session's timeout_ms. Thread-safe; see the threading note above.
 *
 * Whenever the agent answered, *reply is set to the decoded reply (also
 * when the agent's status is not ERROR_SUCCESS: it carries the message,
 * the host and possibly a stale result) and the return value is
 * reply->status. The caller owns *reply and frees it with
 * secstat_reply_free(). Otherwise *reply is set to NULL and an RPC_E_*
 * code (or ERROR_INVALID_PARAMETER) is returned; see the top of this
 * file.
 *
 * The reply is checked before it is returned: it echoes the request id,
 * carries a status, and its result, if any, is of the method's type (for
 * the methods listed above); otherwise RPC_E_INVALID_DATA.
 */
SECSTAT_DECL uint32_t secstat_session_call(secstat_session *s,
                                           const char *method,
                                           Secstat__V1__Reply **reply);

/* Frees a reply returned by this library. NULL is a no-op. */
SECSTAT_DECL void secstat_reply_free(Secstat__V1__Reply *reply);

/*
 * One wrapper per method: secstat_session_call() with the method's name.
 * On ERROR_SUCCESS the result is in reply->ipsec (IPsecGetStatistics*),
 * reply->ikeext, reply->iscsi, reply->host_info or reply->capabilities.
 * Same ownership, threading and return codes as secstat_session_call().
 * The version-0 methods return the version-1 message with the fields that
 * version 0 lacks left absent.
 */
SECSTAT_DECL uint32_t secstat_ipsec_get_statistics0(secstat_session *s,
                                                    Secstat__V1__Reply **reply);
SECSTAT_DECL uint32_t secstat_ipsec_get_statistics1(secstat_session *s,
                                                    Secstat__V1__Reply **reply);
SECSTAT_DECL uint32_t
secstat_ikeext_get_statistics0(secstat_session *s, Secstat__V1__Reply **reply);
SECSTAT_DECL uint32_t
secstat_ikeext_get_statistics1(secstat_session *s, Secstat__V1__Reply **reply);
SECSTAT_DECL uint32_t secstat_iscsi_get_statistics(secstat_session *s,
                                                   Secstat__V1__Reply **reply);
SECSTAT_DECL uint32_t secstat_get_host_info(secstat_session *s,
                                            Secstat__V1__Reply **reply);
SECSTAT_DECL uint32_t secstat_get_capabilities(secstat_session *s,
                                               Secstat__V1__Reply **reply);
/* Every IKE SA with its CHILD_SAs, the IPsec SAs no IKE SA accounts for,
 * and the configured connections (up or down): reply->security_associations. */
SECSTAT_DECL uint32_t secstat_list_security_associations(
    secstat_session *s, Secstat__V1__Reply **reply);
/* A relay's hosts (secstatd --relay), each with its status, identity and
 * last IPsec, IKE and iSCSI replies: reply->relay_hosts.
 * FWP_E_PROVIDER_NOT_FOUND from an agent that is not a relay. */
SECSTAT_DECL uint32_t secstat_relay_get_hosts(secstat_session *s,
                                              Secstat__V1__Reply **reply);

/*
 * A sentence describing `status`, for every code of <secstat/winerror.h>;
 * "Unknown status code." for others. Never NULL; static storage,
 * thread-safe.
 */
SECSTAT_DECL const char *secstat_strerror(uint32_t status);

/* The symbolic name of `status` ("RPC_E_TIMEOUT"), or NULL for a code
 * outside <secstat/winerror.h>. Static storage, thread-safe. */
SECSTAT_DECL const char *secstat_status_name(uint32_t status);

/* $SECSTAT_SERVER when set and not empty, else SECSTAT_DEFAULT_URL. The
 * string belongs to the environment or the library: do not free it, and
 * copy it before changing the environment. */
SECSTAT_DECL const char *secstat_default_url(void);

/* The library version, e.g. "0.1.0". */
SECSTAT_DECL const char *secstat_version(void);

/* ---- Fleets: one method on many agents at once ---- */

/* A set of agents queried together. Opaque. */
typedef struct secstat_fleet secstat_fleet;
/* What one secstat_fleet_query() returned. Opaque, immutable. */
typedef struct secstat_fleet_result secstat_fleet_result;

/* Default of secstat_fleet_options.max_parallel. */
#define SECSTAT_FLEET_DEFAULT_PARALLEL 1024u
/* Default of secstat_fleet_options.timeout_ms: per host. */
#define SECSTAT_FLEET_DEFAULT_TIMEOUT_MS 2000u
/* Largest fleet one object holds (bounds a hosts file). */
#define SECSTAT_FLEET_MAX_HOSTS 100000u

/*
 * Options of secstat_fleet_open(). Initialise with
 * secstat_fleet_options_init(); `size` works as in
 * secstat_session_options.
 */
struct secstat_fleet_options {
	uint32_t size;         /* sizeof(struct secstat_fleet_options) */
	uint32_t timeout_ms;   /* per host: from the start of its request to
	                        * its decoded reply, including waiting for
	                        * its connection; 0: the default above */
	uint32_t max_parallel; /* requests in flight at once; 0: default */
	uint32_t max_age_ms;   /* as in secstat_session_options */
	uint32_t flags;        /* none defined: 0 */
	/* As in secstat_session_options, for every tls+tcp:// host of the
	 * fleet; the credential is sent to those hosts only. */
	const char *tls_ca_file;
	const char *tls_cert_file;
	const char *tls_key_file;
	const char *tls_server_name;
	const char *client_id;
	const char *token;
};

/* Fills `opts` with the defaults (all zero but `size`). */
SECSTAT_DECL void
secstat_fleet_options_init(struct secstat_fleet_options *opts);

/* One host of a fleet, as given or as read from a hosts file. Owned by
 * the fleet. */
struct secstat_fleet_host {
	const char *url;     /* REQ/REP URL of the agent */
	const char *name;    /* name from the hosts file, else the URL */
	const char *pub_url; /* pub=URL of the hosts file, else NULL */
	const char *const *tags;
	size_t n_tags;
};

/*
 * Opens a fleet of `n` agents (1 <= n <= SECSTAT_FLEET_MAX_HOSTS). Every
 * connection is dialled at once in the background and kept open (and
 * re-dialled when lost) until secstat_fleet_close(): a host that is down
 * is not an error here, it is reported per host by each query.
 * A URL that cannot be used at all (bad scheme or syntax) is that host's
 * status in every query (RPC_E_INVALID_PARAMETER), not a failure here.
 * Returns ERROR_SUCCESS (*fp owned by the caller), ERROR_INVALID_PARAMETER
 * (NULL argument, n out of range, malformed options) or
 * RPC_E_OUT_OF_RESOURCES.
 */
SECSTAT_DECL uint32_t
secstat_fleet_open(secstat_fleet **fp, const char *const *urls, size_t n,
                   const struct secstat_fleet_options *opts);

/*
 * Opens a fleet from a hosts file: one host per line,
 *     URL [NAME [TAG...]]
 * separated by blanks; a token pub=URL anywhere after the URL gives the
 * agent's --publish URL (for secstat_subscribe()). '#' starts a comment;
 * blank lines are ignored. On a file or syntax error returns
 * ERROR_INVALID_PARAMETER and, when `err` is not NULL, writes
 * "FILE:LINE: reason" into it (at most errlen bytes).
 */
SECSTAT_DECL uint32_t secstat_fleet_open_file(
    secstat_fleet **fp, const char *path,
    const struct secstat_fleet_options *opts, char *err, size_t errlen);

/* Closes every connection and frees the fleet. Results stay valid. NULL
 * is a no-op. Must not race with a query on the same fleet. */
SECSTAT_DECL void secstat_fleet_close(secstat_fleet *f);

SECSTAT_DECL size_t secstat_fleet_count(const secstat_fleet *f);
/* Host `i` (< count), or NULL. */
SECSTAT_DECL const struct secstat_fleet_host *
secstat_fleet_host(const secstat_fleet *f, size_t i);

/* Called on the querying thread while a query runs: `done` of `total`
 * hosts have finished (answered, failed or timed out). */
typedef void (*secstat_fleet_progress_fn)(size_t done, size_t total, void *arg);

/*
 * Calls `method` on every host of the fleet, at most max_parallel in
 * flight, each bounded by timeout_ms, requests never resent, and waits
 * for all of them. A host found unreachable by the previous query that
 * still has no connection fails at once with RPC_E_SERVER_DIED_DNE
 * rather than costing every query its deadline; its connection keeps
 * being retried in the background and it is asked again once up. `progress` may
 * be NULL; otherwise it is called on this thread as hosts finish (at most every
 * 50 ms, and once at the end).
 *
 * Returns ERROR_SUCCESS with *resultp set (also when some or all hosts
 * failed: see secstat_fleet_result_status()), or ERROR_INVALID_PARAMETER
 * or RPC_E_OUT_OF_RESOURCES with *resultp NULL. The caller owns the
 * result and frees it with secstat_fleet_result_free(). One query at a
 * time per fleet: concurrent callers are serialised.
 */
SECSTAT_DECL uint32_t secstat_fleet_query(secstat_fleet *f, const char *method,
                                          secstat_fleet_progress_fn progress,
                                          void *arg,
                                          secstat_fleet_result **resultp);

/* Number of hosts (the fleet's, in its order), and how many answered
 * ERROR_SUCCESS. */
SECSTAT_DECL size_t secstat_fleet_result_count(const secstat_fleet_result *r);
SECSTAT_DECL size_t secstat_fleet_result_ok(const secstat_fleet_result *r);

/* Host i's status: as secstat_session_call() returns it (ERROR_SUCCESS,
 * the agent's FWP_E_* or ERROR_ACCESS_DENIED, or RPC_E_*). */
SECSTAT_DECL uint32_t secstat_fleet_result_status(const secstat_fleet_result *r,
                                                  size_t i);
/* Host i's reply (NULL when it did not answer); owned by the result. */
SECSTAT_DECL const Secstat__V1__Reply *
secstat_fleet_result_reply(const secstat_fleet_result *r, size_t i);
/* Microseconds from the start of host i's request to its completion. */
SECSTAT_DECL uint32_t
secstat_fleet_result_latency_us(const secstat_fleet_result *r, size_t i);

/*
 * The aggregate: a Reply of the same shape as a host's (status
 * ERROR_SUCCESS, host.hostname "fleet", collected_unix_ms of the oldest
 * answer, simulated when any answer is) whose result sums every host that
 * answered ERROR_SUCCESS. Counters and gauges are summed over the hosts
 * that have the field; a field no host has stays absent. Lists: XFRM MIB
 * counters are summed by name, namespaces by name (recursively), the IKE
 * error-frequency tables entry by entry; iSCSI HBAs and SA/connection
 * details are concatenated, each HBA's InstanceName prefixed with
 * "<hostname>/". NULL when no host answered ERROR_SUCCESS with a result,
 * and for GetHostInfo and GetCapabilities (nothing to sum). Owned by the
 * result. docs/scaling.md has the full rules.
 */
SECSTAT_DECL const Secstat__V1__Reply *
secstat_fleet_result_aggregate(const secstat_fleet_result *r);

/*
 * The side table of the aggregate (stream.proto, FleetAggregate): every
 * host with its status and identity, and for every summed statistic its
 * path, kind, sum, the number of hosts that had it, min and max and
 * which host (index) holds each. Never NULL for a result. Owned by the
 * result.
 */
SECSTAT_DECL const Secstat__V1__FleetAggregate *
secstat_fleet_result_summary(const secstat_fleet_result *r);

/* Frees a result. NULL is a no-op. */
SECSTAT_DECL void secstat_fleet_result_free(secstat_fleet_result *r);

/* ---- Rates ---- */

/* Rates between two answers per host and over the fleet. Opaque. */
typedef struct secstat_rates secstat_rates;

/* One counter's change over the interval. */
struct secstat_rate {
	const char *path; /* dotted JSON-name path, as in the TSV dump */
	uint64_t value;   /* newer value (fleet: sum over contributing hosts) */
	uint64_t delta;   /* increase, never negative (see flags) */
	double per_second; /* delta / the host's own sampling interval;
	                    * fleet: sum of the hosts' rates */
	uint32_t hosts;    /* fleet: hosts that contributed; host: 1 */
	uint32_t resets;   /* fleet: hosts whose counter reset; host: 0/1 */
};

/* Host flags of secstat_rates_host(). */
#define SECSTAT_RATES_EPOCH_CHANGED 0x1u /* agent restarted or rebooted */
#define SECSTAT_RATES_DECREASED     0x2u /* a counter went down, same epoch */
#define SECSTAT_RATES_NO_INTERVAL   0x4u /* same sample twice: no rate */
#define SECSTAT_RATES_MISSING       0x8u /* no answer in one of the two */

/*
 * Rates of every counter (statistics of kind counter; gauges are never
 * rated) from two answers per host: prev[i] and cur[i] are the same
 * host's older and newer replies (either may be NULL: the host is then
 * MISSING and contributes nothing). The interval is the difference of the
 * replies' collected_unix_ms.
 *
 * Resets never produce a negative or absurd rate: when the agent's epoch
 * changed, a counter that went down restarted from zero and its newer
 * value is the delta (a counter that went up is taken as is); a counter
 * that went down within one epoch contributes 0 for that interval. So the
 * fleet delta is never negative and a fleet total kept as a running sum
 * of deltas is monotonic.
 *
 * Returns ERROR_SUCCESS (*out owned by the caller, free with
 * secstat_rates_free()), ERROR_INVALID_PARAMETER or
 * RPC_E_OUT_OF_RESOURCES.
 */
SECSTAT_DECL uint32_t secstat_rates_compute_replies(
    const Secstat__V1__Reply *const *prev, const Secstat__V1__Reply *const *cur,
    size_t n, secstat_rates **out);

/* The same from two results of one fleet (host i of each). */
SECSTAT_DECL uint32_t secstat_rates_compute(const secstat_fleet_result *prev,
                                            const secstat_fleet_result *cur,
                                            secstat_rates **out);

/* The fleet's rates, in path order of first appearance; *n set. Owned by
 * `r`. */
SECSTAT_DECL const struct secstat_rate *
secstat_rates_fleet(const secstat_rates *r, size_t *n);
/* Host i's rates and SECSTAT_RATES_* flags (flags may be NULL). */
SECSTAT_DECL const struct secstat_rate *
secstat_rates_host(const secstat_rates *r, size_t i, size_t *n,
                   uint32_t *flags);
SECSTAT_DECL void secstat_rates_free(secstat_rates *r);

/* ---- Streams: subscribe to many agents' PUB sockets ---- */

/* A subscription to N agents. Opaque. */
typedef struct secstat_subscription secstat_subscription;

/* Family masks of secstat_subscribe_options.families. */
#define SECSTAT_FAMILY_MASK(f) (1u << (f))
#define SECSTAT_FAMILY_IPSEC                                                   \
	SECSTAT_FAMILY_MASK(SECSTAT__V1__FAMILY__FAMILY_IPSEC)
#define SECSTAT_FAMILY_IKE SECSTAT_FAMILY_MASK(SECSTAT__V1__FAMILY__FAMILY_IKE)
#define SECSTAT_FAMILY_ISCSI                                                   \
	SECSTAT_FAMILY_MASK(SECSTAT__V1__FAMILY__FAMILY_ISCSI)

/* A host is marked down after this long without a message when it has
 * not told its heartbeat interval yet. */
#define SECSTAT_SUB_DEFAULT_DOWN_MS 15000u

struct secstat_subscribe_options {
	uint32_t size;     /* sizeof(struct secstat_subscribe_options) */
	uint32_t families; /* SECSTAT_FAMILY_* to follow; 0: all three */
	/* Silence after which a host is marked down; 0: three of the
	 * heartbeat intervals the host announces in its messages. */
	uint32_t down_after_ms;
	uint32_t timeout_ms;  /* of a resync call; 0: the session default */
	uint32_t recv_buffer; /* SUB queue (NNG_OPT_RECVBUF); 0: 128 */
	uint32_t flags;       /* none defined: 0 */
	/* Extra topic prefixes (e.g. "ipsec/web-"); when given, they replace
	 * the per-family topics. */
	const char *const *topics;
	size_t n_topics;
	/* As in secstat_session_options. The TLS files configure every
	 * tls+tcp:// pub_url and req_url (the agent's PUB listener requires
	 * a client certificate from the configured CA, like its REP one);
	 * the credential is sent in the resync requests to tls+tcp://
	 * req_urls only, since a SUB socket cannot send one. */
	const char *tls_ca_file;
	const char *tls_cert_file;
	const char *tls_key_file;
	const char *tls_server_name;
	const char *client_id;
	const char *token;
};

SECSTAT_DECL void
secstat_subscribe_options_init(struct secstat_subscribe_options *opts);

/* One agent of a subscription: its --publish URL and the REQ/REP URL
 * used to resync (may be NULL: gaps then wait for the next full message). */
struct secstat_sub_host {
	const char *pub_url;
	const char *req_url;
	const char *name; /* for the application; may be NULL */
};

enum secstat_sub_event_type {
	SECSTAT_SUB_UPDATE, /* new state of (host, family) */
	SECSTAT_SUB_UP,     /* first message, or messages again after DOWN */
	SECSTAT_SUB_DOWN,   /* silent for down_after_ms */
	SECSTAT_SUB_GAP,    /* sequence gap or epoch change: state invalid */
	SECSTAT_SUB_RESYNC, /* state fetched over REQ/REP after a gap */
	SECSTAT_SUB_RESYNC_FAILED, /* that fetch failed (status): the state
	                            * comes back with the next full message */
};

struct secstat_sub_event {
	enum secstat_sub_event_type type;
	size_t host; /* index into the hosts given to secstat_subscribe() */
	Secstat__V1__Family family;    /* UPDATE, GAP, RESYNC* */
	Secstat__V1__PublishKind kind; /* UPDATE: what arrived */
	/* UPDATE and RESYNC: the host's whole current state of the family
	 * as a Reply (status, host, collected_unix_ms, result); valid only
	 * during the callback. */
	const Secstat__V1__Reply *state;
	uint64_t sequence; /* UPDATE, GAP: the sequence received */
	uint64_t expected; /* GAP: the sequence that was due */
	/* RESYNC_FAILED: the call's status. DOWN: why, when the stream's
	 * connection attempts since the host was last up say so
	 * (RPC_E_ACCESS_DENIED: TLS handshake rejected; RPC_E_VERSION_MISMATCH:
	 * not a stream endpoint; RPC_E_SERVER_DIED_DNE: refused), else 0
	 * (silent). */
	uint32_t status;
};

typedef void (*secstat_sub_fn)(const struct secstat_sub_event *ev, void *arg);

/*
 * Subscribes to `n` agents: one SUB socket dialling every pub_url (in
 * the background, re-dialled when lost), filtered on the topics
 * "<family>/" of opts->families (or opts->topics). Each host's state is
 * rebuilt from full messages and deltas; a gap in a topic's sequence (or
 * a new epoch) invalidates it and triggers a resync: one REQ/REP call of
 * the family's method, whose reply becomes the state. Hosts silent for
 * down_after_ms are reported DOWN, and UP again at their next message.
 *
 * `fn` is called on the subscription's own thread, one event at a time,
 * never after secstat_subscription_close() returns. It may call
 * secstat_subscription_state() but must not close the subscription.
 * Returns ERROR_SUCCESS, ERROR_INVALID_PARAMETER (also: TLS files
 * missing or unreadable for a tls+tcp:// pub_url, a client_id without a
 * token or the reverse), RPC_E_INVALID_PARAMETER (a bad URL) or
 * RPC_E_OUT_OF_RESOURCES. A TLS handshake the agent refuses is not
 * reported here: the host simply never comes UP.
 */
SECSTAT_DECL uint32_t secstat_subscribe(
    secstat_subscription **sp, const struct secstat_sub_host *hosts, size_t n,
    const struct secstat_subscribe_options *opts, secstat_sub_fn fn, void *arg);

/*
 * A copy of host i's current state of `family` (a Reply the caller frees
 * with secstat_reply_free()). Any thread. Returns ERROR_SUCCESS,
 * ERROR_INVALID_PARAMETER, or FWP_E_NOT_FOUND when there is no valid
 * state (nothing received yet, or a gap not yet repaired).
 */
SECSTAT_DECL uint32_t secstat_subscription_state(secstat_subscription *s,
                                                 size_t host,
                                                 Secstat__V1__Family family,
                                                 Secstat__V1__Reply **copy);

/* Counters of one host of a subscription. */
struct secstat_sub_stats {
	uint64_t messages; /* received */
	uint64_t gaps;     /* sequence gaps (and epoch changes) seen */
	uint64_t lost;     /* messages known lost from the gaps */
	uint64_t resyncs;  /* successful REQ/REP resyncs */
	uint64_t heartbeats;
	int up; /* 1 up, 0 down or never heard */
};

SECSTAT_DECL uint32_t secstat_subscription_stats(secstat_subscription *s,
                                                 size_t host,
                                                 struct secstat_sub_stats *st);

/* Stops the thread, closes the sockets and frees the subscription. NULL
 * is a no-op. Not from the callback. */
SECSTAT_DECL void secstat_subscription_close(secstat_subscription *s);

#ifdef __cplusplus
}
#endif

#endif /* SECSTAT_SECSTAT_H */
