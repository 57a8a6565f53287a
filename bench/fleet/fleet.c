/*
 * secstat-bench-fleet: the fleet column of the fleet benchmark. Times
 * libsecstat's fleet query (every host concurrently, replies decoded)
 * plus the aggregate over every host, the figure a console waits for,
 * against the same agents secstat-bench-fanout measures raw.
 *
 * Round 0 is cold (the fleet is opened just before it: connections are
 * dialled in the background and the query waits for them); the median,
 * minimum and maximum of the following --rounds rounds are reported.
 *
 * secstat-bench-fleet --urls FILE [--method NAME] [--rounds R]
 *     [--timeout-ms MS]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <secstat/secstat.h>

#include "procstat.h"

#define FLEET_MAX_ROUNDS 1000

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One query and its aggregate; returns the wall time in ns, or 0. */
static uint64_t
round_once(secstat_fleet *f, const char *method, size_t *ok, size_t *n)
{
	secstat_fleet_result *r = NULL;
	uint64_t t0 = procstat_now_ns();
	uint64_t t;
	uint32_t st;

	st = secstat_fleet_query(f, method, NULL, NULL, &r);
	if (st != 0 || r == NULL) {
		fprintf(stderr, "fleet query: %s\n", secstat_strerror(st));
		return 0;
	}
	if (secstat_fleet_result_aggregate(r) == NULL) {
		fprintf(stderr, "fleet query: no aggregate\n");
	}
	t = procstat_now_ns() - t0;
	*ok = secstat_fleet_result_ok(r);
	*n = secstat_fleet_result_count(r);
	secstat_fleet_result_free(r);
	return t;
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    {"urls", required_argument, NULL, 'u'},
	    {"method", required_argument, NULL, 'M'},
	    {"rounds", required_argument, NULL, 'r'},
	    {"timeout-ms", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	const char *urls = NULL;
	const char *method = "IPsecGetStatistics1";
	unsigned rounds = 5;
	unsigned timeout = 5000;
	struct secstat_fleet_options fo;
	secstat_fleet *f = NULL;
	uint64_t times[FLEET_MAX_ROUNDS];
	uint64_t cold;
	size_t ok = 0, n = 0, bad_rounds = 0;
	struct rlimit rl;
	char err[256];
	uint32_t st;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			urls = optarg;
			break;
		case 'M':
			method = optarg;
			break;
		case 'r':
			rounds = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 't':
			timeout = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (urls == NULL || rounds == 0 || rounds > FLEET_MAX_ROUNDS) {
		fprintf(stderr, "usage: secstat-bench-fleet --urls FILE "
		                "[--method NAME] [--rounds R] [--timeout-ms "
		                "MS]\n");
		return 2;
	}
	/* One descriptor per agent connection, plus nng's own. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	secstat_fleet_options_init(&fo);
	fo.timeout_ms = timeout;

	cold = procstat_now_ns();
	st = secstat_fleet_open_file(&f, urls, &fo, err, sizeof(err));
	if (st != 0) {
		fprintf(stderr, "%s: %s\n", urls,
		        err[0] ? err : secstat_strerror(st));
		return 1;
	}
	if (round_once(f, method, &ok, &n) == 0) {
		bad_rounds++;
	}
	cold = procstat_now_ns() - cold;
	for (unsigned r = 0; r < rounds; r++) {
		size_t rok = 0;

		times[r] = round_once(f, method, &rok, &n);
		if (times[r] == 0 || rok != n) {
			bad_rounds++;
		}
		ok += rok;
	}
	secstat_fleet_close(f);
	qsort(times, rounds, sizeof(times[0]), cmp_u64);
	printf("agents=%zu mode=fleet-api cold_ms=%.3f median_ms=%.3f "
	       "min_ms=%.3f max_ms=%.3f rounds=%u ok=%zu errors=%zu\n",
	       n, (double)cold / 1e6, (double)times[rounds / 2] / 1e6,
	       (double)times[0] / 1e6, (double)times[rounds - 1] / 1e6, rounds,
	       ok, (rounds + 1) * n - ok);
	return bad_rounds == 0 ? 0 : 1;
}
