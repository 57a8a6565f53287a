/*
 * The CLI's output formats (table, JSON, TSV) over replies built here,
 * compared with golden files in tests/fixtures/client/. Run with
 * SECSTAT_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate
 * change, then review the diff.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "output.h"
#include "query.h"
#include "testlib.h"

#define NOW_MS 1795300000000ull

/* ---- fixtures ---- */

static Secstat__V1__HostInfo host_alpha = SECSTAT__V1__HOST_INFO__INIT;
static Secstat__V1__HostInfo host_gamma = SECSTAT__V1__HOST_INFO__INIT;
static Secstat__V1__ProviderStatus prov_sim =
    SECSTAT__V1__PROVIDER_STATUS__INIT;
static Secstat__V1__ProviderStatus prov_procfs =
    SECSTAT__V1__PROVIDER_STATUS__INIT;
static Secstat__V1__ProviderStatus *alpha_providers[] = {&prov_sim,
                                                         &prov_procfs};
static Secstat__V1__ProviderStatus *gamma_providers[] = {&prov_procfs};

static Secstat__V1__IpsecAggregateSaStatistics sa =
    SECSTAT__V1__IPSEC_AGGREGATE_SA_STATISTICS__INIT;
static Secstat__V1__IpsecEspDropPacketStatistics esp =
    SECSTAT__V1__IPSEC_ESP_DROP_PACKET_STATISTICS__INIT;
static Secstat__V1__IpsecTrafficStatistics inbound =
    SECSTAT__V1__IPSEC_TRAFFIC_STATISTICS__INIT;
static Secstat__V1__IpsecStatistics ipsec_stats =
    SECSTAT__V1__IPSEC_STATISTICS__INIT;
static Secstat__V1__XfrmMibCounter mib0 = SECSTAT__V1__XFRM_MIB_COUNTER__INIT;
static Secstat__V1__XfrmMibCounter mib1 = SECSTAT__V1__XFRM_MIB_COUNTER__INIT;
static Secstat__V1__XfrmMibCounter *mibs[] = {&mib0, &mib1};
static Secstat__V1__IpsecGetStatisticsResponse ipsec_resp =
    SECSTAT__V1__IPSEC_GET_STATISTICS_RESPONSE__INIT;

static Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics ike_v4 =
    SECSTAT__V1__IKEEXT_IP_VERSION_SPECIFIC_KEYMODULE_STATISTICS__INIT;
static Secstat__V1__IkeextKeymoduleStatistics ike =
    SECSTAT__V1__IKEEXT_KEYMODULE_STATISTICS__INIT;
static Secstat__V1__IkeextCommonStatistics common =
    SECSTAT__V1__IKEEXT_COMMON_STATISTICS__INIT;
static Secstat__V1__IkeextStatistics ike_stats =
    SECSTAT__V1__IKEEXT_STATISTICS__INIT;
static Secstat__V1__IkeextGetStatisticsResponse ike_resp =
    SECSTAT__V1__IKEEXT_GET_STATISTICS_RESPONSE__INIT;
static uint64_t error_table[97];

static Secstat__V1__MsiscsiMmIpsecStats mm =
    SECSTAT__V1__MSISCSI_MM_IPSEC_STATS__INIT;
static Secstat__V1__MsiscsiConnectionStatistics conn =
    SECSTAT__V1__MSISCSI_CONNECTION_STATISTICS__INIT;
static Secstat__V1__MsiscsiConnectionStatistics *conns[] = {&conn};
static Secstat__V1__MsiscsiSessionStatistics sess =
    SECSTAT__V1__MSISCSI_SESSION_STATISTICS__INIT;
static Secstat__V1__MsiscsiSessionStatistics *sessions[] = {&sess};
static Secstat__V1__IscsiHba hba = SECSTAT__V1__ISCSI_HBA__INIT;
static Secstat__V1__IscsiHba *hbas[] = {&hba};
static Secstat__V1__IscsiGetStatisticsResponse iscsi_resp =
    SECSTAT__V1__ISCSI_GET_STATISTICS_RESPONSE__INIT;

static Secstat__V1__HostInfoResponse info_resp =
    SECSTAT__V1__HOST_INFO_RESPONSE__INIT;

static Secstat__V1__Reply alpha = SECSTAT__V1__REPLY__INIT;
static Secstat__V1__Reply gamma_reply = SECSTAT__V1__REPLY__INIT;

/* A per-SA listing: one IKE SA with a CHILD_SA, a kernel SA without IKE
 * SA, a connection up and one down. */
static Secstat__V1__IpsecSaDetail child = SECSTAT__V1__IPSEC_SA_DETAIL__INIT;
static Secstat__V1__IpsecSaDetail *children[] = {&child};
static Secstat__V1__IkeSaDetail ike_sa = SECSTAT__V1__IKE_SA_DETAIL__INIT;
static Secstat__V1__IkeSaDetail *ike_sas[] = {&ike_sa};
static Secstat__V1__IpsecSaDetail kernel_sa =
    SECSTAT__V1__IPSEC_SA_DETAIL__INIT;
static Secstat__V1__IpsecSaDetail *kernel_sas[] = {&kernel_sa};
static Secstat__V1__ConnectionDetail conn_up =
    SECSTAT__V1__CONNECTION_DETAIL__INIT;
static Secstat__V1__ConnectionDetail conn_down =
    SECSTAT__V1__CONNECTION_DETAIL__INIT;
static Secstat__V1__ConnectionDetail *connections[] = {&conn_up, &conn_down};
static Secstat__V1__ListSecurityAssociationsResponse sa_resp =
    SECSTAT__V1__LIST_SECURITY_ASSOCIATIONS_RESPONSE__INIT;
static Secstat__V1__TunnelDetail tun_named = SECSTAT__V1__TUNNEL_DETAIL__INIT;
static Secstat__V1__TunnelDetail tun_lone = SECSTAT__V1__TUNNEL_DETAIL__INIT;
static Secstat__V1__TunnelDetail *tunnels[] = {&tun_named, &tun_lone};
static char *child_local[] = {"198.51.100.1/32"};
static char *child_remote[] = {"203.0.113.1/32"};

static void
build_sa_listing(void)
{
	child.source = "vici";
	child.name = "net";
	child.has_unique_id = 1;
	child.unique_id = 1;
	child.has_reqid = 1;
	child.reqid = 1;
	child.state = "INSTALLED";
	child.mode = "tunnel";
	child.has_encap = 1;
	child.encap = 1;
	child.protocol = "esp";
	child.encryption_algorithm = "AES_CBC-128";
	child.integrity_algorithm = "HMAC_SHA2_256_128";
	child.has_spi_in = 1;
	child.spi_in = 0xc8b2ac5cu;
	child.has_spi_out = 1;
	child.spi_out = 0xf6b54c36u;
	child.has_bytes_in = 1;
	child.bytes_in = 2320;
	child.has_packets_in = 1;
	child.packets_in = 11;
	child.has_bytes_out = 1;
	child.bytes_out = 2340;
	child.has_packets_out = 1;
	child.packets_out = 11;
	child.n_local_ts = 1;
	child.local_ts = child_local;
	child.n_remote_ts = 1;
	child.remote_ts = child_remote;
	ike_sa.source = "vici";
	ike_sa.name = "lab";
	ike_sa.has_unique_id = 1;
	ike_sa.unique_id = 1;
	ike_sa.has_version = 1;
	ike_sa.version = 2;
	ike_sa.state = "ESTABLISHED";
	ike_sa.has_initiator = 1;
	ike_sa.initiator = 1;
	ike_sa.local_id = "ssa@lab";
	ike_sa.local_address = "192.0.2.1";
	ike_sa.has_local_port = 1;
	ike_sa.local_port = 4500;
	ike_sa.remote_id = "ssb@lab";
	ike_sa.remote_address = "192.0.2.2";
	ike_sa.has_remote_port = 1;
	ike_sa.remote_port = 4500;
	ike_sa.encryption_algorithm = "AES_CBC-256";
	ike_sa.integrity_algorithm = "HMAC_SHA2_256_128";
	ike_sa.prf_algorithm = "PRF_HMAC_SHA2_256";
	ike_sa.dh_group = "MODP_2048";
	ike_sa.has_established_s = 1;
	ike_sa.established_s = 2;
	ike_sa.has_rekey_in_s = 1;
	ike_sa.rekey_in_s = 14164;
	ike_sa.n_child_sas = 1;
	ike_sa.child_sas = children;
	kernel_sa.source = "xfrm";
	kernel_sa.netns = "tgt";
	kernel_sa.state = "VALID";
	kernel_sa.mode = "transport";
	kernel_sa.protocol = "esp";
	kernel_sa.local_address = "192.0.2.1";
	kernel_sa.remote_address = "192.0.2.9";
	kernel_sa.has_spi_out = 1;
	kernel_sa.spi_out = 0x2002;
	kernel_sa.has_bytes_out = 1;
	kernel_sa.bytes_out = 640;
	kernel_sa.has_replay_failures = 1;
	kernel_sa.replay_failures = 3;
	kernel_sa.has_integrity_failures = 1;
	kernel_sa.integrity_failures = 0;
	conn_up.source = "vici";
	conn_up.name = "lab";
	conn_up.has_established = 1;
	conn_up.established = 1;
	conn_up.has_active_child_sas = 1;
	conn_up.active_child_sas = 1;
	conn_down.source = "vici";
	conn_down.name = "bad";
	conn_down.has_established = 1;
	sa_resp.n_ike_sas = 1;
	sa_resp.ike_sas = ike_sas;
	sa_resp.n_ipsec_sas = 1;
	sa_resp.ipsec_sas = kernel_sas;
	sa_resp.n_connections = 2;
	sa_resp.connections = connections;
	/* The CHILD_SA's kernel tunnel, named by the daemon, after a rekey;
	 * and a lone inbound direction without events (only totals). */
	tun_named.source = "xfrm";
	tun_named.netns = "";
	tun_named.name = "net";
	tun_named.has_reqid = 1;
	tun_named.reqid = 1;
	tun_named.mode = "tunnel";
	tun_named.protocol = "esp";
	tun_named.local_address = "192.0.2.1";
	tun_named.remote_address = "192.0.2.2";
	tun_named.n_local_ts = 1;
	tun_named.local_ts = child_local;
	tun_named.n_remote_ts = 1;
	tun_named.remote_ts = child_remote;
	tun_named.has_encrypted = 1;
	tun_named.encrypted = 1;
	tun_named.has_bytes_in = 1;
	tun_named.bytes_in = 6960;
	tun_named.has_packets_in = 1;
	tun_named.packets_in = 33;
	tun_named.has_bytes_out = 1;
	tun_named.bytes_out = 7020;
	tun_named.has_packets_out = 1;
	tun_named.packets_out = 33;
	tun_named.has_sas_added = 1;
	tun_named.sas_added = 4;
	tun_named.has_sas_deleted = 1;
	tun_named.sas_deleted = 2;
	tun_named.has_rekeys = 1;
	tun_named.rekeys = 1;
	tun_named.has_replay_failures = 1;
	tun_named.has_integrity_failures = 1;
	tun_named.has_active_sas = 1;
	tun_named.active_sas = 2;
	tun_lone.source = "xfrm";
	tun_lone.netns = "tgt";
	tun_lone.has_reqid = 1;
	tun_lone.reqid = 7;
	tun_lone.mode = "transport";
	tun_lone.protocol = "ah";
	tun_lone.local_address = "192.0.2.1";
	tun_lone.remote_address = "192.0.2.9";
	tun_lone.has_bytes_in = 1;
	tun_lone.bytes_in = 4294967301ull;
	tun_lone.has_active_sas = 1;
	tun_lone.active_sas = 0;
	sa_resp.n_tunnels = 2;
	sa_resp.tunnels = tunnels;
}

static void
build_fixtures(void)
{
	build_sa_listing();
	host_alpha.hostname = "alpha";
	host_alpha.has_epoch = 1;
	host_alpha.epoch = 0x1122334455667788ull;
	host_alpha.agent_version = "0.1.0";
	host_alpha.has_schema_version = 1;
	host_alpha.schema_version = 1;
	host_gamma.hostname = "gamma";

	prov_sim.name = "sim";
	prov_sim.has_health = 1;
	prov_sim.health = SECSTAT__V1__HEALTH__HEALTH_OK;
	prov_sim.has_simulated = 1;
	prov_sim.simulated = 1;
	prov_procfs.name = "procfs";
	prov_procfs.has_health = 1;
	prov_procfs.health = SECSTAT__V1__HEALTH__HEALTH_ABSENT;
	prov_procfs.message = "no /proc/net/xfrm_stat";

	/* Present zero, absent fields, a value beyond 32 bits. */
	sa.has_active_sas = 1;
	sa.active_sas = 12;
	sa.has_pending_sa_negotiations = 1;
	sa.pending_sa_negotiations = 0;
	sa.has_total_sas_added = 1;
	sa.total_sas_added = 4294967301ull;
	esp.has_replay_check_failures_on_inbound = 1;
	esp.replay_check_failures_on_inbound = 3;
	inbound.has_encrypted_byte_count = 1;
	inbound.encrypted_byte_count = 123456789012ull;
	inbound.has_total_successful_packets = 1;
	inbound.total_successful_packets = 98765;
	ipsec_stats.aggregate_sa_statistics = &sa;
	ipsec_stats.esp_drop_packet_statistics = &esp;
	ipsec_stats.inbound_traffic_statistics = &inbound;
	mib0.name = "XfrmInNoStates";
	mib0.has_value = 1;
	mib0.value = 7;
	mib1.name = "XfrmInStateProtoError";
	mib1.has_value = 1;
	mib1.value = 0;
	ipsec_resp.statistics = &ipsec_stats;
	ipsec_resp.n_xfrm_mib = 2;
	ipsec_resp.xfrm_mib = mibs;

	alpha.has_request_id = 1;
	alpha.request_id = 1;
	alpha.has_status = 1;
	alpha.status = ERROR_SUCCESS;
	alpha.host = &host_alpha;
	alpha.has_collected_unix_ms = 1;
	alpha.collected_unix_ms = NOW_MS - 1520;
	alpha.n_providers = 2;
	alpha.providers = alpha_providers;
	alpha.has_simulated = 1;
	alpha.simulated = 1;

	gamma_reply.has_request_id = 1;
	gamma_reply.request_id = 1;
	gamma_reply.has_status = 1;
	gamma_reply.status = FWP_E_PROVIDER_NOT_FOUND;
	gamma_reply.message = "no IPsec source on this host";
	gamma_reply.host = &host_gamma;
	gamma_reply.has_collected_unix_ms = 1;
	gamma_reply.collected_unix_ms = NOW_MS - 40;
	gamma_reply.n_providers = 1;
	gamma_reply.providers = gamma_providers;

	ike_v4.has_total_main_modes_started = 1;
	ike_v4.total_main_modes_started = 30;
	ike_v4.has_total_failed_main_modes = 1;
	ike_v4.total_failed_main_modes = 4;
	error_table[1] = 3; /* AUTH_FAIL */
	error_table[5] = 1; /* TIMED_OUT */
	ike.v4_statistics = &ike_v4;
	ike.n_error_frequency_table = 97;
	ike.error_frequency_table = error_table;
	ike.has_error_code_base = 1;
	ike.error_code_base = 13800;
	ike.has_main_mode_negotiation_time = 1;
	ike.main_mode_negotiation_time = 85;
	common.has_total_packets_received = 1;
	common.total_packets_received = 1000;
	ike_stats.ike_statistics = &ike;
	ike_stats.common_statistics = &common;
	ike_resp.statistics = &ike_stats;

	/* Elements named by their key members in the table. */
	mm.has_acquire_failures = 1;
	mm.acquire_failures = 2;
	conn.has_cid = 1;
	conn.cid = 1;
	conn.has_bytes_sent = 1;
	conn.bytes_sent = 4096;
	sess.sysfs_name = "session1";
	sess.iscsi_name = "iqn.2026-01.example:target";
	sess.has_bytes_received = 1;
	sess.bytes_received = 8192;
	sess.n_connections = 1;
	sess.connections = conns;
	sess.has_digest_errors = 1;
	sess.digest_errors = 0;
	hba.instance_name = "host0";
	hba.mm_ipsec_stats = &mm;
	hba.n_sessions = 1;
	hba.sessions = sessions;
	iscsi_resp.n_hbas = 1;
	iscsi_resp.hbas = hbas;

	info_resp.host = &host_alpha;
}

enum result { R_IPSEC, R_IKEEXT, R_ISCSI, R_INFO, R_SA };

/* alpha answering `r`, a host that was not reached, gamma's error. */
static size_t
hosts(enum result r, struct output_host *h)
{
	switch (r) {
	case R_IPSEC:
		alpha.result_case = SECSTAT__V1__REPLY__RESULT_IPSEC;
		alpha.ipsec = &ipsec_resp;
		break;
	case R_IKEEXT:
		alpha.result_case = SECSTAT__V1__REPLY__RESULT_IKEEXT;
		alpha.ikeext = &ike_resp;
		break;
	case R_ISCSI:
		alpha.result_case = SECSTAT__V1__REPLY__RESULT_ISCSI;
		alpha.iscsi = &iscsi_resp;
		break;
	case R_INFO:
		alpha.result_case = SECSTAT__V1__REPLY__RESULT_HOST_INFO;
		alpha.host_info = &info_resp;
		break;
	case R_SA:
		alpha.result_case =
		    SECSTAT__V1__REPLY__RESULT_SECURITY_ASSOCIATIONS;
		alpha.security_associations = &sa_resp;
		break;
	}
	h[0] =
	    (struct output_host){"tcp://127.0.0.1:7451", ERROR_SUCCESS, &alpha};
	h[1] = (struct output_host){"tcp://127.0.0.1:7452",
	                            RPC_E_SERVER_DIED_DNE, NULL};
	h[2] = (struct output_host){"ipc:///run/secstat/gamma.sock",
	                            FWP_E_PROVIDER_NOT_FOUND, &gamma_reply};
	return 3;
}

/* ---- golden comparison ---- */

typedef void (*writer)(const struct output *, const struct output_host *,
                       size_t);

static void
check_golden(const char *name, writer w, enum result r, bool color)
{
	struct output_host h[3];
	size_t n = hosts(r, h);
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	struct output o = {.out = mem, .color = color, .now_ms = NOW_MS};
	char path[4096];
	FILE *f;
	char *want;
	long wlen;

	assert_non_null(mem);
	w(&o, h, n);
	fclose(mem);
	/* From the source tree: $SECSTAT_FIXTURES is set relative to the
	 * directory of the test's CMakeLists.txt. */
	snprintf(path, sizeof(path), "%s/tests/fixtures/client/%s",
	         getenv("SECSTAT_SOURCE_DIR") != NULL
	             ? getenv("SECSTAT_SOURCE_DIR")
	             : ".",
	         name);
	if (getenv("SECSTAT_UPDATE_GOLDEN") != NULL) {
		f = fopen(path, "w");
		assert_non_null(f);
		fwrite(buf, 1, len, f);
		fclose(f);
	}
	f = fopen(path, "r");
	if (f == NULL) {
		fail_msg("missing golden file %s", path);
	}
	fseek(f, 0, SEEK_END);
	wlen = ftell(f);
	rewind(f);
	want = malloc((size_t)wlen + 1);
	assert_int_equal(fread(want, 1, (size_t)wlen, f), (size_t)wlen);
	want[wlen] = '\0';
	fclose(f);
	if ((size_t)wlen != len || memcmp(want, buf, len) != 0) {
		fprintf(stderr, "--- want %s\n%s--- got\n%s", path, want, buf);
		fail_msg("%s differs", name);
	}
	free(want);
	free(buf);
}

static void
test_table(void **state)
{
	(void)state;
	check_golden("ipsec.table", output_table, R_IPSEC, false);
	check_golden("ikeext.table", output_table, R_IKEEXT, false);
	check_golden("iscsi.table", output_table, R_ISCSI, false);
	check_golden("info.table", output_table, R_INFO, false);
	check_golden("info.color.table", output_table, R_INFO, true);
	check_golden("sa.table", output_table, R_SA, false);
}

static void
test_json(void **state)
{
	(void)state;
	check_golden("ipsec.json", output_json, R_IPSEC, false);
	check_golden("ikeext.json", output_json, R_IKEEXT, false);
}

static void
test_dump(void **state)
{
	(void)state;
	check_golden("ipsec.dump", output_dump, R_IPSEC, false);
	check_golden("ikeext.dump", output_dump, R_IKEEXT, false);
	check_golden("iscsi.dump", output_dump, R_ISCSI, false);
	check_golden("info.dump", output_dump, R_INFO, false);
	check_golden("sa.dump", output_dump, R_SA, false);
}

/* The JSON document must parse: check it with python3's json module
 * when it is there (it is on Debian). */
static void
test_json_parses(void **state)
{
	struct output_host h[3];
	size_t n = hosts(R_IKEEXT, h);
	FILE *p = popen("python3 -c 'import json,sys; "
	                "d=json.load(sys.stdin); "
	                "assert len(d[\"hosts\"])==3' 2>/dev/null",
	                "w");
	struct output o;

	(void)state;
	if (p == NULL) {
		skip();
	}
	o = (struct output){.out = p, .color = false, .now_ms = NOW_MS};
	output_json(&o, h, n);
	assert_int_equal(pclose(p), 0);
}

static void
test_exit_status(void **state)
{
	static const struct {
		uint32_t status[3];
		size_t n;
		int want;
	} cases[] = {
	    {{ERROR_SUCCESS}, 1, EXIT_ALL_OK},
	    {{ERROR_SUCCESS, ERROR_SUCCESS, ERROR_SUCCESS}, 3, EXIT_ALL_OK},
	    {{RPC_E_TIMEOUT}, 1, EXIT_ALL_FAILED},
	    {{FWP_E_TIMEOUT, RPC_E_SERVER_DIED_DNE}, 2, EXIT_ALL_FAILED},
	    {{ERROR_SUCCESS, ERROR_ACCESS_DENIED}, 2, EXIT_SOME_FAILED},
	    {{RPC_E_DISCONNECTED, ERROR_SUCCESS, ERROR_SUCCESS},
	     3,
	     EXIT_SOME_FAILED},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(query_exit_status(cases[i].status, cases[i].n),
		                 cases[i].want);
	}
}

static void
test_color_mode(void **state)
{
	FILE *f = tmpfile();
	char buf[16];

	(void)state;
	setenv("SECSTAT_COLOR", "always", 1);
	assert_true(output_color_wanted(f));
	setenv("SECSTAT_COLOR", "never", 1);
	assert_false(output_color_wanted(f));
	unsetenv("SECSTAT_COLOR");
	assert_false(output_color_wanted(f)); /* not a terminal */
	fclose(f);
	assert_string_equal(output_status_name(0x80010012u, buf, sizeof(buf)),
	                    "RPC_E_SERVER_DIED_DNE");
	assert_string_equal(output_status_name(0x12345678u, buf, sizeof(buf)),
	                    "0x12345678");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_dump),
	    cmocka_unit_test(test_json_parses),
	    cmocka_unit_test(test_exit_status),
	    cmocka_unit_test(test_color_mode),
	};

	build_fixtures();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
