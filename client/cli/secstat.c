/*
 * secstat: query secstat agents for the Windows IPsec, IKE and iSCSI
 * statistics of their hosts.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subcommands.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char *argv[], const struct cli *cli);
	const char *description;
} subcommands[] = {
    {"ipsec", ipsec_main, "IPsec data-path statistics (IPSEC_STATISTICS1)"},
    {"ikeext", ikeext_main, "IKE keying statistics (IKEEXT_STATISTICS1)"},
    {"iscsi", iscsi_main, "iSCSI statistics per HBA (MSiSCSI_*)"},
    {"info", info_main, "identity of each agent"},
    {"sa", sa_main, "IKE and IPsec SAs, connections up or down"},
    {"relay-hosts", relay_hosts_main,
     "each host of a relay (secstatd --relay) with its own data"},
    {"watch", watch_main,
     "live counters and rates/s of every host (--interval S)"},
    {"prom", prom_main,
     "Prometheus text format: the fleet aggregate (--per-host: each host)"},
};

#define N_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void
usage(FILE *f)
{
	fprintf(f, "Usage: secstat [-s URL]... [--hosts FILE] [--json|--dump] "
	           "[--timeout MS] [--v0] COMMAND\n"
	           "\n"
	           "Commands:\n");
	for (size_t i = 0; i < N_SUBCOMMANDS; i++) {
		fprintf(f, "  %-8s %s\n", subcommands[i].name,
		        subcommands[i].description);
	}
	fprintf(
	    f,
	    "  %-8s this text\n"
	    "\n"
	    "Options:\n"
	    "  -s, --server URL   agent to query (tcp://HOST:PORT, "
	    "ipc:///PATH); repeat\n"
	    "                     for several (default: $%s or %s)\n"
	    "  -H, --hosts FILE   agents listed in FILE, one per line: URL "
	    "[NAME [TAG...]]\n"
	    "                     [pub=URL]; '#' comments. Several hosts "
	    "are queried\n"
	    "                     at once: the aggregate, then one row per "
	    "host\n"
	    "  -j, --json         one JSON document for all hosts\n"
	    "  -d, --dump         TSV: server, path, value (one line per "
	    "value)\n"
	    "  -t, --timeout MS   per-host timeout (default %u)\n"
	    "      --v0           the version-0 calls (ipsec, ikeext)\n"
	    "      --tls-ca FILE  CA that signs the agents' certificates "
	    "(tls+tcp://)\n"
	    "      --tls-cert FILE, --tls-key FILE\n"
	    "                     this client's certificate and key (agents "
	    "require one)\n"
	    "      --tls-server-name NAME\n"
	    "                     name the agents' certificates must carry "
	    "(default:\n"
	    "                     the host of each URL)\n"
	    "      --client-id ID, --token-file FILE\n"
	    "                     credential of the agents' ACL, sent over "
	    "tls+tcp:// only\n"
	    "  -V, --version      print the version\n"
	    "  -h, --help         this text\n"
	    "\n"
	    "Environment: SECSTAT_SERVER, SECSTAT_COLOR=always|never.\n"
	    "Exit status: 0 every host answered ERROR_SUCCESS, 1 every host "
	    "failed,\n"
	    "2 some failed, 64 usage error.\n",
	    "help", SECSTAT_ENV_SERVER, SECSTAT_DEFAULT_URL,
	    SECSTAT_DEFAULT_TIMEOUT_MS);
}

/* Long options without a short letter. */
enum {
	OPT_TLS_CA = 256,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_TLS_SERVER_NAME,
	OPT_CLIENT_ID,
	OPT_TOKEN_FILE,
};

/* The token: the first line of FILE (a file, so that the secret is not
 * on the command line for every user to see in ps). */
static char *
read_token(const char *path)
{
	FILE *f = fopen(path, "re");
	char buf[600];
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "secstat: --token-file %s: %s\n", path,
		        strerror(errno));
		return NULL;
	}
	if (fgets(buf, sizeof(buf), f) == NULL) {
		buf[0] = '\0';
	}
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n == 0 || n > 512) {
		fprintf(stderr,
		        "secstat: --token-file %s: no token of 1 to 512 "
		        "characters on its first line\n",
		        path);
		return NULL;
	}
	return strdup(buf);
}

static int
parse_ms(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v == 0 ||
	    v > UINT32_MAX || s[0] == '-') {
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option long_options[] = {
	    {"server", required_argument, NULL, 's'},
	    {"hosts", required_argument, NULL, 'H'},
	    {"json", no_argument, NULL, 'j'},
	    {"dump", no_argument, NULL, 'd'},
	    {"timeout", required_argument, NULL, 't'},
	    {"v0", no_argument, NULL, '0'},
	    {"tls-ca", required_argument, NULL, OPT_TLS_CA},
	    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
	    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
	    {"tls-server-name", required_argument, NULL, OPT_TLS_SERVER_NAME},
	    {"client-id", required_argument, NULL, OPT_CLIENT_ID},
	    {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct cli cli = {.format = OUTPUT_TABLE};
	const char *deflt[] = {NULL};
	int json = 0, dump = 0, c, rc;

	if ((cli.servers = calloc((size_t)argc, sizeof(char *))) == NULL) {
		fprintf(stderr, "secstat: out of memory\n");
		return EXIT_ALL_FAILED;
	}
	while ((c = getopt_long(argc, argv, "+s:H:jdt:Vh", long_options,
	                        NULL)) != -1) {
		switch (c) {
		case 's':
			cli.servers[cli.n_servers++] = optarg;
			break;
		case 'H':
			cli.hosts_file = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'd':
			dump = 1;
			break;
		case 't':
			if (parse_ms(optarg, &cli.timeout_ms) != 0) {
				fprintf(stderr,
				        "secstat: --timeout: not a positive "
				        "number of milliseconds: %s\n",
				        optarg);
				rc = EXIT_USAGE;
				goto out;
			}
			break;
		case '0':
			cli.version0 = true;
			break;
		case OPT_TLS_CA:
			cli.tls_ca = optarg;
			break;
		case OPT_TLS_CERT:
			cli.tls_cert = optarg;
			break;
		case OPT_TLS_KEY:
			cli.tls_key = optarg;
			break;
		case OPT_TLS_SERVER_NAME:
			cli.tls_server_name = optarg;
			break;
		case OPT_CLIENT_ID:
			cli.client_id = optarg;
			break;
		case OPT_TOKEN_FILE:
			free(cli.token);
			if ((cli.token = read_token(optarg)) == NULL) {
				rc = EXIT_USAGE;
				goto out;
			}
			break;
		case 'V':
			printf("secstat %s\n", secstat_version());
			rc = EXIT_ALL_OK;
			goto out;
		case 'h':
			usage(stdout);
			rc = EXIT_ALL_OK;
			goto out;
		default:
			usage(stderr);
			rc = EXIT_USAGE;
			goto out;
		}
	}
	if ((cli.client_id == NULL) != (cli.token == NULL)) {
		fprintf(stderr, "secstat: --client-id and --token-file go "
		                "together\n");
		rc = EXIT_USAGE;
		goto out;
	}
	if (json && dump) {
		fprintf(stderr, "secstat: --json and --dump exclude each "
		                "other\n");
		rc = EXIT_USAGE;
		goto out;
	}
	cli.format = json ? OUTPUT_JSON : dump ? OUTPUT_DUMP : OUTPUT_TABLE;
	if (cli.hosts_file != NULL && cli.n_servers > 0) {
		fprintf(stderr, "secstat: --hosts and --server exclude each "
		                "other\n");
		rc = EXIT_USAGE;
		goto out;
	}
	if (cli.n_servers == 0) {
		deflt[0] = secstat_default_url();
		cli.servers[0] = deflt[0];
		cli.n_servers = 1;
	}
	if (optind >= argc) {
		usage(stderr);
		rc = EXIT_USAGE;
		goto out;
	}
	if (strcmp(argv[optind], "help") == 0) {
		usage(stdout);
		rc = EXIT_ALL_OK;
		goto out;
	}
	for (size_t i = 0; i < N_SUBCOMMANDS; i++) {
		if (strcmp(argv[optind], subcommands[i].name) == 0) {
			rc = subcommands[i].fn(argc - optind, argv + optind,
			                       &cli);
			goto out;
		}
	}
	fprintf(stderr, "secstat: unknown command: %s\n", argv[optind]);
	usage(stderr);
	rc = EXIT_USAGE;
out:
	if (cli.token != NULL) {
		memset(cli.token, 0, strlen(cli.token));
	}
	free(cli.token);
	free(cli.servers);
	return rc;
}
