/* One method, every server: call, print, exit status. */
#include "query.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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

/* The servers are queried one after the other; each has its own
 * timeout, so one dead host costs at most that much. */
static void
query_one(const struct cli *cli, const char *method, struct output_host *h)
{
	struct secstat_session_options opts;
	secstat_session *s;

	secstat_session_options_init(&opts);
	opts.timeout_ms = cli->timeout_ms;
	h->reply = NULL;
	h->status = secstat_session_open(&s, h->server, &opts);
	if (h->status != ERROR_SUCCESS) {
		return;
	}
	h->status = secstat_session_call(s, method, &h->reply);
	secstat_session_close(s);
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

int
query_run(const struct cli *cli, const char *method)
{
	struct output_host *hosts = calloc(cli->n_servers, sizeof(*hosts));
	uint32_t *status = calloc(cli->n_servers, sizeof(*status));
	struct output o = {
	    .out = stdout,
	    .color = output_color_wanted(stdout),
	};
	int rc;

	if (hosts == NULL || status == NULL) {
		free(hosts);
		free(status);
		fprintf(stderr, "secstat: out of memory\n");
		return EXIT_ALL_FAILED;
	}
	for (size_t i = 0; i < cli->n_servers; i++) {
		hosts[i].server = cli->servers[i];
		query_one(cli, method, &hosts[i]);
		status[i] = hosts[i].status;
		if (hosts[i].status != ERROR_SUCCESS) {
			report_failure(&hosts[i]);
		}
	}
	o.now_ms = now_ms();
	switch (cli->format) {
	case OUTPUT_TABLE:
		output_table(&o, hosts, cli->n_servers);
		break;
	case OUTPUT_JSON:
		output_json(&o, hosts, cli->n_servers);
		break;
	case OUTPUT_DUMP:
		output_dump(&o, hosts, cli->n_servers);
		break;
	}
	fflush(stdout);
	rc = query_exit_status(status, cli->n_servers);
	for (size_t i = 0; i < cli->n_servers; i++) {
		secstat_reply_free(hosts[i].reply);
	}
	free(hosts);
	free(status);
	return rc;
}
