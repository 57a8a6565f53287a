/*
 * The probe is a minimal REQ client written on a plain Unix socket, not
 * an nng socket: closing an nng REQ socket whose dialer still has a pipe
 * in flight (a slow answer, a timed-out probe) can leave nng 1.5.2's
 * reaper re-queueing that dialer for ever, at full CPU, with the close
 * waiting on it. A plain socket has no such state.
 *
 * It asks a real question (GetHostInfo) because the failure it looks for
 * is past the handshake: nng's transport keeps accepting and negotiating,
 * but the pipes it negotiates are no longer handed to the socket, so only
 * a reply proves the listener serves. It sends its header and request at
 * once, so that the agent never sees it hang up inside the handshake
 * unless no reply came in time, that is when the listener is not serving
 * anyway.
 */
#include "ipc_probe.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define IPC_SCHEME "ipc://"

/* The SP handshake header: 0, "SP", 0, the protocol (big endian), 0, 0. */
#define SP_HEADER_LEN 8
#define SP_PROTO_REQ0 0x30
#define SP_PROTO_REP0 0x31
/* nng's ipc framing: a type byte (1: message), a 64-bit big-endian
 * length, the message. REQ's message starts with the request id, high
 * bit set. */
#define IPC_FRAME_MSG  1
#define IPC_FRAME_HEAD 9
#define REQ_ID         0x80000001u

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads exactly `len` bytes before `deadline`; false on timeout, end of
 * stream or error. */
static bool
read_until(int fd, uint8_t *buf, size_t len, int64_t deadline)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (left <= 0) {
			return false;
		}
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR) {
				continue;
			}
			return false;
		}
		if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
			continue;
		}
		n = read(fd, buf + got, len - got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
			continue;
		}
		if (n <= 0) {
			return false;
		}
		got += (size_t)n;
	}
	return true;
}

bool
ipc_probe(const char *url, int timeout_ms)
{
	/* Request {request_id: 1, method: "GetHostInfo"}. */
	static const uint8_t req[] = {0x08, 0x01, 0x12, 0x0b, 'G',
	                              'e',  't',  'H',  'o',  's',
	                              't',  'I',  'n',  'f',  'o'};
	uint8_t out[SP_HEADER_LEN + IPC_FRAME_HEAD + 4 + sizeof(req)] = {
	    0, 'S', 'P', 0, 0, SP_PROTO_REQ0, 0, 0, IPC_FRAME_MSG};
	uint8_t in[SP_HEADER_LEN + IPC_FRAME_HEAD];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	uint64_t len = 4 + sizeof(req);
	const char *path;
	uint8_t *p;
	bool ok;
	int fd;

	if (strncmp(url, IPC_SCHEME, strlen(IPC_SCHEME)) != 0) {
		return true;
	}
	path = url + strlen(IPC_SCHEME);
	if (strlen(path) >= sizeof(sa.sun_path)) {
		return true;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);

	p = out + SP_HEADER_LEN + 1;
	for (int i = 7; i >= 0; i--) {
		*p++ = (uint8_t)(len >> (8 * i));
	}
	for (int i = 3; i >= 0; i--) {
		*p++ = (uint8_t)(REQ_ID >> (8 * i));
	}
	memcpy(p, req, sizeof(req));

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                 0)) < 0) {
		return true;
	}
	/* Non-blocking: a full accept queue (EAGAIN) is a listener that does
	 * not accept, not a reason to wait. The request fits the socket
	 * buffer of a fresh connection, so one send() does. */
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	     send(fd, out, sizeof(out), MSG_NOSIGNAL) == (ssize_t)sizeof(out) &&
	     read_until(fd, in, sizeof(in), now_ms() + timeout_ms) &&
	     memcmp(in, (const uint8_t[]){0, 'S', 'P', 0, 0, SP_PROTO_REP0},
	            6) == 0 &&
	     in[SP_HEADER_LEN] == IPC_FRAME_MSG;
	close(fd);
	return ok;
}
