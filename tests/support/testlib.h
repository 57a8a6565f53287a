/* Helpers shared by the cmocka tests. */
#ifndef SECSTAT_TESTLIB_H
#define SECSTAT_TESTLIB_H

#include <stddef.h>

/* Path of a fixture file under tests/fixtures (static buffer). */
const char *test_fixture(const char *relpath);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int test_free_port(void);

/* A fresh ipc:// URL under a private temporary directory. */
const char *test_ipc_url(const char *name);

#endif
