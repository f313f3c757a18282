/*
 * store_test.h - shared bits of the store unit tests: a private temp folder
 * (removed at exit), a store URL inside it, and a settable clock for leases.
 */
#ifndef GR_TESTS_STORE_TEST_H
#define GR_TESTS_STORE_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/store.h"
#include "util/fs.h"

static char st__dir[64];

static void st__cleanup(void)
{
	if (st__dir[0])
		gr_rm_rf(st__dir, NULL);
}

/* A fresh folder for this test binary; gone at exit. */
static inline const char *st_dir(void)
{
	if (!st__dir[0]) {
		snprintf(st__dir, sizeof st__dir, "/tmp/gr-test-store-XXXXXX");
		if (!mkdtemp(st__dir)) {
			perror("mkdtemp");
			exit(1);
		}
		atexit(st__cleanup);
	}
	return st__dir;
}

/* "sqlite://<dir>/<name>.db<query>" in a static buffer rotation. */
static inline const char *st_url(const char *name, const char *query)
{
	static char bufs[4][512];
	static int i;
	char *b = bufs[i++ % 4];
	snprintf(b, sizeof bufs[0], "sqlite://%s/%s.db%s", st_dir(), name, query ? query : "");
	return b;
}

static inline const char *st_path(const char *name)
{
	static char b[512];
	snprintf(b, sizeof b, "%s/%s.db", st_dir(), name);
	return b;
}

/* A clock the test moves by hand (ms). */
struct st_clock { int64_t now; };
static inline int64_t st_clock_fn(void *ctx) { return ((struct st_clock *)ctx)->now; }

#endif
