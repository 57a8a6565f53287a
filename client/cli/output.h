/*
 * The three output formats of the secstat CLI, over the replies of any
 * number of hosts: a human table, one JSON document, and stable TSV.
 * All are built on the model walker (proto/model/model.h), never on
 * per-field code.
 */
#ifndef SECSTAT_CLI_OUTPUT_H
#define SECSTAT_CLI_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <secstat/secstat.h>

enum output_format {
	OUTPUT_TABLE,
	OUTPUT_JSON,
	OUTPUT_DUMP,
};

/* What one host answered. reply is NULL when the call did not go
 * through (status is then an RPC_E_* code). */
struct output_host {
	const char *server; /* URL */
	uint32_t status;
	Secstat__V1__Reply *reply;
};

struct output {
	FILE *out;
	bool color;      /* ANSI colours (table only) */
	uint64_t now_ms; /* wall clock, for the age of the data */
	/* A fleet query (several hosts): the aggregate and its side table,
	 * added to the JSON document ("aggregate", "fleet") and the TSV dump
	 * (server "fleet"). NULL for the per-host output alone. */
	const Secstat__V1__Reply *aggregate;
	const Secstat__V1__FleetAggregate *summary;
};

/* The per-SA listing of one host, swanctl-style (output_sa.c). */
void output_sa_listing(const struct output *o,
                       const Secstat__V1__ListSecurityAssociationsResponse *l);

void output_table(const struct output *o, const struct output_host *hosts,
                  size_t n);
void output_json(const struct output *o, const struct output_host *hosts,
                 size_t n);
void output_dump(const struct output *o, const struct output_host *hosts,
                 size_t n);

/* The statistics table of one reply (what output_table() prints under
 * a host's header line). */
void output_result(const struct output *o, const Secstat__V1__Reply *r);

/* Whether to colour `f`: $SECSTAT_COLOR=always|never, else only when `f`
 * is a terminal (and $TERM is not "dumb"). */
bool output_color_wanted(FILE *f);

/* Symbolic name of a status, or its hex value in `buf` for an unknown
 * code. */
const char *output_status_name(uint32_t status, char *buf, size_t len);

#endif /* SECSTAT_CLI_OUTPUT_H */
