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
      "The client and the agent speak different protocol versions."),
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
    E(RPC_E_ACCESS_DENIED, "Access was denied by the transport (connection "
                           "refused by the peer's security checks)."),
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
