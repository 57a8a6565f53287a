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

/* Opens the socket. `c` must outlive the server. */
int server_create(struct server **sp, struct collector *c);

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
