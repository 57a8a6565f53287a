/* The built-in provider list. Order is contribution order: when two
 * providers observe the same field, docs/data-model.md names the rule. */
#include "providers.h"

#include <string.h>

#ifdef SECSTAT_PROVIDER_PROCFS
extern const struct provider_ops procfs_provider;
#endif
#ifdef SECSTAT_PROVIDER_XFRM
extern const struct provider_ops xfrm_provider;
#endif
#ifdef SECSTAT_PROVIDER_SIM
extern const struct provider_ops sim_provider;
#endif
#ifdef SECSTAT_PROVIDER_WHACK
extern const struct provider_ops whack_provider;
#endif
#ifdef SECSTAT_PROVIDER_VICI
extern const struct provider_ops vici_provider;
#endif
#ifdef SECSTAT_PROVIDER_RELAY
/* The fleet aggregate of --relay (normally the only provider). */
extern const struct provider_ops relay_provider;
#endif
#ifdef SECSTAT_PROVIDER_ISCSI
/* Last: joins the IPsec SAs the providers above put in the tree. */
extern const struct provider_ops iscsi_provider;
#endif

const struct provider_ops *const providers_builtin[] = {
#ifdef SECSTAT_PROVIDER_PROCFS
    &procfs_provider,
#endif
#ifdef SECSTAT_PROVIDER_XFRM
    &xfrm_provider,
#endif
#ifdef SECSTAT_PROVIDER_SIM
    &sim_provider,
#endif
#ifdef SECSTAT_PROVIDER_WHACK
    &whack_provider,
#endif
#ifdef SECSTAT_PROVIDER_VICI
    &vici_provider,
#endif
#ifdef SECSTAT_PROVIDER_RELAY
    &relay_provider,
#endif
#ifdef SECSTAT_PROVIDER_ISCSI
    &iscsi_provider,
#endif
    NULL,
};

const struct provider_ops *
providers_find(const char *name)
{
	for (size_t i = 0; providers_builtin[i] != NULL; i++) {
		if (strcmp(providers_builtin[i]->name, name) == 0) {
			return providers_builtin[i];
		}
	}
	return NULL;
}
