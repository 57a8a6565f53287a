/*
 * Subscriptions: one SUB socket dialling every agent's PUB URL, one
 * thread that reassembles each (host, family) state from full messages
 * and deltas, watches sequences and heartbeats, and calls back; one
 * worker thread that performs the REQ/REP resyncs, so that a slow agent
 * never holds up the stream of the others.
 */
#include "aggregate.h"
#include "dial_failures.h"
#include "error.h"
#include "subscribe.h"
#include "tls_client.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include <secstat/secstat.h>

#include "model.h"

#define TICK_MS 100
/* Deltas kept while a resync is under way, replayed on top of its
 * answer; beyond this the resync is done again. */
#define PENDING_MAX 256
/* Longest close waits for the connections to go. */
#define CLOSE_WAIT_MS   2000
#define DEFAULT_RECVBUF 128
#define N_FAMILIES      4 /* indexed by Secstat__V1__Family */

static const char *const family_words[N_FAMILIES] = {NULL, "ipsec", "ike",
                                                     "iscsi"};
static const char *const family_methods[N_FAMILIES] = {
    NULL, SECSTAT_METHOD_IPSEC_GET_STATISTICS1,
    SECSTAT_METHOD_IKEEXT_GET_STATISTICS1, SECSTAT_METHOD_ISCSI_GET_STATISTICS};

struct topic_state {
	uint64_t seq; /* last sequence received; 0: none */
	bool has_epoch;
	uint64_t epoch;
	Secstat__V1__Reply *state; /* malloc'ed; NULL: nothing valid */
	bool resync_pending;
	/* Deltas received since the resync was asked for, oldest first. */
	Secstat__V1__Publish *pending[PENDING_MAX];
	size_t n_pending;
	bool pending_broken; /* a gap or an overflow while buffering */
};

struct sub_host {
	char *pub_url;
	char *req_url;
	char *name;
	int dialer_id;
	nng_dialer dialer;
	bool dialing;
	secstat_session *session; /* resync worker only */
	struct topic_state t[N_FAMILIES];
	uint64_t last_msg_ms;
	uint32_t heartbeat_ms;
	bool heard;
	bool up;
	bool reported_down;
	/* Subscription thread only: the dialer's failed attempts when a DOWN
	 * last looked at them; stale once the host came up since. */
	struct dial_failures dial_seen;
	bool dial_seen_stale;
	struct secstat_sub_stats stats;
};

/* A resync request or its outcome. */
struct resync {
	struct resync *next;
	size_t host;
	Secstat__V1__Family family;
	uint32_t status;
	Secstat__V1__Reply *reply;
};

struct dialer_map {
	int id;
	size_t host;
};

struct secstat_subscription {
	nng_socket sock;
	struct sub_host *hosts;
	size_t n;
	struct dialer_map *map; /* sorted by id */
	uint32_t families;
	uint32_t down_after_ms;
	uint32_t timeout_ms;
	/* Transport security of every tls+tcp:// URL; kept for the resync
	 * sessions, which are opened later. */
	char *tls_ca, *tls_cert, *tls_key, *tls_server_name;
	char *client_id, *token;
	secstat_sub_fn fn;
	void *arg;
	uint64_t start_ms;

	pthread_mutex_t mtx; /* states and stats, for other threads */
	pthread_t thread;
	bool thread_started;
	atomic_bool stop;

	pthread_mutex_t rmtx; /* the two queues below */
	pthread_cond_t rcv;

	/* One receive always armed, never timed out by nng (a receive that
	 * expires while a message is being delivered can leave nng 1.5
	 * unable to close the socket); the thread waits for it here. */
	nng_aio *raio;
	pthread_mutex_t qmtx;
	pthread_cond_t qcv;
	bool rdone;
	int pipes; /* connections, under qmtx */
	struct resync *requests;
	struct resync *results;
	pthread_t worker;
	bool worker_started;
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000ULL +
	       (uint64_t)ts.tv_nsec / 1000000ULL;
}

void
secstat_subscribe_options_init(struct secstat_subscribe_options *opts)
{
	if (opts != NULL) {
		memset(opts, 0, sizeof(*opts));
		opts->size = sizeof(*opts);
	}
}

/* ---- applying deltas to a state, over the descriptors ---- */

static void *
addr(ProtobufCMessage *m, unsigned offset)
{
	return (char *)m + offset;
}

static bool
is_oneof(const ProtobufCFieldDescriptor *fd)
{
	return (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
}

/* Frees what field fd of m holds and makes it absent. */
static void
clear_field(ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
	if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t *n = addr(m, fd->quantifier_offset);
		void **array = addr(m, fd->offset);

		for (size_t k = 0; k < *n; k++) {
			if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
				protobuf_c_message_free_unpacked(
				    ((ProtobufCMessage **)*array)[k], NULL);
			} else if (fd->type == PROTOBUF_C_TYPE_STRING) {
				free(((char **)*array)[k]);
			} else if (fd->type == PROTOBUF_C_TYPE_BYTES) {
				free(((ProtobufCBinaryData *)*array)[k].data);
			}
		}
		free(*array);
		*array = NULL;
		*n = 0;
		return;
	}
	if (!model_field_present(m, fd)) {
		return;
	}
	if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
		ProtobufCMessage **sub = addr(m, fd->offset);
		protobuf_c_message_free_unpacked(*sub, NULL);
		*sub = NULL;
	} else if (fd->type == PROTOBUF_C_TYPE_STRING) {
		char **s = addr(m, fd->offset);
		free(*s);
		*s = NULL;
	} else if (fd->type == PROTOBUF_C_TYPE_BYTES) {
		ProtobufCBinaryData *b = addr(m, fd->offset);
		free(b->data);
		b->data = NULL;
		b->len = 0;
	}
	if (is_oneof(fd)) {
		*(uint32_t *)addr(m, fd->quantifier_offset) = 0;
	} else if (fd->label == PROTOBUF_C_LABEL_OPTIONAL &&
	           fd->type != PROTOBUF_C_TYPE_MESSAGE &&
	           fd->type != PROTOBUF_C_TYPE_STRING) {
		*(protobuf_c_boolean *)addr(m, fd->quantifier_offset) = 0;
	}
}

static bool
message_empty(const ProtobufCMessage *m)
{
	for (unsigned i = 0; i < m->descriptor->n_fields; i++) {
		if (model_field_present(m, &m->descriptor->fields[i])) {
			return false;
		}
	}
	return true;
}

static void
apply_removed(ProtobufCMessage *s, const ProtobufCMessage *r)
{
	const ProtobufCMessageDescriptor *d = r->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];

		if (!model_field_present(r, fd)) {
			continue;
		}
		if (fd->type == PROTOBUF_C_TYPE_MESSAGE &&
		    fd->label != PROTOBUF_C_LABEL_REPEATED) {
			const ProtobufCMessage *rs =
			    model_field_message(r, fd, 0);
			if (!message_empty(rs) && model_field_present(s, fd)) {
				apply_removed(
				    *(ProtobufCMessage **)addr(s, fd->offset),
				    rs);
				continue;
			}
		}
		clear_field(s, fd);
	}
}

static int
copy_repeated(ProtobufCMessage *s, const ProtobufCMessage *c,
              const ProtobufCFieldDescriptor *fd)
{
	size_t n = model_field_count(c, fd);
	size_t es = model_field_elem_size(fd);
	const void *src = *(void *const *)((const char *)c + fd->offset);
	char *dst = calloc(n ? n : 1, es);

	if (dst == NULL) {
		return -ENOMEM;
	}
	*(void **)addr(s, fd->offset) = dst;
	for (size_t k = 0; k < n; k++) {
		if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
			ProtobufCMessage *m = aggregate_copy(
			    ((const ProtobufCMessage *const *)src)[k]);
			if (m == NULL) {
				*(size_t *)addr(s, fd->quantifier_offset) = k;
				return -ENOMEM;
			}
			((ProtobufCMessage **)dst)[k] = m;
		} else if (fd->type == PROTOBUF_C_TYPE_STRING) {
			char *p = strdup(((const char *const *)src)[k]);
			if (p == NULL) {
				*(size_t *)addr(s, fd->quantifier_offset) = k;
				return -ENOMEM;
			}
			((char **)dst)[k] = p;
		} else if (fd->type == PROTOBUF_C_TYPE_BYTES) {
			/* No list of bytes in the schema. */
			*(size_t *)addr(s, fd->quantifier_offset) = k;
			return -EINVAL;
		} else {
			memcpy(dst + k * es, (const char *)src + k * es, es);
		}
	}
	*(size_t *)addr(s, fd->quantifier_offset) = n;
	return 0;
}

static int
apply_changed(ProtobufCMessage *s, const ProtobufCMessage *c)
{
	const ProtobufCMessageDescriptor *d = c->descriptor;
	int rv;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];

		if (!model_field_present(c, fd)) {
			continue;
		}
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			clear_field(s, fd);
			if ((rv = copy_repeated(s, c, fd)) != 0) {
				return rv;
			}
			continue;
		}
		switch (fd->type) {
		case PROTOBUF_C_TYPE_MESSAGE: {
			ProtobufCMessage **sub = addr(s, fd->offset);
			const ProtobufCMessageDescriptor *sd = fd->descriptor;

			if (!model_field_present(s, fd)) {
				if ((*sub = calloc(1, sd->sizeof_message)) ==
				    NULL) {
					return -ENOMEM;
				}
				sd->message_init(*sub);
				model_field_mark_present(s, fd);
			}
			if ((rv = apply_changed(
			         *sub, model_field_message(c, fd, 0))) != 0) {
				return rv;
			}
			break;
		}
		case PROTOBUF_C_TYPE_STRING: {
			char **p = addr(s, fd->offset);
			char *v = strdup(*(
			    const char *const *)((const char *)c + fd->offset));
			if (v == NULL) {
				return -ENOMEM;
			}
			clear_field(s, fd);
			*p = v;
			model_field_mark_present(s, fd);
			break;
		}
		case PROTOBUF_C_TYPE_BYTES: {
			const ProtobufCBinaryData *b =
			    (const void *)((const char *)c + fd->offset);
			ProtobufCBinaryData *t = addr(s, fd->offset);
			uint8_t *v = malloc(b->len ? b->len : 1);
			if (v == NULL) {
				return -ENOMEM;
			}
			memcpy(v, b->data, b->len);
			clear_field(s, fd);
			t->data = v;
			t->len = b->len;
			model_field_mark_present(s, fd);
			break;
		}
		default:
			memcpy(addr(s, fd->offset),
			       (const char *)c + fd->offset,
			       model_field_elem_size(fd));
			model_field_mark_present(s, fd);
		}
	}
	return 0;
}

int
subscribe_apply(ProtobufCMessage *state, const ProtobufCMessage *changed,
                const ProtobufCMessage *removed)
{
	if (removed != NULL) {
		apply_removed(state, removed);
	}
	return changed != NULL ? apply_changed(state, changed) : 0;
}

/* ---- states ---- */

static const ProtobufCMessage *
data_member(const Secstat__V1__StreamData *sd, Secstat__V1__Family f)
{
	if (sd == NULL) {
		return NULL;
	}
	switch (f) {
	case SECSTAT__V1__FAMILY__FAMILY_IPSEC:
		return sd->ipsec != NULL ? &sd->ipsec->base : NULL;
	case SECSTAT__V1__FAMILY__FAMILY_IKE:
		return sd->ikeext != NULL ? &sd->ikeext->base : NULL;
	case SECSTAT__V1__FAMILY__FAMILY_ISCSI:
		return sd->iscsi != NULL ? &sd->iscsi->base : NULL;
	default:
		return NULL;
	}
}

static ProtobufCMessage **
state_result(Secstat__V1__Reply *r, Secstat__V1__Family f)
{
	switch (f) {
	case SECSTAT__V1__FAMILY__FAMILY_IPSEC:
		r->result_case = SECSTAT__V1__REPLY__RESULT_IPSEC;
		return (ProtobufCMessage **)&r->ipsec;
	case SECSTAT__V1__FAMILY__FAMILY_IKE:
		r->result_case = SECSTAT__V1__REPLY__RESULT_IKEEXT;
		return (ProtobufCMessage **)&r->ikeext;
	default:
		r->result_case = SECSTAT__V1__REPLY__RESULT_ISCSI;
		return (ProtobufCMessage **)&r->iscsi;
	}
}

/* A new state from a full message. */
static Secstat__V1__Reply *
state_from_full(const Secstat__V1__Publish *p)
{
	Secstat__V1__Reply *r = calloc(1, sizeof(*r));
	const ProtobufCMessage *data = data_member(p->data, p->family);

	if (r == NULL) {
		return NULL;
	}
	secstat__v1__reply__init(r);
	r->has_status = 1;
	r->status = p->status;
	if (p->message != NULL && (r->message = strdup(p->message)) == NULL) {
		goto fail;
	}
	if (p->host != NULL &&
	    (r->host = (Secstat__V1__HostInfo *)aggregate_copy(
	         &p->host->base)) == NULL) {
		goto fail;
	}
	r->has_collected_unix_ms = p->has_collected_unix_ms;
	r->collected_unix_ms = p->collected_unix_ms;
	if (data != NULL) {
		ProtobufCMessage **slot = state_result(r, p->family);
		if ((*slot = aggregate_copy(data)) == NULL) {
			r->result_case = SECSTAT__V1__REPLY__RESULT__NOT_SET;
			goto fail;
		}
	}
	return r;
fail:
	secstat__v1__reply__free_unpacked(r, NULL);
	return NULL;
}

/* Applies a delta in place. Returns 0, or -EPROTO when the state cannot
 * take it (then it must be resynced). */
static int
state_apply(Secstat__V1__Reply *r, const Secstat__V1__Publish *p)
{
	const ProtobufCMessage *ch = data_member(p->data, p->family);
	const ProtobufCMessage *rm = data_member(p->removed, p->family);
	ProtobufCMessage **slot;
	Secstat__V1__Reply__ResultCase rc = r->result_case;

	slot = state_result(r, p->family);
	r->result_case = rc;
	if (*slot == NULL) {
		return ch != NULL || rm != NULL ? -EPROTO : 0;
	}
	if (subscribe_apply(*slot, ch, rm) != 0) {
		return -ENOMEM;
	}
	r->has_collected_unix_ms = p->has_collected_unix_ms;
	r->collected_unix_ms = p->collected_unix_ms;
	return 0;
}

/* ---- the subscription thread ---- */

static void
emit(secstat_subscription *s, enum secstat_sub_event_type type, size_t host,
     Secstat__V1__Family family, const Secstat__V1__Reply *state)
{
	struct secstat_sub_event ev = {
	    .type = type,
	    .host = host,
	    .family = family,
	    .state = state,
	};

	if (s->fn != NULL) {
		s->fn(&ev, s->arg);
	}
}

static void
pending_clear(struct topic_state *t)
{
	for (size_t i = 0; i < t->n_pending; i++) {
		secstat__v1__publish__free_unpacked(t->pending[i], NULL);
	}
	t->n_pending = 0;
	t->pending_broken = false;
}

/* Keeps a delta that arrived while the state is being resynced. Takes
 * `p`. */
static void
pending_add(struct topic_state *t, Secstat__V1__Publish *p)
{
	if (t->n_pending == PENDING_MAX) {
		t->pending_broken = true;
		secstat__v1__publish__free_unpacked(p, NULL);
		return;
	}
	t->pending[t->n_pending++] = p;
}

static void
request_resync(secstat_subscription *s, size_t host, Secstat__V1__Family family)
{
	struct topic_state *t = &s->hosts[host].t[family];
	struct resync *r;

	if (t->resync_pending || s->hosts[host].req_url == NULL) {
		return;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		return; /* the next full message repairs it */
	}
	r->host = host;
	r->family = family;
	t->resync_pending = true;
	pthread_mutex_lock(&s->rmtx);
	r->next = s->requests;
	s->requests = r;
	pthread_cond_signal(&s->rcv);
	pthread_mutex_unlock(&s->rmtx);
}

static void
set_state(secstat_subscription *s, struct topic_state *t,
          Secstat__V1__Reply *state)
{
	Secstat__V1__Reply *old;

	pthread_mutex_lock(&s->mtx);
	old = t->state;
	t->state = state;
	pthread_mutex_unlock(&s->mtx);
	secstat_reply_free(old);
}

static long
host_of(const secstat_subscription *s, nng_msg *msg)
{
	nng_pipe p = nng_msg_get_pipe(msg);
	int id = nng_dialer_id(nng_pipe_dialer(p));
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->map[mid].id == id) {
			return (long)s->map[mid].host;
		}
		if (s->map[mid].id < id) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return -1;
}

static void
handle_message(secstat_subscription *s, nng_msg *msg, uint64_t now)
{
	const uint8_t *body = nng_msg_body(msg);
	size_t len = nng_msg_len(msg), off = 0;
	Secstat__V1__Publish *p;
	struct sub_host *h;
	struct topic_state *t;
	long hi = host_of(s, msg);
	Secstat__V1__Family fam;
	bool gap = false;
	int slashes = 0;

	if (hi < 0) {
		return;
	}
	h = &s->hosts[hi];
	/* Skip the topic "<family>/<hostname>/". */
	while (off < len && slashes < 2) {
		if (body[off++] == '/') {
			slashes++;
		}
	}
	if (slashes < 2 || (p = secstat__v1__publish__unpack(
	                        NULL, len - off, body + off)) == NULL) {
		return;
	}
	fam = p->family;
	if (!p->has_family || fam <= 0 || fam >= N_FAMILIES ||
	    !p->has_sequence || !p->has_kind) {
		goto out;
	}
	t = &h->t[fam];
	pthread_mutex_lock(&s->mtx);
	h->stats.messages++;
	if (p->kind == SECSTAT__V1__PUBLISH_KIND__PUBLISH_HEARTBEAT) {
		h->stats.heartbeats++;
	}
	h->last_msg_ms = now;
	h->heard = true;
	if (p->has_heartbeat_interval_ms) {
		h->heartbeat_ms = p->heartbeat_interval_ms;
	}
	pthread_mutex_unlock(&s->mtx);
	if (!h->up) {
		pthread_mutex_lock(&s->mtx);
		h->up = true;
		h->stats.up = 1;
		h->reported_down = false;
		h->dial_seen_stale = true;
		pthread_mutex_unlock(&s->mtx);
		emit(s, SECSTAT_SUB_UP, (size_t)hi, fam, NULL);
	}

	if (p->host != NULL && p->host->has_epoch) {
		if (t->has_epoch && t->epoch != p->host->epoch) {
			gap = true; /* restarted: everything is new */
		}
		t->has_epoch = true;
		t->epoch = p->host->epoch;
	}
	if (!gap && t->seq != 0 && p->sequence != t->seq + 1) {
		gap = true;
		pthread_mutex_lock(&s->mtx);
		if (p->sequence > t->seq) {
			h->stats.lost += p->sequence - t->seq - 1;
		}
		pthread_mutex_unlock(&s->mtx);
	}
	if (gap) {
		struct secstat_sub_event ev = {
		    .type = SECSTAT_SUB_GAP,
		    .host = (size_t)hi,
		    .family = fam,
		    .sequence = p->sequence,
		    .expected = t->seq + 1,
		};
		pthread_mutex_lock(&s->mtx);
		h->stats.gaps++;
		pthread_mutex_unlock(&s->mtx);
		set_state(s, t, NULL);
		if (t->resync_pending) {
			/* The deltas kept so far no longer follow on from
			 * each other. */
			t->pending_broken = true;
		}
		if (s->fn != NULL) {
			s->fn(&ev, s->arg);
		}
	}
	t->seq = p->sequence;

	switch (p->kind) {
	case SECSTAT__V1__PUBLISH_KIND__PUBLISH_FULL: {
		Secstat__V1__Reply *st = state_from_full(p);
		if (st != NULL) {
			set_state(s, t, st);
			pending_clear(t);
			struct secstat_sub_event ev = {
			    .type = SECSTAT_SUB_UPDATE,
			    .host = (size_t)hi,
			    .family = fam,
			    .kind = p->kind,
			    .state = st,
			    .sequence = p->sequence,
			};
			if (s->fn != NULL) {
				s->fn(&ev, s->arg);
			}
		}
		break;
	}
	case SECSTAT__V1__PUBLISH_KIND__PUBLISH_DELTA:
		if (t->state == NULL) {
			/* Kept for the resync's answer: what changes after
			 * the snapshot it returns must not be lost. */
			request_resync(s, (size_t)hi, fam);
			if (t->resync_pending) {
				pending_add(t, p);
				return;
			}
			break;
		}
		pthread_mutex_lock(&s->mtx);
		if (state_apply(t->state, p) != 0) {
			Secstat__V1__Reply *old = t->state;
			t->state = NULL;
			pthread_mutex_unlock(&s->mtx);
			secstat_reply_free(old);
			request_resync(s, (size_t)hi, fam);
			break;
		}
		pthread_mutex_unlock(&s->mtx);
		{
			struct secstat_sub_event ev = {
			    .type = SECSTAT_SUB_UPDATE,
			    .host = (size_t)hi,
			    .family = fam,
			    .kind = p->kind,
			    .state = t->state,
			    .sequence = p->sequence,
			};
			if (s->fn != NULL) {
				s->fn(&ev, s->arg);
			}
		}
		break;
	default:
		if (t->state == NULL) {
			request_resync(s, (size_t)hi, fam);
		}
		break;
	}
out:
	secstat__v1__publish__free_unpacked(p, NULL);
}

/* Brings a resynced state up to date with the deltas that arrived
 * while it was fetched: those of later snapshots, in order. */
static void
replay_pending(secstat_subscription *s, struct topic_state *t)
{
	for (size_t i = 0; i < t->n_pending && t->state != NULL; i++) {
		const Secstat__V1__Publish *p = t->pending[i];

		if (p->collected_unix_ms <= t->state->collected_unix_ms) {
			continue; /* already in the answer */
		}
		pthread_mutex_lock(&s->mtx);
		if (state_apply(t->state, p) != 0) {
			Secstat__V1__Reply *old = t->state;
			t->state = NULL;
			pthread_mutex_unlock(&s->mtx);
			secstat_reply_free(old);
			return;
		}
		pthread_mutex_unlock(&s->mtx);
	}
}

static void
handle_results(secstat_subscription *s)
{
	struct resync *list;

	pthread_mutex_lock(&s->rmtx);
	list = s->results;
	s->results = NULL;
	pthread_mutex_unlock(&s->rmtx);
	while (list != NULL) {
		struct resync *r = list;
		struct topic_state *t = &s->hosts[r->host].t[r->family];

		list = r->next;
		t->resync_pending = false;
		if (r->reply != NULL && t->pending_broken && t->state == NULL) {
			/* Deltas were lost while waiting: this answer cannot
			 * be brought up to date. Ask again. */
			pending_clear(t);
			request_resync(s, r->host, r->family);
			secstat_reply_free(r->reply);
			free(r);
			continue;
		}
		if (r->reply != NULL) {
			/* The agent answered: its status (an unavailable
			 * family too) is the state. A full message may have
			 * come meanwhile: keep the newer of the two. */
			if (t->state == NULL ||
			    r->reply->collected_unix_ms >=
			        t->state->collected_unix_ms) {
				set_state(s, t, r->reply);
				r->reply = NULL;
				replay_pending(s, t);
			}
			pending_clear(t);
			pthread_mutex_lock(&s->mtx);
			s->hosts[r->host].stats.resyncs++;
			pthread_mutex_unlock(&s->mtx);
			emit(s, SECSTAT_SUB_RESYNC, r->host, r->family,
			     t->state);
		} else {
			struct secstat_sub_event ev = {
			    .type = SECSTAT_SUB_RESYNC_FAILED,
			    .host = r->host,
			    .family = r->family,
			    .status = r->status,
			};
			if (s->fn != NULL) {
				s->fn(&ev, s->arg);
			}
		}
		secstat_reply_free(r->reply);
		free(r);
	}
}

/* Why host h's stream is down, when its dialer's failed attempts since
 * the last look say (RPC_E_ACCESS_DENIED: TLS handshake rejected,
 * RPC_E_VERSION_MISMATCH: not a PUB socket, RPC_E_SERVER_DIED_DNE:
 * refused), else 0. `*snapshot`: nng statistics, taken on first use. */
static uint32_t
down_reason(struct sub_host *h, nng_stat **snapshot)
{
	struct dial_failures now;
	uint32_t status = 0;

	if (!h->dialing ||
	    (*snapshot == NULL && nng_stats_get(snapshot) != 0) ||
	    !dial_failures_read(*snapshot, h->dialer, &now)) {
		return 0;
	}
	if (!h->dial_seen_stale && dial_failures_new(&h->dial_seen, &now) > 0) {
		status = dial_failures_status(
		    &h->dial_seen, &now, tls_client_url_is_tls(h->pub_url));
	}
	h->dial_seen = now;
	h->dial_seen_stale = false;
	return status;
}

/* Reports DOWN each host silent for its limit, and at once a host not up
 * whose connection attempts fail (with the reason), rather than after
 * the silence limit. */
static void
check_heartbeats(secstat_subscription *s, uint64_t now)
{
	nng_stat *snapshot = NULL;

	for (size_t i = 0; i < s->n; i++) {
		struct sub_host *h = &s->hosts[i];
		uint64_t limit = s->down_after_ms;
		uint64_t since = h->heard ? h->last_msg_ms : s->start_ms;
		uint32_t why = 0;

		if (h->reported_down) {
			continue;
		}
		if (limit == 0) {
			limit = h->heartbeat_ms != 0
			            ? 3ull * h->heartbeat_ms
			            : SECSTAT_SUB_DEFAULT_DOWN_MS;
		}
		if (!h->up) {
			why = down_reason(h, &snapshot);
		}
		if (now - since < limit && why == 0) {
			continue;
		}
		pthread_mutex_lock(&s->mtx);
		h->up = false;
		h->stats.up = 0;
		h->reported_down = true;
		pthread_mutex_unlock(&s->mtx);
		if (s->fn != NULL) {
			struct secstat_sub_event ev = {
			    .type = SECSTAT_SUB_DOWN,
			    .host = i,
			    .status = why,
			};

			s->fn(&ev, s->arg);
		}
	}
	if (snapshot != NULL) {
		nng_stats_free(snapshot);
	}
}

/* Counts connections, so that close can wait for them to be gone. nng
 * pairs REM_POST with ADD_PRE: a pipe it rejects (a peer that is not a
 * PUB socket) gets no ADD_POST but is removed all the same. */
static void
pipe_event(nng_pipe pipe, nng_pipe_ev ev, void *arg)
{
	secstat_subscription *s = arg;

	(void)pipe;
	pthread_mutex_lock(&s->qmtx);
	s->pipes += ev == NNG_PIPE_EV_ADD_PRE ? 1 : -1;
	pthread_cond_broadcast(&s->qcv);
	pthread_mutex_unlock(&s->qmtx);
}

static void
recv_done(void *arg)
{
	secstat_subscription *s = arg;

	pthread_mutex_lock(&s->qmtx);
	s->rdone = true;
	pthread_cond_signal(&s->qcv);
	pthread_mutex_unlock(&s->qmtx);
}

static void *
sub_main(void *arg)
{
	secstat_subscription *s = arg;

	nng_recv_aio(s->sock, s->raio);
	while (!atomic_load(&s->stop)) {
		uint64_t deadline = mono_ms() + TICK_MS, now;
		struct timespec ts = {
		    .tv_sec = (time_t)(deadline / 1000),
		    .tv_nsec = (long)(deadline % 1000) * 1000000L,
		};
		bool done;

		pthread_mutex_lock(&s->qmtx);
		while (!s->rdone && !atomic_load(&s->stop) &&
		       pthread_cond_timedwait(&s->qcv, &s->qmtx, &ts) == 0) {
		}
		done = s->rdone;
		s->rdone = false;
		pthread_mutex_unlock(&s->qmtx);
		now = mono_ms();
		if (done) {
			int rv = nng_aio_result(s->raio);

			if (rv == 0) {
				nng_msg *msg = nng_aio_get_msg(s->raio);

				handle_message(s, msg, now);
				nng_msg_free(msg);
			} else if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
				break;
			}
			nng_recv_aio(s->sock, s->raio);
		}
		handle_results(s);
		check_heartbeats(s, now);
	}
	return NULL;
}

static void *
resync_main(void *arg)
{
	secstat_subscription *s = arg;
	struct secstat_session_options o;

	secstat_session_options_init(&o);
	o.timeout_ms = s->timeout_ms;
	o.flags = SECSTAT_SESSION_NONBLOCK;
	o.tls_ca_file = s->tls_ca;
	o.tls_cert_file = s->tls_cert;
	o.tls_key_file = s->tls_key;
	o.tls_server_name = s->tls_server_name;
	pthread_mutex_lock(&s->rmtx);
	while (!atomic_load(&s->stop)) {
		struct resync *r = s->requests;
		struct sub_host *h;

		if (r == NULL) {
			pthread_cond_wait(&s->rcv, &s->rmtx);
			continue;
		}
		s->requests = r->next;
		pthread_mutex_unlock(&s->rmtx);
		h = &s->hosts[r->host];
		r->status = ERROR_SUCCESS;
		if (h->session == NULL) {
			/* The session refuses a credential over anything
			 * but TLS: send it to those hosts only. */
			bool tls = tls_client_url_is_tls(h->req_url);

			o.client_id = tls ? s->client_id : NULL;
			o.token = tls ? s->token : NULL;
			r->status =
			    secstat_session_open(&h->session, h->req_url, &o);
		}
		if (r->status == ERROR_SUCCESS) {
			r->status = secstat_session_call(
			    h->session, family_methods[r->family], &r->reply);
		}
		pthread_mutex_lock(&s->rmtx);
		r->next = s->results;
		s->results = r;
	}
	pthread_mutex_unlock(&s->rmtx);
	return NULL;
}

/* ---- open, query, close ---- */

static int
map_cmp(const void *a, const void *b)
{
	const struct dialer_map *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static void
free_list(struct resync *r)
{
	while (r != NULL) {
		struct resync *next = r->next;
		secstat_reply_free(r->reply);
		free(r);
		r = next;
	}
}

void
secstat_subscription_close(secstat_subscription *s)
{
	if (s == NULL) {
		return;
	}
	/* Connections first, and wait until they are gone (bounded):
	 * closing a socket whose pipes are still delivering can hang in
	 * nng 1.5 (nng issue #1543). */
	for (size_t i = 0; i < s->n; i++) {
		if (s->hosts[i].dialing) {
			nng_dialer_close(s->hosts[i].dialer);
			s->hosts[i].dialing = false;
		}
	}
	{
		uint64_t end = mono_ms() + CLOSE_WAIT_MS;
		struct timespec ts = {
		    .tv_sec = (time_t)(end / 1000),
		    .tv_nsec = (long)(end % 1000) * 1000000L,
		};

		pthread_mutex_lock(&s->qmtx);
		while (s->pipes > 0 &&
		       pthread_cond_timedwait(&s->qcv, &s->qmtx, &ts) == 0) {
		}
		pthread_mutex_unlock(&s->qmtx);
	}
	atomic_store(&s->stop, true);
	pthread_mutex_lock(&s->rmtx);
	pthread_cond_broadcast(&s->rcv);
	pthread_mutex_unlock(&s->rmtx);
	pthread_mutex_lock(&s->qmtx);
	pthread_cond_broadcast(&s->qcv);
	pthread_mutex_unlock(&s->qmtx);
	if (s->thread_started) {
		pthread_join(s->thread, NULL);
	}
	if (s->raio != NULL) {
		nng_aio_stop(s->raio);
		if (nng_aio_result(s->raio) == 0 &&
		    nng_aio_get_msg(s->raio) != NULL && s->rdone) {
			nng_msg_free(nng_aio_get_msg(s->raio));
		}
	}
	if (s->worker_started) {
		pthread_join(s->worker, NULL);
	}
	nng_close(s->sock);
	for (size_t i = 0; i < s->n; i++) {
		struct sub_host *h = &s->hosts[i];

		secstat_session_close(h->session);
		for (int f = 0; f < N_FAMILIES; f++) {
			secstat_reply_free(h->t[f].state);
			pending_clear(&h->t[f]);
		}
		free(h->pub_url);
		free(h->req_url);
		free(h->name);
	}
	free_list(s->requests);
	free_list(s->results);
	free(s->hosts);
	if (s->token != NULL) {
		memset(s->token, 0, strlen(s->token));
	}
	free(s->token);
	free(s->client_id);
	free(s->tls_ca);
	free(s->tls_cert);
	free(s->tls_key);
	free(s->tls_server_name);
	free(s->map);
	nng_aio_free(s->raio);
	pthread_mutex_destroy(&s->mtx);
	pthread_mutex_destroy(&s->rmtx);
	pthread_cond_destroy(&s->rcv);
	pthread_mutex_destroy(&s->qmtx);
	pthread_cond_destroy(&s->qcv);
	free(s);
}

static int
subscribe_topics(secstat_subscription *s,
                 const struct secstat_subscribe_options *o)
{
	int rv;

	if (o->n_topics > 0) {
		for (size_t i = 0; i < o->n_topics; i++) {
			if (o->topics[i] == NULL) {
				return NNG_EINVAL;
			}
			if ((rv = nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE,
			                         o->topics[i],
			                         strlen(o->topics[i]))) != 0) {
				return rv;
			}
		}
		return 0;
	}
	for (int f = 1; f < N_FAMILIES; f++) {
		char topic[16];

		if ((s->families & SECSTAT_FAMILY_MASK(f)) == 0) {
			continue;
		}
		snprintf(topic, sizeof(topic), "%s/", family_words[f]);
		if ((rv = nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, topic,
		                         strlen(topic))) != 0) {
			return rv;
		}
	}
	return 0;
}

uint32_t
secstat_subscribe(secstat_subscription **sp,
                  const struct secstat_sub_host *hosts, size_t n,
                  const struct secstat_subscribe_options *opts,
                  secstat_sub_fn fn, void *arg)
{
	struct secstat_subscribe_options o;
	secstat_subscription *s;
	uint32_t status;
	int rv;

	if (sp == NULL) {
		return ERROR_INVALID_PARAMETER;
	}
	*sp = NULL;
	if (hosts == NULL || n == 0 || n > SECSTAT_FLEET_MAX_HOSTS) {
		return ERROR_INVALID_PARAMETER;
	}
	secstat_subscribe_options_init(&o);
	if (opts != NULL) {
		if (opts->size < sizeof(uint32_t) * 2 ||
		    opts->size > sizeof(o)) {
			return ERROR_INVALID_PARAMETER;
		}
		memcpy(&o, opts, opts->size);
		if (o.flags != 0 || (o.n_topics > 0 && o.topics == NULL)) {
			return ERROR_INVALID_PARAMETER;
		}
		if ((o.client_id == NULL) != (o.token == NULL)) {
			return ERROR_INVALID_PARAMETER;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (hosts[i].pub_url == NULL) {
			return ERROR_INVALID_PARAMETER;
		}
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		return error_from_errno(-ENOMEM);
	}
	pthread_mutex_init(&s->mtx, NULL);
	pthread_mutex_init(&s->rmtx, NULL);
	pthread_cond_init(&s->rcv, NULL);
	pthread_mutex_init(&s->qmtx, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&s->qcv, &ca);
		pthread_condattr_destroy(&ca);
	}
	s->families = o.families != 0
	                  ? o.families
	                  : SECSTAT_FAMILY_IPSEC | SECSTAT_FAMILY_IKE |
	                        SECSTAT_FAMILY_ISCSI;
	s->down_after_ms = o.down_after_ms;
	s->timeout_ms = o.timeout_ms;
	s->fn = fn;
	s->arg = arg;
	s->start_ms = mono_ms();
	if ((rv = nng_sub0_open(&s->sock)) != 0) {
		pthread_mutex_destroy(&s->mtx);
		pthread_mutex_destroy(&s->rmtx);
		pthread_cond_destroy(&s->rcv);
		pthread_mutex_destroy(&s->qmtx);
		pthread_cond_destroy(&s->qcv);
		free(s);
		return error_from_nng(rv, ERROR_STAGE_DIAL);
	}
	if ((s->hosts = calloc(n, sizeof(*s->hosts))) == NULL ||
	    (s->map = calloc(n, sizeof(*s->map))) == NULL ||
	    (o.tls_ca_file != NULL &&
	     (s->tls_ca = strdup(o.tls_ca_file)) == NULL) ||
	    (o.tls_cert_file != NULL &&
	     (s->tls_cert = strdup(o.tls_cert_file)) == NULL) ||
	    (o.tls_key_file != NULL &&
	     (s->tls_key = strdup(o.tls_key_file)) == NULL) ||
	    (o.tls_server_name != NULL &&
	     (s->tls_server_name = strdup(o.tls_server_name)) == NULL) ||
	    (o.client_id != NULL &&
	     (s->client_id = strdup(o.client_id)) == NULL) ||
	    (o.token != NULL && (s->token = strdup(o.token)) == NULL)) {
		status = error_from_errno(-ENOMEM);
		goto fail;
	}
	s->n = n;
	if ((rv = nng_aio_alloc(&s->raio, recv_done, s)) != 0 ||
	    (rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_ADD_PRE, pipe_event,
	                          s)) != 0 ||
	    (rv = nng_pipe_notify(s->sock, NNG_PIPE_EV_REM_POST, pipe_event,
	                          s)) != 0 ||
	    (rv = nng_socket_set_size(s->sock, NNG_OPT_RECVMAXSZ,
	                              SECSTAT_REPLY_MAX_BYTES)) != 0 ||
	    (rv = nng_socket_set_int(s->sock, NNG_OPT_RECVBUF,
	                             o.recv_buffer ? (int)o.recv_buffer
	                                           : DEFAULT_RECVBUF)) != 0 ||
	    (rv = nng_socket_set_ms(s->sock, NNG_OPT_RECONNMINT, 100)) != 0 ||
	    (rv = nng_socket_set_ms(s->sock, NNG_OPT_RECONNMAXT, 2000)) != 0 ||
	    (rv = subscribe_topics(s, &o)) != 0) {
		status = error_from_nng(rv, ERROR_STAGE_DIAL);
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct sub_host *h = &s->hosts[i];
		nng_dialer d;

		h->pub_url = strdup(hosts[i].pub_url);
		h->req_url = hosts[i].req_url ? strdup(hosts[i].req_url) : NULL;
		h->name = hosts[i].name ? strdup(hosts[i].name) : NULL;
		if (h->pub_url == NULL ||
		    (hosts[i].req_url != NULL && h->req_url == NULL) ||
		    (hosts[i].name != NULL && h->name == NULL)) {
			status = error_from_errno(-ENOMEM);
			goto fail;
		}
		if ((rv = nng_dialer_create(&d, s->sock, h->pub_url)) != 0) {
			status = error_from_nng(rv, ERROR_STAGE_DIAL);
			goto fail;
		}
		(void)nng_dialer_set_size(d, NNG_OPT_RECVMAXSZ,
		                          SECSTAT_REPLY_MAX_BYTES);
		if (tls_client_url_is_tls(h->pub_url) &&
		    (rv = tls_client_setup(d, h->pub_url, s->tls_ca,
		                           s->tls_cert, s->tls_key,
		                           s->tls_server_name)) != 0) {
			nng_dialer_close(d);
			status = error_from_errno(rv);
			goto fail;
		}
		if ((rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK)) != 0) {
			status = error_from_nng(rv, ERROR_STAGE_DIAL);
			goto fail;
		}
		h->dialer = d;
		h->dialing = true;
		h->dialer_id = nng_dialer_id(d);
		s->map[i].id = h->dialer_id;
		s->map[i].host = i;
	}
	qsort(s->map, n, sizeof(*s->map), map_cmp);
	if (pthread_create(&s->worker, NULL, resync_main, s) != 0) {
		status = RPC_E_OUT_OF_RESOURCES;
		goto fail;
	}
	s->worker_started = true;
	if (pthread_create(&s->thread, NULL, sub_main, s) != 0) {
		status = RPC_E_OUT_OF_RESOURCES;
		goto fail;
	}
	s->thread_started = true;
	*sp = s;
	return ERROR_SUCCESS;
fail:
	secstat_subscription_close(s);
	return status;
}

uint32_t
secstat_subscription_state(secstat_subscription *s, size_t host,
                           Secstat__V1__Family family,
                           Secstat__V1__Reply **copy)
{
	uint32_t status = FWP_E_NOT_FOUND;

	if (copy == NULL) {
		return ERROR_INVALID_PARAMETER;
	}
	*copy = NULL;
	if (s == NULL || host >= s->n || family <= 0 || family >= N_FAMILIES) {
		return ERROR_INVALID_PARAMETER;
	}
	pthread_mutex_lock(&s->mtx);
	if (s->hosts[host].t[family].state != NULL) {
		*copy = (Secstat__V1__Reply *)aggregate_copy(
		    &s->hosts[host].t[family].state->base);
		status = *copy != NULL ? ERROR_SUCCESS : RPC_E_OUT_OF_RESOURCES;
	}
	pthread_mutex_unlock(&s->mtx);
	return status;
}

uint32_t
secstat_subscription_stats(secstat_subscription *s, size_t host,
                           struct secstat_sub_stats *st)
{
	if (s == NULL || st == NULL || host >= s->n) {
		return ERROR_INVALID_PARAMETER;
	}
	pthread_mutex_lock(&s->mtx);
	*st = s->hosts[host].stats;
	pthread_mutex_unlock(&s->mtx);
	return ERROR_SUCCESS;
}
