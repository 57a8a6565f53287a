/* REP server: nng contexts, aio state machines, cached replies. */
#include "server.h"

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>

#include "collector.h"
#include "log.h"
#include "methods.h"
#include "secstat/v1/service.pb-c.h"
#include "snapshot.h"

enum ctx_state {
	CTX_RECV, /* waiting for a request */
	CTX_WAIT, /* sleeping until a fresh enough snapshot exists */
	CTX_SEND, /* reply handed to nng */
};

/* Reply field numbers written by hand (service.proto). */
#define REPLY_TAG_REQUEST_ID 0x08 /* field 1, varint */
#define REPLY_TAG_STATUS     0x10 /* field 2, varint */
#define REPLY_TAG_MESSAGE    0x1a /* field 3, length-delimited */

struct server_ctx {
	struct server *s;
	nng_ctx ctx;
	nng_aio *aio;
	enum ctx_state state;
	nng_msg *msg; /* the request, refilled as the reply */

	/* The request being served. */
	uint64_t start_ns;
	uint64_t arrival_ms; /* CLOCK_MONOTONIC */
	uint64_t give_up_ms; /* stop waiting for fresh data at this time */
	uint32_t max_age_ms;
	int method;
	bool has_id;
	uint64_t id;

	/* Bump allocator for protobuf-c: reset per request. */
	ProtobufCAllocator alloc;
	size_t used;
	bool exhausted;
	alignas(max_align_t) uint8_t buf[SERVER_DECODE_BYTES];
};

struct server {
	struct collector *collector;
	nng_socket sock;
	bool sock_open;
	bool started;
	struct server_ctx ctx[SERVER_CONTEXTS];
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int
errno_of(int nng_err)
{
	switch (nng_err) {
	case NNG_EADDRINUSE:
		return -EADDRINUSE;
	case NNG_EADDRINVAL:
	case NNG_EINVAL:
		return -EINVAL;
	case NNG_ENOTSUP:
		return -EPROTONOSUPPORT;
	case NNG_EPERM:
		return -EACCES;
	case NNG_ENOMEM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static void *
bump_alloc(void *data, size_t size)
{
	struct server_ctx *x = data;
	const size_t align = alignof(max_align_t);
	size_t off = (x->used + align - 1) & ~(align - 1);

	if (size > sizeof(x->buf) || off > sizeof(x->buf) - size) {
		x->exhausted = true;
		return NULL;
	}
	x->used = off + size;
	return x->buf + off;
}

static void
bump_free(void *data, void *ptr)
{
	/* Everything is released at once when the next request resets the
	 * buffer. */
	(void)data;
	(void)ptr;
}

static size_t
varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Appends Reply fields 2 and 3 (status and message). Protobuf keeps the
 * last value of a repeated scalar field, so these override the ones in
 * cached bytes appended before them. */
static int
append_status(nng_msg *msg, uint32_t status, const char *text)
{
	uint8_t hdr[24];
	size_t n = 0;
	size_t len = strlen(text);
	int rv;

	hdr[n++] = REPLY_TAG_STATUS;
	n += varint_put(hdr + n, status);
	hdr[n++] = REPLY_TAG_MESSAGE;
	n += varint_put(hdr + n, len);
	if ((rv = nng_msg_append(msg, hdr, n)) != 0) {
		return rv;
	}
	return nng_msg_append(msg, text, len);
}

/* Starts the reply: empties the request message (its header, the REP
 * routing, stays), makes room for `size` more bytes in one allocation at
 * most, and writes request_id. */
static int
begin_reply(struct server_ctx *x, size_t size)
{
	uint8_t hdr[11];
	size_t n = 0;
	int rv;

	nng_msg_clear(x->msg);
	if ((rv = nng_msg_reserve(x->msg, sizeof(hdr) + size)) != 0) {
		return rv;
	}
	if (!x->has_id) {
		return 0;
	}
	hdr[n++] = REPLY_TAG_REQUEST_ID;
	n += varint_put(hdr + n, x->id);
	return nng_msg_append(x->msg, hdr, n);
}

static void
send_reply(struct server_ctx *x, uint32_t status)
{
	if (log_enabled(LOG_DEBUG)) {
		log_debug(
		    "request %s%llu: %s -> 0x%08x in %llu us",
		    x->has_id ? "" : "(no id) ",
		    (unsigned long long)(x->has_id ? x->id : 0),
		    x->method >= 0 ? methods_table[x->method].name : "-",
		    status,
		    (unsigned long long)((mono_ns() - x->start_ns) / 1000));
	}
	x->state = CTX_SEND;
	nng_aio_set_msg(x->aio, x->msg);
	x->msg = NULL;
	nng_ctx_send(x->ctx, x->aio);
}

/* A reply built for this request alone: status, message, and the host
 * identity when a snapshot exists. */
static void
reply_error(struct server_ctx *x, uint32_t status, const char *text)
{
	struct snapshot *snap = collector_acquire(x->s->collector);
	int rv;

	rv = begin_reply(x, 24 + strlen(text) +
	                        (snap != NULL ? snap->host_field.len : 0));
	if (rv == 0) {
		rv = append_status(x->msg, status, text);
	}
	if (rv == 0 && snap != NULL) {
		rv = nng_msg_append(x->msg, snap->host_field.data,
		                    snap->host_field.len);
	}
	snapshot_release(snap);
	if (rv != 0) {
		/* Out of memory: the client's deadline reports it. */
		log_warning("server: reply not sent: %s", nng_strerror(rv));
		nng_msg_free(x->msg);
		x->msg = NULL;
		x->state = CTX_RECV;
		nng_ctx_recv(x->ctx, x->aio);
		return;
	}
	send_reply(x, status);
}

/* The snapshot's cached bytes, with a timeout status appended when the
 * data is older than the request accepts. */
static void
reply_snapshot(struct server_ctx *x, struct snapshot *snap, bool too_old)
{
	struct snapshot_bytes b = snapshot_reply(snap, (size_t)x->method);
	uint32_t status = b.status;
	int rv;

	rv = begin_reply(x, b.len + (too_old ? 200 : 0));
	if (rv == 0) {
		rv = nng_msg_append(x->msg, b.data, b.len);
	}
	if (rv == 0 && too_old) {
		char text[160];
		uint64_t now = mono_ns() / 1000000ULL;

		snprintf(
		    text, sizeof(text),
		    "no data younger than max_age_ms %u within the deadline: "
		    "freshest is %llu ms old",
		    x->max_age_ms,
		    (unsigned long long)(now - snap->collected_mono_ms));
		status = METHODS_FWP_E_TIMEOUT;
		rv = append_status(x->msg, status, text);
	}
	snapshot_release(snap);
	if (rv != 0) {
		log_warning("server: reply not sent: %s", nng_strerror(rv));
		nng_msg_free(x->msg);
		x->msg = NULL;
		x->state = CTX_RECV;
		nng_ctx_recv(x->ctx, x->aio);
		return;
	}
	send_reply(x, status);
}

static bool
fresh_enough(const struct server_ctx *x, const struct snapshot *snap)
{
	return x->max_age_ms == 0 ||
	       snap->collected_mono_ms + x->max_age_ms >= x->arrival_ms;
}

/* Serves from the current snapshot if it is fresh enough or time is up;
 * otherwise sleeps one poll period. */
static void
serve_or_wait(struct server_ctx *x)
{
	struct snapshot *snap = collector_acquire(x->s->collector);
	uint64_t now = mono_ns() / 1000000ULL;

	if (snap == NULL) {
		reply_error(x, METHODS_FWP_E_TIMEOUT, "agent is starting");
		return;
	}
	if (fresh_enough(x, snap)) {
		reply_snapshot(x, snap, false);
		return;
	}
	if (now + SERVER_POLL_MS >= x->give_up_ms) {
		reply_snapshot(x, snap, true);
		return;
	}
	snapshot_release(snap);
	x->state = CTX_WAIT;
	nng_sleep_aio(SERVER_POLL_MS, x->aio);
}

/* request_id of bytes that do not decode, when they start with it, so
 * the client can still match the error to its call. */
static void
salvage_request_id(struct server_ctx *x, const uint8_t *p, size_t len)
{
	uint64_t v = 0;

	if (len < 2 || p[0] != REPLY_TAG_REQUEST_ID) {
		return;
	}
	for (size_t i = 1; i < len && i <= 10; i++) {
		v |= (uint64_t)(p[i] & 0x7f) << (7 * (i - 1));
		if ((p[i] & 0x80) == 0) {
			x->has_id = true;
			x->id = v;
			return;
		}
	}
}

static void
handle_request(struct server_ctx *x)
{
	const uint8_t *body = nng_msg_body(x->msg);
	size_t len = nng_msg_len(x->msg);
	Secstat__V1__Request *req;
	uint32_t deadline;
	char text[200];

	x->start_ns = mono_ns();
	x->arrival_ms = x->start_ns / 1000000ULL;
	x->method = -1;
	x->has_id = false;
	x->used = 0;
	x->exhausted = false;

	req = secstat__v1__request__unpack(&x->alloc, len, body);
	if (req == NULL) {
		salvage_request_id(x, body, len);
		reply_error(
		    x, METHODS_FWP_E_INVALID_PARAMETER,
		    x->exhausted
		        ? "malformed request: more than the agent "
		          "decodes per request"
		        : "malformed request: not a secstat.v1.Request");
		return;
	}
	x->has_id = req->has_request_id;
	x->id = req->request_id;
	if (req->method == NULL || req->method[0] == '\0') {
		reply_error(x, METHODS_FWP_E_NOT_FOUND,
		            "unknown method '' (no method given)");
		return;
	}
	x->method = methods_find(req->method);
	if (x->method < 0) {
		snprintf(text, sizeof(text), "unknown method '%.120s'",
		         req->method);
		reply_error(x, METHODS_FWP_E_NOT_FOUND, text);
		return;
	}
	deadline = req->has_deadline_ms && req->deadline_ms > 0
	               ? req->deadline_ms
	               : SERVER_DEFAULT_DEADLINE_MS;
	/* Leave the reply time to travel before the client gives up. */
	x->give_up_ms = x->arrival_ms + deadline -
	                (deadline / 10 < 50 ? deadline / 10 : 50);
	x->max_age_ms = req->has_max_age_ms ? req->max_age_ms : 0;
	/* Nothing of `req` is used past this point: the decode buffer is
	 * reused by the next request. */

	if (x->max_age_ms != 0) {
		struct snapshot *snap = collector_acquire(x->s->collector);
		bool ok = snap != NULL && fresh_enough(x, snap);

		snapshot_release(snap);
		if (!ok) {
			collector_request_refresh(x->s->collector);
		}
	}
	serve_or_wait(x);
}

static void
ctx_cb(void *arg)
{
	struct server_ctx *x = arg;
	int rv = nng_aio_result(x->aio);

	switch (x->state) {
	case CTX_RECV:
		if (rv != 0) {
			if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
				return; /* shutting down */
			}
			log_debug("server: receive: %s", nng_strerror(rv));
			nng_ctx_recv(x->ctx, x->aio);
			return;
		}
		x->msg = nng_aio_get_msg(x->aio);
		handle_request(x);
		return;
	case CTX_WAIT:
		if (rv != 0) {
			nng_msg_free(x->msg); /* shutting down */
			x->msg = NULL;
			return;
		}
		serve_or_wait(x);
		return;
	case CTX_SEND:
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(x->aio));
			if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
				return;
			}
			log_debug("server: send: %s", nng_strerror(rv));
		}
		x->state = CTX_RECV;
		nng_ctx_recv(x->ctx, x->aio);
		return;
	}
}

int
server_create(struct server **sp, struct collector *c)
{
	struct server *s = calloc(1, sizeof(*s));
	int rv;

	*sp = NULL;
	if (s == NULL) {
		return -ENOMEM;
	}
	s->collector = c;
	if ((rv = nng_rep0_open(&s->sock)) != 0) {
		log_err("server: cannot open REP socket: %s", nng_strerror(rv));
		free(s);
		return errno_of(rv);
	}
	s->sock_open = true;
	rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ,
	                         METHODS_MAX_REQUEST_BYTES);
	if (rv != 0) {
		log_err("server: %s: %s", NNG_OPT_RECVMAXSZ, nng_strerror(rv));
		server_destroy(s);
		return errno_of(rv);
	}
	for (size_t i = 0; i < SERVER_CONTEXTS; i++) {
		struct server_ctx *x = &s->ctx[i];

		x->s = s;
		x->alloc = (ProtobufCAllocator){.alloc = bump_alloc,
		                                .free = bump_free,
		                                .allocator_data = x};
		if ((rv = nng_aio_alloc(&x->aio, ctx_cb, x)) != 0 ||
		    (rv = nng_ctx_open(&x->ctx, s->sock)) != 0) {
			log_err("server: context %zu: %s", i, nng_strerror(rv));
			server_destroy(s);
			return errno_of(rv);
		}
	}
	*sp = s;
	return 0;
}

int
server_listen(struct server *s, const char *url)
{
	nng_listener l;
	int rv;

	if ((rv = nng_listener_create(&l, s->sock, url)) != 0 ||
	    (rv = nng_listener_start(l, 0)) != 0) {
		log_err("server: cannot listen on %s: %s", url,
		        nng_strerror(rv));
		return errno_of(rv);
	}
	log_info("listening on %s", url);
	return 0;
}

int
server_start(struct server *s)
{
	for (size_t i = 0; i < SERVER_CONTEXTS; i++) {
		s->ctx[i].state = CTX_RECV;
		nng_ctx_recv(s->ctx[i].ctx, s->ctx[i].aio);
	}
	s->started = true;
	return 0;
}

void
server_destroy(struct server *s)
{
	if (s == NULL) {
		return;
	}
	/* Stop every context's aio while the socket is still open: this
	 * waits for each callback, including any nng_ctx_send() it is still
	 * inside, and refuses new operations (their callbacks see
	 * NNG_ECANCELED and return). Only then close the socket, so nng
	 * never tears it down under a call of ours (nng 1.5 frees the
	 * protocol state while a concurrent nng_ctx_send() may still hold
	 * its lock). Closing removes the listeners and ipc socket files. */
	for (size_t i = 0; i < SERVER_CONTEXTS; i++) {
		if (s->ctx[i].aio != NULL) {
			nng_aio_stop(s->ctx[i].aio);
		}
	}
	if (s->sock_open) {
		nng_close(s->sock);
	}
	for (size_t i = 0; i < SERVER_CONTEXTS; i++) {
		struct server_ctx *x = &s->ctx[i];

		if (x->msg != NULL) {
			nng_msg_free(x->msg);
		}
		if (x->aio != NULL) {
			nng_aio_free(x->aio);
		}
	}
	free(s);
}
