/*
 * The request/reply server: one nng REP socket with every --listen URL as
 * a listener, and SERVER_CONTEXTS contexts, each an aio-driven state
 * machine (receive, handle, send, receive again). Callbacks never block:
 * a request that wants fresher data than the current snapshot asks the
 * collector for a refresh and re-checks on a timer until its deadline.
 * A reply is the request's own message buffer refilled with the
 * request_id and the snapshot's cached bytes.
 */
#ifndef SECSTAT_AGENT_SERVER_H
#define SECSTAT_AGENT_SERVER_H

#include <stdbool.h>

#include "tls.h"

struct acl;
struct collector;
struct server;

#define SERVER_CONTEXTS 64
/* Per-context buffer the request is decoded into (no malloc per
 * request); a request needing more is answered as malformed. */
#define SERVER_DECODE_BYTES 8192
/* Re-check period while waiting for a fresh snapshot. */
#define SERVER_POLL_MS 5
/* Request.deadline_ms when absent or 0. */
#define SERVER_DEFAULT_DEADLINE_MS 2000
/* Longest wait a request may ask for (a larger deadline_ms is cut). */
#define SERVER_MAX_DEADLINE_MS 60000
/* A reply the client does not take within this is dropped and its
 * connection closed. */
#define SERVER_SEND_TIMEOUT_MS 2000
#define SERVER_LISTENERS_MAX   32
/* The ipc listener watchdog (server.c, ipc_watchdog()): probe period
 * and how long the listener's answer may take (generous: a false alarm
 * replaces a working listener, under valgrind or a loaded host too). */
#define SERVER_IPC_PROBE_MS         1000
#define SERVER_IPC_PROBE_TIMEOUT_MS 3000
/* Default of --max-connections. Memory is bounded by about this many
 * times (the request size limit + nng's per-connection state). */
#define SERVER_DEFAULT_MAX_CONNECTIONS 2048
/* Access denials logged per second at most. */
#define SERVER_DENY_LOG_PER_S 20
/* Wire status ERROR_ACCESS_DENIED. */
#define SERVER_ERROR_ACCESS_DENIED 5u

/* Transport policy and limits; see tls.h. */
struct server_security {
	struct tls_policy tls; /* strings must outlive the server */
	unsigned max_connections;
};

/* Opens the socket. `c` must outlive the server. */
int server_create(struct server **sp, struct collector *c);

/* Sets the transport policy and limits of listeners added after this
 * call. Without it: no TLS, loopback-only plain tcp://, the default
 * limits. */
void server_set_security(struct server *s, const struct server_security *sec);

/* Replaces the ACL (taking ownership; the previous one is freed). Safe
 * while requests are served. Until the first call the server holds
 * acl_default(false): root and the agent's own user over ipc:// only. */
void server_set_acl(struct server *s, struct acl *acl);

/*
 * Admission of PUB subscribers (nng_pipe_cb for NNG_PIPE_EV_ADD_PRE and
 * _REM_POST on the publisher's socket, `arg` the server). A subscriber
 * sends nothing, so it cannot present a credential: it is admitted by
 * what the connection proves. ipc://: a peer uid or gid with any right in
 * the ACL. tls+tcp:// (the certificate already verified against the CA)
 * and plain tcp://: a peer address on the ACL's [subscribers] list
 * (loopback only without one). At most max_connections subscribers.
 */
void server_subscriber_pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg);

/* Adds a listener and starts it; logs "listening on URL". Returns 0 or
 * a negative errno-style value (the nng error is logged). */
int server_listen(struct server *s, const char *url);

/* Starts every context receiving. */
int server_start(struct server *s);

/* Closes the socket (and with it the listeners; ipc socket files are
 * removed), waits for every callback to finish and frees everything.
 * NULL is a no-op. */
void server_destroy(struct server *s);

#endif /* SECSTAT_AGENT_SERVER_H */
