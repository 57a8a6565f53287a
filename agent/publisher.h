/*
 * The publisher: one nng PUB socket with every --publish URL as a
 * listener, and one thread that samples the collector's current snapshot
 * every publish interval. Per family (ipsec, ike, iscsi) it sends, under
 * the topic "<family>/<hostname>/", a full message on the first sample,
 * after a status change and at least every full_every messages; a delta
 * of only the changed and removed fields (diffed with the descriptors,
 * no per-field code) when something changed; a heartbeat when nothing
 * changed for heartbeat_ms. Each message is encoded once, whatever the
 * number of subscribers. nng PUB never blocks: a subscriber whose queue
 * (send_buffer messages) is full loses messages, which the per-topic
 * sequence numbers make visible; the agent's memory does not grow.
 * docs/protocol.md, "Streaming".
 */
#ifndef SECSTAT_AGENT_PUBLISHER_H
#define SECSTAT_AGENT_PUBLISHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>
#include <protobuf-c/protobuf-c.h>

#include "arena.h"

struct collector;
struct hostinfo;
struct publisher;

struct publisher_params {
	char *const *urls; /* --publish URL (listeners) */
	size_t n_urls;
	unsigned interval_ms;  /* sample period */
	unsigned heartbeat_ms; /* longest silence per topic */
	unsigned full_every;   /* a full message at least every N */
	unsigned send_buffer;  /* per-subscriber queue (NNG_OPT_SENDBUF) */
	/* Listener policy (tls.h: TLS, loopback check, size limit); NULL:
	 * plain nng_listen(). */
	const struct tls_policy *tls;
	/* Called for NNG_PIPE_EV_ADD_PRE and _REM_POST of every subscriber
	 * connection (admission control, server.h); NULL: none. */
	nng_pipe_cb pipe_cb;
	void *pipe_arg;
};

/* Opens the socket and its listeners ("publishing on URL" logged).
 * `c` and `host` must outlive the publisher. Returns 0 or a negative
 * errno. */
int publisher_create(struct publisher **pp, struct collector *c,
                     const struct hostinfo *host,
                     const struct publisher_params *params);

/* Starts the sampling thread. */
int publisher_start(struct publisher *p);

/* Stops the thread, closes the socket, frees. NULL is a no-op. */
void publisher_destroy(struct publisher *p);

/*
 * The ON_CHANGE diff of two messages of one type: *changed receives the
 * fields of `cur` that are new or differ from `prev` (a list that differs
 * in any way whole), *removed the fields present in `prev` and absent in
 * `cur` (a singular message removed whole is an empty message). Either is
 * NULL when empty. Results live in `a` and may point into `cur`.
 */
void publisher_diff(struct arena *a, const ProtobufCMessage *prev,
                    const ProtobufCMessage *cur, ProtobufCMessage **changed,
                    ProtobufCMessage **removed);

#endif /* SECSTAT_AGENT_PUBLISHER_H */
