/* In-process fake agent for the client tests. */
#include "fake_agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/util/platform.h>

#include <secstat/secstat.h>

struct fake_agent {
	nng_socket sock;
	nng_thread *thr;
	nng_mtx *mtx;
	enum fake_behaviour behaviour;
	uint32_t status;
	unsigned requests;
	uint32_t last_deadline;
	char last_method[64];
	bool stop;
	bool closed;
};

/* Builds the answer to `req` under behaviour `b`; returns a malloc'ed
 * buffer in *buf. */
static size_t
answer(const Secstat__V1__Request *req, enum fake_behaviour b, uint32_t status,
       uint8_t **buf)
{
	Secstat__V1__Reply rep = SECSTAT__V1__REPLY__INIT;
	Secstat__V1__IpsecGetStatisticsResponse ipr =
	    SECSTAT__V1__IPSEC_GET_STATISTICS_RESPONSE__INIT;
	Secstat__V1__IpsecStatistics ips = SECSTAT__V1__IPSEC_STATISTICS__INIT;
	Secstat__V1__IpsecAggregateSaStatistics sa =
	    SECSTAT__V1__IPSEC_AGGREGATE_SA_STATISTICS__INIT;
	Secstat__V1__IpsecAggregateDropPacketStatistics drop =
	    SECSTAT__V1__IPSEC_AGGREGATE_DROP_PACKET_STATISTICS__INIT;
	Secstat__V1__IpsecTrafficStatistics in =
	    SECSTAT__V1__IPSEC_TRAFFIC_STATISTICS__INIT;
	Secstat__V1__IkeextGetStatisticsResponse ikr =
	    SECSTAT__V1__IKEEXT_GET_STATISTICS_RESPONSE__INIT;
	Secstat__V1__IkeextStatistics iks =
	    SECSTAT__V1__IKEEXT_STATISTICS__INIT;
	Secstat__V1__IkeextKeymoduleStatistics ike =
	    SECSTAT__V1__IKEEXT_KEYMODULE_STATISTICS__INIT;
	Secstat__V1__IkeextKeymoduleStatistics ikev2 =
	    SECSTAT__V1__IKEEXT_KEYMODULE_STATISTICS__INIT;
	Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics v4 =
	    SECSTAT__V1__IKEEXT_IP_VERSION_SPECIFIC_KEYMODULE_STATISTICS__INIT;
	Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics v2v4 =
	    SECSTAT__V1__IKEEXT_IP_VERSION_SPECIFIC_KEYMODULE_STATISTICS__INIT;
	Secstat__V1__HostInfoResponse hir =
	    SECSTAT__V1__HOST_INFO_RESPONSE__INIT;
	Secstat__V1__HostInfo host = SECSTAT__V1__HOST_INFO__INIT;
	uint64_t errors[FAKE_ERROR_SLOT + 1] = {0};
	const char *method = req->method != NULL ? req->method : "";
	bool ikeext = strncmp(method, "Ikeext", 6) == 0;
	size_t len;

	if (b == FAKE_HUGE) {
		/* A valid Reply whose message makes it 1 KiB too large. */
		size_t n = SECSTAT_REPLY_MAX_BYTES + 1024;
		char *text = malloc(n + 1);
		memset(text, 'x', n);
		text[n] = '\0';
		rep.has_request_id = 1;
		rep.request_id = req->request_id;
		rep.has_status = 1;
		rep.message = text;
		len = secstat__v1__reply__get_packed_size(&rep);
		*buf = malloc(len);
		secstat__v1__reply__pack(&rep, *buf);
		free(text);
		return len;
	}
	if (b == FAKE_GARBAGE) {
		/* A field header announcing a length-delimited field longer
		 * than the message. */
		static const uint8_t junk[] = {0x0a, 0x7f, 0x01, 0x02};
		*buf = malloc(sizeof(junk));
		memcpy(*buf, junk, sizeof(junk));
		return sizeof(junk);
	}

	sa.has_active_sas = 1;
	sa.active_sas = FAKE_ACTIVE_SAS;
	drop.has_total_drop_packets_inbound = 1;
	drop.total_drop_packets_inbound = FAKE_TOTAL_DROPS;
	drop.has_invalid_spis_on_inbound = 1;
	drop.invalid_spis_on_inbound = 3;
	in.has_encrypted_byte_count = 1;
	in.encrypted_byte_count = FAKE_INBOUND_BYTES;
	in.has_total_successful_packets = 1;
	in.total_successful_packets = 11;
	ips.aggregate_sa_statistics = &sa;
	ips.aggregate_drop_packet_statistics = &drop;
	ips.inbound_traffic_statistics = &in;
	ipr.statistics = &ips;

	v4.has_total_main_modes_started = 1;
	v4.total_main_modes_started = FAKE_V4_MAIN_MODES;
	v2v4.has_total_main_modes_started = 1;
	v2v4.total_main_modes_started = FAKE_V2_MAIN_MODES;
	errors[FAKE_ERROR_SLOT] = FAKE_ERROR_COUNT;
	ike.v4_statistics = &v4;
	ike.n_error_frequency_table = FAKE_ERROR_SLOT + 1;
	ike.error_frequency_table = errors;
	ike.has_error_code_base = 1;
	ike.error_code_base = 13800;
	ikev2.v4_statistics = &v2v4;
	iks.ike_statistics = &ike;
	iks.ike_v2_statistics = &ikev2;
	ikr.statistics = &iks;

	host.hostname = "fake";
	hir.host = &host;

	rep.has_request_id = 1;
	rep.request_id = req->request_id + (b == FAKE_WRONG_ID ? 1 : 0);
	rep.has_status = b != FAKE_NO_STATUS;
	rep.status = b == FAKE_STATUS  ? status
	             : b == FAKE_STALE ? 0x80320012u
	                               : 0;
	rep.host = &host;
	if (b != FAKE_STATUS) {
		bool as_ike = b == FAKE_WRONG_TYPE ? !ikeext : ikeext;
		if (strcmp(method, SECSTAT_METHOD_GET_HOST_INFO) == 0 &&
		    b != FAKE_WRONG_TYPE) {
			rep.result_case = SECSTAT__V1__REPLY__RESULT_HOST_INFO;
			rep.host_info = &hir;
		} else if (as_ike) {
			rep.result_case = SECSTAT__V1__REPLY__RESULT_IKEEXT;
			rep.ikeext = &ikr;
		} else {
			rep.result_case = SECSTAT__V1__REPLY__RESULT_IPSEC;
			rep.ipsec = &ipr;
		}
	} else {
		rep.message = "no source";
	}
	len = secstat__v1__reply__get_packed_size(&rep);
	*buf = malloc(len);
	secstat__v1__reply__pack(&rep, *buf);
	return len;
}

static void
serve(void *arg)
{
	struct fake_agent *a = arg;

	for (;;) {
		nng_msg *msg;
		Secstat__V1__Request *req;
		enum fake_behaviour b;
		uint32_t status;
		uint8_t *buf;
		size_t len;
		int rv;

		nng_mtx_lock(a->mtx);
		if (a->stop) {
			nng_mtx_unlock(a->mtx);
			return;
		}
		nng_mtx_unlock(a->mtx);
		rv = nng_recvmsg(a->sock, &msg, 0);
		if (rv == NNG_ETIMEDOUT) {
			continue;
		}
		if (rv != 0) {
			return; /* closed */
		}
		req = secstat__v1__request__unpack(NULL, nng_msg_len(msg),
		                                   nng_msg_body(msg));
		nng_mtx_lock(a->mtx);
		a->requests++;
		b = a->behaviour;
		status = a->status;
		if (req != NULL) {
			a->last_deadline = req->deadline_ms;
			snprintf(a->last_method, sizeof(a->last_method), "%s",
			         req->method != NULL ? req->method : "");
		}
		nng_mtx_unlock(a->mtx);
		if (req == NULL || b == FAKE_SILENT) {
			nng_msg_free(msg);
			secstat__v1__request__free_unpacked(req, NULL);
			continue;
		}
		if (b == FAKE_CLOSE) {
			nng_msg_free(msg);
			secstat__v1__request__free_unpacked(req, NULL);
			nng_mtx_lock(a->mtx);
			a->closed = true;
			nng_mtx_unlock(a->mtx);
			nng_close(a->sock);
			return;
		}
		len = answer(req, b, status, &buf);
		secstat__v1__request__free_unpacked(req, NULL);
		nng_msg_clear(msg);
		nng_msg_append(msg, buf, len);
		free(buf);
		if (nng_sendmsg(a->sock, msg, 0) != 0) {
			nng_msg_free(msg);
		}
	}
}

struct fake_agent *
fake_agent_start(const char *url, enum fake_behaviour b)
{
	struct fake_agent *a = calloc(1, sizeof(*a));

	if (a == NULL || nng_mtx_alloc(&a->mtx) != 0) {
		free(a);
		return NULL;
	}
	a->behaviour = b;
	if (nng_rep0_open(&a->sock) != 0 ||
	    nng_socket_set_ms(a->sock, NNG_OPT_RECVTIMEO, 50) != 0 ||
	    nng_listen(a->sock, url, NULL, 0) != 0 ||
	    nng_thread_create(&a->thr, serve, a) != 0) {
		nng_close(a->sock);
		nng_mtx_free(a->mtx);
		free(a);
		return NULL;
	}
	return a;
}

void
fake_agent_set(struct fake_agent *a, enum fake_behaviour b, uint32_t status)
{
	nng_mtx_lock(a->mtx);
	a->behaviour = b;
	a->status = status;
	nng_mtx_unlock(a->mtx);
}

unsigned
fake_agent_requests(struct fake_agent *a)
{
	unsigned n;

	nng_mtx_lock(a->mtx);
	n = a->requests;
	nng_mtx_unlock(a->mtx);
	return n;
}

uint32_t
fake_agent_last_deadline(struct fake_agent *a)
{
	uint32_t d;

	nng_mtx_lock(a->mtx);
	d = a->last_deadline;
	nng_mtx_unlock(a->mtx);
	return d;
}

const char *
fake_agent_last_method(struct fake_agent *a)
{
	return a->last_method;
}

bool
fake_agent_closed(struct fake_agent *a)
{
	bool c;

	nng_mtx_lock(a->mtx);
	c = a->closed;
	nng_mtx_unlock(a->mtx);
	return c;
}

void
fake_agent_stop(struct fake_agent *a)
{
	if (a == NULL) {
		return;
	}
	nng_mtx_lock(a->mtx);
	a->stop = true;
	nng_mtx_unlock(a->mtx);
	nng_thread_destroy(a->thr);
	nng_close(a->sock);
	nng_mtx_free(a->mtx);
	free(a);
}
