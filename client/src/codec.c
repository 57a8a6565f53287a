/* Request encoding, reply decoding and reply checks. */
#include "codec.h"

#include <errno.h>
#include <string.h>

#include <secstat/secstat.h>

int
codec_request_pack(uint64_t request_id, const char *method,
                   uint32_t deadline_ms, uint32_t max_age_ms, nng_msg **msgp)
{
	return codec_request_pack_cred(request_id, method, deadline_ms,
	                               max_age_ms, NULL, NULL, msgp);
}

int
codec_request_pack_cred(uint64_t request_id, const char *method,
                        uint32_t deadline_ms, uint32_t max_age_ms,
                        const char *client_id, const char *token,
                        nng_msg **msgp)
{
	Secstat__V1__Request req = SECSTAT__V1__REQUEST__INIT;
	Secstat__V1__Credential cred = SECSTAT__V1__CREDENTIAL__INIT;
	Secstat__V1__StatisticsRequest params =
	    SECSTAT__V1__STATISTICS_REQUEST__INIT;
	nng_msg *msg;
	size_t len;

	req.has_request_id = 1;
	req.request_id = request_id;
	req.method = (char *)method;
	req.has_deadline_ms = 1;
	req.deadline_ms = deadline_ms;
	if (max_age_ms != 0) {
		req.has_max_age_ms = 1;
		req.max_age_ms = max_age_ms;
	}
	if (client_id != NULL) {
		cred.client_id = (char *)client_id;
		if (token != NULL) {
			cred.has_token = 1;
			cred.token.data = (uint8_t *)token;
			cred.token.len = strlen(token);
		}
		req.credential = &cred;
	}
	req.params_case = SECSTAT__V1__REQUEST__PARAMS_STATISTICS;
	req.statistics = &params;

	len = secstat__v1__request__get_packed_size(&req);
	if (nng_msg_alloc(&msg, len) != 0) {
		return -ENOMEM;
	}
	secstat__v1__request__pack(&req, nng_msg_body(msg));
	*msgp = msg;
	return 0;
}

int
codec_reply_unpack(const void *buf, size_t len, Secstat__V1__Reply **replyp)
{
	Secstat__V1__Reply *reply;

	*replyp = NULL;
	if (len > SECSTAT_REPLY_MAX_BYTES) {
		return -EMSGSIZE;
	}
	reply = secstat__v1__reply__unpack(NULL, len, buf);
	if (reply == NULL) {
		return -EBADMSG;
	}
	*replyp = reply;
	return 0;
}

static const struct {
	const char *method;
	Secstat__V1__Reply__ResultCase result;
} method_results[] = {
    {SECSTAT_METHOD_IPSEC_GET_STATISTICS0, SECSTAT__V1__REPLY__RESULT_IPSEC},
    {SECSTAT_METHOD_IPSEC_GET_STATISTICS1, SECSTAT__V1__REPLY__RESULT_IPSEC},
    {SECSTAT_METHOD_IKEEXT_GET_STATISTICS0, SECSTAT__V1__REPLY__RESULT_IKEEXT},
    {SECSTAT_METHOD_IKEEXT_GET_STATISTICS1, SECSTAT__V1__REPLY__RESULT_IKEEXT},
    {SECSTAT_METHOD_ISCSI_GET_STATISTICS, SECSTAT__V1__REPLY__RESULT_ISCSI},
    {SECSTAT_METHOD_GET_HOST_INFO, SECSTAT__V1__REPLY__RESULT_HOST_INFO},
    {SECSTAT_METHOD_GET_CAPABILITIES, SECSTAT__V1__REPLY__RESULT_CAPABILITIES},
    {SECSTAT_METHOD_LIST_SECURITY_ASSOCIATIONS,
     SECSTAT__V1__REPLY__RESULT_SECURITY_ASSOCIATIONS},
    {SECSTAT_METHOD_RELAY_GET_HOSTS, SECSTAT__V1__REPLY__RESULT_RELAY_HOSTS},
};

Secstat__V1__Reply__ResultCase
codec_method_result(const char *method)
{
	size_t n = sizeof(method_results) / sizeof(method_results[0]);

	for (size_t i = 0; i < n; i++) {
		if (strcmp(method_results[i].method, method) == 0) {
			return method_results[i].result;
		}
	}
	return SECSTAT__V1__REPLY__RESULT__NOT_SET;
}

int
codec_reply_check(const Secstat__V1__Reply *reply, uint64_t request_id,
                  const char *method)
{
	Secstat__V1__Reply__ResultCase want = codec_method_result(method);

	if (!reply->has_request_id || reply->request_id != request_id ||
	    !reply->has_status) {
		return -EPROTO;
	}
	if (want == SECSTAT__V1__REPLY__RESULT__NOT_SET) {
		return 0;
	}
	if (reply->result_case != SECSTAT__V1__REPLY__RESULT__NOT_SET &&
	    reply->result_case != want) {
		return -EPROTO;
	}
	if (reply->status == ERROR_SUCCESS &&
	    reply->result_case == SECSTAT__V1__REPLY__RESULT__NOT_SET) {
		return -EPROTO;
	}
	return 0;
}
