/* One method, every server: a concurrent fleet query, print, exit status. */
#include "query.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "fleet_table.h"

/* Fleets at least this large show a progress line on a terminal. */
#define PROGRESS_MIN_HOSTS 20
/* Failures reported one by one on stderr; beyond, a count (the table
 * and the JSON have every host). */
#define FAILURES_LISTED 20

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
query_exit_status(const uint32_t *status, size_t n)
{
	size_t failed = 0;

	for (size_t i = 0; i < n; i++) {
		if (status[i] != ERROR_SUCCESS) {
			failed++;
		}
	}
	if (failed == 0) {
		return EXIT_ALL_OK;
	}
	return failed == n ? EXIT_ALL_FAILED : EXIT_SOME_FAILED;
}

static void
report_failure(const struct output_host *h)
{
	const Secstat__V1__Reply *r = h->reply;
	char buf[16];

	fprintf(stderr, "secstat: %s: %s (0x%08" PRIX32 "): %s", h->server,
	        output_status_name(h->status, buf, sizeof(buf)), h->status,
	        secstat_strerror(h->status));
	if (r != NULL && r->message != NULL && r->message[0] != '\0') {
		fprintf(stderr, " (agent: %s)", r->message);
	}
	fputc('\n', stderr);
}

/* One connection per host: a large fleet needs more descriptors than
 * the usual soft limit. */
static void
raise_fd_limit(size_t n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 64 &&
	    rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
query_open_fleet(const struct cli *cli, secstat_fleet **fp)
{
	struct secstat_fleet_options opts;
	char err[512];
	uint32_t st;

	secstat_fleet_options_init(&opts);
	opts.timeout_ms =
	    cli->timeout_ms ? cli->timeout_ms : SECSTAT_DEFAULT_TIMEOUT_MS;
	opts.tls_ca_file = cli->tls_ca;
	opts.tls_cert_file = cli->tls_cert;
	opts.tls_key_file = cli->tls_key;
	opts.tls_server_name = cli->tls_server_name;
	opts.client_id = cli->client_id;
	opts.token = cli->token;
	if (cli->hosts_file != NULL) {
		st = secstat_fleet_open_file(fp, cli->hosts_file, &opts, err,
		                             sizeof(err));
		if (st == ERROR_INVALID_PARAMETER && err[0] != '\0') {
			fprintf(stderr, "secstat: %s\n", err);
			return EXIT_USAGE;
		}
	} else {
		raise_fd_limit(cli->n_servers);
		st =
		    secstat_fleet_open(fp, cli->servers, cli->n_servers, &opts);
	}
	if (st != ERROR_SUCCESS) {
		fprintf(stderr, "secstat: %s\n", secstat_strerror(st));
		return EXIT_ALL_FAILED;
	}
	raise_fd_limit(secstat_fleet_count(*fp));
	return 0;
}

/* "\r1234/5000 hosts" on the terminal while a large query runs. */
static void
progress(size_t done, size_t total, void *arg)
{
	(void)arg;
	fprintf(stderr, "\rsecstat: %zu/%zu hosts done", done, total);
	if (done == total) {
		fputs("\r\033[K", stderr);
	}
	fflush(stderr);
}

int
query_run(const struct cli *cli, const char *method)
{
	secstat_fleet *f = NULL;
	secstat_fleet_result *res = NULL;
	struct output_host *hosts = NULL;
	uint32_t *status = NULL;
	struct output o = {
	    .out = stdout,
	    .color = output_color_wanted(stdout),
	};
	size_t n, failed = 0;
	int rc;

	if ((rc = query_open_fleet(cli, &f)) != 0) {
		return rc;
	}
	n = secstat_fleet_count(f);
	rc = EXIT_ALL_FAILED;
	if (secstat_fleet_query(f, method,
	                        n >= PROGRESS_MIN_HOSTS && isatty(2) ? progress
	                                                             : NULL,
	                        NULL, &res) != ERROR_SUCCESS ||
	    (hosts = calloc(n, sizeof(*hosts))) == NULL ||
	    (status = calloc(n, sizeof(*status))) == NULL) {
		fprintf(stderr, "secstat: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		hosts[i].server = secstat_fleet_host(f, i)->url;
		hosts[i].status = secstat_fleet_result_status(res, i);
		/* Read-only: the result owns the replies. */
		hosts[i].reply =
		    (Secstat__V1__Reply *)secstat_fleet_result_reply(res, i);
		status[i] = hosts[i].status;
		if (hosts[i].status != ERROR_SUCCESS &&
		    failed++ < FAILURES_LISTED) {
			report_failure(&hosts[i]);
		}
	}
	if (failed > FAILURES_LISTED) {
		fprintf(stderr, "secstat: ... and %zu more hosts failed\n",
		        failed - FAILURES_LISTED);
	}
	o.now_ms = now_ms();
	if (n > 1) {
		o.aggregate = secstat_fleet_result_aggregate(res);
		o.summary = secstat_fleet_result_summary(res);
	}
	switch (cli->format) {
	case OUTPUT_TABLE:
		/* Identities are read host by host; statistics as a fleet. */
		if (n > 1 &&
		    strcmp(method, SECSTAT_METHOD_GET_HOST_INFO) != 0 &&
		    strcmp(method, SECSTAT_METHOD_GET_CAPABILITIES) != 0) {
			fleet_table(&o, f, hosts, n, method);
		} else {
			output_table(&o, hosts, n);
		}
		break;
	case OUTPUT_JSON:
		output_json(&o, hosts, n);
		break;
	case OUTPUT_DUMP:
		output_dump(&o, hosts, n);
		break;
	}
	fflush(stdout);
	rc = query_exit_status(status, n);
out:
	free(hosts);
	free(status);
	secstat_fleet_result_free(res);
	secstat_fleet_close(f);
	return rc;
}
