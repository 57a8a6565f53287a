/* Host identity and the counters epoch. */
#include "hostinfo.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

static uint64_t
fnv1a(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t
hostinfo_epoch(const char *boot_id, uint64_t start_ns, pid_t pid)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int32_t p = (int32_t)pid;

	h = fnv1a(h, boot_id, strlen(boot_id));
	h = fnv1a(h, &start_ns, sizeof(start_ns));
	h = fnv1a(h, &p, sizeof(p));
	/* splitmix64 finaliser: FNV alone mixes the last bytes poorly. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h != 0 ? h : 1;
}

static void
read_boot_id(const char *procfs_root, char *out, size_t len)
{
	char path[4096];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/sys/kernel/random/boot_id",
	         procfs_root);
	f = fopen(path, "r");
	if (f == NULL) {
		return;
	}
	if (fgets(out, (int)len, f) == NULL) {
		out[0] = '\0';
	}
	out[strcspn(out, " \t\r\n")] = '\0';
	fclose(f);
}

int
hostinfo_init(struct hostinfo *h, const struct agent_config *cfg)
{
	struct utsname u;
	struct timespec ts;
	uint64_t start_ns;

	memset(h, 0, sizeof(*h));
	if (cfg->hostname != NULL) {
		snprintf(h->hostname, sizeof(h->hostname), "%s", cfg->hostname);
	} else if (gethostname(h->hostname, sizeof(h->hostname) - 1) != 0) {
		return -errno;
	}
	read_boot_id(cfg->procfs_root ? cfg->procfs_root : "/proc", h->boot_id,
	             sizeof(h->boot_id));
	if (uname(&u) == 0) {
		snprintf(h->kernel_release, sizeof(h->kernel_release), "%s",
		         u.release);
	}
	snprintf(h->agent_version, sizeof(h->agent_version), "%s",
	         SECSTAT_VERSION);
	h->schema_version = HOSTINFO_SCHEMA_VERSION;
	clock_gettime(CLOCK_REALTIME, &ts);
	start_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	h->start_unix_ms = start_ns / 1000000ULL;
	h->epoch = hostinfo_epoch(h->boot_id, start_ns, getpid());
	return 0;
}

void
hostinfo_to_proto(const struct hostinfo *h, Secstat__V1__HostInfo *msg)
{
	secstat__v1__host_info__init(msg);
	msg->hostname = (char *)h->hostname;
	msg->has_epoch = 1;
	msg->epoch = h->epoch;
	msg->boot_id = h->boot_id[0] ? (char *)h->boot_id : NULL;
	msg->agent_version = (char *)h->agent_version;
	msg->has_schema_version = 1;
	msg->schema_version = h->schema_version;
	msg->has_agent_start_unix_ms = 1;
	msg->agent_start_unix_ms = h->start_unix_ms;
	msg->kernel_release =
	    h->kernel_release[0] ? (char *)h->kernel_release : NULL;
}
