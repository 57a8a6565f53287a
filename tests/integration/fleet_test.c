/*
 * The fleet API against real secstatd processes on loopback: 50 agents
 * (sim under distinct hostnames and seeds, and procfs ones that fill only
 * a few fields), agents that were never started, a socket that accepts
 * and never answers, one agent killed during a query, one restarted
 * between two queries, and a relay over 20 of them.
 *
 * The aggregate is checked field by field against sums computed here,
 * independently of the library: every statistic of every host's reply is
 * walked with list elements named by their key, added up, and compared
 * with the aggregate walked the same way, with the presence counts and
 * extremes of the side table.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include <secstat/secstat.h>

#include "model.h"
#include "testlib.h"

#define N_SIM      46
#define N_PROCFS   4
#define N_AGENTS   (N_SIM + N_PROCFS)
#define N_DEAD     3
#define N_RELAYED  20
#define TIMEOUT_MS 1000
#define SLACK_MS   700

struct fleet_env {
	struct test_agent agents[N_AGENTS];
	char urls[N_AGENTS + N_DEAD + 1][128];
	char names[N_AGENTS][32];
	int silent_fd;
	size_t n_urls;
	struct test_agent relay;
	char relay_url[128];
	char hosts_file[256];
};

static struct fleet_env *env;

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A TCP socket that completes handshakes (the kernel's backlog) but
 * whose owner never reads or writes. */
static int
silent_listener(char *url, size_t len)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(fd, 16) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		return -1;
	}
	snprintf(url, len, "tcp://127.0.0.1:%d", ntohs(sa.sin_port));
	return fd;
}

static int
start_agent(struct test_agent *a, const char *url, const char *name, int seed,
            bool procfs, const char *interval)
{
	char seed_s[16];
	const char *argv[20];
	size_t n = 0;

	snprintf(seed_s, sizeof(seed_s), "%d", seed);
	argv[n++] = "--listen";
	argv[n++] = url;
	argv[n++] = "--hostname";
	argv[n++] = name;
	argv[n++] = "--collect-interval";
	argv[n++] = interval;
	/* The fleet and the relay query over plain tcp:// on loopback. */
	argv[n++] = "--allow-loopback-insecure";
	if (procfs) {
		argv[n++] = "--provider";
		argv[n++] = "procfs";
		argv[n++] = "--procfs-root";
		argv[n++] = test_fixture("procfs/debian-6.1");
	} else {
		argv[n++] = "--provider";
		argv[n++] = "sim";
		argv[n++] = "--sim-seed";
		argv[n++] = seed_s;
	}
	argv[n] = NULL;
	return test_agent_start(a, argv);
}

static int
setup(void **state)
{
	(void)state;
	if ((env = calloc(1, sizeof(*env))) == NULL) {
		return -1;
	}
	/* Collection once at start (interval of an hour): the answers stay
	 * the same for the whole run, so a relay and a direct query can be
	 * compared value for value. */
	for (int i = 0; i < N_AGENTS; i++) {
		const char *u;

		snprintf(env->names[i], sizeof(env->names[i]), "fleet-%02d", i);
		u = test_ipc_url(env->names[i]);
		snprintf(env->urls[i], sizeof(env->urls[i]), "%s", u);
		if (start_agent(&env->agents[i], env->urls[i], env->names[i],
		                i + 1, i >= N_SIM, "3600000") != 0) {
			return -1;
		}
	}
	for (int i = 0; i < N_DEAD; i++) {
		char name[32];

		snprintf(name, sizeof(name), "never-%d", i);
		snprintf(env->urls[N_AGENTS + i], sizeof(env->urls[0]), "%s",
		         test_ipc_url(name));
	}
	env->silent_fd =
	    silent_listener(env->urls[N_AGENTS + N_DEAD], sizeof(env->urls[0]));
	if (env->silent_fd < 0) {
		return -1;
	}
	env->n_urls = N_AGENTS + N_DEAD + 1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	for (int i = 0; i < N_AGENTS; i++) {
		test_agent_stop(&env->agents[i], SIGTERM);
	}
	test_agent_stop(&env->relay, SIGTERM);
	if (env->hosts_file[0] != '\0') {
		unlink(env->hosts_file);
	}
	close(env->silent_fd);
	free(env);
	return 0;
}

/* ---- an independent walk: statistics by keyed path ---- */

struct stat_entry {
	char key_path[MODEL_PATH_MAX];   /* list elements by their key */
	char index_path[MODEL_PATH_MAX]; /* as the walker names them */
	enum stat_kind kind;
	uint64_t value;
	/* expected side-table values */
	uint32_t hosts;
	uint64_t min, max;
	uint32_t min_host, max_host;
	bool in_concat; /* under a concatenated list */
};

struct stats {
	struct stat_entry *v;
	size_t n, cap;
};

static struct stat_entry *
stats_find(struct stats *s, const char *key_path)
{
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->v[i].key_path, key_path) == 0) {
			return &s->v[i];
		}
	}
	return NULL;
}

static struct stat_entry *
stats_add(struct stats *s)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 512;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		assert_non_null(s->v);
	}
	memset(&s->v[s->n], 0, sizeof(s->v[0]));
	return &s->v[s->n++];
}

static const char *
jname(const ProtobufCMessageDescriptor *d, unsigned i)
{
	const struct stat_field_meta *m = stat_meta_field(d, i);

	return m != NULL && m->json_name ? m->json_name : d->fields[i].name;
}

static const char *
str_field(const ProtobufCMessage *m, const char *name)
{
	const ProtobufCFieldDescriptor *fd =
	    protobuf_c_message_descriptor_get_field_by_name(m->descriptor,
	                                                    name);

	if (fd == NULL || fd->type != PROTOBUF_C_TYPE_STRING ||
	    !model_field_present(m, fd)) {
		return NULL;
	}
	return *(const char *const *)((const char *)m + fd->offset);
}

/* Walks `m`; `host` names the host for the tags of concatenated lists
 * (NULL: the message is the aggregate, already tagged). */
static void
walk(const ProtobufCMessage *m, char *kp, size_t kl, char *ip, size_t il,
     const char *host, bool concat, void (*fn)(struct stat_entry *, void *),
     void *arg)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		const struct stat_field_meta *meta = stat_meta_field(d, i);
		size_t n = model_field_count(m, fd);
		bool rep = fd->label == PROTOBUF_C_LABEL_REPEATED;

		for (size_t k = 0; k < n; k++) {
			int a, b;

			if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
				const ProtobufCMessage *sub =
				    model_field_message(m, fd, k);
				char key[MODEL_PATH_MAX] = "";
				bool cc = concat;

				if (rep) {
					const char *inst =
					    str_field(sub, "instance_name");
					const char *nm = str_field(sub, "name");
					const char *ns =
					    str_field(sub, "netns");
					const char *port =
					    str_field(sub, "port");
					const char *sys =
					    str_field(sub, "sysfs_name");

					if (inst != NULL) {
						/* HBAs: concatenated, tagged */
						cc = true;
						snprintf(key, sizeof(key),
						         "%s%s%s",
						         host ? host : "",
						         host ? "/" : "", inst);
					} else if (ns != NULL) {
						snprintf(key, sizeof(key), "%s",
						         ns);
					} else if (nm != NULL) {
						snprintf(key, sizeof(key), "%s",
						         nm);
					} else if (sys != NULL) {
						snprintf(key, sizeof(key), "%s",
						         sys);
					} else if (port != NULL) {
						snprintf(key, sizeof(key), "%s",
						         port);
					} else {
						snprintf(key, sizeof(key),
						         "%zu", k);
					}
					a = snprintf(kp + kl,
					             MODEL_PATH_MAX - kl,
					             "%s%s[%s]", kl ? "." : "",
					             jname(d, i), key);
					b = snprintf(ip + il,
					             MODEL_PATH_MAX - il,
					             "%s%s[%zu]", il ? "." : "",
					             jname(d, i), k);
				} else {
					a = snprintf(
					    kp + kl, MODEL_PATH_MAX - kl,
					    "%s%s", kl ? "." : "", jname(d, i));
					b = snprintf(
					    ip + il, MODEL_PATH_MAX - il,
					    "%s%s", il ? "." : "", jname(d, i));
				}
				walk(sub, kp, kl + (size_t)a, ip,
				     il + (size_t)b, host, cc, fn, arg);
			} else if (meta != NULL && meta->kind != STAT_NONE) {
				struct stat_entry e = {.kind = meta->kind,
				                       .in_concat = concat};

				snprintf(e.key_path, sizeof(e.key_path),
				         rep ? "%s%s%s[%zu]" : "%s%s%s", kp,
				         kl ? "." : "", jname(d, i), k);
				snprintf(e.index_path, sizeof(e.index_path),
				         rep ? "%s%s%s[%zu]" : "%s%s%s", ip,
				         il ? "." : "", jname(d, i), k);
				e.value = model_field_u64(m, fd, k);
				fn(&e, arg);
			}
			kp[kl] = '\0';
			ip[il] = '\0';
		}
	}
}

static const ProtobufCMessage *
result_of(const Secstat__V1__Reply *r)
{
	switch (r->result_case) {
	case SECSTAT__V1__REPLY__RESULT_IPSEC:
		return &r->ipsec->base;
	case SECSTAT__V1__REPLY__RESULT_IKEEXT:
		return &r->ikeext->base;
	case SECSTAT__V1__REPLY__RESULT_ISCSI:
		return &r->iscsi->base;
	default:
		return NULL;
	}
}

struct sum_ctx {
	struct stats *s;
	uint32_t host;
};

static void
sum_one(struct stat_entry *e, void *arg)
{
	struct sum_ctx *c = arg;
	struct stat_entry *t = stats_find(c->s, e->key_path);

	if (t == NULL) {
		t = stats_add(c->s);
		*t = *e;
		t->value = 0;
		t->min = t->max = e->value;
		t->min_host = t->max_host = c->host;
	}
	if (e->value < t->min) {
		t->min = e->value;
		t->min_host = c->host;
	}
	if (e->value > t->max) {
		t->max = e->value;
		t->max_host = c->host;
	}
	t->value += e->value;
	t->hosts++;
}

static void
collect_one(struct stat_entry *e, void *arg)
{
	struct stats *s = arg;

	*stats_add(s) = *e;
}

static void
walk_reply(const Secstat__V1__Reply *r, const char *host,
           void (*fn)(struct stat_entry *, void *), void *arg)
{
	char kp[MODEL_PATH_MAX] = "", ip[MODEL_PATH_MAX] = "";
	const ProtobufCMessage *m = result_of(r);

	assert_non_null(m);
	walk(m, kp, 0, ip, 0, host, false, fn, arg);
}

/* Checks the aggregate of `res` against the per-host replies, field by
 * field; returns the number of partially present statistics. */
static size_t
check_aggregate(const secstat_fleet_result *res)
{
	struct stats want = {0}, got = {0};
	const Secstat__V1__Reply *agg = secstat_fleet_result_aggregate(res);
	const Secstat__V1__FleetAggregate *sum =
	    secstat_fleet_result_summary(res);
	size_t ok = secstat_fleet_result_ok(res), partial = 0, in_summary = 0;

	assert_non_null(agg);
	assert_non_null(sum);
	for (size_t i = 0; i < secstat_fleet_result_count(res); i++) {
		const Secstat__V1__Reply *r =
		    secstat_fleet_result_reply(res, i);
		struct sum_ctx c = {&want, (uint32_t)i};

		if (secstat_fleet_result_status(res, i) != ERROR_SUCCESS) {
			continue;
		}
		walk_reply(r, r->host->hostname, sum_one, &c);
	}
	walk_reply(agg, NULL, collect_one, &got);
	/* Same set of statistics, same sums. */
	assert_int_equal(got.n, want.n);
	for (size_t i = 0; i < got.n; i++) {
		struct stat_entry *w = stats_find(&want, got.v[i].key_path);

		if (w == NULL) {
			fail_msg("aggregate has %s, no host has",
			         got.v[i].key_path);
		}
		if (w->value != got.v[i].value) {
			fail_msg("%s: aggregate %llu, sum of hosts %llu",
			         w->key_path,
			         (unsigned long long)got.v[i].value,
			         (unsigned long long)w->value);
		}
		snprintf(w->index_path, sizeof(w->index_path), "%s",
		         got.v[i].index_path);
		if (w->hosts < ok) {
			partial++;
		}
	}
	/* The side table: presence count and extremes of every summed
	 * statistic (concatenated lists come from one host each and are
	 * not summarised). */
	assert_int_equal(sum->hosts_ok, ok);
	assert_int_equal(sum->n_hosts, secstat_fleet_result_count(res));
	for (size_t i = 0; i < sum->n_fields; i++) {
		const Secstat__V1__FleetFieldSummary *f = sum->fields[i];
		struct stat_entry *w = NULL;

		for (size_t k = 0; k < want.n && w == NULL; k++) {
			if (strcmp(want.v[k].index_path, f->path) == 0) {
				w = &want.v[k];
			}
		}
		if (w == NULL) {
			fail_msg("summary names %s, not in the aggregate",
			         f->path);
		}
		assert_false(w->in_concat);
		assert_int_equal(f->sum, w->value);
		assert_int_equal(f->hosts, w->hosts);
		assert_int_equal(f->min, w->min);
		assert_int_equal(f->max, w->max);
		assert_int_equal(f->min_host, w->min_host);
		assert_int_equal(f->max_host, w->max_host);
		assert_int_equal((int)f->kind, (int)w->kind);
		in_summary++;
	}
	for (size_t k = 0; k < want.n; k++) {
		if (!want.v[k].in_concat) {
			in_summary--;
		}
	}
	assert_int_equal(in_summary, 0);
	free(want.v);
	free(got.v);
	return partial;
}

static secstat_fleet *
open_fleet(const char *const *urls, size_t n, uint32_t timeout_ms)
{
	struct secstat_fleet_options o;
	secstat_fleet *f = NULL;

	secstat_fleet_options_init(&o);
	o.timeout_ms = timeout_ms;
	assert_int_equal(secstat_fleet_open(&f, urls, n, &o), ERROR_SUCCESS);
	return f;
}

static void
test_aggregate_every_field(void **state)
{
	static const char *const methods[] = {
	    SECSTAT_METHOD_IPSEC_GET_STATISTICS1,
	    SECSTAT_METHOD_IKEEXT_GET_STATISTICS1,
	    SECSTAT_METHOD_ISCSI_GET_STATISTICS,
	};
	const char *urls[N_AGENTS + N_DEAD + 1];
	secstat_fleet *f;

	(void)state;
	for (size_t i = 0; i < env->n_urls; i++) {
		urls[i] = env->urls[i];
	}
	f = open_fleet(urls, env->n_urls, TIMEOUT_MS);
	for (size_t m = 0; m < 3; m++) {
		secstat_fleet_result *res = NULL;
		long t0 = now_ms(), dt;
		size_t partial;

		assert_int_equal(
		    secstat_fleet_query(f, methods[m], NULL, NULL, &res),
		    ERROR_SUCCESS);
		dt = now_ms() - t0;
		/* The silent host costs its deadline, no more, and holds up
		 * nobody else; once found unreachable, it (and the hosts that
		 * never started) fail at once while still unconnected. */
		assert_true(dt < TIMEOUT_MS + SLACK_MS);
		if (m > 0) {
			assert_true(dt < SLACK_MS);
		}
		for (size_t i = 0; i < N_SIM; i++) {
			assert_int_equal(secstat_fleet_result_status(res, i),
			                 ERROR_SUCCESS);
			assert_string_equal(
			    secstat_fleet_result_reply(res, i)->host->hostname,
			    env->names[i]);
		}
		for (size_t i = N_AGENTS; i < N_AGENTS + N_DEAD; i++) {
			assert_int_equal(secstat_fleet_result_status(res, i),
			                 RPC_E_SERVER_DIED_DNE);
			assert_null(secstat_fleet_result_reply(res, i));
		}
		{
			uint32_t st =
			    secstat_fleet_result_status(res, N_AGENTS + N_DEAD);
			/* Its TCP connection exists, but the SP handshake never
			 * completes: the request was never sent. */
			assert_int_equal(st, RPC_E_SERVER_DIED_DNE);
			if (m == 0) {
				assert_true(secstat_fleet_result_latency_us(
				                res, N_AGENTS + N_DEAD) >=
				            (TIMEOUT_MS - 50) * 1000u);
			}
		}
		partial = check_aggregate(res);
		if (m == 0) {
			/* procfs agents fill a few IPsec fields only; they
			 * answer IKE and iSCSI with an error status. */
			assert_int_equal(secstat_fleet_result_ok(res),
			                 N_AGENTS);
			assert_true(partial > 0);
		} else {
			assert_int_equal(secstat_fleet_result_ok(res), N_SIM);
			for (size_t i = N_SIM; i < N_AGENTS; i++) {
				uint32_t st =
				    secstat_fleet_result_status(res, i);
				assert_true((st & 0xFFFF0000u) == 0x80320000u);
			}
		}
		secstat_fleet_result_free(res);
	}
	secstat_fleet_close(f);
}

struct query_thread {
	secstat_fleet *f;
	secstat_fleet_result *res;
	long ms;
};

static void *
query_main(void *arg)
{
	struct query_thread *q = arg;
	long t0 = now_ms();

	secstat_fleet_query(q->f, SECSTAT_METHOD_IPSEC_GET_STATISTICS1, NULL,
	                    NULL, &q->res);
	q->ms = now_ms() - t0;
	return NULL;
}

static void
test_killed_during_query(void **state)
{
	struct test_agent k;
	char url[128];
	const char *urls[2];
	struct query_thread q = {0};
	secstat_fleet_result *res = NULL;
	pthread_t t;

	(void)state;
	snprintf(url, sizeof(url), "%s", test_ipc_url("killed"));
	assert_int_equal(start_agent(&k, url, "killed", 99, false, "1000"), 0);
	urls[0] = url;
	urls[1] = env->urls[0];
	q.f = open_fleet(urls, 2, 3000);
	/* Connected and answering first. */
	assert_int_equal(secstat_fleet_query(q.f, SECSTAT_METHOD_GET_HOST_INFO,
	                                     NULL, NULL, &res),
	                 ERROR_SUCCESS);
	assert_int_equal(secstat_fleet_result_ok(res), 2);
	secstat_fleet_result_free(res);
	/* Frozen: the request is sent and never answered; then killed. */
	test_agent_freeze(&k);
	assert_int_equal(pthread_create(&t, NULL, query_main, &q), 0);
	usleep(300 * 1000);
	test_agent_stop(&k, SIGKILL);
	pthread_join(t, NULL);
	assert_non_null(q.res);
	assert_int_equal(secstat_fleet_result_status(q.res, 0),
	                 RPC_E_DISCONNECTED);
	assert_int_equal(secstat_fleet_result_status(q.res, 1), ERROR_SUCCESS);
	/* Reported when the connection dropped, not at the deadline. */
	assert_true(q.ms < 2000);
	secstat_fleet_result_free(q.res);
	secstat_fleet_close(q.f);
}

static void
test_restart_between_queries(void **state)
{
	struct test_agent r;
	char url[128];
	const char *urls[2];
	secstat_fleet *f;
	secstat_fleet_result *a = NULL, *b = NULL;
	secstat_rates *rates = NULL;
	const struct secstat_rate *fr, *hr;
	size_t nf, nh, decreased = 0;
	uint32_t flags;

	(void)state;
	snprintf(url, sizeof(url), "%s", test_ipc_url("restarted"));
	/* Evolving counters (collection every 100 ms). */
	assert_int_equal(start_agent(&r, url, "restarted", 7, false, "100"), 0);
	urls[0] = url;
	urls[1] = env->urls[1];
	f = open_fleet(urls, 2, 2000);
	usleep(1500 * 1000);
	assert_int_equal(
	    secstat_fleet_query(f, SECSTAT_METHOD_IPSEC_GET_STATISTICS1, NULL,
	                        NULL, &a),
	    ERROR_SUCCESS);
	assert_int_equal(secstat_fleet_result_ok(a), 2);
	test_agent_stop(&r, SIGTERM);
	assert_int_equal(start_agent(&r, url, "restarted", 7, false, "100"), 0);
	usleep(300 * 1000);
	assert_int_equal(
	    secstat_fleet_query(f, SECSTAT_METHOD_IPSEC_GET_STATISTICS1, NULL,
	                        NULL, &b),
	    ERROR_SUCCESS);
	assert_int_equal(secstat_fleet_result_ok(b), 2);
	assert_int_not_equal(secstat_fleet_result_reply(a, 0)->host->epoch,
	                     secstat_fleet_result_reply(b, 0)->host->epoch);
	assert_int_equal(secstat_rates_compute(a, b, &rates), ERROR_SUCCESS);

	hr = secstat_rates_host(rates, 0, &nh, &flags);
	assert_true((flags & SECSTAT_RATES_EPOCH_CHANGED) != 0);
	assert_true(nh > 0);
	for (size_t i = 0; i < nh; i++) {
		assert_true(isfinite(hr[i].per_second));
		assert_true(hr[i].per_second >= 0.0);
		/* Never more than the counter holds now. */
		assert_true(hr[i].delta <= hr[i].value);
		decreased += hr[i].resets;
	}
	/* The restarted sim counts from its beginning again. */
	assert_true(decreased > 0);
	fr = secstat_rates_fleet(rates, &nf);
	for (size_t i = 0; i < nf; i++) {
		const Secstat__V1__FleetFieldSummary *s = NULL;
		const Secstat__V1__FleetAggregate *sa =
		    secstat_fleet_result_summary(a);

		assert_true(isfinite(fr[i].per_second));
		assert_true(fr[i].per_second >= 0.0);
		/* Monotonic fleet total: the earlier aggregate plus the
		 * increase never falls below the earlier aggregate, even
		 * though the plain sum of the newer answers may. */
		for (size_t k = 0; k < sa->n_fields && s == NULL; k++) {
			if (strcmp(sa->fields[k]->path, fr[i].path) == 0) {
				s = sa->fields[k];
			}
		}
		if (s != NULL && fr[i].hosts == 2) {
			assert_true(s->sum + fr[i].delta >= s->sum);
		}
	}
	/* The static host did not move. */
	hr = secstat_rates_host(rates, 1, &nh, &flags);
	assert_int_equal(flags & SECSTAT_RATES_EPOCH_CHANGED, 0);
	for (size_t i = 0; i < nh; i++) {
		assert_int_equal(hr[i].delta, 0);
	}
	secstat_rates_free(rates);
	secstat_fleet_result_free(a);
	secstat_fleet_result_free(b);
	secstat_fleet_close(f);
	test_agent_stop(&r, SIGTERM);
}

static void
test_relay_same_aggregate(void **state)
{
	const char *urls[N_RELAYED];
	const char *argv[16];
	secstat_fleet *f;
	secstat_fleet_result *direct = NULL;
	secstat_session *s = NULL;
	Secstat__V1__Reply *via = NULL;
	struct stats want = {0}, got = {0};
	FILE *hf;
	int fd;

	(void)state;
	snprintf(env->hosts_file, sizeof(env->hosts_file),
	         "/tmp/secstat-relay-hosts-XXXXXX");
	fd = mkstemp(env->hosts_file);
	assert_true(fd >= 0);
	hf = fdopen(fd, "w");
	fprintf(hf, "# the first %d agents\n", N_RELAYED);
	for (int i = 0; i < N_RELAYED; i++) {
		urls[i] = env->urls[i];
		fprintf(hf, "%s %s rack-%d\n", env->urls[i], env->names[i],
		        i % 4);
	}
	fclose(hf);
	snprintf(env->relay_url, sizeof(env->relay_url), "%s",
	         test_ipc_url("relay"));
	argv[0] = "--relay";
	argv[1] = env->hosts_file;
	argv[2] = "--listen";
	argv[3] = env->relay_url;
	argv[4] = "--hostname";
	argv[5] = "relay-1";
	argv[6] = "--collect-interval";
	argv[7] = "200";
	argv[8] = NULL;
	assert_int_equal(test_agent_start(&env->relay, argv), 0);

	f = open_fleet(urls, N_RELAYED, 2000);
	assert_int_equal(
	    secstat_fleet_query(f, SECSTAT_METHOD_IPSEC_GET_STATISTICS1, NULL,
	                        NULL, &direct),
	    ERROR_SUCCESS);
	assert_int_equal(secstat_fleet_result_ok(direct), N_RELAYED);
	assert_int_equal(secstat_session_open(&s, env->relay_url, NULL),
	                 ERROR_SUCCESS);
	/* Its first collection may finish after it is ready (a loaded
	 * machine); its hosts' answers do not change, so any later one is
	 * the same. */
	for (int i = 0; i < 50; i++) {
		secstat_reply_free(via);
		via = NULL;
		if (secstat_ipsec_get_statistics1(s, &via) == ERROR_SUCCESS) {
			break;
		}
		usleep(100 * 1000);
	}
	assert_non_null(via);
	assert_int_equal(via->status, ERROR_SUCCESS);
	assert_string_equal(via->host->hostname, "relay-1");

	walk_reply(secstat_fleet_result_aggregate(direct), NULL, collect_one,
	           &want);
	walk_reply(via, NULL, collect_one, &got);
	assert_true(want.n > 50);
	assert_int_equal(got.n, want.n);
	for (size_t i = 0; i < want.n; i++) {
		assert_string_equal(got.v[i].key_path, want.v[i].key_path);
		if (got.v[i].value != want.v[i].value) {
			fail_msg("%s: relay %llu, direct %llu",
			         want.v[i].key_path,
			         (unsigned long long)got.v[i].value,
			         (unsigned long long)want.v[i].value);
		}
	}
	free(want.v);
	free(got.v);
	secstat_reply_free(via);
	via = NULL;

	/* Per-host data on request: each host's own IPsec reply, equal to
	 * the direct query of that host field for field. */
	assert_int_equal(secstat_relay_get_hosts(s, &via), ERROR_SUCCESS);
	assert_int_equal(via->result_case,
	                 SECSTAT__V1__REPLY__RESULT_RELAY_HOSTS);
	assert_int_equal(via->relay_hosts->n_hosts, N_RELAYED);
	for (size_t i = 0; i < N_RELAYED; i++) {
		const Secstat__V1__RelayHost *h = via->relay_hosts->hosts[i];
		Secstat__V1__Reply one = SECSTAT__V1__REPLY__INIT;
		struct stats dw = {0}, rw = {0};

		assert_true(h->has_status);
		assert_int_equal(h->status, ERROR_SUCCESS);
		assert_string_equal(h->name, env->names[i]);
		assert_string_equal(h->url, env->urls[i]);
		assert_int_equal(h->n_tags, 1);
		assert_non_null(h->host);
		assert_string_equal(h->host->hostname, env->names[i]);
		assert_non_null(h->ipsec);
		assert_non_null(h->ikeext);
		one.result_case = SECSTAT__V1__REPLY__RESULT_IPSEC;
		one.ipsec = h->ipsec;
		walk_reply(secstat_fleet_result_reply(direct, i), NULL,
		           collect_one, &dw);
		walk_reply(&one, NULL, collect_one, &rw);
		assert_true(dw.n > 10);
		assert_int_equal(rw.n, dw.n);
		for (size_t k = 0; k < dw.n; k++) {
			assert_string_equal(rw.v[k].key_path, dw.v[k].key_path);
			if (rw.v[k].value != dw.v[k].value) {
				fail_msg("%s %s: relay %llu, direct %llu",
				         h->name, dw.v[k].key_path,
				         (unsigned long long)rw.v[k].value,
				         (unsigned long long)dw.v[k].value);
			}
		}
		free(dw.v);
		free(rw.v);
	}
	secstat_reply_free(via);
	via = NULL;

	/* An agent that is not a relay has no per-host data. */
	secstat_session_close(s);
	assert_int_equal(secstat_session_open(&s, env->urls[0], NULL),
	                 ERROR_SUCCESS);
	assert_int_equal(secstat_relay_get_hosts(s, &via),
	                 FWP_E_PROVIDER_NOT_FOUND);
	secstat_reply_free(via);

	secstat_session_close(s);
	secstat_fleet_result_free(direct);
	secstat_fleet_close(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_aggregate_every_field),
	    cmocka_unit_test(test_killed_during_query),
	    cmocka_unit_test(test_restart_between_queries),
	    cmocka_unit_test(test_relay_same_aggregate),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
