/* The secstat subcommands: one <cmd>_main per file. */
#ifndef SECSTAT_CLI_SUBCOMMANDS_H
#define SECSTAT_CLI_SUBCOMMANDS_H

#include "query.h"

/* Each runs one command over every server of `cli` and returns the exit
 * status (query.h). argv[0] is the command name. */
int ipsec_main(int argc, char *argv[], const struct cli *cli);
int ikeext_main(int argc, char *argv[], const struct cli *cli);
int iscsi_main(int argc, char *argv[], const struct cli *cli);
int info_main(int argc, char *argv[], const struct cli *cli);
int sa_main(int argc, char *argv[], const struct cli *cli);
int relay_hosts_main(int argc, char *argv[], const struct cli *cli);
/* Repeats a fleet query every --interval: totals, rates, up/down. */
int watch_main(int argc, char *argv[], const struct cli *cli);
/* The fleet in the Prometheus text format (aggregate or --per-host). */
int prom_main(int argc, char *argv[], const struct cli *cli);

#endif /* SECSTAT_CLI_SUBCOMMANDS_H */
