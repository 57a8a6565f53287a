/* The relay provider: a fleet of agents as the source. */
#include "relay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <secstat/secstat.h>

#include "config.h"
#include "log.h"
#include "model.h"
#include "stats_tree.h"

/* The methods whose aggregates the relay serves, one per family. */
static const char *const relay_methods[] = {
    SECSTAT_METHOD_IPSEC_GET_STATISTICS1,
    SECSTAT_METHOD_IKEEXT_GET_STATISTICS1,
    SECSTAT_METHOD_ISCSI_GET_STATISTICS,
};
#define N_METHODS (sizeof(relay_methods) / sizeof(relay_methods[0]))

struct relay_state {
	secstat_fleet *fleet;
	size_t last_ok; /* hosts that answered last time, for the log */
	/* Each host's status of the last collection, so that a failure
	 * (TLS refused, access denied) is logged once with its reason. */
	uint32_t *last_status;
};

struct relay_records {
	const secstat_fleet *fleet; /* for the hosts' names; outlives these */
	secstat_fleet_result *result[N_METHODS];
};

static void *
addr(ProtobufCMessage *m, unsigned offset)
{
	return (char *)m + offset;
}

static ProtobufCMessage *
new_message(struct arena *a, const ProtobufCMessageDescriptor *d)
{
	ProtobufCMessage *m = arena_alloc(a, d->sizeof_message);

	d->message_init(m);
	return m;
}

/* The tree grows its lists with a capacity derived from the count (the
 * next power of two): keep that true for lists extended here. */
static size_t
pow2_at_least(size_t n)
{
	size_t c = 1;

	while (c < n) {
		c <<= 1;
	}
	return c;
}

static void
add_repeated(struct arena *a, ProtobufCMessage *dst,
             const ProtobufCMessage *src, const ProtobufCFieldDescriptor *fd,
             enum stat_kind kind)
{
	size_t *dn = addr(dst, fd->quantifier_offset);
	void **darr = addr(dst, fd->offset);
	size_t sn = model_field_count(src, fd);
	const char *sarr =
	    *(const char *const *)((const char *)src + fd->offset);
	size_t es = model_field_elem_size(fd);

	if (fd->type != PROTOBUF_C_TYPE_MESSAGE && *dn > 0) {
		/* Numbers: element-wise for statistics, labels kept. */
		if (kind == STAT_NONE || fd->type == PROTOBUF_C_TYPE_STRING ||
		    fd->type == PROTOBUF_C_TYPE_BYTES) {
			return;
		}
		for (size_t k = 0; k < sn && k < *dn; k++) {
			uint64_t v = model_field_u64(dst, fd, k) +
			             model_field_u64(src, fd, k);
			if (es == 8) {
				((uint64_t *)*darr)[k] = v;
			} else {
				((uint32_t *)*darr)[k] = (uint32_t)v;
			}
		}
		return;
	}
	{
		size_t total = *dn + sn;
		char *arr = arena_alloc(a, pow2_at_least(total) * es);

		if (*dn > 0) {
			memcpy(arr, *darr, *dn * es);
		}
		for (size_t k = 0; k < sn; k++) {
			char *slot = arr + (*dn + k) * es;

			if (fd->type == PROTOBUF_C_TYPE_MESSAGE) {
				const ProtobufCMessage *e =
				    ((const ProtobufCMessage *const *)sarr)[k];
				ProtobufCMessage *copy =
				    new_message(a, e->descriptor);
				relay_add(a, copy, e);
				*(ProtobufCMessage **)slot = copy;
			} else if (fd->type == PROTOBUF_C_TYPE_STRING) {
				*(char **)slot = arena_strdup(
				    a, ((const char *const *)sarr)[k]);
			} else {
				memcpy(slot, sarr + k * es, es);
			}
		}
		*darr = arr;
		*dn = total;
	}
}

void
relay_add(struct arena *a, ProtobufCMessage *dst, const ProtobufCMessage *src)
{
	const ProtobufCMessageDescriptor *d = src->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		const struct stat_field_meta *meta = stat_meta_field(d, i);
		enum stat_kind kind = meta != NULL ? meta->kind : STAT_NONE;
		bool have;

		if (!model_field_present(src, fd)) {
			continue;
		}
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			add_repeated(a, dst, src, fd, kind);
			continue;
		}
		have = model_field_present(dst, fd);
		switch (fd->type) {
		case PROTOBUF_C_TYPE_MESSAGE: {
			ProtobufCMessage **sub = addr(dst, fd->offset);

			if (*sub == NULL) {
				*sub = new_message(a, fd->descriptor);
				model_field_mark_present(dst, fd);
			}
			relay_add(a, *sub, model_field_message(src, fd, 0));
			break;
		}
		case PROTOBUF_C_TYPE_STRING:
			if (!have) {
				*(char **)addr(dst, fd->offset) = arena_strdup(
				    a,
				    *(const char *const *)((const char *)src +
				                           fd->offset));
				model_field_mark_present(dst, fd);
			}
			break;
		case PROTOBUF_C_TYPE_BYTES:
		case PROTOBUF_C_TYPE_FLOAT:
		case PROTOBUF_C_TYPE_DOUBLE:
			break; /* none in the statistics messages */
		default:
			if (kind == STAT_NONE) {
				if (!have) {
					model_field_set_u64(
					    dst, fd,
					    model_field_u64(src, fd, 0));
					model_field_mark_present(dst, fd);
				}
			} else {
				model_field_set_u64(
				    dst, fd,
				    (have ? model_field_u64(dst, fd, 0) : 0) +
				        model_field_u64(src, fd, 0));
				model_field_mark_present(dst, fd);
			}
		}
	}
}

static int
relay_probe(const struct agent_config *cfg, char *what, size_t len)
{
	(void)what;
	(void)len;
	return cfg->relay_hosts != NULL ? 0 : PROVIDER_NOT_CONFIGURED;
}

/* The token: the first line of FILE, as the CLI reads --token-file. */
static int
read_token(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (f == NULL) {
		int rv = -errno;

		log_err("relay: --relay-token-file %s: %s", path,
		        strerror(-rv));
		return rv;
	}
	if (fgets(buf, (int)len, f) == NULL) {
		buf[0] = '\0';
	}
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n == 0 || n > 512) {
		log_err("relay: --relay-token-file %s: no token of 1 to 512 "
		        "characters on its first line",
		        path);
		memset(buf, 0, len);
		return -EINVAL;
	}
	return 0;
}

/* The relay's client side of tls+tcp:// hosts (config_parse() has
 * checked that the halves come in pairs). */
static int
relay_tls_options(const struct agent_config *cfg,
                  struct secstat_fleet_options *o, char *token, size_t len)
{
	o->tls_ca_file = cfg->relay_tls_ca;
	o->tls_cert_file = cfg->relay_tls_cert;
	o->tls_key_file = cfg->relay_tls_key;
	if (cfg->relay_token_file != NULL) {
		int rv = read_token(cfg->relay_token_file, token, len);

		if (rv != 0) {
			return rv;
		}
		o->client_id = cfg->relay_client_id;
		o->token = token;
	}
	return 0;
}

static int
relay_init(const struct agent_config *cfg, void **state)
{
	struct relay_state *st;
	struct secstat_fleet_options o;
	char err[512];
	char token[600];
	uint32_t status;
	int rv;

	if (cfg->relay_hosts == NULL) {
		log_err("relay: no hosts file (--relay FILE)");
		return -ENOENT;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		return -ENOMEM;
	}
	secstat_fleet_options_init(&o);
	o.timeout_ms = cfg->relay_timeout_ms;
	if ((rv = relay_tls_options(cfg, &o, token, sizeof(token))) != 0) {
		free(st);
		return rv;
	}
	status = secstat_fleet_open_file(&st->fleet, cfg->relay_hosts, &o, err,
	                                 sizeof(err));
	/* The fleet keeps its own copy. */
	memset(token, 0, sizeof(token));
	if (status != ERROR_SUCCESS) {
		log_err("relay: %s",
		        err[0] != '\0' ? err : secstat_strerror(status));
		free(st);
		return status == ERROR_INVALID_PARAMETER ? -EINVAL : -ENOMEM;
	}
	st->last_status =
	    calloc(secstat_fleet_count(st->fleet), sizeof(*st->last_status));
	if (st->last_status == NULL) {
		secstat_fleet_close(st->fleet);
		free(st);
		return -ENOMEM;
	}
	log_info("relay: %zu hosts from %s", secstat_fleet_count(st->fleet),
	         cfg->relay_hosts);
	*state = st;
	return 0;
}

static void
relay_records_free(void *records)
{
	struct relay_records *r = records;

	if (r == NULL) {
		return;
	}
	for (size_t i = 0; i < N_METHODS; i++) {
		secstat_fleet_result_free(r->result[i]);
	}
	free(r);
}

static int
relay_collect(void *state, void **records)
{
	struct relay_state *st = state;
	struct relay_records *r = calloc(1, sizeof(*r));
	size_t ok = 0, n = secstat_fleet_count(st->fleet);

	if (r == NULL) {
		return -ENOMEM;
	}
	r->fleet = st->fleet;
	for (size_t i = 0; i < N_METHODS; i++) {
		if (secstat_fleet_query(st->fleet, relay_methods[i], NULL, NULL,
		                        &r->result[i]) != ERROR_SUCCESS) {
			relay_records_free(r);
			return -ENOMEM;
		}
		if (secstat_fleet_result_ok(r->result[i]) > ok) {
			ok = secstat_fleet_result_ok(r->result[i]);
		}
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t status = secstat_fleet_result_status(r->result[0], i);

		if (status != st->last_status[i]) {
			if (status != ERROR_SUCCESS) {
				log_warning(
				    "relay: host %s: %s",
				    secstat_fleet_host(st->fleet, i)->name,
				    secstat_status_name(status));
			}
			st->last_status[i] = status;
		}
	}
	if (ok != st->last_ok) {
		log_info("relay: %zu of %zu hosts answer", ok, n);
		st->last_ok = ok;
	}
	if (ok == 0) {
		relay_records_free(r);
		return -EHOSTUNREACH;
	}
	*records = r;
	return 0;
}

/* A deep copy of `src` (NULL stays NULL) in the tree's arena: the
 * records are freed independently of the snapshot. */
static ProtobufCMessage *
copy_message(struct arena *a, const ProtobufCMessage *src)
{
	ProtobufCMessage *m;

	if (src == NULL) {
		return NULL;
	}
	m = new_message(a, src->descriptor);
	relay_add(a, m, src);
	return m;
}

/* Host i's entry of RelayGetHosts, from its replies of the collection. */
static Secstat__V1__RelayHost *
relay_host(struct arena *a, const struct relay_records *r, size_t i)
{
	const struct secstat_fleet_host *fh = secstat_fleet_host(r->fleet, i);
	Secstat__V1__RelayHost *h = arena_alloc(a, sizeof(*h));
	const Secstat__V1__Reply *first = NULL;
	uint32_t failed = ERROR_SUCCESS;
	bool ok = false;

	secstat__v1__relay_host__init(h);
	if (fh != NULL) {
		h->name = arena_strdup(a, fh->name);
		h->url = arena_strdup(a, fh->url);
		if (fh->n_tags > 0) {
			h->tags = arena_alloc(a, fh->n_tags * sizeof(*h->tags));
			for (size_t k = 0; k < fh->n_tags; k++) {
				h->tags[k] = arena_strdup(a, fh->tags[k]);
			}
			h->n_tags = fh->n_tags;
		}
	}
	for (size_t m = 0; m < N_METHODS; m++) {
		uint32_t status = secstat_fleet_result_status(r->result[m], i);
		const Secstat__V1__Reply *rep =
		    secstat_fleet_result_reply(r->result[m], i);

		if (status != ERROR_SUCCESS) {
			if (failed == ERROR_SUCCESS) {
				failed = status;
				first = first != NULL ? first : rep;
			}
			continue;
		}
		ok = true;
		if (rep == NULL) {
			continue;
		}
		if (h->host == NULL && rep->host != NULL) {
			h->host = (Secstat__V1__HostInfo *)copy_message(
			    a, &rep->host->base);
		}
		if (!h->has_collected_unix_ms && rep->has_collected_unix_ms) {
			TREE_SET(h, collected_unix_ms, rep->collected_unix_ms);
		}
		switch (rep->result_case) {
		case SECSTAT__V1__REPLY__RESULT_IPSEC:
			h->ipsec = (Secstat__V1__IpsecGetStatisticsResponse *)
			    copy_message(a, &rep->ipsec->base);
			break;
		case SECSTAT__V1__REPLY__RESULT_IKEEXT:
			h->ikeext = (Secstat__V1__IkeextGetStatisticsResponse *)
			    copy_message(a, &rep->ikeext->base);
			break;
		case SECSTAT__V1__REPLY__RESULT_ISCSI:
			h->iscsi = (Secstat__V1__IscsiGetStatisticsResponse *)
			    copy_message(a, &rep->iscsi->base);
			break;
		default:
			break;
		}
	}
	TREE_SET(h, status, ok ? ERROR_SUCCESS : failed);
	if (!ok) {
		h->message =
		    arena_strdup(a, first != NULL && first->message != NULL
		                        ? first->message
		                        : secstat_strerror(failed));
	}
	return h;
}

static void
relay_contribute(const void *records, struct stats_tree *tree)
{
	const struct relay_records *r = records;
	ProtobufCMessage *dst[N_METHODS] = {
	    &tree->ipsec_response.base,
	    &tree->ike_response.base,
	    &tree->iscsi_response.base,
	};

	for (size_t i = 0; i < N_METHODS; i++) {
		const Secstat__V1__Reply *agg =
		    secstat_fleet_result_aggregate(r->result[i]);
		const ProtobufCMessage *m = NULL;

		if (agg == NULL) {
			continue;
		}
		switch (agg->result_case) {
		case SECSTAT__V1__REPLY__RESULT_IPSEC:
			m = &agg->ipsec->base;
			break;
		case SECSTAT__V1__REPLY__RESULT_IKEEXT:
			m = &agg->ikeext->base;
			break;
		case SECSTAT__V1__REPLY__RESULT_ISCSI:
			m = &agg->iscsi->base;
			break;
		default:
			break;
		}
		if (m != NULL && m->descriptor == dst[i]->descriptor) {
			relay_add(&tree->arena, dst[i], m);
		}
	}

	{
		Secstat__V1__RelayHostsResponse *rh = &tree->relay_response;
		size_t n = secstat_fleet_result_count(r->result[0]);

		rh->hosts =
		    arena_alloc(&tree->arena, (n ? n : 1) * sizeof(*rh->hosts));
		for (size_t i = 0; i < n; i++) {
			rh->hosts[i] = relay_host(&tree->arena, r, i);
		}
		rh->n_hosts = n;
	}
}

static void
relay_fini(void *state)
{
	struct relay_state *st = state;

	if (st != NULL) {
		secstat_fleet_close(st->fleet);
		free(st->last_status);
		free(st);
	}
}

const struct provider_ops relay_provider = {
    .abi_version = PROVIDER_ABI_VERSION,
    .name = "relay",
    .description = "aggregate of the agents of a hosts file (--relay)",
    .families = PROVIDES_IPSEC | PROVIDES_IKE | PROVIDES_ISCSI | PROVIDES_RELAY,
    .simulated = false,
    .probe = relay_probe,
    .init = relay_init,
    .collect = relay_collect,
    .contribute = relay_contribute,
    .records_free = relay_records_free,
    .fini = relay_fini,
};
