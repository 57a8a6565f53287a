/* hostinfo: identity fields, boot id under --procfs-root, the epoch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "hostinfo.h"

static char root[64];

static int
group_setup(void **state)
{
	char path[128];
	FILE *f;

	snprintf(root, sizeof(root), "/tmp/secstat-hostinfo-XXXXXX");
	if (mkdtemp(root) == NULL) {
		return -1;
	}
	snprintf(path, sizeof(path), "%s/sys/kernel/random", root);
	for (char *p = path + strlen(root) + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0700);
			*p = '/';
		}
	}
	mkdir(path, 0700);
	strcat(path, "/boot_id");
	f = fopen(path, "w");
	if (f == NULL) {
		return -1;
	}
	fputs("0b8f7d5e-3c1a-4d2e-9f60-1a2b3c4d5e6f\n", f);
	fclose(f);
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_fields(void **state)
{
	struct agent_config cfg = {0};
	struct hostinfo h;
	Secstat__V1__HostInfo msg;

	cfg.procfs_root = root;
	cfg.hostname = "override";
	assert_int_equal(hostinfo_init(&h, &cfg), 0);
	assert_string_equal(h.hostname, "override");
	assert_string_equal(h.boot_id, "0b8f7d5e-3c1a-4d2e-9f60-1a2b3c4d5e6f");
	assert_true(h.kernel_release[0] != '\0');
	assert_true(h.agent_version[0] != '\0');
	assert_int_equal(h.schema_version, HOSTINFO_SCHEMA_VERSION);
	assert_true(h.start_unix_ms > 1600000000000ULL);
	assert_true(h.epoch != 0);

	hostinfo_to_proto(&h, &msg);
	assert_string_equal(msg.hostname, "override");
	assert_string_equal(msg.boot_id, h.boot_id);
	assert_true(msg.has_epoch && msg.epoch == h.epoch);
	assert_true(msg.has_agent_start_unix_ms);
	assert_true(msg.has_schema_version);
}

/* No boot id: the field is absent, the rest still works. */
static void
test_no_boot_id(void **state)
{
	struct agent_config cfg = {0};
	struct hostinfo h;
	Secstat__V1__HostInfo msg;
	char name[256];

	cfg.procfs_root = "/nonexistent";
	assert_int_equal(hostinfo_init(&h, &cfg), 0);
	assert_string_equal(h.boot_id, "");
	gethostname(name, sizeof(name));
	assert_string_equal(h.hostname, name);
	hostinfo_to_proto(&h, &msg);
	assert_null(msg.boot_id);
	assert_true(h.epoch != 0);
}

/* A restart (new start time or pid) or a reboot (new boot id) changes
 * the epoch; the same inputs give the same epoch. */
static void
test_epoch(void **state)
{
	struct agent_config cfg = {0};
	struct hostinfo a, b;
	uint64_t e = hostinfo_epoch("b1", 1000, 10);

	assert_true(e != 0);
	assert_int_equal(e, hostinfo_epoch("b1", 1000, 10));
	assert_true(e != hostinfo_epoch("b2", 1000, 10));
	assert_true(e != hostinfo_epoch("b1", 1001, 10));
	assert_true(e != hostinfo_epoch("b1", 1000, 11));
	assert_true(hostinfo_epoch("", 0, 0) != 0);

	cfg.procfs_root = root;
	assert_int_equal(hostinfo_init(&a, &cfg), 0);
	usleep(1000);
	assert_int_equal(hostinfo_init(&b, &cfg), 0);
	assert_true(a.epoch != b.epoch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_no_boot_id),
	    cmocka_unit_test(test_epoch),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
