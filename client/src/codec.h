/*
 * Encoding of requests and decoding and checking of replies: one
 * serialized secstat.v1.Request per REQ message, one secstat.v1.Reply per
 * REP message, nothing else on the wire.
 */
#ifndef SECSTAT_CLIENT_CODEC_H
#define SECSTAT_CLIENT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <nng/nng.h>

#include <secstat/v1/service.pb-c.h>

/* Builds the request message. Returns 0 (*msgp owned by the caller) or
 * -ENOMEM. */
int codec_request_pack(uint64_t request_id, const char *method,
                       uint32_t deadline_ms, uint32_t max_age_ms,
                       nng_msg **msgp);

/* The same with a Credential (client_id NULL: none). */
int codec_request_pack_cred(uint64_t request_id, const char *method,
                            uint32_t deadline_ms, uint32_t max_age_ms,
                            const char *client_id, const char *token,
                            nng_msg **msgp);

/* Decodes a reply. Returns 0 (*replyp to free with
 * secstat__v1__reply__free_unpacked(.., NULL)), -EMSGSIZE when longer
 * than SECSTAT_REPLY_MAX_BYTES, or -EBADMSG when it does not decode. */
int codec_reply_unpack(const void *buf, size_t len,
                       Secstat__V1__Reply **replyp);

/* The result a method's reply carries, or
 * SECSTAT__V1__REPLY__RESULT__NOT_SET for a method this library does
 * not know (then any result is accepted). */
Secstat__V1__Reply__ResultCase codec_method_result(const char *method);

/* Checks that `reply` answers request `request_id` for `method`: the id
 * is echoed, a status is present, and a result, when present, has the
 * method's type; with ERROR_SUCCESS a known method's result must be
 * present. Returns 0 or -EPROTO. */
int codec_reply_check(const Secstat__V1__Reply *reply, uint64_t request_id,
                      const char *method);

#endif /* SECSTAT_CLIENT_CODEC_H */
