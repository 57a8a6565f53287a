/* The Prometheus exposition writer: names, labels, values, grouping. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "prom.h"
#include "stat_meta.h"

/* prom_metric_name(): the naming rules, one row per rule. */
static void
test_metric_names(void **state)
{
	static const struct {
		const char *family, *segs, *leaf;
		int kind;
		const char *unit;
		const char *want;
		unsigned div;
	} cases[] = {
	    {"ipsec", "aggregate_sa", "active_sas", STAT_GAUGE, "sas",
	     "secstat_ipsec_aggregate_sa_active_sas", 1},
	    {"ipsec", "aggregate_sa", "total_sas_added", STAT_COUNTER, "sas",
	     "secstat_ipsec_aggregate_sa_sas_added_total", 1},
	    {"ipsec", "traffic", "encrypted_byte_count", STAT_COUNTER, "bytes",
	     "secstat_ipsec_traffic_encrypted_bytes_total", 1},
	    {"iscsi", "session", "bytes_sent", STAT_COUNTER, "bytes",
	     "secstat_iscsi_session_sent_bytes_total", 1},
	    {"iscsi", "qm_ipsec", "confidential_bytes_received", STAT_COUNTER,
	     "bytes",
	     "secstat_iscsi_qm_ipsec_confidential_received_bytes_total", 1},
	    {"ike", "", "main_mode_negotiation_time", STAT_GAUGE,
	     "milliseconds", "secstat_ike_main_mode_negotiation_time_seconds",
	     1000},
	    {"ike", "", "rekey_in_s", STAT_GAUGE, "seconds",
	     "secstat_ike_rekey_in_seconds", 1},
	    {"iscsi", "initiator_login", "login_failures", STAT_COUNTER,
	     "logins", "secstat_iscsi_initiator_login_failures_total", 1},
	    {"ipsec", "xfrm_mib", "", STAT_COUNTER, "packets",
	     "secstat_ipsec_xfrm_mib_total", 1},
	    /* "total" is dropped only at the start of a counter. */
	    {"ike", "common", "total_packets_received", STAT_GAUGE, "packets",
	     "secstat_ike_common_total_packets_received", 1},
	    {"X", "Seg-1", "Leaf.2", STAT_GAUGE, "", "secstat_x_seg_1_leaf_2",
	     1},
	};
	char buf[PROM_NAME_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned div = prom_metric_name(
		    buf, sizeof(buf), cases[i].family, cases[i].segs,
		    cases[i].leaf, cases[i].kind, cases[i].unit);
		assert_int_equal(div, cases[i].div);
		assert_string_equal(buf, cases[i].want);
	}
	/* Does not fit: refused, not truncated. */
	assert_int_equal(prom_metric_name(buf, 20, "ipsec", "aggregate_sa",
	                                  "active_sas", STAT_GAUGE, "sas"),
	                 0);
}

static char *
render(struct prom_writer *w)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	prom_write(w, f);
	fclose(f);
	return text;
}

/* A reply with a few fields present: exactly these samples, the
 * dimensions as labels, milliseconds as seconds, label values escaped,
 * absent fields absent. */
static void
test_reply_exposition(void **state)
{
	Secstat__V1__Reply r = SECSTAT__V1__REPLY__INIT;
	Secstat__V1__IkeextGetStatisticsResponse resp =
	    SECSTAT__V1__IKEEXT_GET_STATISTICS_RESPONSE__INIT;
	Secstat__V1__IkeextStatistics st = SECSTAT__V1__IKEEXT_STATISTICS__INIT;
	Secstat__V1__IkeextKeymoduleStatistics v2 =
	    SECSTAT__V1__IKEEXT_KEYMODULE_STATISTICS__INIT;
	Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics v6 =
	    SECSTAT__V1__IKEEXT_IP_VERSION_SPECIFIC_KEYMODULE_STATISTICS__INIT;
	uint64_t table[3] = {0, 5, 7};
	struct prom_label host = {"host", "gw \"1\"\\a"};
	struct prom_writer *w = prom_writer_new();
	char *text;

	v6.has_total_successful_main_modes = 1;
	v6.total_successful_main_modes = 42;
	v6.current_active_main_modes = 9; /* has_ flag 0: absent */
	v2.v6_statistics = &v6;
	v2.n_error_frequency_table = 3;
	v2.error_frequency_table = table;
	v2.has_error_code_base = 1;
	v2.error_code_base = 13800;
	v2.has_main_mode_negotiation_time = 1;
	v2.main_mode_negotiation_time = 1234;
	st.ike_v2_statistics = &v2;
	resp.statistics = &st;
	r.result_case = SECSTAT__V1__REPLY__RESULT_IKEEXT;
	r.ikeext = &resp;

	assert_non_null(w);
	assert_int_equal(prom_add_stats(w, &r, &host, 1), 0);
	assert_int_equal(prom_count(w), 5);
	text = render(w);
	assert_string_equal(
	    text,
	    "# HELP secstat_ike_error_frequency_total Negotiation failures per "
	    "IKE error code.\n"
	    "# TYPE secstat_ike_error_frequency_total counter\n"
	    "secstat_ike_error_frequency_total{host=\"gw \\\"1\\\"\\\\a\","
	    "key_module=\"ikev2\",error_code=\"13800\"} 0\n"
	    "secstat_ike_error_frequency_total{host=\"gw \\\"1\\\"\\\\a\","
	    "key_module=\"ikev2\",error_code=\"13801\"} 5\n"
	    "secstat_ike_error_frequency_total{host=\"gw \\\"1\\\"\\\\a\","
	    "key_module=\"ikev2\",error_code=\"13802\"} 7\n"
	    "# HELP secstat_ike_main_mode_negotiation_time_seconds Current "
	    "main-mode negotiation time.\n"
	    "# TYPE secstat_ike_main_mode_negotiation_time_seconds gauge\n"
	    "secstat_ike_main_mode_negotiation_time_seconds{host=\"gw "
	    "\\\"1\\\"\\\\a\",key_module=\"ikev2\"} 1.234\n"
	    "# HELP secstat_ike_successful_main_modes_total Main-mode "
	    "negotiations that succeeded.\n"
	    "# TYPE secstat_ike_successful_main_modes_total counter\n"
	    "secstat_ike_successful_main_modes_total{host=\"gw "
	    "\\\"1\\\"\\\\a\",key_module=\"ikev2\",ip_version=\"v6\"} 42\n");
	free(text);
	prom_writer_free(w);
}

/* Two hosts: one HELP/TYPE per metric, their samples together; the same
 * series twice is written once; non-statistics results add nothing. */
static void
test_grouping(void **state)
{
	Secstat__V1__Reply r = SECSTAT__V1__REPLY__INIT;
	Secstat__V1__Reply info = SECSTAT__V1__REPLY__INIT;
	Secstat__V1__IpsecGetStatisticsResponse resp =
	    SECSTAT__V1__IPSEC_GET_STATISTICS_RESPONSE__INIT;
	Secstat__V1__XfrmMibCounter c1 = SECSTAT__V1__XFRM_MIB_COUNTER__INIT;
	Secstat__V1__XfrmMibCounter c2 = SECSTAT__V1__XFRM_MIB_COUNTER__INIT;
	Secstat__V1__XfrmMibCounter *mib[2] = {&c1, &c2};
	Secstat__V1__HostInfoResponse hi =
	    SECSTAT__V1__HOST_INFO_RESPONSE__INIT;
	struct prom_label a = {"host", "a"}, b = {"host", "b"};
	struct prom_writer *w = prom_writer_new();
	char *text, *p;
	int n;

	c1.name = "XfrmInNoStates";
	c1.has_value = 1;
	c1.value = 3;
	c2 = c1; /* the same key twice */
	resp.n_xfrm_mib = 2;
	resp.xfrm_mib = mib;
	r.result_case = SECSTAT__V1__REPLY__RESULT_IPSEC;
	r.ipsec = &resp;
	info.result_case = SECSTAT__V1__REPLY__RESULT_HOST_INFO;
	info.host_info = &hi;

	assert_int_equal(prom_add_stats(w, &r, &b, 1), 0);
	assert_int_equal(prom_add_stats(w, &r, &a, 1), 0);
	assert_int_equal(prom_add_stats(w, &info, &a, 1), 0);
	assert_int_equal(prom_count(w), 4);
	text = render(w);
	assert_string_equal(
	    text, "# HELP secstat_ipsec_xfrm_mib_total Packets dropped by the "
	          "XFRM code for this reason.\n"
	          "# TYPE secstat_ipsec_xfrm_mib_total counter\n"
	          "secstat_ipsec_xfrm_mib_total{host=\"a\",counter="
	          "\"XfrmInNoStates\"} 3\n"
	          "secstat_ipsec_xfrm_mib_total{host=\"b\",counter="
	          "\"XfrmInNoStates\"} 3\n");
	for (n = 0, p = text; (p = strstr(p, "# TYPE")) != NULL; p++) {
		n++;
	}
	assert_int_equal(n, 1);
	free(text);
	prom_writer_free(w);
}

/* Identity and health: the info metric and the provider state set. */
static void
test_host_and_providers(void **state)
{
	Secstat__V1__Reply r = SECSTAT__V1__REPLY__INIT;
	Secstat__V1__HostInfo h = SECSTAT__V1__HOST_INFO__INIT;
	Secstat__V1__ProviderStatus p1 = SECSTAT__V1__PROVIDER_STATUS__INIT;
	Secstat__V1__ProviderStatus p2 = SECSTAT__V1__PROVIDER_STATUS__INIT;
	Secstat__V1__ProviderStatus *ps[2] = {&p1, &p2};
	struct prom_writer *w = prom_writer_new();
	char *text;

	h.hostname = "gw-1";
	h.has_epoch = 1;
	h.epoch = 0xabcdef;
	r.host = &h;
	r.has_collected_unix_ms = 1;
	r.collected_unix_ms = 1700000000123ull;
	p1.name = "xfrm";
	p1.has_health = 1;
	p1.health = SECSTAT__V1__HEALTH__HEALTH_OK;
	p2.name = "vici";
	p2.has_health = 1;
	p2.health = SECSTAT__V1__HEALTH__HEALTH_DENIED;
	r.providers = ps;
	r.n_providers = 2;

	assert_int_equal(prom_add_host(w, &r, NULL, 0), 0);
	text = render(w);
	assert_non_null(strstr(text, "secstat_host_info{hostname=\"gw-1\","
	                             "epoch=\"0000000000abcdef\"} 1\n"));
	assert_non_null(strstr(
	    text, "secstat_collected_timestamp_seconds 1700000000.123\n"));
	assert_non_null(
	    strstr(text, "secstat_provider_up{provider=\"xfrm\"} 1\n"));
	assert_non_null(
	    strstr(text, "secstat_provider_up{provider=\"vici\"} 0\n"));
	assert_non_null(strstr(
	    text, "secstat_provider_health{provider=\"vici\",state=\"denied\"} "
	          "1\n"));
	assert_non_null(strstr(
	    text,
	    "secstat_provider_health{provider=\"vici\",state=\"ok\"} 0\n"));
	assert_null(strstr(text, "state=\"unspecified\""));
	/* Not in the reply: not written. */
	assert_null(strstr(text, "secstat_simulated"));
	assert_null(strstr(text, "secstat_agent_start_time_seconds"));
	free(text);
	prom_writer_free(w);
}

static void
test_bad_sample(void **state)
{
	char name[PROM_NAME_MAX + 10];
	struct prom_writer *w = prom_writer_new();

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(
	    prom_add_sample(w, name, "h", PROM_GAUGE, NULL, 0, "1"), -EINVAL);
	assert_int_equal(prom_count(w), 0);
	prom_writer_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_metric_names),
	    cmocka_unit_test(test_reply_exposition),
	    cmocka_unit_test(test_grouping),
	    cmocka_unit_test(test_host_and_providers),
	    cmocka_unit_test(test_bad_sample),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
