/* NETLINK_ISCSI datagrams (ISCSI_UEVENT_GET_STATS answers). */
#include <stdint.h>
#include <string.h>

#include "providers/iscsi/iscsi_nl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iscsi_nl_stats st;

	/* The connection the recorded fixtures answer about, and one that
	 * appears nowhere. */
	(void)iscsi_nl_parse(data, size, 1, 0, &st);
	(void)iscsi_nl_parse(data, size, 7, 3, &st);
	return 0;
}
