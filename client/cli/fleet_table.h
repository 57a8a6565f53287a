/*
 * The human view of a fleet query: the aggregate's statistics table, then
 * one row per host with its status, the age of its data and a few key
 * counters of the method, so that a failing host stands out among
 * hundreds.
 */
#ifndef SECSTAT_CLI_FLEET_TABLE_H
#define SECSTAT_CLI_FLEET_TABLE_H

#include <stddef.h>

#include "output.h"

void fleet_table(const struct output *o, const secstat_fleet *f,
                 const struct output_host *hosts, size_t n, const char *method);

/* The value of the statistic at dotted path `path` (model_walk naming,
 * without the result's name) in reply `r`. Returns 0 or -1 when absent. */
int fleet_table_value(const Secstat__V1__Reply *r, const char *path,
                      uint64_t *v);

#endif /* SECSTAT_CLI_FLEET_TABLE_H */
