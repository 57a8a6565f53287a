/*
 * The agent's log: one line per event on stderr (UTC timestamp, level,
 * message) and, when asked, the same message to syslog. Levels are syslog
 * priorities. Thread-safe: every line is written with one write(2), so
 * lines from different threads never interleave.
 */
#ifndef SECSTAT_AGENT_LOG_H
#define SECSTAT_AGENT_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Sets the threshold (a syslog priority, LOG_ERR..LOG_DEBUG) and opens
 * syslog when `use_syslog`. Call before any thread starts. */
void log_open(int level, bool use_syslog);
void log_close(void);

/* Whether a message at `prio` would be written: lets hot paths skip the
 * formatting entirely. */
bool log_enabled(int prio);

void log_printf(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "error", "warning", "notice", "info", "debug" (also "err", "warn") to
 * a syslog priority; -EINVAL for anything else. */
int log_level_parse(const char *name);
const char *log_level_name(int prio);

#define log_err(...)     log_printf(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_printf(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  log_printf(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)    log_printf(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_enabled(LOG_DEBUG)) {                                  \
			log_printf(LOG_DEBUG, __VA_ARGS__);                    \
		}                                                              \
	} while (0)

#endif /* SECSTAT_AGENT_LOG_H */
