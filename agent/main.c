/*
 * secstatd: configuration, start-up in dependency order (providers,
 * collector, server), then the main thread waits for SIGTERM or SIGINT
 * and stops everything in reverse order.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <nng/nng.h>

#include "acl.h"
#include "collector.h"
#include "config.h"
#include "hostinfo.h"
#include "log.h"
#include "methods.h"
#include "metrics.h"
#include "publisher.h"
#include "providers/providers.h"
#include "registry.h"
#include "server.h"
#include "snapshot.h"

#define MAX_PROVIDERS 32

/* Creates the directory of an ipc:// URL's socket when missing (the
 * default URL lives under /run, which is empty after boot). */
static int
make_ipc_dir(const char *url)
{
	const char *path = url + strlen("ipc://");
	char dir[4096];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir) {
		return 0;
	}
	*slash = '\0';
	if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
		int rv = -errno;
		log_err("cannot create %s: %s", dir, strerror(errno));
		return rv;
	}
	return 0;
}

/* The ACL the configuration asks for: the file, or the built-in default
 * when there is none. A file that cannot be read or parsed yields NULL
 * (the error is logged): the caller decides between refusing to start
 * and falling back to the default. */
static struct acl *
load_acl(const struct agent_config *cfg)
{
	struct acl *a = NULL;
	char err[ACL_ERR_MAX];
	int rv;

	if (cfg->acl_file == NULL) {
		return acl_default(cfg->loopback_insecure);
	}
	if ((rv = acl_load(cfg->acl_file, &a, err)) != 0) {
		log_err("ACL: %s", err);
		return NULL;
	}
	if (cfg->loopback_insecure && acl_allow_loopback(a) != 0) {
		acl_free(a);
		return NULL;
	}
	return a;
}

static void
warn_loopback_insecure(const struct agent_config *cfg)
{
	if (cfg->loopback_insecure) {
		log_warning("--allow-loopback-insecure: any local user may "
		            "read every statistic over plain tcp:// on "
		            "loopback");
	}
}

/* SIGHUP: reread the config file and the ACL. The listeners, providers
 * and TLS certificates stay as they are (docs/security.md says what
 * reloads). A new ACL that cannot be loaded is replaced by the default
 * one, not kept: an operator who just revoked a client must not have it
 * silently keep its rights because of a typo. */
static void
reload(int argc, char *argv[], struct agent_config *cfg, struct server *server)
{
	struct agent_config next;
	struct acl *a;
	FILE *devnull = fopen("/dev/null", "w");

	if (config_load(&next, argc, argv, devnull != NULL ? devnull : stderr,
	                stderr) == 0) {
		free(cfg->acl_file);
		cfg->acl_file = next.acl_file;
		next.acl_file = NULL;
		cfg->loopback_insecure = next.loopback_insecure;
		cfg->log_level = next.log_level;
		log_open(cfg->log_level, cfg->log_syslog);
	} else {
		log_err("SIGHUP: configuration not reloaded (see above); "
		        "rereading the ACL");
	}
	config_free(&next);
	if (devnull != NULL) {
		fclose(devnull);
	}
	if ((a = load_acl(cfg)) == NULL) {
		log_err("SIGHUP: ACL not loaded: serving root and the agent's "
		        "own user over ipc:// only until it is fixed");
		a = acl_default(cfg->loopback_insecure);
		if (a == NULL) {
			return; /* out of memory: the current ACL stays */
		}
	} else {
		log_notice("SIGHUP: ACL %s reloaded",
		           cfg->acl_file != NULL ? cfg->acl_file : "(default)");
	}
	warn_loopback_insecure(cfg);
	server_set_acl(server, a);
}

static int
run(int argc, char *argv[], struct agent_config *cfg,
    const sigset_t *stop_signals)
{
	const struct provider_ops *enabled[MAX_PROVIDERS];
	struct registry_left_out left_out[MAX_PROVIDERS];
	size_t n_left_out = 0;
	size_t n_enabled = 0;
	struct hostinfo host;
	struct registry *reg = NULL;
	struct collector *collector = NULL;
	struct server *server = NULL;
	struct publisher *publisher = NULL;
	struct server_security sec;
	struct metrics *metrics = NULL;
	struct snapshot_source src;
	uint8_t *caps = NULL;
	size_t caps_len = 0;
	struct registry_params params = {
	    .interval_ms = cfg->collect_interval_ms,
	};
	int rv;
	int sig;

	if ((rv = hostinfo_init(&host, cfg)) != 0) {
		log_err("host identity: %s", strerror(-rv));
		goto out;
	}
	if ((rv = registry_select(cfg, enabled, MAX_PROVIDERS, &n_enabled,
	                          left_out, &n_left_out)) != 0) {
		goto out;
	}
	if (n_enabled == 0) {
		log_warning("no provider enabled: every statistics method will "
		            "report its source as unavailable");
	}
	rv = methods_capabilities_encode(providers_builtin, enabled, n_enabled,
	                                 cfg->collect_interval_ms, &caps,
	                                 &caps_len);
	if (rv != 0) {
		goto out;
	}
	if ((rv = registry_create(&reg, cfg, enabled, n_enabled, &params)) !=
	        0 ||
	    (rv = registry_start(reg)) != 0) {
		goto out;
	}

	src = (struct snapshot_source){
	    .registry = reg,
	    .host = &host,
	    .known = providers_builtin,
	    .capabilities = caps,
	    .capabilities_len = caps_len,
	    .left_out = left_out,
	    .n_left_out = n_left_out,
	};
	if ((rv = collector_create(&collector, &src,
	                           cfg->collect_interval_ms)) != 0 ||
	    (rv = collector_start(collector)) != 0) {
		goto out;
	}

	if ((rv = server_create(&server, collector)) != 0) {
		goto out;
	}
	sec = (struct server_security){
	    .tls = {.cert_file = cfg->tls_cert,
	            .key_file = cfg->tls_key,
	            .ca_file = cfg->tls_ca,
	            .insecure = cfg->insecure,
	            .recv_max = METHODS_MAX_REQUEST_BYTES,
	            .ipc_gid = cfg->ipc_gid},
	    .max_connections = cfg->max_connections,
	};
	{
		struct acl *a = load_acl(cfg);

		if (a == NULL) {
			log_err("not starting without the ACL given by --acl");
			rv = -EINVAL;
			goto out;
		}
		warn_loopback_insecure(cfg);
		server_set_security(server, &sec);
		server_set_acl(server, a);
	}
	for (size_t i = 0; i < cfg->n_listen; i++) {
		if (strncmp(cfg->listen[i], "ipc://", 6) == 0 &&
		    (rv = make_ipc_dir(cfg->listen[i])) != 0) {
			goto out;
		}
		if ((rv = server_listen(server, cfg->listen[i])) != 0) {
			goto out;
		}
	}
	if ((rv = server_start(server)) != 0) {
		goto out;
	}
	if (cfg->n_publish > 0) {
		struct publisher_params pp = {
		    .urls = cfg->publish,
		    .n_urls = cfg->n_publish,
		    .interval_ms = cfg->publish_interval_ms,
		    .heartbeat_ms = cfg->heartbeat_interval_ms,
		    .full_every = cfg->full_every,
		    .send_buffer = cfg->publish_sendbuf,
		    .tls = &sec.tls,
		    .pipe_cb = server_subscriber_pipe_event,
		    .pipe_arg = server,
		};

		for (size_t i = 0; i < cfg->n_publish; i++) {
			if (strncmp(cfg->publish[i], "ipc://", 6) == 0 &&
			    (rv = make_ipc_dir(cfg->publish[i])) != 0) {
				goto out;
			}
		}
		if ((rv = publisher_create(&publisher, collector, &host,
		                           &pp)) != 0 ||
		    (rv = publisher_start(publisher)) != 0) {
			goto out;
		}
	}
	if (cfg->metrics_listen != NULL &&
	    !metrics_addr_is_loopback(cfg->metrics_listen)) {
		if (!cfg->insecure) {
			log_err(
			    "--metrics-listen %s: /metrics answers anyone "
			    "without authentication; use a loopback address "
			    "(and a local scraper or proxy), or --insecure",
			    cfg->metrics_listen);
			rv = -EPERM;
			goto out;
		}
		log_warning("--metrics-listen %s: every statistic is served "
		            "without authentication (--insecure)",
		            cfg->metrics_listen);
	}
	if (cfg->metrics_listen != NULL &&
	    (rv = metrics_start(&metrics, collector, cfg->metrics_listen)) !=
	        0) {
		goto out;
	}
	log_info("ready: host %s, epoch %016llx, %zu provider%s, collecting "
	         "every %u ms",
	         host.hostname, (unsigned long long)host.epoch, n_enabled,
	         n_enabled == 1 ? "" : "s", cfg->collect_interval_ms);

	while (sigwait(stop_signals, &sig) == 0 && sig == SIGHUP) {
		log_info("SIGHUP received, reloading");
		reload(argc, argv, cfg, server);
	}
	log_info("%s received, stopping",
	         sig == SIGTERM ? "SIGTERM" : "SIGINT");
	rv = 0;
out:
	/* Reverse order: no request is in flight once the server is gone,
	 * and no snapshot build once the collector is. */
	metrics_stop(metrics);
	publisher_destroy(publisher);
	server_destroy(server);
	collector_destroy(collector);
	registry_destroy(reg);
	free(caps);
	return rv;
}

int
main(int argc, char *argv[])
{
	struct agent_config cfg;
	sigset_t stop_signals;
	int rv;

	rv = config_load(&cfg, argc, argv, stdout, stderr);
	if (rv != 0) {
		config_free(&cfg);
		return rv > 0 ? EXIT_SUCCESS : CONFIG_EXIT_USAGE;
	}
	log_open(cfg.log_level, cfg.log_syslog);

	/* Every thread (ours and nng's) inherits this mask, so the signals
	 * are only ever taken by sigwait() in the main thread. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	rv = run(argc, argv, &cfg, &stop_signals);

	config_free(&cfg);
	log_close();
	nng_fini();
	return rv == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
