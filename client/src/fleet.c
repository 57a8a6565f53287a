/*
 * Fleets: one REQ socket per agent, all dialled at once and kept open;
 * a query is one aio state machine per host (send, receive, decode) with
 * at most max_parallel in flight, then the aggregate in host order.
 */
#include "aggregate.h"
#include "codec.h"
#include "dial_failures.h"
#include "tls_client.h"
#include "error.h"
#include "model.h"

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/util/platform.h>

#include <secstat/secstat.h>

#define RECONNECT_MIN_MS   100
#define RECONNECT_MAX_MS   2000
#define PROGRESS_PERIOD_MS 50
/* How often a query looks at the dialers of hosts it is still waiting
 * to connect to (one nng statistics snapshot: about 6 ms for 1,000). */
#define DIAL_CHECK_MS  100
#define HOSTS_LINE_MAX 4096

enum host_state {
	HOST_IDLE,      /* not part of the running query (or not yet) */
	HOST_SENDING,   /* request handed to nng_ctx_send() */
	HOST_RECEIVING, /* waiting for the reply */
	HOST_DONE,
};

struct host {
	secstat_fleet *f;
	struct secstat_fleet_host pub;
	char *url;
	char *name;
	char *pub_url;
	char **tags;
	size_t n_tags;

	nng_socket sock;
	nng_dialer dialer;
	nng_ctx ctx;
	nng_aio *aio;
	uint32_t open_status; /* ERROR_SUCCESS once the socket exists */

	/* The running query; state and disconnected under `mtx`, shared
	 * with the pipe callback. One lock per host: a fleet-wide lock taken
	 * by every completion serialises nng's threads. */
	nng_mtx *mtx;
	enum host_state state;
	bool disconnected;
	/* Connections up now (pipe events), and why the last query could
	 * not reach the host (0: it could): such a host, still not
	 * connected, fails at once with that status instead of costing
	 * every query its deadline (its dialer keeps retrying in the
	 * background). */
	atomic_int pipes;
	uint32_t unreachable;
	/* The dialer's failed attempts when the query thread last looked
	 * (fleet_check_dials()), valid unless a connection came up since
	 * (dial_baseline_stale, set by pipe_added()). dial_status, under
	 * mtx: the failure that ended the running query's send. */
	struct dial_failures dial_seen;
	atomic_bool dial_baseline_stale;
	uint32_t dial_status;
	uint64_t id;
	nng_time started;
	nng_time deadline;
	uint32_t status;
	Secstat__V1__Reply *reply;
	uint32_t latency_us;
};

struct secstat_fleet {
	struct host *hosts;
	size_t n;
	uint32_t timeout_ms;
	uint32_t max_parallel;
	uint32_t max_age_ms;
	/* Transport security and credential (copies; NULL: none). */
	char *tls_ca, *tls_cert, *tls_key, *tls_server_name;
	char *client_id, *token;

	nng_mtx *query_mtx; /* one query at a time */
	nng_mtx *mtx; /* with cv: the querying thread waits for all_done */
	nng_cv *cv;
	bool all_done;
	const char *method; /* of the running query */
	atomic_size_t next; /* next host to start */
	atomic_size_t done;
	uint64_t next_id;
};

struct secstat_fleet_result {
	size_t n;
	size_t ok;
	uint32_t *status;
	uint32_t *latency_us;
	Secstat__V1__Reply **reply;
	Secstat__V1__Reply *aggregate;
	Secstat__V1__FleetAggregate *summary;
};

void
secstat_fleet_options_init(struct secstat_fleet_options *opts)
{
	if (opts != NULL) {
		memset(opts, 0, sizeof(*opts));
		opts->size = sizeof(*opts);
	}
}

static int
options_load(struct secstat_fleet_options *o,
             const struct secstat_fleet_options *user)
{
	secstat_fleet_options_init(o);
	if (user == NULL) {
		goto defaults;
	}
	if (user->size < offsetof(struct secstat_fleet_options, timeout_ms) +
	                     sizeof(uint32_t)) {
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
	if (o->flags != 0) {
		return -EINVAL;
	}
defaults:
	if (o->timeout_ms == 0) {
		o->timeout_ms = SECSTAT_FLEET_DEFAULT_TIMEOUT_MS;
	}
	if (o->max_parallel == 0) {
		o->max_parallel = SECSTAT_FLEET_DEFAULT_PARALLEL;
	}
	return 0;
}

/* ---- the per-host state machine ---- */

static void host_cb(void *arg);
static struct host *host_start(struct host *h);

/* The connection of host h is gone: a request on it will never be
 * answered there, and REQ would send it again on the next connection,
 * running it twice. Fail the call instead. Runs on an nng thread. */
static void
pipe_removed(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	struct host *h = arg;

	(void)pipe;
	(void)ev;
	atomic_fetch_sub(&h->pipes, 1);
	nng_mtx_lock(h->mtx);
	if (h->state == HOST_RECEIVING) {
		h->disconnected = true;
		nng_aio_cancel(h->aio);
	} else if (h->state == HOST_SENDING) {
		/* The send may already be on this connection. */
		h->disconnected = true;
	}
	nng_mtx_unlock(h->mtx);
}

/* nng pairs REM_POST with ADD_PRE: a pipe it rejects (a peer that is
 * not a REP socket) gets no ADD_POST but is removed all the same, so the
 * count follows ADD_PRE, and ADD_POST marks a connection that works. */
static void
pipe_added(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	struct host *h = arg;

	(void)pipe;
	if (ev == NNG_PIPE_EV_ADD_PRE) {
		atomic_fetch_add(&h->pipes, 1);
	} else {
		/* Failures before it say nothing about the next one. */
		atomic_store(&h->dial_baseline_stale, true);
	}
}

static nng_duration
remaining_ms(nng_time deadline)
{
	nng_time now = nng_clock();

	return deadline > now ? (nng_duration)(deadline - now) : 1;
}

/* Starts `h` and every host after it that finishes at once (a URL that
 * cannot be used): a loop, not a recursion, whatever their number. */
static void
host_run(struct host *h)
{
	while (h != NULL) {
		h = host_start(h);
	}
}

/* The statuses that say no connection could be made, which the next
 * query repeats at once while the host is still not connected. */
static bool
status_is_unreachable(uint32_t status)
{
	return status == RPC_E_SERVER_DIED_DNE ||
	       status == RPC_E_ACCESS_DENIED ||
	       status == RPC_E_VERSION_MISMATCH;
}

/* Records the outcome of host h; returns the next waiting host, which
 * the caller starts (host_run()), or NULL. */
static struct host *
host_finish(struct host *h, uint32_t status, Secstat__V1__Reply *reply)
{
	secstat_fleet *f = h->f;
	struct host *next = NULL;
	nng_time now = nng_clock();
	size_t idx;

	h->status = status;
	h->reply = reply;
	h->latency_us = (uint32_t)((now - h->started) * 1000u);
	h->unreachable = status_is_unreachable(status) ? status : 0;

	nng_mtx_lock(h->mtx);
	h->state = HOST_DONE;
	nng_mtx_unlock(h->mtx);
	if ((idx = atomic_fetch_add(&f->next, 1)) < f->n) {
		next = &f->hosts[idx];
	}
	/* Only the last one wakes the querying thread (which polls for
	 * progress on its own): a wake per host would cost a context switch
	 * per host. */
	if (atomic_fetch_add(&f->done, 1) + 1 == f->n) {
		nng_mtx_lock(f->mtx);
		f->all_done = true;
		nng_cv_wake(f->cv);
		nng_mtx_unlock(f->mtx);
	}
	return next;
}

/* Sends host h's request; returns the next host to start when h
 * finished at once, else NULL (its callback carries on). */
static struct host *
host_start(struct host *h)
{
	secstat_fleet *f = h->f;
	nng_msg *msg = NULL;
	int rv;

	h->started = nng_clock();
	h->deadline = h->started + f->timeout_ms;
	h->reply = NULL;
	if (h->open_status != ERROR_SUCCESS) {
		return host_finish(h, h->open_status, NULL);
	}
	if (h->unreachable != 0 && atomic_load(&h->pipes) == 0) {
		return host_finish(h, h->unreachable, NULL);
	}
	if ((rv = codec_request_pack_cred(
	         h->id, f->method, f->timeout_ms, f->max_age_ms,
	         tls_client_url_is_tls(h->url) ? f->client_id : NULL, f->token,
	         &msg)) != 0) {
		return host_finish(h, error_from_errno(rv), NULL);
	}
	nng_mtx_lock(h->mtx);
	h->state = HOST_SENDING;
	h->disconnected = false;
	h->dial_status = 0;
	nng_mtx_unlock(h->mtx);
	nng_aio_set_msg(h->aio, msg);
	nng_aio_set_timeout(h->aio, remaining_ms(h->deadline));
	nng_ctx_send(h->ctx, h->aio);
	return NULL;
}

static void
host_cb(void *arg)
{
	struct host *h = arg;
	secstat_fleet *f = h->f;
	int rv = nng_aio_result(h->aio);
	Secstat__V1__Reply *r = NULL;
	nng_msg *msg;
	bool lost;

	nng_mtx_lock(h->mtx);
	if (h->state == HOST_SENDING) {
		if (rv != 0) {
			uint32_t status =
			    h->dial_status != 0
			        ? h->dial_status
			        : error_from_nng(rv, ERROR_STAGE_SEND);

			nng_mtx_unlock(h->mtx);
			nng_msg_free(nng_aio_get_msg(h->aio));
			nng_aio_set_msg(h->aio, NULL);
			host_run(host_finish(h, status, NULL));
			return;
		}
		if (h->disconnected) {
			nng_mtx_unlock(h->mtx);
			host_run(host_finish(h, RPC_E_DISCONNECTED, NULL));
			return;
		}
		h->state = HOST_RECEIVING;
		nng_aio_set_timeout(h->aio, remaining_ms(h->deadline));
		nng_ctx_recv(h->ctx, h->aio);
		nng_mtx_unlock(h->mtx);
		return;
	}
	lost = h->disconnected;
	nng_mtx_unlock(h->mtx);
	if (rv != 0) {
		host_run(host_finish(h,
		                     lost
		                         ? RPC_E_DISCONNECTED
		                         : error_from_nng(rv, ERROR_STAGE_RECV),
		                     NULL));
		return;
	}
	msg = nng_aio_get_msg(h->aio);
	nng_aio_set_msg(h->aio, NULL);
	rv = codec_reply_unpack(nng_msg_body(msg), nng_msg_len(msg), &r);
	nng_msg_free(msg);
	if (rv == 0) {
		rv = codec_reply_check(r, h->id, f->method);
	}
	if (rv != 0) {
		if (r != NULL) {
			secstat__v1__reply__free_unpacked(r, NULL);
		}
		host_run(host_finish(h, error_from_errno(rv), NULL));
		return;
	}
	host_run(host_finish(h, r->status, r));
}

/* Fails at once each host whose request waits for a connection that its
 * dialer failed to make since the last look, with the failure's own
 * status (a failed TLS handshake is RPC_E_ACCESS_DENIED), instead of a
 * timeout at the deadline. Runs on the querying thread, which alone
 * touches dial_seen; costs a statistics snapshot only while some host
 * waits without a connection. */
static void
fleet_check_dials(secstat_fleet *f)
{
	nng_stat *snapshot = NULL;

	for (size_t i = 0; i < f->n; i++) {
		struct host *h = &f->hosts[i];
		struct dial_failures now;
		uint32_t status;
		bool waiting;

		if (h->open_status != ERROR_SUCCESS ||
		    atomic_load(&h->pipes) != 0) {
			continue;
		}
		nng_mtx_lock(h->mtx);
		waiting = h->state == HOST_SENDING;
		nng_mtx_unlock(h->mtx);
		if (!waiting) {
			continue;
		}
		if (snapshot == NULL && nng_stats_get(&snapshot) != 0) {
			return; /* no statistics: the deadline decides */
		}
		if (!dial_failures_read(snapshot, h->dialer, &now)) {
			continue;
		}
		if (atomic_exchange(&h->dial_baseline_stale, false)) {
			h->dial_seen = now;
			continue;
		}
		if (dial_failures_new(&h->dial_seen, &now) == 0) {
			continue;
		}
		status = dial_failures_status(&h->dial_seen, &now,
		                              tls_client_url_is_tls(h->url));
		h->dial_seen = now;
		nng_mtx_lock(h->mtx);
		if (h->state == HOST_SENDING && atomic_load(&h->pipes) == 0) {
			h->dial_status = status;
			nng_aio_cancel(h->aio);
		}
		nng_mtx_unlock(h->mtx);
	}
	if (snapshot != NULL) {
		nng_stats_free(snapshot);
	}
}

/* ---- open and close ---- */

static char *
xstrdup(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* Opens host h's socket and starts dialling in the background. A URL
 * that cannot be used is the host's status, not the fleet's. */
static int
host_open(struct host *h)
{
	nng_dialer d;
	int rv;

	if (nng_mtx_alloc(&h->mtx) != 0) {
		return -ENOMEM;
	}
	if ((rv = nng_req0_open(&h->sock)) != 0) {
		return rv == NNG_ENOMEM ? -ENOMEM : -EIO;
	}
	if ((rv = nng_aio_alloc(&h->aio, host_cb, h)) != 0) {
		nng_close(h->sock);
		return -ENOMEM;
	}
	/* No resend: a request reaches an agent at most once. */
	if ((rv = nng_socket_set_ms(h->sock, NNG_OPT_REQ_RESENDTIME,
	                            NNG_DURATION_INFINITE)) != 0 ||
	    (rv = nng_socket_set_size(h->sock, NNG_OPT_RECVMAXSZ,
	                              SECSTAT_REPLY_MAX_BYTES)) != 0 ||
	    (rv = nng_socket_set_ms(h->sock, NNG_OPT_RECONNMINT,
	                            RECONNECT_MIN_MS)) != 0 ||
	    (rv = nng_socket_set_ms(h->sock, NNG_OPT_RECONNMAXT,
	                            RECONNECT_MAX_MS)) != 0 ||
	    (rv = nng_pipe_notify(h->sock, NNG_PIPE_EV_REM_POST, pipe_removed,
	                          h)) != 0 ||
	    (rv = nng_pipe_notify(h->sock, NNG_PIPE_EV_ADD_PRE, pipe_added,
	                          h)) != 0 ||
	    (rv = nng_pipe_notify(h->sock, NNG_PIPE_EV_ADD_POST, pipe_added,
	                          h)) != 0 ||
	    (rv = nng_ctx_open(&h->ctx, h->sock)) != 0) {
		h->open_status = error_from_nng(rv, ERROR_STAGE_DIAL);
		return 0;
	}
	if ((rv = nng_dialer_create(&d, h->sock, h->url)) != 0) {
		h->open_status = error_from_nng(rv, ERROR_STAGE_DIAL);
		return 0;
	}
	h->dialer = d; /* new: its failure counters start at zero */
	(void)nng_dialer_set_size(d, NNG_OPT_RECVMAXSZ,
	                          SECSTAT_REPLY_MAX_BYTES);
	if (tls_client_url_is_tls(h->url) &&
	    (rv = tls_client_setup(d, h->url, h->f->tls_ca, h->f->tls_cert,
	                           h->f->tls_key, h->f->tls_server_name)) !=
	        0) {
		h->open_status = error_from_errno(rv);
		return 0;
	}
	if ((rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0) {
		h->open_status = error_from_nng(rv, ERROR_STAGE_DIAL);
	}
	return 0;
}

static void
host_free(struct host *h)
{
	if (h->aio != NULL) {
		nng_aio_stop(h->aio);
		nng_close(h->sock);
		nng_aio_free(h->aio);
	}
	if (h->mtx != NULL) {
		nng_mtx_free(h->mtx);
	}
	secstat_reply_free(h->reply);
	for (size_t i = 0; i < h->n_tags; i++) {
		free(h->tags[i]);
	}
	free(h->tags);
	free(h->url);
	free(h->name);
	free(h->pub_url);
}

void
secstat_fleet_close(secstat_fleet *f)
{
	if (f == NULL) {
		return;
	}
	for (size_t i = 0; i < f->n; i++) {
		host_free(&f->hosts[i]);
	}
	free(f->hosts);
	if (f->token != NULL) {
		memset(f->token, 0, strlen(f->token));
	}
	free(f->token);
	free(f->client_id);
	free(f->tls_ca);
	free(f->tls_cert);
	free(f->tls_key);
	free(f->tls_server_name);
	if (f->cv != NULL) {
		nng_cv_free(f->cv);
	}
	if (f->mtx != NULL) {
		nng_mtx_free(f->mtx);
	}
	if (f->query_mtx != NULL) {
		nng_mtx_free(f->query_mtx);
	}
	free(f);
}

/* A fleet with n empty hosts. */
static int
fleet_alloc(secstat_fleet **fp, size_t n, const struct secstat_fleet_options *o)
{
	secstat_fleet *f = calloc(1, sizeof(*f));

	*fp = NULL;
	if (f == NULL || (f->hosts = calloc(n, sizeof(*f->hosts))) == NULL) {
		free(f);
		return -ENOMEM;
	}
	f->n = n;
	f->timeout_ms = o->timeout_ms;
	f->max_parallel = o->max_parallel;
	f->max_age_ms = o->max_age_ms;
	if ((o->tls_ca_file != NULL &&
	     (f->tls_ca = strdup(o->tls_ca_file)) == NULL) ||
	    (o->tls_cert_file != NULL &&
	     (f->tls_cert = strdup(o->tls_cert_file)) == NULL) ||
	    (o->tls_key_file != NULL &&
	     (f->tls_key = strdup(o->tls_key_file)) == NULL) ||
	    (o->tls_server_name != NULL &&
	     (f->tls_server_name = strdup(o->tls_server_name)) == NULL) ||
	    (o->client_id != NULL &&
	     (f->client_id = strdup(o->client_id)) == NULL) ||
	    (o->token != NULL && (f->token = strdup(o->token)) == NULL) ||
	    nng_mtx_alloc(&f->mtx) != 0 || nng_mtx_alloc(&f->query_mtx) != 0 ||
	    nng_cv_alloc(&f->cv, f->mtx) != 0) {
		secstat_fleet_close(f);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		f->hosts[i].f = f;
	}
	*fp = f;
	return 0;
}

/* Opens every host's socket once the descriptions are filled in. */
static int
fleet_start(secstat_fleet *f)
{
	for (size_t i = 0; i < f->n; i++) {
		struct host *h = &f->hosts[i];
		int rv;

		h->pub.url = h->url;
		h->pub.name = h->name != NULL ? h->name : h->url;
		h->pub.pub_url = h->pub_url;
		h->pub.tags = (const char *const *)h->tags;
		h->pub.n_tags = h->n_tags;
		if ((rv = host_open(h)) != 0) {
			return rv;
		}
	}
	return 0;
}

uint32_t
secstat_fleet_open(secstat_fleet **fp, const char *const *urls, size_t n,
                   const struct secstat_fleet_options *opts)
{
	struct secstat_fleet_options o;
	secstat_fleet *f;
	int rv;

	if (fp == NULL) {
		return ERROR_INVALID_PARAMETER;
	}
	*fp = NULL;
	if (urls == NULL || n == 0 || n > SECSTAT_FLEET_MAX_HOSTS ||
	    options_load(&o, opts) != 0) {
		return ERROR_INVALID_PARAMETER;
	}
	for (size_t i = 0; i < n; i++) {
		if (urls[i] == NULL) {
			return ERROR_INVALID_PARAMETER;
		}
	}
	if ((rv = fleet_alloc(&f, n, &o)) != 0) {
		return error_from_errno(rv);
	}
	for (size_t i = 0; i < n; i++) {
		if ((f->hosts[i].url = xstrdup(urls[i])) == NULL) {
			secstat_fleet_close(f);
			return error_from_errno(-ENOMEM);
		}
	}
	if ((rv = fleet_start(f)) != 0) {
		secstat_fleet_close(f);
		return error_from_errno(rv);
	}
	*fp = f;
	return ERROR_SUCCESS;
}

/* One parsed line of a hosts file. */
struct line_host {
	char *url;
	char *name;
	char *pub_url;
	char **tags;
	size_t n_tags;
};

static void
line_host_free(struct line_host *l)
{
	for (size_t i = 0; i < l->n_tags; i++) {
		free(l->tags[i]);
	}
	free(l->tags);
	free(l->url);
	free(l->name);
	free(l->pub_url);
	memset(l, 0, sizeof(*l));
}

/* Parses "URL [NAME [TAG...]]" with pub=URL anywhere after the URL.
 * Returns 1 for a host, 0 for a blank or comment line, -EINVAL with a
 * reason in `why`, -ENOMEM. */
static int
parse_line(char *line, struct line_host *out, const char **why)
{
	char *save = NULL;
	char *tok;
	char *hash = strchr(line, '#');

	memset(out, 0, sizeof(*out));
	if (hash != NULL) {
		*hash = '\0';
	}
	for (tok = strtok_r(line, " \t\r\n", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t\r\n", &save)) {
		if (out->url == NULL) {
			if (strstr(tok, "://") == NULL) {
				*why = "expected a URL (tcp://HOST:PORT or "
				       "ipc:///PATH) first";
				return -EINVAL;
			}
			if ((out->url = strdup(tok)) == NULL) {
				return -ENOMEM;
			}
		} else if (strncmp(tok, "pub=", 4) == 0) {
			if (strstr(tok + 4, "://") == NULL || out->pub_url) {
				*why = "pub= needs one URL";
				return -EINVAL;
			}
			if ((out->pub_url = strdup(tok + 4)) == NULL) {
				return -ENOMEM;
			}
		} else if (out->name == NULL) {
			if ((out->name = strdup(tok)) == NULL) {
				return -ENOMEM;
			}
		} else {
			char **t =
			    realloc(out->tags, (out->n_tags + 1) * sizeof(*t));
			if (t == NULL) {
				return -ENOMEM;
			}
			out->tags = t;
			if ((t[out->n_tags] = strdup(tok)) == NULL) {
				return -ENOMEM;
			}
			out->n_tags++;
		}
	}
	return out->url != NULL ? 1 : 0;
}

uint32_t
secstat_fleet_open_file(secstat_fleet **fp, const char *path,
                        const struct secstat_fleet_options *opts, char *err,
                        size_t errlen)
{
	struct secstat_fleet_options o;
	struct line_host *lines = NULL;
	size_t n = 0, cap = 0;
	char buf[HOSTS_LINE_MAX];
	secstat_fleet *f = NULL;
	uint32_t status = ERROR_SUCCESS;
	FILE *file;
	int lineno = 0;
	int rv;

	if (err != NULL && errlen > 0) {
		err[0] = '\0';
	}
	if (fp == NULL) {
		return ERROR_INVALID_PARAMETER;
	}
	*fp = NULL;
	if (path == NULL || options_load(&o, opts) != 0) {
		return ERROR_INVALID_PARAMETER;
	}
	if ((file = fopen(path, "r")) == NULL) {
		if (err != NULL) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		}
		return ERROR_INVALID_PARAMETER;
	}
	while (fgets(buf, sizeof(buf), file) != NULL) {
		struct line_host l;
		const char *why = NULL;

		lineno++;
		if (strchr(buf, '\n') == NULL && !feof(file)) {
			why = "line too long";
			rv = -EINVAL;
		} else {
			rv = parse_line(buf, &l, &why);
		}
		if (rv < 0) {
			if (rv == -EINVAL && err != NULL) {
				snprintf(err, errlen, "%s:%d: %s", path, lineno,
				         why);
			}
			line_host_free(&l);
			status = rv == -EINVAL ? ERROR_INVALID_PARAMETER
			                       : error_from_errno(rv);
			goto out;
		}
		if (rv == 0) {
			continue;
		}
		if (n == SECSTAT_FLEET_MAX_HOSTS) {
			if (err != NULL) {
				snprintf(err, errlen,
				         "%s:%d: more than %u hosts", path,
				         lineno, SECSTAT_FLEET_MAX_HOSTS);
			}
			line_host_free(&l);
			status = ERROR_INVALID_PARAMETER;
			goto out;
		}
		if (n == cap) {
			size_t c = cap ? cap * 2 : 64;
			struct line_host *v = realloc(lines, c * sizeof(*v));
			if (v == NULL) {
				line_host_free(&l);
				status = error_from_errno(-ENOMEM);
				goto out;
			}
			lines = v;
			cap = c;
		}
		lines[n++] = l;
	}
	if (n == 0) {
		if (err != NULL) {
			snprintf(err, errlen, "%s: no hosts", path);
		}
		status = ERROR_INVALID_PARAMETER;
		goto out;
	}
	if ((rv = fleet_alloc(&f, n, &o)) != 0) {
		status = error_from_errno(rv);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct host *h = &f->hosts[i];

		h->url = lines[i].url;
		h->name = lines[i].name;
		h->pub_url = lines[i].pub_url;
		h->tags = lines[i].tags;
		h->n_tags = lines[i].n_tags;
		memset(&lines[i], 0, sizeof(lines[i]));
	}
	if ((rv = fleet_start(f)) != 0) {
		secstat_fleet_close(f);
		f = NULL;
		status = error_from_errno(rv);
		goto out;
	}
	*fp = f;
out:
	fclose(file);
	for (size_t i = 0; i < n; i++) {
		line_host_free(&lines[i]);
	}
	free(lines);
	return status;
}

size_t
secstat_fleet_count(const secstat_fleet *f)
{
	return f != NULL ? f->n : 0;
}

const struct secstat_fleet_host *
secstat_fleet_host(const secstat_fleet *f, size_t i)
{
	return f != NULL && i < f->n ? &f->hosts[i].pub : NULL;
}

/* ---- results ---- */

void
secstat_fleet_result_free(secstat_fleet_result *r)
{
	if (r == NULL) {
		return;
	}
	for (size_t i = 0; i < r->n; i++) {
		secstat_reply_free(r->reply[i]);
	}
	free(r->reply);
	free(r->status);
	free(r->latency_us);
	secstat_reply_free(r->aggregate);
	if (r->summary != NULL) {
		secstat__v1__fleet_aggregate__free_unpacked(r->summary, NULL);
	}
	free(r);
}

static const ProtobufCMessage *
reply_result(const Secstat__V1__Reply *r)
{
	const ProtobufCMessageDescriptor *d = r->base.descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];

		if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0 &&
		    model_field_present(&r->base, fd)) {
			return model_field_message(&r->base, fd, 0);
		}
	}
	return NULL;
}

static const ProtobufCFieldDescriptor *
result_field(Secstat__V1__Reply__ResultCase rc)
{
	return protobuf_c_message_descriptor_get_field(
	    &secstat__v1__reply__descriptor, (unsigned)rc);
}

static int
summary_host(Secstat__V1__FleetHost **out, const struct host *h,
             uint32_t status, const Secstat__V1__Reply *r, uint32_t latency_us)
{
	Secstat__V1__FleetHost *fh = malloc(sizeof(*fh));
	const char *msg = r != NULL && r->message != NULL && *r->message
	                      ? r->message
	                      : secstat_strerror(status);

	*out = fh;
	if (fh == NULL) {
		return -ENOMEM;
	}
	secstat__v1__fleet_host__init(fh);
	fh->url = xstrdup(h->url);
	fh->name = xstrdup(h->pub.name);
	fh->message = xstrdup(msg);
	if (fh->url == NULL || fh->name == NULL || fh->message == NULL) {
		return -ENOMEM;
	}
	if (h->n_tags > 0) {
		if ((fh->tags = calloc(h->n_tags, sizeof(char *))) == NULL) {
			return -ENOMEM;
		}
		for (size_t i = 0; i < h->n_tags; i++) {
			if ((fh->tags[i] = xstrdup(h->tags[i])) == NULL) {
				return -ENOMEM;
			}
			fh->n_tags++;
		}
	}
	fh->has_status = 1;
	fh->status = status;
	fh->has_latency_us = 1;
	fh->latency_us = latency_us;
	if (r != NULL && r->host != NULL) {
		fh->host =
		    (Secstat__V1__HostInfo *)aggregate_copy(&r->host->base);
		if (fh->host == NULL) {
			return -ENOMEM;
		}
	}
	if (r != NULL && r->has_collected_unix_ms) {
		fh->has_collected_unix_ms = 1;
		fh->collected_unix_ms = r->collected_unix_ms;
	}
	return 0;
}

/* Builds the aggregate Reply and the side table from the replies, in
 * host order. */
static int
result_aggregate(secstat_fleet_result *res, const secstat_fleet *f,
                 const char *method, uint64_t duration_us)
{
	Secstat__V1__Reply__ResultCase rc = codec_method_result(method);
	const ProtobufCFieldDescriptor *rfd = result_field(rc);
	Secstat__V1__FleetAggregate *sum;
	struct aggregate *agg = NULL;
	Secstat__V1__Reply *ar = NULL;
	uint64_t oldest = UINT64_MAX;
	bool simulated = false;
	int rv;

	if ((sum = malloc(sizeof(*sum))) == NULL) {
		return -ENOMEM;
	}
	secstat__v1__fleet_aggregate__init(sum);
	res->summary = sum;
	if ((sum->method = xstrdup(method)) == NULL ||
	    (sum->hosts = calloc(res->n, sizeof(*sum->hosts))) == NULL) {
		return -ENOMEM;
	}
	sum->has_duration_us = 1;
	sum->duration_us = duration_us;
	sum->has_hosts_ok = 1;
	sum->hosts_ok = (uint32_t)res->ok;
	for (size_t i = 0; i < res->n; i++) {
		rv = summary_host(&sum->hosts[i], &f->hosts[i], res->status[i],
		                  res->reply[i], res->latency_us[i]);
		sum->n_hosts++;
		if (rv != 0) {
			return rv;
		}
	}
	/* Identities and capabilities are per host: there is nothing to
	 * sum (the side table still lists every host). */
	if (rfd == NULL ||
	    rfd->descriptor == &secstat__v1__host_info_response__descriptor ||
	    rfd->descriptor ==
	        &secstat__v1__capabilities_response__descriptor) {
		return 0;
	}
	if ((rv = aggregate_create(&agg, rfd->descriptor)) != 0) {
		return rv;
	}
	for (size_t i = 0; i < res->n; i++) {
		const Secstat__V1__Reply *r = res->reply[i];
		const ProtobufCMessage *m;

		if (r == NULL || res->status[i] != ERROR_SUCCESS ||
		    (m = reply_result(r)) == NULL ||
		    m->descriptor != rfd->descriptor) {
			continue;
		}
		rv = aggregate_add(agg, m, (uint32_t)i,
		                   r->host != NULL ? r->host->hostname : NULL);
		if (rv != 0) {
			goto out;
		}
		if (r->has_collected_unix_ms && r->collected_unix_ms < oldest) {
			oldest = r->collected_unix_ms;
		}
		simulated = simulated || (r->has_simulated && r->simulated);
	}
	if (aggregate_count(agg) == 0) {
		rv = 0;
		goto out;
	}
	if ((rv = aggregate_summary(agg, sum)) != 0) {
		goto out;
	}
	rv = -ENOMEM;
	if ((ar = malloc(sizeof(*ar))) == NULL) {
		goto out;
	}
	secstat__v1__reply__init(ar);
	ar->has_status = 1;
	ar->status = ERROR_SUCCESS;
	if ((ar->host = malloc(sizeof(*ar->host))) == NULL) {
		goto out;
	}
	secstat__v1__host_info__init(ar->host);
	if ((ar->host->hostname = strdup("fleet")) == NULL) {
		goto out;
	}
	if (oldest != UINT64_MAX) {
		ar->has_collected_unix_ms = 1;
		ar->collected_unix_ms = oldest;
	}
	ar->has_simulated = 1;
	ar->simulated = simulated;
	*(ProtobufCMessage **)((char *)ar + rfd->offset) = aggregate_take(agg);
	*(uint32_t *)((char *)ar + rfd->quantifier_offset) = rfd->id;
	res->aggregate = ar;
	ar = NULL;
	rv = 0;
out:
	secstat_reply_free(ar);
	aggregate_free(agg);
	return rv;
}

uint32_t
secstat_fleet_query(secstat_fleet *f, const char *method,
                    secstat_fleet_progress_fn progress, void *arg,
                    secstat_fleet_result **resultp)
{
	secstat_fleet_result *res;
	size_t start;
	nng_time t0, next_check;
	int rv;

	if (resultp == NULL) {
		return ERROR_INVALID_PARAMETER;
	}
	*resultp = NULL;
	if (f == NULL || method == NULL || *method == '\0') {
		return ERROR_INVALID_PARAMETER;
	}
	if ((res = calloc(1, sizeof(*res))) == NULL ||
	    (res->status = calloc(f->n, sizeof(*res->status))) == NULL ||
	    (res->latency_us = calloc(f->n, sizeof(*res->latency_us))) ==
	        NULL ||
	    (res->reply = calloc(f->n, sizeof(*res->reply))) == NULL) {
		secstat_fleet_result_free(res);
		return error_from_errno(-ENOMEM);
	}
	res->n = f->n;

	nng_mtx_lock(f->query_mtx);
	t0 = nng_clock();
	f->method = method;
	f->all_done = false;
	atomic_store(&f->done, 0);
	start = f->n < f->max_parallel ? f->n : f->max_parallel;
	atomic_store(&f->next, start);
	for (size_t i = 0; i < f->n; i++) {
		f->hosts[i].state = HOST_IDLE;
		f->hosts[i].id = ++f->next_id;
	}
	for (size_t i = 0; i < start; i++) {
		host_run(&f->hosts[i]);
	}
	next_check = t0 + DIAL_CHECK_MS / 2;
	nng_mtx_lock(f->mtx);
	while (!f->all_done) {
		if (progress != NULL) {
			nng_mtx_unlock(f->mtx);
			progress(atomic_load(&f->done), f->n, arg);
			nng_mtx_lock(f->mtx);
		}
		if (!f->all_done && nng_clock() >= next_check) {
			nng_mtx_unlock(f->mtx);
			fleet_check_dials(f);
			next_check = nng_clock() + DIAL_CHECK_MS;
			nng_mtx_lock(f->mtx);
		}
		if (!f->all_done) {
			(void)nng_cv_until(f->cv,
			                   nng_clock() + PROGRESS_PERIOD_MS);
		}
	}
	nng_mtx_unlock(f->mtx);
	if (progress != NULL) {
		progress(f->n, f->n, arg);
	}
	for (size_t i = 0; i < f->n; i++) {
		struct host *h = &f->hosts[i];

		res->status[i] = h->status;
		res->latency_us[i] = h->latency_us;
		res->reply[i] = h->reply;
		h->reply = NULL;
		h->state = HOST_IDLE;
		if (h->status == ERROR_SUCCESS) {
			res->ok++;
		}
	}
	rv = result_aggregate(res, f, method,
	                      (uint64_t)(nng_clock() - t0) * 1000u);
	nng_mtx_unlock(f->query_mtx);
	if (rv != 0) {
		secstat_fleet_result_free(res);
		return error_from_errno(rv);
	}
	*resultp = res;
	return ERROR_SUCCESS;
}

size_t
secstat_fleet_result_count(const secstat_fleet_result *r)
{
	return r != NULL ? r->n : 0;
}

size_t
secstat_fleet_result_ok(const secstat_fleet_result *r)
{
	return r != NULL ? r->ok : 0;
}

uint32_t
secstat_fleet_result_status(const secstat_fleet_result *r, size_t i)
{
	return r != NULL && i < r->n ? r->status[i] : ERROR_INVALID_PARAMETER;
}

const Secstat__V1__Reply *
secstat_fleet_result_reply(const secstat_fleet_result *r, size_t i)
{
	return r != NULL && i < r->n ? r->reply[i] : NULL;
}

uint32_t
secstat_fleet_result_latency_us(const secstat_fleet_result *r, size_t i)
{
	return r != NULL && i < r->n ? r->latency_us[i] : 0;
}

const Secstat__V1__Reply *
secstat_fleet_result_aggregate(const secstat_fleet_result *r)
{
	return r != NULL ? r->aggregate : NULL;
}

const Secstat__V1__FleetAggregate *
secstat_fleet_result_summary(const secstat_fleet_result *r)
{
	return r != NULL ? r->summary : NULL;
}
