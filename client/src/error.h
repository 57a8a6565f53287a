/*
 * The one place where internal errors (negative errno values, nng error
 * numbers) become the Windows status codes of the public API.
 */
#ifndef SECSTAT_CLIENT_ERROR_H
#define SECSTAT_CLIENT_ERROR_H

#include <stdint.h>

/* What the library was doing when nng reported an error: the same nng
 * error means different things before and after a request left. */
enum error_stage {
	ERROR_STAGE_DIAL, /* connecting */
	ERROR_STAGE_SEND, /* handing the request to the connection */
	ERROR_STAGE_RECV, /* request sent, waiting for the reply */
};

/* The status for nng error `rv` (non-zero) met during `stage`. */
uint32_t error_from_nng(int rv, enum error_stage stage);

/* The status for an internal failure -errno (`err` < 0). */
uint32_t error_from_errno(int err);

#endif /* SECSTAT_CLIENT_ERROR_H */
