/*
 * secstat-bench-load: the nng load generator. One REQ socket, one
 * connection, K contexts each keeping one request in flight with aio
 * (no thread per request, nothing blocks in a callback). Every request
 * is a real secstat Request envelope with its own request id, so the
 * same generator drives secstatd and the raw echo ceiling alike.
 *
 * After a warm-up it measures a window bounded by --duration (and by
 * --requests when given): completed requests per second, p50/p99
 * latency from per-context log-linear histograms, the server process's
 * CPU per request (/proc/PID/stat) and its own. One line of key=value
 * pairs on stdout; bench/bench.py parses it.
 *
 * --save-reply FILE sends a single request and writes the reply bytes:
 * that is how the echo and gRPC servers get the exact payload secstatd
 * serves.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>

#include "secstat/v1/service.pb-c.h"

#include "hist.h"
#include "procstat.h"

#define LOAD_MAX_INFLIGHT 1024
#define LOAD_REQ_MAX      256

struct load;

struct slot {
	struct load *load;
	nng_ctx ctx;
	nng_aio *aio;
	bool sending;
	bool idle;
	uint64_t t_start;
	uint64_t ok;
	uint64_t errors;
	uint64_t bytes;
	struct hist hist;
};

struct load {
	const char *method;
	atomic_bool running;
	atomic_bool measuring;
	atomic_uint_fast64_t next_id;
	atomic_uint_fast64_t done;
	uint64_t limit; /* 0: none */
	unsigned timeout_ms;
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	unsigned n_idle;
	bool limit_hit;
	struct slot *slots;
	unsigned n_slots;
};

static size_t
encode_request(struct load *l, uint8_t *buf, size_t cap)
{
	Secstat__V1__Request req = SECSTAT__V1__REQUEST__INIT;
	Secstat__V1__StatisticsRequest params =
	    SECSTAT__V1__STATISTICS_REQUEST__INIT;
	size_t len;

	req.has_request_id = true;
	req.request_id = atomic_fetch_add(&l->next_id, 1);
	req.method = (char *)l->method;
	req.params_case = SECSTAT__V1__REQUEST__PARAMS_STATISTICS;
	req.statistics = &params;
	len = secstat__v1__request__get_packed_size(&req);
	if (len > cap) {
		return 0;
	}
	return secstat__v1__request__pack(&req, buf);
}

static void
slot_go_idle(struct slot *s)
{
	struct load *l = s->load;

	pthread_mutex_lock(&l->mtx);
	s->idle = true;
	l->n_idle++;
	pthread_cond_broadcast(&l->cv);
	pthread_mutex_unlock(&l->mtx);
}

static void
slot_send(struct slot *s)
{
	uint8_t buf[LOAD_REQ_MAX];
	size_t len;
	nng_msg *msg;

	if (!atomic_load(&s->load->running)) {
		slot_go_idle(s);
		return;
	}
	len = encode_request(s->load, buf, sizeof(buf));
	if (len == 0 || nng_msg_alloc(&msg, 0) != 0 ||
	    nng_msg_append(msg, buf, len) != 0) {
		s->errors++;
		slot_go_idle(s);
		return;
	}
	s->sending = true;
	s->t_start = procstat_now_ns();
	nng_aio_set_msg(s->aio, msg);
	nng_ctx_send(s->ctx, s->aio);
}

static void
slot_cb(void *arg)
{
	struct slot *s = arg;
	struct load *l = s->load;
	nng_msg *msg;
	int rv;

	rv = nng_aio_result(s->aio);
	if (s->sending) {
		s->sending = false;
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(s->aio));
			s->errors++;
			slot_go_idle(s);
			return;
		}
		nng_ctx_recv(s->ctx, s->aio);
		return;
	}
	if (rv != 0) {
		s->errors++;
		slot_go_idle(s);
		return;
	}
	msg = nng_aio_get_msg(s->aio);
	if (atomic_load(&l->measuring)) {
		hist_record(&s->hist, procstat_now_ns() - s->t_start);
		s->ok++;
		s->bytes += nng_msg_len(msg);
		if (l->limit != 0 &&
		    atomic_fetch_add(&l->done, 1) + 1 >= l->limit) {
			pthread_mutex_lock(&l->mtx);
			l->limit_hit = true;
			pthread_cond_broadcast(&l->cv);
			pthread_mutex_unlock(&l->mtx);
			atomic_store(&l->running, false);
		}
	}
	nng_msg_free(msg);
	slot_send(s);
}

static int
open_socket(nng_socket *sock, const char *url, const char *ca_file,
            const char *server_name, const char *cert_key)
{
	nng_dialer d;
	nng_tls_config *cfg = NULL;
	int rv;

	if ((rv = nng_req0_open(sock)) != 0) {
		return rv;
	}
	/* Requests are never resent: a duplicate would be counted twice. */
	nng_socket_set_ms(*sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	if ((rv = nng_dialer_create(&d, *sock, url)) != 0) {
		return rv;
	}
	if (strncmp(url, "tls+", 4) == 0) {
		if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT)) !=
		        0 ||
		    (rv = nng_tls_config_ca_file(cfg, ca_file ? ca_file
		                                              : "")) != 0 ||
		    (rv = nng_tls_config_server_name(
		         cfg, server_name ? server_name : "localhost")) != 0 ||
		    (rv = nng_tls_config_auth_mode(
		         cfg, NNG_TLS_AUTH_MODE_REQUIRED)) != 0 ||
		    (cert_key != NULL && (rv = nng_tls_config_cert_key_file(
		                              cfg, cert_key, NULL)) != 0) ||
		    (rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg)) !=
		        0) {
			if (cfg != NULL) {
				nng_tls_config_free(cfg);
			}
			return rv;
		}
		nng_tls_config_free(cfg); /* the dialer holds its own ref */
	}
	return nng_dialer_start(d, 0);
}

static int
save_reply(nng_socket sock, struct load *l, const char *path,
           unsigned timeout_ms)
{
	uint8_t buf[LOAD_REQ_MAX];
	size_t len = encode_request(l, buf, sizeof(buf));
	void *rep = NULL;
	size_t rep_len;
	Secstat__V1__Reply *reply;
	FILE *f;
	int rv;

	nng_socket_set_ms(sock, NNG_OPT_RECVTIMEO, (nng_duration)timeout_ms);
	if ((rv = nng_send(sock, buf, len, 0)) != 0 ||
	    (rv = nng_recv(sock, &rep, &rep_len, NNG_FLAG_ALLOC)) != 0) {
		fprintf(stderr, "request: %s\n", nng_strerror(rv));
		return 1;
	}
	reply = secstat__v1__reply__unpack(NULL, rep_len, rep);
	if (reply == NULL) {
		fprintf(stderr, "reply of %zu bytes does not decode\n",
		        rep_len);
		nng_free(rep, rep_len);
		return 1;
	}
	if (reply->status != 0 ||
	    reply->result_case == SECSTAT__V1__REPLY__RESULT__NOT_SET) {
		fprintf(stderr, "reply status 0x%x without result: %s\n",
		        reply->status, reply->message ? reply->message : "");
		rv = 1;
	}
	secstat__v1__reply__free_unpacked(reply, NULL);
	if (rv == 0) {
		if ((f = fopen(path, "wb")) == NULL ||
		    fwrite(rep, 1, rep_len, f) != rep_len || fclose(f) != 0) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			rv = 1;
		}
	}
	nng_free(rep, rep_len);
	if (rv == 0) {
		printf("reply_bytes=%zu\n", rep_len);
	}
	return rv;
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: secstat-bench-load --url URL [--method NAME] "
	             "[--inflight K]\n"
	             "         [--duration S] [--warmup S] [--requests N]\n"
	             "         [--server-pid PID] [--tls-ca FILE] "
	             "[--tls-server-name N]\n"
	             "         [--tls-cert-key PEM] [--timeout-ms MS] "
	             "[--save-reply FILE]\n");
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"method", required_argument, NULL, 'm'},
	    {"inflight", required_argument, NULL, 'k'},
	    {"duration", required_argument, NULL, 'd'},
	    {"warmup", required_argument, NULL, 'w'},
	    {"requests", required_argument, NULL, 'n'},
	    {"server-pid", required_argument, NULL, 'p'},
	    {"tls-ca", required_argument, NULL, 'c'},
	    {"tls-server-name", required_argument, NULL, 's'},
	    {"tls-cert-key", required_argument, NULL, 'K'},
	    {"timeout-ms", required_argument, NULL, 't'},
	    {"save-reply", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct load l = {0};
	const char *url = NULL;
	const char *ca_file = NULL;
	const char *server_name = NULL;
	const char *cert_key = NULL;
	const char *save_path = NULL;
	double duration = 2.0;
	double warmup = 0.3;
	unsigned inflight = 1;
	int server_pid = 0;
	nng_socket sock;
	struct hist *all;
	struct timespec ts;
	uint64_t t0, t1, ok = 0, errors = 0, bytes = 0;
	int64_t scpu0, scpu1, ccpu0, ccpu1;
	int c, rv, status = 0;

	l.method = "IPsecGetStatistics1";
	l.timeout_ms = 5000;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			url = optarg;
			break;
		case 'm':
			l.method = optarg;
			break;
		case 'k':
			inflight = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			duration = strtod(optarg, NULL);
			break;
		case 'w':
			warmup = strtod(optarg, NULL);
			break;
		case 'n':
			l.limit = strtoull(optarg, NULL, 10);
			break;
		case 'p':
			server_pid = atoi(optarg);
			break;
		case 'c':
			ca_file = optarg;
			break;
		case 's':
			server_name = optarg;
			break;
		case 'K':
			cert_key = optarg;
			break;
		case 't':
			l.timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'o':
			save_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (url == NULL || inflight == 0 || inflight > LOAD_MAX_INFLIGHT ||
	    duration <= 0 || duration > 3600 || warmup < 0 || warmup > 60) {
		usage(stderr);
		return 2;
	}
	atomic_init(&l.next_id, 1);
	atomic_init(&l.done, 0);
	atomic_init(&l.running, true);
	atomic_init(&l.measuring, false);
	pthread_mutex_init(&l.mtx, NULL);
	{
		/* The window is timed on the monotonic clock. */
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&l.cv, &ca);
		pthread_condattr_destroy(&ca);
	}

	if ((rv = open_socket(&sock, url, ca_file, server_name, cert_key)) !=
	    0) {
		fprintf(stderr, "%s: %s\n", url, nng_strerror(rv));
		return 1;
	}
	if (save_path != NULL) {
		status = save_reply(sock, &l, save_path, l.timeout_ms);
		nng_close(sock);
		return status;
	}

	l.n_slots = inflight;
	if ((l.slots = calloc(inflight, sizeof(*l.slots))) == NULL ||
	    (all = calloc(1, sizeof(*all))) == NULL) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (unsigned i = 0; i < inflight; i++) {
		struct slot *s = &l.slots[i];

		s->load = &l;
		if ((rv = nng_ctx_open(&s->ctx, sock)) != 0 ||
		    (rv = nng_aio_alloc(&s->aio, slot_cb, s)) != 0) {
			fprintf(stderr, "context: %s\n", nng_strerror(rv));
			return 1;
		}
		nng_aio_set_timeout(s->aio, (nng_duration)l.timeout_ms);
	}
	for (unsigned i = 0; i < inflight; i++) {
		slot_send(&l.slots[i]);
	}

	nng_msleep((nng_duration)(warmup * 1000));
	scpu0 = procstat_cpu_ns(server_pid);
	ccpu0 = procstat_self_cpu_ns();
	t0 = procstat_now_ns();
	atomic_store(&l.measuring, true);

	/* Wait for the end of the window: its duration, the request limit,
	 * or every context failing, whichever comes first. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)duration;
	ts.tv_nsec += (long)((duration - (double)(time_t)duration) * 1e9);
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&l.mtx);
	while (!l.limit_hit && l.n_idle < l.n_slots) {
		if (pthread_cond_timedwait(&l.cv, &l.mtx, &ts) == ETIMEDOUT) {
			break;
		}
	}
	pthread_mutex_unlock(&l.mtx);
	atomic_store(&l.measuring, false);
	t1 = procstat_now_ns();
	scpu1 = procstat_cpu_ns(server_pid);
	ccpu1 = procstat_self_cpu_ns();
	atomic_store(&l.running, false);

	/* Drain: every context finishes its request (bounded by the aio
	 * timeout) and goes idle before the histograms are read. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(l.timeout_ms / 1000 + 2);
	pthread_mutex_lock(&l.mtx);
	while (l.n_idle < l.n_slots) {
		if (pthread_cond_timedwait(&l.cv, &l.mtx, &ts) == ETIMEDOUT) {
			break;
		}
	}
	pthread_mutex_unlock(&l.mtx);
	for (unsigned i = 0; i < inflight; i++) {
		nng_aio_stop(l.slots[i].aio);
	}

	for (unsigned i = 0; i < inflight; i++) {
		hist_merge(all, &l.slots[i].hist);
		ok += l.slots[i].ok;
		errors += l.slots[i].errors;
		bytes += l.slots[i].bytes;
	}
	{
		double secs = (double)(t1 - t0) / 1e9;
		double scpu = (scpu0 >= 0 && scpu1 >= 0 && ok > 0)
		                  ? (double)(scpu1 - scpu0) / 1e3 / (double)ok
		                  : -1;
		double ccpu =
		    ok > 0 ? (double)(ccpu1 - ccpu0) / 1e3 / (double)ok : -1;

		printf("rps=%.0f p50_us=%.2f p99_us=%.2f max_us=%.2f ok=%llu "
		       "errors=%llu secs=%.3f reply_bytes=%.0f "
		       "server_cpu_us=%.3f client_cpu_us=%.3f "
		       "server_cores=%.3f\n",
		       (double)ok / secs,
		       (double)hist_quantile(all, 0.50) / 1e3,
		       (double)hist_quantile(all, 0.99) / 1e3,
		       (double)all->max / 1e3, (unsigned long long)ok,
		       (unsigned long long)errors, secs,
		       ok > 0 ? (double)bytes / (double)ok : 0, scpu, ccpu,
		       scpu >= 0 ? (double)(scpu1 - scpu0) / 1e9 / secs : -1);
	}
	if (ok == 0) {
		status = 1;
	}
	for (unsigned i = 0; i < inflight; i++) {
		nng_aio_free(l.slots[i].aio);
		nng_ctx_close(l.slots[i].ctx);
	}
	nng_close(sock);
	free(l.slots);
	free(all);
	return status;
}
