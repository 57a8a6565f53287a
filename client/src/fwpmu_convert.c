/* secstat messages -> Windows statistics structures. */
#include "fwpmu_convert.h"

#include <string.h>

/* Copies field `f` of message pointer `m` into `dst` when present. The
 * cast to the destination type narrows modulo 2^32 for UINT32. */
#define COPY(dst, m, f)                                                        \
	do {                                                                   \
		if ((m)->has_##f) {                                            \
			(dst) = (__typeof__(dst))(m)->f;                       \
		}                                                              \
	} while (0)

static void
sa_stats(IPSEC_AGGREGATE_SA_STATISTICS0 *o,
         const Secstat__V1__IpsecAggregateSaStatistics *m)
{
	if (m == NULL) {
		return;
	}
	COPY(o->activeSas, m, active_sas);
	COPY(o->pendingSaNegotiations, m, pending_sa_negotiations);
	COPY(o->totalSasAdded, m, total_sas_added);
	COPY(o->totalSasDeleted, m, total_sas_deleted);
	COPY(o->successfulRekeys, m, successful_rekeys);
	COPY(o->activeTunnels, m, active_tunnels);
	COPY(o->offloadedSas, m, offloaded_sas);
}

static void
esp_drop(IPSEC_ESP_DROP_PACKET_STATISTICS0 *o,
         const Secstat__V1__IpsecEspDropPacketStatistics *m)
{
	if (m == NULL) {
		return;
	}
	COPY(o->invalidSpisOnInbound, m, invalid_spis_on_inbound);
	COPY(o->decryptionFailuresOnInbound, m, decryption_failures_on_inbound);
	COPY(o->authenticationFailuresOnInbound, m,
	     authentication_failures_on_inbound);
	COPY(o->replayCheckFailuresOnInbound, m,
	     replay_check_failures_on_inbound);
	COPY(o->saNotInitializedOnInbound, m, sa_not_initialized_on_inbound);
}

static void
ah_drop(IPSEC_AH_DROP_PACKET_STATISTICS0 *o,
        const Secstat__V1__IpsecAhDropPacketStatistics *m)
{
	if (m == NULL) {
		return;
	}
	COPY(o->invalidSpisOnInbound, m, invalid_spis_on_inbound);
	COPY(o->authenticationFailuresOnInbound, m,
	     authentication_failures_on_inbound);
	COPY(o->replayCheckFailuresOnInbound, m,
	     replay_check_failures_on_inbound);
	COPY(o->saNotInitializedOnInbound, m, sa_not_initialized_on_inbound);
}

/* The nine members versions 0 and 1 share. */
#define AGGREGATE_DROP0(o, m)                                                  \
	do {                                                                   \
		COPY((o)->invalidSpisOnInbound, m, invalid_spis_on_inbound);   \
		COPY((o)->decryptionFailuresOnInbound, m,                      \
		     decryption_failures_on_inbound);                          \
		COPY((o)->authenticationFailuresOnInbound, m,                  \
		     authentication_failures_on_inbound);                      \
		COPY((o)->udpEspValidationFailuresOnInbound, m,                \
		     udp_esp_validation_failures_on_inbound);                  \
		COPY((o)->replayCheckFailuresOnInbound, m,                     \
		     replay_check_failures_on_inbound);                        \
		COPY((o)->invalidClearTextInbound, m,                          \
		     invalid_clear_text_inbound);                              \
		COPY((o)->saNotInitializedOnInbound, m,                        \
		     sa_not_initialized_on_inbound);                           \
		COPY((o)->receiveOverIncorrectSaInbound, m,                    \
		     receive_over_incorrect_sa_inbound);                       \
		COPY((o)->secureReceivesNotMatchingFilters, m,                 \
		     secure_receives_not_matching_filters);                    \
	} while (0)

/* The six members versions 0 and 1 share. */
#define TRAFFIC0(o, m)                                                         \
	do {                                                                   \
		COPY((o)->encryptedByteCount, m, encrypted_byte_count);        \
		COPY((o)->authenticatedAHByteCount, m,                         \
		     authenticated_ah_byte_count);                             \
		COPY((o)->authenticatedESPByteCount, m,                        \
		     authenticated_esp_byte_count);                            \
		COPY((o)->transportByteCount, m, transport_byte_count);        \
		COPY((o)->tunnelByteCount, m, tunnel_byte_count);              \
		COPY((o)->offloadByteCount, m, offload_byte_count);            \
	} while (0)

void
fwpmu_convert_ipsec0(IPSEC_STATISTICS0 *out,
                     const Secstat__V1__IpsecStatistics *in)
{
	memset(out, 0, sizeof(*out));
	if (in == NULL) {
		return;
	}
	sa_stats(&out->aggregateSaStatistics, in->aggregate_sa_statistics);
	esp_drop(&out->espDropPacketStatistics, in->esp_drop_packet_statistics);
	ah_drop(&out->ahDropPacketStatistics, in->ah_drop_packet_statistics);
	if (in->aggregate_drop_packet_statistics != NULL) {
		AGGREGATE_DROP0(&out->aggregateDropPacketStatistics,
		                in->aggregate_drop_packet_statistics);
	}
	if (in->inbound_traffic_statistics != NULL) {
		TRAFFIC0(&out->inboundTrafficStatistics,
		         in->inbound_traffic_statistics);
	}
	if (in->outbound_traffic_statistics != NULL) {
		TRAFFIC0(&out->outboundTrafficStatistics,
		         in->outbound_traffic_statistics);
	}
}

void
fwpmu_convert_ipsec1(IPSEC_STATISTICS1 *out,
                     const Secstat__V1__IpsecStatistics *in)
{
	const Secstat__V1__IpsecAggregateDropPacketStatistics *d;
	const Secstat__V1__IpsecTrafficStatistics *t;

	memset(out, 0, sizeof(*out));
	if (in == NULL) {
		return;
	}
	sa_stats(&out->aggregateSaStatistics, in->aggregate_sa_statistics);
	esp_drop(&out->espDropPacketStatistics, in->esp_drop_packet_statistics);
	ah_drop(&out->ahDropPacketStatistics, in->ah_drop_packet_statistics);
	if ((d = in->aggregate_drop_packet_statistics) != NULL) {
		AGGREGATE_DROP0(&out->aggregateDropPacketStatistics, d);
		COPY(out->aggregateDropPacketStatistics.totalDropPacketsInbound,
		     d, total_drop_packets_inbound);
	}
	if ((t = in->inbound_traffic_statistics) != NULL) {
		TRAFFIC0(&out->inboundTrafficStatistics, t);
		COPY(out->inboundTrafficStatistics.totalSuccessfulPackets, t,
		     total_successful_packets);
	}
	if ((t = in->outbound_traffic_statistics) != NULL) {
		TRAFFIC0(&out->outboundTrafficStatistics, t);
		COPY(out->outboundTrafficStatistics.totalSuccessfulPackets, t,
		     total_successful_packets);
	}
}

/* Versions 0 and 1 of the IKE sub-structures have identical members but
 * distinct types: macros fill both without casting between them. */
#define IPVS_KEYMODULE(o, m)                                                   \
	do {                                                                   \
		COPY((o)->currentActiveMainModes, m,                           \
		     current_active_main_modes);                               \
		COPY((o)->totalMainModesStarted, m, total_main_modes_started); \
		COPY((o)->totalSuccessfulMainModes, m,                         \
		     total_successful_main_modes);                             \
		COPY((o)->totalFailedMainModes, m, total_failed_main_modes);   \
		COPY((o)->totalResponderMainModes, m,                          \
		     total_responder_main_modes);                              \
		COPY((o)->currentNewResponderMainModes, m,                     \
		     current_new_responder_main_modes);                        \
		COPY((o)->currentActiveQuickModes, m,                          \
		     current_active_quick_modes);                              \
		COPY((o)->totalQuickModesStarted, m,                           \
		     total_quick_modes_started);                               \
		COPY((o)->totalSuccessfulQuickModes, m,                        \
		     total_successful_quick_modes);                            \
		COPY((o)->totalFailedQuickModes, m, total_failed_quick_modes); \
		COPY((o)->totalAcquires, m, total_acquires);                   \
		COPY((o)->totalReinitAcquires, m, total_reinit_acquires);      \
		COPY((o)->currentActiveExtendedModes, m,                       \
		     current_active_extended_modes);                           \
		COPY((o)->totalExtendedModesStarted, m,                        \
		     total_extended_modes_started);                            \
		COPY((o)->totalSuccessfulExtendedModes, m,                     \
		     total_successful_extended_modes);                         \
		COPY((o)->totalFailedExtendedModes, m,                         \
		     total_failed_extended_modes);                             \
		COPY((o)->totalImpersonationExtendedModes, m,                  \
		     total_impersonation_extended_modes);                      \
		COPY((o)->totalImpersonationMainModes, m,                      \
		     total_impersonation_main_modes);                          \
	} while (0)

/* Entry i of the wire table counts error error_code_base + i (13800 when
 * the base is absent); slot j of the Windows table counts 13800 + j.
 * Entries outside the 97 slots have no place in the Windows structure. */
static void
error_table(UINT32 *slots, const Secstat__V1__IkeextKeymoduleStatistics *m)
{
	uint64_t base = m->has_error_code_base
	                    ? m->error_code_base
	                    : ERROR_IPSEC_IKE_NEG_STATUS_BEGIN;

	for (size_t i = 0; i < m->n_error_frequency_table; i++) {
		uint64_t code = base + i;

		if (code < ERROR_IPSEC_IKE_NEG_STATUS_BEGIN ||
		    code - ERROR_IPSEC_IKE_NEG_STATUS_BEGIN >=
		        IKEEXT_ERROR_CODE_COUNT) {
			continue;
		}
		slots[code - ERROR_IPSEC_IKE_NEG_STATUS_BEGIN] =
		    (UINT32)m->error_frequency_table[i];
	}
}

#define KEYMODULE(o, m)                                                        \
	do {                                                                   \
		if ((m) == NULL) {                                             \
			break;                                                 \
		}                                                              \
		if ((m)->v4_statistics != NULL) {                              \
			IPVS_KEYMODULE(&(o)->v4Statistics,                     \
			               (m)->v4_statistics);                    \
		}                                                              \
		if ((m)->v6_statistics != NULL) {                              \
			IPVS_KEYMODULE(&(o)->v6Statistics,                     \
			               (m)->v6_statistics);                    \
		}                                                              \
		error_table((o)->errorFrequencyTable, m);                      \
		COPY((o)->mainModeNegotiationTime, m,                          \
		     main_mode_negotiation_time);                              \
		COPY((o)->quickModeNegotiationTime, m,                         \
		     quick_mode_negotiation_time);                             \
		COPY((o)->extendedModeNegotiationTime, m,                      \
		     extended_mode_negotiation_time);                          \
	} while (0)

#define COMMON(o, m)                                                           \
	do {                                                                   \
		if ((m) == NULL) {                                             \
			break;                                                 \
		}                                                              \
		if ((m)->v4_statistics != NULL) {                              \
			COPY((o)->v4Statistics.totalSocketReceiveFailures,     \
			     (m)->v4_statistics,                               \
			     total_socket_receive_failures);                   \
			COPY((o)->v4Statistics.totalSocketSendFailures,        \
			     (m)->v4_statistics, total_socket_send_failures);  \
		}                                                              \
		if ((m)->v6_statistics != NULL) {                              \
			COPY((o)->v6Statistics.totalSocketReceiveFailures,     \
			     (m)->v6_statistics,                               \
			     total_socket_receive_failures);                   \
			COPY((o)->v6Statistics.totalSocketSendFailures,        \
			     (m)->v6_statistics, total_socket_send_failures);  \
		}                                                              \
		COPY((o)->totalPacketsReceived, m, total_packets_received);    \
		COPY((o)->totalInvalidPacketsReceived, m,                      \
		     total_invalid_packets_received);                          \
		COPY((o)->currentQueuedWorkitems, m,                           \
		     current_queued_workitems);                                \
	} while (0)

void
fwpmu_convert_ikeext0(IKEEXT_STATISTICS0 *out,
                      const Secstat__V1__IkeextStatistics *in)
{
	memset(out, 0, sizeof(*out));
	if (in == NULL) {
		return;
	}
	KEYMODULE(&out->ikeStatistics, in->ike_statistics);
	KEYMODULE(&out->authipStatistics, in->authip_statistics);
	COMMON(&out->commonStatistics, in->common_statistics);
}

void
fwpmu_convert_ikeext1(IKEEXT_STATISTICS1 *out,
                      const Secstat__V1__IkeextStatistics *in)
{
	memset(out, 0, sizeof(*out));
	if (in == NULL) {
		return;
	}
	KEYMODULE(&out->ikeStatistics, in->ike_statistics);
	KEYMODULE(&out->authipStatistics, in->authip_statistics);
	KEYMODULE(&out->ikeV2Statistics, in->ike_v2_statistics);
	COMMON(&out->commonStatistics, in->common_statistics);
}
