/*
 * Command line and config file. Both go through one option table: a key
 * of the INI file is the long option name, and one setter per option
 * validates the value wherever it comes from, so the two can never
 * disagree about what is valid.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <ini.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "metrics.h"
#include "providers/providers.h"

#ifndef SECSTAT_VERSION
#error "SECSTAT_VERSION must be defined by the build"
#endif

#define CONFIG_HOSTNAME_MAX 255
#define CONFIG_ERR_MAX      256

enum option_id {
	OPT_LISTEN,
	OPT_CONFIG,
	OPT_PROVIDER,
	OPT_PROCFS_ROOT,
	OPT_SYSFS_ROOT,
	OPT_SIM_SEED,
	OPT_HOSTNAME,
	OPT_COLLECT_INTERVAL,
	OPT_LOG_LEVEL,
	OPT_SYSLOG,
	OPT_WHACK,
	OPT_WHACK_CTL,
	OPT_NETNS,
	OPT_VICI,
	OPT_PUBLISH,
	OPT_PUBLISH_INTERVAL,
	OPT_HEARTBEAT_INTERVAL,
	OPT_FULL_EVERY,
	OPT_PUBLISH_QUEUE,
	OPT_RELAY,
	OPT_RELAY_TIMEOUT,
	OPT_RELAY_TLS_CERT,
	OPT_RELAY_TLS_KEY,
	OPT_RELAY_TLS_CA,
	OPT_RELAY_CLIENT_ID,
	OPT_RELAY_TOKEN_FILE,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_CA,
	OPT_INSECURE,
	OPT_ACL,
	OPT_LOOPBACK_INSECURE,
	OPT_IPC_GROUP,
	OPT_MAX_CONNECTIONS,
	OPT_METRICS_LISTEN,
	OPT_SIM_SAS,
	OPT_VERSION,
	OPT_HELP,
	OPT_COUNT
};

/* Writes the reason of a rejected value into err (CONFIG_ERR_MAX). */
typedef int (*option_set_fn)(struct agent_config *cfg, const char *value,
                             char *err);

struct option_def {
	const char *name;
	int has_arg;
	bool in_file;    /* accepted as a config file key */
	bool repeatable; /* values accumulate */
	const char *arg; /* argument name in the usage text */
	const char *help;
	option_set_fn set;
};

static int set_listen(struct agent_config *, const char *, char *);
static int set_config(struct agent_config *, const char *, char *);
static int set_provider(struct agent_config *, const char *, char *);
static int set_procfs_root(struct agent_config *, const char *, char *);
static int set_sysfs_root(struct agent_config *, const char *, char *);
static int set_sim_seed(struct agent_config *, const char *, char *);
static int set_sim_sas(struct agent_config *, const char *, char *);
static int set_hostname(struct agent_config *, const char *, char *);
static int set_collect_interval(struct agent_config *, const char *, char *);
static int set_log_level(struct agent_config *, const char *, char *);
static int set_syslog(struct agent_config *, const char *, char *);
static int set_netns(struct agent_config *, const char *, char *);
static int set_vici(struct agent_config *, const char *, char *);
static int set_whack(struct agent_config *, const char *, char *);
static int set_whack_ctl(struct agent_config *, const char *, char *);
static int set_publish(struct agent_config *, const char *, char *);
static int set_publish_interval(struct agent_config *, const char *, char *);
static int set_heartbeat_interval(struct agent_config *, const char *, char *);
static int set_full_every(struct agent_config *, const char *, char *);
static int set_publish_queue(struct agent_config *, const char *, char *);
static int set_relay(struct agent_config *, const char *, char *);
static int set_relay_timeout(struct agent_config *, const char *, char *);
static int set_relay_tls_cert(struct agent_config *, const char *, char *);
static int set_relay_tls_key(struct agent_config *, const char *, char *);
static int set_relay_tls_ca(struct agent_config *, const char *, char *);
static int set_relay_client_id(struct agent_config *, const char *, char *);
static int set_relay_token_file(struct agent_config *, const char *, char *);
static int set_tls_cert(struct agent_config *, const char *, char *);
static int set_tls_key(struct agent_config *, const char *, char *);
static int set_tls_ca(struct agent_config *, const char *, char *);
static int set_insecure(struct agent_config *, const char *, char *);
static int set_acl(struct agent_config *, const char *, char *);
static int set_loopback_insecure(struct agent_config *, const char *, char *);
static int set_ipc_group(struct agent_config *, const char *, char *);
static int set_max_connections(struct agent_config *, const char *, char *);
static int set_metrics_listen(struct agent_config *, const char *, char *);

static const struct option_def options[OPT_COUNT] = {
    [OPT_LISTEN] =
        {"listen", required_argument, true, true, "URL",
         "listen on URL (tcp://HOST:PORT or ipc:///PATH); repeatable; "
         "default " CONFIG_DEFAULT_IPC_URL,
         set_listen},
    [OPT_CONFIG] =
        {"config", required_argument, false, false, "FILE",
         "read options from the INI file FILE (keys are the long option "
         "names); the command line overrides it",
         set_config},
    [OPT_PROVIDER] =
        {"provider", required_argument, true, true, "NAME[,NAME...]",
         "enable these providers only; default: every provider whose source "
         "is present (simulated ones only when named)",
         set_provider},
    [OPT_PROCFS_ROOT] = {"procfs-root", required_argument, true, false, "DIR",
                         "read procfs under DIR (default /proc)",
                         set_procfs_root},
    [OPT_SYSFS_ROOT] = {"sysfs-root", required_argument, true, false, "DIR",
                        "read sysfs under DIR (default /sys)", set_sysfs_root},
    [OPT_SIM_SEED] = {"sim-seed", required_argument, true, false, "N",
                      "seed of the sim provider (default 1)", set_sim_seed},
    [OPT_HOSTNAME] = {"hostname", required_argument, true, false, "NAME",
                      "host name to report (default: the system's)",
                      set_hostname},
    [OPT_COLLECT_INTERVAL] = {"collect-interval", required_argument, true,
                              false, "MS",
                              "collect and rebuild the snapshot every MS ms "
                              "(default 1000)",
                              set_collect_interval},
    [OPT_LOG_LEVEL] = {"log-level", required_argument, true, false, "LEVEL",
                       "error, warning, notice, info (default) or debug",
                       set_log_level},
    [OPT_SYSLOG] = {"syslog", no_argument, true, false, NULL,
                    "log to syslog as well as stderr", set_syslog},
    [OPT_WHACK] =
        {"whack", required_argument, true, false, "PATH",
         "libreswan's ipsec wrapper or whack binary for the whack provider "
         "(default ipsec)",
         set_whack},
    [OPT_WHACK_CTL] =
        {"whack-ctl", required_argument, true, false, "PATH",
         "pluto control socket for the whack provider (default: whack's)",
         set_whack_ctl},
    [OPT_NETNS] = {"netns", required_argument, true, true, "NAME",
                   "also collect kernel IPsec state (xfrm provider) from "
                   "the network namespace /run/netns/NAME; repeatable",
                   set_netns},
    [OPT_VICI] = {"vici", required_argument, true, false, "URI",
                  "strongSwan charon's vici socket for the vici provider: "
                  "unix://PATH or tcp://HOST:PORT (default "
                  "unix:///var/run/charon.vici)",
                  set_vici},
    [OPT_PUBLISH] =
        {"publish", required_argument, true, true, "URL",
         "publish statistics (nng PUB) on URL (tcp://HOST:PORT or "
         "ipc:///PATH); repeatable. Topics \"<family>/<hostname>/\"",
         set_publish},
    [OPT_PUBLISH_INTERVAL] = {"publish-interval", required_argument, true,
                              false, "MS",
                              "sample the statistics for the stream every "
                              "MS ms (default 1000)",
                              set_publish_interval},
    [OPT_HEARTBEAT_INTERVAL] =
        {"heartbeat-interval", required_argument, true, false, "MS",
         "publish a heartbeat when a topic has been silent for MS ms "
         "(default 5000)",
         set_heartbeat_interval},
    [OPT_FULL_EVERY] = {"full-every", required_argument, true, false, "N",
                        "publish a full snapshot at least every N messages "
                        "of a topic (default 60; 1: never deltas)",
                        set_full_every},
    [OPT_PUBLISH_QUEUE] =
        {"publish-queue", required_argument, true, false, "N",
         "messages queued per subscriber before the stream drops for it "
         "(NNG_OPT_SENDBUF, default 128)",
         set_publish_queue},
    [OPT_RELAY] = {"relay", required_argument, true, false, "FILE",
                   "run as a relay: the relay provider queries the agents of "
                   "the hosts file FILE and serves their aggregate",
                   set_relay},
    [OPT_RELAY_TIMEOUT] = {"relay-timeout", required_argument, true, false,
                           "MS",
                           "per-host deadline of the relay's queries "
                           "(default 2000)",
                           set_relay_timeout},
    [OPT_RELAY_TLS_CERT] = {"relay-tls-cert", required_argument, true, false,
                            "FILE",
                            "PEM client certificate the relay presents to "
                            "tls+tcp:// hosts (clientAuth; not --tls-cert)",
                            set_relay_tls_cert},
    [OPT_RELAY_TLS_KEY] = {"relay-tls-key", required_argument, true, false,
                           "FILE", "PEM private key of --relay-tls-cert",
                           set_relay_tls_key},
    [OPT_RELAY_TLS_CA] = {"relay-tls-ca", required_argument, true, false,
                          "FILE",
                          "PEM CA certificate(s) the hosts' certificates "
                          "must chain to",
                          set_relay_tls_ca},
    [OPT_RELAY_CLIENT_ID] = {"relay-client-id", required_argument, true, false,
                             "ID",
                             "client id of the relay in the hosts' ACLs "
                             "(with --relay-token-file; tls+tcp:// only)",
                             set_relay_client_id},
    [OPT_RELAY_TOKEN_FILE] = {"relay-token-file", required_argument, true,
                              false, "FILE",
                              "file whose first line is the token of "
                              "--relay-client-id",
                              set_relay_token_file},
    [OPT_TLS_CERT] = {"tls-cert", required_argument, true, false, "FILE",
                      "PEM certificate of the tls+tcp:// listeners",
                      set_tls_cert},
    [OPT_TLS_KEY] = {"tls-key", required_argument, true, false, "FILE",
                     "PEM private key of --tls-cert", set_tls_key},
    [OPT_TLS_CA] = {"tls-ca", required_argument, true, false, "FILE",
                    "PEM CA certificate(s) (and CRLs) that client "
                    "certificates must chain to; TLS clients must always "
                    "present one",
                    set_tls_ca},
    [OPT_INSECURE] = {"insecure", no_argument, true, false, NULL,
                      "allow plain tcp:// listeners on non-loopback "
                      "addresses (logged as a warning)",
                      set_insecure},
    [OPT_ACL] = {"acl", required_argument, true, false, "FILE",
                 "who may read what (docs/security.md); reread on SIGHUP. "
                 "Without it only root and the agent's user over ipc://",
                 set_acl},
    [OPT_LOOPBACK_INSECURE] =
        {"allow-loopback-insecure", no_argument, true, false, NULL,
         "grant every right to plain tcp:// callers from 127.0.0.0/8 and "
         "::1 (any local user; for tests and demos)",
         set_loopback_insecure},
    [OPT_IPC_GROUP] = {"ipc-group", required_argument, true, false, "GROUP",
                       "group of the ipc:// socket files (mode 0660)",
                       set_ipc_group},
    [OPT_MAX_CONNECTIONS] = {"max-connections", required_argument, true, false,
                             "N",
                             "connections served at once; more are closed "
                             "(default 2048)",
                             set_max_connections},
    [OPT_METRICS_LISTEN] =
        {"metrics-listen", required_argument, true, false, "ADDR:PORT",
         "serve Prometheus metrics at http://ADDR:PORT/metrics "
         "(HOST:PORT, [V6]:PORT, or *:PORT for every address); "
         "default: off",
         set_metrics_listen},
    [OPT_SIM_SAS] = {"sim-sas", required_argument, true, false, "N",
                     "IPsec SAs the sim provider lists (default 0: none, "
                     "at most 1000000)",
                     set_sim_sas},
    [OPT_VERSION] = {"version", no_argument, false, false, NULL,
                     "print the version and exit", NULL},
    [OPT_HELP] = {"help", no_argument, false, false, NULL,
                  "print this help and exit", NULL},
};

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL) {
		fputs("secstatd: out of memory\n", stderr);
		abort();
	}
	return p;
}

static void
replace_string(char **slot, const char *value)
{
	free(*slot);
	*slot = xstrdup(value);
}

static void
list_append(char ***list, size_t *n, const char *value)
{
	char **p = realloc(*list, (*n + 1) * sizeof(**list));

	if (p == NULL) {
		fputs("secstatd: out of memory\n", stderr);
		abort();
	}
	p[*n] = xstrdup(value);
	*list = p;
	(*n)++;
}

static void
list_clear(char ***list, size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		free((*list)[i]);
	}
	free(*list);
	*list = NULL;
	*n = 0;
}

static int errf(char *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
errf(char *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, CONFIG_ERR_MAX, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
parse_u64(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long n;

	/* strtoull accepts "-1" as ULLONG_MAX: refuse any sign. */
	if (*s == '\0' || *s == '-' || *s == '+') {
		return -EINVAL;
	}
	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0') {
		return -EINVAL;
	}
	*v = n;
	return 0;
}

static int
set_listen(struct agent_config *cfg, const char *v, char *err)
{
	static const char *const schemes[] = {
	    "tcp://",     "tcp4://",     "tcp6://",    "ipc://",
	    "tls+tcp://", "tls+tcp4://", "tls+tcp6://"};
	bool ok = false;

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
		size_t n = strlen(schemes[i]);
		if (strncmp(v, schemes[i], n) == 0 && v[n] != '\0') {
			ok = true;
		}
	}
	if (!ok) {
		return errf(err,
		            "'%s' is not a listen URL (tcp://HOST:PORT, "
		            "tls+tcp://HOST:PORT or ipc:///PATH)",
		            v);
	}
	list_append(&cfg->listen, &cfg->n_listen, v);
	return 0;
}

static int
set_config(struct agent_config *cfg, const char *v, char *err)
{
	replace_string(&cfg->config_file, v);
	return 0;
}

static void
builtin_names(char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; providers_builtin[i] != NULL && n < len; i++) {
		int m = snprintf(buf + n, len - n, "%s%s", i ? ", " : "",
		                 providers_builtin[i]->name);
		if (m < 0) {
			break;
		}
		n += (size_t)m;
	}
}

static int
set_provider(struct agent_config *cfg, const char *v, char *err)
{
	char *copy = xstrdup(v);
	char *save = NULL;
	char *name;
	int rv = 0;

	if (*v == '\0') {
		rv = errf(err, "empty provider list");
		goto out;
	}
	for (name = strtok_r(copy, ",", &save); name != NULL;
	     name = strtok_r(NULL, ",", &save)) {
		bool dup = false;

		name += strspn(name, " \t");
		name[strcspn(name, " \t")] = '\0';
		if (providers_find(name) == NULL) {
			char known[128];

			builtin_names(known, sizeof(known));
			rv = errf(err, "unknown provider '%s' (built in: %s)",
			          name, known);
			goto out;
		}
		for (size_t i = 0; i < cfg->n_providers; i++) {
			dup = dup || strcmp(cfg->providers[i], name) == 0;
		}
		if (!dup) {
			list_append(&cfg->providers, &cfg->n_providers, name);
		}
	}
out:
	free(copy);
	return rv;
}

/* A file or directory path: anything but empty. */
static int
set_root(char **slot, const char *v, char *err)
{
	if (*v == '\0') {
		return errf(err, "empty path");
	}
	replace_string(slot, v);
	return 0;
}

static int
set_procfs_root(struct agent_config *cfg, const char *v, char *err)
{
	return set_root(&cfg->procfs_root, v, err);
}

static int
set_sysfs_root(struct agent_config *cfg, const char *v, char *err)
{
	return set_root(&cfg->sysfs_root, v, err);
}

static int
set_sim_seed(struct agent_config *cfg, const char *v, char *err)
{
	if (parse_u64(v, &cfg->sim_seed) != 0) {
		return errf(err, "'%s' is not an unsigned 64-bit number", v);
	}
	return 0;
}

static int
set_sim_sas(struct agent_config *cfg, const char *v, char *err)
{
	uint64_t n;

	if (parse_u64(v, &n) != 0 || n > CONFIG_SIM_SAS_MAX) {
		return errf(err, "'%s' is not a number of SAs in 0..%u", v,
		            CONFIG_SIM_SAS_MAX);
	}
	cfg->sim_sas = (unsigned)n;
	return 0;
}

static int
set_hostname(struct agent_config *cfg, const char *v, char *err)
{
	size_t n = strlen(v);

	if (n == 0 || n > CONFIG_HOSTNAME_MAX) {
		return errf(err, "host name must have 1 to %d characters",
		            CONFIG_HOSTNAME_MAX);
	}
	replace_string(&cfg->hostname, v);
	return 0;
}

static int
set_collect_interval(struct agent_config *cfg, const char *v, char *err)
{
	uint64_t ms;

	if (parse_u64(v, &ms) != 0 || ms < CONFIG_INTERVAL_MIN_MS ||
	    ms > CONFIG_INTERVAL_MAX_MS) {
		return errf(err,
		            "'%s' is not a number of milliseconds from %d "
		            "to %d",
		            v, CONFIG_INTERVAL_MIN_MS, CONFIG_INTERVAL_MAX_MS);
	}
	cfg->collect_interval_ms = (unsigned)ms;
	return 0;
}

static int
set_log_level(struct agent_config *cfg, const char *v, char *err)
{
	int level = log_level_parse(v);

	if (level < 0) {
		return errf(err,
		            "'%s' is not a log level (error, warning, "
		            "notice, info, debug)",
		            v);
	}
	cfg->log_level = level;
	return 0;
}

static int
set_syslog(struct agent_config *cfg, const char *v, char *err)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	if (v == NULL) { /* the command line flag */
		cfg->log_syslog = true;
		return 0;
	}
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			cfg->log_syslog = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			cfg->log_syslog = false;
			return 0;
		}
	}
	return errf(err, "'%s' is not a boolean (yes or no)", v);
}

/* charon's vici socket: the two schemes the vici provider speaks. */
static int
set_vici(struct agent_config *cfg, const char *v, char *err)
{
	if ((strncmp(v, "unix://", 7) != 0 || v[7] == '\0') &&
	    (strncmp(v, "tcp://", 6) != 0 || v[6] == '\0')) {
		return errf(err, "'%s' is not unix://PATH or tcp://HOST:PORT",
		            v);
	}
	replace_string(&cfg->vici_uri, v);
	return 0;
}

/* A name under /run/netns, as `ip netns` creates them. */
static int
set_netns(struct agent_config *cfg, const char *v, char *err)
{
	if (*v == '\0' || strchr(v, '/') != NULL || strcmp(v, ".") == 0 ||
	    strcmp(v, "..") == 0 || strlen(v) > 255) {
		return errf(err, "'%s' is not a network namespace name", v);
	}
	list_append(&cfg->netns, &cfg->n_netns, v);
	return 0;
}

static int
set_whack(struct agent_config *cfg, const char *v, char *err)
{
	return set_root(&cfg->whack_path, v, err);
}

static int
set_whack_ctl(struct agent_config *cfg, const char *v, char *err)
{
	return set_root(&cfg->whack_ctl, v, err);
}

static int
set_publish(struct agent_config *cfg, const char *v, char *err)
{
	if ((strncmp(v, "tcp://", 6) != 0 || v[6] == '\0') &&
	    (strncmp(v, "ipc://", 6) != 0 || v[6] == '\0') &&
	    (strncmp(v, "tls+tcp://", 10) != 0 || v[10] == '\0')) {
		return errf(err,
		            "'%s' is not a publish URL (tcp://HOST:PORT, "
		            "tls+tcp://HOST:PORT or ipc:///PATH)",
		            v);
	}
	list_append(&cfg->publish, &cfg->n_publish, v);
	return 0;
}

/* A number from min to max into *out. */
static int
set_bounded(unsigned *out, const char *v, uint64_t min, uint64_t max,
            const char *what, char *err)
{
	uint64_t n;

	if (parse_u64(v, &n) != 0 || n < min || n > max) {
		return errf(err, "'%s' is not %s from %llu to %llu", v, what,
		            (unsigned long long)min, (unsigned long long)max);
	}
	*out = (unsigned)n;
	return 0;
}

static int
set_publish_interval(struct agent_config *cfg, const char *v, char *err)
{
	return set_bounded(&cfg->publish_interval_ms, v, CONFIG_INTERVAL_MIN_MS,
	                   CONFIG_INTERVAL_MAX_MS, "a number of milliseconds",
	                   err);
}

static int
set_heartbeat_interval(struct agent_config *cfg, const char *v, char *err)
{
	return set_bounded(&cfg->heartbeat_interval_ms, v,
	                   CONFIG_INTERVAL_MIN_MS, CONFIG_INTERVAL_MAX_MS,
	                   "a number of milliseconds", err);
}

static int
set_full_every(struct agent_config *cfg, const char *v, char *err)
{
	return set_bounded(&cfg->full_every, v, 1, CONFIG_FULL_EVERY_MAX,
	                   "a number of messages", err);
}

static int
set_publish_queue(struct agent_config *cfg, const char *v, char *err)
{
	return set_bounded(&cfg->publish_sendbuf, v, 1,
	                   CONFIG_PUBLISH_QUEUE_MAX, "a number of messages",
	                   err);
}

static int
set_relay(struct agent_config *cfg, const char *v, char *err)
{
	return set_root(&cfg->relay_hosts, v, err);
}

static int
set_relay_timeout(struct agent_config *cfg, const char *v, char *err)
{
	return set_bounded(&cfg->relay_timeout_ms, v, CONFIG_INTERVAL_MIN_MS,
	                   CONFIG_INTERVAL_MAX_MS, "a number of milliseconds",
	                   err);
}

static int
set_relay_tls_cert(struct agent_config *cfg, const char *v, char *err)
{
	return set_root(&cfg->relay_tls_cert, v, err);
}

static int
set_relay_tls_key(struct agent_config *cfg, const char *v, char *err)
{
	return set_root(&cfg->relay_tls_key, v, err);
}

static int
set_relay_tls_ca(struct agent_config *cfg, const char *v, char *err)
{
	return set_root(&cfg->relay_tls_ca, v, err);
}

static int
set_relay_client_id(struct agent_config *cfg, const char *v, char *err)
{
	if (*v == '\0') {
		return errf(err, "empty client id");
	}
	replace_string(&cfg->relay_client_id, v);
	return 0;
}

static int
set_relay_token_file(struct agent_config *cfg, const char *v, char *err)
{
	return set_root(&cfg->relay_token_file, v, err);
}

static int
set_tls_cert(struct agent_config *cfg, const char *v, char *err)
{
	return set_root(&cfg->tls_cert, v, err);
}

static int
set_tls_key(struct agent_config *cfg, const char *v, char *err)
{
	return set_root(&cfg->tls_key, v, err);
}

static int
set_tls_ca(struct agent_config *cfg, const char *v, char *err)
{
	return set_root(&cfg->tls_ca, v, err);
}

static int
set_acl(struct agent_config *cfg, const char *v, char *err)
{
	return set_root(&cfg->acl_file, v, err);
}

/* A flag: no value on the command line, yes/no in the file. */
static int
set_flag(bool *out, const char *v, char *err)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};

	if (v == NULL) {
		*out = true;
		return 0;
	}
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return errf(err, "'%s' is not a boolean (yes or no)", v);
}

static int
set_insecure(struct agent_config *cfg, const char *v, char *err)
{
	return set_flag(&cfg->insecure, v, err);
}

static int
set_loopback_insecure(struct agent_config *cfg, const char *v, char *err)
{
	return set_flag(&cfg->loopback_insecure, v, err);
}

static int
set_ipc_group(struct agent_config *cfg, const char *v, char *err)
{
	uint64_t n;
	struct group gr, *res = NULL;
	char buf[4096];

	if (parse_u64(v, &n) == 0 && n < (uint64_t)INT32_MAX) {
		cfg->ipc_gid = (long)n;
		return 0;
	}
	if (getgrnam_r(v, &gr, buf, sizeof(buf), &res) != 0 || res == NULL) {
		return errf(err, "unknown group '%s'", v);
	}
	cfg->ipc_gid = (long)gr.gr_gid;
	return 0;
}

static int
set_max_connections(struct agent_config *cfg, const char *v, char *err)
{
	return set_bounded(&cfg->max_connections, v, 1,
	                   CONFIG_MAX_CONNECTIONS_MAX,
	                   "a number of connections", err);
}

static int
set_metrics_listen(struct agent_config *cfg, const char *v, char *err)
{
	char url[300];

	if (metrics_url(v, url, sizeof(url)) != 0) {
		return errf(err,
		            "'%s' is not ADDR:PORT (e.g. 127.0.0.1:9450, "
		            "[::1]:9450, *:9450)",
		            v);
	}
	replace_string(&cfg->metrics_listen, v);
	return 0;
}

/* Writes `text` after column `indent`, wrapped at `width`. */
static void
print_wrapped(FILE *out, const char *text, int indent, int width)
{
	int col = indent;

	while (*text != '\0') {
		int word = (int)strcspn(text, " ");

		if (col > indent && col + 1 + word > width) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		}
		fprintf(out, " %.*s", word, text);
		col += word + 1;
		text += word;
		text += strspn(text, " ");
	}
	fputc('\n', out);
}

void
config_usage(FILE *out)
{
	fprintf(out, "usage: secstatd [OPTION]...\n"
	             "Serve IPsec, IKE and iSCSI statistics in the shape of "
	             "the Windows APIs.\n\n");
	for (int i = 0; i < OPT_COUNT; i++) {
		char lhs[64];

		snprintf(lhs, sizeof(lhs), "--%s%s%s", options[i].name,
		         options[i].arg ? " " : "",
		         options[i].arg ? options[i].arg : "");
		fprintf(out, "  %-28s", lhs);
		print_wrapped(out, options[i].help, 30, 79);
	}
	fprintf(out, "\nProviders built in:");
	for (size_t i = 0; providers_builtin[i] != NULL; i++) {
		fprintf(out, " %s%s", providers_builtin[i]->name,
		        providers_builtin[i]->simulated ? " (simulated)" : "");
	}
	fprintf(out,
	        "\nExit status: 0 after SIGTERM or SIGINT, %d on a usage "
	        "error,\n1 on a start-up failure.\n",
	        CONFIG_EXIT_USAGE);
}

/* State of one config file parse. */
struct ini_state {
	struct agent_config *cfg;
	char err[CONFIG_ERR_MAX + 64]; /* first error only */
};

static int
ini_handler_fn(void *user, const char *section, const char *name,
               const char *value)
{
	struct ini_state *st = user;
	char err[CONFIG_ERR_MAX];
	int rv;

	if (st->err[0] != '\0') {
		return 0; /* report the first error, not a cascade */
	}
	if (section[0] != '\0') {
		snprintf(st->err, sizeof(st->err),
		         "sections are not supported ([%s])", section);
		return 0;
	}
	for (int i = 0; i < OPT_COUNT; i++) {
		if (strcmp(options[i].name, name) != 0) {
			continue;
		}
		if (!options[i].in_file) {
			snprintf(st->err, sizeof(st->err),
			         "'%s' is a command line option only", name);
			return 0;
		}
		rv = options[i].set(st->cfg, value, err);
		if (rv != 0) {
			snprintf(st->err, sizeof(st->err), "%s: %s", name, err);
			return 0;
		}
		return 1;
	}
	snprintf(st->err, sizeof(st->err), "unknown key '%s'", name);
	return 0;
}

static int
load_file(struct agent_config *cfg, const char *path, FILE *err)
{
	struct ini_state st = {.cfg = cfg};
	FILE *f = fopen(path, "r");
	int line;

	if (f == NULL) {
		fprintf(err, "secstatd: %s: %s\n", path, strerror(errno));
		return -EINVAL;
	}
	line = ini_parse_file(f, ini_handler_fn, &st);
	fclose(f);
	if (line == 0) {
		return 0;
	}
	if (line < 0) {
		fprintf(err, "secstatd: %s: cannot parse (out of memory)\n",
		        path);
	} else if (st.err[0] != '\0') {
		fprintf(err, "%s:%d: %s\n", path, line, st.err);
	} else {
		fprintf(err, "%s:%d: syntax error (expected key = value)\n",
		        path, line);
	}
	return -EINVAL;
}

static void
set_defaults(struct agent_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->procfs_root = xstrdup("/proc");
	cfg->vici_uri = xstrdup("unix:///var/run/charon.vici");
	cfg->sysfs_root = xstrdup("/sys");
	cfg->sim_seed = 1;
	cfg->collect_interval_ms = 1000;
	cfg->log_level = LOG_INFO;
	cfg->publish_interval_ms = 1000;
	cfg->heartbeat_interval_ms = 5000;
	cfg->full_every = 60;
	cfg->publish_sendbuf = 128;
	cfg->relay_timeout_ms = 2000;
	cfg->ipc_gid = -1;
	cfg->max_connections = 2048;
}

int
config_load(struct agent_config *cfg, int argc, char *argv[], FILE *out,
            FILE *err)
{
	struct option longopts[OPT_COUNT + 1];
	struct {
		int id;
		const char *value;
	} *given = NULL;
	size_t n_given = 0;
	bool cleared[OPT_COUNT] = {false};
	char msg[CONFIG_ERR_MAX];
	int rv = 0;
	int c;

	set_defaults(cfg);
	for (int i = 0; i < OPT_COUNT; i++) {
		longopts[i] = (struct option){options[i].name,
		                              options[i].has_arg, NULL, i};
	}
	longopts[OPT_COUNT] = (struct option){NULL, 0, NULL, 0};
	given = calloc((size_t)argc + 1, sizeof(*given));
	if (given == NULL) {
		rv = -ENOMEM;
		goto out;
	}

	/* First pass: collect, so that the file can be applied before the
	 * command line whatever the position of --config. */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c == '?' || c == ':') {
			const char *what = argv[optind - 1];
			fprintf(err, "secstatd: %s '%s'\n",
			        c == ':' ? "missing argument to"
			                 : "unrecognized option",
			        what);
			rv = -EINVAL;
			goto usage;
		}
		if (c == OPT_HELP) {
			config_usage(out);
			rv = 1;
			goto out;
		}
		if (c == OPT_VERSION) {
			fprintf(out, "secstatd %s\n", SECSTAT_VERSION);
			rv = 1;
			goto out;
		}
		given[n_given].id = c;
		given[n_given].value = optarg;
		n_given++;
	}
	if (optind < argc) {
		fprintf(err, "secstatd: unexpected argument '%s'\n",
		        argv[optind]);
		rv = -EINVAL;
		goto usage;
	}

	for (size_t i = 0; i < n_given; i++) {
		if (given[i].id == OPT_CONFIG) {
			set_config(cfg, given[i].value, msg);
		}
	}
	if (cfg->config_file != NULL &&
	    (rv = load_file(cfg, cfg->config_file, err)) != 0) {
		goto out;
	}

	for (size_t i = 0; i < n_given; i++) {
		const struct option_def *o = &options[given[i].id];

		if (given[i].id == OPT_CONFIG) {
			continue;
		}
		if (o->repeatable && !cleared[given[i].id]) {
			/* The command line replaces the file's list. */
			cleared[given[i].id] = true;
			if (given[i].id == OPT_LISTEN) {
				list_clear(&cfg->listen, &cfg->n_listen);
			} else if (given[i].id == OPT_NETNS) {
				list_clear(&cfg->netns, &cfg->n_netns);
			} else if (given[i].id == OPT_PUBLISH) {
				list_clear(&cfg->publish, &cfg->n_publish);
			} else {
				list_clear(&cfg->providers, &cfg->n_providers);
			}
		}
		if (o->set(cfg, given[i].value, msg) != 0) {
			fprintf(err, "secstatd: --%s: %s\n", o->name, msg);
			rv = -EINVAL;
			goto usage;
		}
	}
	if (cfg->n_listen == 0) {
		list_append(&cfg->listen, &cfg->n_listen,
		            CONFIG_DEFAULT_IPC_URL);
	}
	if (cfg->relay_hosts != NULL && cfg->n_providers == 0) {
		/* A relay serves its fleet, not its own host's sources. */
		list_append(&cfg->providers, &cfg->n_providers, "relay");
	}
	/* Halves of the relay's client identity: refused here rather than
	 * by every query of every host. */
	if ((cfg->relay_tls_cert == NULL) != (cfg->relay_tls_key == NULL)) {
		fprintf(err, "secstatd: --relay-tls-cert and --relay-tls-key "
		             "go together\n");
		rv = -EINVAL;
		goto usage;
	}
	if ((cfg->relay_client_id == NULL) != (cfg->relay_token_file == NULL)) {
		fprintf(err, "secstatd: --relay-client-id and "
		             "--relay-token-file go together\n");
		rv = -EINVAL;
		goto usage;
	}
	goto out;

usage:
	fprintf(err, "Try 'secstatd --help' for more information.\n");
out:
	free(given);
	return rv;
}

void
config_free(struct agent_config *cfg)
{
	list_clear(&cfg->listen, &cfg->n_listen);
	list_clear(&cfg->providers, &cfg->n_providers);
	list_clear(&cfg->netns, &cfg->n_netns);
	list_clear(&cfg->publish, &cfg->n_publish);
	free(cfg->relay_hosts);
	free(cfg->relay_tls_cert);
	free(cfg->relay_tls_key);
	free(cfg->relay_tls_ca);
	free(cfg->relay_client_id);
	free(cfg->relay_token_file);
	free(cfg->procfs_root);
	free(cfg->vici_uri);
	free(cfg->sysfs_root);
	free(cfg->hostname);
	free(cfg->config_file);
	free(cfg->whack_path);
	free(cfg->whack_ctl);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->tls_ca);
	free(cfg->acl_file);
	free(cfg->metrics_listen);
	memset(cfg, 0, sizeof(*cfg));
}
