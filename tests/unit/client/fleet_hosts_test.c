/*
 * Hosts files: URLs with names, tags and pub= URLs, comments and blank
 * lines; every malformed file refused with FILE:LINE and a reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <secstat/secstat.h>

static char path[64];

static const char *
write_file(const char *text)
{
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/secstat-hosts-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void
test_valid(void **state)
{
	secstat_fleet *f = NULL;
	const struct secstat_fleet_host *h;
	char err[256];

	(void)state;
	write_file("# the lab\n"
	           "\n"
	           "tcp://127.0.0.1:1 web-1 prod dc1 pub=tcp://127.0.0.1:2\n"
	           "   ipc:///tmp/no-such-agent.sock   # a comment\n"
	           "tcp://127.0.0.1:3 web-3\n");
	assert_int_equal(
	    secstat_fleet_open_file(&f, path, NULL, err, sizeof(err)),
	    ERROR_SUCCESS);
	assert_int_equal(secstat_fleet_count(f), 3);
	h = secstat_fleet_host(f, 0);
	assert_string_equal(h->url, "tcp://127.0.0.1:1");
	assert_string_equal(h->name, "web-1");
	assert_string_equal(h->pub_url, "tcp://127.0.0.1:2");
	assert_int_equal(h->n_tags, 2);
	assert_string_equal(h->tags[0], "prod");
	assert_string_equal(h->tags[1], "dc1");
	h = secstat_fleet_host(f, 1);
	assert_string_equal(h->name, h->url); /* no name: the URL */
	assert_null(h->pub_url);
	assert_int_equal(h->n_tags, 0);
	assert_null(secstat_fleet_host(f, 3));
	secstat_fleet_close(f);
	unlink(path);
}

static const struct {
	const char *text;
	const char *reason; /* after "FILE:" */
} bad[] = {
    {"web-1 tcp://127.0.0.1:1\n", "1: expected a URL"},
    {"# only comments\n\n", " no hosts"},
    {"tcp://127.0.0.1:1\ntcp://127.0.0.1:2 pub=nowhere\n",
     "2: pub= needs one URL"},
};

static void
test_invalid(void **state)
{
	char err[256], want[128];
	secstat_fleet *f = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(bad[i].text);
		assert_int_equal(
		    secstat_fleet_open_file(&f, path, NULL, err, sizeof(err)),
		    ERROR_INVALID_PARAMETER);
		assert_null(f);
		snprintf(want, sizeof(want), "%s:%s", path, bad[i].reason);
		assert_memory_equal(err, want, strlen(want));
		unlink(path);
	}
	assert_int_equal(secstat_fleet_open_file(&f, "/nonexistent/hosts", NULL,
	                                         err, sizeof(err)),
	                 ERROR_INVALID_PARAMETER);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(secstat_fleet_open(&f, NULL, 0, NULL),
	                 ERROR_INVALID_PARAMETER);
	assert_int_equal(
	    secstat_fleet_query(NULL, "GetHostInfo", NULL, NULL, NULL),
	    ERROR_INVALID_PARAMETER);
}

/* A URL nng cannot use is that host's status, not the fleet's. */
static void
test_bad_url_is_a_host_status(void **state)
{
	const char *urls[] = {"nosuch://x", "ipc:///tmp/secstat-none.sock"};
	struct secstat_fleet_options o;
	secstat_fleet *f = NULL;
	secstat_fleet_result *r = NULL;

	(void)state;
	secstat_fleet_options_init(&o);
	o.timeout_ms = 200;
	assert_int_equal(secstat_fleet_open(&f, urls, 2, &o), ERROR_SUCCESS);
	assert_int_equal(secstat_fleet_query(f, SECSTAT_METHOD_GET_HOST_INFO,
	                                     NULL, NULL, &r),
	                 ERROR_SUCCESS);
	assert_int_equal(secstat_fleet_result_status(r, 0),
	                 RPC_E_INVALID_PARAMETER);
	assert_int_equal(secstat_fleet_result_status(r, 1),
	                 RPC_E_SERVER_DIED_DNE);
	assert_int_equal(secstat_fleet_result_ok(r), 0);
	assert_null(secstat_fleet_result_aggregate(r));
	assert_int_equal(secstat_fleet_result_summary(r)->n_hosts, 2);
	secstat_fleet_result_free(r);
	secstat_fleet_close(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_bad_url_is_a_host_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
