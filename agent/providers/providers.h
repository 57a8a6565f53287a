/* The providers compiled into this agent. */
#ifndef SECSTAT_AGENT_PROVIDERS_H
#define SECSTAT_AGENT_PROVIDERS_H

#include <stddef.h>

#include "provider.h"

/* Every built-in provider, in contribution order, NULL-terminated. */
extern const struct provider_ops *const providers_builtin[];

/* The provider named `name`, or NULL. */
const struct provider_ops *providers_find(const char *name);

#endif
