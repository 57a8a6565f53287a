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
 *     RPC_E_VERSION_MISMATCH    the peer is not a secstat agent (not REP)
 *     RPC_E_ACCESS_DENIED       the transport refused the connection
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
 * with calls on the same session. Nothing in this library calls back into
 * the application.
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
#define SECSTAT_METHOD_IPSEC_GET_STATISTICS0  "IPsecGetStatistics0"
#define SECSTAT_METHOD_IPSEC_GET_STATISTICS1  "IPsecGetStatistics1"
#define SECSTAT_METHOD_IKEEXT_GET_STATISTICS0 "IkeextGetStatistics0"
#define SECSTAT_METHOD_IKEEXT_GET_STATISTICS1 "IkeextGetStatistics1"
#define SECSTAT_METHOD_ISCSI_GET_STATISTICS   "IscsiGetStatistics"
#define SECSTAT_METHOD_GET_HOST_INFO          "GetHostInfo"
#define SECSTAT_METHOD_GET_CAPABILITIES       "GetCapabilities"

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
 * opts), RPC_E_INVALID_PARAMETER (bad URL or scheme),
 * RPC_E_SERVER_DIED_DNE (not running, refused, unreachable or not
 * connected within connect_timeout_ms), RPC_E_ACCESS_DENIED,
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

#ifdef __cplusplus
}
#endif

#endif /* SECSTAT_SECSTAT_H */
