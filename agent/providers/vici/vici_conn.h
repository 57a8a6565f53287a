/*
 * One vici stream connection to charon: unix:// or tcp:// URI,
 * non-blocking connect, segment framing, and a deadline on every read and
 * write so that a daemon that accepts and never answers cannot stall the
 * caller. vici has no request ids, so a connection carries one command
 * at a time; events registered on it may arrive between and during
 * commands and are handed to a callback.
 *
 * After any error the stream may be out of step (half a segment read or
 * written): the connection is then marked broken and every further call
 * fails with -EPIPE; the owner closes it and connects again.
 */
#ifndef SECSTAT_PROVIDER_VICI_CONN_H
#define SECSTAT_PROVIDER_VICI_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vici_codec.h"

/* The default socket of a packaged charon. */
#define VICI_DEFAULT_URI "unix:///var/run/charon.vici"

struct vici_conn;

/* Called for each EVENT packet read while waiting for something else.
 * A non-zero return aborts the wait with that value. */
typedef int (*vici_event_fn)(void *arg, const struct vici_packet *p);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t vici_now_ms(void);

/*
 * Connects before `deadline_ms` (vici_now_ms() time). Errors: -EINVAL for
 * a URI that is not unix://PATH or tcp://HOST:PORT (numeric host or
 * localhost), -ENOENT when the socket does not exist, -EACCES when it
 * may not be opened, -ECONNREFUSED, -ETIMEDOUT, other negative errno.
 */
int vici_conn_open(const char *uri, int64_t deadline_ms,
                   struct vici_conn **out);
void vici_conn_close(struct vici_conn *c);
/* Makes every later wait of `c` also watch `fd`: when it becomes
 * readable, the wait fails with -ECANCELED (the owner's stop pipe, so a
 * thread blocked on a silent daemon can be stopped at once). */
void vici_conn_set_cancel(struct vici_conn *c, int fd);
/* The socket, for poll(); -1 once broken. */
int vici_conn_fd(const struct vici_conn *c);
bool vici_conn_broken(const struct vici_conn *c);

/* Writes one whole segment before the deadline. */
int vici_conn_send(struct vici_conn *c, const uint8_t *seg, size_t len,
                   int64_t deadline_ms);
/*
 * Reads one segment (without its length prefix) into *seg (malloc'ed,
 * caller frees). A read that has to wait longer than `idle_ms` for the
 * next byte, or finishes after `deadline_ms`, fails with -ETIMEDOUT; a
 * closed stream is -ECONNRESET; a length over VICI_SEGMENT_MAX is
 * -EMSGSIZE.
 */
int vici_conn_recv(struct vici_conn *c, int idle_ms, int64_t deadline_ms,
                   uint8_t **seg, size_t *len);

/*
 * Runs one command: sends CMD_REQUEST `cmd` with `body` (NULL for an
 * empty message), passes every EVENT packet that arrives before the
 * response to `on_event` (list-sas and list-conns stream their results
 * this way), and decodes the CMD_RESPONSE into *reply. -EOPNOTSUPP when
 * the daemon answers CMD_UNKNOWN (command not available, e.g. the
 * counters plugin is not loaded), -EBADMSG for a malformed or unexpected
 * packet. Each packet must arrive within `idle_ms`, the whole exchange
 * before `deadline_ms`.
 */
int vici_conn_command(struct vici_conn *c, const char *cmd,
                      const struct vici_builder *body, int idle_ms,
                      int64_t deadline_ms, vici_event_fn on_event, void *arg,
                      struct vici_msg *reply);

/* Registers (`on` true) or unregisters for event `name`. Events that
 * arrive before the confirmation go to `on_event`. -EOPNOTSUPP when the
 * daemon does not know the event. */
int vici_conn_register(struct vici_conn *c, const char *name, bool on,
                       int idle_ms, int64_t deadline_ms, vici_event_fn on_event,
                       void *arg);

#endif /* SECSTAT_PROVIDER_VICI_CONN_H */
