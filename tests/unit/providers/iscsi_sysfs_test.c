/*
 * iscsi provider: sysfs enumeration over the trees of
 * tests/fixtures/iscsi/sysfs (make-sysfs.sh documents them): a recorded
 * session, several hosts, a FAILED session, missing attributes, garbage
 * values and names, truncated reads, no sessions, no iSCSI at all.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "providers/iscsi/iscsi_sysfs.h"
#include "testlib.h"

#define HANDLE 18446744072642224224ull

/* Expected connection; NULL strings and ~0u numbers: absent. */
struct want_conn {
	uint32_t sid, cid;
	const char *state, *address, *persistent_address;
	uint32_t port, persistent_port, local_port;
};

struct want_session {
	uint32_t sid;
	int host; /* -1: unknown */
	const char *targetname, *state;
	uint32_t tpgt;
};

struct sysfs_case {
	const char *dir;
	int rv;
	size_t n_hosts, n_sessions, n_conns;
	unsigned skipped;
	const char *host0_ip; /* of hosts[0]; NULL: absent */
	bool host0_handle;    /* transport handle found */
	struct want_session s[4];
	struct want_conn c[5];
};

#define NONE 0xffffffffu
#define T0   "iqn.2003-01.org.linux-iscsi.seclab:t0"
#define T1   "iqn.2003-01.org.linux-iscsi.seclab:t1"

static const struct sysfs_case cases[] = {
    {"one-session",
     0,
     1,
     1,
     1,
     0,
     "192.0.2.2",
     true,
     {{1, 0, T0, "LOGGED_IN", 1}},
     {{1, 0, "up", "192.0.2.1", "192.0.2.1", 3260, 3260, 46484}}},
    /* Sorted by host, sid, (sid, cid) whatever the directory order. */
    {"two-hosts",
     0,
     2,
     3,
     4,
     0,
     "192.0.2.2",
     true,
     {{1, 0, T0, "LOGGED_IN", 1},
      {2, 1, T0, "LOGGED_IN", 1},
      {3, 1, T1, "LOGGED_IN", 1}},
     {{1, 0, "up", "192.0.2.1", "192.0.2.1", 3260, 3260, 46484},
      {2, 0, "up", "192.0.2.1", "192.0.2.1", 3260, 3260, 46484},
      {3, 0, "up", "192.0.2.11", "192.0.2.11", 3260, 3260, 46484},
      {3, 1, "up", "192.0.2.11", "192.0.2.11", 3260, 3260, 46484}}},
    {"failed-session",
     0,
     1,
     1,
     1,
     0,
     "192.0.2.2",
     true,
     {{1, 0, T0, "FAILED", 1}},
     {{1, 0, "failed", "192.0.2.1", "192.0.2.1", 3260, 3260, 46484}}},
    {"missing-attributes",
     0,
     1,
     1,
     1,
     0,
     NULL,
     false,
     {{1, 0, NULL, "LOGGED_IN", NONE}},
     {{1, 0, "up", NULL, "192.0.2.1", NONE, 3260, 46484}}},
    /* Five entries with bad names refused; bad values absent; the
     * transport handle "0x1234" is not decimal: no handle. */
    {"garbage",
     0,
     1,
     1,
     1,
     5,
     "192.0.2.2",
     false,
     {{1, 0, NULL, "LOGGED_IN", NONE}},
     {{1, 0, "up", "192.0.2.1", "192.0.2.1", NONE, NONE, NONE}}},
    /* Empty files are absent; a value cut short cannot be told from a
     * real one ("326", "192.0.2") and is kept as read. */
    {"truncated",
     0,
     1,
     1,
     1,
     0,
     "192.0.2.2",
     true,
     {{1, 0, NULL, NULL, NONE}},
     {{1, 0, "up", "192.0.2", "192.0.2.1", 326, 3260, 46484}}},
    {"no-sessions", 0, 0, 0, 0, 0, NULL, false, {{0}}, {{0}}},
    {"absent", -ENOENT, 0, 0, 0, 0, NULL, false, {{0}}, {{0}}},
    {"does-not-exist", -ENOENT, 0, 0, 0, 0, NULL, false, {{0}}, {{0}}},
};

static void
check_str(const char *what, const char *got, const char *want)
{
	if (want == NULL) {
		if (got[0] != '\0') {
			fail_msg("%s: want absent, got '%s'", what, got);
		}
	} else {
		assert_string_equal(got, want);
	}
}

static void
check_u32(const char *what, bool has, uint32_t got, uint32_t want)
{
	if (want == NONE) {
		if (has) {
			fail_msg("%s: want absent, got %u", what, got);
		}
	} else {
		assert_true(has);
		assert_int_equal(got, want);
	}
}

static void
test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct sysfs_case *c = &cases[i];
		struct iscsi_sysfs s;
		char rel[128];
		int rv;

		snprintf(rel, sizeof(rel), "iscsi/sysfs/%s", c->dir);
		rv = iscsi_sysfs_read(test_fixture(rel), &s);
		print_message("%s: rv %d hosts %zu sessions %zu conns %zu "
		              "skipped %u\n",
		              c->dir, rv, s.n_hosts, s.n_sessions, s.n_conns,
		              s.skipped);
		assert_int_equal(rv, c->rv);
		if (rv != 0) {
			assert_null(s.hosts);
			continue;
		}
		assert_int_equal(s.n_hosts, c->n_hosts);
		assert_int_equal(s.n_sessions, c->n_sessions);
		assert_int_equal(s.n_conns, c->n_conns);
		assert_int_equal(s.skipped, c->skipped);
		if (s.n_hosts > 0) {
			check_str("host ip", s.hosts[0].ipaddress, c->host0_ip);
			/* "(null)" from the kernel is absent. */
			check_str("host initiatorname",
			          s.hosts[0].initiatorname, NULL);
			assert_int_equal(s.hosts[0].has_handle,
			                 c->host0_handle);
			if (c->host0_handle) {
				assert_true(s.hosts[0].handle == HANDLE);
				assert_string_equal(s.hosts[0].transport,
				                    "tcp");
			}
			for (size_t h = 1; h < s.n_hosts; h++) {
				assert_true(s.hosts[h - 1].host_no <
				            s.hosts[h].host_no);
			}
		}
		for (size_t k = 0; k < s.n_sessions; k++) {
			const struct want_session *w = &c->s[k];
			const struct iscsi_sysfs_session *g = &s.sessions[k];

			assert_int_equal(g->sid, w->sid);
			if (w->host < 0) {
				assert_false(g->has_host);
			} else {
				assert_true(g->has_host);
				assert_int_equal(g->host_no, w->host);
			}
			check_str("targetname", g->targetname, w->targetname);
			check_str("state", g->state, w->state);
			check_u32("tpgt", g->has_tpgt, g->tpgt, w->tpgt);
			check_str("initiatorname", g->initiatorname,
			          "iqn.2005-03.org.open-iscsi:seclab");
		}
		for (size_t k = 0; k < s.n_conns; k++) {
			const struct want_conn *w = &c->c[k];
			const struct iscsi_sysfs_conn *g = &s.conns[k];

			assert_int_equal(g->sid, w->sid);
			assert_int_equal(g->cid, w->cid);
			check_str("conn state", g->state, w->state);
			check_str("address", g->address, w->address);
			check_str("persistent_address", g->persistent_address,
			          w->persistent_address);
			check_u32("port", g->has_port, g->port, w->port);
			check_u32("persistent_port", g->has_persistent_port,
			          g->persistent_port, w->persistent_port);
			check_u32("local_port", g->has_local_port,
			          g->local_port, w->local_port);
		}
		assert_null(iscsi_sysfs_host(&s, 77));
		iscsi_sysfs_free(&s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
