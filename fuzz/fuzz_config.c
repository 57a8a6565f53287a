/* The agent's config file (INI through inih, then every option's
 * setter). The input is written to a scratch file and loaded as
 * --config. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct agent_config cfg;
	char *argv[] = {"secstatd", "--config", path, NULL};
	FILE *sink = fopen("/dev/null", "w");
	int fd;

	if (path[0] == '\0') {
		snprintf(path, sizeof(path), "/tmp/secstat-fuzz-config-%d.conf",
		         (int)getpid());
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || sink == NULL) {
		return 0;
	}
	if (write(fd, data, size) < 0) {
		perror(path);
	}
	close(fd);
	(void)config_load(&cfg, 3, argv, sink, sink);
	config_free(&cfg);
	fclose(sink);
	return 0;
}
