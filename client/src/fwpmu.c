/* The Windows Filtering Platform statistics calls over libsecstat. */
#include "fwpmu_convert.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <secstat/fwpmu.h>
#include <secstat/secstat.h>

/* An engine handle is the address of one of these, but it is only ever
 * dereferenced after it was found in the list of open engines, so a
 * stale or made-up handle yields ERROR_INVALID_HANDLE, not a crash. */
struct engine {
	struct engine *next;
	secstat_session *session;
	GUID key;      /* all zero: none */
	unsigned refs; /* the list's + one per call in progress */
	bool txn_open; /* explicit transaction */
};

static pthread_mutex_t engines_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct engine *engines; /* under engines_mtx, like all fields */

static bool
guid_is_zero(const GUID *g)
{
	static const GUID zero;

	return memcmp(g, &zero, sizeof(zero)) == 0;
}

static struct engine *
engine_find(HANDLE h)
{
	for (struct engine *e = engines; e != NULL; e = e->next) {
		if ((HANDLE)e == h) {
			return e;
		}
	}
	return NULL;
}

static struct engine *
engine_hold(HANDLE h)
{
	struct engine *e;

	pthread_mutex_lock(&engines_mtx);
	if ((e = engine_find(h)) != NULL) {
		e->refs++;
	}
	pthread_mutex_unlock(&engines_mtx);
	return e;
}

static void
engine_rele(struct engine *e)
{
	bool last;

	pthread_mutex_lock(&engines_mtx);
	last = --e->refs == 0;
	pthread_mutex_unlock(&engines_mtx);
	if (last) {
		secstat_session_close(e->session);
		free(e);
	}
}

/* UTF-8 copy of a wide string (native wchar_t: UTF-32 on Linux), without
 * the locale: URLs must not depend on LC_CTYPE. NULL on an invalid code
 * point or no memory (*oom says which). */
static char *
wide_to_utf8(const wchar_t *w, bool *oom)
{
	size_t n = wcslen(w);
	char *s = malloc(4 * n + 1);
	char *p = s;

	*oom = s == NULL;
	if (s == NULL) {
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t c = (uint32_t)w[i];

		if (c < 0x80) {
			*p++ = (char)c;
		} else if (c < 0x800) {
			*p++ = (char)(0xC0 | (c >> 6));
			*p++ = (char)(0x80 | (c & 0x3F));
		} else if (c < 0x10000 && (c < 0xD800 || c > 0xDFFF)) {
			*p++ = (char)(0xE0 | (c >> 12));
			*p++ = (char)(0x80 | ((c >> 6) & 0x3F));
			*p++ = (char)(0x80 | (c & 0x3F));
		} else if (c >= 0x10000 && c <= 0x10FFFF) {
			*p++ = (char)(0xF0 | (c >> 18));
			*p++ = (char)(0x80 | ((c >> 12) & 0x3F));
			*p++ = (char)(0x80 | ((c >> 6) & 0x3F));
			*p++ = (char)(0x80 | (c & 0x3F));
		} else {
			free(s);
			return NULL;
		}
	}
	*p = '\0';
	return s;
}

/* UTF-16 (SEC_WINNT_AUTH_IDENTITY_UNICODE) or bytes (_ANSI) of `len`
 * units to a NUL-terminated UTF-8 string; NULL when malformed, empty,
 * or out of memory (*oom). */
static char *
identity_text(const uint16_t *p, uint32_t len, uint32_t flags, bool *oom)
{
	char *s, *o;

	if (p == NULL || len == 0 || len > 1024) {
		return NULL;
	}
	if ((s = malloc((size_t)len * 3 + 1)) == NULL) {
		*oom = true;
		return NULL;
	}
	o = s;
	if (flags == SEC_WINNT_AUTH_IDENTITY_ANSI) {
		memcpy(s, p, len);
		s[len] = '\0';
		if (strlen(s) != len) {
			free(s);
			return NULL;
		}
		return s;
	}
	for (uint32_t i = 0; i < len; i++) {
		uint32_t c = p[i];

		if (c >= 0xD800 && c <= 0xDBFF && i + 1 < len &&
		    p[i + 1] >= 0xDC00 && p[i + 1] <= 0xDFFF) {
			c = 0x10000 + ((c - 0xD800) << 10) + (p[++i] - 0xDC00);
		} else if (c == 0 || (c >= 0xD800 && c <= 0xDFFF)) {
			free(s);
			return NULL;
		}
		if (c < 0x80) {
			*o++ = (char)c;
		} else if (c < 0x800) {
			*o++ = (char)(0xC0 | (c >> 6));
			*o++ = (char)(0x80 | (c & 0x3F));
		} else if (c < 0x10000) {
			*o++ = (char)(0xE0 | (c >> 12));
			*o++ = (char)(0x80 | ((c >> 6) & 0x3F));
			*o++ = (char)(0x80 | (c & 0x3F));
		} else {
			*o++ = (char)(0xF0 | (c >> 18));
			*o++ = (char)(0x80 | ((c >> 12) & 0x3F));
			*o++ = (char)(0x80 | ((c >> 6) & 0x3F));
			*o++ = (char)(0x80 | (c & 0x3F));
		}
	}
	*o = '\0';
	return s;
}

DWORD WINAPI
FwpmEngineOpen0(const wchar_t *serverName, UINT32 authnService,
                SEC_WINNT_AUTH_IDENTITY_W *authIdentity,
                const FWPM_SESSION0 *session, HANDLE *engineHandle)
{
	struct engine *e;
	char *url = NULL;
	char *user = NULL, *password = NULL;
	struct secstat_session_options opts;
	bool oom = false;
	uint32_t status;

	if (engineHandle == NULL) {
		return FWP_E_NULL_POINTER;
	}
	*engineHandle = NULL;
	if (authnService != RPC_C_AUTHN_WINNT &&
	    authnService != RPC_C_AUTHN_DEFAULT) {
		return FWP_E_INVALID_PARAMETER;
	}
	if (serverName != NULL && serverName[0] != L'\0' &&
	    (url = wide_to_utf8(serverName, &oom)) == NULL) {
		return oom ? ERROR_NOT_ENOUGH_MEMORY : FWP_E_INVALID_PARAMETER;
	}
	/* Explicit credentials are the agent ACL's client id (User) and
	 * token (Password); only a tls+tcp:// agent can receive them. The
	 * TLS files come from the environment (docs/security.md), as
	 * Windows takes the machine's own credentials implicitly. */
	secstat_session_options_init(&opts);
	opts.tls_ca_file = getenv("SECSTAT_TLS_CA");
	opts.tls_cert_file = getenv("SECSTAT_TLS_CERT");
	opts.tls_key_file = getenv("SECSTAT_TLS_KEY");
	opts.tls_server_name = getenv("SECSTAT_TLS_SERVER_NAME");
	if (authIdentity != NULL) {
		const char *u = url != NULL ? url : secstat_default_url();

		if (strncmp(u, "tls+tcp", 7) != 0) {
			free(url);
			return RPC_E_NO_GOOD_SECURITY_PACKAGES;
		}
		if ((authIdentity->Flags != SEC_WINNT_AUTH_IDENTITY_UNICODE &&
		     authIdentity->Flags != SEC_WINNT_AUTH_IDENTITY_ANSI) ||
		    (user = identity_text(authIdentity->User,
		                          authIdentity->UserLength,
		                          authIdentity->Flags, &oom)) == NULL ||
		    (password = identity_text(
		         authIdentity->Password, authIdentity->PasswordLength,
		         authIdentity->Flags, &oom)) == NULL) {
			free(user);
			free(url);
			return oom ? ERROR_NOT_ENOUGH_MEMORY
			           : FWP_E_INVALID_PARAMETER;
		}
		opts.client_id = user;
		opts.token = password;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		free(url);
		free(user);
		free(password);
		return ERROR_NOT_ENOUGH_MEMORY;
	}
	e->refs = 1;
	if (session != NULL) {
		e->key = session->sessionKey;
	}
	status = secstat_session_open(&e->session, url, &opts);
	free(url);
	free(user);
	if (password != NULL) {
		memset(password, 0, strlen(password));
		free(password);
	}
	if (status != ERROR_SUCCESS) {
		free(e);
		return status;
	}

	pthread_mutex_lock(&engines_mtx);
	if (!guid_is_zero(&e->key)) {
		for (struct engine *o = engines; o != NULL; o = o->next) {
			if (memcmp(&o->key, &e->key, sizeof(e->key)) == 0) {
				status = FWP_E_ALREADY_EXISTS;
				break;
			}
		}
	}
	if (status == ERROR_SUCCESS) {
		e->next = engines;
		engines = e;
	}
	pthread_mutex_unlock(&engines_mtx);
	if (status != ERROR_SUCCESS) {
		secstat_session_close(e->session);
		free(e);
		return status;
	}
	*engineHandle = (HANDLE)e;
	return ERROR_SUCCESS;
}

DWORD WINAPI
FwpmEngineClose0(HANDLE engineHandle)
{
	struct engine *e;

	pthread_mutex_lock(&engines_mtx);
	if ((e = engine_find(engineHandle)) != NULL) {
		struct engine **pp = &engines;

		while (*pp != e) {
			pp = &(*pp)->next;
		}
		*pp = e->next;
		e->txn_open = false; /* a closing session aborts its txn */
	}
	pthread_mutex_unlock(&engines_mtx);
	if (e == NULL) {
		return ERROR_INVALID_HANDLE;
	}
	engine_rele(e);
	return ERROR_SUCCESS;
}

DWORD WINAPI
FwpmTransactionBegin0(HANDLE engineHandle, UINT32 flags)
{
	struct engine *e;
	DWORD status = ERROR_SUCCESS;

	pthread_mutex_lock(&engines_mtx);
	if ((e = engine_find(engineHandle)) == NULL) {
		status = ERROR_INVALID_HANDLE;
	} else if ((flags & ~FWPM_TXN_READ_ONLY) != 0) {
		status = FWP_E_INVALID_FLAGS;
	} else if (e->txn_open) {
		status = FWP_E_TXN_IN_PROGRESS;
	} else {
		e->txn_open = true;
	}
	pthread_mutex_unlock(&engines_mtx);
	return status;
}

/* Commit and abort are the same here: nothing in a statistics session
 * writes, so there is nothing to keep or undo. */
static DWORD
txn_end(HANDLE engineHandle)
{
	struct engine *e;
	DWORD status = ERROR_SUCCESS;

	pthread_mutex_lock(&engines_mtx);
	if ((e = engine_find(engineHandle)) == NULL) {
		status = ERROR_INVALID_HANDLE;
	} else if (!e->txn_open) {
		status = FWP_E_NO_TXN_IN_PROGRESS;
	} else {
		e->txn_open = false;
	}
	pthread_mutex_unlock(&engines_mtx);
	return status;
}

DWORD WINAPI
FwpmTransactionCommit0(HANDLE engineHandle)
{
	return txn_end(engineHandle);
}

DWORD WINAPI
FwpmTransactionAbort0(HANDLE engineHandle)
{
	return txn_end(engineHandle);
}

/* Calls `method` on the engine's session. On return *replyp is the reply
 * (to free) whenever the structure should be filled: on ERROR_SUCCESS,
 * and on FWP_E_TIMEOUT when the agent sent its stale snapshot. */
static DWORD
stats_call(HANDLE engineHandle, const void *out, const char *method,
           bool forbidden_in_txn, Secstat__V1__Reply **replyp)
{
	struct engine *e;
	bool in_txn;
	DWORD status;

	*replyp = NULL;
	if ((e = engine_hold(engineHandle)) == NULL) {
		return ERROR_INVALID_HANDLE;
	}
	if (out == NULL) {
		engine_rele(e);
		return FWP_E_NULL_POINTER;
	}
	pthread_mutex_lock(&engines_mtx);
	in_txn = e->txn_open;
	pthread_mutex_unlock(&engines_mtx);
	if (in_txn && forbidden_in_txn) {
		engine_rele(e);
		return FWP_E_TXN_IN_PROGRESS;
	}
	status = secstat_session_call(e->session, method, replyp);
	engine_rele(e);
	if (*replyp != NULL && status != ERROR_SUCCESS &&
	    (status != FWP_E_TIMEOUT ||
	     (*replyp)->result_case == SECSTAT__V1__REPLY__RESULT__NOT_SET)) {
		secstat_reply_free(*replyp);
		*replyp = NULL;
	}
	return status;
}

DWORD WINAPI
IPsecGetStatistics0(HANDLE engineHandle, IPSEC_STATISTICS0 *ipsecStatistics)
{
	Secstat__V1__Reply *r;
	DWORD status =
	    stats_call(engineHandle, ipsecStatistics,
	               SECSTAT_METHOD_IPSEC_GET_STATISTICS0, true, &r);

	if (r != NULL) {
		fwpmu_convert_ipsec0(ipsecStatistics, r->ipsec != NULL
		                                          ? r->ipsec->statistics
		                                          : NULL);
		secstat_reply_free(r);
	}
	return status;
}

DWORD WINAPI
IPsecGetStatistics1(HANDLE engineHandle, IPSEC_STATISTICS1 *ipsecStatistics)
{
	Secstat__V1__Reply *r;
	DWORD status =
	    stats_call(engineHandle, ipsecStatistics,
	               SECSTAT_METHOD_IPSEC_GET_STATISTICS1, true, &r);

	if (r != NULL) {
		fwpmu_convert_ipsec1(ipsecStatistics, r->ipsec != NULL
		                                          ? r->ipsec->statistics
		                                          : NULL);
		secstat_reply_free(r);
	}
	return status;
}

DWORD WINAPI
IkeextGetStatistics0(HANDLE engineHandle, IKEEXT_STATISTICS0 *ikeextStatistics)
{
	Secstat__V1__Reply *r;
	DWORD status =
	    stats_call(engineHandle, ikeextStatistics,
	               SECSTAT_METHOD_IKEEXT_GET_STATISTICS0, false, &r);

	if (r != NULL) {
		fwpmu_convert_ikeext0(ikeextStatistics,
		                      r->ikeext != NULL ? r->ikeext->statistics
		                                        : NULL);
		secstat_reply_free(r);
	}
	return status;
}

DWORD WINAPI
IkeextGetStatistics1(HANDLE engineHandle, IKEEXT_STATISTICS1 *ikeextStatistics)
{
	Secstat__V1__Reply *r;
	DWORD status =
	    stats_call(engineHandle, ikeextStatistics,
	               SECSTAT_METHOD_IKEEXT_GET_STATISTICS1, false, &r);

	if (r != NULL) {
		fwpmu_convert_ikeext1(ikeextStatistics,
		                      r->ikeext != NULL ? r->ikeext->statistics
		                                        : NULL);
		secstat_reply_free(r);
	}
	return status;
}
