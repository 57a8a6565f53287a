/* The ACL file parser and the access decision over what it parsed. */
#include <stdint.h>
#include <string.h>

#include "acl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t lo4[16] = {
	    [10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1};
	static const uint8_t far[16] = {
	    [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 9};
	struct acl *a = NULL;
	char err[ACL_ERR_MAX];
	struct acl_decision d;

	if (acl_parse((const char *)data, size, "fuzz.acl", &a, err) != 0) {
		return 0;
	}
	{
		struct acl_peer peers[] = {
		    {.transport = ACL_TRANSPORT_IPC,
		     .has_cred = true,
		     .uid = 1000,
		     .gid = 1000},
		    {.transport = ACL_TRANSPORT_TCP, .has_addr = true},
		    {.transport = ACL_TRANSPORT_TLS, .has_addr = true},
		    {.transport = ACL_TRANSPORT_TLS,
		     .has_addr = true,
		     .client_id = "noc",
		     .token = (const uint8_t *)"secret",
		     .token_len = 6},
		};

		memcpy(peers[1].addr, lo4, 16);
		memcpy(peers[2].addr, far, 16);
		memcpy(peers[3].addr, far, 16);
		for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
			(void)acl_check(a, &peers[i], ACL_RIGHT_IPSEC, &d);
			(void)acl_check(a, &peers[i], ACL_RIGHTS_ALL, &d);
		}
		(void)acl_subscriber_allowed(a, far);
	}
	acl_free(a);
	return 0;
}
