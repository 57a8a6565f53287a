/*
 * A program written the way the Windows SDK documents fwpmu.h: open the
 * filtering engine, read the IPsec and IKE statistics, use a transaction,
 * close. On Windows it would include <windows.h> and <fwpmu.h>; with
 * secstat only that line changes. It is built with -Werror to prove it,
 * and run by client_fwpmu_test against a fake agent.
 */
#include <secstat/fwpmu.h>

#include <stdio.h>
#include <string.h>

static DWORD
print_ipsec(HANDLE engine)
{
	IPSEC_STATISTICS1 stats = {0};
	DWORD result;

	result = IPsecGetStatistics1(engine, &stats);
	if (result != ERROR_SUCCESS) {
		printf("IPsecGetStatistics1 failed: 0x%08x\n", result);
		return result;
	}
	printf("Active SAs: %u\n", stats.aggregateSaStatistics.activeSas);
	printf("Inbound drops: %u\n",
	       stats.aggregateDropPacketStatistics.totalDropPacketsInbound);
	printf("Inbound encrypted bytes: %llu\n",
	       stats.inboundTrafficStatistics.encryptedByteCount);
	return ERROR_SUCCESS;
}

static DWORD
print_ikeext(HANDLE engine)
{
	IKEEXT_STATISTICS1 stats;
	DWORD result;
	UINT32 i;

	memset(&stats, 0, sizeof(stats));
	result = IkeextGetStatistics1(engine, &stats);
	if (result != ERROR_SUCCESS) {
		printf("IkeextGetStatistics1 failed: 0x%08x\n", result);
		return result;
	}
	printf("IKEv1 IPv4 main modes: %u\n",
	       stats.ikeStatistics.v4Statistics.totalMainModesStarted);
	printf("IKEv2 IPv4 main modes: %u\n",
	       stats.ikeV2Statistics.v4Statistics.totalMainModesStarted);
	for (i = 0; i < IKEEXT_ERROR_CODE_COUNT; i++) {
		if (stats.ikeStatistics.errorFrequencyTable[i] != 0) {
			printf("IKE error %u: %u\n",
			       ERROR_IPSEC_IKE_NEG_STATUS_BEGIN + i,
			       stats.ikeStatistics.errorFrequencyTable[i]);
		}
	}
	return ERROR_SUCCESS;
}

int
main(void)
{
	HANDLE engine = NULL;
	FWPM_SESSION0 session;
	DWORD result;

	memset(&session, 0, sizeof(session));
	session.displayData.name = L"statistics example";
	session.displayData.description = L"reads IPsec and IKE statistics";
	session.txnWaitTimeoutInMSec = 5000;

	result =
	    FwpmEngineOpen0(NULL, RPC_C_AUTHN_WINNT, NULL, &session, &engine);
	if (result != ERROR_SUCCESS) {
		printf("FwpmEngineOpen0 failed: 0x%08x\n", result);
		return 1;
	}
	result = print_ipsec(engine);
	if (result == ERROR_SUCCESS) {
		result = print_ikeext(engine);
	}
	/* Inside a transaction IKE statistics can be read, IPsec ones not. */
	if (result == ERROR_SUCCESS) {
		IPSEC_STATISTICS0 v0;

		result = FwpmTransactionBegin0(engine, FWPM_TXN_READ_ONLY);
		if (result == ERROR_SUCCESS &&
		    IPsecGetStatistics0(engine, &v0) != FWP_E_TXN_IN_PROGRESS) {
			printf(
			    "IPsecGetStatistics0 allowed in a transaction\n");
			result = FWP_E_TXN_ABORTED;
		}
		if (result == ERROR_SUCCESS) {
			result = print_ikeext(engine);
		}
		if (result == ERROR_SUCCESS) {
			result = FwpmTransactionCommit0(engine);
		} else {
			FwpmTransactionAbort0(engine);
		}
	}
	FwpmEngineClose0(engine);
	return result == ERROR_SUCCESS ? 0 : 1;
}
