/*
 * Status codes: every code <secstat/winerror.h> defines has its name and
 * a text of its own, and internal errors map to the documented codes.
 */
#include <errno.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <nng/nng.h>

#include <secstat/secstat.h>

#include "error.h"

#define MAX_CODES 512

struct code {
	char name[96];
	uint32_t value;
};

/* Every "#define NAME VALUE" of the installed header, read as text so
 * that a code added there without a table entry is caught here. */
static size_t
read_codes(struct code *codes)
{
	char path[4096];
	const char *src = getenv("SECSTAT_SOURCE_DIR");
	FILE *f;
	char line[512];
	regex_t re;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/client/include/secstat/winerror.h",
	         src != NULL ? src : ".");
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(regcomp(&re,
	                         "^#define ((ERROR|FWP_E|RPC_E)_[A-Z0-9_]+) "
	                         "(0x[0-9A-F]+|[0-9]+)u$",
	                         REG_EXTENDED),
	                 0);
	while (fgets(line, sizeof(line), f) != NULL && n < MAX_CODES) {
		regmatch_t m[4];

		line[strcspn(line, "\n")] = '\0';
		if (regexec(&re, line, 4, m, 0) != 0) {
			continue;
		}
		snprintf(codes[n].name, sizeof(codes[n].name), "%.*s",
		         (int)(m[1].rm_eo - m[1].rm_so), line + m[1].rm_so);
		codes[n].value = (uint32_t)strtoul(line + m[3].rm_so, NULL, 0);
		n++;
	}
	regfree(&re);
	fclose(f);
	return n;
}

static void
test_every_code_named(void **state)
{
	static struct code codes[MAX_CODES];
	size_t n = read_codes(codes);

	(void)state;
	/* 5 Win32 + 110 IKE + 69 FWP_E + 52 RPC_E. */
	assert_int_equal(n, 236);
	for (size_t i = 0; i < n; i++) {
		const char *name = secstat_status_name(codes[i].value);
		const char *text = secstat_strerror(codes[i].value);

		if (name == NULL || strcmp(name, codes[i].name) != 0) {
			fail_msg("%s: name %s", codes[i].name,
			         name ? name : "(none)");
		}
		assert_string_not_equal(text, "Unknown status code.");
		assert_true(strlen(text) > 10);
		for (size_t k = 0; k < i; k++) {
			if (codes[k].value == codes[i].value) {
				fail_msg("%s and %s share a value",
				         codes[k].name, codes[i].name);
			}
			if (strcmp(secstat_strerror(codes[k].value), text) ==
			    0) {
				fail_msg("%s and %s share a text",
				         codes[k].name, codes[i].name);
			}
		}
	}
}

static void
test_values(void **state)
{
	(void)state;
	/* Spot checks against the Windows SDK. */
	assert_int_equal(ERROR_SUCCESS, 0);
	assert_int_equal(ERROR_ACCESS_DENIED, 5);
	assert_int_equal(ERROR_INVALID_PARAMETER, 87);
	assert_int_equal(FWP_E_NOT_FOUND, 0x80320008u);
	assert_int_equal(FWP_E_TXN_IN_PROGRESS, 0x8032000Eu);
	assert_int_equal(FWP_E_TIMEOUT, 0x80320012u);
	assert_int_equal(FWP_E_INVALID_PARAMETER, 0x80320035u);
	assert_int_equal(FWP_E_IKEEXT_NOT_RUNNING, 0x80320044u);
	assert_int_equal(FWP_E_DROP_NOICMP, 0x80320104u);
	assert_int_equal(RPC_E_SERVER_DIED_DNE, 0x80010012u);
	assert_int_equal(RPC_E_DISCONNECTED, 0x80010108u);
	assert_int_equal(RPC_E_TIMEOUT, 0x8001011Fu);
	assert_int_equal(RPC_E_UNEXPECTED, 0x8001FFFFu);
	assert_int_equal(ERROR_IPSEC_IKE_NEG_STATUS_BEGIN, 13800);
	assert_int_equal(ERROR_IPSEC_IKE_TOO_MANY_FILTERS, 13896);
	assert_int_equal(ERROR_IPSEC_IKE_NEG_STATUS_END, 13897);
	assert_int_equal(ERROR_IPSEC_IKE_NEG_STATUS_EXTENDED_END, 13909);
	/* Usable in the preprocessor. */
#if RPC_E_TIMEOUT != 0x8001011F
	fail();
#endif
}

static void
test_unknown(void **state)
{
	(void)state;
	assert_null(secstat_status_name(0x12345678u));
	assert_string_equal(secstat_strerror(0x12345678u),
	                    "Unknown status code.");
	assert_null(secstat_status_name(0x80010013u)); /* unassigned */
}

static const struct {
	int rv;
	enum error_stage stage;
	uint32_t want;
} nng_cases[] = {
    {0, ERROR_STAGE_RECV, ERROR_SUCCESS},
    {NNG_ECONNREFUSED, ERROR_STAGE_DIAL, RPC_E_SERVER_DIED_DNE},
    {NNG_ENOENT, ERROR_STAGE_DIAL, RPC_E_SERVER_DIED_DNE},
    {NNG_EUNREACHABLE, ERROR_STAGE_DIAL, RPC_E_SERVER_DIED_DNE},
    {NNG_ETIMEDOUT, ERROR_STAGE_DIAL, RPC_E_SERVER_DIED_DNE},
    {NNG_ETIMEDOUT, ERROR_STAGE_SEND, RPC_E_SERVER_DIED_DNE},
    {NNG_ETIMEDOUT, ERROR_STAGE_RECV, RPC_E_TIMEOUT},
    {NNG_ECONNRESET, ERROR_STAGE_RECV, RPC_E_DISCONNECTED},
    {NNG_ECONNSHUT, ERROR_STAGE_RECV, RPC_E_DISCONNECTED},
    {NNG_ECONNRESET, ERROR_STAGE_DIAL, RPC_E_SERVER_DIED_DNE},
    {NNG_ECLOSED, ERROR_STAGE_RECV, RPC_E_CALL_CANCELED},
    {NNG_ECLOSED, ERROR_STAGE_SEND, RPC_E_CALL_CANCELED},
    {NNG_EADDRINVAL, ERROR_STAGE_DIAL, RPC_E_INVALID_PARAMETER},
    {NNG_ENOTSUP, ERROR_STAGE_DIAL, RPC_E_INVALID_PARAMETER},
    {NNG_EPERM, ERROR_STAGE_DIAL, RPC_E_ACCESS_DENIED},
    {NNG_EPEERAUTH, ERROR_STAGE_DIAL, RPC_E_ACCESS_DENIED},
    {NNG_EPROTO, ERROR_STAGE_DIAL, RPC_E_VERSION_MISMATCH},
    {NNG_ENOMEM, ERROR_STAGE_SEND, RPC_E_OUT_OF_RESOURCES},
    {NNG_EMSGSIZE, ERROR_STAGE_RECV, RPC_E_CLIENT_CANTUNMARSHAL_DATA},
    {NNG_ESYSERR | EIO, ERROR_STAGE_DIAL, RPC_E_SYS_CALL_FAILED},
    {NNG_EINTERNAL, ERROR_STAGE_RECV, RPC_E_FAULT},
};

static void
test_from_nng(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(nng_cases) / sizeof(nng_cases[0]); i++) {
		uint32_t got =
		    error_from_nng(nng_cases[i].rv, nng_cases[i].stage);
		if (got != nng_cases[i].want) {
			fail_msg("case %zu: nng %d -> 0x%08x, want 0x%08x", i,
			         nng_cases[i].rv, got, nng_cases[i].want);
		}
	}
}

static void
test_from_errno(void **state)
{
	(void)state;
	assert_int_equal(error_from_errno(0), ERROR_SUCCESS);
	assert_int_equal(error_from_errno(-ENOMEM), RPC_E_OUT_OF_RESOURCES);
	assert_int_equal(error_from_errno(-EINVAL), ERROR_INVALID_PARAMETER);
	assert_int_equal(error_from_errno(-EBADMSG),
	                 RPC_E_CLIENT_CANTUNMARSHAL_DATA);
	assert_int_equal(error_from_errno(-EMSGSIZE),
	                 RPC_E_CLIENT_CANTUNMARSHAL_DATA);
	assert_int_equal(error_from_errno(-EPROTO), RPC_E_INVALID_DATA);
	assert_int_equal(error_from_errno(-EXDEV), RPC_E_FAULT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_code_named),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_unknown),
	    cmocka_unit_test(test_from_nng),
	    cmocka_unit_test(test_from_errno),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
