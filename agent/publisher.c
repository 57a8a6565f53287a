/* PUB stream: sample, diff, encode once, send without blocking. */
#include "publisher.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/pub.h>

#include "collector.h"
#include "hostinfo.h"
#include "log.h"
#include "methods.h"
#include "model.h"
#include "secstat/v1/service.pb-c.h"
#include "secstat/v1/stream.pb-c.h"
#include "snapshot.h"
#include "tls.h"

#define TOPIC_MAX 300

/* One topic: a family of this host. */
struct topic {
	const char *family_name; /* topic prefix word */
	Secstat__V1__Family family;
	const char *method; /* whose cached reply feeds it */
	int method_index;
	char prefix[TOPIC_MAX];
	size_t prefix_len;

	uint64_t sequence;
	unsigned since_full;      /* messages since the last full one */
	uint64_t last_sent_ms;    /* CLOCK_MONOTONIC */
	uint64_t snapshot_seq;    /* snapshot the state below comes from */
	Secstat__V1__Reply *prev; /* last state sent (unpacked) */
	uint64_t sent;
};

struct publisher {
	struct collector *collector;
	const struct hostinfo *host;
	struct publisher_params params;
	nng_socket sock;
	bool sock_open;
	struct topic topics[3];

	pthread_mutex_t mtx;
	pthread_cond_t cv;
	bool stop;
	bool started;
	pthread_t thread;
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000ULL +
	       (uint64_t)ts.tv_nsec / 1000000ULL;
}

/* ---- the diff ---- */

static void *
field_addr(ProtobufCMessage *msg, const ProtobufCFieldDescriptor *fd,
           unsigned offset)
{
	(void)fd;
	return (char *)msg + offset;
}

static ProtobufCMessage *
new_message(struct arena *a, const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = arena_alloc(a, d->sizeof_message);

	d->message_init(m);
	return m;
}

static bool
is_oneof(const ProtobufCFieldDescriptor *fd)
{
	return (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) != 0;
}

/* Marks a singular field present (has_ flag or oneof case). */
static void
mark_present(ProtobufCMessage *m, const ProtobufCFieldDescriptor *fd)
{
	if (is_oneof(fd)) {
		*(uint32_t *)field_addr(m, fd, fd->quantifier_offset) = fd->id;
	} else if (fd->label == PROTOBUF_C_LABEL_OPTIONAL &&
	           fd->type != PROTOBUF_C_TYPE_MESSAGE &&
	           fd->type != PROTOBUF_C_TYPE_STRING) {
		*(protobuf_c_boolean *)field_addr(m, fd,
		                                  fd->quantifier_offset) = 1;
	}
}

/* Copies the raw member (pointer, number, bytes struct) of a singular
 * field from `src` and marks it present. */
static void
copy_member(ProtobufCMessage *dst, const ProtobufCMessage *src,
            const ProtobufCFieldDescriptor *fd)
{
	size_t size;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		size = 8;
		break;
	case PROTOBUF_C_TYPE_BOOL:
		size = sizeof(protobuf_c_boolean);
		break;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		size = sizeof(void *);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		size = sizeof(ProtobufCBinaryData);
		break;
	default:
		size = 4;
	}
	memcpy(field_addr(dst, fd, fd->offset), (const char *)src + fd->offset,
	       size);
	mark_present(dst, fd);
}

/* A placeholder value meaning "this field was removed". */
static void
mark_removed(struct arena *a, ProtobufCMessage *r,
             const ProtobufCFieldDescriptor *fd)
{
	if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t es = fd->type == PROTOBUF_C_TYPE_MESSAGE ||
		                    fd->type == PROTOBUF_C_TYPE_STRING
		                ? sizeof(void *)
		            : fd->type == PROTOBUF_C_TYPE_BYTES
		                ? sizeof(ProtobufCBinaryData)
		                : 8;
		void *array = arena_alloc(a, es);

		if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
			*(ProtobufCMessage **)array =
			    new_message(a, fd->descriptor);
		} else if (fd->type == PROTOBUF_C_TYPE_STRING) {
			*(const char **)array = "";
		}
		*(void **)field_addr(r, fd, fd->offset) = array;
		*(size_t *)field_addr(r, fd, fd->quantifier_offset) = 1;
		return;
	}
	if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
		*(ProtobufCMessage **)field_addr(r, fd, fd->offset) =
		    new_message(a, fd->descriptor);
	} else if (fd->type == PROTOBUF_C_TYPE_STRING) {
		*(const char **)field_addr(r, fd, fd->offset) = "";
	}
	/* Numbers: zero, which arena_alloc already is. */
	mark_present(r, fd);
}

static bool
packed_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	size_t la = protobuf_c_message_get_packed_size(a);
	size_t lb = protobuf_c_message_get_packed_size(b);
	uint8_t sa[2048], sb[2048];
	uint8_t *pa = la <= sizeof(sa) ? sa : malloc(la);
	uint8_t *pb = lb <= sizeof(sb) ? sb : malloc(lb);
	bool eq = false;

	if (la == lb && pa != NULL && pb != NULL) {
		protobuf_c_message_pack(a, pa);
		protobuf_c_message_pack(b, pb);
		eq = memcmp(pa, pb, la) == 0;
	}
	if (pa != sa) {
		free(pa);
	}
	if (pb != sb) {
		free(pb);
	}
	return eq;
}

static bool
repeated_equal(const ProtobufCMessage *p, const ProtobufCMessage *c,
               const ProtobufCFieldDescriptor *fd)
{
	size_t n = model_field_count(c, fd);

	if (model_field_count(p, fd) != n) {
		return false;
	}
	for (size_t k = 0; k < n; k++) {
		switch (fd->type) {
		case PROTOBUF_C_TYPE_MESSAGE:
			if (!packed_equal(model_field_message(p, fd, k),
			                  model_field_message(c, fd, k))) {
				return false;
			}
			break;
		case PROTOBUF_C_TYPE_STRING: {
			const char *const *ap =
			    *(const char *const *const *)((const char *)p +
			                                  fd->offset);
			const char *const *cp =
			    *(const char *const *const *)((const char *)c +
			                                  fd->offset);
			if (strcmp(ap[k], cp[k]) != 0) {
				return false;
			}
			break;
		}
		case PROTOBUF_C_TYPE_BYTES:
			return false; /* none in the schema: always resend */
		default:
			if (model_field_u64(p, fd, k) !=
			    model_field_u64(c, fd, k)) {
				return false;
			}
		}
	}
	return true;
}

static bool
singular_equal(const ProtobufCMessage *p, const ProtobufCMessage *c,
               const ProtobufCFieldDescriptor *fd)
{
	if (fd->type == PROTOBUF_C_TYPE_STRING) {
		return strcmp(
		           *(const char *const *)((const char *)p + fd->offset),
		           *(const char *const *)((const char *)c +
		                                  fd->offset)) == 0;
	}
	if (fd->type == PROTOBUF_C_TYPE_BYTES) {
		const ProtobufCBinaryData *a =
		    (const void *)((const char *)p + fd->offset);
		const ProtobufCBinaryData *b =
		    (const void *)((const char *)c + fd->offset);
		return a->len == b->len &&
		       (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
	}
	return model_field_u64(p, fd, 0) == model_field_u64(c, fd, 0);
}

void
publisher_diff(struct arena *a, const ProtobufCMessage *prev,
               const ProtobufCMessage *cur, ProtobufCMessage **changed,
               ProtobufCMessage **removed)
{
	const ProtobufCMessageDescriptor *d = cur->descriptor;
	ProtobufCMessage *ch = NULL, *rm = NULL;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		bool pp = model_field_present(prev, fd);
		bool cp = model_field_present(cur, fd);

		if (!pp && !cp) {
			continue;
		}
		if (pp && !cp) {
			if (rm == NULL) {
				rm = new_message(a, d);
			}
			mark_removed(a, rm, fd);
			continue;
		}
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			if (pp && repeated_equal(prev, cur, fd)) {
				continue;
			}
			if (ch == NULL) {
				ch = new_message(a, d);
			}
			/* The whole list, shared with `cur`. */
			*(void **)field_addr(ch, fd, fd->offset) =
			    *(void *const *)((const char *)cur + fd->offset);
			*(size_t *)field_addr(ch, fd, fd->quantifier_offset) =
			    model_field_count(cur, fd);
			continue;
		}
		if (fd->type == PROTOBUF_C_TYPE_MESSAGE && pp) {
			ProtobufCMessage *sc = NULL, *sr = NULL;

			publisher_diff(a, model_field_message(prev, fd, 0),
			               model_field_message(cur, fd, 0), &sc,
			               &sr);
			if (sc != NULL) {
				if (ch == NULL) {
					ch = new_message(a, d);
				}
				*(ProtobufCMessage **)field_addr(
				    ch, fd, fd->offset) = sc;
				mark_present(ch, fd);
			}
			if (sr != NULL) {
				if (rm == NULL) {
					rm = new_message(a, d);
				}
				*(ProtobufCMessage **)field_addr(
				    rm, fd, fd->offset) = sr;
				mark_present(rm, fd);
			}
			continue;
		}
		if (pp && singular_equal(prev, cur, fd)) {
			continue;
		}
		if (ch == NULL) {
			ch = new_message(a, d);
		}
		copy_member(ch, cur, fd);
	}
	*changed = ch;
	*removed = rm;
}

/* ---- sampling and sending ---- */

static const ProtobufCMessage *
reply_result(const Secstat__V1__Reply *r)
{
	const ProtobufCMessageDescriptor *d = r->base.descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];

		if (is_oneof(fd) && model_field_present(&r->base, fd)) {
			return model_field_message(&r->base, fd, 0);
		}
	}
	return NULL;
}

/* Puts a result message into the StreamData member of its family. */
static Secstat__V1__StreamData *
stream_data(struct arena *a, const ProtobufCMessage *m)
{
	Secstat__V1__StreamData *sd;

	if (m == NULL) {
		return NULL;
	}
	sd = arena_alloc(a, sizeof(*sd));
	secstat__v1__stream_data__init(sd);
	if (m->descriptor ==
	    &secstat__v1__ipsec_get_statistics_response__descriptor) {
		sd->ipsec = (Secstat__V1__IpsecGetStatisticsResponse *)m;
	} else if (m->descriptor ==
	           &secstat__v1__ikeext_get_statistics_response__descriptor) {
		sd->ikeext = (Secstat__V1__IkeextGetStatisticsResponse *)m;
	} else if (m->descriptor ==
	           &secstat__v1__iscsi_get_statistics_response__descriptor) {
		sd->iscsi = (Secstat__V1__IscsiGetStatisticsResponse *)m;
	} else {
		return NULL;
	}
	return sd;
}

static void
send_publish(struct publisher *p, struct topic *t, Secstat__V1__Publish *pub)
{
	size_t len = secstat__v1__publish__get_packed_size(pub);
	nng_msg *msg;
	int rv;

	if ((rv = nng_msg_alloc(&msg, t->prefix_len + len)) != 0) {
		log_warning("publisher: %s: no memory for a message",
		            t->prefix);
		return;
	}
	memcpy(nng_msg_body(msg), t->prefix, t->prefix_len);
	secstat__v1__publish__pack(pub, (uint8_t *)nng_msg_body(msg) +
	                                    t->prefix_len);
	/* PUB drops for slow subscribers rather than blocking; NONBLOCK so
	 * that nothing here can ever wait. */
	if ((rv = nng_sendmsg(p->sock, msg, NNG_FLAG_NONBLOCK)) != 0) {
		nng_msg_free(msg);
		log_debug("publisher: %s: %s", t->prefix, nng_strerror(rv));
	}
	t->sent++;
}

static void
publish_topic(struct publisher *p, struct topic *t, struct snapshot *s,
              uint64_t now)
{
	struct arena a = ARENA_INIT;
	Secstat__V1__Publish pub;
	Secstat__V1__HostInfo host;
	Secstat__V1__Reply *cur = NULL;
	Secstat__V1__PublishKind kind =
	    SECSTAT__V1__PUBLISH_KIND__PUBLISH_HEARTBEAT;
	const Secstat__V1__Reply *state;
	bool send = false;

	if (s != NULL && s->seq != t->snapshot_seq && t->method_index >= 0) {
		struct snapshot_bytes b = snapshot_reply(s, t->method_index);

		cur = secstat__v1__reply__unpack(NULL, b.len, b.data);
		if (cur == NULL) {
			log_err("publisher: %s: cannot decode the snapshot",
			        t->prefix);
		}
		t->snapshot_seq = s->seq;
	}
	secstat__v1__publish__init(&pub);
	if (cur != NULL) {
		const Secstat__V1__Reply *prev = t->prev;

		if (prev == NULL || prev->status != cur->status ||
		    t->since_full + 1 >= p->params.full_every) {
			kind = SECSTAT__V1__PUBLISH_KIND__PUBLISH_FULL;
			pub.data = stream_data(&a, reply_result(cur));
			send = true;
		} else {
			const ProtobufCMessage *pm = reply_result(prev);
			const ProtobufCMessage *cm = reply_result(cur);
			ProtobufCMessage *ch = NULL, *rm = NULL;

			if (pm != NULL && cm != NULL &&
			    pm->descriptor == cm->descriptor) {
				publisher_diff(&a, pm, cm, &ch, &rm);
			} else if (pm != NULL || cm != NULL) {
				/* A result appeared or vanished. */
				kind = SECSTAT__V1__PUBLISH_KIND__PUBLISH_FULL;
				pub.data = stream_data(&a, cm);
				send = true;
			}
			if (ch != NULL || rm != NULL) {
				kind = SECSTAT__V1__PUBLISH_KIND__PUBLISH_DELTA;
				pub.data = stream_data(&a, ch);
				pub.removed = stream_data(&a, rm);
				send = true;
			}
		}
	}
	if (!send && now - t->last_sent_ms >= p->params.heartbeat_ms) {
		send = true; /* heartbeat */
	}
	state = cur != NULL ? cur : t->prev;
	if (send && state != NULL) {
		hostinfo_to_proto(p->host, &host);
		if (kind != SECSTAT__V1__PUBLISH_KIND__PUBLISH_FULL) {
			/* Identity only: the rest is in every full message. */
			Secstat__V1__HostInfo small;

			secstat__v1__host_info__init(&small);
			small.hostname = host.hostname;
			small.has_epoch = 1;
			small.epoch = host.epoch;
			host = small;
		}
		pub.host = &host;
		pub.has_family = 1;
		pub.family = t->family;
		pub.has_sequence = 1;
		pub.sequence = ++t->sequence;
		pub.has_kind = 1;
		pub.kind = kind;
		pub.has_collected_unix_ms = state->has_collected_unix_ms;
		pub.collected_unix_ms = state->collected_unix_ms;
		pub.has_status = 1;
		pub.status = state->status;
		pub.message = state->message;
		pub.has_heartbeat_interval_ms = 1;
		pub.heartbeat_interval_ms = p->params.heartbeat_ms;
		pub.has_full_every = 1;
		pub.full_every = p->params.full_every;
		send_publish(p, t, &pub);
		t->last_sent_ms = now;
		t->since_full = kind == SECSTAT__V1__PUBLISH_KIND__PUBLISH_FULL
		                    ? 0
		                    : t->since_full + 1;
	}
	if (cur != NULL) {
		if (t->prev != NULL) {
			secstat__v1__reply__free_unpacked(t->prev, NULL);
		}
		t->prev = cur;
	}
	arena_release(&a);
}

static void
publish_all(struct publisher *p)
{
	struct snapshot *s = collector_acquire(p->collector);
	uint64_t now = mono_ms();

	for (size_t i = 0; i < 3; i++) {
		publish_topic(p, &p->topics[i], s, now);
	}
	snapshot_release(s);
}

static void *
publisher_main(void *arg)
{
	struct publisher *p = arg;
	uint64_t next = mono_ms();

	pthread_mutex_lock(&p->mtx);
	while (!p->stop) {
		uint64_t now = mono_ms();

		if (now < next) {
			struct timespec ts = {
			    .tv_sec = (time_t)(next / 1000),
			    .tv_nsec = (long)(next % 1000) * 1000000L,
			};
			pthread_cond_timedwait(&p->cv, &p->mtx, &ts);
			continue;
		}
		pthread_mutex_unlock(&p->mtx);
		publish_all(p);
		/* Keep the cadence, but never try to catch up a backlog. */
		next += p->params.interval_ms;
		if (next <= mono_ms()) {
			next = mono_ms() + p->params.interval_ms;
		}
		pthread_mutex_lock(&p->mtx);
	}
	pthread_mutex_unlock(&p->mtx);
	return NULL;
}

int
publisher_create(struct publisher **pp, struct collector *c,
                 const struct hostinfo *host,
                 const struct publisher_params *params)
{
	static const struct {
		const char *word;
		Secstat__V1__Family family;
		const char *method;
	} families[3] = {
	    {"ipsec", SECSTAT__V1__FAMILY__FAMILY_IPSEC, "IPsecGetStatistics1"},
	    {"ike", SECSTAT__V1__FAMILY__FAMILY_IKE, "IkeextGetStatistics1"},
	    {"iscsi", SECSTAT__V1__FAMILY__FAMILY_ISCSI, "IscsiGetStatistics"},
	};
	struct publisher *p = calloc(1, sizeof(*p));
	pthread_condattr_t ca;
	int rv;

	*pp = NULL;
	if (p == NULL) {
		return -ENOMEM;
	}
	p->collector = c;
	p->host = host;
	p->params = *params;
	if (p->params.interval_ms == 0) {
		p->params.interval_ms = 1000;
	}
	if (p->params.heartbeat_ms == 0) {
		p->params.heartbeat_ms = 5000;
	}
	if (p->params.full_every == 0) {
		p->params.full_every = 60;
	}
	pthread_mutex_init(&p->mtx, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	for (size_t i = 0; i < 3; i++) {
		struct topic *t = &p->topics[i];
		int n;

		t->family_name = families[i].word;
		t->family = families[i].family;
		t->method = families[i].method;
		t->method_index = methods_find(t->method);
		n = snprintf(t->prefix, sizeof(t->prefix), "%s/%s/",
		             t->family_name, host->hostname);
		t->prefix_len = n > 0 && (size_t)n < sizeof(t->prefix)
		                    ? (size_t)n
		                    : strlen(t->prefix);
	}
	if ((rv = nng_pub0_open(&p->sock)) != 0) {
		log_err("publisher: cannot open a PUB socket: %s",
		        nng_strerror(rv));
		publisher_destroy(p);
		return -ENOMEM;
	}
	p->sock_open = true;
	if (p->params.send_buffer != 0 &&
	    (rv = nng_socket_set_int(p->sock, NNG_OPT_SENDBUF,
	                             (int)p->params.send_buffer)) != 0) {
		log_warning("publisher: send buffer %u not set: %s",
		            p->params.send_buffer, nng_strerror(rv));
	}
	if (p->params.pipe_cb != NULL &&
	    ((rv = nng_pipe_notify(p->sock, NNG_PIPE_EV_ADD_PRE,
	                           p->params.pipe_cb, p->params.pipe_arg)) !=
	         0 ||
	     (rv = nng_pipe_notify(p->sock, NNG_PIPE_EV_REM_POST,
	                           p->params.pipe_cb, p->params.pipe_arg)) !=
	         0)) {
		log_err("publisher: pipe notifications: %s", nng_strerror(rv));
		publisher_destroy(p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->params.n_urls; i++) {
		if (p->params.tls != NULL) {
			nng_listener l;
			enum acl_transport t;

			if ((rv = tls_listen(p->sock, p->params.urls[i],
			                     p->params.tls, &l, &t)) != 0) {
				publisher_destroy(p);
				return rv;
			}
		} else if ((rv = nng_listen(p->sock, p->params.urls[i], NULL,
		                            0)) != 0) {
			log_err("publisher: cannot listen on %s: %s",
			        p->params.urls[i], nng_strerror(rv));
			publisher_destroy(p);
			return rv == NNG_EADDRINUSE ? -EADDRINUSE : -EINVAL;
		}
		log_info("publishing on %s", p->params.urls[i]);
	}
	*pp = p;
	return 0;
}

int
publisher_start(struct publisher *p)
{
	int rv = pthread_create(&p->thread, NULL, publisher_main, p);

	if (rv != 0) {
		log_err("publisher: cannot start thread: %s", strerror(rv));
		return -rv;
	}
	p->started = true;
	return 0;
}

void
publisher_destroy(struct publisher *p)
{
	if (p == NULL) {
		return;
	}
	pthread_mutex_lock(&p->mtx);
	p->stop = true;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mtx);
	if (p->started) {
		pthread_join(p->thread, NULL);
	}
	if (p->sock_open) {
		nng_close(p->sock);
	}
	for (size_t i = 0; i < 3; i++) {
		if (p->topics[i].prev != NULL) {
			secstat__v1__reply__free_unpacked(p->topics[i].prev,
			                                  NULL);
		}
	}
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mtx);
	free(p);
}
