/* Reading vici fixtures (tests/fixtures/vici): files of whole segments. */
#ifndef SECSTAT_TEST_VICI_FIXTURES_H
#define SECSTAT_TEST_VICI_FIXTURES_H

#include <stddef.h>
#include <stdint.h>

#include "vici_codec.h"

/* The bytes of tests/fixtures/vici/<rel> (malloc'ed), or NULL. */
uint8_t *vici_fixture_read(const char *rel, size_t *len);

/* Splits a file of segments: the i-th segment (length prefix excluded)
 * or NULL past the end or on a cut segment. */
const uint8_t *vici_fixture_segment(const uint8_t *buf, size_t len, size_t i,
                                    size_t *seg_len);

/* Decodes the message of every segment of a file into a malloc'ed array
 * (for vici_records_make); returns the count, or -1. */
int vici_fixture_messages(const char *rel, struct vici_msg **out);

/* Decodes the message of the single segment of a file; 0 or -1. */
int vici_fixture_message(const char *rel, struct vici_msg *out);

#endif
