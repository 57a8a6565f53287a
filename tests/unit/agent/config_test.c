/* config: command line, INI file, errors and override order. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define MAX_ARGS 32

static char tmpdir[64];

struct result {
	int rv;
	char *out;
	size_t out_len;
	char *err;
	size_t err_len;
};

/* Runs config_load on a NULL-terminated argument list. */
static void
load(struct agent_config *cfg, struct result *res, const char *const *args)
{
	char *argv[MAX_ARGS + 2];
	int argc = 0;
	FILE *out, *err;

	argv[argc++] = "secstatd";
	for (size_t i = 0; args[i] != NULL; i++) {
		assert_true(argc <= MAX_ARGS);
		argv[argc++] = (char *)args[i];
	}
	argv[argc] = NULL;
	out = open_memstream(&res->out, &res->out_len);
	err = open_memstream(&res->err, &res->err_len);
	res->rv = config_load(cfg, argc, argv, out, err);
	fclose(out);
	fclose(err);
}

static void
result_free(struct result *res)
{
	free(res->out);
	free(res->err);
}

/* Writes `content` to a file of the temporary directory; static path. */
static const char *
write_ini(const char *name, const char *content)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	return path;
}

static int
group_setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/secstat-config-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_defaults(void **state)
{
	struct agent_config cfg;
	struct result res;
	const char *const args[] = {NULL};

	load(&cfg, &res, args);
	assert_int_equal(res.rv, 0);
	assert_int_equal(cfg.n_listen, 1);
	assert_string_equal(cfg.listen[0], CONFIG_DEFAULT_IPC_URL);
	assert_int_equal(cfg.n_providers, 0);
	assert_string_equal(cfg.procfs_root, "/proc");
	assert_string_equal(cfg.sysfs_root, "/sys");
	assert_int_equal(cfg.sim_seed, 1);
	assert_null(cfg.hostname);
	assert_int_equal(cfg.collect_interval_ms, 1000);
	assert_false(cfg.log_syslog);
	assert_int_equal(cfg.log_level, LOG_INFO);
	config_free(&cfg);
	result_free(&res);
}

static void
test_args(void **state)
{
	struct agent_config cfg;
	struct result res;
	const char *const args[] = {"--listen",
	                            "tcp://127.0.0.1:7450",
	                            "--listen=ipc:///tmp/x.sock",
	                            "--provider",
	                            "sim,procfs",
	                            "--provider",
	                            "sim",
	                            "--procfs-root",
	                            "/tmp/p",
	                            "--sysfs-root",
	                            "/tmp/s",
	                            "--sim-seed",
	                            "0x10",
	                            "--hostname",
	                            "h1",
	                            "--collect-interval",
	                            "250",
	                            "--log-level",
	                            "debug",
	                            "--syslog",
	                            NULL};

	load(&cfg, &res, args);
	assert_int_equal(res.rv, 0);
	assert_int_equal(cfg.n_listen, 2);
	assert_string_equal(cfg.listen[0], "tcp://127.0.0.1:7450");
	assert_string_equal(cfg.listen[1], "ipc:///tmp/x.sock");
	/* Duplicates collapse; order as given. */
	assert_int_equal(cfg.n_providers, 2);
	assert_string_equal(cfg.providers[0], "sim");
	assert_string_equal(cfg.providers[1], "procfs");
	assert_string_equal(cfg.procfs_root, "/tmp/p");
	assert_string_equal(cfg.sysfs_root, "/tmp/s");
	assert_int_equal(cfg.sim_seed, 16);
	assert_string_equal(cfg.hostname, "h1");
	assert_int_equal(cfg.collect_interval_ms, 250);
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_true(cfg.log_syslog);
	config_free(&cfg);
	result_free(&res);
}

/* Bad command lines: exit status 64 and a message naming the problem. */
static void
test_bad_args(void **state)
{
	static const struct {
		const char *args[4];
		const char *message;
	} cases[] = {
	    {{"--provider", "nosuch"}, "unknown provider 'nosuch'"},
	    {{"--provider", "sim,,"}, NULL}, /* empty elements are skipped */
	    {{"--provider", ""}, "empty provider list"},
	    {{"--listen", "http://x"}, "is not a listen URL"},
	    {{"--collect-interval", "abc"}, "'abc' is not a number"},
	    {{"--collect-interval", "5"}, "'5' is not a number"},
	    {{"--sim-seed", "-1"}, "not an unsigned 64-bit number"},
	    {{"--log-level", "loud"}, "'loud' is not a log level"},
	    {{"--hostname", ""}, "host name must have"},
	    {{"--bogus"}, "unrecognized option '--bogus'"},
	    {{"--listen"}, "missing argument to '--listen'"},
	    {{"extra"}, "unexpected argument 'extra'"},
	    {{"--config", "/nonexistent/secstatd.conf"},
	     "/nonexistent/secstatd.conf: No such file or directory"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct agent_config cfg;
		struct result res;

		load(&cfg, &res, cases[i].args);
		if (cases[i].message == NULL) {
			assert_int_equal(res.rv, 0);
		} else {
			assert_int_equal(res.rv, -EINVAL);
			if (strstr(res.err, cases[i].message) == NULL) {
				fail_msg("case %zu: '%s' not in '%s'", i,
				         cases[i].message, res.err);
			}
		}
		config_free(&cfg);
		result_free(&res);
	}
	assert_int_equal(CONFIG_EXIT_USAGE, 64);
}

static void
test_help_version(void **state)
{
	static const struct option_case {
		const char *arg;
		const char *expect;
	} cases[] = {
	    {"--help", "--collect-interval MS"},
	    {"--version", "secstatd "},
	};
	static const char *const every_option[] = {
	    "--listen",     "--config",   "--provider", "--procfs-root",
	    "--sysfs-root", "--sim-seed", "--hostname", "--collect-interval",
	    "--log-level",  "--syslog",   "--version",  "--help"};

	for (size_t i = 0; i < 2; i++) {
		struct agent_config cfg;
		struct result res;
		const char *const args[] = {cases[i].arg, NULL};

		load(&cfg, &res, args);
		assert_int_equal(res.rv, 1);
		assert_non_null(strstr(res.out, cases[i].expect));
		if (i == 0) {
			for (size_t k = 0;
			     k < sizeof(every_option) / sizeof(every_option[0]);
			     k++) {
				assert_non_null(
				    strstr(res.out, every_option[k]));
			}
		}
		config_free(&cfg);
		result_free(&res);
	}
}

static void
test_file(void **state)
{
	struct agent_config cfg;
	struct result res;
	const char *path =
	    write_ini("good.conf", "; secstatd configuration\n"
	                           "listen = tcp://127.0.0.1:7450\n"
	                           "listen = ipc:///tmp/a.sock\n"
	                           "provider = procfs, sim\n"
	                           "hostname = filehost\n"
	                           "collect-interval = 500\n"
	                           "sim-seed = 42\n"
	                           "syslog = yes\n"
	                           "log-level = warning\n");
	const char *const args[] = {"--config", path, NULL};

	load(&cfg, &res, args);
	assert_int_equal(res.rv, 0);
	assert_int_equal(cfg.n_listen, 2);
	assert_string_equal(cfg.listen[1], "ipc:///tmp/a.sock");
	assert_int_equal(cfg.n_providers, 2);
	assert_string_equal(cfg.providers[0], "procfs");
	assert_string_equal(cfg.providers[1], "sim");
	assert_string_equal(cfg.hostname, "filehost");
	assert_int_equal(cfg.collect_interval_ms, 500);
	assert_int_equal(cfg.sim_seed, 42);
	assert_true(cfg.log_syslog);
	assert_int_equal(cfg.log_level, LOG_WARNING);
	assert_string_equal(cfg.config_file, path);
	config_free(&cfg);
	result_free(&res);
}

/* Errors in the file: FILE:LINE: message, exit status 64. */
static void
test_file_errors(void **state)
{
	static const struct {
		const char *content;
		int line;
		const char *message;
	} cases[] = {
	    {"listen = tcp://127.0.0.1:1\nfoo = bar\n", 2, "unknown key 'foo'"},
	    {"\n\ncollect-interval = abc\n", 3,
	     "collect-interval: 'abc' is not a number"},
	    {"provider = sim,nosuch\n", 1,
	     "provider: unknown provider 'nosuch'"},
	    {"syslog = maybe\n", 1, "syslog: 'maybe' is not a boolean"},
	    {"[agent]\nlisten = tcp://127.0.0.1:1\n", 2,
	     "sections are not supported"},
	    {"config = /etc/other.conf\n", 1,
	     "'config' is a command line option only"},
	    {"hostname = a\nthis line has no equals sign\n", 2, "syntax error"},
	    /* The first error is the one reported. */
	    {"a = 1\nb = 2\n", 1, "unknown key 'a'"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct agent_config cfg;
		struct result res;
		char expect[256];
		const char *path = write_ini("bad.conf", cases[i].content);
		const char *const args[] = {"--config", path, NULL};

		load(&cfg, &res, args);
		assert_int_equal(res.rv, -EINVAL);
		snprintf(expect, sizeof(expect), "%s:%d: %s", path,
		         cases[i].line, cases[i].message);
		if (strstr(res.err, expect) == NULL) {
			fail_msg("case %zu: '%s' not in '%s'", i, expect,
			         res.err);
		}
		config_free(&cfg);
		result_free(&res);
	}
}

/* The command line overrides the file, wherever --config appears; a
 * repeatable option on the command line replaces the file's list. */
static void
test_override(void **state)
{
	struct agent_config cfg;
	struct result res;
	const char *path = write_ini("o.conf", "listen = tcp://127.0.0.1:1\n"
	                                       "listen = tcp://127.0.0.1:2\n"
	                                       "provider = procfs\n"
	                                       "collect-interval = 500\n"
	                                       "hostname = filehost\n");
	const char *const args[] = {"--hostname",
	                            "clihost",
	                            "--config",
	                            path,
	                            "--listen",
	                            "ipc:///tmp/cli.sock",
	                            "--collect-interval",
	                            "200",
	                            NULL};

	load(&cfg, &res, args);
	assert_int_equal(res.rv, 0);
	assert_string_equal(cfg.hostname, "clihost");
	assert_int_equal(cfg.n_listen, 1);
	assert_string_equal(cfg.listen[0], "ipc:///tmp/cli.sock");
	assert_int_equal(cfg.collect_interval_ms, 200);
	/* Not on the command line: the file's value stays. */
	assert_int_equal(cfg.n_providers, 1);
	assert_string_equal(cfg.providers[0], "procfs");
	config_free(&cfg);
	result_free(&res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_args),
	    cmocka_unit_test(test_bad_args),
	    cmocka_unit_test(test_help_version),
	    cmocka_unit_test(test_file),
	    cmocka_unit_test(test_file_errors),
	    cmocka_unit_test(test_override),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
