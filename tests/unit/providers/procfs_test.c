/*
 * procfs provider: xfrm_stat parsing and the mapping onto the aggregate
 * drop block, over recorded and derived fixtures (tests/fixtures/procfs).
 * Every case checks the exact mapped fields and that every other field of
 * the IPsec tree stays absent.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "model.h"
#include "providers/procfs/procfs.h"
#include "stats_tree.h"
#include "testlib.h"

/* What a probe names when it finds nothing (provider_ops.probe). */
static char what[128];

#define U64_MAX_STR "18446744073709551615"

/* One expected aggregate drop field (proto field name → value). */
struct want_field {
	const char *field;
	uint64_t value;
};

struct fixture_case {
	const char *dir;  /* under tests/fixtures/procfs */
	int rv;           /* collect() result */
	size_t n;         /* counters kept */
	unsigned skipped; /* lines refused */
	bool truncated;
	const char *first; /* first kept name, or NULL */
	const char *last;  /* last kept name, or NULL */
	/* Every aggregate drop field present, with its value; the rest of
	 * the IPsec tree must be absent. */
	struct want_field fields[10];
};

static const struct fixture_case cases[] = {
    {"debian-6.1",
     0,
     28,
     0,
     false,
     "XfrmInError",
     "XfrmAcquireError",
     {{"invalid_spis_on_inbound", 5},
      {"authentication_failures_on_inbound", 4},
      {"replay_check_failures_on_inbound", 3},
      {"invalid_clear_text_inbound", 6},
      {"receive_over_incorrect_sa_inbound", 0},
      {"sa_not_initialized_on_inbound", 0},
      {"secure_receives_not_matching_filters", 0},
      {"total_drop_packets_inbound", 18}}},
    {"kernel-6.18",
     0,
     32,
     0,
     false,
     "XfrmInError",
     "XfrmOutNoQueueSpace",
     {{"invalid_spis_on_inbound", 0},
      {"authentication_failures_on_inbound", 0},
      {"replay_check_failures_on_inbound", 0},
      {"invalid_clear_text_inbound", 3},
      {"receive_over_incorrect_sa_inbound", 0},
      {"sa_not_initialized_on_inbound", 0},
      {"secure_receives_not_matching_filters", 0},
      /* XfrmInTmplMismatch 3 + XfrmInPolBlock 2; the outbound
       * XfrmOutPolBlock 1 is not an inbound drop. */
      {"total_drop_packets_inbound", 5}}},
    {"empty", 0, 0, 0, false, NULL, NULL, {{NULL, 0}}},
    {"missing", -ENOENT, 0, 0, false, NULL, NULL, {{NULL, 0}}},
    {"no-such-root", -ENOENT, 0, 0, false, NULL, NULL, {{NULL, 0}}},
    /* Cut inside line 7 (XfrmInStateSeqError): its value is unknown, so
     * replay failures stay absent; six whole lines remain. */
    {"truncated",
     0,
     6,
     1,
     true,
     "XfrmInError",
     "XfrmInStateModeError",
     {{"invalid_spis_on_inbound", 5},
      {"authentication_failures_on_inbound", 4},
      {"total_drop_packets_inbound", 9}}},
    {"truncated-value",
     0,
     3,
     1,
     true,
     "XfrmInError",
     "XfrmInHdrError",
     {{"total_drop_packets_inbound", 0}}},
    {"garbage",
     0,
     28,
     10,
     false,
     "XfrmInError",
     "XfrmAcquireError",
     {{"invalid_spis_on_inbound", 5},
      {"authentication_failures_on_inbound", 4},
      {"replay_check_failures_on_inbound", 3},
      {"invalid_clear_text_inbound", 6},
      {"receive_over_incorrect_sa_inbound", 0},
      {"sa_not_initialized_on_inbound", 0},
      {"secure_receives_not_matching_filters", 0},
      {"total_drop_packets_inbound", 18}}},
    /* The total wraps modulo 2^64, as the kernel's counters do:
     * (2^64 - 1) + 1 + 3 + 2 = 5. */
    {"huge",
     0,
     28,
     0,
     false,
     "XfrmInError",
     "XfrmAcquireError",
     {{"invalid_spis_on_inbound", UINT64_MAX},
      {"authentication_failures_on_inbound", 0},
      {"replay_check_failures_on_inbound", 1},
      {"invalid_clear_text_inbound", 3},
      {"receive_over_incorrect_sa_inbound", 0},
      {"sa_not_initialized_on_inbound", 0},
      {"secure_receives_not_matching_filters", 0},
      {"total_drop_packets_inbound", 5}}},
    /* 2^64 and 10^23 are refused, not clamped: those fields stay absent. */
    {"overflow",
     0,
     26,
     2,
     false,
     "XfrmInError",
     "XfrmAcquireError",
     {{"authentication_failures_on_inbound", 7},
      {"invalid_clear_text_inbound", 3},
      {"receive_over_incorrect_sa_inbound", 0},
      {"sa_not_initialized_on_inbound", 0},
      {"secure_receives_not_matching_filters", 0},
      {"total_drop_packets_inbound", 12}}},
};

/* tests/fixtures/procfs/<dir>, from the source tree the build came from
 * (falls back to the shared fixture helper outside ctest). */
static void
fixture_root(char *out, size_t size, const char *dir)
{
	const char *src = getenv("SECSTAT_SOURCE_DIR");
	char rel[256];

	if (src != NULL) {
		snprintf(out, size, "%s/tests/fixtures/procfs/%s", src, dir);
		return;
	}
	snprintf(rel, sizeof(rel), "procfs/%s", dir);
	snprintf(out, size, "%s", test_fixture(rel));
}

static const struct want_field *
want_find(const struct fixture_case *c, const char *field)
{
	for (size_t i = 0; i < 10 && c->fields[i].field != NULL; i++) {
		if (strcmp(c->fields[i].field, field) == 0) {
			return &c->fields[i];
		}
	}
	return NULL;
}

/* Fails if any statistic of `msg` is present. */
static void
assert_all_absent(const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		if (model_field_present(msg, &d->fields[i])) {
			fail_msg("%s.%s present", d->name, d->fields[i].name);
		}
	}
}

static int
collect(const char *root, void **records)
{
	struct agent_config cfg = {.procfs_root = (char *)root};
	void *state = NULL;
	int rv;

	assert_int_equal(procfs_provider.init(&cfg, &state), 0);
	rv = procfs_provider.collect(state, records);
	procfs_provider.fini(state);
	return rv;
}

static void
check_case(const struct fixture_case *c)
{
	char root[4096];
	struct agent_config cfg = {.procfs_root = root};
	struct procfs_records *r = NULL;
	struct stats_tree t;
	const ProtobufCMessageDescriptor *dd =
	    &secstat__v1__ipsec_aggregate_drop_packet_statistics__descriptor;
	int rv;

	fixture_root(root, sizeof(root), c->dir);
	print_message("case %s\n", c->dir);
	assert_int_equal(procfs_provider.probe(&cfg, what, sizeof(what)),
	                 c->rv);
	rv = collect(root, (void **)&r);
	assert_int_equal(rv, c->rv);
	if (rv != 0) {
		return;
	}
	assert_int_equal(r->n, c->n);
	assert_int_equal(r->skipped, c->skipped);
	assert_int_equal(r->truncated, c->truncated);
	if (c->first != NULL) {
		assert_string_equal(r->counters[0].name, c->first);
		assert_string_equal(r->counters[r->n - 1].name, c->last);
	}

	stats_tree_init(&t);
	procfs_provider.contribute(r, &t);

	/* Every kept counter is exposed, in file order. */
	assert_int_equal(t.ipsec_response.n_xfrm_mib, r->n);
	for (size_t i = 0; i < r->n; i++) {
		assert_string_equal(t.ipsec_response.xfrm_mib[i]->name,
		                    r->counters[i].name);
		assert_int_equal(t.ipsec_response.xfrm_mib[i]->value,
		                 r->counters[i].value);
	}
	/* Exactly the expected aggregate drop fields. */
	for (unsigned i = 0; i < dd->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &dd->fields[i];
		const struct want_field *want = want_find(c, fd->name);
		const ProtobufCMessage *m = &t.ipsec_drop.base;

		if (want == NULL) {
			if (model_field_present(m, fd)) {
				fail_msg("%s: %s present", c->dir, fd->name);
			}
			continue;
		}
		if (!model_field_present(m, fd)) {
			fail_msg("%s: %s absent", c->dir, fd->name);
		}
		assert_int_equal(model_field_u64(m, fd, 0), want->value);
	}
	/* Nothing else: /proc cannot tell ESP from AH, and has no SA or
	 * traffic counters. */
	assert_all_absent(&t.ipsec_sa.base);
	assert_all_absent(&t.ipsec_esp_drop.base);
	assert_all_absent(&t.ipsec_ah_drop.base);
	assert_all_absent(&t.ipsec_in.base);
	assert_all_absent(&t.ipsec_out.base);

	stats_tree_finish(&t);
	assert_null(t.ipsec.aggregate_sa_statistics);
	assert_null(t.ipsec.esp_drop_packet_statistics);
	assert_null(t.ipsec.inbound_traffic_statistics);
	if (c->fields[0].field == NULL) {
		assert_null(t.ipsec_response.statistics);
	} else {
		assert_non_null(t.ipsec.aggregate_drop_packet_statistics);
	}
	assert_null(t.ike_response.statistics);
	assert_int_equal(t.iscsi_response.n_hbas, 0);

	stats_tree_release(&t);
	procfs_provider.records_free(r);
}

static void
test_fixtures(void **state)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		check_case(&cases[i]);
	}
}

/* Single lines, refused or kept, and what is kept. */
static const struct line_case {
	const char *text;
	size_t len; /* 0: strlen */
	bool kept;
	const char *name;
	uint64_t value;
} lines[] = {
    {"XfrmInNoStates          \t5\n", 0, true, "XfrmInNoStates", 5},
    {"XfrmInNoStates 5\n", 0, true, "XfrmInNoStates", 5},
    {"  XfrmInNoStates\t5  \r\n", 0, true, "XfrmInNoStates", 5},
    {"XfrmFuture\t" U64_MAX_STR "\n", 0, true, "XfrmFuture", UINT64_MAX},
    {"XfrmInNoStates\t007\n", 0, true, "XfrmInNoStates", 7},
    {"XfrmInNoStates\t18446744073709551616\n", 0, false, NULL, 0},
    {"XfrmInNoStates\t184467440737095516150\n", 0, false, NULL, 0},
    {"XfrmInNoStates\n", 0, false, NULL, 0},
    {"XfrmInNoStates\t\n", 0, false, NULL, 0},
    {"XfrmInNoStates5\n", 0, false, NULL, 0},
    {"\t5\n", 0, false, NULL, 0},
    {"XfrmInNoStates\tfive\n", 0, false, NULL, 0},
    {"XfrmInNoStates\t5x\n", 0, false, NULL, 0},
    {"XfrmInNoStates\t-5\n", 0, false, NULL, 0},
    {"XfrmInNoStates\t+5\n", 0, false, NULL, 0},
    {"XfrmInNoStates\t5 6\n", 0, false, NULL, 0},
    {"Xfrm-In\t5\n", 0, false, NULL, 0},
    {"XfrmIn\0States\t5\n", sizeof("XfrmIn\0States\t5\n") - 1, false, NULL, 0},
    {"XfrmInNoStates\t5\0\n", sizeof("XfrmInNoStates\t5\0\n") - 1, false, NULL,
     0},
    {"\n", 0, false, NULL, 0},
    /* 63 characters fit, 64 do not. */
    {"X12345678901234567890123456789012345678901234567890123456789012\t1\n", 0,
     true, "X12345678901234567890123456789012345678901234567890123456789012",
     1},
    {"X123456789012345678901234567890123456789012345678901234567890123\t1\n", 0,
     false, NULL, 0},
};

static void
test_lines(void **state)
{
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		const struct line_case *c = &lines[i];
		size_t len = c->len != 0 ? c->len : strlen(c->text);
		struct procfs_records *r = NULL;

		print_message("line %zu\n", i);
		assert_int_equal(procfs_parse(c->text, len, &r), 0);
		assert_false(r->truncated);
		if (c->kept) {
			assert_int_equal(r->n, 1);
			assert_int_equal(r->skipped, 0);
			assert_string_equal(r->counters[0].name, c->name);
			assert_true(r->counters[0].value == c->value);
		} else {
			assert_int_equal(r->n, 0);
			assert_int_equal(r->skipped, 1);
		}
		free(r);
	}
}

/* Random bytes, and real lines with random bytes flipped: the parser
 * never crashes, and every value it keeps is spelled out in the input
 * right after its name (nothing is made up). Deterministic: fixed seed. */
static void
test_random_input(void **state)
{
	static const char real[] = "XfrmInError             \t0\n"
	                           "XfrmInNoStates          \t5\n"
	                           "XfrmInStateProtoError   \t4\n"
	                           "XfrmInStateSeqError     \t3\n"
	                           "XfrmInTmplMismatch      \t6\n";
	static const char alphabet[] = "Xfrm_In09 \t\n\r-+x\0\377";
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char buf[256];

	for (unsigned iter = 0; iter < 20000; iter++) {
		struct procfs_records *r = NULL;
		size_t len;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (iter % 2 == 0) {
			len = x % sizeof(buf);
			for (size_t i = 0; i < len; i++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				buf[i] = alphabet[x % (sizeof(alphabet) - 1)];
			}
		} else {
			len = sizeof(real) - 1;
			memcpy(buf, real, len);
			for (unsigned f = 0; f < 1 + x % 4; f++) {
				buf[(x >> (8 * f + 8)) % len] =
				    (char)(x >> (8 * f + 16));
			}
		}
		assert_int_equal(procfs_parse(buf, len, &r), 0);
		assert_true(r->n + r->skipped <= len / 2 + 1);
		for (size_t i = 0; i < r->n; i++) {
			char want[96];
			const char *hit;
			size_t nl = strlen(r->counters[i].name);

			assert_true(nl > 0 && nl < PROCFS_NAME_MAX);
			snprintf(want, sizeof(want), "%" PRIu64,
			         r->counters[i].value);
			hit = memmem(buf, len, r->counters[i].name, nl);
			assert_non_null(hit);
			/* The value's digits follow the name somewhere. */
			assert_non_null(memmem(hit, len - (size_t)(hit - buf),
			                       want, strlen(want)));
		}
		free(r);
	}
}

/* A file larger than the read bound: the bound holds, the cut line is
 * refused, the provider still answers with what it read. */
static void
test_oversized(void **state)
{
	char dir[] = "/tmp/procfs_test.XXXXXX";
	char path[256];
	FILE *f;
	struct procfs_records *r = NULL;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/net", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/net/xfrm_stat", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	for (unsigned i = 0; i < 5000; i++) {
		fprintf(f, "XfrmCounter%u\t%u\n", i, i);
	}
	assert_int_equal(fclose(f), 0);

	assert_int_equal(collect(dir, (void **)&r), 0);
	assert_true(r->truncated);
	assert_int_equal(r->n, PROCFS_MAX_COUNTERS);
	assert_string_equal(r->counters[255].name, "XfrmCounter255");
	assert_true(r->counters[255].value == 255);
	assert_true(r->skipped > 0);
	procfs_provider.records_free(r);

	unlink(path);
	snprintf(path, sizeof(path), "%s/net", dir);
	rmdir(path);
	rmdir(dir);
}

/* A file the agent may not read: denied, not absent. Root reads any
 * file, so the check runs in a child that drops to nobody first. */
static void
test_denied(void **state)
{
	char dir[] = "/tmp/procfs_test.XXXXXX";
	char path[256];
	pid_t pid;
	int status, fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/net", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/net/xfrm_stat", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "XfrmInError\t0\n", 14), 14);
	close(fd);
	/* Nobody may read it; root still could, hence the child below. */
	assert_int_equal(chmod(path, 0), 0);
	assert_int_equal(chmod(dir, 0755), 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct agent_config cfg = {.procfs_root = dir};
		void *st = NULL, *rec = NULL;
		int code = 0;

		if (geteuid() == 0 &&
		    (setgid(65534) != 0 || setuid(65534) != 0)) {
			_exit(90);
		}
		if (procfs_provider.probe(&cfg, what, sizeof(what)) !=
		    -EACCES) {
			code |= 1;
		}
		if (procfs_provider.init(&cfg, &st) != 0 ||
		    procfs_provider.collect(st, &rec) != -EACCES) {
			code |= 2;
		}
		procfs_provider.fini(st);
		_exit(code);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	unlink(path);
	snprintf(path, sizeof(path), "%s/net", dir);
	rmdir(path);
	rmdir(dir);
}

/* The default root is /proc; this host's own file, if any, parses
 * cleanly (the kernel never writes a line the parser refuses). */
static void
test_default_root(void **state)
{
	struct agent_config cfg = {0};
	void *st = NULL;
	struct procfs_records *r = NULL;
	int rv;

	assert_int_equal(procfs_provider.init(&cfg, &st), 0);
	rv = procfs_provider.collect(st, (void **)&r);
	procfs_provider.fini(st);
	if (access("/proc/net/xfrm_stat", R_OK) != 0) {
		assert_int_equal(rv, -ENOENT);
		return;
	}
	assert_int_equal(rv, 0);
	assert_true(r->n >= 28);
	assert_int_equal(r->skipped, 0);
	assert_false(r->truncated);
	assert_non_null(procfs_find(r, "XfrmInNoStates"));
	procfs_provider.records_free(r);
}

static void
test_ops(void **state)
{
	assert_int_equal(procfs_provider.abi_version, PROVIDER_ABI_VERSION);
	assert_string_equal(procfs_provider.name, "procfs");
	assert_false(procfs_provider.simulated);
	assert_int_equal(procfs_provider.families, PROVIDES_IPSEC);
	assert_non_null(procfs_provider.collect);
	assert_non_null(procfs_provider.contribute);
	assert_non_null(procfs_provider.records_free);
}

int
main(void)
{
	/* clang-format off: one test per line */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ops),
	    cmocka_unit_test(test_fixtures),
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_random_input),
	    cmocka_unit_test(test_oversized),
	    cmocka_unit_test(test_denied),
	    cmocka_unit_test(test_default_root),
	};
	/* clang-format on */

	return cmocka_run_group_tests(tests, NULL, NULL);
}
