/*
 * The vici connection and collection against a fake charon: a server
 * thread on a unix (or loopback TCP) socket that answers with segments
 * recorded from a real daemon, or misbehaves: accepts and never answers,
 * closes mid-message, sends an oversized length, restarts, or does not
 * know get-counters. Also the provider's event thread: it must pick up
 * the event stream again after the daemon restarts.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "config.h"
#include "stats_tree.h"
#include "vici.h"
#include "vici_fixtures.h"

/* What a probe names when it finds nothing (provider_ops.probe). */
static char what[128];

enum fake_mode {
	FAKE_SERVE,       /* recorded ssa replies */
	FAKE_NO_COUNTERS, /* ... but get-counters is unknown */
	FAKE_SILENT,      /* accepts, reads, never answers */
	FAKE_HALF,        /* half a segment, then close */
	FAKE_OVERSIZED,   /* a length over 512 KiB */
	FAKE_EVENTS,      /* streams ssa's events after "log" registers */
};

#define FAKE_CLIENTS 8

struct fake {
	enum fake_mode mode;
	bool tcp;
	int port;
	char path[108];
	char uri[160];
	int lfd;
	int clients[FAKE_CLIENTS];
	int stop[2];
	pthread_t thread;
	int accepted;
};

static void
send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0) {
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static void
send_file(int fd, const char *rel)
{
	size_t len;
	uint8_t *buf = vici_fixture_read(rel, &len);

	if (buf != NULL) {
		send_all(fd, buf, len);
		free(buf);
	}
}

static void
send_type(int fd, uint8_t type)
{
	uint8_t seg[5] = {0, 0, 0, 1, type};

	send_all(fd, seg, sizeof(seg));
}

/* Reads one segment; false on EOF or error. */
static bool
read_segment(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	uint8_t hdr[4];
	uint32_t n;
	size_t got = 0;

	while (got < 4) {
		ssize_t r = recv(fd, hdr + got, 4 - got, 0);

		if (r <= 0) {
			return false;
		}
		got += (size_t)r;
	}
	n = ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) |
	    ((uint32_t)hdr[2] << 8) | hdr[3];
	if (n > cap) {
		return false;
	}
	for (got = 0; got < n;) {
		ssize_t r = recv(fd, buf + got, n - got, 0);

		if (r <= 0) {
			return false;
		}
		got += (size_t)r;
	}
	*len = n;
	return true;
}

static void
answer(struct fake *f, int fd, const struct vici_packet *p)
{
	static const struct {
		const char *cmd;
		const char *events;
		const char *reply;
	} table[] = {
	    {"version", NULL, "recorded/ssa-traffic-version-reply.bin"},
	    {"stats", NULL, "recorded/ssa-traffic-stats-reply.bin"},
	    {"list-sas", "recorded/ssa-traffic-list-sa.bin",
	     "recorded/ssa-traffic-list-sas-reply.bin"},
	    {"list-conns", "recorded/ssa-traffic-list-conn.bin",
	     "recorded/ssa-traffic-list-conns-reply.bin"},
	    {"get-counters", NULL,
	     "recorded/ssa-traffic-get-counters-reply.bin"},
	};

	if (f->mode == FAKE_SILENT) {
		return;
	}
	if (p->type == VICI_EVENT_REGISTER) {
		send_type(fd, VICI_EVENT_CONFIRM);
		if (f->mode == FAKE_EVENTS && strcmp(p->name, "log") == 0) {
			send_file(fd, "recorded/ssa-events.bin");
		}
		return;
	}
	if (p->type != VICI_CMD_REQUEST) {
		return;
	}
	switch (f->mode) {
	case FAKE_HALF: {
		size_t len;
		uint8_t *buf = vici_fixture_read(
		    "recorded/ssa-traffic-stats-reply.bin", &len);

		send_all(fd, buf, len / 2);
		free(buf);
		shutdown(fd, SHUT_RDWR);
		return;
	}
	case FAKE_OVERSIZED: {
		uint8_t hdr[5] = {0, 8, 0, 1, VICI_CMD_RESPONSE};

		send_all(fd, hdr, sizeof(hdr));
		return;
	}
	default:
		break;
	}
	if (f->mode == FAKE_NO_COUNTERS &&
	    strcmp(p->name, "get-counters") == 0) {
		send_type(fd, VICI_CMD_UNKNOWN);
		return;
	}
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(p->name, table[i].cmd) == 0) {
			if (table[i].events != NULL) {
				send_file(fd, table[i].events);
			}
			send_file(fd, table[i].reply);
			return;
		}
	}
	send_type(fd, VICI_CMD_UNKNOWN);
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;
	uint8_t *buf = malloc(VICI_SEGMENT_MAX);

	/* Bounded by the stop pipe. */
	for (;;) {
		struct pollfd pfd[FAKE_CLIENTS + 2];
		int n = 0;

		pfd[n++] = (struct pollfd){.fd = f->stop[0], .events = POLLIN};
		pfd[n++] = (struct pollfd){.fd = f->lfd, .events = POLLIN};
		for (int i = 0; i < FAKE_CLIENTS; i++) {
			pfd[n++] = (struct pollfd){.fd = f->clients[i],
			                           .events = POLLIN};
		}
		if (poll(pfd, (nfds_t)n, 5000) < 0) {
			break;
		}
		if (pfd[0].revents != 0) {
			break;
		}
		if (pfd[1].revents != 0) {
			int c = accept(f->lfd, NULL, NULL);

			for (int i = 0; c >= 0 && i < FAKE_CLIENTS; i++) {
				if (f->clients[i] < 0) {
					f->clients[i] = c;
					c = -1;
					f->accepted++;
				}
			}
			if (c >= 0) {
				close(c);
			}
		}
		for (int i = 0; i < FAKE_CLIENTS; i++) {
			struct vici_packet p;
			size_t len;

			if (f->clients[i] < 0 || pfd[2 + i].revents == 0) {
				continue;
			}
			if (!read_segment(f->clients[i], buf, VICI_SEGMENT_MAX,
			                  &len) ||
			    vici_packet_parse(buf, len, &p) != 0) {
				close(f->clients[i]);
				f->clients[i] = -1;
				continue;
			}
			answer(f, f->clients[i], &p);
		}
	}
	free(buf);
	return NULL;
}

static void
fake_start(struct fake *f)
{
	f->lfd =
	    socket(f->tcp ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	if (f->tcp) {
		struct sockaddr_in sa = {.sin_family = AF_INET};
		socklen_t sl = sizeof(sa);
		int one = 1;

		setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa.sin_port = htons((uint16_t)f->port);
		assert_int_equal(
		    bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		getsockname(f->lfd, (struct sockaddr *)&sa, &sl);
		f->port = ntohs(sa.sin_port);
		snprintf(f->uri, sizeof(f->uri), "tcp://127.0.0.1:%d", f->port);
	} else {
		struct sockaddr_un su = {.sun_family = AF_UNIX};

		unlink(f->path);
		snprintf(su.sun_path, sizeof(su.sun_path), "%s", f->path);
		assert_int_equal(
		    bind(f->lfd, (struct sockaddr *)&su, sizeof(su)), 0);
		snprintf(f->uri, sizeof(f->uri), "unix://%s", f->path);
	}
	assert_int_equal(listen(f->lfd, 8), 0);
	for (int i = 0; i < FAKE_CLIENTS; i++) {
		f->clients[i] = -1;
	}
	assert_int_equal(pipe(f->stop), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

/* Stops the daemon: every connection closed, the socket removed. */
static void
fake_stop(struct fake *f)
{
	assert_int_equal(write(f->stop[1], "x", 1), 1);
	pthread_join(f->thread, NULL);
	for (int i = 0; i < FAKE_CLIENTS; i++) {
		if (f->clients[i] >= 0) {
			close(f->clients[i]);
		}
	}
	close(f->lfd);
	close(f->stop[0]);
	close(f->stop[1]);
	if (!f->tcp) {
		unlink(f->path);
	}
}

static char tmpdir[64];

static int
setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vici-test-XXXXXX");
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

/* Also after a failed test, which may leave its socket behind. */
static int
teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char path[512];

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", tmpdir,
			         e->d_name);
			unlink(path);
		}
	}
	if (d != NULL) {
		closedir(d);
	}
	rmdir(tmpdir);
	return 0;
}

static void
fake_init(struct fake *f, enum fake_mode mode, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->mode = mode;
	snprintf(f->path, sizeof(f->path), "%s/%s", tmpdir, name);
}

static void
test_uri_errors(void **state)
{
	static const struct {
		const char *uri;
		int rv;
	} cases[] = {
	    {"http://x", -EINVAL},
	    {"unix://", -EINVAL},
	    {"tcp://127.0.0.1", -EINVAL},
	    {"tcp://127.0.0.1:0", -EINVAL},
	    {"tcp://127.0.0.1:70000", -EINVAL},
	    {"tcp://example.org:4502", -EINVAL},
	    {"tcp://[::1:4502", -EINVAL},
	    {"unix:///nonexistent/charon.vici", -ENOENT},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vici_conn *c = NULL;

		assert_int_equal(
		    vici_conn_open(cases[i].uri, vici_now_ms() + 1000, &c),
		    cases[i].rv);
		assert_null(c);
	}
}

/* Socket missing → absent; the provider's probe says the same. */
static void
test_missing_socket(void **state)
{
	struct agent_config cfg;
	struct vici_state *s;
	struct vici_records *r = NULL;
	char uri[160];

	snprintf(uri, sizeof(uri), "unix://%s/none.vici", tmpdir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.vici_uri = uri;
	assert_int_equal(vici_provider.probe(&cfg, what, sizeof(what)),
	                 -ENOENT);
	s = vici_state_new(uri);
	assert_int_equal(vici_collect(s, &r), -ENOENT);
	assert_null(r);
	vici_state_free(s);
}

/* A stale socket file (daemon gone) → refused, a failure. */
static void
test_refused(void **state)
{
	struct fake f;
	struct vici_state *s;
	struct vici_records *r = NULL;

	fake_init(&f, FAKE_SERVE, "stale.vici");
	{
		struct sockaddr_un su = {.sun_family = AF_UNIX};
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		snprintf(su.sun_path, sizeof(su.sun_path), "%s", f.path);
		assert_int_equal(bind(fd, (struct sockaddr *)&su, sizeof(su)),
		                 0);
		close(fd); /* bound, never listening */
	}
	snprintf(f.uri, sizeof(f.uri), "unix://%s", f.path);
	s = vici_state_new(f.uri);
	assert_int_equal(vici_collect(s, &r), -ECONNREFUSED);
	vici_state_free(s);
	unlink(f.path);
}

/* A daemon that accepts and never answers must not stall collect(). */
static void
test_silent_daemon_times_out(void **state)
{
	struct fake f;
	struct vici_state *s;
	struct vici_records *r = NULL;
	int64_t t0, dt;

	fake_init(&f, FAKE_SILENT, "silent.vici");
	fake_start(&f);
	s = vici_state_new(f.uri);
	t0 = vici_now_ms();
	assert_int_equal(vici_collect(s, &r), -ETIMEDOUT);
	dt = vici_now_ms() - t0;
	assert_null(r);
	assert_true(dt >= VICI_IDLE_MS - 50);
	assert_true(dt < 2500);
	vici_state_free(s);
	fake_stop(&f);
}

static void
test_closed_mid_message(void **state)
{
	struct fake f;
	struct vici_state *s;
	struct vici_records *r = NULL;

	fake_init(&f, FAKE_HALF, "half.vici");
	fake_start(&f);
	s = vici_state_new(f.uri);
	assert_int_equal(vici_collect(s, &r), -ECONNRESET);
	assert_null(r);
	fake_stop(&f);
	/* The same state connects afresh to a daemon that works. */
	fake_init(&f, FAKE_SERVE, "half.vici");
	fake_start(&f);
	assert_int_equal(vici_collect(s, &r), 0);
	assert_non_null(r);
	vici_records_free(r);
	vici_state_free(s);
	fake_stop(&f);
}

static void
test_oversized_segment(void **state)
{
	struct fake f;
	struct vici_state *s;
	struct vici_records *r = NULL;

	fake_init(&f, FAKE_OVERSIZED, "big.vici");
	fake_start(&f);
	s = vici_state_new(f.uri);
	assert_int_equal(vici_collect(s, &r), -EMSGSIZE);
	vici_state_free(s);
	fake_stop(&f);
}

static void
check_serving(struct vici_state *s, bool counters)
{
	struct vici_records *r = NULL;
	struct stats_tree t;

	assert_int_equal(vici_collect(s, &r), 0);
	assert_non_null(r);
	assert_true(r->has_version);
	assert_string_equal(
	    vici_str(&r->version, vici_root(&r->version), "version"), "5.9.8");
	assert_int_equal(r->n_sas, 1);
	assert_int_equal(r->n_conns, 2);
	assert_true(r->userspace_esp);
	assert_int_equal(r->has_counters, counters);
	stats_tree_init(&t);
	vici_contribute(r, &t);
	assert_int_equal(
	    t.km_ip[KEY_MODULE_IKEV2][IP_V4].current_active_main_modes, 1);
	assert_int_equal(t.common.has_total_packets_received, counters);
	assert_int_equal(t.ipsec_in.encrypted_byte_count, 2320);
	stats_tree_release(&t);
	vici_records_free(r);
}

static void
test_collect_recorded(void **state)
{
	struct fake f;
	struct vici_state *s;

	fake_init(&f, FAKE_SERVE, "serve.vici");
	fake_start(&f);
	s = vici_state_new(f.uri);
	check_serving(s, true);
	check_serving(s, true); /* same connection, second round */
	assert_int_equal(f.accepted, 1);
	vici_state_free(s);
	fake_stop(&f);
}

/* No counters plugin: get-counters is CMD_UNKNOWN → fields absent. */
static void
test_no_counters_plugin(void **state)
{
	struct fake f;
	struct vici_state *s;

	fake_init(&f, FAKE_NO_COUNTERS, "nocnt.vici");
	fake_start(&f);
	s = vici_state_new(f.uri);
	check_serving(s, false);
	vici_state_free(s);
	fake_stop(&f);
}

static void
test_tcp(void **state)
{
	struct fake f;
	struct vici_state *s;

	fake_init(&f, FAKE_SERVE, "unused");
	f.tcp = true;
	fake_start(&f);
	s = vici_state_new(f.uri);
	check_serving(s, true);
	vici_state_free(s);
	fake_stop(&f);
}

/* Daemon restart: the next collection fails, the one after that
 * reconnects. */
static void
test_daemon_restart(void **state)
{
	struct fake f;
	struct vici_state *s;
	struct vici_records *r = NULL;
	int rv;

	fake_init(&f, FAKE_SERVE, "restart.vici");
	fake_start(&f);
	s = vici_state_new(f.uri);
	check_serving(s, true);
	fake_stop(&f);
	rv = vici_collect(s, &r);
	assert_true(rv == -ECONNRESET || rv == -EPIPE || rv == -ENOENT);
	rv = vici_collect(s, &r); /* still down: no socket */
	assert_int_equal(rv, -ENOENT);
	fake_start(&f);
	check_serving(s, true);
	vici_state_free(s);
	fake_stop(&f);
}

static uint64_t
successful_main_modes(const struct provider_ops *ops, void *st, bool *up)
{
	void *rec = NULL;
	struct stats_tree t;
	uint64_t v;
	struct vici_records *r;

	if (ops->collect(st, &rec) != 0) {
		return 0;
	}
	r = rec;
	*up = r->acc.events_up;
	stats_tree_init(&t);
	ops->contribute(rec, &t);
	v = t.km_ip[KEY_MODULE_IKEV2][IP_V4].total_successful_main_modes;
	stats_tree_release(&t);
	ops->records_free(rec);
	return v;
}

/* The provider's event thread: registers, accumulates, and after the
 * daemon restarts, reconnects and keeps accumulating. */
static void
test_event_thread_reconnects(void **state)
{
	const struct provider_ops *ops = &vici_provider;
	struct agent_config cfg;
	struct fake f;
	void *st = NULL;
	uint64_t ok = 0;
	bool up = false;
	int64_t end;

	fake_init(&f, FAKE_EVENTS, "events.vici");
	fake_start(&f);
	memset(&cfg, 0, sizeof(cfg));
	cfg.vici_uri = f.uri;
	assert_int_equal(ops->probe(&cfg, what, sizeof(what)), 0);
	assert_int_equal(ops->init(&cfg, &st), 0);
	end = vici_now_ms() + 5000;
	while (vici_now_ms() < end &&
	       (ok = successful_main_modes(ops, st, &up)) < 1) {
		usleep(50000);
	}
	assert_true(up);
	assert_int_equal(ok, 1); /* ssa's stream: one IKE_SA established */

	fake_stop(&f);
	usleep(200000);
	fake_start(&f);
	end = vici_now_ms() + 8000;
	while (vici_now_ms() < end &&
	       (ok = successful_main_modes(ops, st, &up)) < 2) {
		usleep(50000);
	}
	assert_int_equal(ok, 2); /* the stream again after the restart */
	ops->fini(st);
	fake_stop(&f);
}

/* Stopping the provider while its event thread waits on a daemon that
 * never answers returns at once, not after the registration deadline. */
static void
test_fini_with_silent_daemon(void **state)
{
	const struct provider_ops *ops = &vici_provider;
	struct agent_config cfg;
	struct fake f;
	void *st = NULL;
	int64_t t0;

	fake_init(&f, FAKE_SILENT, "silent-ev.vici");
	fake_start(&f);
	memset(&cfg, 0, sizeof(cfg));
	cfg.vici_uri = f.uri;
	assert_int_equal(ops->init(&cfg, &st), 0);
	usleep(300000); /* connected, waiting for EVENT_CONFIRM */
	t0 = vici_now_ms();
	ops->fini(st);
	assert_true(vici_now_ms() - t0 < 500);
	fake_stop(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uri_errors),
	    cmocka_unit_test(test_missing_socket),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_silent_daemon_times_out),
	    cmocka_unit_test(test_closed_mid_message),
	    cmocka_unit_test(test_oversized_segment),
	    cmocka_unit_test(test_collect_recorded),
	    cmocka_unit_test(test_no_counters_plugin),
	    cmocka_unit_test(test_tcp),
	    cmocka_unit_test(test_daemon_restart),
	    cmocka_unit_test(test_event_thread_reconnects),
	    cmocka_unit_test(test_fini_with_silent_daemon),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
