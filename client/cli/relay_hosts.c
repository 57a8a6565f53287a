/* secstat relay-hosts: each host of a relay, with its own last replies. */
#include "subcommands.h"

#include <stdio.h>

int
relay_hosts_main(int argc, char *argv[], const struct cli *cli)
{
	if (argc > 1 || cli->version0) {
		fprintf(stderr, "Usage: secstat [options] relay-hosts\n");
		return EXIT_USAGE;
	}
	return query_run(cli, SECSTAT_METHOD_RELAY_GET_HOSTS);
}
