/* The client's reply decoding and checks (what a hostile or broken agent
 * can send to libsecstat), then the JSON writer over what decoded. */
#include <stdint.h>
#include <stdio.h>

#include "codec.h"
#include "model.h"

#include <secstat/secstat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
count_stat(const struct model_stat *st, void *arg)
{
	(void)st;
	(void)arg;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = {
	    SECSTAT_METHOD_IPSEC_GET_STATISTICS1,
	    SECSTAT_METHOD_IKEEXT_GET_STATISTICS0,
	    SECSTAT_METHOD_ISCSI_GET_STATISTICS,
	    SECSTAT_METHOD_GET_CAPABILITIES,
	    "ListSecurityAssociations",
	    "NoSuchMethod",
	};
	Secstat__V1__Reply *r = NULL;
	static FILE *sink;

	if (sink == NULL && (sink = fopen("/dev/null", "w")) == NULL) {
		return 0;
	}
	if (codec_reply_unpack(data, size, &r) != 0) {
		return 0;
	}
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		(void)codec_reply_check(r, 1, methods[i]);
	}
	(void)model_walk(&r->base, NULL, count_stat, NULL);
	model_write_json(sink, &r->base, -1);
	secstat_reply_free(r);
	return 0;
}
