/* Helpers shared by the cmocka tests. */
#include "testlib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

const char *
test_fixture(const char *relpath)
{
	static char path[4096];
	const char *dir = getenv("SECSTAT_FIXTURES");

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/fixtures",
	    relpath);
	return path;
}

int
test_free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t          len = sizeof(sa);
	int                fd  = socket(AF_INET, SOCK_STREAM, 0);
	int                port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *) &sa, &len) == 0) {
		port = ntohs(sa.sin_port);
	}
	if (fd >= 0) {
		close(fd);
	}
	return port;
}

const char *
test_ipc_url(const char *name)
{
	static char dir[64];
	static char url[256];

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/secstat-test-XXXXXX");
		if (mkdtemp(dir) == NULL) {
			return NULL;
		}
	}
	snprintf(url, sizeof(url), "ipc://%s/%s.sock", dir, name);
	return url;
}
