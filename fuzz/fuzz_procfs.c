/* procfs_parse: /proc/net/xfrm_stat text. */
#include <stdint.h>
#include <stdlib.h>

#include "providers/procfs/procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct procfs_records *r = NULL;

	if (procfs_parse((const char *)data, size, &r) == 0) {
		for (size_t i = 0; i < r->n; i++) {
			(void)procfs_find(r, r->counters[i].name);
		}
		(void)procfs_find(r, "XfrmInError");
		free(r);
	}
	return 0;
}
