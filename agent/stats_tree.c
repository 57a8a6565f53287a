/* The snapshot model: every Windows structure wired up front, all absent. */
#include "stats_tree.h"

#include <string.h>

#include "model.h"

static void
ipsec_init(struct stats_tree *t)
{
	secstat__v1__ipsec_statistics__init(&t->ipsec);
	secstat__v1__ipsec_aggregate_sa_statistics__init(&t->ipsec_sa);
	secstat__v1__ipsec_esp_drop_packet_statistics__init(&t->ipsec_esp_drop);
	secstat__v1__ipsec_ah_drop_packet_statistics__init(&t->ipsec_ah_drop);
	secstat__v1__ipsec_aggregate_drop_packet_statistics__init(
	    &t->ipsec_drop);
	secstat__v1__ipsec_traffic_statistics__init(&t->ipsec_in);
	secstat__v1__ipsec_traffic_statistics__init(&t->ipsec_out);
	t->ipsec.aggregate_sa_statistics = &t->ipsec_sa;
	t->ipsec.esp_drop_packet_statistics = &t->ipsec_esp_drop;
	t->ipsec.ah_drop_packet_statistics = &t->ipsec_ah_drop;
	t->ipsec.aggregate_drop_packet_statistics = &t->ipsec_drop;
	t->ipsec.inbound_traffic_statistics = &t->ipsec_in;
	t->ipsec.outbound_traffic_statistics = &t->ipsec_out;

	secstat__v1__ipsec_get_statistics_response__init(&t->ipsec_response);
	t->ipsec_response.statistics = &t->ipsec;
}

static void
ike_init(struct stats_tree *t)
{
	Secstat__V1__IkeextKeymoduleStatistics **slots[KEY_MODULE_COUNT] = {
	    [KEY_MODULE_IKE] = &t->ike.ike_statistics,
	    [KEY_MODULE_AUTHIP] = &t->ike.authip_statistics,
	    [KEY_MODULE_IKEV2] = &t->ike.ike_v2_statistics,
	};

	secstat__v1__ikeext_statistics__init(&t->ike);
	for (int m = 0; m < KEY_MODULE_COUNT; m++) {
		Secstat__V1__IkeextKeymoduleStatistics *km = &t->km[m];

		secstat__v1__ikeext_keymodule_statistics__init(km);
		for (int v = 0; v < IP_VERSION_COUNT; v++) {
			secstat__v1__ikeext_ip_version_specific_keymodule_statistics__init(
			    &t->km_ip[m][v]);
		}
		km->v4_statistics = &t->km_ip[m][IP_V4];
		km->v6_statistics = &t->km_ip[m][IP_V6];
		*slots[m] = km;
	}
	secstat__v1__ikeext_common_statistics__init(&t->common);
	for (int v = 0; v < IP_VERSION_COUNT; v++) {
		secstat__v1__ikeext_ip_version_specific_common_statistics__init(
		    &t->common_ip[v]);
	}
	t->common.v4_statistics = &t->common_ip[IP_V4];
	t->common.v6_statistics = &t->common_ip[IP_V6];
	t->ike.common_statistics = &t->common;

	secstat__v1__ikeext_get_statistics_response__init(&t->ike_response);
	t->ike_response.statistics = &t->ike;
}

void
stats_tree_init(struct stats_tree *t)
{
	memset(t, 0, sizeof(*t));
	t->arena = (struct arena)ARENA_INIT;
	ipsec_init(t);
	ike_init(t);
	secstat__v1__iscsi_get_statistics_response__init(&t->iscsi_response);
	secstat__v1__list_security_associations_response__init(&t->sa_response);
	secstat__v1__relay_hosts_response__init(&t->relay_response);
}

void
stats_tree_release(struct stats_tree *t)
{
	arena_release(&t->arena);
}

uint64_t *
stats_tree_ike_errors(struct stats_tree *t, enum key_module m)
{
	Secstat__V1__IkeextKeymoduleStatistics *km = &t->km[m];

	if (km->n_error_frequency_table == 0) {
		memset(t->km_errors[m], 0, sizeof(t->km_errors[m]));
		km->error_frequency_table = t->km_errors[m];
		km->n_error_frequency_table = IKE_ERROR_CODE_COUNT;
		km->has_error_code_base = 1;
		km->error_code_base = IKE_ERROR_CODE_BASE;
	}
	return t->km_errors[m];
}

/*
 * Appends one pointer slot to a repeated field kept in the arena. The
 * capacity is the next power of two of the count, so it is derived, not
 * stored, and growth stays amortised O(1).
 */
static void **
push_slot(struct arena *a, void ***array, size_t *n)
{
	size_t cap = 1;

	while (cap < *n) {
		cap <<= 1;
	}
	if (*n == 0 || *n == cap) {
		*array =
		    arena_grow(a, *array, *n, *n ? cap * 2 : 1, sizeof(void *));
	}
	return &(*array)[(*n)++];
}

void
stats_tree_add_xfrm_mib(struct stats_tree *t, const char *name, uint64_t value)
{
	Secstat__V1__XfrmMibCounter *c = arena_alloc(&t->arena, sizeof(*c));

	secstat__v1__xfrm_mib_counter__init(c);
	c->name = arena_strdup(&t->arena, name);
	c->has_value = 1;
	c->value = value;
	*push_slot(&t->arena, (void ***)&t->ipsec_response.xfrm_mib,
	           &t->ipsec_response.n_xfrm_mib) = c;
}

Secstat__V1__NamespaceIpsecStatistics *
stats_tree_add_namespace(struct stats_tree *t, const char *netns)
{
	struct arena *a = &t->arena;
	Secstat__V1__NamespaceIpsecStatistics *ns = arena_alloc(a, sizeof(*ns));
	Secstat__V1__IpsecStatistics *s = arena_alloc(a, sizeof(*s));

	secstat__v1__namespace_ipsec_statistics__init(ns);
	secstat__v1__ipsec_statistics__init(s);
	s->aggregate_sa_statistics =
	    arena_alloc(a, sizeof(*s->aggregate_sa_statistics));
	secstat__v1__ipsec_aggregate_sa_statistics__init(
	    s->aggregate_sa_statistics);
	s->esp_drop_packet_statistics =
	    arena_alloc(a, sizeof(*s->esp_drop_packet_statistics));
	secstat__v1__ipsec_esp_drop_packet_statistics__init(
	    s->esp_drop_packet_statistics);
	s->ah_drop_packet_statistics =
	    arena_alloc(a, sizeof(*s->ah_drop_packet_statistics));
	secstat__v1__ipsec_ah_drop_packet_statistics__init(
	    s->ah_drop_packet_statistics);
	s->aggregate_drop_packet_statistics =
	    arena_alloc(a, sizeof(*s->aggregate_drop_packet_statistics));
	secstat__v1__ipsec_aggregate_drop_packet_statistics__init(
	    s->aggregate_drop_packet_statistics);
	s->inbound_traffic_statistics =
	    arena_alloc(a, sizeof(*s->inbound_traffic_statistics));
	secstat__v1__ipsec_traffic_statistics__init(
	    s->inbound_traffic_statistics);
	s->outbound_traffic_statistics =
	    arena_alloc(a, sizeof(*s->outbound_traffic_statistics));
	secstat__v1__ipsec_traffic_statistics__init(
	    s->outbound_traffic_statistics);

	ns->netns = arena_strdup(a, netns);
	ns->statistics = s;
	*push_slot(a, (void ***)&t->ipsec_response.namespaces,
	           &t->ipsec_response.n_namespaces) = ns;
	return ns;
}

Secstat__V1__IscsiHba *
stats_tree_add_hba(struct stats_tree *t, const char *instance_name)
{
	Secstat__V1__IscsiHba *h = arena_alloc(&t->arena, sizeof(*h));

	secstat__v1__iscsi_hba__init(h);
	h->instance_name = arena_strdup(&t->arena, instance_name);
	*push_slot(&t->arena, (void ***)&t->iscsi_response.hbas,
	           &t->iscsi_response.n_hbas) = h;
	return h;
}

Secstat__V1__IkeSaDetail *
stats_tree_add_ike_sa(struct stats_tree *t)
{
	Secstat__V1__IkeSaDetail *sa = arena_alloc(&t->arena, sizeof(*sa));

	secstat__v1__ike_sa_detail__init(sa);
	*push_slot(&t->arena, (void ***)&t->sa_response.ike_sas,
	           &t->sa_response.n_ike_sas) = sa;
	return sa;
}

static Secstat__V1__IpsecSaDetail *
new_ipsec_sa(struct stats_tree *t)
{
	Secstat__V1__IpsecSaDetail *sa = arena_alloc(&t->arena, sizeof(*sa));

	secstat__v1__ipsec_sa_detail__init(sa);
	return sa;
}

Secstat__V1__IpsecSaDetail *
stats_tree_add_ipsec_sa(struct stats_tree *t)
{
	Secstat__V1__IpsecSaDetail *sa = new_ipsec_sa(t);

	*push_slot(&t->arena, (void ***)&t->sa_response.ipsec_sas,
	           &t->sa_response.n_ipsec_sas) = sa;
	return sa;
}

Secstat__V1__IpsecSaDetail *
stats_tree_add_child_sa(struct stats_tree *t, Secstat__V1__IkeSaDetail *ike)
{
	Secstat__V1__IpsecSaDetail *sa = new_ipsec_sa(t);

	*push_slot(&t->arena, (void ***)&ike->child_sas, &ike->n_child_sas) =
	    sa;
	return sa;
}

Secstat__V1__TunnelDetail *
stats_tree_add_tunnel(struct stats_tree *t)
{
	Secstat__V1__TunnelDetail *tun = arena_alloc(&t->arena, sizeof(*tun));

	secstat__v1__tunnel_detail__init(tun);
	*push_slot(&t->arena, (void ***)&t->sa_response.tunnels,
	           &t->sa_response.n_tunnels) = tun;
	return tun;
}

Secstat__V1__ConnectionDetail *
stats_tree_add_connection(struct stats_tree *t)
{
	Secstat__V1__ConnectionDetail *c = arena_alloc(&t->arena, sizeof(*c));

	secstat__v1__connection_detail__init(c);
	*push_slot(&t->arena, (void ***)&t->sa_response.connections,
	           &t->sa_response.n_connections) = c;
	return c;
}

static size_t
spi_hash(uint32_t spi, size_t cap)
{
	/* SPIs are random per RFC 4303, but not every implementation's are:
	 * mix the bits anyway (Knuth's multiplicative hash). */
	return (size_t)((spi * 2654435761u) & (cap - 1));
}

static void
spi_insert(uint32_t *slots, size_t cap, uint32_t spi)
{
	size_t i = spi_hash(spi, cap);

	while (slots[i] != 0 && slots[i] != spi) {
		i = (i + 1) & (cap - 1);
	}
	slots[i] = spi;
}

void
stats_tree_note_spi(struct stats_tree *t, uint32_t spi)
{
	struct spi_set *s = &t->counted_spis;

	if (spi == 0 || stats_tree_spi_counted(t, spi)) {
		return;
	}
	if ((s->n + 1) * 2 > s->cap) { /* keep the load factor under 1/2 */
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint32_t *slots = arena_alloc(&t->arena, cap * sizeof(*slots));

		for (size_t i = 0; i < s->cap; i++) {
			if (s->slots[i] != 0) {
				spi_insert(slots, cap, s->slots[i]);
			}
		}
		s->slots = slots;
		s->cap = cap;
	}
	spi_insert(s->slots, s->cap, spi);
	s->n++;
}

bool
stats_tree_spi_counted(const struct stats_tree *t, uint32_t spi)
{
	const struct spi_set *s = &t->counted_spis;

	if (s->cap == 0 || spi == 0) {
		return false;
	}
	for (size_t i = spi_hash(spi, s->cap); s->slots[i] != 0;
	     i = (i + 1) & (s->cap - 1)) {
		if (s->slots[i] == spi) {
			return true;
		}
	}
	return false;
}

void
stats_tree_finish(struct stats_tree *t)
{
	model_prune(&t->ipsec_response.base);
	model_prune(&t->ike_response.base);
	model_prune(&t->iscsi_response.base);
	model_prune(&t->sa_response.base);
	model_prune(&t->relay_response.base);
}
