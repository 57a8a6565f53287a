/*
 * Projection of secstat messages onto the Windows structures of
 * <secstat/fwpmu.h>: absent values become 0, 64-bit counters are
 * narrowed modulo 2^32 where Windows has UINT32, and version 0 keeps
 * only the members version 0 has.
 */
#ifndef SECSTAT_CLIENT_FWPMU_CONVERT_H
#define SECSTAT_CLIENT_FWPMU_CONVERT_H

#include <secstat/fwpmu.h>
#include <secstat/v1/service.pb-c.h>

/* Each zeroes *out, then copies what `in` (may be NULL) holds. */
void fwpmu_convert_ipsec0(IPSEC_STATISTICS0 *out,
                          const Secstat__V1__IpsecStatistics *in);
void fwpmu_convert_ipsec1(IPSEC_STATISTICS1 *out,
                          const Secstat__V1__IpsecStatistics *in);
void fwpmu_convert_ikeext0(IKEEXT_STATISTICS0 *out,
                           const Secstat__V1__IkeextStatistics *in);
void fwpmu_convert_ikeext1(IKEEXT_STATISTICS1 *out,
                           const Secstat__V1__IkeextStatistics *in);

#endif /* SECSTAT_CLIENT_FWPMU_CONVERT_H */
