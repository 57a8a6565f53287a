/*
 * The iSCSI sysfs reader. Its input is a directory tree, so the fuzzer's
 * bytes are laid over a template: the recorded two-hosts tree of the
 * fixtures is copied once into a scratch directory, and each input is a
 * series of records [file index byte][length byte][contents] that
 * replace the contents of those files (in file order of the template).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "providers/iscsi/iscsi_sysfs.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FILES 256

static char root[256];
static char *files[MAX_FILES]; /* paths under root */
static char *originals[MAX_FILES];
static size_t original_len[MAX_FILES];
static size_t n_files;

static void
write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd >= 0) {
		if (write(fd, buf, len) < 0) {
			perror(path);
		}
		close(fd);
	}
}

/* Copies the template tree src into dst (files, directories; symlinks
 * as they are), recording every regular file. */
static void
copy_tree(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	struct dirent *e;

	mkdir(dst, 0755);
	if (d == NULL) {
		return;
	}
	while ((e = readdir(d)) != NULL) {
		char s[1024], t[1024];
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 ||
		    strcmp(e->d_name, "..") == 0) {
			continue;
		}
		snprintf(s, sizeof(s), "%s/%s", src, e->d_name);
		snprintf(t, sizeof(t), "%s/%s", dst, e->d_name);
		if (lstat(s, &st) != 0) {
			continue;
		}
		if (S_ISLNK(st.st_mode)) {
			char link[1024];
			ssize_t n = readlink(s, link, sizeof(link) - 1);

			if (n > 0) {
				link[n] = '\0';
				if (symlink(link, t) != 0) {
					perror(t);
				}
			}
		} else if (S_ISDIR(st.st_mode)) {
			copy_tree(s, t);
		} else if (S_ISREG(st.st_mode) && n_files < MAX_FILES) {
			FILE *f = fopen(s, "r");
			char buf[4096];
			size_t n =
			    f != NULL ? fread(buf, 1, sizeof(buf), f) : 0;

			if (f != NULL) {
				fclose(f);
			}
			write_file(t, buf, n);
			files[n_files] = strdup(t);
			originals[n_files] = malloc(n + 1);
			memcpy(originals[n_files], buf, n);
			original_len[n_files] = n;
			n_files++;
		}
	}
	closedir(d);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *fx = getenv("SECSTAT_FIXTURES");
	char tmpl[512];

	(void)argc;
	(void)argv;
	snprintf(tmpl, sizeof(tmpl), "%s/iscsi/sysfs/two-hosts",
	         fx != NULL ? fx : SECSTAT_FIXTURES_DIR);
	snprintf(root, sizeof(root), "/tmp/secstat-fuzz-sysfs-%d",
	         (int)getpid());
	copy_tree(tmpl, root);
	if (n_files == 0) {
		fprintf(stderr, "fuzz_iscsi_sysfs: no template at %s\n", tmpl);
		exit(1);
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool touched[MAX_FILES] = {false};
	struct iscsi_sysfs s;
	size_t pos = 0;

	while (pos + 2 <= size) {
		size_t idx = data[pos] % n_files;
		size_t len = data[pos + 1];

		pos += 2;
		if (len > size - pos) {
			len = size - pos;
		}
		write_file(files[idx], data + pos, len);
		touched[idx] = true;
		pos += len;
	}
	if (iscsi_sysfs_read(root, &s) == 0) {
		for (size_t i = 0; i < 4; i++) {
			(void)iscsi_sysfs_host(&s, (uint32_t)i);
		}
		iscsi_sysfs_free(&s);
	}
	for (size_t i = 0; i < n_files; i++) {
		if (touched[i]) {
			write_file(files[i], originals[i], original_len[i]);
		}
	}
	return 0;
}
