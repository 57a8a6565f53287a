/*
 * libFuzzer entry point for xfrm_parse (built with Clang only, target
 * xfrm_parse_fuzz). Seed it with tests/fixtures/xfrm:
 *   xfrm_parse_fuzz -max_total_time=60 CORPUS_DIR tests/fixtures/xfrm
 * Every input goes through each parser on a private copy (the SA parser
 * writes into its buffer), and what a successful parse returns is used,
 * so the sanitizers see every byte it claims to have read.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xfrm_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *copy = malloc(size ? size : 1);
	struct xfrm_sadinfo sad;
	struct xfrm_spdinfo spd;
	struct xfrm_sa sa;
	char buf[128];

	if (copy == NULL) {
		return 0;
	}
	memcpy(copy, data, size);
	if (xfrm_parse_sa(copy, size, &sa) == 0) {
		xfrm_parse_selector_str(&sa.sel, true, buf, sizeof(buf));
		xfrm_parse_selector_str(&sa.sel, false, buf, sizeof(buf));
		xfrm_parse_addr_str(sa.family, &sa.daddr, buf, sizeof(buf));
		(void)xfrm_parse_is_larval(&sa);
		(void)xfrm_parse_is_encrypting(&sa);
		(void)strlen(sa.enc);
		(void)strlen(sa.auth);
		(void)strlen(sa.aead);
		(void)strlen(sa.comp);
	}
	(void)xfrm_parse_sadinfo(data, size, &sad);
	(void)xfrm_parse_spdinfo(data, size, &spd);
	free(copy);
	return 0;
}
