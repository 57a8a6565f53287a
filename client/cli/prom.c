/*
 * secstat prom: the fleet in the Prometheus text format, for node
 * exporter's textfile collector or a Pushgateway.
 *
 * Statistics are the fleet aggregate by default (no host label: the sum
 * the fleet API computes, so one series per statistic whatever the fleet
 * size); --per-host writes each host's own statistics with a host label
 * instead, never both, since a query summing over the host label would
 * count every host twice. Identity and health (secstat_host_info,
 * secstat_provider_*, secstat_fleet_host_up) are per host in both modes.
 */
#include "subcommands.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom.h"

static const char *const prom_methods[] = {
    SECSTAT_METHOD_IPSEC_GET_STATISTICS1,
    SECSTAT_METHOD_IKEEXT_GET_STATISTICS1,
    SECSTAT_METHOD_ISCSI_GET_STATISTICS,
};
#define N_METHODS (sizeof(prom_methods) / sizeof(prom_methods[0]))

static void
usage(FILE *f)
{
	fprintf(f, "Usage: secstat [options] prom [--per-host]\n"
	           "  Prints IPsec, IKE and iSCSI statistics of every host "
	           "in the Prometheus\n"
	           "  text format: the fleet aggregate, or with --per-host "
	           "each host's with a\n"
	           "  host label.\n");
}

static int
add_fleet(struct prom_writer *w, secstat_fleet *f,
          secstat_fleet_result *res[N_METHODS], bool per_host, uint32_t *status)
{
	size_t n = secstat_fleet_count(f);
	char v[32];
	int rv;

	snprintf(v, sizeof(v), "%zu", n);
	if ((rv = prom_add_sample(w, "secstat_fleet_hosts",
	                          "Hosts in the fleet.", PROM_GAUGE, NULL, 0,
	                          v)) != 0) {
		return rv;
	}
	for (size_t m = 0; m < N_METHODS; m++) {
		struct prom_label l = {"method", prom_methods[m]};
		const Secstat__V1__Reply *agg;

		snprintf(v, sizeof(v), "%zu", secstat_fleet_result_ok(res[m]));
		if ((rv = prom_add_sample(w, "secstat_fleet_hosts_ok",
		                          "Hosts that answered the method with "
		                          "ERROR_SUCCESS.",
		                          PROM_GAUGE, &l, 1, v)) != 0) {
			return rv;
		}
		agg = secstat_fleet_result_aggregate(res[m]);
		if (!per_host && agg != NULL &&
		    (rv = prom_add_stats(w, agg, NULL, 0)) != 0) {
			return rv;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct prom_label host = {"host",
		                          secstat_fleet_host(f, i)->name};
		const Secstat__V1__Reply *info = NULL;

		status[i] = ERROR_SUCCESS;
		for (size_t m = 0; m < N_METHODS; m++) {
			const Secstat__V1__Reply *r =
			    secstat_fleet_result_reply(res[m], i);

			if (r == NULL) {
				/* No answer at all: the host is down for
				 * this scrape. */
				status[i] =
				    secstat_fleet_result_status(res[m], i);
				continue;
			}
			if (info == NULL) {
				info = r;
			}
			if (per_host &&
			    secstat_fleet_result_status(res[m], i) ==
			        ERROR_SUCCESS &&
			    (rv = prom_add_stats(w, r, &host, 1)) != 0) {
				return rv;
			}
		}
		if (info != NULL &&
		    (rv = prom_add_host(w, info, &host, 1)) != 0) {
			return rv;
		}
		if ((rv = prom_add_sample(
		         w, "secstat_fleet_host_up",
		         "1 when the host's agent answered every query of this "
		         "run.",
		         PROM_GAUGE, &host, 1,
		         status[i] == ERROR_SUCCESS ? "1" : "0")) != 0) {
			return rv;
		}
	}
	return 0;
}

int
prom_main(int argc, char *argv[], const struct cli *cli)
{
	secstat_fleet *f = NULL;
	secstat_fleet_result *res[N_METHODS] = {NULL};
	struct prom_writer *w = NULL;
	uint32_t *status = NULL;
	bool per_host = false;
	size_t n;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--per-host") == 0) {
			per_host = true;
		} else if (strcmp(argv[i], "--help") == 0 ||
		           strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return EXIT_ALL_OK;
		} else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if ((rc = query_open_fleet(cli, &f)) != 0) {
		return rc;
	}
	rc = EXIT_ALL_FAILED;
	n = secstat_fleet_count(f);
	if ((w = prom_writer_new()) == NULL ||
	    (status = calloc(n, sizeof(*status))) == NULL) {
		fprintf(stderr, "secstat: out of memory\n");
		goto out;
	}
	for (size_t m = 0; m < N_METHODS; m++) {
		if (secstat_fleet_query(f, prom_methods[m], NULL, NULL,
		                        &res[m]) != ERROR_SUCCESS) {
			fprintf(stderr, "secstat: out of memory\n");
			goto out;
		}
	}
	if (add_fleet(w, f, res, per_host, status) != 0) {
		fprintf(stderr, "secstat: out of memory\n");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (status[i] != ERROR_SUCCESS) {
			fprintf(stderr, "secstat: %s: %s\n",
			        secstat_fleet_host(f, i)->url,
			        secstat_strerror(status[i]));
		}
	}
	prom_write(w, stdout);
	fflush(stdout);
	rc = query_exit_status(status, n);
out:
	for (size_t m = 0; m < N_METHODS; m++) {
		secstat_fleet_result_free(res[m]);
	}
	prom_writer_free(w);
	free(status);
	secstat_fleet_close(f);
	return rc;
}
