/*
 * An in-process stand-in for secstatd: an nng REP socket served by one
 * thread, whose answer to each request is chosen by the test, including
 * the ways a real agent or network can misbehave.
 */
#ifndef SECSTAT_TEST_FAKE_AGENT_H
#define SECSTAT_TEST_FAKE_AGENT_H

#include <stdbool.h>
#include <stdint.h>

enum fake_behaviour {
	FAKE_ECHO,       /* status 0, the method's result type */
	FAKE_WRONG_ID,   /* request_id + 1 */
	FAKE_GARBAGE,    /* bytes that are not a Reply */
	FAKE_WRONG_TYPE, /* a result of another method */
	FAKE_NO_STATUS,  /* a Reply without status */
	FAKE_STATUS,     /* status fake_agent.status, no result */
	FAKE_STALE,      /* FWP_E_TIMEOUT with a result */
	FAKE_SILENT,     /* never answers */
	FAKE_CLOSE,      /* closes the socket when the request arrives */
	FAKE_HUGE,       /* a reply larger than SECSTAT_REPLY_MAX_BYTES */
};

struct fake_agent;

/* Listens on `url` and serves until fake_agent_stop(). NULL on failure. */
struct fake_agent *fake_agent_start(const char *url, enum fake_behaviour b);

/* Changes the behaviour for the next requests. */
void fake_agent_set(struct fake_agent *a, enum fake_behaviour b,
                    uint32_t status);

/* Requests received so far. */
unsigned fake_agent_requests(struct fake_agent *a);

/* The deadline_ms and method of the last request. */
uint32_t fake_agent_last_deadline(struct fake_agent *a);
const char *fake_agent_last_method(struct fake_agent *a);

/* Whether the socket was closed by FAKE_CLOSE. */
bool fake_agent_closed(struct fake_agent *a);

void fake_agent_stop(struct fake_agent *a);

/* Values the echo answers carry, for the tests to compare. */
#define FAKE_ACTIVE_SAS    ((uint64_t)0x100000007) /* narrows to 7 */
#define FAKE_INBOUND_BYTES ((uint64_t)0x123456789AB)
#define FAKE_TOTAL_DROPS   41
#define FAKE_V4_MAIN_MODES 13
#define FAKE_V2_MAIN_MODES 17
#define FAKE_ERROR_SLOT    5
#define FAKE_ERROR_COUNT   99

#endif /* SECSTAT_TEST_FAKE_AGENT_H */
