/*
 * secstat watch: a live view of a fleet's counters and per-second rates.
 * Every interval the whole fleet is queried concurrently; rates come
 * from the last two answers of each host (resets handled by the
 * library), and the fleet totals are kept as running sums of the
 * increases so that they never go down when a host restarts or drops
 * out. Hosts going down or coming back are announced as they are seen.
 * With --stream the answers come from the agents' publish streams
 * instead (every host needs pub=URL in the hosts file): up and down are
 * then announced the moment the stream says so, from the subscription's
 * thread. On a terminal the screen is redrawn; otherwise one line per
 * update.
 */
#include "subcommands.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fleet_table.h"

#define WATCH_ROWS_MAX  40 /* fleet counters shown on a terminal */
#define WATCH_HOSTS_MAX 30 /* host rows shown on a terminal */

struct total {
	const char *path; /* owned by the rates object of its round */
	char *own;        /* a copy that survives the rounds */
	uint64_t value;
};

/* One sample of every host, from a fleet query or from the streams. */
struct round {
	size_t ok;
	uint32_t *status;                 /* per host */
	const Secstat__V1__Reply **reply; /* per host; NULL unless ok */
	secstat_fleet_result *fleet;      /* owner of the replies, or */
	Secstat__V1__Reply **copies;      /* stream states, owned */
};

struct watch {
	const struct cli *cli;
	secstat_fleet *f;
	secstat_subscription *sub;
	Secstat__V1__Family family;
	pthread_mutex_t out_mtx; /* stdout and events: two threads write */
	size_t n;
	const char *method;
	bool tty;
	struct total *totals;
	size_t n_totals;
	uint32_t *last_status; /* per host; ERROR_SUCCESS before round 1 */
	char **events;         /* recent up/down lines (terminal view) */
	size_t n_events;
};

static void
usage(FILE *f)
{
	fprintf(f, "Usage: secstat [-s URL]... [--hosts FILE] watch "
	           "[--interval S] [--count N] [--stream] "
	           "[ipsec|ikeext|iscsi]\n");
}

static double
parse_seconds(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.05) ||
	    v > 86400) {
		return -1;
	}
	return v;
}

static void
sleep_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000),
	                      (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static void
timestamp(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
event(struct watch *w, const char *fmt, const char *host, const char *what)
{
	char line[512];
	char ts[32];

	timestamp(ts, sizeof(ts));
	snprintf(line, sizeof(line), fmt, ts, host, what);
	pthread_mutex_lock(&w->out_mtx);
	if (!w->tty) {
		printf("%s\n", line);
		fflush(stdout);
		pthread_mutex_unlock(&w->out_mtx);
		return;
	}
	if (w->n_events == 5) {
		free(w->events[0]);
		memmove(w->events, w->events + 1, 4 * sizeof(*w->events));
		w->n_events--;
	}
	w->events[w->n_events] = strdup(line);
	if (w->events[w->n_events] != NULL) {
		w->n_events++;
	}
	pthread_mutex_unlock(&w->out_mtx);
}

static const char *
host_name(const struct watch *w, const struct round *r, size_t i)
{
	const Secstat__V1__Reply *rep = r != NULL ? r->reply[i] : NULL;

	if (rep != NULL && rep->host != NULL && rep->host->hostname != NULL) {
		return rep->host->hostname;
	}
	return secstat_fleet_host(w->f, i)->name;
}

/* Up and down changes since the previous round. */
static void
note_changes(struct watch *w, const struct round *r, bool first)
{
	char buf[32];

	for (size_t i = 0; i < w->n; i++) {
		uint32_t st = r->status[i];
		bool was = w->last_status[i] == ERROR_SUCCESS;
		bool is = st == ERROR_SUCCESS;

		if ((!first && was != is) || (first && !is)) {
			event(w, is ? "%s UP   %s" : "%s DOWN %s (%s)",
			      host_name(w, r, i),
			      output_status_name(st, buf, sizeof(buf)));
		}
		w->last_status[i] = st;
	}
}

static struct total *
total_of(struct watch *w, const char *path)
{
	struct total *t;

	for (size_t i = 0; i < w->n_totals; i++) {
		if (strcmp(w->totals[i].own, path) == 0) {
			return &w->totals[i];
		}
	}
	t = realloc(w->totals, (w->n_totals + 1) * sizeof(*t));
	if (t == NULL) {
		return NULL;
	}
	w->totals = t;
	t = &w->totals[w->n_totals];
	if ((t->own = strdup(path)) == NULL) {
		return NULL;
	}
	t->path = t->own;
	t->value = 0;
	w->n_totals++;
	return t;
}

/* Running fleet totals: the first aggregate, then the increases. */
static void
update_totals(struct watch *w, const secstat_rates *rates)
{
	const struct secstat_rate *fr;
	size_t n;

	fr = secstat_rates_fleet(rates, &n);
	for (size_t i = 0; i < n; i++) {
		struct total *t;

		if (fr[i].hosts == 0) {
			continue;
		}
		if ((t = total_of(w, fr[i].path)) == NULL) {
			return;
		}
		if (t->value == 0) {
			/* First sight: start from the fleet's sum. */
			t->value = fr[i].value - fr[i].delta;
		}
		t->value += fr[i].delta;
	}
}

static uint64_t
total_value(const struct watch *w, const char *path, uint64_t fallback)
{
	for (size_t i = 0; i < w->n_totals; i++) {
		if (strcmp(w->totals[i].own, path) == 0) {
			return w->totals[i].value;
		}
	}
	return fallback;
}

static void
draw_tty(struct watch *w, const struct round *r, const secstat_rates *rates,
         double interval)
{
	const struct secstat_rate *fr = NULL;
	size_t n = 0, shown = 0;
	char ts[32];

	timestamp(ts, sizeof(ts));
	printf("\033[H\033[2J");
	printf("secstat watch  %s  every %.1fs  %s  hosts %zu/%zu ok\n\n",
	       w->method, interval, ts, r->ok, w->n);
	if (rates != NULL) {
		fr = secstat_rates_fleet(rates, &n);
	}
	printf("%-64s %18s %14s %6s\n", "FLEET COUNTER", "TOTAL", "RATE/s",
	       "HOSTS");
	for (size_t i = 0; i < n && shown < WATCH_ROWS_MAX; i++) {
		if (fr[i].hosts == 0 || fr[i].per_second == 0.0) {
			continue;
		}
		printf("%-64.64s %18" PRIu64 " %14.1f %6" PRIu32 "\n",
		       fr[i].path, total_value(w, fr[i].path, fr[i].value),
		       fr[i].per_second, fr[i].hosts);
		shown++;
	}
	if (rates == NULL) {
		printf("(rates after the second sample)\n");
	} else if (shown == 0) {
		printf("(no counter moved)\n");
	}
	printf("\n%-24s %-26s %14s %14s\n", "HOST", "STATUS", "COUNTERS/s",
	       "RESETS");
	for (size_t i = 0; i < w->n && i < WATCH_HOSTS_MAX; i++) {
		char buf[32];
		double sum = 0;
		uint32_t flags = 0, resets = 0;
		size_t hn = 0;
		const struct secstat_rate *hr =
		    rates ? secstat_rates_host(rates, i, &hn, &flags) : NULL;

		for (size_t k = 0; k < hn; k++) {
			sum += hr[k].per_second;
			resets += hr[k].resets;
		}
		printf("%-24.24s %-26s %14.1f %14" PRIu32 "%s\n",
		       host_name(w, r, i),
		       output_status_name(r->status[i], buf, sizeof(buf)), sum,
		       resets,
		       (flags & SECSTAT_RATES_EPOCH_CHANGED) ? "  restarted"
		                                             : "");
	}
	if (w->n > WATCH_HOSTS_MAX) {
		printf("... %zu more hosts\n", w->n - WATCH_HOSTS_MAX);
	}
	if (w->n_events > 0) {
		printf("\n");
		for (size_t i = 0; i < w->n_events; i++) {
			printf("%s\n", w->events[i]);
		}
	}
	fflush(stdout);
}

/* One line: time, hosts, then every moving fleet counter as
 * path=total(+rate/s). */
static void
draw_line(struct watch *w, const struct round *r, const secstat_rates *rates)
{
	const struct secstat_rate *fr;
	size_t n = 0;
	char ts[32];

	timestamp(ts, sizeof(ts));
	printf("%s hosts=%zu/%zu", ts, r->ok, w->n);
	if (rates != NULL) {
		fr = secstat_rates_fleet(rates, &n);
		for (size_t i = 0; i < n; i++) {
			if (fr[i].hosts == 0 || fr[i].per_second == 0.0) {
				continue;
			}
			printf(" %s=%" PRIu64 "(%.1f/s)", fr[i].path,
			       total_value(w, fr[i].path, fr[i].value),
			       fr[i].per_second);
		}
	}
	putchar('\n');
	fflush(stdout);
}

static void
round_free(struct round *r, size_t n)
{
	if (r == NULL) {
		return;
	}
	secstat_fleet_result_free(r->fleet);
	for (size_t i = 0; r->copies != NULL && i < n; i++) {
		secstat_reply_free(r->copies[i]);
	}
	free(r->copies);
	free(r->status);
	free(r->reply);
	free(r);
}

static struct round *
round_alloc(size_t n)
{
	struct round *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->status = calloc(n, sizeof(*r->status))) == NULL ||
	    (r->reply = calloc(n, sizeof(*r->reply))) == NULL) {
		round_free(r, 0);
		return NULL;
	}
	return r;
}

/* A fleet query. */
static struct round *
round_query(struct watch *w)
{
	struct round *r = round_alloc(w->n);

	if (r == NULL || secstat_fleet_query(w->f, w->method, NULL, NULL,
	                                     &r->fleet) != ERROR_SUCCESS) {
		round_free(r, w->n);
		return NULL;
	}
	for (size_t i = 0; i < w->n; i++) {
		r->status[i] = secstat_fleet_result_status(r->fleet, i);
		if (r->status[i] == ERROR_SUCCESS) {
			r->reply[i] = secstat_fleet_result_reply(r->fleet, i);
			r->ok++;
		}
	}
	return r;
}

/* The streams' current states. A host the stream calls down is
 * RPC_E_TIMEOUT (silent past its heartbeats); one that is up without a
 * valid state yet (a gap being repaired) FWP_E_NOT_FOUND. */
static struct round *
round_stream(struct watch *w)
{
	struct round *r = round_alloc(w->n);

	if (r == NULL ||
	    (r->copies = calloc(w->n, sizeof(*r->copies))) == NULL) {
		round_free(r, 0);
		return NULL;
	}
	for (size_t i = 0; i < w->n; i++) {
		struct secstat_sub_stats st;
		uint32_t s;

		secstat_subscription_stats(w->sub, i, &st);
		s = secstat_subscription_state(w->sub, i, w->family,
		                               &r->copies[i]);
		if (!st.up) {
			r->status[i] = RPC_E_TIMEOUT;
		} else if (s != ERROR_SUCCESS) {
			r->status[i] = s;
		} else {
			r->status[i] = r->copies[i]->status;
		}
		if (r->status[i] == ERROR_SUCCESS) {
			r->reply[i] = r->copies[i];
			r->ok++;
		}
	}
	return r;
}

/* Up and down from the subscription's thread, as they happen. */
static void
on_stream_event(const struct secstat_sub_event *ev, void *arg)
{
	struct watch *w = arg;
	const struct secstat_fleet_host *h = secstat_fleet_host(w->f, ev->host);

	if (ev->type == SECSTAT_SUB_UP) {
		event(w, "%s UP   %s%s", h->name, "");
	} else if (ev->type == SECSTAT_SUB_DOWN) {
		const char *why =
		    ev->status != 0 ? secstat_status_name(ev->status) : NULL;

		event(w, "%s DOWN %s (%s)", h->name,
		      why != NULL ? why : "no heartbeat");
	}
}

static int
stream_open(struct watch *w)
{
	struct secstat_sub_host *hosts = calloc(w->n, sizeof(*hosts));
	struct secstat_subscribe_options o;
	uint32_t st;

	if (hosts == NULL) {
		return EXIT_ALL_FAILED;
	}
	for (size_t i = 0; i < w->n; i++) {
		const struct secstat_fleet_host *h =
		    secstat_fleet_host(w->f, i);

		if (h->pub_url == NULL) {
			fprintf(stderr,
			        "secstat: watch --stream: %s has no pub=URL in "
			        "the hosts file\n",
			        h->name);
			free(hosts);
			return EXIT_USAGE;
		}
		hosts[i].pub_url = h->pub_url;
		hosts[i].req_url = h->url;
		hosts[i].name = h->name;
	}
	secstat_subscribe_options_init(&o);
	o.families = SECSTAT_FAMILY_MASK(w->family);
	o.timeout_ms = w->cli->timeout_ms;
	o.tls_ca_file = w->cli->tls_ca;
	o.tls_cert_file = w->cli->tls_cert;
	o.tls_key_file = w->cli->tls_key;
	o.tls_server_name = w->cli->tls_server_name;
	o.client_id = w->cli->client_id;
	o.token = w->cli->token;
	st = secstat_subscribe(&w->sub, hosts, w->n, &o, on_stream_event, w);
	free(hosts);
	if (st != ERROR_SUCCESS) {
		fprintf(stderr, "secstat: watch --stream: %s\n",
		        secstat_strerror(st));
		return EXIT_ALL_FAILED;
	}
	return 0;
}

int
watch_main(int argc, char *argv[], const struct cli *cli)
{
	static const struct option opts[] = {
	    {"interval", required_argument, NULL, 'i'},
	    {"count", required_argument, NULL, 'c'},
	    {"stream", no_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct watch w = {.cli = cli,
	                  .method = SECSTAT_METHOD_IPSEC_GET_STATISTICS1,
	                  .family = SECSTAT__V1__FAMILY__FAMILY_IPSEC};
	struct round *prev = NULL;
	double interval = 1.0;
	long count = -1;
	bool stream = false;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "i:c:sh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if ((interval = parse_seconds(optarg)) < 0) {
				fprintf(
				    stderr,
				    "secstat: watch: --interval: not a number "
				    "of seconds from 0.05: %s\n",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'c':
			count = strtol(optarg, NULL, 10);
			if (count <= 0) {
				fprintf(stderr,
				        "secstat: watch: --count: not a "
				        "positive number\n");
				return EXIT_USAGE;
			}
			break;
		case 's':
			stream = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_ALL_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		const char *fam = argv[optind++];

		if (strcmp(fam, "ipsec") == 0) {
			w.method = SECSTAT_METHOD_IPSEC_GET_STATISTICS1;
			w.family = SECSTAT__V1__FAMILY__FAMILY_IPSEC;
		} else if (strcmp(fam, "ikeext") == 0) {
			w.method = SECSTAT_METHOD_IKEEXT_GET_STATISTICS1;
			w.family = SECSTAT__V1__FAMILY__FAMILY_IKE;
		} else if (strcmp(fam, "iscsi") == 0) {
			w.method = SECSTAT_METHOD_ISCSI_GET_STATISTICS;
			w.family = SECSTAT__V1__FAMILY__FAMILY_ISCSI;
		} else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc || cli->format != OUTPUT_TABLE) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((rc = query_open_fleet(cli, &w.f)) != 0) {
		return rc;
	}
	pthread_mutex_init(&w.out_mtx, NULL);
	w.n = secstat_fleet_count(w.f);
	w.tty = isatty(1);
	w.last_status = calloc(w.n, sizeof(*w.last_status));
	w.events = calloc(5, sizeof(*w.events));
	if (w.last_status == NULL || w.events == NULL) {
		fprintf(stderr, "secstat: out of memory\n");
		rc = EXIT_ALL_FAILED;
		goto out;
	}
	if (stream && (rc = stream_open(&w)) != 0) {
		goto out;
	}
	for (long n = 0; count < 0 || n < count; n++) {
		struct round *cur;
		secstat_rates *rates = NULL;
		struct timespec a, b;

		clock_gettime(CLOCK_MONOTONIC, &a);
		if (stream) {
			/* The first states arrive with the first messages. */
			if (n == 0) {
				sleep_ms((uint64_t)(interval * 1000 + 0.5));
			}
			cur = round_stream(&w);
		} else {
			cur = round_query(&w);
		}
		if (cur == NULL) {
			fprintf(stderr, "secstat: out of memory\n");
			rc = EXIT_ALL_FAILED;
			goto out;
		}
		if (!stream) {
			note_changes(&w, cur, n == 0);
		}
		if (prev != NULL &&
		    secstat_rates_compute_replies(prev->reply, cur->reply, w.n,
		                                  &rates) == ERROR_SUCCESS) {
			update_totals(&w, rates);
		}
		pthread_mutex_lock(&w.out_mtx);
		if (w.tty) {
			draw_tty(&w, cur, rates, interval);
		} else {
			draw_line(&w, cur, rates);
		}
		pthread_mutex_unlock(&w.out_mtx);
		secstat_rates_free(rates);
		round_free(prev, w.n);
		prev = cur;
		if (count > 0 && n + 1 >= count) {
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &b);
		{
			double spent = (double)(b.tv_sec - a.tv_sec) +
			               (double)(b.tv_nsec - a.tv_nsec) / 1e9;
			double left = interval - spent;
			if (left > 0) {
				sleep_ms((uint64_t)(left * 1000 + 0.5));
			}
		}
	}
	rc = query_exit_status(prev->status, w.n);
out:
	secstat_subscription_close(w.sub);
	round_free(prev, w.n);
	secstat_fleet_close(w.f);
	for (size_t i = 0; i < w.n_totals; i++) {
		free(w.totals[i].own);
	}
	free(w.totals);
	for (size_t i = 0; i < w.n_events; i++) {
		free(w.events[i]);
	}
	free(w.events);
	free(w.last_status);
	pthread_mutex_destroy(&w.out_mtx);
	return rc;
}
