/*
 * The xfrm provider against the running kernel's real NETLINK_XFRM, in a
 * private network namespace the test creates (unshare), plus one named
 * namespace (/run/netns) for --netns: empty SAD, SAD/SPD counts, larval
 * SAs (ALLOCSPI), an ACQUIRE event from a policy, a vanished namespace,
 * and the denied health without CAP_NET_ADMIN. Needs root; kernels
 * without esp4 are fine (no complete SA is installed here: that is the
 * real-kernel lab test's job).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/capability.h>

#include "config.h"
#include "stats_tree.h"
#include "xfrm.h"
#include "xfrm_nl.h"

static char netns_name[64];

static void
sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0) {
		fail_msg("command failed (%d): %s", rc, cmd);
	}
}

static int
setup(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		fprintf(stderr, "xfrm_nl_test needs root (netns, netlink)\n");
		return -1;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		perror("unshare(CLONE_NEWNET)");
		return -1;
	}
	snprintf(netns_name, sizeof(netns_name), "secstat-xfrm-%d",
	         (int)getpid());
	if (system("ip link set lo up") != 0) {
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", netns_name);
	(void)system(cmd);
	return 0;
}

static int
count_cb(const struct xfrm_sa *sa, void *arg)
{
	(void)sa;
	(*(unsigned *)arg)++;
	return 0;
}

static void
test_socket_level(void **state)
{
	struct xfrm_nl nl;
	struct xfrm_sadinfo sad;
	struct xfrm_spdinfo spd;
	struct xfrm_nl_addrs *addrs = malloc(sizeof(*addrs));
	xfrm_address_t lo;
	unsigned n = 0;
	bool lost = true;

	(void)state;
	assert_non_null(addrs);
	assert_int_equal(xfrm_nl_open(&nl), 0);
	assert_int_equal(xfrm_nl_sadinfo(&nl, &sad), 0);
	assert_true(sad.has_count);
	assert_int_equal(sad.count, 0);
	assert_int_equal(xfrm_nl_spdinfo(&nl, &spd), 0);
	assert_true(spd.has_info);
	assert_int_equal(spd.info.outcnt, 0);
	assert_int_equal(xfrm_nl_dump_sa(&nl, count_cb, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(xfrm_nl_drain_events(&nl, count_cb, &n, &lost), 0);
	assert_false(lost);
	assert_int_equal(xfrm_nl_local_addrs(&nl, addrs), 0);
	memset(&lo, 0, sizeof(lo));
	inet_pton(AF_INET, "127.0.0.1", &lo.a4);
	assert_true(xfrm_nl_addr_is_local(addrs, AF_INET, &lo));
	inet_pton(AF_INET, "127.0.0.2", &lo.a4);
	assert_false(xfrm_nl_addr_is_local(addrs, AF_INET, &lo));

	sh("ip xfrm policy add src 10.9.0.1 dst 10.9.0.2 dir out "
	   "tmpl proto esp reqid 3 mode transport");
	sh("ip xfrm state allocspi src 10.9.0.2 dst 127.0.0.1 proto esp "
	   "reqid 4 mode tunnel >/dev/null");
	assert_int_equal(xfrm_nl_spdinfo(&nl, &spd), 0);
	assert_int_equal(spd.info.outcnt, 1);
	assert_int_equal(xfrm_nl_sadinfo(&nl, &sad), 0);
	assert_int_equal(sad.count, 1);
	n = 0;
	assert_int_equal(xfrm_nl_dump_sa(&nl, count_cb, &n), 0);
	assert_int_equal(n, 1);
	sh("ip xfrm state flush; ip xfrm policy flush");
	xfrm_nl_close(&nl);
	free(addrs);
}

/* ENOBUFS on the event socket: the kernel drops events when the queue
 * is full, and the drain must say so (the provider then resyncs by
 * dump). 400 acquires into the smallest queue the kernel allows. */
static void
test_lost_events(void **state)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
	struct xfrm_nl nl;
	unsigned n = 0;
	bool lost = false;
	int tiny = 1;
	int fd;

	(void)state;
	sh("ip xfrm state flush; ip xfrm policy flush");
	sh("ip link add xva type veth peer name xvb && ip link set xva up && "
	   "ip link set xvb up && ip addr add 10.8.0.1/16 dev xva");
	sh("ip xfrm policy add src 10.8.0.1 dst 10.8.0.0/16 dir out "
	   "tmpl proto esp reqid 3 mode transport");
	assert_int_equal(xfrm_nl_open(&nl), 0);
	assert_int_equal(setsockopt(mnl_socket_get_fd(nl.ev), SOL_SOCKET,
	                            SO_RCVBUF, &tiny, sizeof(tiny)),
	                 0);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	for (unsigned i = 0; i < 400; i++) {
		to.sin_addr.s_addr =
		    htonl(0x0a080000u | ((i / 250 + 1) << 8) | (i % 250 + 2));
		(void)sendto(fd, "x", 1, MSG_DONTWAIT, (struct sockaddr *)&to,
		             sizeof(to));
	}
	close(fd);
	assert_int_equal(xfrm_nl_drain_events(&nl, count_cb, &n, &lost), 0);
	print_message("%u of 400 acquire events read, lost=%d\n", n, lost);
	assert_true(lost);
	assert_true(n < 400);
	/* The socket stays usable: nothing is queued any more. */
	n = 0;
	assert_int_equal(xfrm_nl_drain_events(&nl, count_cb, &n, &lost), 0);
	assert_false(lost);
	assert_int_equal(n, 0);
	xfrm_nl_close(&nl);
	sh("ip xfrm state flush; ip xfrm policy flush; ip link del xva");
}

static struct agent_config
config(char **netns, size_t n)
{
	struct agent_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.procfs_root = "/proc";
	cfg.netns = netns;
	cfg.n_netns = n;
	return cfg;
}

static struct xfrm_records *
collect(void *st)
{
	void *records = NULL;

	assert_int_equal(xfrm_provider.collect(st, &records), 0);
	assert_non_null(records);
	return records;
}

/* The provider's ops end to end in the test's namespace. */
static void
test_provider(void **state)
{
	struct agent_config cfg = config(NULL, 0);
	struct xfrm_records *r;
	struct stats_tree t;
	void *st = NULL;
	int fd;
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
	char what[128];

	(void)state;
	sh("ip xfrm state flush; ip xfrm policy flush");
	assert_int_equal(xfrm_provider.probe(&cfg, what, sizeof(what)), 0);
	assert_int_equal(xfrm_provider.init(&cfg, &st), 0);
	r = collect(st);
	assert_int_equal(r->n_ns, 1);
	assert_false(r->per_namespace);
	assert_int_equal(r->ns[0].n_sas, 0);
	stats_tree_init(&t);
	xfrm_provider.contribute(r, &t);
	assert_true(t.ipsec_sa.has_active_sas);
	assert_int_equal(t.ipsec_sa.active_sas, 0);
	assert_int_equal(t.ipsec_sa.pending_sa_negotiations, 0);
	stats_tree_release(&t);
	xfrm_provider.records_free(r);

	/* A larval SA (ALLOCSPI) is a pending negotiation, not an SA. */
	sh("ip xfrm state allocspi src 10.9.0.2 dst 127.0.0.1 proto esp "
	   "reqid 4 mode tunnel >/dev/null");
	/* An outbound policy without SA: a packet makes the kernel ACQUIRE
	 * one from the key manager (this test) and hold a larval state. */
	/* Not on lo: lo has disable_xfrm set, policies never apply there. */
	sh("ip link add xva type veth peer name xvb && ip link set xva up && "
	   "ip link set xvb up && ip addr add 10.9.0.1/24 dev xva");
	sh("ip xfrm policy add src 10.9.0.1 dst 10.9.0.2 dir out "
	   "tmpl proto esp reqid 3 mode transport");
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	inet_pton(AF_INET, "10.9.0.2", &to.sin_addr);
	(void)sendto(fd, "x", 1, MSG_DONTWAIT, (struct sockaddr *)&to,
	             sizeof(to));
	close(fd);

	r = collect(st);
	assert_true(r->ns[0].sad.has_count);
	assert_int_equal(r->ns[0].spd.info.outcnt, 1);
	print_message("SAD count %u, dumped %zu, acquires %llu\n",
	              r->ns[0].sad.count, r->ns[0].n_sas,
	              (unsigned long long)r->ns[0].acquires);
	assert_int_equal(r->ns[0].n_sas, r->ns[0].sad.count);
	assert_int_equal(r->ns[0].acquires, 1);
	stats_tree_init(&t);
	xfrm_provider.contribute(r, &t);
	assert_int_equal(t.ipsec_sa.active_sas, 0);
	assert_int_equal(t.ipsec_sa.pending_sa_negotiations, r->ns[0].n_sas);
	assert_true(t.ipsec_sa.pending_sa_negotiations >= 2);
	assert_int_equal(t.ipsec_sa.total_sas_added, 0);
	assert_int_equal(t.sa_response.n_ipsec_sas, r->ns[0].n_sas);
	assert_string_equal(t.sa_response.ipsec_sas[0]->state, "LARVAL");
	/* Larval states alone make no tunnel (the allocated SPI's reqid and
	 * mode are placeholders until the SA is installed). */
	assert_int_equal(r->ns[0].n_tuns, 0);
	assert_int_equal(t.sa_response.n_tunnels, 0);
	stats_tree_release(&t);
	xfrm_provider.records_free(r);
	xfrm_provider.fini(st);
	sh("ip xfrm state flush; ip xfrm policy flush; ip link del xva");
}

/* --netns: each namespace is collected and named; one that disappears
 * loses its block, the rest goes on. */
static void
test_named_namespace(void **state)
{
	char own_name[80];
	char *names[] = {netns_name, "secstat-xfrm-absent", netns_name,
	                 own_name};
	struct agent_config cfg = config(names, 4);
	struct xfrm_records *r;
	struct stats_tree t;
	void *st = NULL;

	(void)state;
	sh("ip xfrm state flush; ip xfrm policy flush");
	sh("ip netns add %s", netns_name);
	/* The test's own namespace under a name: must not count twice. */
	snprintf(own_name, sizeof(own_name), "%s-own", netns_name);
	sh("touch /run/netns/%s && mount --bind /proc/$$/ns/net /run/netns/%s",
	   own_name, own_name);
	sh("ip -n %s xfrm state allocspi src 192.0.2.1 dst 192.0.2.2 "
	   "proto esp reqid 9 mode tunnel >/dev/null",
	   netns_name);
	assert_int_equal(xfrm_provider.init(&cfg, &st), 0);
	r = collect(st);
	assert_int_equal(r->n_ns, 4); /* "", netns_name, absent, own */
	assert_true(r->per_namespace);
	assert_string_equal(r->ns[0].name, "");
	assert_int_equal(r->ns[0].status, 0);
	assert_int_equal(r->ns[0].n_sas, 0);
	assert_string_equal(r->ns[1].name, netns_name);
	assert_int_equal(r->ns[1].status, 0);
	assert_int_equal(r->ns[1].n_sas, 1);
	assert_int_equal(r->ns[1].sad.count, 1);
	assert_int_equal(r->ns[2].status, -ENOENT);
	assert_string_equal(r->ns[3].name, own_name);
	assert_int_equal(r->ns[3].status, -EEXIST);
	stats_tree_init(&t);
	xfrm_provider.contribute(r, &t);
	assert_int_equal(t.ipsec_response.n_namespaces, 2);
	assert_int_equal(t.ipsec_sa.pending_sa_negotiations, 1);
	assert_int_equal(
	    t.ipsec_response.namespaces[1]
	        ->statistics->aggregate_sa_statistics->pending_sa_negotiations,
	    1);
	assert_string_equal(t.sa_response.ipsec_sas[0]->netns, netns_name);
	/* The named namespace's xfrm_stat (when the kernel has it). */
	if (access("/proc/net/xfrm_stat", R_OK) == 0) {
		assert_true(r->ns[1].has_mib);
		assert_true(t.ipsec_response.namespaces[1]->n_xfrm_mib > 0);
	}
	stats_tree_release(&t);
	xfrm_provider.records_free(r);

	/* The namespace goes away: its block goes, collection goes on. */
	sh("ip netns del %s", netns_name);
	sh("umount /run/netns/%s && rm /run/netns/%s", own_name, own_name);
	r = collect(st);
	assert_int_equal(r->ns[1].status, -ENOENT);
	xfrm_provider.records_free(r);
	xfrm_provider.fini(st);
}

static int
drop_net_admin(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) != 0) {
		return -1;
	}
	d[CAP_NET_ADMIN / 32].effective &= ~(1u << (CAP_NET_ADMIN % 32));
	d[CAP_NET_ADMIN / 32].permitted &= ~(1u << (CAP_NET_ADMIN % 32));
	return (int)syscall(SYS_capset, &h, d);
}

/* Without CAP_NET_ADMIN the provider reports -EPERM (health DENIED). */
static void
test_denied(void **state)
{
	pid_t pid;
	int status = 0;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct agent_config cfg = config(NULL, 0);
		void *st = NULL;
		void *records = NULL;
		int rv;

		if (drop_net_admin() != 0) {
			_exit(10);
		}
		if (xfrm_provider.init(&cfg, &st) != 0) {
			_exit(11);
		}
		rv = xfrm_provider.collect(st, &records);
		xfrm_provider.fini(st);
		_exit(rv == -EPERM ? 0 : 12);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_socket_level),
	    cmocka_unit_test(test_lost_events),
	    cmocka_unit_test(test_provider),
	    cmocka_unit_test(test_named_namespace),
	    cmocka_unit_test(test_denied),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
