/*
 * secstat-bench-fanout: the raw nng fan-out baseline of the fleet
 * benchmark. One REQ socket per agent URL, all dialled at once without
 * blocking; a round sends one request to every agent and ends when the
 * last reply (or error) is in. --mode parallel keeps every request in
 * flight at once (aio callbacks, no threads of its own); --mode
 * sequential asks one agent after the other, the naive loop.
 *
 * Round 0 is cold: it includes establishing every connection. The
 * following --rounds rounds reuse the open connections; the median,
 * minimum and maximum of those are reported. --decode unpacks each reply
 * (protobuf-c) and checks its status, which a fleet client must do.
 *
 * secstat-bench-fanout --urls FILE [--mode parallel|sequential]
 *     [--method NAME] [--rounds R] [--decode] [--timeout-ms MS]
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "secstat/v1/service.pb-c.h"

#include "procstat.h"

#define FANOUT_MAX_AGENTS 100000
#define FANOUT_MAX_ROUNDS 1000
#define FANOUT_REQ_MAX    256

struct fanout;

struct agent {
	struct fanout *fo;
	nng_socket sock;
	nng_ctx ctx;
	nng_aio *aio;
	bool sending;
};

struct fanout {
	struct agent *agents;
	size_t n;
	const char *method;
	bool decode;
	uint8_t req[FANOUT_REQ_MAX];
	size_t req_len;
	pthread_mutex_t mtx;
	pthread_cond_t cv;
	size_t pending;
	atomic_size_t ok;
	atomic_size_t errors;
};

static void
fanout_done_one(struct fanout *fo)
{
	pthread_mutex_lock(&fo->mtx);
	if (--fo->pending == 0) {
		pthread_cond_broadcast(&fo->cv);
	}
	pthread_mutex_unlock(&fo->mtx);
}

static bool
reply_ok(struct fanout *fo, nng_msg *msg)
{
	Secstat__V1__Reply *r;
	bool ok;

	if (!fo->decode) {
		return nng_msg_len(msg) > 0;
	}
	r = secstat__v1__reply__unpack(NULL, nng_msg_len(msg),
	                               nng_msg_body(msg));
	if (r == NULL) {
		return false;
	}
	ok = r->status == 0;
	secstat__v1__reply__free_unpacked(r, NULL);
	return ok;
}

static void
agent_cb(void *arg)
{
	struct agent *a = arg;
	struct fanout *fo = a->fo;
	nng_msg *msg;
	int rv = nng_aio_result(a->aio);

	if (a->sending) {
		a->sending = false;
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(a->aio));
			atomic_fetch_add(&fo->errors, 1);
			fanout_done_one(fo);
			return;
		}
		nng_ctx_recv(a->ctx, a->aio);
		return;
	}
	if (rv != 0) {
		atomic_fetch_add(&fo->errors, 1);
	} else {
		msg = nng_aio_get_msg(a->aio);
		atomic_fetch_add(reply_ok(fo, msg) ? &fo->ok : &fo->errors, 1);
		nng_msg_free(msg);
	}
	fanout_done_one(fo);
}

static int
agent_send(struct agent *a)
{
	nng_msg *msg;
	int rv;

	if ((rv = nng_msg_alloc(&msg, 0)) != 0 ||
	    (rv = nng_msg_append(msg, a->fo->req, a->fo->req_len)) != 0) {
		return rv;
	}
	a->sending = true;
	nng_aio_set_msg(a->aio, msg);
	nng_ctx_send(a->ctx, a->aio);
	return 0;
}

/* One round over every agent; returns its wall time in ns. */
static uint64_t
fanout_round(struct fanout *fo, bool parallel)
{
	uint64_t t0 = procstat_now_ns();

	if (parallel) {
		pthread_mutex_lock(&fo->mtx);
		fo->pending = fo->n;
		pthread_mutex_unlock(&fo->mtx);
		for (size_t i = 0; i < fo->n; i++) {
			if (agent_send(&fo->agents[i]) != 0) {
				atomic_fetch_add(&fo->errors, 1);
				fanout_done_one(fo);
			}
		}
		pthread_mutex_lock(&fo->mtx);
		while (fo->pending > 0) {
			pthread_cond_wait(&fo->cv, &fo->mtx);
		}
		pthread_mutex_unlock(&fo->mtx);
	} else {
		for (size_t i = 0; i < fo->n; i++) {
			pthread_mutex_lock(&fo->mtx);
			fo->pending = 1;
			pthread_mutex_unlock(&fo->mtx);
			if (agent_send(&fo->agents[i]) != 0) {
				atomic_fetch_add(&fo->errors, 1);
				continue;
			}
			pthread_mutex_lock(&fo->mtx);
			while (fo->pending > 0) {
				pthread_cond_wait(&fo->cv, &fo->mtx);
			}
			pthread_mutex_unlock(&fo->mtx);
		}
	}
	return procstat_now_ns() - t0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
load_urls(const char *path, char ***urls, size_t *n)
{
	FILE *f = fopen(path, "r");
	char line[512];
	size_t cap = 0;

	if (f == NULL) {
		return -errno;
	}
	*urls = NULL;
	*n = 0;
	while (fgets(line, sizeof(line), f) != NULL && *n < FANOUT_MAX_AGENTS) {
		line[strcspn(line, " \t\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#') {
			continue;
		}
		if (*n == cap) {
			char **p;

			cap = cap ? cap * 2 : 64;
			if ((p = realloc(*urls, cap * sizeof(*p))) == NULL) {
				fclose(f);
				return -ENOMEM;
			}
			*urls = p;
		}
		if (((*urls)[(*n)++] = strdup(line)) == NULL) {
			fclose(f);
			return -ENOMEM;
		}
	}
	fclose(f);
	return *n > 0 ? 0 : -EINVAL;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    {"urls", required_argument, NULL, 'u'},
	    {"mode", required_argument, NULL, 'm'},
	    {"method", required_argument, NULL, 'M'},
	    {"rounds", required_argument, NULL, 'r'},
	    {"decode", no_argument, NULL, 'd'},
	    {"timeout-ms", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	struct fanout fo = {0};
	const char *urls_path = NULL;
	bool parallel = true;
	unsigned rounds = 5;
	unsigned timeout = 10000;
	char **urls = NULL;
	uint64_t *times;
	uint64_t cold;
	struct rlimit rl;
	Secstat__V1__Request req = SECSTAT__V1__REQUEST__INIT;
	Secstat__V1__StatisticsRequest params =
	    SECSTAT__V1__STATISTICS_REQUEST__INIT;
	int c, rv;

	fo.method = "IPsecGetStatistics1";
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			urls_path = optarg;
			break;
		case 'm':
			parallel = strcmp(optarg, "sequential") != 0;
			break;
		case 'M':
			fo.method = optarg;
			break;
		case 'r':
			rounds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			fo.decode = true;
			break;
		case 't':
			timeout = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (urls_path == NULL || rounds == 0 || rounds > FANOUT_MAX_ROUNDS) {
		fprintf(stderr,
		        "usage: secstat-bench-fanout --urls FILE [--mode "
		        "parallel|sequential] [--method NAME] "
		        "[--rounds R] [--decode] [--timeout-ms MS]\n");
		return 2;
	}
	if ((rv = load_urls(urls_path, &urls, &fo.n)) != 0) {
		fprintf(stderr, "%s: %s\n", urls_path, strerror(-rv));
		return 1;
	}
	/* One descriptor per agent connection, plus nng's own. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	req.has_request_id = true;
	req.request_id = 1;
	req.method = (char *)fo.method;
	req.params_case = SECSTAT__V1__REQUEST__PARAMS_STATISTICS;
	req.statistics = &params;
	fo.req_len = secstat__v1__request__pack(&req, fo.req);
	pthread_mutex_init(&fo.mtx, NULL);
	pthread_cond_init(&fo.cv, NULL);
	atomic_init(&fo.ok, 0);
	atomic_init(&fo.errors, 0);
	if ((fo.agents = calloc(fo.n, sizeof(*fo.agents))) == NULL ||
	    (times = calloc(rounds, sizeof(*times))) == NULL) {
		return 1;
	}

	cold = procstat_now_ns();
	for (size_t i = 0; i < fo.n; i++) {
		struct agent *a = &fo.agents[i];

		a->fo = &fo;
		if ((rv = nng_req0_open(&a->sock)) != 0 ||
		    (rv = nng_socket_set_ms(a->sock, NNG_OPT_REQ_RESENDTIME,
		                            NNG_DURATION_INFINITE)) != 0 ||
		    (rv = nng_ctx_open(&a->ctx, a->sock)) != 0 ||
		    (rv = nng_aio_alloc(&a->aio, agent_cb, a)) != 0 ||
		    (rv = nng_dial(a->sock, urls[i], NULL,
		                   NNG_FLAG_NONBLOCK)) != 0) {
			fprintf(stderr, "%s: %s\n", urls[i], nng_strerror(rv));
			return 1;
		}
		nng_aio_set_timeout(a->aio, (nng_duration)timeout);
	}
	fanout_round(&fo, parallel);
	cold = procstat_now_ns() - cold;
	for (unsigned r = 0; r < rounds; r++) {
		times[r] = fanout_round(&fo, parallel);
	}
	qsort(times, rounds, sizeof(*times), cmp_u64);
	printf("agents=%zu mode=%s decode=%d cold_ms=%.3f median_ms=%.3f "
	       "min_ms=%.3f max_ms=%.3f rounds=%u ok=%zu errors=%zu\n",
	       fo.n, parallel ? "parallel" : "sequential", fo.decode ? 1 : 0,
	       (double)cold / 1e6, (double)times[rounds / 2] / 1e6,
	       (double)times[0] / 1e6, (double)times[rounds - 1] / 1e6, rounds,
	       (size_t)atomic_load(&fo.ok), (size_t)atomic_load(&fo.errors));
	for (size_t i = 0; i < fo.n; i++) {
		nng_aio_stop(fo.agents[i].aio);
		nng_aio_free(fo.agents[i].aio);
		nng_close(fo.agents[i].sock);
		free(urls[i]);
	}
	free(urls);
	free(fo.agents);
	free(times);
	return atomic_load(&fo.errors) == 0 ? 0 : 1;
}
