/* stderr and syslog logging. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Written once by log_open() before threads start; read everywhere. */
static atomic_int log_threshold = LOG_INFO;
static bool log_to_syslog;

static const struct {
	const char *name;
	int prio;
} log_levels[] = {
    {"error", LOG_ERR},    {"err", LOG_ERR},       {"warning", LOG_WARNING},
    {"warn", LOG_WARNING}, {"notice", LOG_NOTICE}, {"info", LOG_INFO},
    {"debug", LOG_DEBUG},
};

void
log_open(int level, bool use_syslog)
{
	atomic_store(&log_threshold, level);
	log_to_syslog = use_syslog;
	if (use_syslog) {
		openlog("secstatd", LOG_PID, LOG_DAEMON);
	}
}

void
log_close(void)
{
	if (log_to_syslog) {
		closelog();
		log_to_syslog = false;
	}
}

bool
log_enabled(int prio)
{
	return prio <=
	       atomic_load_explicit(&log_threshold, memory_order_relaxed);
}

int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]);
	     i++) {
		if (strcasecmp(name, log_levels[i].name) == 0) {
			return log_levels[i].prio;
		}
	}
	return -EINVAL;
}

const char *
log_level_name(int prio)
{
	switch (prio) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void
log_printf(int prio, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int m;
	va_list ap;

	if (!log_enabled(prio)) {
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	m = snprintf(line + n, sizeof(line) - n, ".%03ldZ %-7s ",
	             ts.tv_nsec / 1000000, log_level_name(prio));
	if (m > 0) {
		n += (size_t)m;
	}
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m > 0) {
		/* A longer message is cut rather than split over lines. */
		n += (size_t)m < sizeof(line) - n - 1 ? (size_t)m
		                                      : sizeof(line) - n - 2;
	}
	line[n++] = '\n';
	/* One write per line; a short write to stderr is not worth a
	 * retry loop that could block the caller. */
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
	if (log_to_syslog) {
		va_start(ap, fmt);
		vsyslog(prio, fmt, ap);
		va_end(ap);
	}
}
