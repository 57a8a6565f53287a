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
#include <nng/supplemental/util/platform.h>

#include "acl.h"
#include "collector.h"
#include "ipc_probe.h"
#include "log.h"
#include "methods.h"
#include "secstat/v1/service.pb-c.h"
#include "snapshot.h"
#include "tls.h"

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
	nng_msg *msg;  /* the request, refilled as the reply */
	nng_pipe pipe; /* the connection it came on */

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

/* A listener and what its callers can prove (acl_transport). */
struct server_listener {
	int id;
	enum acl_transport transport;
	nng_listener l;
	char url[512];
};

struct server {
	struct collector *collector;
	nng_socket sock;
	bool sock_open;
	bool started;
	struct server_security sec;
	struct server_listener listeners[SERVER_LISTENERS_MAX];
	size_t n_listeners;     /* written before server_start() only */
	nng_mtx *listeners_mtx; /* ids change when the watchdog restarts one */
	/* The ipc watchdog (see ipc_watchdog()). */
	nng_thread *watchdog;
	nng_mtx *wd_mtx;
	nng_cv *wd_cv;
	bool wd_stop;
	nng_mtx *acl_mtx;
	struct acl *acl;       /* under acl_mtx; replaced whole on reload */
	atomic_uint pipes;     /* connections, counted by pipe notifications */
	atomic_uint sub_pipes; /* PUB subscribers, the same way */
	atomic_uint_fast64_t refused_pipes;
	/* Denial log rate limit: at most SERVER_DENY_LOG_PER_S a second. */
	atomic_uint_fast64_t deny_second;
	atomic_uint deny_logged;
	atomic_uint deny_suppressed;
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

/* Waits for the next request, without a time limit. */
static void
recv_next(struct server_ctx *x)
{
	x->state = CTX_RECV;
	nng_aio_set_timeout(x->aio, NNG_DURATION_INFINITE);
	nng_ctx_recv(x->ctx, x->aio);
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
	/* A client that stops reading must not hold this context: the
	 * reply is dropped (and the connection closed) after a bound. */
	nng_aio_set_timeout(x->aio, SERVER_SEND_TIMEOUT_MS);
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
		recv_next(x);
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
		recv_next(x);
		return;
	}
	send_reply(x, status);
}

/* Whether the data of `snap` is young enough for x's max_age_ms. */
static bool
young_enough(const struct server_ctx *x, const struct snapshot *snap)
{
	return x->max_age_ms == 0 ||
	       snap->collected_mono_ms + x->max_age_ms >= x->arrival_ms;
}

/* Whether `snap` may answer x now: young enough, and every provider
 * feeding the method has completed a collection (just after start, a
 * request waits for the first one, up to its deadline, rather than get
 * "no collection completed yet"). */
static bool
fresh_enough(const struct server_ctx *x, const struct snapshot *snap)
{
	return !snapshot_reply(snap, (size_t)x->method).pending &&
	       young_enough(x, snap);
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
		reply_snapshot(x, snap, !young_enough(x, snap));
		return;
	}
	snapshot_release(snap);
	x->state = CTX_WAIT;
	nng_aio_set_timeout(x->aio, NNG_DURATION_INFINITE);
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

static enum acl_transport
pipe_transport(struct server *s, nng_pipe p)
{
	int id = nng_listener_id(nng_pipe_listener(p));
	/* Not one of ours: the least trusted transport. */
	enum acl_transport t = ACL_TRANSPORT_TCP;

	nng_mtx_lock(s->listeners_mtx);
	for (size_t i = 0; i < s->n_listeners; i++) {
		if (s->listeners[i].id == id) {
			t = s->listeners[i].transport;
		}
	}
	nng_mtx_unlock(s->listeners_mtx);
	return t;
}

/* Logs a denial, at most SERVER_DENY_LOG_PER_S a second so that a
 * flood of refused requests cannot flood the log. */
static void
log_denial(struct server *s, const struct acl_decision *d, const char *addr,
           const char *method)
{
	uint64_t sec = mono_ns() / 1000000000ULL;
	uint64_t prev = atomic_load(&s->deny_second);

	if (prev != sec &&
	    atomic_compare_exchange_strong(&s->deny_second, &prev, sec)) {
		unsigned n = atomic_exchange(&s->deny_suppressed, 0);

		atomic_store(&s->deny_logged, 0);
		if (n > 0) {
			log_warning("access denied: %u more denials not logged",
			            n);
		}
	}
	if (atomic_fetch_add(&s->deny_logged, 1) >= SERVER_DENY_LOG_PER_S) {
		atomic_fetch_add(&s->deny_suppressed, 1);
		return;
	}
	log_warning("access denied: %s from %s calling %.64s: %s", d->who, addr,
	            method, d->reason);
}

/* The READ_STATS check: who the caller is (transport, peer credentials,
 * the request's Credential) against the current ACL. */
static bool
authorize(struct server_ctx *x, const Secstat__V1__Request *req)
{
	struct server *s = x->s;
	struct acl_peer peer = {0};
	struct acl_decision d;
	char addr[80] = "ipc";
	const char *method =
	    req->method != NULL && req->method[0] != '\0' ? req->method : "-";
	unsigned need =
	    req->method != NULL ? acl_method_rights(req->method) : 0;
	bool ok;

	peer.transport = pipe_transport(s, x->pipe);
	if (peer.transport == ACL_TRANSPORT_IPC) {
		uint64_t uid, gid;

		if (nng_pipe_get_uint64(x->pipe, NNG_OPT_IPC_PEER_UID, &uid) ==
		        0 &&
		    nng_pipe_get_uint64(x->pipe, NNG_OPT_IPC_PEER_GID, &gid) ==
		        0) {
			peer.has_cred = true;
			peer.uid = (uint32_t)uid;
			peer.gid = (uint32_t)gid;
		}
	} else {
		peer.has_addr = tls_pipe_addr(x->pipe, peer.addr, NULL, 0);
	}
	if (req->credential != NULL) {
		peer.client_id = req->credential->client_id != NULL
		                     ? req->credential->client_id
		                     : "";
		peer.token = req->credential->has_token
		                 ? req->credential->token.data
		                 : NULL;
		peer.token_len =
		    req->credential->has_token ? req->credential->token.len : 0;
	}
	nng_mtx_lock(s->acl_mtx);
	ok = acl_check(s->acl, &peer, need, &d);
	nng_mtx_unlock(s->acl_mtx);
	if ((!ok || log_enabled(LOG_DEBUG)) &&
	    peer.transport != ACL_TRANSPORT_IPC) {
		unsigned char ignored[16];
		(void)tls_pipe_addr(x->pipe, ignored, addr, sizeof(addr));
	}
	if (!ok) {
		log_denial(s, &d, addr, method);
	} else if (log_enabled(LOG_DEBUG)) {
		log_debug("access granted: %s from %s calling %.64s", d.who,
		          addr, method);
	}
	return ok;
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
	if (!authorize(x, req)) {
		/* The reason stays in the agent's log: telling an unknown
		 * caller which part of its credential failed helps only an
		 * attacker. */
		reply_error(x, SERVER_ERROR_ACCESS_DENIED,
		            "the caller is not authorized for this method by "
		            "the agent's ACL");
		return;
	}
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
	if (deadline > SERVER_MAX_DEADLINE_MS) {
		deadline = SERVER_MAX_DEADLINE_MS;
	}
	/* Leave the reply time to travel before the client gives up. */
	x->give_up_ms = x->arrival_ms + deadline -
	                (deadline / 10 < 50 ? deadline / 10 : 50);
	x->max_age_ms = req->has_max_age_ms ? req->max_age_ms : 0;
	/* Nothing of `req` is used past this point: the decode buffer is
	 * reused by the next request. */

	{
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
			recv_next(x);
			return;
		}
		x->msg = nng_aio_get_msg(x->aio);
		x->pipe = nng_msg_get_pipe(x->msg);
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
			if (rv == NNG_ETIMEDOUT) {
				/* It is not reading: nothing more will go
				 * through that connection. */
				log_notice("server: closing a connection that "
				           "did not take its reply in %d ms",
				           SERVER_SEND_TIMEOUT_MS);
				nng_pipe_close(x->pipe);
			} else {
				log_debug("server: send: %s", nng_strerror(rv));
			}
		}
		x->state = CTX_RECV;
		recv_next(x);
		return;
	}
}

/* Counts connections; one over the limit is closed before the
 * protocol sees it. nng runs REM_POST for every pipe that got ADD_PRE,
 * closed there or not, so the count stays exact. */
static void
pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct server *s = arg;

	if (ev == NNG_PIPE_EV_REM_POST) {
		atomic_fetch_sub(&s->pipes, 1);
		return;
	}
	if (atomic_fetch_add(&s->pipes, 1) >= s->sec.max_connections) {
		uint64_t n = atomic_fetch_add(&s->refused_pipes, 1);

		/* Log the first and then every 1000th, not each one. */
		if (n % 1000 == 0) {
			log_warning("server: %u connections open, the "
			            "--max-connections limit: refusing more "
			            "(%llu refused so far)",
			            s->sec.max_connections,
			            (unsigned long long)n + 1);
		}
		nng_pipe_close(p);
	}
}

void
server_subscriber_pipe_event(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct server *s = arg;
	struct acl_peer peer = {0};
	struct acl_decision d;
	char addr[80];
	uint64_t uid, gid;
	bool verified, ok;

	if (ev == NNG_PIPE_EV_REM_POST) {
		atomic_fetch_sub(&s->sub_pipes, 1);
		return;
	}
	if (ev != NNG_PIPE_EV_ADD_PRE) {
		return;
	}
	if (atomic_fetch_add(&s->sub_pipes, 1) >= s->sec.max_connections) {
		log_warning("publisher: %u subscribers connected, the "
		            "--max-connections limit: refusing more",
		            s->sec.max_connections);
		nng_pipe_close(p);
		return;
	}
	if (nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_UID, &uid) == 0 &&
	    nng_pipe_get_uint64(p, NNG_OPT_IPC_PEER_GID, &gid) == 0) {
		peer.transport = ACL_TRANSPORT_IPC;
		peer.has_cred = true;
		peer.uid = (uint32_t)uid;
		peer.gid = (uint32_t)gid;
		snprintf(addr, sizeof(addr), "ipc");
		nng_mtx_lock(s->acl_mtx);
		ok = acl_check(s->acl, &peer, 0, &d);
		nng_mtx_unlock(s->acl_mtx);
	} else {
		/* The TLS handshake (client certificate required) is over
		 * before a pipe exists; an unverified TLS pipe cannot occur,
		 * but is refused all the same. */
		if (nng_pipe_get_bool(p, NNG_OPT_TLS_VERIFIED, &verified) ==
		        0 &&
		    !verified) {
			log_warning("publisher: refusing an unverified TLS "
			            "subscriber");
			nng_pipe_close(p);
			return;
		}
		peer.has_addr = tls_pipe_addr(p, peer.addr, addr, sizeof(addr));
		snprintf(d.who, sizeof(d.who), "subscriber");
		nng_mtx_lock(s->acl_mtx);
		ok = peer.has_addr && acl_subscriber_allowed(s->acl, peer.addr);
		nng_mtx_unlock(s->acl_mtx);
		snprintf(d.reason, sizeof(d.reason),
		         "address not on the [subscribers] list");
	}
	if (!ok) {
		log_denial(s, &d, addr, "(subscribe)");
		nng_pipe_close(p);
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
	s->sec = (struct server_security){
	    .tls = {.recv_max = METHODS_MAX_REQUEST_BYTES, .ipc_gid = -1},
	    .max_connections = SERVER_DEFAULT_MAX_CONNECTIONS,
	};
	if ((rv = nng_mtx_alloc(&s->acl_mtx)) != 0 ||
	    (rv = nng_mtx_alloc(&s->listeners_mtx)) != 0 ||
	    (rv = nng_mtx_alloc(&s->wd_mtx)) != 0 ||
	    (rv = nng_cv_alloc(&s->wd_cv, s->wd_mtx)) != 0 ||
	    (s->acl = acl_default(false)) == NULL) {
		log_err("server: out of memory");
		server_destroy(s);
		return -ENOMEM;
	}
	rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ,
	                         METHODS_MAX_REQUEST_BYTES);
	if (rv == 0) {
		rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_PRE, pipe_event,
		                     s);
	}
	if (rv == 0) {
		rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, pipe_event,
		                     s);
	}
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
	enum acl_transport t;
	int rv;

	if (s->n_listeners >= SERVER_LISTENERS_MAX) {
		log_err("server: more than %d listeners", SERVER_LISTENERS_MAX);
		return -E2BIG;
	}
	if ((rv = tls_listen(s->sock, url, &s->sec.tls, &l, &t)) != 0) {
		return rv;
	}
	nng_mtx_lock(s->listeners_mtx);
	s->listeners[s->n_listeners].id = nng_listener_id(l);
	s->listeners[s->n_listeners].transport = t;
	s->listeners[s->n_listeners].l = l;
	snprintf(s->listeners[s->n_listeners].url,
	         sizeof(s->listeners[s->n_listeners].url), "%s", url);
	s->n_listeners++;
	nng_mtx_unlock(s->listeners_mtx);
	log_info("listening on %s", url);
	return 0;
}

void
server_set_security(struct server *s, const struct server_security *sec)
{
	s->sec = *sec;
	if (s->sec.tls.recv_max == 0) {
		s->sec.tls.recv_max = METHODS_MAX_REQUEST_BYTES;
	}
	if (s->sec.max_connections == 0) {
		s->sec.max_connections = SERVER_DEFAULT_MAX_CONNECTIONS;
	}
}

void
server_set_acl(struct server *s, struct acl *acl)
{
	struct acl *old;

	nng_mtx_lock(s->acl_mtx);
	old = s->acl;
	s->acl = acl;
	nng_mtx_unlock(s->acl_mtx);
	acl_free(old);
}

/*
 * nng 1.5.2's ipc listener stops handing over new connections for good
 * once a peer hangs up in the middle of the connection handshake (the
 * error reaches nng's accept loop as if the listener had been closed):
 * one `connect(); close()` by any local user would end the agent's ipc
 * service. The watchdog asks each ipc listener a question every
 * SERVER_IPC_PROBE_MS (ipc_probe()) and, when no answer comes, replaces
 * the listener.
 */
static void
ipc_watchdog(void *arg)
{
	struct server *s = arg;

	nng_mtx_lock(s->wd_mtx);
	while (!s->wd_stop) {
		nng_cv_until(s->wd_cv, nng_clock() + SERVER_IPC_PROBE_MS);
		if (s->wd_stop) {
			break;
		}
		nng_mtx_unlock(s->wd_mtx);
		for (size_t i = 0; i < s->n_listeners; i++) {
			struct server_listener *sl = &s->listeners[i];
			nng_listener l;
			enum acl_transport t;

			if (sl->transport != ACL_TRANSPORT_IPC ||
			    ipc_probe(sl->url, SERVER_IPC_PROBE_TIMEOUT_MS)) {
				continue;
			}
			log_warning("server: %s stopped accepting "
			            "connections: restarting it",
			            sl->url);
			nng_listener_close(sl->l);
			if (tls_listen(s->sock, sl->url, &s->sec.tls, &l, &t) !=
			    0) {
				continue; /* logged; tried again next round */
			}
			nng_mtx_lock(s->listeners_mtx);
			sl->l = l;
			sl->id = nng_listener_id(l);
			nng_mtx_unlock(s->listeners_mtx);
		}
		nng_mtx_lock(s->wd_mtx);
	}
	nng_mtx_unlock(s->wd_mtx);
}

int
server_start(struct server *s)
{
	bool ipc = false;
	int rv;

	for (size_t i = 0; i < SERVER_CONTEXTS; i++) {
		s->ctx[i].state = CTX_RECV;
		recv_next(&s->ctx[i]);
	}
	s->started = true;
	for (size_t i = 0; i < s->n_listeners; i++) {
		ipc = ipc || s->listeners[i].transport == ACL_TRANSPORT_IPC;
	}
	if (ipc &&
	    (rv = nng_thread_create(&s->watchdog, ipc_watchdog, s)) != 0) {
		log_err("server: watchdog: %s", nng_strerror(rv));
		return errno_of(rv);
	}
	return 0;
}

void
server_destroy(struct server *s)
{
	if (s == NULL) {
		return;
	}
	if (s->watchdog != NULL) {
		nng_mtx_lock(s->wd_mtx);
		s->wd_stop = true;
		nng_cv_wake(s->wd_cv);
		nng_mtx_unlock(s->wd_mtx);
		nng_thread_destroy(s->watchdog); /* joins */
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
	acl_free(s->acl);
	if (s->acl_mtx != NULL) {
		nng_mtx_free(s->acl_mtx);
	}
	if (s->listeners_mtx != NULL) {
		nng_mtx_free(s->listeners_mtx);
	}
	if (s->wd_cv != NULL) {
		nng_cv_free(s->wd_cv);
	}
	if (s->wd_mtx != NULL) {
		nng_mtx_free(s->wd_mtx);
	}
	free(s);
}
