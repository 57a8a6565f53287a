/* Running one method against every server given on the command line. */
#ifndef SECSTAT_CLI_QUERY_H
#define SECSTAT_CLI_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "output.h"

/* Exit statuses. */
#define EXIT_ALL_OK      0  /* every host answered ERROR_SUCCESS */
#define EXIT_ALL_FAILED  1  /* no host did */
#define EXIT_SOME_FAILED 2  /* some hosts did, some did not */
#define EXIT_USAGE       64 /* EX_USAGE */

/* Global options. */
struct cli {
	const char **servers; /* at least one */
	size_t n_servers;
	enum output_format format;
	uint32_t timeout_ms;    /* 0: library default */
	bool version0;          /* --v0: the *GetStatistics0 calls */
	const char *hosts_file; /* --hosts FILE: replaces servers */
	/* tls+tcp:// agents: --tls-ca, --tls-cert, --tls-key,
	 * --tls-server-name; the credential: --client-id and the token read
	 * from --token-file. */
	const char *tls_ca;
	const char *tls_cert;
	const char *tls_key;
	const char *tls_server_name;
	const char *client_id;
	char *token;
};

/* Calls `method` on every server concurrently (the fleet API), prints
 * the answers in the chosen format on stdout (with several hosts: the
 * aggregate, then one row per host) and every failure on stderr, and
 * returns the exit status. */
int query_run(const struct cli *cli, const char *method);

/* Opens the fleet of `cli` (servers or hosts file); on failure prints
 * why and returns the exit status (non-zero). */
int query_open_fleet(const struct cli *cli, secstat_fleet **fp);

/* The exit status for `n` statuses. */
int query_exit_status(const uint32_t *status, size_t n);

#endif /* SECSTAT_CLI_QUERY_H */
