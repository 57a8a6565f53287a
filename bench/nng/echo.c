/*
 * secstat-bench-echo: the ceiling. A minimal nng REP server that answers
 * every request with the same pre-built bytes (a reply captured from
 * secstatd), through 64 contexts with aio: no decode, no lookup, no
 * encode. Whatever secstatd spends beyond this is the cost of being
 * secstatd.
 *
 * secstat-bench-echo --reply FILE --listen URL [--listen URL...]
 *     [--tls-cert-key FILE] [--contexts N]
 * Runs until SIGINT or SIGTERM.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/supplemental/tls/tls.h>

#define ECHO_MAX_LISTEN   8
#define ECHO_MAX_CONTEXTS 1024
#define ECHO_MAX_REPLY    (16 * 1024 * 1024)

struct worker {
	nng_ctx ctx;
	nng_aio *aio;
	bool sending;
};

static const uint8_t *echo_reply;
static size_t echo_reply_len;

static void
worker_cb(void *arg)
{
	struct worker *w = arg;
	nng_msg *msg;
	int rv = nng_aio_result(w->aio);

	if (w->sending) {
		w->sending = false;
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(w->aio));
		}
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	if (rv == NNG_ECLOSED) {
		return;
	}
	if (rv != 0) {
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	/* Reuse the request's message: its body becomes the reply, the
	 * REP routing header stays as it is. */
	msg = nng_aio_get_msg(w->aio);
	if (nng_msg_realloc(msg, echo_reply_len) != 0) {
		nng_msg_free(msg);
		nng_ctx_recv(w->ctx, w->aio);
		return;
	}
	memcpy(nng_msg_body(msg), echo_reply, echo_reply_len);
	nng_aio_set_msg(w->aio, msg);
	w->sending = true;
	nng_ctx_send(w->ctx, w->aio);
}

static int
read_file(const char *path, uint8_t **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;
	int rv = 0;

	if (f == NULL) {
		return -errno;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    n > ECHO_MAX_REPLY || fseek(f, 0, SEEK_SET) != 0) {
		rv = -EINVAL;
		goto out;
	}
	if ((*data = malloc((size_t)n + 1)) == NULL) {
		rv = -ENOMEM;
		goto out;
	}
	if (fread(*data, 1, (size_t)n, f) != (size_t)n) {
		free(*data);
		rv = -EIO;
		goto out;
	}
	*len = (size_t)n;
out:
	fclose(f);
	return rv;
}

static int
listen_url(nng_socket sock, const char *url, const char *cert_key)
{
	nng_listener lst;
	nng_tls_config *cfg = NULL;
	int rv;

	if ((rv = nng_listener_create(&lst, sock, url)) != 0) {
		return rv;
	}
	if (strncmp(url, "tls+", 4) == 0) {
		if (cert_key == NULL) {
			return NNG_EINVAL;
		}
		if ((rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_SERVER)) !=
		        0 ||
		    (rv = nng_tls_config_cert_key_file(cfg, cert_key, NULL)) !=
		        0 ||
		    (rv = nng_listener_set_ptr(lst, NNG_OPT_TLS_CONFIG, cfg)) !=
		        0) {
			if (cfg != NULL) {
				nng_tls_config_free(cfg);
			}
			return rv;
		}
		nng_tls_config_free(cfg);
	}
	return nng_listener_start(lst, 0);
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"reply", required_argument, NULL, 'r'},
	    {"tls-cert-key", required_argument, NULL, 'c'},
	    {"contexts", required_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	const char *urls[ECHO_MAX_LISTEN];
	size_t n_urls = 0;
	const char *reply_path = NULL;
	const char *cert_key = NULL;
	unsigned n_ctx = 64;
	uint8_t *reply = NULL;
	struct worker *workers;
	nng_socket sock;
	sigset_t sigs;
	int c, rv, sig;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (n_urls == ECHO_MAX_LISTEN) {
				fprintf(stderr, "too many --listen\n");
				return 2;
			}
			urls[n_urls++] = optarg;
			break;
		case 'r':
			reply_path = optarg;
			break;
		case 'c':
			cert_key = optarg;
			break;
		case 'n':
			n_ctx = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (n_urls == 0 || reply_path == NULL || n_ctx == 0 ||
	    n_ctx > ECHO_MAX_CONTEXTS) {
		fprintf(stderr,
		        "usage: secstat-bench-echo --reply FILE --listen "
		        "URL... [--tls-cert-key PEM] [--contexts N]\n");
		return 2;
	}
	if ((rv = read_file(reply_path, &reply, &echo_reply_len)) != 0) {
		fprintf(stderr, "%s: %s\n", reply_path, strerror(-rv));
		return 1;
	}
	echo_reply = reply;

	/* Signals are taken synchronously by main; nng's threads inherit
	 * the mask and never see them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	if ((rv = nng_rep0_open(&sock)) != 0) {
		fprintf(stderr, "rep: %s\n", nng_strerror(rv));
		return 1;
	}
	if ((workers = calloc(n_ctx, sizeof(*workers))) == NULL) {
		return 1;
	}
	for (unsigned i = 0; i < n_ctx; i++) {
		if ((rv = nng_ctx_open(&workers[i].ctx, sock)) != 0 ||
		    (rv = nng_aio_alloc(&workers[i].aio, worker_cb,
		                        &workers[i])) != 0) {
			fprintf(stderr, "context: %s\n", nng_strerror(rv));
			return 1;
		}
	}
	for (size_t i = 0; i < n_urls; i++) {
		if ((rv = listen_url(sock, urls[i], cert_key)) != 0) {
			fprintf(stderr, "%s: %s\n", urls[i], nng_strerror(rv));
			return 1;
		}
	}
	for (unsigned i = 0; i < n_ctx; i++) {
		nng_ctx_recv(workers[i].ctx, workers[i].aio);
	}
	sigwait(&sigs, &sig);
	nng_close(sock);
	for (unsigned i = 0; i < n_ctx; i++) {
		nng_aio_free(workers[i].aio);
	}
	free(workers);
	free(reply);
	return 0;
}
