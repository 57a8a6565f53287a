/*
 * noc-console: a tiny NOC console over libsecstat. Every few seconds it
 * queries a fleet of secstat agents for their IPsec and IKE statistics
 * and prints the fleet aggregate (what every host together does right
 * now), the byte rates since the previous round, and the hosts that did
 * not answer.
 *
 * Built against an installed libsecstat only:
 *     cc noc-console.c $(pkg-config --cflags --libs secstat)
 *
 * usage: noc-console [--interval S] [--count N | --once]
 *                    (--hosts FILE | URL...)
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <secstat/secstat.h>

/* One statistic of the aggregate, or "-" when no host has it: absent is
 * not zero. */
static void
print_value(const char *label, int has, uint64_t v)
{
	if (has) {
		printf("  %-32s %" PRIu64 "\n", label, v);
	} else {
		printf("  %-32s -\n", label);
	}
}

static void
print_ipsec(const Secstat__V1__Reply *agg)
{
	const Secstat__V1__IpsecStatistics *s =
	    agg != NULL && agg->ipsec != NULL ? agg->ipsec->statistics : NULL;
	const Secstat__V1__IpsecAggregateSaStatistics *sa =
	    s != NULL ? s->aggregate_sa_statistics : NULL;
	const Secstat__V1__IpsecAggregateDropPacketStatistics *drop =
	    s != NULL ? s->aggregate_drop_packet_statistics : NULL;
	const Secstat__V1__IpsecTrafficStatistics *in =
	    s != NULL ? s->inbound_traffic_statistics : NULL;
	const Secstat__V1__IpsecTrafficStatistics *out =
	    s != NULL ? s->outbound_traffic_statistics : NULL;

	printf(" IPsec\n");
	print_value("active SAs", sa != NULL && sa->has_active_sas,
	            sa != NULL ? sa->active_sas : 0);
	print_value("active tunnels", sa != NULL && sa->has_active_tunnels,
	            sa != NULL ? sa->active_tunnels : 0);
	print_value("inbound drops",
	            drop != NULL && drop->has_total_drop_packets_inbound,
	            drop != NULL ? drop->total_drop_packets_inbound : 0);
	print_value("bytes in (ESP encrypted)",
	            in != NULL && in->has_encrypted_byte_count,
	            in != NULL ? in->encrypted_byte_count : 0);
	print_value("bytes out (ESP encrypted)",
	            out != NULL && out->has_encrypted_byte_count,
	            out != NULL ? out->encrypted_byte_count : 0);
}

static void
print_ike(const Secstat__V1__Reply *agg)
{
	const Secstat__V1__IkeextStatistics *s =
	    agg != NULL && agg->ikeext != NULL ? agg->ikeext->statistics : NULL;
	const Secstat__V1__IkeextKeymoduleStatistics *v2 =
	    s != NULL ? s->ike_v2_statistics : NULL;
	const Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics *v4 =
	    v2 != NULL ? v2->v4_statistics : NULL;

	printf(" IKEv2 over IPv4\n");
	print_value("active IKE SAs",
	            v4 != NULL && v4->has_current_active_main_modes,
	            v4 != NULL ? v4->current_active_main_modes : 0);
	print_value("IKE SAs established",
	            v4 != NULL && v4->has_total_successful_main_modes,
	            v4 != NULL ? v4->total_successful_main_modes : 0);
	print_value("IKE SA negotiations failed",
	            v4 != NULL && v4->has_total_failed_main_modes,
	            v4 != NULL ? v4->total_failed_main_modes : 0);
}

/* Per-second rates of the byte counters since the previous round, from
 * the library (which handles agent restarts and counter resets). */
static void
print_rates(const secstat_fleet_result *prev, const secstat_fleet_result *cur)
{
	secstat_rates *rates = NULL;
	const struct secstat_rate *r;
	size_t n;

	if (prev == NULL ||
	    secstat_rates_compute(prev, cur, &rates) != ERROR_SUCCESS) {
		return;
	}
	r = secstat_rates_fleet(rates, &n);
	printf(" Rates (per second, whole fleet)\n");
	for (size_t i = 0; i < n; i++) {
		if (strstr(r[i].path, "encryptedByteCount") != NULL) {
			printf("  %-50s %.1f\n", r[i].path, r[i].per_second);
		}
	}
	secstat_rates_free(rates);
}

static void
print_failures(const secstat_fleet *f, const secstat_fleet_result *r)
{
	for (size_t i = 0; i < secstat_fleet_result_count(r); i++) {
		uint32_t st = secstat_fleet_result_status(r, i);

		if (st != ERROR_SUCCESS) {
			printf(" ! %s: %s\n", secstat_fleet_host(f, i)->name,
			       secstat_strerror(st));
		}
	}
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: noc-console [--interval S] [--count N | --once] "
	             "(--hosts FILE | URL...)\n");
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    {"hosts", required_argument, NULL, 'H'},
	    {"interval", required_argument, NULL, 'i'},
	    {"count", required_argument, NULL, 'c'},
	    {"once", no_argument, NULL, '1'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *hosts = NULL;
	unsigned interval = 5;
	long count = -1; /* forever */
	secstat_fleet *f = NULL;
	secstat_fleet_result *prev_ipsec = NULL;
	uint32_t st;
	char err[256];
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "H:i:c:1h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			hosts = optarg;
			break;
		case 'i':
			interval = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			count = strtol(optarg, NULL, 10);
			break;
		case '1':
			count = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	if ((hosts == NULL) == (optind >= argc) || interval == 0 ||
	    count == 0) {
		usage(stderr);
		return 64;
	}
	st = hosts != NULL
	         ? secstat_fleet_open_file(&f, hosts, NULL, err, sizeof(err))
	         : secstat_fleet_open(&f, (const char *const *)argv + optind,
	                              (size_t)(argc - optind), NULL);
	if (st != ERROR_SUCCESS) {
		fprintf(stderr, "noc-console: %s\n",
		        hosts != NULL && err[0] ? err : secstat_strerror(st));
		return 1;
	}

	for (long round = 0; count < 0 || round < count; round++) {
		secstat_fleet_result *ipsec = NULL, *ike = NULL;
		time_t now = time(NULL);
		char when[32];

		if (round > 0) {
			sleep(interval);
		}
		if (secstat_fleet_query(f, SECSTAT_METHOD_IPSEC_GET_STATISTICS1,
		                        NULL, NULL, &ipsec) != ERROR_SUCCESS ||
		    secstat_fleet_query(f,
		                        SECSTAT_METHOD_IKEEXT_GET_STATISTICS1,
		                        NULL, NULL, &ike) != ERROR_SUCCESS) {
			fprintf(stderr, "noc-console: out of memory\n");
			secstat_fleet_result_free(ipsec);
			goto out;
		}
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S",
		         localtime(&now));
		printf("== %s  hosts answering: %zu/%zu\n", when,
		       secstat_fleet_result_ok(ipsec),
		       secstat_fleet_result_count(ipsec));
		print_ipsec(secstat_fleet_result_aggregate(ipsec));
		print_ike(secstat_fleet_result_aggregate(ike));
		print_rates(prev_ipsec, ipsec);
		print_failures(f, ipsec);
		fflush(stdout);
		secstat_fleet_result_free(prev_ipsec);
		prev_ipsec = ipsec;
		secstat_fleet_result_free(ike);
	}
	rc = 0;
out:
	secstat_fleet_result_free(prev_ipsec);
	secstat_fleet_close(f);
	return rc;
}
