/* secstat info: the identity of each agent (GetHostInfo). */
#include "subcommands.h"

#include <stdio.h>

int
info_main(int argc, char *argv[], const struct cli *cli)
{
	if (argc > 1 || cli->version0) {
		fprintf(stderr, "Usage: secstat [options] info\n");
		return EXIT_USAGE;
	}
	return query_run(cli, SECSTAT_METHOD_GET_HOST_INFO);
}
