/* Sessions: one REQ socket per agent, one nng context per call. */
#include "codec.h"
#include "dial_failures.h"
#include "error.h"
#include "tls_client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include <secstat/secstat.h>

/* Redial backoff once a connection is lost. */
#define RECONNECT_MIN_MS 100
#define RECONNECT_MAX_MS 2000

enum call_state {
	CALL_SENDING,   /* request not yet handed to a connection */
	CALL_SENT,      /* on the wire; reply receive not started yet */
	CALL_RECEIVING, /* waiting in nng_ctx_recv() */
};

/* A call in flight, linked into its session so that the loss of the
 * connection can fail it at once. Lives on the caller's stack. */
struct call {
	struct call *next;
	struct call *prev;
	nng_aio *aio;
	enum call_state state;
	bool disconnected;
};

struct secstat_session {
	nng_socket sock;
	nng_dialer dialer;
	char *url;
	uint32_t timeout_ms;
	uint32_t max_age_ms;
	char *client_id; /* Credential, or NULL */
	char *token;
	nng_mtx *mtx;
	struct call *calls; /* under mtx */
	uint64_t next_id;   /* under mtx */
};

void
secstat_session_options_init(struct secstat_session_options *opts)
{
	if (opts != NULL) {
		memset(opts, 0, sizeof(*opts));
		opts->size = sizeof(*opts);
	}
}

/* Copies the caller's options, whatever the version they were built
 * with: fields beyond its `size` keep their defaults, and bytes beyond
 * what this library knows must be zero (a newer caller asking for
 * something this version cannot do must not be silently ignored). */
static int
options_load(struct secstat_session_options *o,
             const struct secstat_session_options *user)
{
	size_t min = offsetof(struct secstat_session_options, timeout_ms) +
	             sizeof(uint32_t);

	secstat_session_options_init(o);
	if (user == NULL) {
		return 0;
	}
	if (user->size < min) {
		return -EINVAL;
	}
	if (user->size > sizeof(*o)) {
		const unsigned char *extra =
		    (const unsigned char *)user + sizeof(*o);
		for (size_t i = 0; i < user->size - sizeof(*o); i++) {
			if (extra[i] != 0) {
				return -EINVAL;
			}
		}
	}
	memcpy(o, user, user->size < sizeof(*o) ? user->size : sizeof(*o));
	o->size = sizeof(*o);
	if ((o->flags & ~SECSTAT_SESSION_NONBLOCK) != 0) {
		return -EINVAL;
	}
	return 0;
}

static void
session_free(secstat_session *s)
{
	if (s->token != NULL) {
		memset(s->token, 0, strlen(s->token));
	}
	free(s->token);
	free(s->client_id);
	if (s->mtx != NULL) {
		nng_mtx_free(s->mtx);
	}
	free(s->url);
	free(s);
}

const char *
secstat_default_url(void)
{
	const char *env = getenv(SECSTAT_ENV_SERVER);

	return env != NULL && *env != '\0' ? env : SECSTAT_DEFAULT_URL;
}

const char *
secstat_version(void)
{
	return SECSTAT_VERSION;
}

/* NNG_PIPE_EV_REM_POST: the connection is gone. Every request already on
 * it will never be answered there (REQ would silently resend it on the
 * next connection, which could run it twice), so fail those calls now
 * rather than at their timeout. Runs on an nng thread; must not block. */
static void
pipe_removed(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	secstat_session *s = arg;

	(void)pipe;
	(void)ev;
	nng_mtx_lock(s->mtx);
	for (struct call *c = s->calls; c != NULL; c = c->next) {
		if (c->state == CALL_SENDING) {
			continue;
		}
		c->disconnected = true;
		if (c->state == CALL_RECEIVING) {
			nng_aio_cancel(c->aio);
		}
	}
	nng_mtx_unlock(s->mtx);
}

/* The first dial blocks inside nng without a time limit (a TCP SYN to a
 * silent host waits minutes), so it runs on its own thread while
 * session_dial() waits for it with a bound. */
struct dial {
	nng_dialer dialer;
	nng_mtx *mtx;
	nng_cv *cv;
	bool done;
	int rv;
};

static void
dial_thread(void *arg)
{
	struct dial *d = arg;
	int rv = nng_dialer_start(d->dialer, 0);

	nng_mtx_lock(d->mtx);
	d->rv = rv;
	d->done = true;
	nng_cv_wake(d->cv);
	nng_mtx_unlock(d->mtx);
}

/* Returns 0 or an nng error; NNG_ETIMEDOUT when not connected within
 * `timeout_ms`. On error the caller closes the socket, which also ends
 * a dial still under way. */
static int
session_dial(secstat_session *s, uint32_t timeout_ms)
{
	struct dial d = {.dialer = s->dialer};
	nng_thread *thr = NULL;
	nng_time deadline = nng_clock() + timeout_ms;
	int rv;

	if ((rv = nng_mtx_alloc(&d.mtx)) != 0) {
		return rv;
	}
	if ((rv = nng_cv_alloc(&d.cv, d.mtx)) != 0) {
		nng_mtx_free(d.mtx);
		return rv;
	}
	if ((rv = nng_thread_create(&thr, dial_thread, &d)) != 0) {
		goto out;
	}
	nng_mtx_lock(d.mtx);
	while (!d.done) {
		if (nng_cv_until(d.cv, deadline) == NNG_ETIMEDOUT) {
			break;
		}
	}
	rv = d.done ? d.rv : NNG_ETIMEDOUT;
	nng_mtx_unlock(d.mtx);
	if (rv == NNG_ETIMEDOUT) {
		/* Ends the blocking dial so that the thread can be joined. */
		nng_dialer_close(s->dialer);
	}
	nng_thread_destroy(thr);
out:
	nng_cv_free(d.cv);
	nng_mtx_free(d.mtx);
	return rv;
}

uint32_t
secstat_session_open(secstat_session **sp, const char *url,
                     const struct secstat_session_options *opts)
{
	struct secstat_session_options o;
	secstat_session *s;
	uint32_t status;
	int rv;

	if (sp == NULL) {
		return ERROR_INVALID_PARAMETER;
	}
	*sp = NULL;
	if ((rv = options_load(&o, opts)) != 0) {
		return error_from_errno(rv);
	}
	if (url == NULL) {
		url = secstat_default_url();
	}
	if (o.timeout_ms == 0) {
		o.timeout_ms = SECSTAT_DEFAULT_TIMEOUT_MS;
	}
	if (o.connect_timeout_ms == 0) {
		o.connect_timeout_ms = o.timeout_ms;
	}
	/* A secret never goes over a transport that does not protect it. */
	if ((o.client_id != NULL || o.token != NULL) &&
	    (!tls_client_url_is_tls(url) || o.client_id == NULL ||
	     o.token == NULL)) {
		return ERROR_INVALID_PARAMETER;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->url = strdup(url)) == NULL) {
		free(s);
		return error_from_errno(-ENOMEM);
	}
	s->timeout_ms = o.timeout_ms;
	s->max_age_ms = o.max_age_ms;
	if (o.client_id != NULL &&
	    ((s->client_id = strdup(o.client_id)) == NULL ||
	     (s->token = strdup(o.token)) == NULL)) {
		session_free(s);
		return error_from_errno(-ENOMEM);
	}
	if ((rv = nng_mtx_alloc(&s->mtx)) != 0) {
		session_free(s);
		return error_from_nng(rv, ERROR_STAGE_DIAL);
	}
	if ((rv = nng_req0_open(&s->sock)) != 0) {
		session_free(s);
		return error_from_nng(rv, ERROR_STAGE_DIAL);
	}
	/* No resend: a request must reach the agent at most once, and a
	 * slow answer is reported as a timeout, not retried. */
	if ((rv = nng_socket_set_ms(s->sock, NNG_OPT_REQ_RESENDTIME,
	                            NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ,
	                              SECSTAT_REPLY_MAX_BYTES)) != 0 ||
	    (rv = nng_socket_set_ms(s->sock, NNG_OPT_RECONNMINT,
	                            RECONNECT_MIN_MS)) != 0 ||
	    (rv = nng_socket_set_ms(s->sock, NNG_OPT_RECONNMAXT,
	                            RECONNECT_MAX_MS)) != 0 ||
	    (rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, pipe_removed,
	                          s)) != 0 ||
	    (rv = nng_dialer_create(&s->dialer, s->sock, url)) != 0) {
		goto fail;
	}
	/* The transport reads its own copy of the limit. */
	(void)nng_dialer_set_size(s->dialer, NNG_OPT_RECVMAXSZ,
	                          SECSTAT_REPLY_MAX_BYTES);
	if (tls_client_url_is_tls(url) &&
	    (rv = tls_client_setup(s->dialer, url, o.tls_ca_file,
	                           o.tls_cert_file, o.tls_key_file,
	                           o.tls_server_name)) != 0) {
		nng_close(s->sock);
		session_free(s);
		return error_from_errno(rv);
	}
	if ((o.flags & SECSTAT_SESSION_NONBLOCK) != 0) {
		rv = nng_dialer_start(s->dialer, NNG_FLAG_NONBLOCK);
	} else {
		rv = session_dial(s, o.connect_timeout_ms);
	}
	if (rv != 0) {
		goto fail;
	}
	*sp = s;
	return ERROR_SUCCESS;

fail:
	status = dial_error_status(rv, tls_client_url_is_tls(url));
	nng_close(s->sock);
	session_free(s);
	return status;
}

void
secstat_session_close(secstat_session *s)
{
	if (s == NULL) {
		return;
	}
	/* Waits for the pipes, and so for pipe_removed(), to finish. */
	nng_close(s->sock);
	session_free(s);
}

const char *
secstat_session_url(const secstat_session *s)
{
	return s != NULL ? s->url : NULL;
}

static void
call_link(secstat_session *s, struct call *c)
{
	c->prev = NULL;
	c->next = s->calls;
	if (s->calls != NULL) {
		s->calls->prev = c;
	}
	s->calls = c;
}

static void
call_unlink(secstat_session *s, struct call *c)
{
	if (c->prev != NULL) {
		c->prev->next = c->next;
	} else {
		s->calls = c->next;
	}
	if (c->next != NULL) {
		c->next->prev = c->prev;
	}
}

static nng_duration
remaining_ms(nng_time deadline)
{
	nng_time now = nng_clock();

	/* At least 1 ms: 0 would mean "no wait" and -1 "forever". */
	return deadline > now ? (nng_duration)(deadline - now) : 1;
}

uint32_t
secstat_session_call(secstat_session *s, const char *method,
                     Secstat__V1__Reply **reply)
{
	struct call c = {.state = CALL_SENDING};
	nng_ctx ctx;
	nng_msg *msg = NULL;
	nng_time deadline;
	uint64_t id;
	uint32_t status;
	Secstat__V1__Reply *r = NULL;
	int rv;

	if (reply == NULL) {
		return ERROR_INVALID_PARAMETER;
	}
	*reply = NULL;
	if (s == NULL || method == NULL || *method == '\0') {
		return ERROR_INVALID_PARAMETER;
	}
	deadline = nng_clock() + s->timeout_ms;
	if ((rv = nng_ctx_open(&ctx, s->sock)) != 0) {
		return error_from_nng(rv, ERROR_STAGE_SEND);
	}
	if ((rv = nng_aio_alloc(&c.aio, NULL, NULL)) != 0) {
		nng_ctx_close(ctx);
		return error_from_nng(rv, ERROR_STAGE_SEND);
	}

	nng_mtx_lock(s->mtx);
	id = ++s->next_id;
	call_link(s, &c);
	nng_mtx_unlock(s->mtx);

	if ((rv = codec_request_pack_cred(id, method, s->timeout_ms,
	                                  s->max_age_ms, s->client_id, s->token,
	                                  &msg)) != 0) {
		status = error_from_errno(rv);
		goto out;
	}
	nng_aio_set_msg(c.aio, msg);
	nng_aio_set_timeout(c.aio, remaining_ms(deadline));
	nng_ctx_send(ctx, c.aio);
	nng_aio_wait(c.aio);
	if ((rv = nng_aio_result(c.aio)) != 0) {
		nng_msg_free(msg); /* still ours when the send failed */
		status = error_from_nng(rv, ERROR_STAGE_SEND);
		goto out;
	}

	nng_mtx_lock(s->mtx);
	c.state = CALL_SENT;
	nng_mtx_unlock(s->mtx);

	nng_aio_set_timeout(c.aio, remaining_ms(deadline));
	nng_ctx_recv(ctx, c.aio);

	/* A connection lost between the send and here was flagged but
	 * could not cancel a receive that did not exist yet. */
	nng_mtx_lock(s->mtx);
	c.state = CALL_RECEIVING;
	if (c.disconnected) {
		nng_aio_cancel(c.aio);
	}
	nng_mtx_unlock(s->mtx);

	nng_aio_wait(c.aio);
	rv = nng_aio_result(c.aio);
	if (rv != 0) {
		bool lost;

		nng_mtx_lock(s->mtx);
		lost = c.disconnected;
		nng_mtx_unlock(s->mtx);
		status = lost ? RPC_E_DISCONNECTED
		              : error_from_nng(rv, ERROR_STAGE_RECV);
		goto out;
	}
	msg = nng_aio_get_msg(c.aio);
	rv = codec_reply_unpack(nng_msg_body(msg), nng_msg_len(msg), &r);
	nng_msg_free(msg);
	if (rv == 0) {
		rv = codec_reply_check(r, id, method);
	}
	if (rv != 0) {
		status = error_from_errno(rv);
		goto out;
	}
	status = r->status;
	*reply = r;
	r = NULL;

out:
	nng_mtx_lock(s->mtx);
	call_unlink(s, &c);
	nng_mtx_unlock(s->mtx);
	if (r != NULL) {
		secstat__v1__reply__free_unpacked(r, NULL);
	}
	nng_ctx_close(ctx);
	nng_aio_free(c.aio);
	return status;
}

void
secstat_reply_free(Secstat__V1__Reply *reply)
{
	if (reply != NULL) {
		secstat__v1__reply__free_unpacked(reply, NULL);
	}
}

uint32_t
secstat_ipsec_get_statistics0(secstat_session *s, Secstat__V1__Reply **reply)
{
	return secstat_session_call(s, SECSTAT_METHOD_IPSEC_GET_STATISTICS0,
	                            reply);
}

uint32_t
secstat_ipsec_get_statistics1(secstat_session *s, Secstat__V1__Reply **reply)
{
	return secstat_session_call(s, SECSTAT_METHOD_IPSEC_GET_STATISTICS1,
	                            reply);
}

uint32_t
secstat_ikeext_get_statistics0(secstat_session *s, Secstat__V1__Reply **reply)
{
	return secstat_session_call(s, SECSTAT_METHOD_IKEEXT_GET_STATISTICS0,
	                            reply);
}

uint32_t
secstat_ikeext_get_statistics1(secstat_session *s, Secstat__V1__Reply **reply)
{
	return secstat_session_call(s, SECSTAT_METHOD_IKEEXT_GET_STATISTICS1,
	                            reply);
}

uint32_t
secstat_iscsi_get_statistics(secstat_session *s, Secstat__V1__Reply **reply)
{
	return secstat_session_call(s, SECSTAT_METHOD_ISCSI_GET_STATISTICS,
	                            reply);
}

uint32_t
secstat_get_host_info(secstat_session *s, Secstat__V1__Reply **reply)
{
	return secstat_session_call(s, SECSTAT_METHOD_GET_HOST_INFO, reply);
}

uint32_t
secstat_get_capabilities(secstat_session *s, Secstat__V1__Reply **reply)
{
	return secstat_session_call(s, SECSTAT_METHOD_GET_CAPABILITIES, reply);
}

uint32_t
secstat_list_security_associations(secstat_session *s,
                                   Secstat__V1__Reply **reply)
{
	return secstat_session_call(
	    s, SECSTAT_METHOD_LIST_SECURITY_ASSOCIATIONS, reply);
}

uint32_t
secstat_relay_get_hosts(secstat_session *s, Secstat__V1__Reply **reply)
{
	return secstat_session_call(s, SECSTAT_METHOD_RELAY_GET_HOSTS, reply);
}
