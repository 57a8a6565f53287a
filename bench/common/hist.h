/*
 * A log-linear latency histogram (HDR-style): values below 128 ns are
 * exact, larger values keep their top 8 significant bits, so every
 * bucket is at most 1/128 (< 0.8 %) wide relative to its value. Fixed
 * size, no allocation while recording, mergeable: each load-generating
 * context owns one and they are summed after the run.
 *
 * Header-only and free of C11-only constructs so the C++ gRPC load
 * generator uses the same code and reports the same percentiles.
 */
#ifndef SECSTAT_BENCH_HIST_H
#define SECSTAT_BENCH_HIST_H

#include <stdint.h>
#include <string.h>

#define HIST_SUB_BITS 7
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_BUCKETS  ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
	uint64_t total;
	uint64_t max;
	uint32_t count[HIST_BUCKETS];
};

static inline void
hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

static inline unsigned
hist_index(uint64_t v)
{
	unsigned e;
	unsigned shift;

	if (v < HIST_SUB) {
		return (unsigned)v;
	}
	e = 63u - (unsigned)__builtin_clzll(v);
	shift = e - HIST_SUB_BITS;
	return (shift + 1) * HIST_SUB + (unsigned)((v >> shift) - HIST_SUB);
}

/* The middle of bucket `i`, the value a percentile reports. */
static inline uint64_t
hist_value(unsigned i)
{
	unsigned shift;
	uint64_t lo;

	if (i < HIST_SUB) {
		return i;
	}
	shift = i / HIST_SUB - 1;
	lo = (uint64_t)(i % HIST_SUB + HIST_SUB) << shift;
	return lo + (((uint64_t)1 << shift) >> 1);
}

static inline void
hist_record(struct hist *h, uint64_t v)
{
	h->count[hist_index(v)]++;
	h->total++;
	if (v > h->max) {
		h->max = v;
	}
}

static inline void
hist_merge(struct hist *dst, const struct hist *src)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		dst->count[i] += src->count[i];
	}
	dst->total += src->total;
	if (src->max > dst->max) {
		dst->max = src->max;
	}
}

/* The value at quantile q (0 < q <= 1), or 0 for an empty histogram. */
static inline uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t want;
	uint64_t seen = 0;

	if (h->total == 0) {
		return 0;
	}
	want = (uint64_t)(q * (double)h->total + 0.999999);
	if (want < 1) {
		want = 1;
	}
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= want) {
			return hist_value(i);
		}
	}
	return h->max;
}

#endif /* SECSTAT_BENCH_HIST_H */
