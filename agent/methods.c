/* The method table and the result builders (version projections). */
#include "methods.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostinfo.h"
#include "model.h"
#include "stat_meta.h"
#include "stats_tree.h"

/*
 * IPSEC_STATISTICS0 is IPSEC_STATISTICS1 without three members. The tree
 * is shared by every method of the snapshot, so the projection copies the
 * three messages it changes (into the scratch arena) and borrows the rest.
 */
static Secstat__V1__IpsecStatistics *
ipsec_v0(struct arena *a, const Secstat__V1__IpsecStatistics *in)
{
	Secstat__V1__IpsecStatistics *s;

	if (in == NULL) {
		return NULL;
	}
	s = arena_alloc(a, sizeof(*s));
	*s = *in;
	if (in->aggregate_drop_packet_statistics != NULL) {
		Secstat__V1__IpsecAggregateDropPacketStatistics *d =
		    arena_alloc(a, sizeof(*d));
		*d = *in->aggregate_drop_packet_statistics;
		d->has_total_drop_packets_inbound = 0;
		d->total_drop_packets_inbound = 0;
		s->aggregate_drop_packet_statistics = d;
	}
	if (in->inbound_traffic_statistics != NULL) {
		Secstat__V1__IpsecTrafficStatistics *t =
		    arena_alloc(a, sizeof(*t));
		*t = *in->inbound_traffic_statistics;
		t->has_total_successful_packets = 0;
		t->total_successful_packets = 0;
		s->inbound_traffic_statistics = t;
	}
	if (in->outbound_traffic_statistics != NULL) {
		Secstat__V1__IpsecTrafficStatistics *t =
		    arena_alloc(a, sizeof(*t));
		*t = *in->outbound_traffic_statistics;
		t->has_total_successful_packets = 0;
		t->total_successful_packets = 0;
		s->outbound_traffic_statistics = t;
	}
	/* A block that only held version-1 members is absent in version 0.
	 * Pruning only writes to the copies: the borrowed blocks were
	 * pruned with the tree and hold something. */
	return model_prune(&s->base) ? s : NULL;
}

static void
result_ipsec1(struct method_build *b, Secstat__V1__Reply *reply)
{
	reply->result_case = SECSTAT__V1__REPLY__RESULT_IPSEC;
	reply->ipsec = &b->tree->ipsec_response;
}

static void
result_ipsec0(struct method_build *b, Secstat__V1__Reply *reply)
{
	const Secstat__V1__IpsecGetStatisticsResponse *in =
	    &b->tree->ipsec_response;
	Secstat__V1__IpsecGetStatisticsResponse *r =
	    arena_alloc(b->arena, sizeof(*r));

	*r = *in;
	r->statistics = ipsec_v0(b->arena, in->statistics);
	if (in->n_namespaces > 0) {
		r->namespaces = arena_alloc(
		    b->arena, in->n_namespaces * sizeof(*r->namespaces));
		for (size_t i = 0; i < in->n_namespaces; i++) {
			Secstat__V1__NamespaceIpsecStatistics *ns =
			    arena_alloc(b->arena, sizeof(*ns));
			*ns = *in->namespaces[i];
			ns->statistics =
			    ipsec_v0(b->arena, in->namespaces[i]->statistics);
			r->namespaces[i] = ns;
		}
	}
	reply->result_case = SECSTAT__V1__REPLY__RESULT_IPSEC;
	reply->ipsec = r;
}

static void
result_ikeext1(struct method_build *b, Secstat__V1__Reply *reply)
{
	reply->result_case = SECSTAT__V1__REPLY__RESULT_IKEEXT;
	reply->ikeext = &b->tree->ike_response;
}

/* IKEEXT_STATISTICS0 has no IKEv2 key module. */
static void
result_ikeext0(struct method_build *b, Secstat__V1__Reply *reply)
{
	const Secstat__V1__IkeextGetStatisticsResponse *in =
	    &b->tree->ike_response;
	Secstat__V1__IkeextGetStatisticsResponse *r =
	    arena_alloc(b->arena, sizeof(*r));

	*r = *in;
	if (in->statistics != NULL) {
		Secstat__V1__IkeextStatistics *s =
		    arena_alloc(b->arena, sizeof(*s));
		*s = *in->statistics;
		s->ike_v2_statistics = NULL;
		r->statistics = model_prune(&s->base) ? s : NULL;
	}
	reply->result_case = SECSTAT__V1__REPLY__RESULT_IKEEXT;
	reply->ikeext = r;
}

static void
result_iscsi(struct method_build *b, Secstat__V1__Reply *reply)
{
	reply->result_case = SECSTAT__V1__REPLY__RESULT_ISCSI;
	reply->iscsi = &b->tree->iscsi_response;
}

static void
result_sas(struct method_build *b, Secstat__V1__Reply *reply)
{
	reply->result_case = SECSTAT__V1__REPLY__RESULT_SECURITY_ASSOCIATIONS;
	reply->security_associations = &b->tree->sa_response;
}

static void
result_relay_hosts(struct method_build *b, Secstat__V1__Reply *reply)
{
	reply->result_case = SECSTAT__V1__REPLY__RESULT_RELAY_HOSTS;
	reply->relay_hosts = &b->tree->relay_response;
}

static void
result_host_info(struct method_build *b, Secstat__V1__Reply *reply)
{
	Secstat__V1__HostInfoResponse *r = arena_alloc(b->arena, sizeof(*r));

	secstat__v1__host_info_response__init(r);
	r->host = (Secstat__V1__HostInfo *)b->host;
	reply->result_case = SECSTAT__V1__REPLY__RESULT_HOST_INFO;
	reply->host_info = r;
}

/* Encoded once at start-up: only the configuration changes it. */
static void
result_capabilities(struct method_build *b, Secstat__V1__Reply *reply)
{
	b->raw_field = SECSTAT__V1__REPLY__RESULT_CAPABILITIES;
	b->raw = b->capabilities;
	b->raw_len = b->capabilities_len;
}

const struct method methods_table[] = {
    {"IPsecGetStatistics0", PROVIDES_IPSEC, METHODS_FWP_E_PROVIDER_NOT_FOUND,
     result_ipsec0},
    {"IPsecGetStatistics1", PROVIDES_IPSEC, METHODS_FWP_E_PROVIDER_NOT_FOUND,
     result_ipsec1},
    {"IkeextGetStatistics0", PROVIDES_IKE, METHODS_FWP_E_IKEEXT_NOT_RUNNING,
     result_ikeext0},
    {"IkeextGetStatistics1", PROVIDES_IKE, METHODS_FWP_E_IKEEXT_NOT_RUNNING,
     result_ikeext1},
    {"IscsiGetStatistics", PROVIDES_ISCSI, METHODS_FWP_E_PROVIDER_NOT_FOUND,
     result_iscsi},
    {"ListSecurityAssociations", PROVIDES_IPSEC | PROVIDES_IKE,
     METHODS_FWP_E_PROVIDER_NOT_FOUND, result_sas},
    {"GetHostInfo", 0, METHODS_ERROR_SUCCESS, result_host_info},
    {"GetCapabilities", 0, METHODS_ERROR_SUCCESS, result_capabilities},
    {"RelayGetHosts", PROVIDES_RELAY, METHODS_FWP_E_PROVIDER_NOT_FOUND,
     result_relay_hosts},
};

const size_t methods_count = sizeof(methods_table) / sizeof(methods_table[0]);

int
methods_find(const char *name)
{
	for (size_t i = 0; i < methods_count; i++) {
		if (strcmp(methods_table[i].name, name) == 0) {
			return (int)i;
		}
	}
	return -1;
}

void
methods_family_text(unsigned families, char *buf, size_t len)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
	    {PROVIDES_IPSEC, "IPsec"},
	    {PROVIDES_IKE, "IKE"},
	    {PROVIDES_ISCSI, "iSCSI"},
	    {PROVIDES_RELAY, "relay"},
	};
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((families & names[i].bit) != 0 && n < len) {
			int m = snprintf(buf + n, len - n, "%s%s",
			                 n ? " or " : "", names[i].name);
			n += m > 0 ? (size_t)m : 0;
		}
	}
}

/* The Family enum values of a PROVIDES_* mask, into `out` (3 slots). */
static size_t
families_of(unsigned mask, Secstat__V1__Family *out)
{
	static const Secstat__V1__Family all[] = {
	    SECSTAT__V1__FAMILY__FAMILY_IPSEC,
	    SECSTAT__V1__FAMILY__FAMILY_IKE,
	    SECSTAT__V1__FAMILY__FAMILY_ISCSI,
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if ((mask & PROVIDER_FAMILY(all[i])) != 0) {
			out[n++] = all[i];
		}
	}
	return n;
}

static Secstat__V1__ProviderInfo *
provider_info(struct arena *a, const struct provider_ops *ops, bool enabled)
{
	Secstat__V1__ProviderInfo *pi = arena_alloc(a, sizeof(*pi));

	secstat__v1__provider_info__init(pi);
	pi->name = (char *)ops->name;
	pi->description = (char *)ops->description;
	pi->families = arena_alloc(a, 3 * sizeof(*pi->families));
	pi->n_families = families_of(ops->families, pi->families);
	pi->has_enabled = 1;
	pi->enabled = enabled;
	return pi;
}

int
methods_capabilities_encode(const struct provider_ops *const *known,
                            const struct provider_ops *const *enabled,
                            size_t n_enabled, unsigned collect_interval_ms,
                            uint8_t **out, size_t *len)
{
	Secstat__V1__CapabilitiesResponse c;
	struct arena a = ARENA_INIT;
	size_t n_known = 0;
	size_t n_stats = 0;
	int rv = 0;

	secstat__v1__capabilities_response__init(&c);
	c.methods = arena_alloc(&a, methods_count * sizeof(*c.methods));
	c.n_methods = methods_count;
	for (size_t i = 0; i < methods_count; i++) {
		c.methods[i] = (char *)methods_table[i].name;
	}

	while (known != NULL && known[n_known] != NULL) {
		n_known++;
	}
	c.providers =
	    arena_alloc(&a, (n_known + n_enabled) * sizeof(*c.providers));
	for (size_t i = 0; i < n_known; i++) {
		bool on = false;
		for (size_t j = 0; j < n_enabled; j++) {
			on = on || enabled[j] == known[i];
		}
		c.providers[c.n_providers++] = provider_info(&a, known[i], on);
	}
	for (size_t j = 0; j < n_enabled; j++) {
		bool listed = false;
		for (size_t i = 0; i < n_known; i++) {
			listed = listed || enabled[j] == known[i];
		}
		if (!listed) {
			c.providers[c.n_providers++] =
			    provider_info(&a, enabled[j], true);
		}
	}

	c.has_schema_version = 1;
	c.schema_version = HOSTINFO_SCHEMA_VERSION;
	for (unsigned m = 0; m < stat_meta_n_messages; m++) {
		for (unsigned f = 0; f < stat_meta_messages[m].n_fields; f++) {
			n_stats +=
			    stat_meta_messages[m].fields[f].kind != STAT_NONE;
		}
	}
	c.stats = arena_alloc(&a, (n_stats ? n_stats : 1) * sizeof(*c.stats));
	for (unsigned m = 0; m < stat_meta_n_messages; m++) {
		const struct stat_message_meta *mm = &stat_meta_messages[m];

		for (unsigned f = 0; f < mm->n_fields; f++) {
			const struct stat_field_meta *fm = &mm->fields[f];
			Secstat__V1__StatDescriptor *d;

			if (fm->kind == STAT_NONE) {
				continue;
			}
			d = arena_alloc(&a, sizeof(*d));
			secstat__v1__stat_descriptor__init(d);
			d->message = (char *)mm->desc->name;
			d->field = (char *)fm->name;
			d->json_name = (char *)fm->json_name;
			d->has_kind = 1;
			d->kind = (Secstat__V1__StatKind)fm->kind;
			d->unit = (char *)fm->unit;
			d->help = (char *)fm->help;
			c.stats[c.n_stats++] = d;
		}
	}
	c.has_max_request_bytes = 1;
	c.max_request_bytes = METHODS_MAX_REQUEST_BYTES;
	c.has_collect_interval_ms = 1;
	c.collect_interval_ms = collect_interval_ms;

	*len = secstat__v1__capabilities_response__get_packed_size(&c);
	*out = malloc(*len ? *len : 1);
	if (*out == NULL) {
		rv = -ENOMEM;
		goto out;
	}
	secstat__v1__capabilities_response__pack(&c, *out);
out:
	arena_release(&a);
	return rv;
}
