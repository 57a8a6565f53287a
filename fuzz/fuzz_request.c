/*
 * The agent's request path: envelope decode, authorization, method
 * dispatch and reply building, exactly as secstatd runs them (the real
 * server, registry, collector and sim provider), fed over an in-process
 * ipc:// connection. Each reply is decoded with the client's codec, so
 * whatever the server builds from hostile bytes must still be a valid
 * secstat.v1.Reply.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "codec.h"
#include "collector.h"
#include "config.h"
#include "hostinfo.h"
#include "log.h"
#include "methods.h"
#include "providers/providers.h"
#include "registry.h"
#include "server.h"
#include "snapshot.h"

#include <secstat/secstat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct agent_config cfg;
static struct hostinfo host;
static struct registry *reg;
static struct collector *collector;
static struct server *server;
static struct snapshot_source src;
static nng_socket client;

static void
die(const char *what)
{
	fprintf(stderr, "fuzz_request: %s\n", what);
	exit(1);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char url[128];
	char *args[] = {"secstatd",    "--provider", "sim",
	                "--log-level", "error",      NULL};
	const struct provider_ops *enabled[8];
	size_t n = 0;
	uint8_t *caps = NULL;
	size_t caps_len = 0;
	struct registry_params params = {.interval_ms = 100};
	FILE *sink = fopen("/dev/null", "w");

	(void)argc;
	(void)argv;
	if (config_load(&cfg, 5, args, sink, stderr) != 0) {
		die("config");
	}
	fclose(sink);
	cfg.collect_interval_ms = 100;
	log_open(LOG_ERR, false);
	if (hostinfo_init(&host, &cfg) != 0 ||
	    registry_select(&cfg, enabled, 8, &n, NULL, NULL) != 0 ||
	    methods_capabilities_encode(providers_builtin, enabled, n, 100,
	                                &caps, &caps_len) != 0 ||
	    registry_create(&reg, &cfg, enabled, n, &params) != 0 ||
	    registry_start(reg) != 0) {
		die("registry");
	}
	src = (struct snapshot_source){.registry = reg,
	                               .host = &host,
	                               .known = providers_builtin,
	                               .capabilities = caps,
	                               .capabilities_len = caps_len};
	snprintf(url, sizeof(url), "ipc:///tmp/secstat-fuzz-%d.sock",
	         (int)getpid());
	if (collector_create(&collector, &src, 100) != 0 ||
	    collector_start(collector) != 0 ||
	    server_create(&server, collector) != 0 ||
	    server_listen(server, url) != 0 || server_start(server) != 0) {
		die("server");
	}
	if (nng_req0_open(&client) != 0 ||
	    nng_socket_set_ms(client, NNG_OPT_RECVTIMEO, 5000) != 0 ||
	    nng_socket_set_ms(client, NNG_OPT_REQ_RESENDTIME,
	                      NNG_DURATION_INFINITE) != 0 ||
	    nng_dial(client, url, NULL, 0) != 0) {
		die("dial");
	}
	/* Let the first snapshot exist so that requests reach the methods. */
	usleep(300 * 1000);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nng_msg *msg;
	Secstat__V1__Reply *r = NULL;
	int rv;

	if (size > METHODS_MAX_REQUEST_BYTES) {
		return 0; /* the transport drops these before the server */
	}
	if (nng_msg_alloc(&msg, size) != 0) {
		return 0;
	}
	memcpy(nng_msg_body(msg), data, size);
	if ((rv = nng_sendmsg(client, msg, 0)) != 0) {
		nng_msg_free(msg);
		die(nng_strerror(rv));
	}
	if ((rv = nng_recvmsg(client, &msg, 0)) != 0) {
		/* The agent must answer every request it received. */
		die(nng_strerror(rv));
	}
	if (codec_reply_unpack(nng_msg_body(msg), nng_msg_len(msg), &r) != 0 ||
	    !r->has_status) {
		die("the agent sent a reply the client cannot decode");
	}
	secstat_reply_free(r);
	if (getenv("SECSTAT_FUZZ_SAVE_REPLIES") != NULL) {
		/* Seeds for fuzz_reply: what this agent really answers. */
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/reply-%zu-%08x",
		         getenv("SECSTAT_FUZZ_SAVE_REPLIES"), size,
		         (unsigned)nng_msg_len(msg));
		if ((f = fopen(path, "w")) != NULL) {
			fwrite(nng_msg_body(msg), 1, nng_msg_len(msg), f);
			fclose(f);
		}
	}
	nng_msg_free(msg);
	return 0;
}
