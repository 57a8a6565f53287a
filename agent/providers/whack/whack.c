/*
 * libreswan's pluto → IKEEXT_STATISTICS1 and the per-SA listing.
 *
 * pluto counts per IKE version and SA kind (programs/pluto/pluto_stats.c)
 * but never per address family, so every value goes to the v4 block of
 * its key module and v6 stays absent (docs/sources/whack.md says why).
 * IPsec traffic bytes are not taken from pluto: its totals count only
 * terminated SAs and trafficstatus gives no SPI to join on, while the
 * kernel (xfrm provider) counts every SA.
 */
#define _GNU_SOURCE /* pipe2 */
#include "whack.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "stats_tree.h"

extern char **environ;

uint64_t
whack_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Resolves a command name the way execvp() would, before fork(): the
 * child may only call async-signal-safe functions. */
static int
resolve_command(const char *name, char *out, size_t size)
{
	const char *path, *p;
	int err = ENOENT;

	if (name[0] == '\0') {
		return -ENOENT;
	}
	if (strchr(name, '/') != NULL) {
		if ((size_t)snprintf(out, size, "%s", name) >= size) {
			return -ENAMETOOLONG;
		}
		return access(out, X_OK) == 0
		           ? 0
		           : -(errno == EACCES ? EACCES : ENOENT);
	}
	path = getenv("PATH");
	if (path == NULL || path[0] == '\0') {
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/"
		       "sbin:/bin";
	}
	for (p = path;;) {
		const char *end = strchr(p, ':');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		int w = snprintf(out, size, "%.*s/%s", (int)n, n > 0 ? p : ".",
		                 name);

		if (w > 0 && (size_t)w < size) {
			if (access(out, X_OK) == 0) {
				return 0;
			}
			if (errno == EACCES) {
				err = EACCES;
			}
		}
		if (end == NULL) {
			break;
		}
		p = end + 1;
	}
	return -err;
}

static void
close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* Waits for the child until the deadline; kills its group when the
 * deadline passes. Returns 0 with *status, or -ETIMEDOUT (reaped). */
static int
reap(pid_t pid, uint64_t deadline_ms, int *status)
{
	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid) {
			return 0;
		}
		if (r < 0 && errno != EINTR) {
			/* SIGCHLD ignored: the kernel reaped it. */
			return -ECHILD;
		}
		if (whack_now_ms() >= deadline_ms) {
			kill(-pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
			}
			return -ETIMEDOUT;
		}
		nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
	}
}

static void
kill_and_reap(pid_t pid)
{
	int status;

	kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
}

/* Why a command that exited non-zero failed, from what it printed:
 * whack says so in words and exits with the same code for all. */
static int
classify_failure(const char *err)
{
	/* 4.10: "whack: no right to communicate with pluto (access(...))";
	 * a connect() refused by permissions prints strerror(). */
	if (strstr(err, "no right to communicate") != NULL ||
	    strstr(err, "Permission denied") != NULL) {
		return -EACCES;
	}
	if (strstr(err, "not running") != NULL ||
	    strstr(err, "No such file or directory") != NULL) {
		return -ENOENT;
	}
	if (strstr(err, "Connection refused") != NULL) {
		return -ECONNREFUSED;
	}
	return -EIO;
}

void
whack_output_free(struct whack_output *o)
{
	free(o->out);
	o->out = NULL;
	o->len = 0;
}

int
whack_run(char *const argv[], uint64_t deadline_ms, size_t max_out,
          struct whack_output *o)
{
	char exe[PATH_MAX];
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, execp[2] = {-1, -1};
	size_t cap = 65536, elen = 0;
	pid_t pid;
	int rv, child_errno = 0;
	bool out_open = true, err_open = true;

	memset(o, 0, sizeof(*o));
	rv = resolve_command(argv[0], exe, sizeof(exe));
	if (rv != 0) {
		return rv;
	}
	o->out = malloc(cap);
	if (o->out == NULL) {
		return -ENOMEM;
	}
	if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0 ||
	    pipe2(execp, O_CLOEXEC) != 0) {
		rv = -errno;
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		rv = -errno;
		goto out;
	}
	if (pid == 0) {
		/* Async-signal-safe calls only from here to execve(). */
		sigset_t none;
		int e, null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		setpgid(0, 0);
		/* Whatever the agent has open (sockets of other threads
		 * without O_CLOEXEC) must not leak into whack; the pipes
		 * below are dup2()ed onto 0-2 first or are O_CLOEXEC
		 * anyway. Kernels before 5.11 lack it: nothing to do then. */
		close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (null < 0 || dup2(null, 0) < 0 || dup2(outp[1], 1) < 0 ||
		    dup2(errp[1], 2) < 0) {
			e = errno;
		} else {
			execve(exe, argv, environ);
			e = errno;
		}
		while (write(execp[1], &e, sizeof(e)) < 0 && errno == EINTR) {
		}
		_exit(127);
	}
	/* Both sides set the group, so a kill never races the child's own
	 * setpgid(). */
	setpgid(pid, pid);
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	close_fd(&execp[1]);
	/* The pipe closes on execve() (O_CLOEXEC) or carries its errno. */
	for (;;) {
		ssize_t r = read(execp[0], &child_errno, sizeof(child_errno));

		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r != (ssize_t)sizeof(child_errno)) {
			child_errno = 0;
		}
		break;
	}
	if (child_errno != 0) {
		kill_and_reap(pid);
		rv = child_errno == EACCES || child_errno == EPERM ? -EACCES
		     : child_errno == ENOENT || child_errno == ENOTDIR
		         ? -ENOENT
		         : -child_errno;
		goto out;
	}
	while (out_open || err_open) {
		struct pollfd pfd[2] = {
		    {.fd = out_open ? outp[0] : -1, .events = POLLIN},
		    {.fd = err_open ? errp[0] : -1, .events = POLLIN},
		};
		uint64_t now = whack_now_ms();
		int n;

		if (now >= deadline_ms) {
			kill_and_reap(pid);
			rv = -ETIMEDOUT;
			goto out;
		}
		n = poll(pfd, 2, (int)(deadline_ms - now));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			rv = -errno;
			kill_and_reap(pid);
			goto out;
		}
		if (pfd[0].revents != 0) {
			ssize_t r;

			if (o->len == cap) {
				size_t ncap = cap * 2 > max_out + 1
				                  ? max_out + 1
				                  : cap * 2;
				char *p =
				    ncap > cap ? realloc(o->out, ncap) : NULL;

				if (p == NULL) {
					/* At the bound (or out of memory):
					 * the output is refused whole. */
					kill_and_reap(pid);
					rv = ncap > cap ? -ENOMEM : -EFBIG;
					goto out;
				}
				o->out = p;
				cap = ncap;
			}
			r = read(outp[0], o->out + o->len, cap - o->len);
			if (r < 0 && errno != EINTR && errno != EAGAIN) {
				rv = -errno;
				kill_and_reap(pid);
				goto out;
			}
			if (r == 0) {
				out_open = false;
				close_fd(&outp[0]);
			} else if (r > 0) {
				o->len += (size_t)r;
				if (o->len > max_out) {
					kill_and_reap(pid);
					rv = -EFBIG;
					goto out;
				}
			}
		}
		if (pfd[1].revents != 0) {
			char sink[4096];
			ssize_t r = read(errp[0], sink, sizeof(sink));

			if (r == 0 ||
			    (r < 0 && errno != EINTR && errno != EAGAIN)) {
				err_open = false;
				close_fd(&errp[0]);
			} else if (r > 0 && elen + 1 < sizeof(o->err)) {
				size_t k = (size_t)r < sizeof(o->err) - 1 - elen
				               ? (size_t)r
				               : sizeof(o->err) - 1 - elen;

				memcpy(o->err + elen, sink, k);
				elen += k;
			}
		}
	}
	o->err[elen] = '\0';
	rv = reap(pid, deadline_ms, &o->status);
	if (rv != 0) {
		goto out;
	}
	if (!WIFEXITED(o->status) || WEXITSTATUS(o->status) != 0) {
		rv = classify_failure(o->err);
		goto out;
	}
	/* Room for the terminator: len <= max_out < cap, or len < cap. */
	if (o->len == cap) {
		char *p = realloc(o->out, cap + 1);

		if (p == NULL) {
			rv = -ENOMEM;
			goto out;
		}
		o->out = p;
	}
	o->out[o->len] = '\0';
	rv = 0;
out:
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	close_fd(&execp[0]);
	close_fd(&execp[1]);
	if (rv != 0) {
		whack_output_free(o);
	}
	return rv;
}

struct whack_records *
whack_records_parse(const char *global, size_t glen, const char *traffic,
                    size_t tlen, const char *states, size_t slen)
{
	struct whack_records *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		return NULL;
	}
	r->arena = (struct arena)ARENA_INIT;
	whack_parse_global(global, glen, &r->arena, &r->global);
	whack_parse_traffic(traffic, tlen, &r->arena, &r->traffic);
	whack_parse_states(states, slen, &r->arena, &r->states);
	return r;
}

/* ---- the provider ---- */

enum { CMD_GLOBAL, CMD_TRAFFIC, CMD_STATES, CMD_COUNT };

struct whack_provider_state {
	char *path;
	char *ctl;
	/* argv of both commands: [path, "whack"?, "--ctlsocket"?, ctl?,
	 * option, NULL] */
	char *argv[CMD_COUNT][6];
};

static const char *
config_path(const struct agent_config *cfg)
{
	return cfg != NULL && cfg->whack_path != NULL &&
	               cfg->whack_path[0] != '\0'
	           ? cfg->whack_path
	           : WHACK_DEFAULT_PATH;
}

static const char *
config_ctl(const struct agent_config *cfg)
{
	return cfg != NULL && cfg->whack_ctl != NULL &&
	               cfg->whack_ctl[0] != '\0'
	           ? cfg->whack_ctl
	           : NULL;
}

/* A path whose last component is "whack" is the whack binary itself
 * (needed when libreswan is unpacked outside /usr, where the ipsec
 * wrapper cannot find it); anything else is the ipsec wrapper. */
static bool
is_whack_binary(const char *path)
{
	const char *base = strrchr(path, '/');

	return strcmp(base != NULL ? base + 1 : path, "whack") == 0;
}

static int
whack_probe(const struct agent_config *cfg, char *what, size_t len)
{
	char exe[PATH_MAX];
	const char *ctl = config_ctl(cfg);
	struct stat st;
	int rv = resolve_command(config_path(cfg), exe, sizeof(exe));

	if (rv != 0) {
		snprintf(what, len, "%s", config_path(cfg));
		return rv;
	}
	/* strongSwan ships an `ipsec` command too: only pluto's control
	 * socket tells that libreswan is what runs here. */
	if (ctl == NULL) {
		ctl = WHACK_DEFAULT_CTL;
	}
	snprintf(what, len, "%s", ctl);
	if (stat(ctl, &st) != 0) {
		return errno == EACCES ? -EACCES : -ENOENT;
	}
	if (!S_ISSOCK(st.st_mode)) {
		return -ENOENT;
	}
	return access(ctl, R_OK | W_OK) == 0 ? 0 : -EACCES;
}

static void
whack_fini(void *state)
{
	struct whack_provider_state *s = state;

	if (s != NULL) {
		free(s->path);
		free(s->ctl);
		free(s);
	}
}

static int
whack_init(const struct agent_config *cfg, void **state)
{
	static char *const options[CMD_COUNT] = {
	    [CMD_GLOBAL] = "--globalstatus",
	    [CMD_TRAFFIC] = "--trafficstatus",
	    [CMD_STATES] = "--showstates",
	};
	struct whack_provider_state *s = calloc(1, sizeof(*s));
	const char *ctl = config_ctl(cfg);

	if (s == NULL) {
		return -ENOMEM;
	}
	s->path = strdup(config_path(cfg));
	s->ctl = ctl != NULL ? strdup(ctl) : NULL;
	if (s->path == NULL || (ctl != NULL && s->ctl == NULL)) {
		whack_fini(s);
		return -ENOMEM;
	}
	for (int c = 0; c < CMD_COUNT; c++) {
		size_t i = 0;

		s->argv[c][i++] = s->path;
		if (!is_whack_binary(s->path)) {
			s->argv[c][i++] = "whack";
		}
		if (s->ctl != NULL) {
			s->argv[c][i++] = "--ctlsocket";
			s->argv[c][i++] = s->ctl;
		}
		s->argv[c][i++] = options[c];
		s->argv[c][i] = NULL;
	}
	*state = s;
	return 0;
}

static int
whack_collect(void *state, void **records)
{
	struct whack_provider_state *s = state;
	struct whack_output out[CMD_COUNT];
	struct whack_records *r = NULL;
	int c, rv = 0;

	/* Each command has its own deadline: a hung pluto fails the first
	 * one, so the thread waits WHACK_TIMEOUT_MS, at most a deadline per
	 * command when pluto hangs in between. */
	for (c = 0; c < CMD_COUNT && rv == 0; c++) {
		rv = whack_run(s->argv[c], whack_now_ms() + WHACK_TIMEOUT_MS,
		               WHACK_OUTPUT_MAX, &out[c]);
	}
	if (rv == 0) {
		r = whack_records_parse(
		    out[CMD_GLOBAL].out, out[CMD_GLOBAL].len,
		    out[CMD_TRAFFIC].out, out[CMD_TRAFFIC].len,
		    out[CMD_STATES].out, out[CMD_STATES].len);
		rv = r != NULL ? 0 : -ENOMEM;
	} else {
		c--; /* out[c] failed and holds nothing */
	}
	while (c-- > 0) {
		whack_output_free(&out[c]);
	}
	if (rv == 0) {
		*records = r;
	}
	return rv;
}

/* Sum of the keys that exist; false when none does. */
static bool
sum_keys(const struct whack_global *g, const char *prefix,
         const char *const names[], uint64_t *sum)
{
	bool any = false;

	*sum = 0;
	for (size_t i = 0; names[i] != NULL; i++) {
		char key[WHACK_KEY_MAX];
		uint64_t v;

		snprintf(key, sizeof(key), "%s%s", prefix, names[i]);
		if (whack_global_u64(g, key, &v)) {
			*sum += v;
			any = true;
		}
	}
	return any;
}

static bool
get(const struct whack_global *g, uint64_t *v, const char *fmt, const char *a,
    const char *b)
{
	char key[WHACK_KEY_MAX];

	snprintf(key, sizeof(key), fmt, a, b);
	return whack_global_u64(g, key, v);
}

/*
 * Negotiations that ended without being established, from the "new"
 * per-kind counters (4.x+): pluto files an SA under the reason it
 * failed with, and under "completed" once it is established, so
 * finished minus finished.completed is what never got established.
 */
static bool
failed_from_finished(const struct whack_global *g, const char *kind,
                     uint64_t *v)
{
	uint64_t finished, completed = 0;

	if (!get(g, &finished, "total.%s.finished%s", kind, "")) {
		return false;
	}
	/* Reasons are printed only when non-zero. */
	get(g, &completed, "total.%s.finished.%s", kind, "completed");
	if (completed > finished) {
		return false;
	}
	*v = finished - completed;
	return true;
}

/* What one IKE version's keys are called. */
static const struct version_map {
	enum key_module km;
	const char *v;     /* "ikev1", "ikev2" */
	const char *ike;   /* per-kind name of the IKE SA */
	const char *child; /* per-kind name of the IPsec SA */
	/* established states (current.states.enumerate.*), all releases */
	const char *const *ike_states;
	const char *const *child_states;
} version_map[] = {
    {
        KEY_MODULE_IKE,
        "ikev1",
        "ikev1.isakmp",
        "ikev1.ipsec",
        /* ISAKMP SA established: main/aggressive mode done, including
         * the XAUTH and ModeCFG states that run on an established SA
         * (IS_ISAKMP_SA_ESTABLISHED). */
        (const char *const[]){
            "STATE_MAIN_R3", "STATE_MAIN_I4", "STATE_AGGR_I2", "STATE_AGGR_R2",
            "STATE_XAUTH_R0", "STATE_XAUTH_R1", "STATE_MODE_CFG_R0",
            "STATE_MODE_CFG_R1", "STATE_MODE_CFG_R2", "STATE_MODE_CFG_I1",
            "STATE_XAUTH_I0", "STATE_XAUTH_I1", NULL},
        (const char *const[]){"STATE_QUICK_I2", "STATE_QUICK_R2", NULL},
    },
    {
        KEY_MODULE_IKEV2,
        "ikev2",
        "ikev2.ike",
        "ikev2.child",
        /* 4.x/5.x name; 3.x had PARENT_I3 (initiator), PARENT_R2. */
        (const char *const[]){"STATE_V2_ESTABLISHED_IKE_SA", "STATE_PARENT_I3",
                              "STATE_PARENT_R2", NULL},
        (const char *const[]){"STATE_V2_ESTABLISHED_CHILD_SA",
                              "STATE_V2_IPSEC_I", "STATE_V2_IPSEC_R", NULL},
    },
};

/* IKE failure → Windows error-table slot (index = code - 13800). Only
 * notifications whose meaning is the Windows code's; a failure counts
 * once on a host: either it sent the notification (it refused the peer)
 * or it received it (the peer refused it). */
static const struct error_map {
	const char *notify;
	unsigned slot;
} error_map_v1[] =
    {
        {"AUTHENTICATION_FAILED", 1},     /* ERROR_IPSEC_IKE_AUTH_FAIL */
        {"INVALID_SIGNATURE", 26},        /* ..._INVALID_SIGNATURE */
        {"INVALID_HASH_INFORMATION", 70}, /* ..._INVALID_HASH */
        {NULL, 0},
},
  error_map_v2[] = {
      {"AUTHENTICATION_FAILED", 1}, /* ERROR_IPSEC_IKE_AUTH_FAIL */
      {NULL, 0},
};

/* Terminate reasons (5.x) that are a negotiation timing out:
 * ERROR_IPSEC_IKE_TIMED_OUT (13805). */
static const char *const timeout_reasons[] = {
    "exchange-timeout",
    "too-many-retransmits",
    NULL,
};
#define SLOT_TIMED_OUT 5

static void
contribute_errors(const struct whack_global *g, const struct version_map *m,
                  struct stats_tree *t)
{
	const struct error_map *em =
	    m->km == KEY_MODULE_IKEV2 ? error_map_v2 : error_map_v1;
	char prefix[64];
	uint64_t *table;

	snprintf(prefix, sizeof(prefix), "total.%s.sent.notifies.error.", m->v);
	if (!whack_global_has_prefix(g, prefix)) {
		snprintf(prefix, sizeof(prefix),
		         "total.%s.recv.notifies.error.", m->v);
		if (!whack_global_has_prefix(g, prefix)) {
			return; /* this pluto does not classify failures */
		}
	}
	table = stats_tree_ike_errors(t, m->km);
	for (size_t i = 0; em[i].notify != NULL; i++) {
		uint64_t v;

		if (get(g, &v, "total.%s.sent.notifies.error.%s", m->v,
		        em[i].notify)) {
			table[em[i].slot] += v;
		}
		if (get(g, &v, "total.%s.recv.notifies.error.%s", m->v,
		        em[i].notify)) {
			table[em[i].slot] += v;
		}
	}
	for (size_t i = 0; timeout_reasons[i] != NULL; i++) {
		const char *kinds[] = {m->ike, m->child};

		for (size_t k = 0; k < 2; k++) {
			uint64_t v;

			if (get(g, &v, "total.%s.finished.%s", kinds[k],
			        timeout_reasons[i])) {
				table[SLOT_TIMED_OUT] += v;
			}
		}
	}
}

static void
contribute_version(const struct whack_global *g, const struct version_map *m,
                   struct stats_tree *t)
{
	Secstat__V1__IkeextIpVersionSpecificKeymoduleStatistics *s =
	    &t->km_ip[m->km][IP_V4];
	uint64_t v;

	if (sum_keys(g, "current.states.enumerate.", m->ike_states, &v)) {
		TREE_ADD(s, current_active_main_modes, v);
	}
	if (sum_keys(g, "current.states.enumerate.", m->child_states, &v)) {
		TREE_ADD(s, current_active_quick_modes, v);
	}
	if (get(g, &v, "total.%s.started%s", m->ike, "")) {
		TREE_ADD(s, total_main_modes_started, v);
	}
	/* The old key exists in every release; the per-kind one counts the
	 * same events (pstat_sa_established). */
	if (get(g, &v, "total.ike.%s.established%s", m->v, "") ||
	    get(g, &v, "total.%s.established%s", m->ike, "")) {
		TREE_ADD(s, total_successful_main_modes, v);
	}
	if (get(g, &v, "total.ike.%s.failed%s", m->v, "") ||
	    failed_from_finished(g, m->ike, &v)) {
		TREE_ADD(s, total_failed_main_modes, v);
	}
	if (get(g, &v, "total.%s.started%s", m->child, "")) {
		TREE_ADD(s, total_quick_modes_started, v);
	}
	if (get(g, &v, "total.%s.established%s", m->child, "")) {
		TREE_ADD(s, total_successful_quick_modes, v);
	}
	if (failed_from_finished(g, m->child, &v)) {
		TREE_ADD(s, total_failed_quick_modes, v);
	}
	contribute_errors(g, m, t);
}

static char *
lower_dup(struct arena *a, const char *s)
{
	char *p = arena_strdup(a, s);

	for (char *c = p; *c != '\0'; c++) {
		if (*c >= 'A' && *c <= 'Z') {
			*c = (char)(*c - 'A' + 'a');
		}
	}
	return p;
}

/* Whether pluto's state name is an established IKE (ISAKMP) SA, and of
 * which IKE version. */
static const struct version_map *
established_ike_sa(const char *state)
{
	for (size_t v = 0; v < sizeof(version_map) / sizeof(version_map[0]);
	     v++) {
		for (size_t i = 0; version_map[v].ike_states[i] != NULL; i++) {
			if (strcmp(state, version_map[v].ike_states[i]) == 0) {
				return &version_map[v];
			}
		}
	}
	return NULL;
}

/*
 * The listing: every established IKE SA of showstates as an IkeSaDetail,
 * every trafficstatus SA as an IpsecSaDetail under its IKE SA (showstates
 * names the parent), or on its own when the parent is not listed. SPIs
 * come from showstates, bytes from trafficstatus.
 */
static void
contribute_sas(const struct whack_records *r, struct stats_tree *t)
{
	const struct whack_states *st = &r->states;
	const struct whack_traffic *tr = &r->traffic;
	Secstat__V1__IkeSaDetail **ike = NULL;

	if (st->n > 0) {
		ike = arena_alloc(&t->arena, st->n * sizeof(*ike));
	}
	for (size_t i = 0; i < st->n; i++) {
		const struct version_map *m;
		Secstat__V1__IkeSaDetail *d;

		if (st->st[i].state == NULL ||
		    (m = established_ike_sa(st->st[i].state)) == NULL) {
			continue;
		}
		d = ike[i] = stats_tree_add_ike_sa(t);
		d->source = arena_strdup(&t->arena, "whack");
		d->name = arena_strdup(&t->arena, st->st[i].name);
		if (st->st[i].serial <= UINT32_MAX) {
			TREE_SET(d, unique_id, (uint32_t)st->st[i].serial);
		}
		TREE_SET(d, version, m->km == KEY_MODULE_IKEV2 ? 2 : 1);
		d->state = arena_strdup(&t->arena, "ESTABLISHED");
	}
	for (size_t i = 0; i < tr->n; i++) {
		const struct whack_sa *w = &tr->sas[i];
		const struct whack_state *s = whack_states_find(st, w->serial);
		const struct whack_state *p =
		    s != NULL && s->has_parent
		        ? whack_states_find(st, s->parent)
		        : NULL;
		Secstat__V1__IkeSaDetail *parent =
		    p != NULL ? ike[p - st->st] : NULL;
		Secstat__V1__IpsecSaDetail *sa =
		    parent != NULL ? stats_tree_add_child_sa(t, parent)
		                   : stats_tree_add_ipsec_sa(t);

		sa->source = arena_strdup(&t->arena, "whack");
		sa->name = arena_strdup(&t->arena, w->name);
		if (w->serial <= UINT32_MAX) {
			TREE_SET(sa, unique_id, (uint32_t)w->serial);
		}
		/* trafficstatus lists SAs whose kernel SAs are installed. */
		sa->state = arena_strdup(&t->arena, "INSTALLED");
		if (w->type != NULL) {
			sa->protocol = lower_dup(&t->arena, w->type);
		}
		if (w->peer != NULL) {
			sa->remote_address = arena_strdup(&t->arena, w->peer);
		} else if (s != NULL && s->remote != NULL) {
			sa->remote_address = arena_strdup(&t->arena, s->remote);
		}
		if (s != NULL && s->local != NULL) {
			sa->local_address = arena_strdup(&t->arena, s->local);
		}
		/* The SPIs are the join with the kernel's SAs (xfrm). */
		if (s != NULL && s->has_spi_in) {
			TREE_SET(sa, spi_in, s->spi_in);
		}
		if (s != NULL && s->has_spi_out) {
			TREE_SET(sa, spi_out, s->spi_out);
		}
		if (s != NULL && s->has_parent && s->parent <= UINT32_MAX) {
			TREE_SET(sa, ike_sa_unique_id, (uint32_t)s->parent);
		}
		if (w->has_add_time) {
			TREE_SET(sa, install_unix_s, w->add_time);
		}
		/* The kernel's per-SA counters as pluto read them: listing
		 * only, never the traffic statistics (see the top). */
		if (w->has_in_bytes) {
			TREE_SET(sa, bytes_in, w->in_bytes);
		}
		if (w->has_out_bytes) {
			TREE_SET(sa, bytes_out, w->out_bytes);
		}
	}
}

static void
whack_contribute(const void *records, struct stats_tree *t)
{
	const struct whack_records *r = records;

	for (size_t i = 0; i < sizeof(version_map) / sizeof(version_map[0]);
	     i++) {
		contribute_version(&r->global, &version_map[i], t);
	}
	contribute_sas(r, t);
}

static void
whack_records_free(void *records)
{
	struct whack_records *r = records;

	if (r != NULL) {
		arena_release(&r->arena);
		free(r);
	}
}

const struct provider_ops whack_provider = {
    .abi_version = PROVIDER_ABI_VERSION,
    .name = "whack",
    .description = "libreswan pluto statistics via ipsec whack",
    .families = PROVIDES_IKE | PROVIDES_IPSEC,
    .simulated = false,
    .probe = whack_probe,
    .init = whack_init,
    .collect = whack_collect,
    .contribute = whack_contribute,
    .records_free = whack_records_free,
    .fini = whack_fini,
};
