/*
 * The agent's configuration: command line and config file merged into one
 * immutable struct before anything starts. Providers read their options
 * from it; nobody writes to it after config_load() returns.
 */
#ifndef SECSTAT_AGENT_CONFIG_H
#define SECSTAT_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_DEFAULT_IPC_URL "ipc:///run/secstat/secstatd.sock"

struct agent_config {
	char **listen; /* --listen URL (repeatable) */
	size_t n_listen;
	char **providers; /* --provider NAME[,NAME] ; none = auto-detect */
	size_t n_providers;
	char *procfs_root; /* --procfs-root DIR, default "/proc" */
	char *sysfs_root;  /* --sysfs-root DIR, default "/sys" */
	uint64_t sim_seed; /* --sim-seed N, default 1 */
	char *hostname;    /* --hostname NAME; NULL = gethostname() */
	unsigned collect_interval_ms; /* --collect-interval MS, default 1000 */
	char *config_file;            /* --config FILE, or NULL */
	bool log_syslog;              /* --syslog */
	int log_level;                /* --log-level, syslog priority */
	char *whack_path; /* --whack PATH: ipsec wrapper or whack binary,
	                     default "ipsec" */
	char *whack_ctl;  /* --whack-ctl PATH: pluto control socket, NULL =
	                     whack's default */
	char **netns;     /* --netns NAME (repeatable): also collect kernel
	                     IPsec state from /run/netns/NAME */
	size_t n_netns;
	char *vici_uri; /* --vici URI: charon's vici socket, unix://PATH or
	                   tcp://HOST:PORT, default
	                   "unix:///var/run/charon.vici" */
	char **publish; /* --publish URL (repeatable): PUB listeners */
	size_t n_publish;
	unsigned publish_interval_ms; /* --publish-interval MS, default 1000 */
	unsigned heartbeat_interval_ms; /* --heartbeat-interval MS, default
	                                   5000 */
	unsigned full_every;            /* --full-every N, default 60 */
	unsigned publish_sendbuf;  /* --publish-queue N: messages queued per
	                              subscriber, default 128 */
	char *relay_hosts;         /* --relay FILE: hosts file of the relay
	                              provider, NULL = not a relay */
	unsigned relay_timeout_ms; /* --relay-timeout MS, default 2000 */
	/* The relay is a client of its hosts: its own client certificate
	 * (the agent's --tls-cert is usually serverAuth only) and
	 * credential, for tls+tcp:// hosts. */
	char *relay_tls_cert;   /* --relay-tls-cert FILE */
	char *relay_tls_key;    /* --relay-tls-key FILE */
	char *relay_tls_ca;     /* --relay-tls-ca FILE: CA of the hosts */
	char *relay_client_id;  /* --relay-client-id ID */
	char *relay_token_file; /* --relay-token-file FILE */
	/* Security (docs/security.md). */
	char *tls_cert; /* --tls-cert FILE: PEM certificate of the
	                   agent's tls+tcp:// listeners */
	char *tls_key;  /* --tls-key FILE: its private key */
	char *tls_ca;   /* --tls-ca FILE: CA(s) of client certificates */
	bool insecure;  /* --insecure: plain tcp:// beyond loopback */
	char *acl_file; /* --acl FILE, NULL: root and self over ipc */
	bool loopback_insecure;   /* --allow-loopback-insecure */
	long ipc_gid;             /* --ipc-group NAME|GID, -1: the agent's */
	unsigned max_connections; /* --max-connections N, default 2048 */
	char *metrics_listen;     /* --metrics-listen ADDR:PORT: Prometheus
	                             /metrics over HTTP, NULL = off */
	unsigned sim_sas;         /* --sim-sas N: IPsec SAs the sim provider
	                             lists, default 0 */
};

/* Exit status of a usage or configuration error (sysexits EX_USAGE). */
#define CONFIG_EXIT_USAGE 64

/* Bounds of --collect-interval, in milliseconds. */
#define CONFIG_INTERVAL_MIN_MS 10
#define CONFIG_INTERVAL_MAX_MS 3600000

/* Bounds of --full-every and --publish-queue. */
#define CONFIG_FULL_EVERY_MAX      1000000
#define CONFIG_PUBLISH_QUEUE_MAX   8192
#define CONFIG_MAX_CONNECTIONS_MAX 65536

/* Bound of --sim-sas. */
#define CONFIG_SIM_SAS_MAX 1000000

/*
 * Fills `cfg` from the defaults, then the --config file, then the rest of
 * the command line (a repeatable option given on the command line
 * replaces the file's values). Returns 0 to run the agent, 1 when --help
 * or --version was printed to `out` (exit 0), or -EINVAL after writing
 * the reason to `err` (file errors as FILE:LINE: message). `cfg` must be
 * released with config_free() whatever the result.
 */
int config_load(struct agent_config *cfg, int argc, char *argv[], FILE *out,
                FILE *err);
void config_free(struct agent_config *cfg);
void config_usage(FILE *out);

#endif /* SECSTAT_AGENT_CONFIG_H */
