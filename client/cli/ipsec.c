/* secstat ipsec: IPsecGetStatistics1 (IPSEC_STATISTICS1), or version 0
 * with --v0. */
#include "subcommands.h"

#include <stdio.h>

int
ipsec_main(int argc, char *argv[], const struct cli *cli)
{
	if (argc > 1) {
		fprintf(stderr, "Usage: secstat [options] ipsec\n");
		return EXIT_USAGE;
	}
	return query_run(cli, cli->version0
	                          ? SECSTAT_METHOD_IPSEC_GET_STATISTICS0
	                          : SECSTAT_METHOD_IPSEC_GET_STATISTICS1);
}
