/* Status texts and names, and the mapping of internal errors to them. */
#include "error.h"

#include <errno.h>
#include <stddef.h>

#include <nng/nng.h>

#include <secstat/secstat.h>

struct status_text {
	uint32_t code;
	const char *name;
	const char *text;
};

/* One entry per code of <secstat/winerror.h>, in its order. The unit
 * test parses that header and checks that every code defined there has
 * an entry here with the same name and a distinct text. */
#define E(code, text)                                                          \
	{                                                                      \
		code, #code, text                                              \
	}
static const struct status_text status_texts[] = {
    E(ERROR_SUCCESS, "The operation completed successfully."),
    E(ERROR_ACCESS_DENIED,
      "Access is denied: the caller lacks the right to read these statistics."),
    E(ERROR_INVALID_HANDLE, "The handle is not an open session handle."),
    E(ERROR_NOT_ENOUGH_MEMORY, "Not enough memory to complete the operation."),
    E(ERROR_INVALID_PARAMETER, "A parameter is incorrect (a required pointer "
                               "is NULL or a value is out of range)."),
    E(ERROR_IPSEC_IKE_NEG_STATUS_BEGIN,
      "Start of the IKE negotiation status range (not an error)."),
    E(ERROR_IPSEC_IKE_AUTH_FAIL,
      "IKE authentication credentials are unacceptable."),
    E(ERROR_IPSEC_IKE_ATTRIB_FAIL, "IKE security attributes are unacceptable."),
    E(ERROR_IPSEC_IKE_NEGOTIATION_PENDING, "IKE negotiation in progress."),
    E(ERROR_IPSEC_IKE_GENERAL_PROCESSING_ERROR,
      "General IKE processing error."),
    E(ERROR_IPSEC_IKE_TIMED_OUT, "IKE negotiation timed out."),
    E(ERROR_IPSEC_IKE_NO_CERT,
      "IKE failed to find a valid machine certificate."),
    E(ERROR_IPSEC_IKE_SA_DELETED, "IKE security association deleted by the "
                                  "peer before establishment completed."),
    E(ERROR_IPSEC_IKE_SA_REAPED,
      "IKE security association deleted before establishment completed."),
    E(ERROR_IPSEC_IKE_MM_ACQUIRE_DROP,
      "Negotiation request sat in the main-mode queue too long."),
    E(ERROR_IPSEC_IKE_QM_ACQUIRE_DROP,
      "Negotiation request sat in the quick-mode queue too long."),
    E(ERROR_IPSEC_IKE_QUEUE_DROP_MM,
      "Negotiation request sat in the queue too long (main mode)."),
    E(ERROR_IPSEC_IKE_QUEUE_DROP_NO_MM,
      "Negotiation request sat in the queue too long (no main mode)."),
    E(ERROR_IPSEC_IKE_DROP_NO_RESPONSE, "No response from the peer."),
    E(ERROR_IPSEC_IKE_MM_DELAY_DROP, "Negotiation took too long (main mode)."),
    E(ERROR_IPSEC_IKE_QM_DELAY_DROP, "Negotiation took too long (quick mode)."),
    E(ERROR_IPSEC_IKE_ERROR, "Unknown IKE error."),
    E(ERROR_IPSEC_IKE_CRL_FAILED, "Certificate revocation check failed."),
    E(ERROR_IPSEC_IKE_INVALID_KEY_USAGE, "Invalid certificate key usage."),
    E(ERROR_IPSEC_IKE_INVALID_CERT_TYPE, "Invalid certificate type."),
    E(ERROR_IPSEC_IKE_NO_PRIVATE_KEY,
      "No private key for the certificate used in IKE."),
    E(ERROR_IPSEC_IKE_SIMULTANEOUS_REKEY, "Simultaneous rekeys were detected."),
    E(ERROR_IPSEC_IKE_DH_FAIL, "Failure in Diffie-Hellman computation."),
    E(ERROR_IPSEC_IKE_CRITICAL_PAYLOAD_NOT_RECOGNIZED,
      "A critical payload was not recognized."),
    E(ERROR_IPSEC_IKE_INVALID_HEADER, "Invalid IKE message header."),
    E(ERROR_IPSEC_IKE_NO_POLICY,
      "No IPsec policy is configured for the negotiation."),
    E(ERROR_IPSEC_IKE_INVALID_SIGNATURE, "Failed to verify a signature."),
    E(ERROR_IPSEC_IKE_KERBEROS_ERROR, "Kerberos authentication failed."),
    E(ERROR_IPSEC_IKE_NO_PUBLIC_KEY,
      "The peer's certificate has no public key."),
    E(ERROR_IPSEC_IKE_PROCESS_ERR, "Error processing an IKE payload."),
    E(ERROR_IPSEC_IKE_PROCESS_ERR_SA, "Error processing the SA payload."),
    E(ERROR_IPSEC_IKE_PROCESS_ERR_PROP,
      "Error processing the proposal payload."),
    E(ERROR_IPSEC_IKE_PROCESS_ERR_TRANS,
      "Error processing the transform payload."),
    E(ERROR_IPSEC_IKE_PROCESS_ERR_KE,
      "Error processing the key exchange payload."),
    E(ERROR_IPSEC_IKE_PROCESS_ERR_ID, "Error processing the identity payload."),
    E(ERROR_IPSEC_IKE_PROCESS_ERR_CERT,
      "Error processing the certificate payload."),
    E(ERROR_IPSEC_IKE_PROCESS_ERR_CERT_REQ,
      "Error processing the certificate request payload."),
    E(ERROR_IPSEC_IKE_PROCESS_ERR_HASH, "Error processing the hash payload."),
    E(ERROR_IPSEC_IKE_PROCESS_ERR_SIG,
      "Error processing the signature payload."),
    E(ERROR_IPSEC_IKE_PROCESS_ERR_NONCE, "Error processing the nonce payload."),
    E(ERROR_IPSEC_IKE_PROCESS_ERR_NOTIFY,
      "Error processing the notify payload."),
    E(ERROR_IPSEC_IKE_PROCESS_ERR_DELETE,
      "Error processing the delete payload."),
    E(ERROR_IPSEC_IKE_PROCESS_ERR_VENDOR,
      "Error processing the vendor ID payload."),
    E(ERROR_IPSEC_IKE_INVALID_PAYLOAD, "Invalid payload received."),
    E(ERROR_IPSEC_IKE_LOAD_SOFT_SA, "A soft security association was loaded."),
    E(ERROR_IPSEC_IKE_SOFT_SA_TORN_DOWN,
      "A soft security association was torn down."),
    E(ERROR_IPSEC_IKE_INVALID_COOKIE, "Invalid cookie received."),
    E(ERROR_IPSEC_IKE_NO_PEER_CERT,
      "The peer did not send a valid machine certificate."),
    E(ERROR_IPSEC_IKE_PEER_CRL_FAILED,
      "Revocation check of the peer's certificate failed."),
    E(ERROR_IPSEC_IKE_POLICY_CHANGE, "The new policy invalidated security "
                                     "associations formed with the old one."),
    E(ERROR_IPSEC_IKE_NO_MM_POLICY, "No matching main-mode IKE policy."),
    E(ERROR_IPSEC_IKE_NOTCBPRIV,
      "Failed to enable the trusted computing base privilege."),
    E(ERROR_IPSEC_IKE_SECLOADFAIL, "Failed to load the security provider."),
    E(ERROR_IPSEC_IKE_FAILSSPINIT,
      "Failed to initialize the security provider."),
    E(ERROR_IPSEC_IKE_FAILQUERYSSP,
      "Failed to query the security provider package."),
    E(ERROR_IPSEC_IKE_SRVACQFAIL,
      "Failed to obtain a security function table dispatch address."),
    E(ERROR_IPSEC_IKE_SRVQUERYCRED,
      "Failed to query the Kerberos package for credentials."),
    E(ERROR_IPSEC_IKE_GETSPIFAIL,
      "Failed to obtain a new SPI for the inbound security association."),
    E(ERROR_IPSEC_IKE_INVALID_FILTER, "The filter was invalid."),
    E(ERROR_IPSEC_IKE_OUT_OF_MEMORY, "IKE ran out of memory."),
    E(ERROR_IPSEC_IKE_ADD_UPDATE_KEY_FAILED,
      "Failed to add the security association to the IPsec driver."),
    E(ERROR_IPSEC_IKE_INVALID_POLICY, "Invalid policy."),
    E(ERROR_IPSEC_IKE_UNKNOWN_DOI, "Invalid domain of interpretation."),
    E(ERROR_IPSEC_IKE_INVALID_SITUATION, "Invalid situation."),
    E(ERROR_IPSEC_IKE_DH_FAILURE, "Diffie-Hellman failure."),
    E(ERROR_IPSEC_IKE_INVALID_GROUP, "Invalid Diffie-Hellman group."),
    E(ERROR_IPSEC_IKE_ENCRYPT, "Error encrypting the payload."),
    E(ERROR_IPSEC_IKE_DECRYPT, "Error decrypting the payload."),
    E(ERROR_IPSEC_IKE_POLICY_MATCH, "Policy match error."),
    E(ERROR_IPSEC_IKE_UNSUPPORTED_ID, "Unsupported identity type."),
    E(ERROR_IPSEC_IKE_INVALID_HASH, "Hash verification failed."),
    E(ERROR_IPSEC_IKE_INVALID_HASH_ALG, "Invalid hash algorithm."),
    E(ERROR_IPSEC_IKE_INVALID_HASH_SIZE, "Invalid hash size."),
    E(ERROR_IPSEC_IKE_INVALID_ENCRYPT_ALG, "Invalid encryption algorithm."),
    E(ERROR_IPSEC_IKE_INVALID_AUTH_ALG, "Invalid authentication algorithm."),
    E(ERROR_IPSEC_IKE_INVALID_SIG, "Invalid certificate signature."),
    E(ERROR_IPSEC_IKE_LOAD_FAILED, "Load failed."),
    E(ERROR_IPSEC_IKE_RPC_DELETE, "Deleted by a remote procedure call."),
    E(ERROR_IPSEC_IKE_BENIGN_REINIT,
      "Temporary state created for a benign reinitialization (not an error)."),
    E(ERROR_IPSEC_IKE_INVALID_RESPONDER_LIFETIME_NOTIFY,
      "The responder-lifetime notify carried an invalid lifetime value."),
    E(ERROR_IPSEC_IKE_INVALID_MAJOR_VERSION,
      "The IKE major version is not supported."),
    E(ERROR_IPSEC_IKE_INVALID_CERT_KEYLEN,
      "The certificate key length is insufficient."),
    E(ERROR_IPSEC_IKE_MM_LIMIT,
      "Too many main-mode security associations with this peer."),
    E(ERROR_IPSEC_IKE_NEGOTIATION_DISABLED,
      "Negotiation is disabled by policy."),
    E(ERROR_IPSEC_IKE_QM_LIMIT,
      "The quick-mode limit of the main mode was reached."),
    E(ERROR_IPSEC_IKE_MM_EXPIRED, "The main-mode security association lifetime "
                                  "expired or the peer sent a delete."),
    E(ERROR_IPSEC_IKE_PEER_MM_ASSUMED_INVALID,
      "The peer's main-mode security association is assumed invalid."),
    E(ERROR_IPSEC_IKE_CERT_CHAIN_POLICY_MISMATCH,
      "The certificate does not chain to a root trusted by policy."),
    E(ERROR_IPSEC_IKE_UNEXPECTED_MESSAGE_ID, "Unexpected message id."),
    E(ERROR_IPSEC_IKE_INVALID_AUTH_PAYLOAD,
      "Invalid authentication offers received."),
    E(ERROR_IPSEC_IKE_DOS_COOKIE_SENT,
      "A cookie was sent to the peer as denial-of-service protection."),
    E(ERROR_IPSEC_IKE_SHUTTING_DOWN, "The IKE service is shutting down."),
    E(ERROR_IPSEC_IKE_CGA_AUTH_FAILED,
      "The peer's cryptographically generated address does not match its "
      "public key."),
    E(ERROR_IPSEC_IKE_PROCESS_ERR_NATOA,
      "Error processing the NAT original-address payload."),
    E(ERROR_IPSEC_IKE_INVALID_MM_FOR_QM,
      "The quick mode's parameters do not match its main mode."),
    E(ERROR_IPSEC_IKE_QM_EXPIRED,
      "The quick-mode security association was expired by the IPsec driver."),
    E(ERROR_IPSEC_IKE_TOO_MANY_FILTERS,
      "Too many dynamically added IKE filters were detected."),
    E(ERROR_IPSEC_IKE_NEG_STATUS_END,
      "End of the counted IKE negotiation status range (not an error)."),
    E(ERROR_IPSEC_IKE_KILL_DUMMY_NAP_TUNNEL,
      "A dummy NAP tunnel was torn down."),
    E(ERROR_IPSEC_IKE_INNER_IP_ASSIGNMENT_FAILURE,
      "Failed to assign an inner IP address."),
    E(ERROR_IPSEC_IKE_REQUIRE_CP_PAYLOAD_MISSING,
      "The required configuration payload is missing."),
    E(ERROR_IPSEC_KEY_MODULE_IMPERSONATION_NEGOTIATION_PENDING,
      "A negotiation running as the security principal of the connection "
      "initiator is in progress."),
    E(ERROR_IPSEC_IKE_COEXISTENCE_SUPPRESS,
      "The security association was deleted because of a suppressed "
      "duplicate."),
    E(ERROR_IPSEC_IKE_RATELIMIT_DROP, "The incoming security association "
                                      "request was dropped by rate limiting."),
    E(ERROR_IPSEC_IKE_PEER_DOESNT_SUPPORT_MOBIKE,
      "The peer does not support MOBIKE."),
    E(ERROR_IPSEC_IKE_AUTHORIZATION_FAILURE,
      "The security association could not be established: not authorized."),
    E(ERROR_IPSEC_IKE_STRONG_CRED_AUTHORIZATION_FAILURE,
      "Not authorized: no sufficiently strong PKINIT-based credentials."),
    E(ERROR_IPSEC_IKE_AUTHORIZATION_FAILURE_WITH_OPTIONAL_RETRY,
      "Not authorized to establish the security association with the target; a "
      "retry may succeed."),
    E(ERROR_IPSEC_IKE_STRONG_CRED_AUTHORIZATION_AND_CERTMAP_FAILURE,
      "Not authorized: no PKINIT-based credentials and the certificate could "
      "not be mapped."),
    E(ERROR_IPSEC_IKE_NEG_STATUS_EXTENDED_END,
      "End of the extended IKE negotiation status range (not an error)."),
    E(FWP_E_CALLOUT_NOT_FOUND, "The callout does not exist."),
    E(FWP_E_CONDITION_NOT_FOUND, "The filter condition does not exist."),
    E(FWP_E_FILTER_NOT_FOUND, "The filter does not exist."),
    E(FWP_E_LAYER_NOT_FOUND, "The layer does not exist."),
    E(FWP_E_PROVIDER_NOT_FOUND, "The provider does not exist: no statistics "
                                "source is available for this call."),
    E(FWP_E_PROVIDER_CONTEXT_NOT_FOUND, "The provider context does not exist."),
    E(FWP_E_SUBLAYER_NOT_FOUND, "The sublayer does not exist."),
    E(FWP_E_NOT_FOUND,
      "The object does not exist: the engine does not know this method."),
    E(FWP_E_ALREADY_EXISTS, "An object with that key already exists (a session "
                            "with this session key is already open)."),
    E(FWP_E_IN_USE, "The object is still referenced and cannot be deleted."),
    E(FWP_E_DYNAMIC_SESSION_IN_PROGRESS,
      "The call is not allowed from a dynamic session."),
    E(FWP_E_WRONG_SESSION, "The call was made from the wrong session."),
    E(FWP_E_NO_TXN_IN_PROGRESS,
      "The call requires an explicit transaction and none is open."),
    E(FWP_E_TXN_IN_PROGRESS,
      "The call is not allowed inside an explicit transaction."),
    E(FWP_E_TXN_ABORTED, "The explicit transaction was forcibly cancelled."),
    E(FWP_E_SESSION_ABORTED,
      "The session was cancelled; close the handle and open a new session."),
    E(FWP_E_INCOMPATIBLE_TXN,
      "The call is not allowed inside a read-only transaction."),
    E(FWP_E_TIMEOUT, "The operation timed out: fresh data was not ready in "
                     "time (a stale result may be included)."),
    E(FWP_E_NET_EVENTS_DISABLED,
      "Collection of network diagnostic events is disabled."),
    E(FWP_E_INCOMPATIBLE_LAYER, "The operation is not supported by the layer."),
    E(FWP_E_KM_CLIENTS_ONLY,
      "The call is allowed for kernel-mode callers only."),
    E(FWP_E_LIFETIME_MISMATCH,
      "The objects to link have incompatible lifetimes."),
    E(FWP_E_BUILTIN_OBJECT, "The object is built in and cannot be deleted."),
    E(FWP_E_TOO_MANY_CALLOUTS,
      "The maximum number of callouts has been reached."),
    E(FWP_E_NOTIFICATION_DROPPED,
      "A notification was lost because the message queue was full."),
    E(FWP_E_TRAFFIC_MISMATCH, "The traffic parameters do not match those of "
                              "the security association context."),
    E(FWP_E_INCOMPATIBLE_SA_STATE,
      "The call is not allowed in the current security association state."),
    E(FWP_E_NULL_POINTER, "A required pointer is NULL."),
    E(FWP_E_INVALID_ENUMERATOR, "An enumerator value is out of range."),
    E(FWP_E_INVALID_FLAGS, "The flags field contains an invalid value."),
    E(FWP_E_INVALID_NET_MASK, "The network mask is invalid."),
    E(FWP_E_INVALID_RANGE, "The range is invalid."),
    E(FWP_E_INVALID_INTERVAL, "The time interval is invalid."),
    E(FWP_E_ZERO_LENGTH_ARRAY,
      "An array that needs at least one element is empty."),
    E(FWP_E_NULL_DISPLAY_NAME, "The display name is NULL."),
    E(FWP_E_INVALID_ACTION_TYPE,
      "The action type is not allowed for a filter."),
    E(FWP_E_INVALID_WEIGHT, "The filter weight is invalid."),
    E(FWP_E_MATCH_TYPE_MISMATCH, "The match type does not fit the operands."),
    E(FWP_E_TYPE_MISMATCH, "A value has the wrong type."),
    E(FWP_E_OUT_OF_BOUNDS, "An integer value is outside the allowed range."),
    E(FWP_E_RESERVED, "A reserved field is not zero."),
    E(FWP_E_DUPLICATE_CONDITION,
      "Several conditions were given for one field."),
    E(FWP_E_DUPLICATE_KEYMOD,
      "The same keying module appears twice in a policy."),
    E(FWP_E_ACTION_INCOMPATIBLE_WITH_LAYER,
      "The action type does not fit the layer."),
    E(FWP_E_ACTION_INCOMPATIBLE_WITH_SUBLAYER,
      "The action type does not fit the sublayer."),
    E(FWP_E_CONTEXT_INCOMPATIBLE_WITH_LAYER,
      "The raw or provider context does not fit the layer."),
    E(FWP_E_CONTEXT_INCOMPATIBLE_WITH_CALLOUT,
      "The raw or provider context does not fit the callout."),
    E(FWP_E_INCOMPATIBLE_AUTH_METHOD,
      "The authentication method does not fit the policy type."),
    E(FWP_E_INCOMPATIBLE_DH_GROUP,
      "The Diffie-Hellman group does not fit the policy type."),
    E(FWP_E_EM_NOT_SUPPORTED,
      "An IKE policy cannot contain an extended-mode policy."),
    E(FWP_E_NEVER_MATCH,
      "The enumeration template or subscription can never match."),
    E(FWP_E_PROVIDER_CONTEXT_MISMATCH,
      "The provider context has the wrong type."),
    E(FWP_E_INVALID_PARAMETER,
      "A parameter is incorrect (the engine could not accept the request)."),
    E(FWP_E_TOO_MANY_SUBLAYERS,
      "The maximum number of sublayers has been reached."),
    E(FWP_E_CALLOUT_NOTIFICATION_FAILED,
      "The notify function of a callout returned an error."),
    E(FWP_E_INVALID_AUTH_TRANSFORM,
      "The IPsec authentication transform is invalid."),
    E(FWP_E_INVALID_CIPHER_TRANSFORM, "The IPsec cipher transform is invalid."),
    E(FWP_E_INCOMPATIBLE_CIPHER_TRANSFORM,
      "The IPsec cipher transform does not fit the policy."),
    E(FWP_E_INVALID_TRANSFORM_COMBINATION,
      "The combination of IPsec transform types is invalid."),
    E(FWP_E_DUPLICATE_AUTH_METHOD,
      "The same authentication method appears twice in a policy."),
    E(FWP_E_INVALID_TUNNEL_ENDPOINT,
      "The tunnel endpoint configuration is invalid."),
    E(FWP_E_L2_DRIVER_NOT_READY, "The MAC layers are not ready."),
    E(FWP_E_KEY_DICTATOR_ALREADY_REGISTERED,
      "A key manager that dictates keys is already registered."),
    E(FWP_E_KEY_DICTATION_INVALID_KEYING_MATERIAL,
      "A key manager dictated invalid keys."),
    E(FWP_E_CONNECTIONS_DISABLED, "IPsec connection tracking is disabled."),
    E(FWP_E_INVALID_DNS_NAME, "The DNS name is invalid."),
    E(FWP_E_STILL_ON, "The engine option is still enabled by other settings."),
    E(FWP_E_IKEEXT_NOT_RUNNING, "The IKE keying service is not running: no IKE "
                                "statistics source is available."),
    E(FWP_E_DROP_NOICMP,
      "Classification result: drop the packet and send no ICMP."),
    E(RPC_E_CALL_REJECTED, "The agent refused the call."),
    E(RPC_E_CALL_CANCELED,
      "The call was cancelled by the client (the session was closed)."),
    E(RPC_E_CANTPOST_INSENDCALL,
      "A message cannot be posted while a call is being sent."),
    E(RPC_E_CANTCALLOUT_INASYNCCALL,
      "An outgoing call cannot be made from an asynchronous call."),
    E(RPC_E_CANTCALLOUT_INEXTERNALCALL,
      "An outgoing call cannot be made from a message filter."),
    E(RPC_E_CONNECTION_TERMINATED,
      "The connection was terminated; other connections are still valid."),
    E(RPC_E_SERVER_DIED, "The agent went away; the call may have executed."),
    E(RPC_E_CLIENT_DIED,
      "The client went away while the call was being processed."),
    E(RPC_E_INVALID_DATAPACKET, "The data packet is malformed."),
    E(RPC_E_CANTTRANSMIT_CALL, "The call could not be transmitted."),
    E(RPC_E_CLIENT_CANTMARSHAL_DATA,
      "The client could not encode the request."),
    E(RPC_E_CLIENT_CANTUNMARSHAL_DATA,
      "The client could not decode the reply (malformed or oversized)."),
    E(RPC_E_SERVER_CANTMARSHAL_DATA, "The agent could not encode the reply."),
    E(RPC_E_SERVER_CANTUNMARSHAL_DATA,
      "The agent could not decode the request."),
    E(RPC_E_INVALID_DATA,
      "The reply is invalid (wrong request id or result type, or no status)."),
    E(RPC_E_INVALID_PARAMETER, "A parameter cannot be used for the call "
                               "(invalid or unsupported agent URL)."),
    E(RPC_E_CANTCALLOUT_AGAIN,
      "No second outgoing call is allowed on this channel."),
    E(RPC_E_SERVER_DIED_DNE,
      "The agent could not be reached; the call did not execute."),
    E(RPC_E_SYS_CALL_FAILED, "A system call failed."),
    E(RPC_E_OUT_OF_RESOURCES,
      "The resources the call needs could not be allocated."),
    E(RPC_E_ATTEMPTED_MULTITHREAD, "The call was attempted from more than one "
                                   "thread in single-threaded mode."),
    E(RPC_E_NOT_REGISTERED,
      "The requested interface is not registered on the agent."),
    E(RPC_E_FAULT,
      "The agent could not be called or could not return the results."),
    E(RPC_E_SERVERFAULT, "The agent failed while processing the call."),
    E(RPC_E_CHANGED_MODE,
      "The threading mode cannot be changed after it was set."),
    E(RPC_E_INVALIDMETHOD, "The method does not exist on the agent."),
    E(RPC_E_DISCONNECTED, "The connection to the agent was lost while waiting "
                          "for the reply; the call may have executed."),
    E(RPC_E_RETRY, "The agent chose not to process the call now; retry later."),
    E(RPC_E_SERVERCALL_RETRYLATER, "The agent is busy; retry later."),
    E(RPC_E_SERVERCALL_REJECTED,
      "The agent rejected the call while processing it."),
    E(RPC_E_INVALID_CALLDATA,
      "The call-control interface received invalid data."),
    E(RPC_E_CANTCALLOUT_ININPUTSYNCCALL,
      "An outgoing call cannot be made from an input-synchronous call."),
    E(RPC_E_WRONG_THREAD, "The interface was used from the wrong thread."),
    E(RPC_E_THREAD_NOT_INIT, "The thread was not initialised for calls."),
    E(RPC_E_VERSION_MISMATCH,
      "The peer does not speak this client's protocol (not a secstat RPC "
      "endpoint, e.g. a stream port, or another version)."),
    E(RPC_E_INVALID_HEADER, "A packet with an invalid header was received."),
    E(RPC_E_INVALID_EXTENSION,
      "A packet with an invalid extension was received."),
    E(RPC_E_INVALID_IPID, "The requested object or interface does not exist."),
    E(RPC_E_INVALID_OBJECT, "The requested object does not exist."),
    E(RPC_E_CALL_COMPLETE,
      "The call context was used after the call completed."),
    E(RPC_E_UNSECURE_CALL,
      "The call was not secured enough for the operation."),
    E(RPC_E_TOO_LATE, "Security settings can no longer be changed."),
    E(RPC_E_NO_GOOD_SECURITY_PACKAGES,
      "The client and the agent have no security mechanism in common."),
    E(RPC_E_ACCESS_DENIED,
      "Access was denied by the transport: the TLS handshake failed (the "
      "agent's or this client's certificate was not accepted)."),
    E(RPC_E_REMOTE_DISABLED, "Remote calls are not allowed for this agent."),
    E(RPC_E_INVALID_OBJREF, "The object reference is malformed."),
    E(RPC_E_NO_CONTEXT, "There is no call context."),
    E(RPC_E_TIMEOUT, "The call timed out waiting for the agent's reply; the "
                     "call may have executed."),
    E(RPC_E_NO_SYNC, "There is nothing to wait on."),
    E(RPC_E_FULLSIC_REQUIRED,
      "A full subject and issuer name of the peer certificate is required."),
    E(RPC_E_INVALID_STD_NAME,
      "The principal name is not a valid standard name."),
    E(RPC_E_UNEXPECTED, "An internal error occurred."),
};
#undef E

static const struct status_text *
status_find(uint32_t code)
{
	size_t n = sizeof(status_texts) / sizeof(status_texts[0]);

	for (size_t i = 0; i < n; i++) {
		if (status_texts[i].code == code) {
			return &status_texts[i];
		}
	}
	return NULL;
}

const char *
secstat_strerror(uint32_t status)
{
	const struct status_text *t = status_find(status);

	return t != NULL ? t->text : "Unknown status code.";
}

const char *
secstat_status_name(uint32_t status)
{
	const struct status_text *t = status_find(status);

	return t != NULL ? t->name : NULL;
}

uint32_t
error_from_nng(int rv, enum error_stage stage)
{
	if ((rv & NNG_ESYSERR) != 0) {
		return RPC_E_SYS_CALL_FAILED;
	}
	switch (rv) {
	case 0:
		return ERROR_SUCCESS;
	case NNG_ENOMEM:
	case NNG_ENOFILES:
	case NNG_ENOSPC:
		return RPC_E_OUT_OF_RESOURCES;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
	case NNG_ENOTSUP:
		/* Only the URL (or an option derived from it) can be
		 * invalid: the library's own arguments are checked before
		 * nng sees them. */
		return RPC_E_INVALID_PARAMETER;
	case NNG_EPERM:
	case NNG_EPEERAUTH:
	case NNG_ECRYPTO:
		return RPC_E_ACCESS_DENIED;
	case NNG_EPROTO:
		/* The peer speaks another SP protocol (not REP). */
		return RPC_E_VERSION_MISMATCH;
	case NNG_EMSGSIZE:
		return RPC_E_CLIENT_CANTUNMARSHAL_DATA;
	case NNG_ECLOSED:
		/* Only our own close ends a socket or context. */
		return stage == ERROR_STAGE_DIAL ? RPC_E_SERVER_DIED_DNE
		                                 : RPC_E_CALL_CANCELED;
	case NNG_ETIMEDOUT:
		/* A request that never left cannot have executed. */
		return stage == ERROR_STAGE_RECV ? RPC_E_TIMEOUT
		                                 : RPC_E_SERVER_DIED_DNE;
	case NNG_ECONNREFUSED:
	case NNG_ENOENT:
	case NNG_EUNREACHABLE:
	case NNG_EADDRINUSE:
		return RPC_E_SERVER_DIED_DNE;
	case NNG_ECONNRESET:
	case NNG_ECONNABORTED:
	case NNG_ECONNSHUT:
	case NNG_ECANCELED:
		return stage == ERROR_STAGE_RECV ? RPC_E_DISCONNECTED
		                                 : RPC_E_SERVER_DIED_DNE;
	default:
		return RPC_E_FAULT;
	}
}

uint32_t
error_from_errno(int err)
{
	switch (-err) {
	case 0:
		return ERROR_SUCCESS;
	case ENOMEM:
		return RPC_E_OUT_OF_RESOURCES;
	case EINVAL:
		return ERROR_INVALID_PARAMETER;
	case EBADMSG:
	case EMSGSIZE:
		return RPC_E_CLIENT_CANTUNMARSHAL_DATA;
	case EPROTO:
		return RPC_E_INVALID_DATA;
	default:
		return RPC_E_FAULT;
	}
}
