/*
 * Process accounting the load generators read around a measurement
 * window: the CPU time of the server process (all its threads, from
 * /proc/PID/stat utime + stime) and the monotonic clock. Header-only so
 * the C and C++ load generators share it.
 */
#ifndef SECSTAT_BENCH_PROCSTAT_H
#define SECSTAT_BENCH_PROCSTAT_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

static inline uint64_t
procstat_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * CPU time (user + system, every thread) of process `pid` in ns, or -1
 * when it cannot be read. The kernel counts in clock ticks (usually
 * 10 ms), so windows of a second or more keep the error under 1 %.
 */
static inline int64_t
procstat_cpu_ns(int pid)
{
	char path[64];
	char buf[1024];
	const char *p;
	size_t n;
	FILE *f;
	unsigned long long utime = 0;
	unsigned long long stime = 0;
	long hz = sysconf(_SC_CLK_TCK);

	if (pid <= 0 || hz <= 0) {
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL) {
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields are
	 * counted from the last ')'. utime and stime are fields 14 and 15,
	 * that is the 12th and 13th after the state field. */
	if ((p = strrchr(buf, ')')) == NULL) {
		return -1;
	}
	if (sscanf(p + 2,
	           "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
	           &utime, &stime) != 2) {
		return -1;
	}
	return (int64_t)((utime + stime) * (1000000000ull / (uint64_t)hz));
}

/* CPU time of the calling process in ns. */
static inline int64_t
procstat_self_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (int64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       (int64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

#endif /* SECSTAT_BENCH_PROCSTAT_H */
