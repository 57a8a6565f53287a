/*
 * Writes the NETLINK_XFRM message fixtures of tests/fixtures/xfrm (one
 * netlink message per .bin file, host byte order as the kernel sends
 * them), built with libmnl the way the kernel's xfrm_user.c lays them
 * out, plus malformed variants for the parser tests.
 *
 *   xfrm_fixture_gen gen DIR     write every synthetic fixture into DIR
 *   xfrm_fixture_gen record DIR  dump the SAD of the current namespace
 *                                into DIR/recorded_sa_N.bin (used in the
 *                                real-kernel guest)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/xfrm.h>

#define BUF 8192

static int
write_file(const char *dir, const char *name, const void *p, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(p, 1, len, f) != len) {
		perror(path);
		if (f != NULL) {
			fclose(f);
		}
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

static void
put_alg(struct nlmsghdr *nlh, uint16_t type, const char *name, size_t fixed,
        unsigned key_bytes, unsigned char fill, uint32_t extra)
{
	unsigned char a[512];
	struct xfrm_algo_auth *hdr = (struct xfrm_algo_auth *)a;

	memset(a, 0, sizeof(a));
	snprintf(hdr->alg_name, sizeof(hdr->alg_name), "%s", name);
	hdr->alg_key_len = key_bytes * 8;
	if (fixed == sizeof(struct xfrm_algo_auth)) {
		hdr->alg_trunc_len = extra; /* also alg_icv_len of aead */
	}
	memset(a + fixed, fill, key_bytes);
	mnl_attr_put(nlh, type, fixed + key_bytes, a);
}

struct sa_spec {
	uint16_t family;
	const char *src;
	const char *dst;
	uint8_t proto;
	uint32_t spi;
	uint32_t reqid;
	uint8_t mode;
	uint64_t bytes;
	uint64_t packets;
	uint64_t add_time;
	uint32_t replay_window;
	uint32_t replay;
	uint32_t integrity_failed;
};

static void
fill_info(struct xfrm_usersa_info *p, const struct sa_spec *s)
{
	int af = s->family;

	memset(p, 0, sizeof(*p));
	inet_pton(af, s->src, &p->saddr);
	inet_pton(af, s->dst, &p->id.daddr);
	p->id.spi = htonl(s->spi);
	p->id.proto = s->proto;
	p->family = s->family;
	p->mode = s->mode;
	p->reqid = s->reqid;
	p->replay_window = 32;
	p->sel.family = s->family;
	inet_pton(af, s->src, &p->sel.saddr);
	inet_pton(af, s->dst, &p->sel.daddr);
	p->sel.prefixlen_s = p->sel.prefixlen_d = af == AF_INET ? 32 : 128;
	p->lft.soft_byte_limit = p->lft.hard_byte_limit = XFRM_INF;
	p->lft.soft_packet_limit = p->lft.hard_packet_limit = XFRM_INF;
	p->curlft.bytes = s->bytes;
	p->curlft.packets = s->packets;
	p->curlft.add_time = s->add_time;
	p->stats.replay_window = s->replay_window;
	p->stats.replay = s->replay;
	p->stats.integrity_failed = s->integrity_failed;
}

static const struct sa_spec esp_out = {AF_INET,
                                       "198.51.100.1",
                                       "198.51.100.2",
                                       IPPROTO_ESP,
                                       0x1001,
                                       1,
                                       XFRM_MODE_TRANSPORT,
                                       1234,
                                       7,
                                       1700000000,
                                       1,
                                       3,
                                       2};

static const struct sa_spec esp6_tun = {AF_INET6,
                                        "2001:db8::1",
                                        "2001:db8::2",
                                        IPPROTO_ESP,
                                        0xc0ffee01,
                                        7,
                                        XFRM_MODE_TUNNEL,
                                        5000000000ull,
                                        4000000,
                                        1700000100,
                                        0,
                                        0,
                                        0};

static const struct sa_spec ah_in = {AF_INET,
                                     "192.0.2.9",
                                     "192.0.2.1",
                                     IPPROTO_AH,
                                     0x2002,
                                     2,
                                     XFRM_MODE_TRANSPORT,
                                     640,
                                     10,
                                     1700000200,
                                     0,
                                     0,
                                     5};

/* ESP transport, cbc(aes) + hmac(sha256) truncated, legacy replay state:
 * what `ip xfrm state add ... enc ... auth-trunc ...` installs. */
static size_t
msg_esp(unsigned char *buf, uint16_t type)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrm_usersa_info *p;
	struct xfrm_replay_state rs = {.oseq = 0, .seq = 7, .bitmap = 0x7f};
	uint64_t lastused = 1700000050;

	nlh->nlmsg_type = type;
	p = mnl_nlmsg_put_extra_header(nlh, sizeof(*p));
	fill_info(p, &esp_out);
	put_alg(nlh, XFRMA_ALG_AUTH_TRUNC, "hmac(sha256)",
	        sizeof(struct xfrm_algo_auth), 32, 0x22, 128);
	put_alg(nlh, XFRMA_ALG_CRYPT, "cbc(aes)", sizeof(struct xfrm_algo), 16,
	        0x11, 0);
	mnl_attr_put(nlh, XFRMA_LASTUSED, sizeof(lastused), &lastused);
	mnl_attr_put(nlh, XFRMA_REPLAY_VAL, sizeof(rs), &rs);
	return nlh->nlmsg_len;
}

/* IPv6 tunnel, AEAD, ESN replay state with a bitmap, NAT-T encap,
 * offload, the 6.10 SA direction, and an attribute from the future. */
static size_t
msg_esp6(unsigned char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrm_usersa_info *p;
	unsigned char esn[sizeof(struct xfrm_replay_state_esn) + 16];
	struct xfrm_replay_state_esn *rs = (struct xfrm_replay_state_esn *)esn;
	struct xfrm_encap_tmpl encap = {.encap_type =
	                                    2 /* UDP_ENCAP_ESPINUDP */,
	                                .encap_sport = htons(4500),
	                                .encap_dport = htons(4500)};
	struct xfrm_user_offload off = {.ifindex = 3, .flags = 0};
	uint32_t future = 0xdeadbeef;

	nlh->nlmsg_type = XFRM_MSG_NEWSA;
	p = mnl_nlmsg_put_extra_header(nlh, sizeof(*p));
	fill_info(p, &esp6_tun);
	p->sel.proto = IPPROTO_TCP;
	p->sel.dport = htons(3260);
	p->sel.dport_mask = 0xffff;
	inet_pton(AF_INET6, "2001:db8:1::", &p->sel.saddr);
	p->sel.prefixlen_s = 48;
	put_alg(nlh, XFRMA_ALG_AEAD, "rfc4106(gcm(aes))",
	        sizeof(struct xfrm_algo_aead), 20, 0x44, 128);
	memset(esn, 0, sizeof(esn));
	rs->bmp_len = 4;
	rs->oseq = 5;
	rs->oseq_hi = 1;
	rs->seq = 9;
	rs->seq_hi = 2;
	rs->replay_window = 128;
	mnl_attr_put(nlh, XFRMA_REPLAY_ESN_VAL, sizeof(esn), esn);
	mnl_attr_put(nlh, XFRMA_ENCAP, sizeof(encap), &encap);
	mnl_attr_put(nlh, XFRMA_OFFLOAD_DEV, sizeof(off), &off);
	mnl_attr_put_u8(nlh, 33 /* XFRMA_SA_DIR */, 1 /* XFRM_SA_DIR_IN */);
	mnl_attr_put(nlh, 60, sizeof(future), &future);
	return nlh->nlmsg_len;
}

static size_t
msg_ah(unsigned char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrm_usersa_info *p;

	nlh->nlmsg_type = XFRM_MSG_NEWSA;
	p = mnl_nlmsg_put_extra_header(nlh, sizeof(*p));
	fill_info(p, &ah_in);
	put_alg(nlh, XFRMA_ALG_AUTH, "hmac(sha1)", sizeof(struct xfrm_algo), 20,
	        0x55, 0);
	return nlh->nlmsg_len;
}

/* A larval state from XFRM_MSG_ALLOCSPI: SPI, no transform. */
static size_t
msg_larval(unsigned char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrm_usersa_info *p;
	struct sa_spec s = esp_out;

	s.spi = 0x0e39b8e1;
	s.bytes = s.packets = 0;
	s.replay_window = s.replay = s.integrity_failed = 0;
	nlh->nlmsg_type = XFRM_MSG_NEWSA;
	p = mnl_nlmsg_put_extra_header(nlh, sizeof(*p));
	fill_info(p, &s);
	return nlh->nlmsg_len;
}

/* DELSA event: xfrm_usersa_id, then the whole state in XFRMA_SA and its
 * attributes (kernel xfrm_notify_sa). */
static size_t
msg_delsa(unsigned char *buf, bool with_sa)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrm_usersa_id *id;
	struct xfrm_usersa_info info;
	struct sa_spec s = esp_out;

	s.bytes = 2000;
	s.packets = 12;
	nlh->nlmsg_type = XFRM_MSG_DELSA;
	id = mnl_nlmsg_put_extra_header(nlh, sizeof(*id));
	inet_pton(AF_INET, s.dst, &id->daddr);
	id->spi = htonl(s.spi);
	id->family = AF_INET;
	id->proto = IPPROTO_ESP;
	fill_info(&info, &s);
	if (with_sa) {
		mnl_attr_put(nlh, XFRMA_SA, sizeof(info), &info);
	}
	put_alg(nlh, XFRMA_ALG_AUTH_TRUNC, "hmac(sha256)",
	        sizeof(struct xfrm_algo_auth), 32, 0x22, 128);
	put_alg(nlh, XFRMA_ALG_CRYPT, "cbc(aes)", sizeof(struct xfrm_algo), 16,
	        0x11, 0);
	return nlh->nlmsg_len;
}

static size_t
msg_expire(unsigned char *buf, bool hard)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrm_user_expire *ue;
	struct sa_spec s = esp_out;

	s.bytes = 3000;
	s.packets = 20;
	nlh->nlmsg_type = XFRM_MSG_EXPIRE;
	ue = mnl_nlmsg_put_extra_header(nlh, sizeof(*ue));
	fill_info(&ue->state, &s);
	ue->hard = hard;
	return nlh->nlmsg_len;
}

static size_t
msg_acquire(unsigned char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrm_user_acquire *ua;

	nlh->nlmsg_type = XFRM_MSG_ACQUIRE;
	ua = mnl_nlmsg_put_extra_header(nlh, sizeof(*ua));
	inet_pton(AF_INET, "10.9.0.2", &ua->id.daddr);
	inet_pton(AF_INET, "10.9.0.1", &ua->saddr);
	ua->id.proto = IPPROTO_ESP;
	ua->sel.family = AF_INET;
	ua->seq = 1;
	return nlh->nlmsg_len;
}

static size_t
msg_flush(unsigned char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrm_usersa_flush *fl;

	nlh->nlmsg_type = XFRM_MSG_FLUSHSA;
	fl = mnl_nlmsg_put_extra_header(nlh, sizeof(*fl));
	fl->proto = IPPROTO_ESP;
	return nlh->nlmsg_len;
}

static size_t
msg_sadinfo(unsigned char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrmu_sadhinfo h = {.sadhcnt = 8, .sadhmcnt = 1048576};
	uint32_t *flags;

	nlh->nlmsg_type = XFRM_MSG_NEWSADINFO;
	flags = mnl_nlmsg_put_extra_header(nlh, sizeof(*flags));
	*flags = 0;
	mnl_attr_put_u32(nlh, XFRMA_SAD_CNT, 3);
	mnl_attr_put(nlh, XFRMA_SAD_HINFO, sizeof(h), &h);
	return nlh->nlmsg_len;
}

static size_t
msg_spdinfo(unsigned char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrmu_spdinfo i = {.incnt = 2, .outcnt = 3, .fwdcnt = 1};
	struct xfrmu_spdhinfo h = {.spdhcnt = 4, .spdhmcnt = 65536};
	uint32_t *flags;

	nlh->nlmsg_type = XFRM_MSG_NEWSPDINFO;
	flags = mnl_nlmsg_put_extra_header(nlh, sizeof(*flags));
	*flags = 0;
	mnl_attr_put(nlh, XFRMA_SPD_INFO, sizeof(i), &i);
	mnl_attr_put(nlh, XFRMA_SPD_HINFO, sizeof(h), &h);
	return nlh->nlmsg_len;
}

/* The last attribute of a message. */
static struct nlattr *
last_attr(struct nlmsghdr *nlh, size_t hdr)
{
	struct nlattr *a;
	struct nlattr *last = NULL;

	mnl_attr_for_each(a, nlh, hdr)
	{
		last = a;
	}
	return last;
}

static int
gen(const char *dir)
{
	static unsigned char buf[BUF];
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct nlattr *a;
	size_t n;
	int rv = 0;

#define OUT(name, len) rv |= write_file(dir, name, buf, (len))
	memset(buf, 0, sizeof(buf));
	OUT("newsa_esp_transport.bin", msg_esp(buf, XFRM_MSG_NEWSA));
	OUT("updsa_esp_transport.bin", msg_esp(buf, XFRM_MSG_UPDSA));
	OUT("newsa_esp6_aead_esn.bin", msg_esp6(buf));
	OUT("newsa_ah.bin", msg_ah(buf));
	OUT("newsa_larval.bin", msg_larval(buf));
	OUT("delsa_esp.bin", msg_delsa(buf, true));
	OUT("expire_soft.bin", msg_expire(buf, false));
	OUT("expire_hard.bin", msg_expire(buf, true));
	OUT("acquire.bin", msg_acquire(buf));
	OUT("flushsa.bin", msg_flush(buf));
	OUT("sadinfo.bin", msg_sadinfo(buf));
	OUT("spdinfo.bin", msg_spdinfo(buf));

	/* Malformed. */
	n = msg_esp(buf, XFRM_MSG_NEWSA);
	OUT("bad_truncated_file.bin", n - 20); /* nlmsg_len > bytes */
	nlh->nlmsg_len = NLMSG_HDRLEN + 16;    /* shorter than the SA header */
	OUT("bad_short_header.bin", nlh->nlmsg_len);
	OUT("bad_nlmsg_len_tiny.bin", 12);

	n = msg_esp(buf, XFRM_MSG_NEWSA);
	a = last_attr(nlh, sizeof(struct xfrm_usersa_info));
	a->nla_len = 200; /* runs past the end of the message */
	OUT("bad_nla_len_overrun.bin", n);

	n = msg_esp(buf, XFRM_MSG_NEWSA);
	a = last_attr(nlh, sizeof(struct xfrm_usersa_info));
	a->nla_len = 2; /* shorter than its own header */
	OUT("bad_nla_len_tiny.bin", n);

	n = msg_esp(buf, XFRM_MSG_NEWSA);
	a = last_attr(nlh, sizeof(struct xfrm_usersa_info));
	a->nla_len = 4 + 4; /* REPLAY_VAL with half a payload */
	nlh->nlmsg_len = (uint32_t)((unsigned char *)a - buf) + 8;
	OUT("bad_replay_short.bin", nlh->nlmsg_len);

	/* An algorithm name without its terminating NUL. */
	n = msg_esp(buf, XFRM_MSG_NEWSA);
	mnl_attr_for_each(a, nlh, sizeof(struct xfrm_usersa_info))
	{
		if (mnl_attr_get_type(a) == XFRMA_ALG_CRYPT) {
			memset(mnl_attr_get_payload(a), 'A', 64);
		}
	}
	OUT("bad_alg_unterminated.bin", n);

	OUT("bad_delsa_without_sa.bin", msg_delsa(buf, false));

	n = msg_esp6(buf);
	mnl_attr_for_each(a, nlh, sizeof(struct xfrm_usersa_info))
	{
		if (mnl_attr_get_type(a) == XFRMA_REPLAY_ESN_VAL) {
			((struct xfrm_replay_state_esn *)mnl_attr_get_payload(
			     a))
			    ->bmp_len = 1000;
		}
	}
	OUT("bad_esn_bitmap.bin", n);

	n = msg_sadinfo(buf);
	a = last_attr(nlh, sizeof(uint32_t));
	a->nla_len = 6; /* SAD_HINFO with 2 of 8 bytes */
	OUT("bad_sadinfo_hinfo.bin", n);

	n = msg_esp(buf, XFRM_MSG_NEWSA);
	nlh->nlmsg_type = XFRM_MSG_NEWPOLICY;
	OUT("wrong_type_policy.bin", n);
#undef OUT
	return rv;
}

/* Dumps the SAD of the current namespace, one file per message. */
static int
record(const char *dir)
{
	static unsigned char buf[65536];
	struct mnl_socket *s = mnl_socket_open(NETLINK_XFRM);
	struct nlmsghdr *nlh;
	unsigned seq = (unsigned)time(NULL);
	unsigned count = 0;
	int rv = -1;

	if (s == NULL || mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		goto out;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = XFRM_MSG_GETSA;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(s, nlh, nlh->nlmsg_len) < 0) {
		perror("send");
		goto out;
	}
	for (int batch = 0; batch < 1000; batch++) {
		ssize_t n = mnl_socket_recvfrom(s, buf, sizeof(buf));
		size_t len;

		if (n <= 0) {
			perror("recv");
			goto out;
		}
		len = (size_t)n;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, (int)len);
		     nlh = mnl_nlmsg_next(nlh, (int *)&len)) {
			char name[64];

			if (nlh->nlmsg_type == NLMSG_DONE) {
				rv = 0;
				printf("%u messages\n", count);
				goto out;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				fprintf(stderr, "dump failed\n");
				goto out;
			}
			snprintf(name, sizeof(name), "recorded_sa_%u.bin",
			         count++);
			if (write_file(dir, name, nlh, nlh->nlmsg_len) != 0) {
				goto out;
			}
		}
	}
out:
	if (s != NULL) {
		mnl_socket_close(s);
	}
	return rv;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "gen") == 0) {
		return gen(argv[2]) == 0 ? 0 : 1;
	}
	if (argc == 3 && strcmp(argv[1], "record") == 0) {
		return record(argv[2]) == 0 ? 0 : 1;
	}
	fprintf(stderr, "usage: %s gen|record DIR\n", argv[0]);
	return 2;
}
