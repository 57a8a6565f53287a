#include "dial_failures.h"
#include "error.h"

#include <string.h>

#include <secstat/winerror.h>

/* The dialer statistics of nng 1.5.2 that count failed attempts. */
static const struct {
	const char *name;
	size_t offset;
} counters[] = {
    {"refused", offsetof(struct dial_failures, refused)},
    {"auth", offsetof(struct dial_failures, auth)},
    {"proto", offsetof(struct dial_failures, proto)},
    {"reject", offsetof(struct dial_failures, reject)},
    {"timeout", offsetof(struct dial_failures, timeout)},
    {"other", offsetof(struct dial_failures, other)},
};

bool
dial_failures_read(nng_stat *snapshot, nng_dialer d, struct dial_failures *out)
{
	nng_stat *scope;

	memset(out, 0, sizeof(*out));
	if (snapshot == NULL ||
	    (scope = nng_stat_find_dialer(snapshot, d)) == NULL) {
		return false;
	}
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		nng_stat *st = nng_stat_find(scope, counters[i].name);

		if (st != NULL && nng_stat_type(st) == NNG_STAT_COUNTER) {
			*(uint64_t *)((char *)out + counters[i].offset) =
			    nng_stat_value(st);
		}
	}
	return true;
}

static uint64_t
since(uint64_t before, uint64_t now)
{
	return now > before ? now - before : 0;
}

uint64_t
dial_failures_new(const struct dial_failures *before,
                  const struct dial_failures *now)
{
	return since(before->refused, now->refused) +
	       since(before->auth, now->auth) +
	       since(before->proto, now->proto) +
	       since(before->reject, now->reject) +
	       since(before->timeout, now->timeout) +
	       since(before->other, now->other);
}

uint32_t
dial_failures_status(const struct dial_failures *before,
                     const struct dial_failures *now, bool tls)
{
	if (since(before->auth, now->auth) > 0 ||
	    (tls && since(before->other, now->other) > 0)) {
		return RPC_E_ACCESS_DENIED;
	}
	if (since(before->proto, now->proto) > 0 ||
	    since(before->reject, now->reject) > 0) {
		return RPC_E_VERSION_MISMATCH;
	}
	return RPC_E_SERVER_DIED_DNE;
}

uint32_t
dial_error_status(int rv, bool tls)
{
	if (tls && rv == NNG_ECONNSHUT) {
		return RPC_E_ACCESS_DENIED;
	}
	return error_from_nng(rv, ERROR_STAGE_DIAL);
}
