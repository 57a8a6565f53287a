/* Reading vici fixtures: files of whole, length-prefixed segments. */
#include "vici_fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

uint8_t *
vici_fixture_read(const char *rel, size_t *len)
{
	const char *src = getenv("SECSTAT_SOURCE_DIR");
	char path[4096], r[512];
	FILE *f;
	uint8_t *buf = NULL;
	long n;

	if (src != NULL) {
		snprintf(path, sizeof(path), "%s/tests/fixtures/vici/%s", src,
		         rel);
	} else {
		snprintf(r, sizeof(r), "vici/%s", rel);
		snprintf(path, sizeof(path), "%s", test_fixture(r));
	}
	f = fopen(path, "rb");
	if (f == NULL) {
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

const uint8_t *
vici_fixture_segment(const uint8_t *buf, size_t len, size_t i, size_t *seg_len)
{
	size_t pos = 0;

	for (size_t k = 0;; k++) {
		uint32_t n;

		if (len - pos < 4) {
			return NULL;
		}
		n = ((uint32_t)buf[pos] << 24) |
		    ((uint32_t)buf[pos + 1] << 16) |
		    ((uint32_t)buf[pos + 2] << 8) | buf[pos + 3];
		if (len - pos - 4 < n) {
			return NULL;
		}
		if (k == i) {
			*seg_len = n;
			return buf + pos + 4;
		}
		pos += 4 + n;
	}
}

int
vici_fixture_messages(const char *rel, struct vici_msg **out)
{
	size_t len, n;
	uint8_t *buf = vici_fixture_read(rel, &len);
	const uint8_t *seg;
	struct vici_msg *v = NULL;
	int count = 0;

	*out = NULL;
	if (buf == NULL) {
		return -1;
	}
	while ((seg = vici_fixture_segment(buf, len, (size_t)count, &n)) !=
	       NULL) {
		struct vici_packet p;

		v = realloc(v, ((size_t)count + 1) * sizeof(*v));
		if (v == NULL || vici_packet_parse(seg, n, &p) != 0 ||
		    vici_decode(p.body, p.body_len, &v[count]) != 0) {
			free(buf);
			return -1;
		}
		count++;
	}
	free(buf);
	*out = v;
	return count;
}

int
vici_fixture_message(const char *rel, struct vici_msg *out)
{
	struct vici_msg *v = NULL;
	int n = vici_fixture_messages(rel, &v);

	if (n != 1) {
		for (int i = 0; i < n; i++) {
			vici_msg_free(&v[i]);
		}
		free(v);
		return -1;
	}
	*out = v[0];
	free(v);
	return 0;
}
