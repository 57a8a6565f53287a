/*
 * The whack provider: libreswan's pluto, read by running
 * `ipsec whack --globalstatus`, `--trafficstatus` and `--showstates`
 * (docs/sources/whack.md). There is no stable C interface to pluto: the
 * whack wire message is internal and changes with every release, so the
 * command's text output is the only supported route.
 *
 * The command runs without a shell (fork + execve), with its stdout and
 * stderr captured, under a deadline per invocation and a bound on the
 * output it may print: a hung pluto or a runaway child is killed after
 * WHACK_TIMEOUT_MS and never costs more than WHACK_OUTPUT_MAX bytes.
 */
#ifndef SECSTAT_PROVIDER_WHACK_H
#define SECSTAT_PROVIDER_WHACK_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "provider.h"
#include "whack_parse.h"

/* Deadline of one command, milliseconds: its child is killed then. */
#define WHACK_TIMEOUT_MS 2000
/* Most stdout bytes accepted from one command (4.10 prints 24 KiB). */
#define WHACK_OUTPUT_MAX (4u << 20)
/* Stderr kept for classifying failures; the rest is discarded. */
#define WHACK_STDERR_MAX 1024
/* Defaults of --whack and of the control socket pluto listens on. */
#define WHACK_DEFAULT_PATH "ipsec"
#define WHACK_DEFAULT_CTL  "/run/pluto/pluto.ctl"

/* What one run of the command produced. */
struct whack_output {
	char *out; /* stdout, NUL-terminated, malloc'd */
	size_t len;
	char err[WHACK_STDERR_MAX]; /* stderr, NUL-terminated */
	int status;                 /* waitpid() status */
};

/*
 * Runs argv[0] (an absolute or relative path, or a name looked up in
 * PATH) with argv, the agent's environment and stdin on /dev/null, in
 * its own process group. Returns 0 when the command ran and exited 0,
 * with its output in *o (whack_output_free() it); otherwise a negative
 * errno and nothing to free:
 *   -ENOENT   the command does not exist, or pluto is not running
 *   -EACCES   the command or pluto's control socket is not accessible
 *   -ETIMEDOUT the deadline (CLOCK_MONOTONIC, ms) passed: the whole
 *             process group was killed and reaped
 *   -EFBIG    stdout exceeded max_out bytes: likewise killed
 *   -EIO      the command exited non-zero or died by a signal
 * In every case the child has been reaped before this returns.
 */
int whack_run(char *const argv[], uint64_t deadline_ms, size_t max_out,
              struct whack_output *o);
void whack_output_free(struct whack_output *o);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t whack_now_ms(void);

/* One collection: the three outputs parsed. Owns everything it points to. */
struct whack_records {
	struct arena arena;
	struct whack_global global;
	struct whack_traffic traffic;
	struct whack_states states;
};

/* Parses the three outputs into new records (the text is copied). */
struct whack_records *whack_records_parse(const char *global, size_t glen,
                                          const char *traffic, size_t tlen,
                                          const char *states, size_t slen);

extern const struct provider_ops whack_provider;

#endif /* SECSTAT_PROVIDER_WHACK_H */
