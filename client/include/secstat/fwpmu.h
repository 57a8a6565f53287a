/*
 * The statistics part of the Windows Filtering Platform management API
 * (fwpmu.h, Fwpuclnt.dll) on top of libsecstat, so that a program written
 * against the Windows documentation compiles with only its include
 * changed:
 *
 *   HANDLE            engine;
 *   IPSEC_STATISTICS1 stats;
 *   DWORD rc = FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, NULL, &engine);
 *   if (rc == ERROR_SUCCESS) {
 *           rc = IPsecGetStatistics1(engine, &stats);
 *           FwpmEngineClose0(engine);
 *   }
 *
 * Differences from Windows, all deliberate:
 * - serverName names the secstat agent to query: its URL as a wide string
 *   (L"tcp://10.0.0.1:7451", L"ipc:///run/secstat/secstatd.sock"). NULL
 *   or L"" means $SECSTAT_SERVER, else the default ipc URL. (Windows
 *   documents serverName as "must be NULL" and always talks to the local
 *   engine.)
 * - authnService must be RPC_C_AUTHN_WINNT or RPC_C_AUTHN_DEFAULT as on
 *   Windows; anything else returns FWP_E_INVALID_PARAMETER. authIdentity
 *   carries the agent ACL's credential: User is the client id, Password
 *   the client's token (Domain is ignored; Flags UNICODE or ANSI). It is
 *   sent only to a tls+tcp:// agent: with any other URL the call returns
 *   RPC_E_NO_GOOD_SECURITY_PACKAGES. For tls+tcp:// the files come from
 *   $SECSTAT_TLS_CA, $SECSTAT_TLS_CERT, $SECSTAT_TLS_KEY and optionally
 *   $SECSTAT_TLS_SERVER_NAME (docs/security.md).
 * - Of FWPM_SESSION0 only sessionKey is used: a non-zero key already used
 *   by an open session of this process returns FWP_E_ALREADY_EXISTS.
 * - Transactions are kept by the library, per session; the statistics are
 *   read-only, so Commit and Abort only end the transaction. The
 *   documented rules hold: IPsecGetStatistics0/1 and FwpmTransactionBegin0
 *   inside an explicit transaction return FWP_E_TXN_IN_PROGRESS,
 *   IkeextGetStatistics0/1 are allowed there, Commit or Abort without one
 *   return FWP_E_NO_TXN_IN_PROGRESS.
 * - Windows structures have no notion of a missing value: a statistic the
 *   agent's host cannot observe is 0 here. Use libsecstat
 *   (<secstat/secstat.h>) to tell absent from zero.
 * - Counters are 64-bit on the wire; they are narrowed modulo 2^32 where
 *   the Windows structure has a UINT32, exactly as they wrap on Windows.
 * - Return codes: ERROR_SUCCESS; the agent's status (ERROR_ACCESS_DENIED,
 *   FWP_E_*; on FWP_E_TIMEOUT the structure holds the agent's last,
 *   stale, snapshot); RPC_E_* when the agent could not be reached or did
 *   not answer properly (see <secstat/secstat.h>); FWP_E_NULL_POINTER for
 *   a NULL output pointer; ERROR_INVALID_HANDLE for a handle that is not
 *   an open engine handle.
 * - The types are 32 bits where Windows has 32 bits: DWORD and UINT32 are
 *   uint32_t (print them with %u or %x, not %lu). wchar_t is the native
 *   wide character (32-bit on Linux).
 *
 * Threads: an engine handle may be used from several threads at once, as
 * on Windows; the transaction state is per handle.
 */
#ifndef SECSTAT_FWPMU_H
#define SECSTAT_FWPMU_H

#include <stdint.h>
#include <wchar.h>

#include <secstat/winerror.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SECSTAT_DECL
#if defined(__GNUC__)
#define SECSTAT_DECL __attribute__((visibility("default")))
#else
#define SECSTAT_DECL
#endif
#endif

#ifndef WINAPI
#define WINAPI
#endif

/* Windows base types, with Windows widths. UINT64 is unsigned long long
 * as on Windows, so that "%llu" works as in Windows code. It is 8-byte
 * aligned even where the ABI aligns 64-bit integers to 4 (i386), as MSVC
 * does: the layouts below depend on it. */
typedef uint8_t UINT8;
typedef uint16_t UINT16;
typedef uint32_t UINT32;
#if defined(__GNUC__)
typedef unsigned long long UINT64 __attribute__((aligned(8)));
#else
typedef unsigned long long UINT64;
#endif
typedef uint32_t DWORD;
typedef int32_t BOOL;
typedef void *HANDLE;

#ifndef GUID_DEFINED
#define GUID_DEFINED
typedef struct _GUID {
	uint32_t Data1;
	uint16_t Data2;
	uint16_t Data3;
	uint8_t Data4[8];
} GUID;
#endif

/* Opaque here: only ever used through pointers. */
typedef struct _SID SID;

/* rpcdce.h: authentication services accepted by FwpmEngineOpen0. */
#define RPC_C_AUTHN_WINNT   10u
#define RPC_C_AUTHN_DEFAULT 0xFFFFFFFFu

/* Explicit credentials (rpcdce.h); see FwpmEngineOpen0. */
#define SEC_WINNT_AUTH_IDENTITY_ANSI    1u
#define SEC_WINNT_AUTH_IDENTITY_UNICODE 2u
typedef struct _SEC_WINNT_AUTH_IDENTITY_W {
	uint16_t *User;
	uint32_t UserLength;
	uint16_t *Domain;
	uint32_t DomainLength;
	uint16_t *Password;
	uint32_t PasswordLength;
	uint32_t Flags;
} SEC_WINNT_AUTH_IDENTITY_W;

typedef struct FWPM_DISPLAY_DATA0_ {
	wchar_t *name;
	wchar_t *description;
} FWPM_DISPLAY_DATA0;

#define FWPM_SESSION_FLAG_DYNAMIC  0x00000001u
#define FWPM_SESSION_FLAG_RESERVED 0x10000000u

typedef struct FWPM_SESSION0_ {
	GUID sessionKey;
	FWPM_DISPLAY_DATA0 displayData;
	UINT32 flags;
	UINT32 txnWaitTimeoutInMSec;
	DWORD processId;
	SID *sid;
	wchar_t *username;
	BOOL kernelMode;
} FWPM_SESSION0;

/* FwpmTransactionBegin0 flags. */
#define FWPM_TXN_READ_ONLY 0x00000001u

/* Size of the IKE error-frequency table: slot i counts Win32 error
 * ERROR_IPSEC_IKE_NEG_STATUS_BEGIN + i. */
#define IKEEXT_ERROR_CODE_COUNT 97

/* ---- IPsec (ipsectypes.h) ---- */

typedef struct IPSEC_AGGREGATE_SA_STATISTICS0_ {
	UINT32 activeSas;
	UINT32 pendingSaNegotiations;
	UINT32 totalSasAdded;
	UINT32 totalSasDeleted;
	UINT32 successfulRekeys;
	UINT32 activeTunnels;
	UINT32 offloadedSas;
} IPSEC_AGGREGATE_SA_STATISTICS0;

typedef struct IPSEC_ESP_DROP_PACKET_STATISTICS0_ {
	UINT32 invalidSpisOnInbound;
	UINT32 decryptionFailuresOnInbound;
	UINT32 authenticationFailuresOnInbound;
	UINT32 replayCheckFailuresOnInbound;
	UINT32 saNotInitializedOnInbound;
} IPSEC_ESP_DROP_PACKET_STATISTICS0;

typedef struct IPSEC_AH_DROP_PACKET_STATISTICS0_ {
	UINT32 invalidSpisOnInbound;
	UINT32 authenticationFailuresOnInbound;
	UINT32 replayCheckFailuresOnInbound;
	UINT32 saNotInitializedOnInbound;
} IPSEC_AH_DROP_PACKET_STATISTICS0;

typedef struct IPSEC_AGGREGATE_DROP_PACKET_STATISTICS0_ {
	UINT32 invalidSpisOnInbound;
	UINT32 decryptionFailuresOnInbound;
	UINT32 authenticationFailuresOnInbound;
	UINT32 udpEspValidationFailuresOnInbound;
	UINT32 replayCheckFailuresOnInbound;
	UINT32 invalidClearTextInbound;
	UINT32 saNotInitializedOnInbound;
	UINT32 receiveOverIncorrectSaInbound;
	UINT32 secureReceivesNotMatchingFilters;
} IPSEC_AGGREGATE_DROP_PACKET_STATISTICS0;

typedef struct IPSEC_AGGREGATE_DROP_PACKET_STATISTICS1_ {
	UINT32 invalidSpisOnInbound;
	UINT32 decryptionFailuresOnInbound;
	UINT32 authenticationFailuresOnInbound;
	UINT32 udpEspValidationFailuresOnInbound;
	UINT32 replayCheckFailuresOnInbound;
	UINT32 invalidClearTextInbound;
	UINT32 saNotInitializedOnInbound;
	UINT32 receiveOverIncorrectSaInbound;
	UINT32 secureReceivesNotMatchingFilters;
	UINT32 totalDropPacketsInbound;
} IPSEC_AGGREGATE_DROP_PACKET_STATISTICS1;

typedef struct IPSEC_TRAFFIC_STATISTICS0_ {
	UINT64 encryptedByteCount;
	UINT64 authenticatedAHByteCount;
	UINT64 authenticatedESPByteCount;
	UINT64 transportByteCount;
	UINT64 tunnelByteCount;
	UINT64 offloadByteCount;
} IPSEC_TRAFFIC_STATISTICS0;

typedef struct IPSEC_TRAFFIC_STATISTICS1_ {
	UINT64 encryptedByteCount;
	UINT64 authenticatedAHByteCount;
	UINT64 authenticatedESPByteCount;
	UINT64 transportByteCount;
	UINT64 tunnelByteCount;
	UINT64 offloadByteCount;
	UINT64 totalSuccessfulPackets;
} IPSEC_TRAFFIC_STATISTICS1;

typedef struct IPSEC_STATISTICS0_ {
	IPSEC_AGGREGATE_SA_STATISTICS0 aggregateSaStatistics;
	IPSEC_ESP_DROP_PACKET_STATISTICS0 espDropPacketStatistics;
	IPSEC_AH_DROP_PACKET_STATISTICS0 ahDropPacketStatistics;
	IPSEC_AGGREGATE_DROP_PACKET_STATISTICS0 aggregateDropPacketStatistics;
	IPSEC_TRAFFIC_STATISTICS0 inboundTrafficStatistics;
	IPSEC_TRAFFIC_STATISTICS0 outboundTrafficStatistics;
} IPSEC_STATISTICS0;

typedef struct IPSEC_STATISTICS1_ {
	IPSEC_AGGREGATE_SA_STATISTICS0 aggregateSaStatistics;
	IPSEC_ESP_DROP_PACKET_STATISTICS0 espDropPacketStatistics;
	IPSEC_AH_DROP_PACKET_STATISTICS0 ahDropPacketStatistics;
	IPSEC_AGGREGATE_DROP_PACKET_STATISTICS1 aggregateDropPacketStatistics;
	IPSEC_TRAFFIC_STATISTICS1 inboundTrafficStatistics;
	IPSEC_TRAFFIC_STATISTICS1 outboundTrafficStatistics;
} IPSEC_STATISTICS1;

/* ---- IKE (iketypes.h) ---- */

typedef struct IKEEXT_IP_VERSION_SPECIFIC_KEYMODULE_STATISTICS0_ {
	UINT32 currentActiveMainModes;
	UINT32 totalMainModesStarted;
	UINT32 totalSuccessfulMainModes;
	UINT32 totalFailedMainModes;
	UINT32 totalResponderMainModes;
	UINT32 currentNewResponderMainModes;
	UINT32 currentActiveQuickModes;
	UINT32 totalQuickModesStarted;
	UINT32 totalSuccessfulQuickModes;
	UINT32 totalFailedQuickModes;
	UINT32 totalAcquires;
	UINT32 totalReinitAcquires;
	UINT32 currentActiveExtendedModes;
	UINT32 totalExtendedModesStarted;
	UINT32 totalSuccessfulExtendedModes;
	UINT32 totalFailedExtendedModes;
	UINT32 totalImpersonationExtendedModes;
	UINT32 totalImpersonationMainModes;
} IKEEXT_IP_VERSION_SPECIFIC_KEYMODULE_STATISTICS0;

/* Version 1 has the same members as version 0. */
typedef struct IKEEXT_IP_VERSION_SPECIFIC_KEYMODULE_STATISTICS1_ {
	UINT32 currentActiveMainModes;
	UINT32 totalMainModesStarted;
	UINT32 totalSuccessfulMainModes;
	UINT32 totalFailedMainModes;
	UINT32 totalResponderMainModes;
	UINT32 currentNewResponderMainModes;
	UINT32 currentActiveQuickModes;
	UINT32 totalQuickModesStarted;
	UINT32 totalSuccessfulQuickModes;
	UINT32 totalFailedQuickModes;
	UINT32 totalAcquires;
	UINT32 totalReinitAcquires;
	UINT32 currentActiveExtendedModes;
	UINT32 totalExtendedModesStarted;
	UINT32 totalSuccessfulExtendedModes;
	UINT32 totalFailedExtendedModes;
	UINT32 totalImpersonationExtendedModes;
	UINT32 totalImpersonationMainModes;
} IKEEXT_IP_VERSION_SPECIFIC_KEYMODULE_STATISTICS1;

typedef struct IKEEXT_KEYMODULE_STATISTICS0_ {
	IKEEXT_IP_VERSION_SPECIFIC_KEYMODULE_STATISTICS0 v4Statistics;
	IKEEXT_IP_VERSION_SPECIFIC_KEYMODULE_STATISTICS0 v6Statistics;
	UINT32 errorFrequencyTable[IKEEXT_ERROR_CODE_COUNT];
	UINT32 mainModeNegotiationTime;
	UINT32 quickModeNegotiationTime;
	UINT32 extendedModeNegotiationTime;
} IKEEXT_KEYMODULE_STATISTICS0;

typedef struct IKEEXT_KEYMODULE_STATISTICS1_ {
	IKEEXT_IP_VERSION_SPECIFIC_KEYMODULE_STATISTICS1 v4Statistics;
	IKEEXT_IP_VERSION_SPECIFIC_KEYMODULE_STATISTICS1 v6Statistics;
	UINT32 errorFrequencyTable[IKEEXT_ERROR_CODE_COUNT];
	UINT32 mainModeNegotiationTime;
	UINT32 quickModeNegotiationTime;
	UINT32 extendedModeNegotiationTime;
} IKEEXT_KEYMODULE_STATISTICS1;

typedef struct IKEEXT_IP_VERSION_SPECIFIC_COMMON_STATISTICS0_ {
	UINT32 totalSocketReceiveFailures;
	UINT32 totalSocketSendFailures;
} IKEEXT_IP_VERSION_SPECIFIC_COMMON_STATISTICS0;

typedef struct IKEEXT_IP_VERSION_SPECIFIC_COMMON_STATISTICS1_ {
	UINT32 totalSocketReceiveFailures;
	UINT32 totalSocketSendFailures;
} IKEEXT_IP_VERSION_SPECIFIC_COMMON_STATISTICS1;

typedef struct IKEEXT_COMMON_STATISTICS0_ {
	IKEEXT_IP_VERSION_SPECIFIC_COMMON_STATISTICS0 v4Statistics;
	IKEEXT_IP_VERSION_SPECIFIC_COMMON_STATISTICS0 v6Statistics;
	UINT32 totalPacketsReceived;
	UINT32 totalInvalidPacketsReceived;
	UINT32 currentQueuedWorkitems;
} IKEEXT_COMMON_STATISTICS0;

typedef struct IKEEXT_COMMON_STATISTICS1_ {
	IKEEXT_IP_VERSION_SPECIFIC_COMMON_STATISTICS1 v4Statistics;
	IKEEXT_IP_VERSION_SPECIFIC_COMMON_STATISTICS1 v6Statistics;
	UINT32 totalPacketsReceived;
	UINT32 totalInvalidPacketsReceived;
	UINT32 currentQueuedWorkitems;
} IKEEXT_COMMON_STATISTICS1;

typedef struct IKEEXT_STATISTICS0_ {
	IKEEXT_KEYMODULE_STATISTICS0 ikeStatistics;
	IKEEXT_KEYMODULE_STATISTICS0 authipStatistics;
	IKEEXT_COMMON_STATISTICS0 commonStatistics;
} IKEEXT_STATISTICS0;

typedef struct IKEEXT_STATISTICS1_ {
	IKEEXT_KEYMODULE_STATISTICS1 ikeStatistics;
	IKEEXT_KEYMODULE_STATISTICS1 authipStatistics;
	IKEEXT_KEYMODULE_STATISTICS1 ikeV2Statistics;
	IKEEXT_COMMON_STATISTICS1 commonStatistics;
} IKEEXT_STATISTICS1;

/* The Windows layouts (SDK 10.0.16299 ipsectypes.idl / iketypes.idl,
 * natural alignment). A build where these fail must not use this header:
 * raw structures would not match what Windows code expects. */
#ifdef __cplusplus
#define SECSTAT_LAYOUT_ASSERT(e, m) static_assert(e, m)
#else
#define SECSTAT_LAYOUT_ASSERT(e, m) _Static_assert(e, m)
#endif
#define SECSTAT_OFFSETOF(t, m) __builtin_offsetof(t, m)
SECSTAT_LAYOUT_ASSERT(sizeof(UINT64) == 8 && sizeof(UINT32) == 4, "widths");
SECSTAT_LAYOUT_ASSERT(sizeof(IPSEC_STATISTICS1) == 216, "IPSEC_STATISTICS1");
SECSTAT_LAYOUT_ASSERT(SECSTAT_OFFSETOF(IPSEC_STATISTICS1,
                                       espDropPacketStatistics) == 28,
                      "IPSEC_STATISTICS1.espDropPacketStatistics");
SECSTAT_LAYOUT_ASSERT(SECSTAT_OFFSETOF(IPSEC_STATISTICS1,
                                       ahDropPacketStatistics) == 48,
                      "IPSEC_STATISTICS1.ahDropPacketStatistics");
SECSTAT_LAYOUT_ASSERT(SECSTAT_OFFSETOF(IPSEC_STATISTICS1,
                                       aggregateDropPacketStatistics) == 64,
                      "IPSEC_STATISTICS1.aggregateDropPacketStatistics");
SECSTAT_LAYOUT_ASSERT(SECSTAT_OFFSETOF(IPSEC_STATISTICS1,
                                       inboundTrafficStatistics) == 104,
                      "IPSEC_STATISTICS1.inboundTrafficStatistics");
SECSTAT_LAYOUT_ASSERT(SECSTAT_OFFSETOF(IPSEC_STATISTICS1,
                                       outboundTrafficStatistics) == 160,
                      "IPSEC_STATISTICS1.outboundTrafficStatistics");
SECSTAT_LAYOUT_ASSERT(sizeof(IPSEC_STATISTICS0) == 200, "IPSEC_STATISTICS0");
SECSTAT_LAYOUT_ASSERT(SECSTAT_OFFSETOF(IPSEC_STATISTICS0,
                                       aggregateDropPacketStatistics) == 64,
                      "IPSEC_STATISTICS0.aggregateDropPacketStatistics");
SECSTAT_LAYOUT_ASSERT(SECSTAT_OFFSETOF(IPSEC_STATISTICS0,
                                       inboundTrafficStatistics) == 104,
                      "IPSEC_STATISTICS0.inboundTrafficStatistics");
SECSTAT_LAYOUT_ASSERT(SECSTAT_OFFSETOF(IPSEC_STATISTICS0,
                                       outboundTrafficStatistics) == 152,
                      "IPSEC_STATISTICS0.outboundTrafficStatistics");
SECSTAT_LAYOUT_ASSERT(sizeof(IKEEXT_KEYMODULE_STATISTICS1) == 544,
                      "IKEEXT_KEYMODULE_STATISTICS1");
SECSTAT_LAYOUT_ASSERT(SECSTAT_OFFSETOF(IKEEXT_KEYMODULE_STATISTICS1,
                                       errorFrequencyTable) == 144,
                      "IKEEXT_KEYMODULE_STATISTICS1.errorFrequencyTable");
SECSTAT_LAYOUT_ASSERT(SECSTAT_OFFSETOF(IKEEXT_KEYMODULE_STATISTICS1,
                                       mainModeNegotiationTime) == 532,
                      "IKEEXT_KEYMODULE_STATISTICS1.mainModeNegotiationTime");
SECSTAT_LAYOUT_ASSERT(sizeof(IKEEXT_COMMON_STATISTICS1) == 28,
                      "IKEEXT_COMMON_STATISTICS1");
SECSTAT_LAYOUT_ASSERT(sizeof(IKEEXT_STATISTICS1) == 1660, "IKEEXT_STATISTICS1");
SECSTAT_LAYOUT_ASSERT(SECSTAT_OFFSETOF(IKEEXT_STATISTICS1, ikeV2Statistics) ==
                          1088,
                      "IKEEXT_STATISTICS1.ikeV2Statistics");
SECSTAT_LAYOUT_ASSERT(SECSTAT_OFFSETOF(IKEEXT_STATISTICS1, commonStatistics) ==
                          1632,
                      "IKEEXT_STATISTICS1.commonStatistics");
SECSTAT_LAYOUT_ASSERT(sizeof(IKEEXT_STATISTICS0) == 1116, "IKEEXT_STATISTICS0");
SECSTAT_LAYOUT_ASSERT(SECSTAT_OFFSETOF(IKEEXT_STATISTICS0, commonStatistics) ==
                          1088,
                      "IKEEXT_STATISTICS0.commonStatistics");

/* ---- Functions (fwpmu.h) ---- */

/*
 * Opens a session with the statistics engine of the agent at serverName
 * (see above) and returns its handle in *engineHandle, to close with
 * FwpmEngineClose0(). Returns ERROR_SUCCESS, FWP_E_NULL_POINTER,
 * FWP_E_INVALID_PARAMETER (authnService, serverName not convertible),
 * FWP_E_ALREADY_EXISTS, RPC_E_NO_GOOD_SECURITY_PACKAGES (authIdentity
 * for an agent that is not tls+tcp://), FWP_E_INVALID_PARAMETER (an
 * authIdentity without User or Password)
 * or an RPC_E_* code of secstat_session_open() (RPC_E_SERVER_DIED_DNE
 * when the agent is not running).
 */
SECSTAT_DECL DWORD WINAPI
FwpmEngineOpen0(const wchar_t *serverName, UINT32 authnService,
                SEC_WINNT_AUTH_IDENTITY_W *authIdentity,
                const FWPM_SESSION0 *session, HANDLE *engineHandle);

/* Closes the session (an open transaction is aborted first). Returns
 * ERROR_SUCCESS or ERROR_INVALID_HANDLE. Calls still running on the
 * handle in other threads complete before the handle's memory goes. */
SECSTAT_DECL DWORD WINAPI FwpmEngineClose0(HANDLE engineHandle);

/* Begins an explicit transaction; flags: 0 or FWPM_TXN_READ_ONLY.
 * Returns ERROR_SUCCESS, FWP_E_TXN_IN_PROGRESS, FWP_E_INVALID_FLAGS,
 * ERROR_INVALID_HANDLE. */
SECSTAT_DECL DWORD WINAPI FwpmTransactionBegin0(HANDLE engineHandle,
                                                UINT32 flags);

/* Ends the explicit transaction. Return ERROR_SUCCESS,
 * FWP_E_NO_TXN_IN_PROGRESS, ERROR_INVALID_HANDLE. */
SECSTAT_DECL DWORD WINAPI FwpmTransactionCommit0(HANDLE engineHandle);
SECSTAT_DECL DWORD WINAPI FwpmTransactionAbort0(HANDLE engineHandle);

/* Fill *statistics (caller-owned) from the agent. Not allowed inside an
 * explicit transaction (FWP_E_TXN_IN_PROGRESS). */
SECSTAT_DECL DWORD WINAPI
IPsecGetStatistics0(HANDLE engineHandle, IPSEC_STATISTICS0 *ipsecStatistics);
SECSTAT_DECL DWORD WINAPI
IPsecGetStatistics1(HANDLE engineHandle, IPSEC_STATISTICS1 *ipsecStatistics);

/* Fill *ikeextStatistics (caller-owned) from the agent. Allowed inside
 * an explicit transaction. */
SECSTAT_DECL DWORD WINAPI
IkeextGetStatistics0(HANDLE engineHandle, IKEEXT_STATISTICS0 *ikeextStatistics);
SECSTAT_DECL DWORD WINAPI
IkeextGetStatistics1(HANDLE engineHandle, IKEEXT_STATISTICS1 *ikeextStatistics);

#ifdef __cplusplus
}
#endif

#endif /* SECSTAT_FWPMU_H */
