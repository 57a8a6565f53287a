/* vici stream connections: connect, framing, deadlines. */
#include "vici_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct vici_conn {
	int fd;
	int cancel_fd; /* -1 = none */
	bool broken;
};

int64_t
vici_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before the deadline, for poll(); 0 when past. */
static int
remaining_ms(int64_t deadline_ms, int idle_ms)
{
	int64_t left = deadline_ms - vici_now_ms();

	if (left < 0) {
		left = 0;
	}
	if (idle_ms >= 0 && left > idle_ms) {
		left = idle_ms;
	}
	return (int)left;
}

static int
connect_errno(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		return -ENOENT;
	case EACCES:
	case EPERM:
		return -EACCES;
	default:
		return -err;
	}
}

/* Parses tcp://HOST:PORT with a numeric IPv4 host, [IPv6] or localhost. */
static int
parse_tcp(const char *hp, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[64];
	const char *colon;
	size_t hlen;
	uint64_t port = 0;

	if (hp[0] == '[') {
		const char *end = strchr(hp, ']');

		if (end == NULL || end[1] != ':') {
			return -EINVAL;
		}
		hlen = (size_t)(end - hp - 1);
		if (hlen == 0 || hlen >= sizeof(host)) {
			return -EINVAL;
		}
		memcpy(host, hp + 1, hlen);
		colon = end + 1;
	} else {
		colon = strrchr(hp, ':');
		if (colon == NULL) {
			return -EINVAL;
		}
		hlen = (size_t)(colon - hp);
		if (hlen == 0 || hlen >= sizeof(host)) {
			return -EINVAL;
		}
		memcpy(host, hp, hlen);
	}
	host[hlen] = '\0';
	if (vici_parse_u64(colon + 1, &port) != 0 || port == 0 ||
	    port > 65535) {
		return -EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	if (strcmp(host, "localhost") == 0) {
		snprintf(host, sizeof(host), "127.0.0.1");
	}
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			*sl = sizeof(*s4);
		} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			*sl = sizeof(*s6);
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

static int
parse_uri(const char *uri, struct sockaddr_storage *ss, socklen_t *sl)
{
	if (uri == NULL) {
		return -EINVAL;
	}
	if (strncmp(uri, "unix://", 7) == 0) {
		struct sockaddr_un *su = (struct sockaddr_un *)ss;
		const char *path = uri + 7;
		size_t n = strlen(path);

		if (n == 0 || n >= sizeof(su->sun_path)) {
			return -EINVAL;
		}
		memset(ss, 0, sizeof(*ss));
		su->sun_family = AF_UNIX;
		memcpy(su->sun_path, path, n + 1);
		*sl =
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
		return 0;
	}
	if (strncmp(uri, "tcp://", 6) == 0) {
		return parse_tcp(uri + 6, ss, sl);
	}
	return -EINVAL;
}

int
vici_conn_open(const char *uri, int64_t deadline_ms, struct vici_conn **out)
{
	struct sockaddr_storage ss;
	socklen_t sl = 0;
	struct vici_conn *c;
	int fd, rv;

	*out = NULL;
	rv = parse_uri(uri, &ss, &sl);
	if (rv != 0) {
		return rv;
	}
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		int err = 0;
		socklen_t el = sizeof(err);

		if (errno != EINPROGRESS && errno != EAGAIN) {
			rv = connect_errno(errno);
			goto fail;
		}
		/* Bounded: each pass waits at most until the deadline. */
		for (;;) {
			int n = poll(&pfd, 1, remaining_ms(deadline_ms, -1));

			if (n > 0) {
				break;
			}
			if (n == 0) {
				rv = -ETIMEDOUT;
				goto fail;
			}
			if (errno != EINTR) {
				rv = -errno;
				goto fail;
			}
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0) {
			rv = -errno;
			goto fail;
		}
		if (err != 0) {
			rv = connect_errno(err);
			goto fail;
		}
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		rv = -ENOMEM;
		goto fail;
	}
	c->fd = fd;
	c->cancel_fd = -1;
	*out = c;
	return 0;
fail:
	close(fd);
	return rv;
}

void
vici_conn_close(struct vici_conn *c)
{
	if (c == NULL) {
		return;
	}
	if (c->fd >= 0) {
		close(c->fd);
	}
	free(c);
}

void
vici_conn_set_cancel(struct vici_conn *c, int fd)
{
	c->cancel_fd = fd;
}

int
vici_conn_fd(const struct vici_conn *c)
{
	return c->broken ? -1 : c->fd;
}

bool
vici_conn_broken(const struct vici_conn *c)
{
	return c->broken;
}

static int
broken(struct vici_conn *c, int rv)
{
	c->broken = true;
	return rv;
}

/* Waits until the socket is ready for `events`; -ETIMEDOUT after the
 * bound, -ECANCELED when the cancel descriptor fires. */
static int
wait_fd(const struct vici_conn *c, short events, int idle_ms,
        int64_t deadline_ms)
{
	struct pollfd pfd[2] = {
	    {.fd = c->fd, .events = events},
	    {.fd = c->cancel_fd, .events = POLLIN},
	};

	for (;;) {
		int n = poll(pfd, c->cancel_fd >= 0 ? 2 : 1,
		             remaining_ms(deadline_ms, idle_ms));

		if (n > 0 && c->cancel_fd >= 0 && pfd[1].revents != 0) {
			return -ECANCELED;
		}
		if (n > 0) {
			return 0;
		}
		if (n == 0) {
			return -ETIMEDOUT;
		}
		if (errno != EINTR) {
			return -errno;
		}
	}
}

int
vici_conn_send(struct vici_conn *c, const uint8_t *seg, size_t len,
               int64_t deadline_ms)
{
	size_t off = 0;

	if (c->broken) {
		return -EPIPE;
	}
	while (off < len) {
		ssize_t n = send(c->fd, seg + off, len - off, MSG_NOSIGNAL);
		int rv;

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			return broken(c, -errno);
		}
		rv = wait_fd(c, POLLOUT, -1, deadline_ms);
		if (rv != 0) {
			return broken(c, rv);
		}
	}
	return 0;
}

static int
read_full(struct vici_conn *c, uint8_t *buf, size_t len, int idle_ms,
          int64_t deadline_ms)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = recv(c->fd, buf + off, len - off, 0);
		int rv;

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == 0) {
			return -ECONNRESET;
		}
		if (errno == EINTR) {
			continue;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			return -errno;
		}
		if (vici_now_ms() >= deadline_ms) {
			return -ETIMEDOUT;
		}
		rv = wait_fd(c, POLLIN, idle_ms, deadline_ms);
		if (rv != 0) {
			return rv;
		}
	}
	return 0;
}

int
vici_conn_recv(struct vici_conn *c, int idle_ms, int64_t deadline_ms,
               uint8_t **seg, size_t *len)
{
	uint8_t hdr[4];
	uint32_t n;
	uint8_t *buf;
	int rv;

	*seg = NULL;
	*len = 0;
	if (c->broken) {
		return -EPIPE;
	}
	rv = read_full(c, hdr, sizeof(hdr), idle_ms, deadline_ms);
	if (rv != 0) {
		return broken(c, rv);
	}
	n = ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) |
	    ((uint32_t)hdr[2] << 8) | hdr[3];
	if (n > VICI_SEGMENT_MAX) {
		return broken(c, -EMSGSIZE);
	}
	if (n == 0) {
		/* Every packet has at least its type byte. */
		return broken(c, -EBADMSG);
	}
	buf = malloc(n);
	if (buf == NULL) {
		return broken(c, -ENOMEM);
	}
	rv = read_full(c, buf, n, idle_ms, deadline_ms);
	if (rv != 0) {
		free(buf);
		return broken(c, rv);
	}
	*seg = buf;
	*len = n;
	return 0;
}

static int
send_packet(struct vici_conn *c, int type, const char *name,
            const struct vici_builder *body, int64_t deadline_ms)
{
	uint8_t *seg = NULL;
	size_t len = 0;
	int rv;

	if (body != NULL && body->err != 0) {
		return body->err;
	}
	rv = vici_encode_packet(type, name, body != NULL ? body->buf : NULL,
	                        body != NULL ? body->len : 0, &seg, &len);
	if (rv == 0) {
		rv = vici_conn_send(c, seg, len, deadline_ms);
	}
	free(seg);
	return rv;
}

/*
 * Reads packets until one of the two awaited types arrives; EVENTs in
 * between go to on_event. The packet found is returned in *seg and *p (the
 * caller frees *seg).
 */
static int
await(struct vici_conn *c, int want_ok, int want_fail, int idle_ms,
      int64_t deadline_ms, vici_event_fn on_event, void *arg, uint8_t **seg,
      struct vici_packet *p)
{
	/* Bounded by the deadline: every pass reads one packet or fails. */
	for (;;) {
		size_t len;
		int rv = vici_conn_recv(c, idle_ms, deadline_ms, seg, &len);

		if (rv != 0) {
			return rv;
		}
		rv = vici_packet_parse(*seg, len, p);
		if (rv != 0) {
			free(*seg);
			*seg = NULL;
			return broken(c, rv);
		}
		if (p->type == want_ok || p->type == want_fail) {
			return 0;
		}
		if (p->type != VICI_EVENT) {
			free(*seg);
			*seg = NULL;
			return broken(c, -EBADMSG);
		}
		rv = on_event != NULL ? on_event(arg, p) : 0;
		free(*seg);
		*seg = NULL;
		if (rv != 0) {
			return rv;
		}
	}
}

int
vici_conn_command(struct vici_conn *c, const char *cmd,
                  const struct vici_builder *body, int idle_ms,
                  int64_t deadline_ms, vici_event_fn on_event, void *arg,
                  struct vici_msg *reply)
{
	struct vici_packet p;
	uint8_t *seg = NULL;
	int rv;

	memset(reply, 0, sizeof(*reply));
	rv = send_packet(c, VICI_CMD_REQUEST, cmd, body, deadline_ms);
	if (rv != 0) {
		return rv;
	}
	rv = await(c, VICI_CMD_RESPONSE, VICI_CMD_UNKNOWN, idle_ms, deadline_ms,
	           on_event, arg, &seg, &p);
	if (rv != 0) {
		return rv;
	}
	if (p.type == VICI_CMD_UNKNOWN) {
		rv = -EOPNOTSUPP;
	} else {
		rv = vici_decode(p.body, p.body_len, reply);
		if (rv != 0) {
			/* The framing held, so the stream is still in step;
			 * only this reply is lost. */
			rv = -EBADMSG;
		}
	}
	free(seg);
	return rv;
}

int
vici_conn_register(struct vici_conn *c, const char *name, bool on, int idle_ms,
                   int64_t deadline_ms, vici_event_fn on_event, void *arg)
{
	struct vici_packet p;
	uint8_t *seg = NULL;
	int rv;

	rv = send_packet(c, on ? VICI_EVENT_REGISTER : VICI_EVENT_UNREGISTER,
	                 name, NULL, deadline_ms);
	if (rv != 0) {
		return rv;
	}
	rv = await(c, VICI_EVENT_CONFIRM, VICI_EVENT_UNKNOWN, idle_ms,
	           deadline_ms, on_event, arg, &seg, &p);
	if (rv != 0) {
		return rv;
	}
	rv = p.type == VICI_EVENT_UNKNOWN ? -EOPNOTSUPP : 0;
	free(seg);
	return rv;
}
