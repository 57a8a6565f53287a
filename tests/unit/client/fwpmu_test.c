/*
 * <secstat/fwpmu.h>: Windows layouts, the projection of secstat messages
 * onto them (absent -> 0, narrowing, version 0), the engine and
 * transaction rules against a fake agent, and a Windows-style program.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include <cmocka.h>

#include <secstat/fwpmu.h>
#include <secstat/secstat.h>

#include "fake_agent.h"
#include "fwpmu_convert.h"
#include "testlib.h"

static const char *windows_program; /* argv[1] */

static void
test_layouts(void **state)
{
	(void)state;
	assert_int_equal(sizeof(IPSEC_AGGREGATE_SA_STATISTICS0), 28);
	assert_int_equal(sizeof(IPSEC_ESP_DROP_PACKET_STATISTICS0), 20);
	assert_int_equal(sizeof(IPSEC_AH_DROP_PACKET_STATISTICS0), 16);
	assert_int_equal(sizeof(IPSEC_AGGREGATE_DROP_PACKET_STATISTICS0), 36);
	assert_int_equal(sizeof(IPSEC_AGGREGATE_DROP_PACKET_STATISTICS1), 40);
	assert_int_equal(sizeof(IPSEC_TRAFFIC_STATISTICS0), 48);
	assert_int_equal(sizeof(IPSEC_TRAFFIC_STATISTICS1), 56);
	assert_int_equal(sizeof(IPSEC_STATISTICS1), 216);
	assert_int_equal(offsetof(IPSEC_STATISTICS1, espDropPacketStatistics),
	                 28);
	assert_int_equal(offsetof(IPSEC_STATISTICS1, ahDropPacketStatistics),
	                 48);
	assert_int_equal(
	    offsetof(IPSEC_STATISTICS1, aggregateDropPacketStatistics), 64);
	assert_int_equal(offsetof(IPSEC_STATISTICS1, inboundTrafficStatistics),
	                 104);
	assert_int_equal(offsetof(IPSEC_STATISTICS1, outboundTrafficStatistics),
	                 160);
	assert_int_equal(sizeof(IPSEC_STATISTICS0), 200);
	assert_int_equal(
	    offsetof(IPSEC_STATISTICS0, aggregateDropPacketStatistics), 64);
	assert_int_equal(offsetof(IPSEC_STATISTICS0, inboundTrafficStatistics),
	                 104);
	assert_int_equal(offsetof(IPSEC_STATISTICS0, outboundTrafficStatistics),
	                 152);
	assert_int_equal(
	    sizeof(IKEEXT_IP_VERSION_SPECIFIC_KEYMODULE_STATISTICS1), 72);
	assert_int_equal(sizeof(IKEEXT_KEYMODULE_STATISTICS1), 544);
	assert_int_equal(offsetof(IKEEXT_KEYMODULE_STATISTICS1, v6Statistics),
	                 72);
	assert_int_equal(
	    offsetof(IKEEXT_KEYMODULE_STATISTICS1, errorFrequencyTable), 144);
	assert_int_equal(
	    offsetof(IKEEXT_KEYMODULE_STATISTICS1, mainModeNegotiationTime),
	    532);
	assert_int_equal(
	    offsetof(IKEEXT_KEYMODULE_STATISTICS1, quickModeNegotiationTime),
	    536);
	assert_int_equal(
	    offsetof(IKEEXT_KEYMODULE_STATISTICS1, extendedModeNegotiationTime),
	    540);
	assert_int_equal(sizeof(IKEEXT_COMMON_STATISTICS1), 28);
	assert_int_equal(
	    offsetof(IKEEXT_COMMON_STATISTICS1, totalPacketsReceived), 16);
	assert_int_equal(
	    offsetof(IKEEXT_COMMON_STATISTICS1, currentQueuedWorkitems), 24);
	assert_int_equal(sizeof(IKEEXT_STATISTICS1), 1660);
	assert_int_equal(offsetof(IKEEXT_STATISTICS1, authipStatistics), 544);
	assert_int_equal(offsetof(IKEEXT_STATISTICS1, ikeV2Statistics), 1088);
	assert_int_equal(offsetof(IKEEXT_STATISTICS1, commonStatistics), 1632);
	assert_int_equal(sizeof(IKEEXT_STATISTICS0), 1116);
	assert_int_equal(sizeof(IKEEXT_KEYMODULE_STATISTICS0), 544);
	assert_int_equal(IKEEXT_ERROR_CODE_COUNT, 97);
	assert_int_equal(
	    sizeof(((IKEEXT_KEYMODULE_STATISTICS1 *)0)->errorFrequencyTable) /
	        sizeof(UINT32),
	    97);
}

/* A message with values beyond 32 bits, version-1-only fields, and
 * absent fields. */
struct ipsec_msg {
	Secstat__V1__IpsecStatistics s;
	Secstat__V1__IpsecAggregateSaStatistics sa;
	Secstat__V1__IpsecAggregateDropPacketStatistics drop;
	Secstat__V1__IpsecTrafficStatistics in;
};

static void
ipsec_msg_init(struct ipsec_msg *m)
{
	Secstat__V1__IpsecStatistics s = SECSTAT__V1__IPSEC_STATISTICS__INIT;
	Secstat__V1__IpsecAggregateSaStatistics sa =
	    SECSTAT__V1__IPSEC_AGGREGATE_SA_STATISTICS__INIT;
	Secstat__V1__IpsecAggregateDropPacketStatistics drop =
	    SECSTAT__V1__IPSEC_AGGREGATE_DROP_PACKET_STATISTICS__INIT;
	Secstat__V1__IpsecTrafficStatistics in =
	    SECSTAT__V1__IPSEC_TRAFFIC_STATISTICS__INIT;

	m->s = s;
	m->sa = sa;
	m->drop = drop;
	m->in = in;
	m->sa.has_active_sas = 1;
	m->sa.active_sas = (1ull << 32) + 7;
	m->sa.has_total_sas_added = 1;
	m->sa.total_sas_added = 0xFFFFFFFFull;
	m->drop.has_secure_receives_not_matching_filters = 1;
	m->drop.secure_receives_not_matching_filters = 9;
	m->drop.has_total_drop_packets_inbound = 1;
	m->drop.total_drop_packets_inbound = (5ull << 32) + 1;
	m->in.has_offload_byte_count = 1;
	m->in.offload_byte_count = 1ull << 40;
	m->in.has_total_successful_packets = 1;
	m->in.total_successful_packets = (1ull << 33) + 2;
	m->s.aggregate_sa_statistics = &m->sa;
	m->s.aggregate_drop_packet_statistics = &m->drop;
	m->s.inbound_traffic_statistics = &m->in;
}

static void
test_convert_ipsec(void **state)
{
	struct ipsec_msg m;
	IPSEC_STATISTICS1 v1;
	IPSEC_STATISTICS0 v0;

	(void)state;
	ipsec_msg_init(&m);
	memset(&v1, 0xAA, sizeof(v1));
	fwpmu_convert_ipsec1(&v1, &m.s);
	/* UINT32: modulo 2^32. */
	assert_int_equal(v1.aggregateSaStatistics.activeSas, 7);
	assert_int_equal(v1.aggregateSaStatistics.totalSasAdded, 0xFFFFFFFFu);
	assert_int_equal(
	    v1.aggregateDropPacketStatistics.totalDropPacketsInbound, 1);
	assert_int_equal(
	    v1.aggregateDropPacketStatistics.secureReceivesNotMatchingFilters,
	    9);
	/* UINT64: whole. */
	assert_true(v1.inboundTrafficStatistics.offloadByteCount == 1ull << 40);
	assert_true(v1.inboundTrafficStatistics.totalSuccessfulPackets ==
	            (1ull << 33) + 2);
	/* Absent: 0, whole blocks included. */
	assert_int_equal(v1.aggregateSaStatistics.pendingSaNegotiations, 0);
	assert_int_equal(v1.espDropPacketStatistics.invalidSpisOnInbound, 0);
	assert_int_equal(v1.ahDropPacketStatistics.saNotInitializedOnInbound,
	                 0);
	assert_true(v1.outboundTrafficStatistics.tunnelByteCount == 0);

	/* Version 0: the shared members, nothing else. */
	memset(&v0, 0xAA, sizeof(v0));
	fwpmu_convert_ipsec0(&v0, &m.s);
	assert_int_equal(v0.aggregateSaStatistics.activeSas, 7);
	assert_int_equal(
	    v0.aggregateDropPacketStatistics.secureReceivesNotMatchingFilters,
	    9);
	assert_true(v0.inboundTrafficStatistics.offloadByteCount == 1ull << 40);
	assert_true(v0.outboundTrafficStatistics.offloadByteCount == 0);

	/* No statistics at all. */
	memset(&v1, 0xAA, sizeof(v1));
	fwpmu_convert_ipsec1(&v1, NULL);
	for (size_t i = 0; i < sizeof(v1); i++) {
		assert_int_equal(((unsigned char *)&v1)[i], 0);
	}
}

static void
test_convert_ikeext(void **state)
{
	Secstat__V1__IkeextStatistics s = SECSTAT__V1__IKEEXT_STATISTICS__INIT;
	Secstat__V1__IkeextKeymoduleStatistics ike =
	    SECSTAT__V1__IKEEXT_KEYMODULE_STATISTICS__INIT;
	Secstat__V1__IkeextKeymoduleStatistics authip =
	    SECSTAT__V1__IKEEXT_KEYMODULE_STATISTICS__INIT;
	Secstat__V1__IkeextKeymoduleStatistics v2 =
	    SECSTAT__V1__IKEEXT_KEYMODULE_STATISTICS__INIT;
	Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics v6 =
	    SECSTAT__V1__IKEEXT_IP_VERSION_SPECIFIC_KEYMODULE_STATISTICS__INIT;
	Secstat__V1__IkeextCommonStatistics common =
	    SECSTAT__V1__IKEEXT_COMMON_STATISTICS__INIT;
	Secstat__V1__IkeextIpVersionSpecificCommonStatistics c4 =
	    SECSTAT__V1__IKEEXT_IP_VERSION_SPECIFIC_COMMON_STATISTICS__INIT;
	uint64_t table[100];
	IKEEXT_STATISTICS1 o1;
	IKEEXT_STATISTICS0 o0;

	(void)state;
	for (size_t i = 0; i < 100; i++) {
		table[i] = 1000 + i;
	}
	table[3] = (1ull << 32) + 3;
	v6.has_total_impersonation_main_modes = 1;
	v6.total_impersonation_main_modes = 18;
	ike.v6_statistics = &v6;
	ike.n_error_frequency_table = 100; /* 3 too many */
	ike.error_frequency_table = table;
	ike.has_quick_mode_negotiation_time = 1;
	ike.quick_mode_negotiation_time = 250;
	/* A base one above BEGIN: entry i goes to slot i + 1. */
	authip.n_error_frequency_table = 2;
	authip.error_frequency_table = table;
	authip.has_error_code_base = 1;
	authip.error_code_base = 13801;
	v2.has_extended_mode_negotiation_time = 1;
	v2.extended_mode_negotiation_time = 77;
	c4.has_total_socket_send_failures = 1;
	c4.total_socket_send_failures = 4;
	common.v4_statistics = &c4;
	common.has_current_queued_workitems = 1;
	common.current_queued_workitems = 12;
	s.ike_statistics = &ike;
	s.authip_statistics = &authip;
	s.ike_v2_statistics = &v2;
	s.common_statistics = &common;

	memset(&o1, 0xAA, sizeof(o1));
	fwpmu_convert_ikeext1(&o1, &s);
	assert_int_equal(
	    o1.ikeStatistics.v6Statistics.totalImpersonationMainModes, 18);
	assert_int_equal(o1.ikeStatistics.v4Statistics.totalAcquires, 0);
	assert_int_equal(o1.ikeStatistics.errorFrequencyTable[0], 1000);
	assert_int_equal(o1.ikeStatistics.errorFrequencyTable[3], 3);
	assert_int_equal(o1.ikeStatistics.errorFrequencyTable[96], 1096);
	assert_int_equal(o1.ikeStatistics.quickModeNegotiationTime, 250);
	assert_int_equal(o1.ikeStatistics.mainModeNegotiationTime, 0);
	assert_int_equal(o1.authipStatistics.errorFrequencyTable[0], 0);
	assert_int_equal(o1.authipStatistics.errorFrequencyTable[1], 1000);
	assert_int_equal(o1.authipStatistics.errorFrequencyTable[2], 1001);
	assert_int_equal(o1.authipStatistics.errorFrequencyTable[3], 0);
	assert_int_equal(o1.ikeV2Statistics.extendedModeNegotiationTime, 77);
	assert_int_equal(
	    o1.commonStatistics.v4Statistics.totalSocketSendFailures, 4);
	assert_int_equal(
	    o1.commonStatistics.v6Statistics.totalSocketSendFailures, 0);
	assert_int_equal(o1.commonStatistics.currentQueuedWorkitems, 12);
	assert_int_equal(o1.commonStatistics.totalPacketsReceived, 0);

	/* Version 0: no IKEv2 block; the common block right after AuthIP. */
	memset(&o0, 0xAA, sizeof(o0));
	fwpmu_convert_ikeext0(&o0, &s);
	assert_int_equal(o0.ikeStatistics.errorFrequencyTable[96], 1096);
	assert_int_equal(o0.authipStatistics.errorFrequencyTable[2], 1001);
	assert_int_equal(o0.commonStatistics.currentQueuedWorkitems, 12);
	assert_int_equal(
	    o0.commonStatistics.v4Statistics.totalSocketSendFailures, 4);
}

/* ---- against a fake agent ---- */

struct fixture {
	char url[256];
	wchar_t wurl[256];
	struct fake_agent *agent;
	HANDLE engine;
};

static int
setup(void **state)
{
	static unsigned n;
	struct fixture *f = calloc(1, sizeof(*f));
	char name[32];

	snprintf(name, sizeof(name), "fwpmu%u", n++);
	snprintf(f->url, sizeof(f->url), "%s", test_ipc_url(name));
	swprintf(f->wurl, 256, L"%s", f->url);
	f->agent = fake_agent_start(f->url, FAKE_ECHO);
	assert_non_null(f->agent);
	assert_int_equal(FwpmEngineOpen0(f->wurl, RPC_C_AUTHN_DEFAULT, NULL,
	                                 NULL, &f->engine),
	                 ERROR_SUCCESS);
	assert_non_null(f->engine);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	FwpmEngineClose0(f->engine);
	fake_agent_stop(f->agent);
	free(f);
	return 0;
}

static void
test_statistics_calls(void **state)
{
	struct fixture *f = *state;
	IPSEC_STATISTICS1 i1;
	IPSEC_STATISTICS0 i0;
	IKEEXT_STATISTICS1 k1;
	IKEEXT_STATISTICS0 k0;

	assert_int_equal(IPsecGetStatistics1(f->engine, &i1), ERROR_SUCCESS);
	assert_int_equal(i1.aggregateSaStatistics.activeSas,
	                 (UINT32)FAKE_ACTIVE_SAS);
	assert_int_equal(
	    i1.aggregateDropPacketStatistics.totalDropPacketsInbound,
	    FAKE_TOTAL_DROPS);
	assert_true(i1.inboundTrafficStatistics.encryptedByteCount ==
	            FAKE_INBOUND_BYTES);
	assert_string_equal(fake_agent_last_method(f->agent),
	                    SECSTAT_METHOD_IPSEC_GET_STATISTICS1);

	assert_int_equal(IPsecGetStatistics0(f->engine, &i0), ERROR_SUCCESS);
	assert_int_equal(i0.aggregateSaStatistics.activeSas,
	                 (UINT32)FAKE_ACTIVE_SAS);
	assert_int_equal(i0.aggregateDropPacketStatistics.invalidSpisOnInbound,
	                 3);
	assert_string_equal(fake_agent_last_method(f->agent),
	                    SECSTAT_METHOD_IPSEC_GET_STATISTICS0);

	assert_int_equal(IkeextGetStatistics1(f->engine, &k1), ERROR_SUCCESS);
	assert_int_equal(k1.ikeStatistics.v4Statistics.totalMainModesStarted,
	                 FAKE_V4_MAIN_MODES);
	assert_int_equal(k1.ikeV2Statistics.v4Statistics.totalMainModesStarted,
	                 FAKE_V2_MAIN_MODES);
	assert_int_equal(k1.ikeStatistics.errorFrequencyTable[FAKE_ERROR_SLOT],
	                 FAKE_ERROR_COUNT);

	assert_int_equal(IkeextGetStatistics0(f->engine, &k0), ERROR_SUCCESS);
	assert_int_equal(k0.ikeStatistics.v4Statistics.totalMainModesStarted,
	                 FAKE_V4_MAIN_MODES);
	assert_string_equal(fake_agent_last_method(f->agent),
	                    SECSTAT_METHOD_IKEEXT_GET_STATISTICS0);
}

static void
test_agent_statuses(void **state)
{
	struct fixture *f = *state;
	IPSEC_STATISTICS1 s;

	/* A failure leaves the caller's structure alone. */
	fake_agent_set(f->agent, FAKE_STATUS, FWP_E_PROVIDER_NOT_FOUND);
	memset(&s, 0x5A, sizeof(s));
	assert_int_equal(IPsecGetStatistics1(f->engine, &s),
	                 FWP_E_PROVIDER_NOT_FOUND);
	assert_int_equal(s.aggregateSaStatistics.activeSas, 0x5A5A5A5Au);
	/* FWP_E_TIMEOUT with the stale snapshot: filled. */
	fake_agent_set(f->agent, FAKE_STALE, 0);
	assert_int_equal(IPsecGetStatistics1(f->engine, &s), FWP_E_TIMEOUT);
	assert_int_equal(s.aggregateSaStatistics.activeSas,
	                 (UINT32)FAKE_ACTIVE_SAS);
	assert_int_equal(s.aggregateSaStatistics.activeTunnels, 0);
	/* Communication failures. */
	fake_agent_set(f->agent, FAKE_GARBAGE, 0);
	assert_int_equal(IPsecGetStatistics1(f->engine, &s),
	                 RPC_E_CLIENT_CANTUNMARSHAL_DATA);
	fake_agent_set(f->agent, FAKE_WRONG_ID, 0);
	assert_int_equal(IPsecGetStatistics1(f->engine, &s),
	                 RPC_E_INVALID_DATA);
}

static void
test_transactions(void **state)
{
	struct fixture *f = *state;
	IPSEC_STATISTICS1 i1;
	IPSEC_STATISTICS0 i0;
	IKEEXT_STATISTICS1 k1;
	IKEEXT_STATISTICS0 k0;
	unsigned before;

	assert_int_equal(FwpmTransactionCommit0(f->engine),
	                 FWP_E_NO_TXN_IN_PROGRESS);
	assert_int_equal(FwpmTransactionAbort0(f->engine),
	                 FWP_E_NO_TXN_IN_PROGRESS);
	assert_int_equal(FwpmTransactionBegin0(f->engine, 0x4),
	                 FWP_E_INVALID_FLAGS);
	assert_int_equal(FwpmTransactionBegin0(f->engine, FWPM_TXN_READ_ONLY),
	                 ERROR_SUCCESS);
	assert_int_equal(FwpmTransactionBegin0(f->engine, 0),
	                 FWP_E_TXN_IN_PROGRESS);
	/* IPsec statistics are refused without asking the agent. */
	before = fake_agent_requests(f->agent);
	assert_int_equal(IPsecGetStatistics1(f->engine, &i1),
	                 FWP_E_TXN_IN_PROGRESS);
	assert_int_equal(IPsecGetStatistics0(f->engine, &i0),
	                 FWP_E_TXN_IN_PROGRESS);
	assert_int_equal(fake_agent_requests(f->agent), before);
	/* IKE statistics are allowed. */
	assert_int_equal(IkeextGetStatistics1(f->engine, &k1), ERROR_SUCCESS);
	assert_int_equal(IkeextGetStatistics0(f->engine, &k0), ERROR_SUCCESS);
	assert_int_equal(FwpmTransactionCommit0(f->engine), ERROR_SUCCESS);
	assert_int_equal(FwpmTransactionCommit0(f->engine),
	                 FWP_E_NO_TXN_IN_PROGRESS);
	assert_int_equal(IPsecGetStatistics1(f->engine, &i1), ERROR_SUCCESS);
	/* Read/write transaction, aborted. */
	assert_int_equal(FwpmTransactionBegin0(f->engine, 0), ERROR_SUCCESS);
	assert_int_equal(FwpmTransactionAbort0(f->engine), ERROR_SUCCESS);
	assert_int_equal(IPsecGetStatistics1(f->engine, &i1), ERROR_SUCCESS);
	/* The transaction is per session. */
	{
		HANDLE other;
		assert_int_equal(FwpmEngineOpen0(f->wurl, RPC_C_AUTHN_WINNT,
		                                 NULL, NULL, &other),
		                 ERROR_SUCCESS);
		assert_int_equal(FwpmTransactionBegin0(other, 0),
		                 ERROR_SUCCESS);
		assert_int_equal(IPsecGetStatistics1(f->engine, &i1),
		                 ERROR_SUCCESS);
		/* Closing a session with an open transaction is fine. */
		assert_int_equal(FwpmEngineClose0(other), ERROR_SUCCESS);
	}
}

static void
test_handles_and_pointers(void **state)
{
	struct fixture *f = *state;
	IPSEC_STATISTICS1 i1;
	IKEEXT_STATISTICS1 k1;
	HANDLE h;
	int not_a_handle;

	assert_int_equal(IPsecGetStatistics1(f->engine, NULL),
	                 FWP_E_NULL_POINTER);
	assert_int_equal(IPsecGetStatistics0(f->engine, NULL),
	                 FWP_E_NULL_POINTER);
	assert_int_equal(IkeextGetStatistics1(f->engine, NULL),
	                 FWP_E_NULL_POINTER);
	assert_int_equal(IkeextGetStatistics0(f->engine, NULL),
	                 FWP_E_NULL_POINTER);
	assert_int_equal(IPsecGetStatistics1(NULL, &i1), ERROR_INVALID_HANDLE);
	assert_int_equal(IkeextGetStatistics1(&not_a_handle, &k1),
	                 ERROR_INVALID_HANDLE);
	assert_int_equal(FwpmTransactionBegin0(&not_a_handle, 0),
	                 ERROR_INVALID_HANDLE);
	assert_int_equal(FwpmTransactionCommit0(NULL), ERROR_INVALID_HANDLE);
	assert_int_equal(FwpmTransactionAbort0(NULL), ERROR_INVALID_HANDLE);
	assert_int_equal(FwpmEngineClose0(&not_a_handle), ERROR_INVALID_HANDLE);

	/* A closed handle is invalid from then on. */
	assert_int_equal(
	    FwpmEngineOpen0(f->wurl, RPC_C_AUTHN_WINNT, NULL, NULL, &h),
	    ERROR_SUCCESS);
	assert_int_equal(FwpmEngineClose0(h), ERROR_SUCCESS);
	assert_int_equal(FwpmEngineClose0(h), ERROR_INVALID_HANDLE);
	assert_int_equal(IPsecGetStatistics1(h, &i1), ERROR_INVALID_HANDLE);
}

static void
test_open_arguments(void **state)
{
	struct fixture *f = *state;
	HANDLE h = (HANDLE)1;
	SEC_WINNT_AUTH_IDENTITY_W id;
	FWPM_SESSION0 session;
	HANDLE h2;
	static const wchar_t bad[] = {L't', L'c', L'p', 0xD800, 0};

	memset(&id, 0, sizeof(id));
	memset(&session, 0, sizeof(session));
	assert_int_equal(
	    FwpmEngineOpen0(f->wurl, RPC_C_AUTHN_WINNT, NULL, NULL, NULL),
	    FWP_E_NULL_POINTER);
	assert_int_equal(FwpmEngineOpen0(f->wurl, 9, NULL, NULL, &h),
	                 FWP_E_INVALID_PARAMETER);
	assert_null(h);
	assert_int_equal(
	    FwpmEngineOpen0(f->wurl, RPC_C_AUTHN_WINNT, &id, NULL, &h),
	    RPC_E_NO_GOOD_SECURITY_PACKAGES);
	assert_int_equal(
	    FwpmEngineOpen0(bad, RPC_C_AUTHN_WINNT, NULL, NULL, &h),
	    FWP_E_INVALID_PARAMETER);
	assert_int_equal(FwpmEngineOpen0(L"ipc:///nonexistent/secstat.sock",
	                                 RPC_C_AUTHN_WINNT, NULL, NULL, &h),
	                 RPC_E_SERVER_DIED_DNE);
	assert_int_equal(
	    FwpmEngineOpen0(L"bogus://x", RPC_C_AUTHN_WINNT, NULL, NULL, &h),
	    RPC_E_INVALID_PARAMETER);

	/* Session keys are unique among open sessions. */
	session.sessionKey.Data1 = 0x1234;
	assert_int_equal(
	    FwpmEngineOpen0(f->wurl, RPC_C_AUTHN_WINNT, NULL, &session, &h),
	    ERROR_SUCCESS);
	assert_int_equal(
	    FwpmEngineOpen0(f->wurl, RPC_C_AUTHN_WINNT, NULL, &session, &h2),
	    FWP_E_ALREADY_EXISTS);
	assert_int_equal(FwpmEngineClose0(h), ERROR_SUCCESS);
	assert_int_equal(
	    FwpmEngineOpen0(f->wurl, RPC_C_AUTHN_WINNT, NULL, &session, &h2),
	    ERROR_SUCCESS);
	assert_int_equal(FwpmEngineClose0(h2), ERROR_SUCCESS);

	/* NULL or empty server name: $SECSTAT_SERVER. */
	setenv(SECSTAT_ENV_SERVER, f->url, 1);
	assert_int_equal(
	    FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, NULL, &h),
	    ERROR_SUCCESS);
	assert_int_equal(FwpmEngineClose0(h), ERROR_SUCCESS);
	assert_int_equal(
	    FwpmEngineOpen0(L"", RPC_C_AUTHN_WINNT, NULL, NULL, &h),
	    ERROR_SUCCESS);
	assert_int_equal(FwpmEngineClose0(h), ERROR_SUCCESS);
	unsetenv(SECSTAT_ENV_SERVER);
}

static void
test_windows_program(void **state)
{
	struct fixture *f = *state;
	char cmd[4096];
	char out[4096];
	size_t len;
	FILE *p;

	assert_non_null(windows_program);
	snprintf(cmd, sizeof(cmd), "SECSTAT_SERVER='%s' '%s'", f->url,
	         windows_program);
	p = popen(cmd, "r");
	assert_non_null(p);
	len = fread(out, 1, sizeof(out) - 1, p);
	out[len] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(out, "Active SAs: 7\n"));
	assert_non_null(strstr(out, "Inbound drops: 41\n"));
	assert_non_null(
	    strstr(out, "Inbound encrypted bytes: 1250999896491\n"));
	assert_non_null(strstr(out, "IKEv2 IPv4 main modes: 17\n"));
	assert_non_null(strstr(out, "IKE error 13805: 99\n"));

	/* And its failure path: no agent. */
	snprintf(cmd, sizeof(cmd),
	         "SECSTAT_SERVER=ipc:///nonexistent/x.sock '%s'",
	         windows_program);
	p = popen(cmd, "r");
	assert_non_null(p);
	len = fread(out, 1, sizeof(out) - 1, p);
	out[len] = '\0';
	assert_int_not_equal(pclose(p), 0);
	assert_non_null(strstr(out, "FwpmEngineOpen0 failed: 0x80010012"));
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layouts),
	    cmocka_unit_test(test_convert_ipsec),
	    cmocka_unit_test(test_convert_ikeext),
	    cmocka_unit_test_setup_teardown(test_statistics_calls, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_agent_statuses, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_handles_and_pointers, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_open_arguments, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_windows_program, setup,
	                                    teardown),
	};

	windows_program = argc > 1 ? argv[1] : NULL;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
