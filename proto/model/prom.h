/*
 * Prometheus text exposition (format 0.0.4) of secstat replies, for the
 * agent's /metrics endpoint and `secstat prom`.
 *
 * Statistics are found with the descriptor walker's primitives and named
 * from the schema: secstat_<family>_<path>, where <path> is the snake_case
 * field path with "_statistics"/"_stats" dropped, the dimensions that
 * Windows spells as separate structures (key module, IP version,
 * direction) and list keys (namespace, HBA, session, connection, XFRM MIB
 * counter name, IKE error code) moved into labels by a small structural
 * table in prom.c, counters suffixed "_total" (a leading "total_" dropped),
 * bytes suffixed "_bytes" and milliseconds converted to "_seconds". HELP
 * is the field's help text, TYPE its kind. Absent fields are not emitted.
 *
 * Samples are collected first and written grouped by metric name, so that
 * the same metric from several replies (hosts) forms one family.
 */
#ifndef SECSTAT_PROM_H
#define SECSTAT_PROM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "secstat/v1/service.pb-c.h"

/* HTTP Content-Type of the exposition. */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Longest metric name and label set built. */
#define PROM_NAME_MAX   200
#define PROM_LABELS_MAX 1024

enum prom_type {
	PROM_GAUGE,
	PROM_COUNTER,
};

/* One label given by a caller (e.g. host="web-7"). */
struct prom_label {
	const char *name;
	const char *value;
};

struct prom_writer;

/* A new, empty writer, or NULL when out of memory. */
struct prom_writer *prom_writer_new(void);
void prom_writer_free(struct prom_writer *w);

/*
 * Adds every present statistic of the result of `r` (ipsec, ikeext or
 * iscsi; other results add nothing), each with the `n` labels `extra`
 * first. Returns 0 or -ENOMEM.
 */
int prom_add_stats(struct prom_writer *w, const Secstat__V1__Reply *r,
                   const struct prom_label *extra, size_t n);

/*
 * Adds what the reply says about its agent: secstat_host_info (an info
 * metric: identity as labels, value 1), secstat_agent_start_time_seconds,
 * secstat_collected_timestamp_seconds, secstat_simulated, and per
 * provider secstat_provider_up and the state set secstat_provider_health.
 * Returns 0 or -ENOMEM.
 */
int prom_add_host(struct prom_writer *w, const Secstat__V1__Reply *r,
                  const struct prom_label *extra, size_t n);

/*
 * Adds one sample. `help` must stay valid until prom_write(); `value` is
 * written as given (a Prometheus number). Returns 0, -EINVAL for a name
 * or label set that does not fit, or -ENOMEM.
 */
int prom_add_sample(struct prom_writer *w, const char *name, const char *help,
                    enum prom_type type, const struct prom_label *labels,
                    size_t n, const char *value);

/* Writes every sample, grouped by metric name (in name order; samples of
 * one metric in the order added), each group under its HELP and TYPE. A
 * name added with two different types keeps the first. */
void prom_write(struct prom_writer *w, FILE *out);

/* Number of samples added so far. */
size_t prom_count(const struct prom_writer *w);

/* The metric name and conversion of one statistic field, for tests and
 * docs: writes "secstat_<family>_<segments>_<leaf>" for a leaf field of
 * kind `kind` and `unit` with the given name segments already joined
 * (may be ""), and returns the divisor its value needs (1 or 1000), or 0
 * when the name does not fit. */
unsigned prom_metric_name(char *buf, size_t len, const char *family,
                          const char *segments, const char *leaf, int kind,
                          const char *unit);

#endif /* SECSTAT_PROM_H */
