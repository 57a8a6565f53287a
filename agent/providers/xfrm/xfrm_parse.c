/* NETLINK_XFRM messages -> records; bounds-checked, allocation-free. */
#include "xfrm_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <linux/netlink.h>

/* Attribute header: NETLINK_XFRM uses rtattr, which has nlattr's layout. */
#define ATTR_HDRLEN NLA_ALIGN(sizeof(struct nlattr))

/* Validates the netlink header against the buffer and returns the
 * message length, or 0 when it does not fit. */
static size_t
msg_len(const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;

	if (buf == NULL || len < sizeof(*nlh) ||
	    nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len > len) {
		return 0;
	}
	return nlh->nlmsg_len;
}

/* Copies an algorithm name out of a fixed 64-byte field that the kernel
 * NUL-terminates; an unterminated name is malformed. */
static int
copy_alg_name(char *dst, const char *src)
{
	size_t n = strnlen(src, XFRM_ALG_NAME_MAX);

	if (n == XFRM_ALG_NAME_MAX) {
		return -EBADMSG;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

/* Overwrites everything after the fixed part of an algorithm attribute:
 * that is the key. volatile so the stores are not elided. */
static void
wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	for (size_t i = 0; i < n; i++) {
		v[i] = 0;
	}
}

static int
parse_alg(unsigned char *payload, size_t plen, size_t fixed, char *name)
{
	int rv;

	if (plen < fixed) {
		wipe(payload, plen);
		return -EBADMSG;
	}
	rv = copy_alg_name(name, (const char *)payload);
	wipe(payload + fixed, plen - fixed);
	return rv;
}

/* Copies the SA header fields shared by NEWSA/UPDSA/DELSA/EXPIRE. */
static void
take_info(struct xfrm_sa *sa, const struct xfrm_usersa_info *p)
{
	sa->family = p->family;
	sa->proto = p->id.proto;
	sa->mode = p->mode;
	sa->flags = p->flags;
	sa->spi = ntohl(p->id.spi);
	sa->reqid = p->reqid;
	sa->daddr = p->id.daddr;
	sa->saddr = p->saddr;
	sa->sel = p->sel;
	sa->bytes = p->curlft.bytes;
	sa->packets = p->curlft.packets;
	sa->add_time = p->curlft.add_time;
	sa->use_time = p->curlft.use_time;
	sa->replay_window_drops = p->stats.replay_window;
	sa->replay = p->stats.replay;
	sa->integrity_failed = p->stats.integrity_failed;
}

/* Walks the attributes in [p, end). Every attribute must lie inside the
 * message; a short tail (shorter than an attribute header) is padding
 * only if it is zero-length. */
static int
parse_attrs(unsigned char *p, unsigned char *end, struct xfrm_sa *sa,
            bool *has_sa_attr)
{
	while (p < end) {
		struct nlattr *a = (struct nlattr *)p;
		size_t avail = (size_t)(end - p);
		unsigned char *pl;
		size_t plen;
		int rv = 0;

		if (avail < sizeof(*a) || a->nla_len < sizeof(*a) ||
		    a->nla_len > avail) {
			return -EBADMSG;
		}
		pl = p + ATTR_HDRLEN;
		plen = a->nla_len - ATTR_HDRLEN;
		switch (a->nla_type & NLA_TYPE_MASK) {
		case XFRMA_ALG_CRYPT:
			rv = parse_alg(pl, plen, sizeof(struct xfrm_algo),
			               sa->enc);
			break;
		case XFRMA_ALG_AUTH:
			/* AUTH_TRUNC is the same algorithm with its ICV
			 * length; the kernel sends both, keep either. */
			rv = parse_alg(pl, plen, sizeof(struct xfrm_algo),
			               sa->auth);
			break;
		case XFRMA_ALG_AUTH_TRUNC:
			rv = parse_alg(pl, plen, sizeof(struct xfrm_algo_auth),
			               sa->auth);
			break;
		case XFRMA_ALG_AEAD:
			rv = parse_alg(pl, plen, sizeof(struct xfrm_algo_aead),
			               sa->aead);
			break;
		case XFRMA_ALG_COMP:
			rv = parse_alg(pl, plen, sizeof(struct xfrm_algo),
			               sa->comp);
			break;
		case XFRMA_ENCAP:
			if (plen < sizeof(struct xfrm_encap_tmpl)) {
				return -EBADMSG;
			}
			sa->encap = true;
			break;
		case XFRMA_OFFLOAD_DEV: {
			struct xfrm_user_offload off;

			if (plen < sizeof(off)) {
				return -EBADMSG;
			}
			memcpy(&off, pl, sizeof(off));
			sa->offloaded = true;
			sa->offload_ifindex = (uint32_t)off.ifindex;
			break;
		}
		case XFRMA_REPLAY_VAL: {
			struct xfrm_replay_state rs;

			if (plen < sizeof(rs)) {
				return -EBADMSG;
			}
			memcpy(&rs, pl, sizeof(rs));
			sa->has_replay_state = true;
			sa->esn = false;
			sa->oseq = rs.oseq;
			sa->seq = rs.seq;
			break;
		}
		case XFRMA_REPLAY_ESN_VAL: {
			struct xfrm_replay_state_esn rs;

			if (plen < sizeof(rs)) {
				return -EBADMSG;
			}
			memcpy(&rs, pl, sizeof(rs));
			if ((size_t)rs.bmp_len * sizeof(uint32_t) >
			    plen - sizeof(rs)) {
				return -EBADMSG;
			}
			sa->has_replay_state = true;
			sa->esn = true;
			sa->oseq = ((uint64_t)rs.oseq_hi << 32) | rs.oseq;
			sa->seq = ((uint64_t)rs.seq_hi << 32) | rs.seq;
			break;
		}
		case XFRMA_LASTUSED:
			if (plen < sizeof(uint64_t)) {
				return -EBADMSG;
			}
			memcpy(&sa->lastused, pl, sizeof(uint64_t));
			sa->has_lastused = true;
			break;
		case XFRM_PARSE_ATTR_SA_DIR:
			if (plen < 1) {
				return -EBADMSG;
			}
			if (pl[0] == XFRM_PARSE_DIR_IN ||
			    pl[0] == XFRM_PARSE_DIR_OUT) {
				sa->dir = pl[0];
			}
			break;
		case XFRMA_SA: {
			struct xfrm_usersa_info info;

			if (has_sa_attr == NULL) {
				/* Only DELSA's state is read from here. */
				break;
			}
			if (plen < sizeof(struct xfrm_usersa_info)) {
				return -EBADMSG;
			}
			memcpy(&info, pl, sizeof(info));
			take_info(sa, &info);
			*has_sa_attr = true;
			break;
		}
		case XFRMA_SRCADDR:
		case XFRMA_COADDR:
		case XFRMA_MARK:
		case XFRMA_TFCPAD:
		case XFRMA_SA_EXTRA_FLAGS:
		case XFRMA_SEC_CTX:
		case XFRMA_REPLAY_THRESH:
		case XFRMA_ETIMER_THRESH:
		case XFRMA_SET_MARK:
		case XFRMA_SET_MARK_MASK:
		case XFRMA_IF_ID:
		case XFRMA_MTIMER_THRESH:
		case XFRMA_PAD:
		case XFRMA_TMPL:
		case XFRMA_POLICY_TYPE:
		case XFRMA_LTIME_VAL:
			break;
		default:
			sa->unknown_attrs++;
			break;
		}
		if (rv != 0) {
			return rv;
		}
		p += NLA_ALIGN(a->nla_len);
	}
	return 0;
}

static int
parse_sa(void *buf, size_t len, struct xfrm_sa *sa)
{
	struct nlmsghdr *nlh = buf;
	size_t mlen = msg_len(buf, len);
	unsigned char *payload;
	unsigned char *end;
	size_t hdr;
	bool has_sa_attr = false;
	int rv;

	memset(sa, 0, sizeof(*sa));
	if (mlen == 0) {
		return -EBADMSG;
	}
	payload = (unsigned char *)buf + NLMSG_HDRLEN;
	end = (unsigned char *)buf + mlen;
	switch (nlh->nlmsg_type) {
	case XFRM_MSG_NEWSA:
	case XFRM_MSG_UPDSA:
		hdr = sizeof(struct xfrm_usersa_info);
		break;
	case XFRM_MSG_DELSA:
		hdr = sizeof(struct xfrm_usersa_id);
		break;
	case XFRM_MSG_EXPIRE:
		hdr = sizeof(struct xfrm_user_expire);
		break;
	case XFRM_MSG_ACQUIRE:
		hdr = sizeof(struct xfrm_user_acquire);
		break;
	case XFRM_MSG_FLUSHSA:
		hdr = sizeof(struct xfrm_usersa_flush);
		break;
	default:
		return -EPROTO;
	}
	if (mlen - NLMSG_HDRLEN < hdr) {
		return -EBADMSG;
	}

	switch (nlh->nlmsg_type) {
	case XFRM_MSG_NEWSA:
	case XFRM_MSG_UPDSA: {
		struct xfrm_usersa_info info;

		memcpy(&info, payload, sizeof(info));
		take_info(sa, &info);
		sa->kind = nlh->nlmsg_type == XFRM_MSG_NEWSA ? XFRM_KIND_NEWSA
		                                             : XFRM_KIND_UPDSA;
		break;
	}
	case XFRM_MSG_DELSA: {
		struct xfrm_usersa_id id;

		memcpy(&id, payload, sizeof(id));
		sa->family = id.family;
		sa->proto = id.proto;
		sa->spi = ntohl(id.spi);
		sa->daddr = id.daddr;
		sa->kind = XFRM_KIND_DELSA;
		break;
	}
	case XFRM_MSG_EXPIRE: {
		struct xfrm_user_expire ue;

		memcpy(&ue, payload, sizeof(ue));
		take_info(sa, &ue.state);
		sa->hard = ue.hard != 0;
		sa->kind = XFRM_KIND_EXPIRE;
		break;
	}
	case XFRM_MSG_ACQUIRE: {
		struct xfrm_user_acquire ua;

		memcpy(&ua, payload, sizeof(ua));
		sa->family =
		    ua.sel.family != 0 ? ua.sel.family : ua.policy.sel.family;
		sa->proto = ua.id.proto;
		sa->spi = ntohl(ua.id.spi);
		sa->daddr = ua.id.daddr;
		sa->saddr = ua.saddr;
		sa->sel = ua.sel;
		sa->kind = XFRM_KIND_ACQUIRE;
		break;
	}
	default: { /* XFRM_MSG_FLUSHSA */
		struct xfrm_usersa_flush fl;

		memcpy(&fl, payload, sizeof(fl));
		sa->proto = fl.proto;
		sa->kind = XFRM_KIND_FLUSHSA;
		return 0;
	}
	}

	/* Attributes start at the aligned end of the fixed header; a message
	 * that ends inside the padding simply has none. */
	if (NLMSG_ALIGN(hdr) < mlen - NLMSG_HDRLEN) {
		rv = parse_attrs(
		    payload + NLMSG_ALIGN(hdr), end, sa,
		    nlh->nlmsg_type == XFRM_MSG_DELSA ? &has_sa_attr : NULL);
		if (rv != 0) {
			return rv;
		}
	}
	if (sa->kind == XFRM_KIND_DELSA && !has_sa_attr) {
		/* Every kernel since 2.6.20 appends the deleted state; without
		 * it there are no final counters to account. */
		return -EBADMSG;
	}
	return 0;
}

int
xfrm_parse_sa(void *buf, size_t len, struct xfrm_sa *sa)
{
	int rv = parse_sa(buf, len, sa);

	if (rv != 0 && buf != NULL) {
		/* A message we cannot walk may still hold keys. */
		wipe(buf, len);
		memset(sa, 0, sizeof(*sa));
	}
	return rv;
}

static int
info_attrs(const void *buf, size_t len, uint16_t type, const void **attrs,
           size_t *alen)
{
	const struct nlmsghdr *nlh = buf;
	size_t mlen = msg_len(buf, len);
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(uint32_t));

	if (mlen == 0) {
		return -EBADMSG;
	}
	if (nlh->nlmsg_type != type) {
		return -EPROTO;
	}
	/* Fixed header: a u32 of flags. */
	if (mlen < NLMSG_HDRLEN + sizeof(uint32_t)) {
		return -EBADMSG;
	}
	*attrs = (const unsigned char *)buf + (off < mlen ? off : mlen);
	*alen = off < mlen ? mlen - off : 0;
	return 0;
}

/* Steps through the attributes of an info message: 1 with `a` set, 0 at
 * the end, -EBADMSG when an attribute does not fit. */
static int
next_attr(const void *start, size_t alen, size_t *off, const struct nlattr **a)
{
	const struct nlattr *cur;

	if (*off >= alen) {
		return 0;
	}
	cur = (const struct nlattr *)((const unsigned char *)start + *off);
	if (alen - *off < sizeof(*cur) || cur->nla_len < sizeof(*cur) ||
	    cur->nla_len > alen - *off) {
		return -EBADMSG;
	}
	*a = cur;
	*off += NLA_ALIGN(cur->nla_len);
	return 1;
}

int
xfrm_parse_sadinfo(const void *buf, size_t len, struct xfrm_sadinfo *out)
{
	const void *attrs;
	const struct nlattr *a = NULL;
	size_t alen = 0;
	size_t off = 0;
	int rv;

	memset(out, 0, sizeof(*out));
	rv = info_attrs(buf, len, XFRM_MSG_NEWSADINFO, &attrs, &alen);
	if (rv != 0) {
		return rv;
	}
	while ((rv = next_attr(attrs, alen, &off, &a)) == 1) {
		const unsigned char *pl =
		    (const unsigned char *)a + ATTR_HDRLEN;
		size_t plen = a->nla_len - ATTR_HDRLEN;

		switch (a->nla_type & NLA_TYPE_MASK) {
		case XFRMA_SAD_CNT:
			if (plen < sizeof(uint32_t)) {
				return -EBADMSG;
			}
			memcpy(&out->count, pl, sizeof(uint32_t));
			out->has_count = true;
			break;
		case XFRMA_SAD_HINFO: {
			struct xfrmu_sadhinfo h;

			if (plen < sizeof(h)) {
				return -EBADMSG;
			}
			memcpy(&h, pl, sizeof(h));
			out->has_hinfo = true;
			out->hash_buckets = h.sadhcnt;
			out->hash_buckets_max = h.sadhmcnt;
			break;
		}
		default:
			break;
		}
	}
	return rv;
}

int
xfrm_parse_spdinfo(const void *buf, size_t len, struct xfrm_spdinfo *out)
{
	const void *attrs;
	const struct nlattr *a = NULL;
	size_t alen = 0;
	size_t off = 0;
	int rv;

	memset(out, 0, sizeof(*out));
	rv = info_attrs(buf, len, XFRM_MSG_NEWSPDINFO, &attrs, &alen);
	if (rv != 0) {
		return rv;
	}
	while ((rv = next_attr(attrs, alen, &off, &a)) == 1) {
		const unsigned char *pl =
		    (const unsigned char *)a + ATTR_HDRLEN;
		size_t plen = a->nla_len - ATTR_HDRLEN;

		if ((a->nla_type & NLA_TYPE_MASK) == XFRMA_SPD_INFO) {
			if (plen < sizeof(out->info)) {
				return -EBADMSG;
			}
			memcpy(&out->info, pl, sizeof(out->info));
			out->has_info = true;
		}
	}
	return rv;
}

bool
xfrm_parse_is_larval(const struct xfrm_sa *sa)
{
	/* A completed SA always has a transform: ESP an encryption or AEAD
	 * algorithm (possibly cipher_null), AH an authentication one, IPComp
	 * a compression one. Larval states have none of them. */
	return sa->enc[0] == '\0' && sa->auth[0] == '\0' &&
	       sa->aead[0] == '\0' && sa->comp[0] == '\0';
}

bool
xfrm_parse_is_encrypting(const struct xfrm_sa *sa)
{
	if (sa->proto != IPPROTO_ESP) {
		return false;
	}
	if (sa->aead[0] != '\0') {
		/* rfc4543 is GMAC: an AEAD that authenticates only. */
		return strncmp(sa->aead, "rfc4543", 7) != 0;
	}
	return sa->enc[0] != '\0' && strstr(sa->enc, "cipher_null") == NULL;
}

const char *
xfrm_parse_addr_str(uint16_t family, const xfrm_address_t *a, char *buf,
                    size_t size)
{
	if (size == 0) {
		return buf;
	}
	buf[0] = '\0';
	if (family == AF_INET) {
		inet_ntop(AF_INET, &a->a4, buf, (socklen_t)size);
	} else if (family == AF_INET6) {
		inet_ntop(AF_INET6, &a->a6, buf, (socklen_t)size);
	}
	return buf;
}

static const char *
ip_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "ipv6-icmp";
	case IPPROTO_SCTP:
		return "sctp";
	case IPPROTO_GRE:
		return "gre";
	default:
		return NULL;
	}
}

const char *
xfrm_parse_selector_str(const struct xfrm_selector *sel, bool source, char *buf,
                        size_t size)
{
	char addr[INET6_ADDRSTRLEN];
	char pname[8];
	const char *pn;
	uint16_t port = ntohs(source ? sel->sport : sel->dport);
	uint16_t mask = ntohs(source ? sel->sport_mask : sel->dport_mask);
	unsigned prefix = source ? sel->prefixlen_s : sel->prefixlen_d;
	int n;

	xfrm_parse_addr_str(sel->family, source ? &sel->saddr : &sel->daddr,
	                    addr, sizeof(addr));
	if (addr[0] == '\0') {
		snprintf(addr, sizeof(addr), "%s",
		         sel->family == AF_INET6 ? "::" : "0.0.0.0");
	}
	n = snprintf(buf, size, "%s/%u", addr, prefix);
	if (sel->proto == 0 || n < 0 || (size_t)n >= size) {
		return buf;
	}
	pn = ip_proto_name(sel->proto);
	if (pn == NULL) {
		snprintf(pname, sizeof(pname), "%u", sel->proto);
		pn = pname;
	}
	if (mask != 0) {
		snprintf(buf + n, size - (size_t)n, "[%s/%u]", pn, port);
	} else {
		snprintf(buf + n, size - (size_t)n, "[%s]", pn);
	}
	return buf;
}

const char *
xfrm_parse_mode_name(uint8_t mode)
{
	switch (mode) {
	case XFRM_MODE_TRANSPORT:
		return "transport";
	case XFRM_MODE_TUNNEL:
		return "tunnel";
	case XFRM_MODE_ROUTEOPTIMIZATION:
		return "ro";
	case XFRM_MODE_IN_TRIGGER:
		return "in_trigger";
	case XFRM_MODE_BEET:
		return "beet";
	default:
		return NULL;
	}
}

const char *
xfrm_parse_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_ESP:
		return "esp";
	case IPPROTO_AH:
		return "ah";
	case IPPROTO_COMP:
		return "comp";
	default:
		return NULL;
	}
}
