/* secstat iscsi: the MSiSCSI_* statistics classes per HBA. */
#include "subcommands.h"

#include <stdio.h>

int
iscsi_main(int argc, char *argv[], const struct cli *cli)
{
	if (argc > 1 || cli->version0) {
		fprintf(stderr, "Usage: secstat [options] iscsi\n");
		return EXIT_USAGE;
	}
	return query_run(cli, SECSTAT_METHOD_ISCSI_GET_STATISTICS);
}
