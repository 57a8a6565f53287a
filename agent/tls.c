/* Listener policy: TLS configuration, loopback check, size limit. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <nng/supplemental/tls/tls.h>

#include "log.h"

/* PEM files are small; anything larger is not one. */
#define TLS_PEM_MAX (256 * 1024)

bool
tls_url_is_tls(const char *url)
{
	return strncmp(url, "tls+tcp://", 10) == 0 ||
	       strncmp(url, "tls+tcp4://", 11) == 0 ||
	       strncmp(url, "tls+tcp6://", 11) == 0;
}

/* Reads a whole PEM file, NUL-terminated. */
static int
read_pem(const char *what, const char *path, char **out)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int fd;
	int rv = 0;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rv = errno == ENOENT ? -ENOENT : -EACCES;
		log_err("%s %s: %s", what, path, strerror(errno));
		return rv;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > TLS_PEM_MAX) {
		log_err("%s %s: not a regular file of at most %d bytes", what,
		        path, TLS_PEM_MAX);
		rv = -EINVAL;
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		rv = -ENOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + len, (size_t)st.st_size - len);

		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			break;
		}
		len += (size_t)r;
	}
	buf[len] = '\0';
	*out = buf;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rv;
}

/* nng hands the pair to mbedTLS unchecked, and a key that does not
 * belong to the certificate would only show as failed handshakes. Also
 * warns about a certificate outside its validity period. */
static int
check_pair(const struct tls_policy *pol, const char *cert, const char *key)
{
	mbedtls_x509_crt crt;
	mbedtls_pk_context pk;
	int rv = 0;

	mbedtls_x509_crt_init(&crt);
	mbedtls_pk_init(&pk);
	if (mbedtls_x509_crt_parse(&crt, (const unsigned char *)cert,
	                           strlen(cert) + 1) != 0) {
		log_err("--tls-cert %s: not a PEM certificate", pol->cert_file);
		rv = -EINVAL;
	} else if (mbedtls_pk_parse_key(&pk, (const unsigned char *)key,
	                                strlen(key) + 1, NULL, 0) != 0) {
		log_err("--tls-key %s: not an unencrypted PEM private key",
		        pol->key_file);
		rv = -EINVAL;
	} else if (mbedtls_pk_check_pair(&crt.pk, &pk) != 0) {
		log_err("--tls-key %s is not the key of --tls-cert %s",
		        pol->key_file, pol->cert_file);
		rv = -EINVAL;
	} else if (mbedtls_x509_time_is_past(&crt.valid_to) ||
	           mbedtls_x509_time_is_future(&crt.valid_from)) {
		log_warning("--tls-cert %s is outside its validity period: "
		            "clients will refuse the agent",
		            pol->cert_file);
	}
	mbedtls_pk_free(&pk);
	mbedtls_x509_crt_free(&crt);
	return rv;
}

int
tls_server_config(const struct tls_policy *pol, nng_tls_config **out)
{
	nng_tls_config *cfg = NULL;
	char *cert = NULL, *key = NULL;
	int rv;

	*out = NULL;
	if (pol->cert_file == NULL || pol->key_file == NULL ||
	    pol->ca_file == NULL) {
		log_err("a tls+tcp:// listener needs --tls-cert, --tls-key and "
		        "--tls-ca (the CA that signs client certificates)");
		return -EINVAL;
	}
	if ((rv = read_pem("--tls-cert", pol->cert_file, &cert)) != 0 ||
	    (rv = read_pem("--tls-key", pol->key_file, &key)) != 0 ||
	    (rv = check_pair(pol, cert, key)) != 0) {
		goto out;
	}
	if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_SERVER)) != 0) {
		log_err("TLS: %s", nng_strerror(rv));
		rv = -ENOMEM;
		goto out;
	}
	if ((rv = nng_tls_config_own_cert(cfg, cert, key, NULL)) != 0) {
		log_err("TLS: certificate %s with key %s: %s", pol->cert_file,
		        pol->key_file, nng_strerror(rv));
		rv = -EINVAL;
		goto out;
	}
	if ((rv = nng_tls_config_ca_file(cfg, pol->ca_file)) != 0) {
		log_err("TLS: CA file %s: %s", pol->ca_file, nng_strerror(rv));
		rv = -EINVAL;
		goto out;
	}
	/* Mutual authentication: a client without a certificate from the
	 * CA cannot finish the handshake. */
	if ((rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED)) !=
	    0) {
		log_err("TLS: auth mode: %s", nng_strerror(rv));
		rv = -EINVAL;
		goto out;
	}
	*out = cfg;
	cfg = NULL;
out:
	if (key != NULL) {
		memset(key, 0, strlen(key));
	}
	free(key);
	free(cert);
	if (cfg != NULL) {
		nng_tls_config_free(cfg);
	}
	return rv;
}

bool
tls_pipe_addr(nng_pipe p, unsigned char addr[16], char *text, size_t len)
{
	nng_sockaddr sa;
	char ip[INET6_ADDRSTRLEN];

	memset(addr, 0, 16);
	if (nng_pipe_get_addr(p, NNG_OPT_REMADDR, &sa) != 0) {
		if (text != NULL) {
			snprintf(text, len, "?");
		}
		return false;
	}
	switch (sa.s_family) {
	case NNG_AF_INET:
		addr[10] = 0xff;
		addr[11] = 0xff;
		memcpy(addr + 12, &sa.s_in.sa_addr, 4);
		if (text != NULL) {
			inet_ntop(AF_INET, &sa.s_in.sa_addr, ip, sizeof(ip));
			snprintf(text, len, "%s:%u", ip,
			         (unsigned)ntohs(sa.s_in.sa_port));
		}
		return true;
	case NNG_AF_INET6:
		memcpy(addr, sa.s_in6.sa_addr, 16);
		if (text != NULL) {
			inet_ntop(AF_INET6, sa.s_in6.sa_addr, ip, sizeof(ip));
			snprintf(text, len, "[%s]:%u", ip,
			         (unsigned)ntohs(sa.s_in6.sa_port));
		}
		return true;
	case NNG_AF_IPC:
		if (text != NULL) {
			snprintf(text, len, "ipc");
		}
		return false;
	default:
		if (text != NULL) {
			snprintf(text, len, "?");
		}
		return false;
	}
}

/* True when the listener is bound to a loopback address only. */
static bool
listener_is_loopback(nng_listener l)
{
	nng_sockaddr sa;

	if (nng_listener_get_addr(l, NNG_OPT_LOCADDR, &sa) != 0) {
		return false;
	}
	if (sa.s_family == NNG_AF_INET) {
		return (ntohl(sa.s_in.sa_addr) >> 24) == 127;
	}
	if (sa.s_family == NNG_AF_INET6) {
		static const uint8_t v6[16] = {[15] = 1};
		return memcmp(sa.s_in6.sa_addr, v6, 16) == 0;
	}
	return false;
}

int
tls_listen(nng_socket sock, const char *url, const struct tls_policy *pol,
           nng_listener *lp, enum acl_transport *transport)
{
	nng_listener l;
	nng_tls_config *cfg = NULL;
	bool tls = tls_url_is_tls(url);
	bool ipc = strncmp(url, "ipc://", 6) == 0;
	int rv;

	if (tls && (rv = tls_server_config(pol, &cfg)) != 0) {
		log_err("cannot listen on %s", url);
		return rv;
	}
	if ((rv = nng_listener_create(&l, sock, url)) != 0) {
		log_err("cannot listen on %s: %s", url, nng_strerror(rv));
		if (cfg != NULL) {
			nng_tls_config_free(cfg);
		}
		return rv == NNG_ENOTSUP ? -EPROTONOSUPPORT : -EINVAL;
	}
	/* Not on ipc://: with a receive limit, nng 1.5.2's ipc transport
	 * stops delivering requests from every later connection once one
	 * peer has connected and hung up (any local user in the socket's
	 * group could stop the agent's ipc service with one connect). The
	 * 0660 socket mode and the group keep that listener to trusted
	 * local users; docs/security.md. */
	rv = nng_listener_set_size(l, NNG_OPT_RECVMAXSZ,
	                           ipc ? 0 : pol->recv_max);
	if (rv == 0 && cfg != NULL) {
		rv = nng_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, cfg);
	}
	if (rv == 0 && ipc) {
		/* Owner and group only: the ACL decides per uid and gid, but
		 * nobody outside the group even gets to connect. */
		rv = nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, 0660);
	}
	if (cfg != NULL) {
		nng_tls_config_free(cfg); /* the listener holds its own */
	}
	if (rv == 0) {
		rv = nng_listener_start(l, 0);
	}
	if (rv != 0) {
		log_err("cannot listen on %s: %s", url, nng_strerror(rv));
		nng_listener_close(l);
		return rv == NNG_EADDRINUSE ? -EADDRINUSE
		       : rv == NNG_EPERM    ? -EACCES
		                            : -EINVAL;
	}
	if (!tls && !ipc && !listener_is_loopback(l)) {
		if (!pol->insecure) {
			log_err("refusing plain %s on a non-loopback address: "
			        "statistics would cross the network in clear "
			        "and unauthenticated; use tls+tcp:// or give "
			        "--insecure",
			        url);
			nng_listener_close(l);
			return -EINVAL;
		}
		log_warning("INSECURE: plain %s on a non-loopback address "
		            "(--insecure): no encryption, no authentication "
		            "of the agent",
		            url);
	}
	if (ipc && pol->ipc_gid >= 0 &&
	    chown(url + strlen("ipc://"), (uid_t)-1, (gid_t)pol->ipc_gid) !=
	        0) {
		log_err("%s: cannot give the socket to group %ld: %s", url,
		        pol->ipc_gid, strerror(errno));
		nng_listener_close(l);
		return -EACCES;
	}
	*transport = tls   ? ACL_TRANSPORT_TLS
	             : ipc ? ACL_TRANSPORT_IPC
	                   : ACL_TRANSPORT_TCP;
	*lp = l;
	return 0;
}
