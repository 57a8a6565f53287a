/*
 * Client side of tls+tcp://: the agent is verified against a CA file and
 * the client presents its own certificate (the agent requires one).
 * Shared by sessions and fleets.
 */
#ifndef SECSTAT_CLIENT_TLS_CLIENT_H
#define SECSTAT_CLIENT_TLS_CLIENT_H

#include <stdbool.h>

#include <nng/nng.h>

/* True for tls+tcp://, tls+tcp4:// and tls+tcp6:// URLs. */
bool tls_client_url_is_tls(const char *url);

/*
 * Gives dialer `d` (of `url`, not started) a TLS configuration: verify
 * the agent against `ca_file` under `server_name` (NULL: the URL's
 * host), present `cert_file` with `key_file`. Returns 0, -EINVAL (no CA
 * file, one of cert/key without the other, a file that cannot be read
 * or parsed) or -ENOMEM.
 */
int tls_client_setup(nng_dialer d, const char *url, const char *ca_file,
                     const char *cert_file, const char *key_file,
                     const char *server_name);

#endif /* SECSTAT_CLIENT_TLS_CLIENT_H */
