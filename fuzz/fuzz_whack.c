/* libreswan whack output: --globalstatus, --trafficstatus, --showstates. */
#include <stdint.h>

#include "arena.h"
#include "providers/whack/whack_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a = ARENA_INIT;
	struct whack_global g;
	struct whack_traffic t;
	struct whack_states s;
	uint64_t v;

	whack_parse_global((const char *)data, size, &a, &g);
	for (size_t i = 0; i < g.n; i++) {
		(void)whack_global_u64(&g, g.kv[i].key, &v);
	}
	(void)whack_global_has_prefix(&g, "current.states");
	whack_parse_traffic((const char *)data, size, &a, &t);
	whack_parse_states((const char *)data, size, &a, &s);
	for (size_t i = 0; i < s.n; i++) {
		(void)whack_states_find(&s, s.st[i].serial);
	}
	arena_release(&a);
	return 0;
}
