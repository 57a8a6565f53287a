/*
 * Listeners with the agent's transport policy, shared by the REP server
 * and the PUB publisher:
 * - tls+tcp:// needs a certificate, its key and a client CA, and always
 *   requires the client's certificate (mutual authentication);
 * - plain tcp:// is refused on anything but a loopback address unless
 *   --insecure is given (and then logged as a warning);
 * - every listener gets the receive size limit (nng 1.5.2 defaults to
 *   unlimited).
 */
#ifndef SECSTAT_AGENT_TLS_H
#define SECSTAT_AGENT_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "acl.h"

struct tls_policy {
	const char *cert_file; /* PEM certificate (chain) */
	const char *key_file;  /* PEM private key */
	const char *ca_file;   /* PEM CA(s) that sign client certificates,
	                          optionally with CRLs */
	bool insecure;         /* plain tcp:// beyond loopback allowed */
	size_t recv_max;       /* NNG_OPT_RECVMAXSZ of every listener */
	long ipc_gid;          /* group of ipc:// socket files (mode 0660),
	                          -1: the agent's */
};

/* True for URLs of the tls+tcp family. */
bool tls_url_is_tls(const char *url);

/*
 * Creates and starts a listener on `sock` for `url` under `pol`. On
 * success *lp is the started listener and *transport says what the
 * server learns about its callers. Errors are logged; returns 0 or a
 * negative errno (-EINVAL for a policy violation, -EACCES for a key file
 * that cannot be read).
 */
int tls_listen(nng_socket sock, const char *url, const struct tls_policy *pol,
               nng_listener *lp, enum acl_transport *transport);

/* Loads a server TLS configuration (mutual authentication required).
 * Returns 0 or a negative errno; logs the reason. */
int tls_server_config(const struct tls_policy *pol, nng_tls_config **out);

/* The peer address of a pipe as 16 bytes (IPv4 v4-mapped) and, when
 * `text` is not NULL, as text; false for a pipe without an IP address.
 * Formatting costs more than the rest of a request's authorization: the
 * request path asks for the text only when it logs. */
bool tls_pipe_addr(nng_pipe p, unsigned char addr[16], char *text, size_t len);

#endif /* SECSTAT_AGENT_TLS_H */
