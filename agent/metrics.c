/*
 * GET /metrics: the Prometheus exposition of the current snapshot.
 *
 * A scrape runs on an nng HTTP callback thread and must not block: it
 * takes a reference to the collector's current snapshot (never waits on
 * a collection), and renders only when the snapshot changed since the
 * previous scrape; otherwise the cached text is copied into the response.
 * Rendering decodes the snapshot's own encoded replies, so a scrape shows
 * exactly what an RPC caller gets from the same snapshot.
 */
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "collector.h"
#include "log.h"
#include "methods.h"
#include "prom.h"
#include "snapshot.h"

struct metrics {
	struct collector *collector;
	nng_http_server *server;
	nng_http_handler *handler;
	pthread_mutex_t lock; /* the cache */
	uint64_t cached_seq;  /* 0: nothing cached */
	char *cached;
	size_t cached_len;
};

/* The families exported, by the method whose reply carries each. */
static const char *const stat_methods[] = {
    "IPsecGetStatistics1",
    "IkeextGetStatistics1",
    "IscsiGetStatistics",
};

int
metrics_url(const char *addr, char *url, size_t len)
{
	const char *colon = strrchr(addr, ':');
	const char *port;
	char host[256];
	char *end;
	unsigned long p;
	size_t hl;

	if (colon == NULL || colon == addr) {
		return -EINVAL;
	}
	port = colon + 1;
	errno = 0;
	p = strtoul(port, &end, 10);
	if (*port < '0' || *port > '9' || *end != '\0' || errno != 0 ||
	    p == 0 || p > 65535) {
		return -EINVAL;
	}
	hl = (size_t)(colon - addr);
	if (hl >= sizeof(host)) {
		return -EINVAL;
	}
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (host[0] == '['
	        ? host[hl - 1] != ']' || hl < 3
	        : strchr(host, ':') != NULL || strpbrk(host, "/?#@ ") != NULL) {
		return -EINVAL;
	}
	/* nng binds every address for an empty host. */
	if (strcmp(host, "*") == 0) {
		host[0] = '\0';
	}
	if ((size_t)snprintf(url, len, "http://%s:%lu", host, p) >= len) {
		return -EINVAL;
	}
	return 0;
}

bool
metrics_addr_is_loopback(const char *addr)
{
	const char *colon = strrchr(addr, ':');
	char host[64];
	size_t hl = colon != NULL ? (size_t)(colon - addr) : 0;
	struct in_addr a4;

	if (hl == 0 || hl >= sizeof(host)) {
		return false; /* "*:PORT" and ":PORT" bind everything */
	}
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0) {
		return true;
	}
	return inet_pton(AF_INET, host, &a4) == 1 &&
	       (ntohl(a4.s_addr) >> 24) == 127;
}

/* Renders snapshot `s` into a new buffer. */
static int
render(const struct snapshot *s, char **text, size_t *len)
{
	struct prom_writer *w = prom_writer_new();
	Secstat__V1__Reply *replies[3] = {NULL, NULL, NULL};
	Secstat__V1__Reply *info = NULL;
	FILE *f = NULL;
	bool sim = false;
	int idx;
	int rv = -ENOMEM;

	*text = NULL;
	*len = 0;
	if (w == NULL) {
		goto out;
	}
	for (size_t i = 0; i < 3; i++) {
		struct snapshot_bytes b;

		if ((idx = methods_find(stat_methods[i])) < 0) {
			continue;
		}
		b = snapshot_reply(s, (size_t)idx);
		replies[i] = secstat__v1__reply__unpack(NULL, b.len, b.data);
		if (replies[i] == NULL) {
			goto out;
		}
		if (replies[i]->status == METHODS_ERROR_SUCCESS) {
			sim = sim || replies[i]->simulated;
			if ((rv = prom_add_stats(w, replies[i], NULL, 0)) !=
			    0) {
				goto out;
			}
		}
	}
	if ((idx = methods_find("GetHostInfo")) >= 0) {
		struct snapshot_bytes b = snapshot_reply(s, (size_t)idx);

		if ((info = secstat__v1__reply__unpack(NULL, b.len, b.data)) ==
		    NULL) {
			rv = -ENOMEM;
			goto out;
		}
		/* Simulated when any exported family is. */
		info->has_simulated = 1;
		info->simulated = sim;
		if ((rv = prom_add_host(w, info, NULL, 0)) != 0) {
			goto out;
		}
	}
	if ((f = open_memstream(text, len)) == NULL) {
		rv = -ENOMEM;
		goto out;
	}
	prom_write(w, f);
	rv = fclose(f) == 0 ? 0 : -ENOMEM;
	if (rv != 0) {
		free(*text);
		*text = NULL;
	}
out:
	for (size_t i = 0; i < 3; i++) {
		if (replies[i] != NULL) {
			secstat__v1__reply__free_unpacked(replies[i], NULL);
		}
	}
	if (info != NULL) {
		secstat__v1__reply__free_unpacked(info, NULL);
	}
	prom_writer_free(w);
	return rv;
}

int
metrics_render(struct metrics *m, char **text, size_t *len)
{
	struct snapshot *s = collector_acquire(m->collector);
	int rv = 0;

	*text = NULL;
	*len = 0;
	if (s == NULL) {
		return -EAGAIN;
	}
	pthread_mutex_lock(&m->lock);
	if (m->cached_seq != s->seq) {
		char *t;
		size_t l;

		/* Rendered under the lock: concurrent scrapes of a new
		 * snapshot wait for one rendering instead of each doing
		 * it. */
		if ((rv = render(s, &t, &l)) == 0) {
			free(m->cached);
			m->cached = t;
			m->cached_len = l;
			m->cached_seq = s->seq;
		}
	}
	if (rv == 0) {
		if ((*text = malloc(m->cached_len + 1)) == NULL) {
			rv = -ENOMEM;
		} else {
			memcpy(*text, m->cached, m->cached_len);
			*len = m->cached_len;
		}
	}
	pthread_mutex_unlock(&m->lock);
	snapshot_release(s);
	return rv;
}

static void
scrape_cb(nng_aio *aio)
{
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	struct metrics *m = nng_http_handler_get_data(h);
	nng_http_res *res = NULL;
	char *text = NULL;
	size_t len = 0;
	int rv;

	rv = metrics_render(m, &text, &len);
	if (rv == -EAGAIN) {
		/* Before the first snapshot: not an error of the agent. */
		rv = nng_http_res_alloc_error(
		    &res, NNG_HTTP_STATUS_SERVICE_UNAVAILABLE);
	} else if (rv != 0) {
		rv = nng_http_res_alloc_error(
		    &res, NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR);
	} else if ((rv = nng_http_res_alloc(&res)) == 0 &&
	           (rv = nng_http_res_set_header(res, "Content-Type",
	                                         PROM_CONTENT_TYPE)) == 0) {
		rv = nng_http_res_copy_data(res, text, len);
	}
	free(text);
	if (rv != 0) {
		nng_http_res_free(res);
		nng_aio_finish(aio, rv);
		return;
	}
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

int
metrics_start(struct metrics **mp, struct collector *c, const char *addr)
{
	struct metrics *m;
	char url[300];
	nng_url *u = NULL;
	int rv;

	*mp = NULL;
	if (metrics_url(addr, url, sizeof(url)) != 0) {
		log_err("--metrics-listen: '%s' is not ADDR:PORT", addr);
		return -EINVAL;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		return -ENOMEM;
	}
	m->collector = c;
	pthread_mutex_init(&m->lock, NULL);
	if ((rv = nng_url_parse(&u, url)) != 0 ||
	    (rv = nng_http_server_hold(&m->server, u)) != 0 ||
	    (rv = nng_http_handler_alloc(&m->handler, METRICS_PATH,
	                                 scrape_cb)) != 0 ||
	    (rv = nng_http_handler_set_data(m->handler, m, NULL)) != 0) {
		goto fail;
	}
	if ((rv = nng_http_server_add_handler(m->server, m->handler)) != 0) {
		goto fail;
	}
	m->handler = NULL; /* the server owns it now */
	if ((rv = nng_http_server_start(m->server)) != 0) {
		goto fail;
	}
	nng_url_free(u);
	log_info("serving Prometheus metrics on %s%s", url, METRICS_PATH);
	*mp = m;
	return 0;

fail:
	log_err("--metrics-listen %s: %s", addr, nng_strerror(rv));
	if (u != NULL) {
		nng_url_free(u);
	}
	if (m->handler != NULL) {
		nng_http_handler_free(m->handler);
	}
	if (m->server != NULL) {
		nng_http_server_release(m->server);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
	return rv == NNG_EADDRINUSE ? -EADDRINUSE : -EINVAL;
}

void
metrics_stop(struct metrics *m)
{
	if (m == NULL) {
		return;
	}
	nng_http_server_stop(m->server);
	nng_http_server_release(m->server);
	pthread_mutex_destroy(&m->lock);
	free(m->cached);
	free(m);
}
