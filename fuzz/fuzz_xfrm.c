/* XFRM netlink parsing: SA messages (dump replies and events), SAD and
 * SPD info, and the text helpers over what they produce. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "providers/xfrm/xfrm_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xfrm_sa sa;
	struct xfrm_sadinfo sad;
	struct xfrm_spdinfo spd;
	char text[256];
	/* xfrm_parse_sa overwrites key bytes: give it its own copy, with
	 * no slack after the end so that overreads are caught. */
	void *copy = malloc(size > 0 ? size : 1);

	if (copy == NULL) {
		return 0;
	}
	memcpy(copy, data, size);
	memset(&sa, 0, sizeof(sa));
	if (xfrm_parse_sa(copy, size, &sa) == 0) {
		(void)xfrm_parse_is_larval(&sa);
		(void)xfrm_parse_is_encrypting(&sa);
		(void)xfrm_parse_mode_name(sa.mode);
		(void)xfrm_parse_proto_name(sa.proto);
		(void)xfrm_parse_addr_str(sa.family, &sa.daddr, text,
		                          sizeof(text));
		(void)xfrm_parse_selector_str(&sa.sel, true, text,
		                              sizeof(text));
		(void)xfrm_parse_selector_str(&sa.sel, false, text,
		                              sizeof(text));
	}
	free(copy);
	(void)xfrm_parse_sadinfo(data, size, &sad);
	(void)xfrm_parse_spdinfo(data, size, &spd);
	return 0;
}
