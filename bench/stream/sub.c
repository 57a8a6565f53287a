/*
 * secstat-bench-sub: the streaming benchmark's subscribers. N nng SUB
 * sockets in one process, each subscribed to every topic of one agent's
 * --publish URL, each with its own connection and an aio receive loop.
 * Every message is split at its topic ("<family>/<hostname>/"), its
 * Publish decoded, and its per-topic sequence checked: a jump is a gap
 * (messages lost), counted per subscriber.
 *
 * After --warmup (subscriptions connected, first messages in) it
 * measures --duration seconds: messages delivered per subscriber per
 * second, by kind, gaps, and the agent's CPU over the window
 * (/proc/PID/stat) as a percentage of one core.
 *
 * secstat-bench-sub --url URL --subscribers N [--duration S]
 *     [--warmup S] [--agent-pid PID] [--recv-buf N]
 */
#include <getopt.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>
#include <nng/supplemental/util/platform.h>

#include "secstat/v1/stream.pb-c.h"

#include "procstat.h"

#define SUB_MAX       100000
#define SUB_TOPICS    4 /* families: index by Family value, bounded */
#define SUB_TOPIC_MAX 300
#define SUB_KINDS     4

struct sub {
	nng_socket sock;
	nng_aio *aio;
	uint64_t last_seq[SUB_TOPICS];
	uint64_t msgs;
	uint64_t bytes;
	uint64_t gaps; /* messages missing */
	uint64_t bad;  /* undecodable */
	uint64_t kinds[SUB_KINDS];
};

static atomic_bool measuring;

static void
sub_cb(void *arg)
{
	struct sub *s = arg;
	nng_msg *msg;
	const uint8_t *p;
	const uint8_t *slash;
	size_t len;
	Secstat__V1__Publish *pub;

	if (nng_aio_result(s->aio) != 0) {
		return; /* closed */
	}
	msg = nng_aio_get_msg(s->aio);
	p = nng_msg_body(msg);
	len = nng_msg_len(msg);
	/* The topic is "<family>/<hostname>/": the Publish starts after the
	 * second '/'. */
	slash = memchr(p, '/', len < SUB_TOPIC_MAX ? len : SUB_TOPIC_MAX);
	if (slash != NULL) {
		size_t rest = len - (size_t)(slash + 1 - p);

		slash = memchr(slash + 1, '/',
		               rest < SUB_TOPIC_MAX ? rest : SUB_TOPIC_MAX);
	}
	pub = slash != NULL
	          ? secstat__v1__publish__unpack(
	                NULL, len - (size_t)(slash + 1 - p), slash + 1)
	          : NULL;
	if (pub == NULL) {
		s->bad++;
	} else {
		unsigned fam = (unsigned)pub->family % SUB_TOPICS;
		uint64_t last = s->last_seq[fam];

		/* A sequence that restarts (new epoch) is not a gap. */
		if (atomic_load(&measuring)) {
			if (last != 0 && pub->sequence > last + 1) {
				s->gaps += pub->sequence - last - 1;
			}
			s->msgs++;
			s->bytes += len;
			s->kinds[(unsigned)pub->kind % SUB_KINDS]++;
		}
		s->last_seq[fam] = pub->sequence;
		secstat__v1__publish__free_unpacked(pub, NULL);
	}
	nng_msg_free(msg);
	nng_recv_aio(s->sock, s->aio);
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    {"url", required_argument, NULL, 'u'},
	    {"subscribers", required_argument, NULL, 'n'},
	    {"duration", required_argument, NULL, 'd'},
	    {"warmup", required_argument, NULL, 'w'},
	    {"agent-pid", required_argument, NULL, 'p'},
	    {"recv-buf", required_argument, NULL, 'b'},
	    {NULL, 0, NULL, 0},
	};
	const char *url = NULL;
	size_t n = 1;
	double duration = 10, warmup = 3;
	int pid = 0, recv_buf = 128, c, rv;
	struct sub *subs;
	struct rlimit rl;
	uint64_t t0, t1, msgs = 0, bytes = 0, gaps = 0, bad = 0;
	uint64_t kinds[SUB_KINDS] = {0};
	int64_t cpu0, cpu1;
	double secs;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			url = optarg;
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'd':
			duration = strtod(optarg, NULL);
			break;
		case 'w':
			warmup = strtod(optarg, NULL);
			break;
		case 'p':
			pid = atoi(optarg);
			break;
		case 'b':
			recv_buf = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (url == NULL || n == 0 || n > SUB_MAX || duration <= 0 ||
	    duration > 3600 || warmup < 0 || warmup > 600) {
		fprintf(stderr, "usage: secstat-bench-sub --url URL "
		                "--subscribers N [--duration S] [--warmup S] "
		                "[--agent-pid PID] [--recv-buf N]\n");
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	atomic_init(&measuring, false);
	if ((subs = calloc(n, sizeof(*subs))) == NULL) {
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		struct sub *s = &subs[i];

		if ((rv = nng_sub0_open(&s->sock)) != 0 ||
		    (rv = nng_socket_set(s->sock, NNG_OPT_SUB_SUBSCRIBE, "",
		                         0)) != 0 ||
		    (rv = nng_socket_set_int(s->sock, NNG_OPT_RECVBUF,
		                             recv_buf)) != 0 ||
		    (rv = nng_aio_alloc(&s->aio, sub_cb, s)) != 0 ||
		    (rv = nng_dial(s->sock, url, NULL, NNG_FLAG_NONBLOCK)) !=
		        0) {
			fprintf(stderr, "%s: %s\n", url, nng_strerror(rv));
			return 1;
		}
		nng_recv_aio(s->sock, s->aio);
	}
	nng_msleep((nng_duration)(warmup * 1000));
	cpu0 = procstat_cpu_ns(pid);
	t0 = procstat_now_ns();
	atomic_store(&measuring, true);
	nng_msleep((nng_duration)(duration * 1000));
	atomic_store(&measuring, false);
	t1 = procstat_now_ns();
	cpu1 = procstat_cpu_ns(pid);
	for (size_t i = 0; i < n; i++) {
		nng_close(subs[i].sock);
		nng_aio_stop(subs[i].aio);
	}
	for (size_t i = 0; i < n; i++) {
		msgs += subs[i].msgs;
		bytes += subs[i].bytes;
		gaps += subs[i].gaps;
		bad += subs[i].bad;
		for (unsigned k = 0; k < SUB_KINDS; k++) {
			kinds[k] += subs[i].kinds[k];
		}
		nng_aio_free(subs[i].aio);
	}
	secs = (double)(t1 - t0) / 1e9;
	printf(
	    "subscribers=%zu msgs=%llu per_sub_per_s=%.3f total_per_s=%.1f "
	    "bytes_per_msg=%.0f full=%llu delta=%llu heartbeat=%llu "
	    "gaps=%llu bad=%llu agent_cpu_pct=%.3f secs=%.3f\n",
	    n, (unsigned long long)msgs, (double)msgs / (double)n / secs,
	    (double)msgs / secs, msgs ? (double)bytes / (double)msgs : 0,
	    (unsigned long long)kinds[SECSTAT__V1__PUBLISH_KIND__PUBLISH_FULL],
	    (unsigned long long)kinds[SECSTAT__V1__PUBLISH_KIND__PUBLISH_DELTA],
	    (unsigned long long)
	        kinds[SECSTAT__V1__PUBLISH_KIND__PUBLISH_HEARTBEAT],
	    (unsigned long long)gaps, (unsigned long long)bad,
	    cpu0 >= 0 && cpu1 >= 0 ? (double)(cpu1 - cpu0) / 1e9 / secs * 100
	                           : -1,
	    secs);
	free(subs);
	return msgs > 0 ? 0 : 1;
}
