/*
 * The Prometheus endpoint: `--metrics-listen ADDR:PORT` serves GET
 * /metrics over nng's HTTP server, in the text exposition format, from
 * the collector's current snapshot. The text is rendered once per
 * snapshot and cached, so a scrape costs a pointer compare and a copy.
 */
#ifndef SECSTAT_AGENT_METRICS_H
#define SECSTAT_AGENT_METRICS_H

#include <stdbool.h>
#include <stddef.h>

struct collector;
struct metrics;

/* The path served. */
#define METRICS_PATH "/metrics"

/*
 * Checks an ADDR:PORT (HOST:PORT, [V6]:PORT or *:PORT for every address)
 * and writes the http:// URL nng listens on into url. Returns 0 or
 * -EINVAL.
 */
int metrics_url(const char *addr, char *url, size_t len);

/* Whether ADDR:PORT binds a loopback address only (127.0.0.0/8, [::1],
 * localhost). /metrics has no authentication, so anything else needs the
 * operator's --insecure, as plain tcp:// listeners do. */
bool metrics_addr_is_loopback(const char *addr);

/* Binds the HTTP server on `addr` (metrics_url()) and starts serving.
 * `c` must outlive the endpoint. Returns 0 or a negative errno (the
 * reason is logged). */
int metrics_start(struct metrics **mp, struct collector *c, const char *addr);

/* Stops serving and frees. NULL is a no-op. */
void metrics_stop(struct metrics *m);

/*
 * Renders the exposition of the current snapshot into a malloc'ed buffer
 * (*text, *len; the caller frees), or returns -EAGAIN when there is no
 * snapshot yet or -ENOMEM. Uses and fills the cache.
 */
int metrics_render(struct metrics *m, char **text, size_t *len);

#endif /* SECSTAT_AGENT_METRICS_H */
