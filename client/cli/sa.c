/* secstat sa: every IKE SA, IPsec SA and configured connection. */
#include "subcommands.h"

#include <stdio.h>

int
sa_main(int argc, char *argv[], const struct cli *cli)
{
	if (argc > 1 || cli->version0) {
		fprintf(stderr, "Usage: secstat [options] sa\n");
		return EXIT_USAGE;
	}
	return query_run(cli, SECSTAT_METHOD_LIST_SECURITY_ASSOCIATIONS);
}
