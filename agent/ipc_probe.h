/*
 * Is an ipc:// listener still accepting? The question the server's ipc
 * watchdog asks (server.c, ipc_watchdog()) once a period.
 */
#ifndef SECSTAT_AGENT_IPC_PROBE_H
#define SECSTAT_AGENT_IPC_PROBE_H

#include <stdbool.h>

/* True when the agent's REP listener at `url` (ipc://PATH) answers a
 * GetHostInfo request within `timeout_ms`; also true when the question
 * cannot be asked (no socket, a URL that is not a plain ipc path), so
 * that nothing is restarted on a guess. */
bool ipc_probe(const char *url, int timeout_ms);

#endif
