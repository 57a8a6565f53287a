/* TLS configuration of client dialers. */
#include "tls_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/supplemental/tls/tls.h>

/* PEM files are small; anything larger is not one. */
#define PEM_MAX (256 * 1024)

bool
tls_client_url_is_tls(const char *url)
{
	return strncmp(url, "tls+tcp://", 10) == 0 ||
	       strncmp(url, "tls+tcp4://", 11) == 0 ||
	       strncmp(url, "tls+tcp6://", 11) == 0;
}

/* Reads a small file whole, NUL-terminated. */
static int
read_text(const char *path, char **out)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t len;

	*out = NULL;
	if (f == NULL) {
		return -errno;
	}
	if ((buf = malloc(PEM_MAX + 1)) == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	len = fread(buf, 1, PEM_MAX, f);
	fclose(f);
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/* The host part of SCHEME://HOST:PORT ([v6] brackets removed). */
static void
url_host(const char *url, char *host, size_t len)
{
	const char *p = strstr(url, "://");
	const char *end;

	p = p != NULL ? p + 3 : url;
	if (*p == '[') {
		p++;
		end = strchr(p, ']');
	} else {
		end = strrchr(p, ':');
	}
	if (end == NULL) {
		end = p + strlen(p);
	}
	snprintf(host, len, "%.*s", (int)(end - p), p);
}

int
tls_client_setup(nng_dialer d, const char *url, const char *ca_file,
                 const char *cert_file, const char *key_file,
                 const char *server_name)
{
	nng_tls_config *cfg = NULL;
	char *cert = NULL, *key = NULL;
	char host[256];
	int rv;

	if (ca_file == NULL) {
		return -EINVAL; /* an agent we could not verify */
	}
	if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT)) != 0) {
		return -ENOMEM;
	}
	rv = -EINVAL;
	if (nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED) != 0 ||
	    nng_tls_config_ca_file(cfg, ca_file) != 0) {
		goto out;
	}
	if (cert_file != NULL || key_file != NULL) {
		if (cert_file == NULL || key_file == NULL ||
		    read_text(cert_file, &cert) != 0 ||
		    read_text(key_file, &key) != 0 ||
		    nng_tls_config_own_cert(cfg, cert, key, NULL) != 0) {
			goto out;
		}
	}
	if (server_name != NULL) {
		snprintf(host, sizeof(host), "%s", server_name);
	} else {
		url_host(url, host, sizeof(host));
	}
	if (nng_tls_config_server_name(cfg, host) != 0 ||
	    nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, cfg) != 0) {
		goto out;
	}
	rv = 0;
out:
	if (key != NULL) {
		memset(key, 0, strlen(key));
	}
	free(key);
	free(cert);
	nng_tls_config_free(cfg); /* the dialer holds its own reference */
	return rv;
}
