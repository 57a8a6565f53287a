/* acl: the file format (good files, every error with its line), the
 * decision for every transport, the defaults, the method rights. */
#include <arpa/inet.h>
#include <errno.h>
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

#include "acl.h"
#include "testlib.h"

#define TOKEN "secret-token"
/* Any 64 hex digits, where the file only needs to be well-formed. */
#define HEX64 "ba1f5fa3b0e0a1ae50f2bd4eec42d2d2a3a1fa3de6b8d2ab4e8e7bc0c9f1a3c4"

static char token_hash[65];

static void
v4(uint8_t out[16], int a, int b, int c, int d)
{
	memset(out, 0, 16);
	out[10] = 0xff;
	out[11] = 0xff;
	out[12] = (uint8_t)a;
	out[13] = (uint8_t)b;
	out[14] = (uint8_t)c;
	out[15] = (uint8_t)d;
}

static struct acl *
parse_ok(const char *text)
{
	struct acl *a = NULL;
	char err[ACL_ERR_MAX];
	int rv = acl_parse(text, strlen(text), "t.acl", &a, err);

	if (rv != 0) {
		fail_msg("unexpected error: %s", err);
	}
	return a;
}

static int
setup(void **state)
{
	/* The hash of TOKEN as sha256sum prints it. */
	FILE *p = popen("printf %s '" TOKEN "' | sha256sum", "r");

	(void)state;
	assert_non_null(p);
	assert_non_null(fgets(token_hash, sizeof(token_hash), p));
	pclose(p);
	assert_int_equal(strlen(token_hash), 64);
	return 0;
}

static void
test_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* substring of the error */
	} cases[] = {
	    {"rights = all\n", "t.acl:1: 'rights' outside a section"},
	    {"[nope]\n", "t.acl:1: unknown section [nope]"},
	    {"[local]\nuid = 0\n", "t.acl:1: section needs rights"},
	    {"[local]\nrights = all\n", "t.acl:1: [local] needs uid or gid"},
	    {"[local]\nuid = no-such-user-xyz\n",
	     "t.acl:2: unknown user 'no-such-user-xyz'"},
	    {"[local]\ngid = no-such-group-xyz\n", "t.acl:2: unknown group"},
	    {"[local]\nuid = 0\nrights = ipsec, bogus\n",
	     "t.acl:3: unknown right 'bogus'"},
	    {"[client a]\nrights = all\n",
	     "t.acl:1: [client] needs token-sha256"},
	    {"[client a]\ntoken-sha256 = 12\nrights = all\n",
	     "t.acl:2: token-sha256 must be 64 hex digits"},
	    {"[client a]\ntoken-sha256 = "
	     "zz00000000000000000000000000000000000000000000000000000000000000"
	     "\n",
	     "t.acl:2: token-sha256: 'zz' is not hex"},
	    {"[client bad/id]\n", "t.acl:1: 'bad/id' is not a client id"},
	    {"[client a]\ntoken-sha256 = " HEX64 "\nrights = all\n"
	     "[client a]\n",
	     "t.acl:4: client 'a' given twice"},
	    {"[plain]\nrights = all\n", "t.acl:1: this section needs networks"},
	    {"[plain]\nnetworks = 10.0.0.0/33\nrights = all\n",
	     "t.acl:2: '10.0.0.0/33' is not an address"},
	    {"[plain]\nnetworks = ::1/129\n", "is not an address"},
	    {"[subscribers]\nnetworks = 1.2.3.4\n[subscribers]\n",
	     "t.acl:3: [subscribers] given twice"},
	    {"[local\n", "t.acl:1: malformed section header"},
	    {"[local]\njunk\n", "t.acl:2: expected [section] or key = value"},
	    {"[local]\nuid = 0\nrights = all\ncolour = blue\n",
	     "t.acl:4: unknown key 'colour'"},
	    {"[local]\nuid =\n", "t.acl:2: empty list"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct acl *a = NULL;
		char err[ACL_ERR_MAX];
		int rv = acl_parse(cases[i].text, strlen(cases[i].text),
		                   "t.acl", &a, err);

		if (rv != -EINVAL || a != NULL ||
		    strstr(err, cases[i].want) == NULL) {
			fail_msg("case %zu: rv %d, error '%s', want '%s'", i,
			         rv, err, cases[i].want);
		}
	}
}

static void
test_nul_and_long_lines(void **state)
{
	struct acl *a = NULL;
	char err[ACL_ERR_MAX];
	char *big = malloc(2000);

	(void)state;
	assert_int_equal(acl_parse("[local]\0x", 9, "t.acl", &a, err), -EINVAL);
	assert_non_null(strstr(err, "t.acl:1: NUL byte"));
	memset(big, 'a', 1999);
	big[1999] = '\0';
	assert_int_equal(acl_parse(big, 1999, "t.acl", &a, err), -EINVAL);
	assert_non_null(strstr(err, "line longer than"));
	free(big);
}

static void
test_local(void **state)
{
	struct acl *a = parse_ok("# comment\n"
	                         "; another\n"
	                         "[local]\n"
	                         "uid = 4242, 4243\n"
	                         "rights = ipsec  # trailing comment\n"
	                         "[local]\n"
	                         "gid = 777\n"
	                         "rights = ike\n");
	struct acl_peer p = {.transport = ACL_TRANSPORT_IPC, .has_cred = true};
	struct acl_decision d;

	(void)state;
	p.uid = 4242;
	p.gid = 1;
	assert_true(acl_check(a, &p, ACL_RIGHT_IPSEC, &d));
	assert_string_equal(d.who, "uid 4242 gid 1");
	assert_false(acl_check(a, &p, ACL_RIGHT_IKE, &d));
	assert_non_null(strstr(d.reason, "lacks right ike"));
	p.gid = 777;
	assert_true(acl_check(a, &p, ACL_RIGHT_IPSEC | ACL_RIGHT_IKE, &d));
	p.uid = 5000;
	assert_false(acl_check(a, &p, ACL_RIGHT_IPSEC, &d));
	p.gid = 1;
	assert_false(acl_check(a, &p, 0, &d)); /* no right at all */
	/* Root and the agent's own user always. */
	p.uid = 0;
	assert_true(acl_check(a, &p, ACL_RIGHTS_ALL, &d));
	p.uid = (uint32_t)geteuid();
	assert_true(acl_check(a, &p, ACL_RIGHTS_ALL, &d));
	p.has_cred = false;
	assert_false(acl_check(a, &p, ACL_RIGHT_IPSEC, &d));
	acl_free(a);
}

static void
test_client(void **state)
{
	char text[512];
	struct acl *a;
	struct acl_peer p = {.transport = ACL_TRANSPORT_TLS,
	                     .has_addr = true,
	                     .client_id = "noc-7",
	                     .token = (const uint8_t *)TOKEN,
	                     .token_len = strlen(TOKEN)};
	struct acl_decision d;

	(void)state;
	snprintf(text, sizeof(text),
	         "[client noc-7]\ntoken-sha256 = %s\nrights = ipsec iscsi\n",
	         token_hash);
	a = parse_ok(text);
	v4(p.addr, 192, 0, 2, 1);
	assert_true(acl_check(a, &p, ACL_RIGHT_IPSEC, &d));
	assert_string_equal(d.who, "client noc-7");
	assert_true(acl_check(a, &p, ACL_RIGHT_ISCSI, &d));
	assert_false(acl_check(a, &p, ACL_RIGHT_IKE, &d));
	/* Wrong token, token one byte short, unknown id, no token. */
	p.token = (const uint8_t *)"secret-tokem";
	assert_false(acl_check(a, &p, ACL_RIGHT_IPSEC, &d));
	assert_string_equal(d.reason, "wrong token");
	p.token = (const uint8_t *)TOKEN;
	p.token_len--;
	assert_false(acl_check(a, &p, ACL_RIGHT_IPSEC, &d));
	p.token_len++;
	p.client_id = "noc-8";
	assert_false(acl_check(a, &p, ACL_RIGHT_IPSEC, &d));
	assert_string_equal(d.reason, "client id not in the ACL");
	p.client_id = "noc-7";
	p.token_len = 0;
	assert_false(acl_check(a, &p, ACL_RIGHT_IPSEC, &d));
	p.token_len = strlen(TOKEN);
	/* The right credential over anything but TLS is refused. */
	p.transport = ACL_TRANSPORT_TCP;
	assert_false(acl_check(a, &p, ACL_RIGHT_IPSEC, &d));
	assert_non_null(strstr(d.reason, "tls+tcp:// only"));
	p.transport = ACL_TRANSPORT_IPC;
	p.has_cred = true;
	p.uid = 0;
	assert_false(acl_check(a, &p, ACL_RIGHT_IPSEC, &d));
	acl_free(a);
}

static void
test_networks(void **state)
{
	struct acl *a = parse_ok("[plain]\n"
	                         "networks = 10.1.0.0/16 2001:db8::/32\n"
	                         "rights = info\n"
	                         "[tls]\n"
	                         "rights = ipsec\n"
	                         "[subscribers]\n"
	                         "networks = 192.0.2.0/25\n");
	struct acl_peer p = {.transport = ACL_TRANSPORT_TCP, .has_addr = true};
	struct acl_decision d;
	uint8_t addr[16];

	(void)state;
	v4(p.addr, 10, 1, 200, 3);
	assert_true(acl_check(a, &p, ACL_RIGHT_INFO, &d));
	assert_false(acl_check(a, &p, ACL_RIGHT_IPSEC, &d));
	v4(p.addr, 10, 2, 0, 1);
	assert_false(acl_check(a, &p, ACL_RIGHT_INFO, &d));
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:1::5", p.addr), 1);
	assert_true(acl_check(a, &p, ACL_RIGHT_INFO, &d));
	/* [tls] without networks: every verified TLS client. */
	p.transport = ACL_TRANSPORT_TLS;
	v4(p.addr, 203, 0, 113, 9);
	assert_true(acl_check(a, &p, ACL_RIGHT_IPSEC, &d));
	assert_false(acl_check(a, &p, ACL_RIGHT_INFO, &d));
	v4(addr, 192, 0, 2, 127);
	assert_true(acl_subscriber_allowed(a, addr));
	v4(addr, 192, 0, 2, 128);
	assert_false(acl_subscriber_allowed(a, addr));
	acl_free(a);
}

static void
test_default(void **state)
{
	struct acl *a = acl_default(false);
	struct acl_peer p = {.transport = ACL_TRANSPORT_TCP, .has_addr = true};
	struct acl_decision d;

	(void)state;
	v4(p.addr, 127, 0, 0, 1);
	assert_false(acl_check(a, &p, ACL_RIGHT_INFO, &d));
	p.transport = ACL_TRANSPORT_TLS;
	assert_false(acl_check(a, &p, ACL_RIGHT_INFO, &d));
	p.transport = ACL_TRANSPORT_IPC;
	p.has_cred = true;
	p.uid = 0;
	assert_true(acl_check(a, &p, ACL_RIGHTS_ALL, &d));
	/* Without [subscribers]: loopback only. */
	assert_true(acl_subscriber_allowed(a, p.addr));
	v4(p.addr, 10, 0, 0, 1);
	assert_false(acl_subscriber_allowed(a, p.addr));
	acl_free(a);

	a = acl_default(true);
	p.transport = ACL_TRANSPORT_TCP;
	v4(p.addr, 127, 3, 2, 1);
	assert_true(acl_check(a, &p, ACL_RIGHTS_ALL, &d));
	v4(p.addr, 10, 0, 0, 1);
	assert_false(acl_check(a, &p, ACL_RIGHT_INFO, &d));
	acl_free(a);
}

static void
test_method_rights(void **state)
{
	(void)state;
	assert_int_equal(acl_method_rights("IPsecGetStatistics1"),
	                 ACL_RIGHT_IPSEC);
	assert_int_equal(acl_method_rights("IkeextGetStatistics0"),
	                 ACL_RIGHT_IKE);
	assert_int_equal(acl_method_rights("IscsiGetStatistics"),
	                 ACL_RIGHT_ISCSI);
	assert_int_equal(acl_method_rights("GetCapabilities"), ACL_RIGHT_INFO);
	assert_int_equal(acl_method_rights("ListSecurityAssociations"),
	                 ACL_RIGHT_IPSEC | ACL_RIGHT_IKE);
	assert_int_equal(acl_method_rights("Nope"), 0);
}

static void
test_load(void **state)
{
	char path[] = "/tmp/secstat-acl-test-XXXXXX";
	int fd = mkstemp(path);
	struct acl *a = NULL;
	char err[ACL_ERR_MAX];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "[local]\nuid = 0\nrights = all\n", 29), 29);
	close(fd);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(acl_load(path, &a, err), 0);
	acl_free(a);
	/* Group-writable: anyone in the group could grant themselves. */
	assert_int_equal(chmod(path, 0664), 0);
	assert_int_equal(acl_load(path, &a, err), -EPERM);
	assert_non_null(strstr(err, "writable by group or others"));
	unlink(path);
	assert_int_equal(acl_load(path, &a, err), -ENOENT);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(acl_load("/tmp", &a, err), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_nul_and_long_lines),
	    cmocka_unit_test(test_local),
	    cmocka_unit_test(test_client),
	    cmocka_unit_test(test_networks),
	    cmocka_unit_test(test_default),
	    cmocka_unit_test(test_method_rights),
	    cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
