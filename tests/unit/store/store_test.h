/*
 * store_test.h - shared bits of the store unit tests: a private temp folder
 * (removed at exit, and by a reaper process if the test dies some other way),
 * the back-end a test body runs on, a store URL for it, and a settable clock
 * for leases.
 *
 * Back-ends: a test runs its bodies with st_backend(ST_SQLITE) (a file in the
 * temp folder) and then st_backend(ST_ETCD) (a private 3-member etcd cluster,
 * etcd_cluster.h, started fresh for the test binary).  st_url(name, query)
 * then names that back-end's store: for SQLite the file <dir>/<name>.db with
 * the query; for etcd the cluster (name does not matter: there is one key
 * space), keeping only the options etcd knows (history, timeout).  Where etcd
 * cannot do what SQLite does, the test says so with an "etcd:" assertion.
 */
#ifndef GR_TESTS_STORE_TEST_H
#define GR_TESTS_STORE_TEST_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "store/store.h"
#include "util/fs.h"
#include "etcd_cluster.h"

static char st__dir[64];
static pid_t st__owner, st__reaper;
static int st__reaper_fd = -1;

static void st__cleanup(void)
{
	if (!st__dir[0] || getpid() != st__owner)
		return;
	gr_rm_rf(st__dir, NULL);
	if (st__reaper > 0) { /* it sees EOF, finds nothing left, and exits */
		close(st__reaper_fd);
		waitpid(st__reaper, NULL, 0);
	}
}

/* A child that outlives us by a moment: when our end of the pipe closes (we
 * exited, crashed or were killed), it waits for the etcd members (which die
 * with us) and removes the folder. */
static void st__start_reaper(void)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[1]);
		for (int fd = 3; fd < 1024; fd++)
			if (fd != p[0])
				close(fd);
		char c;
		while (read(p[0], &c, 1) != 0)
			;
		for (int i = 0; i < 50; i++) { /* let dying members let go of their files */
			if (gr_rm_rf(st__dir, NULL) == 0 && access(st__dir, F_OK) < 0)
				break;
			usleep(100000);
		}
		_exit(0);
	}
	close(p[0]);
	/* p[1] stays open (CLOEXEC: not in exec'd children) until we are gone. */
	st__reaper = pid;
	st__reaper_fd = p[1];
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
		st__owner = getpid();
		atexit(st__cleanup);
		st__start_reaper();
	}
	return st__dir;
}

enum st_kind { ST_SQLITE, ST_ETCD };
static enum st_kind st__kind;
static struct st_etcd st__cluster;
static bool st__cluster_up;

static void st__stop_cluster(void)
{
	if (st__cluster_up && getpid() == st__owner)
		st_etcd_stop(&st__cluster);
	st__cluster_up = false;
}

static inline bool st_etcd(void) { return st__kind == ST_ETCD; }
static inline const char *st_backend_name(void) { return st_etcd() ? "etcd" : "sqlite"; }
static inline struct st_etcd *st_cluster(void) { return &st__cluster; }

/* Switch the back-end the next bodies run on.  For etcd this starts the
 * private cluster (once); false (with "#" lines) when it did not come up. */
static inline bool st_backend(enum st_kind kind)
{
	st__kind = kind;
	printf("# ---- back-end: %s\n", st_backend_name());
	fflush(stdout);
	if (kind == ST_ETCD && !st__cluster_up) {
		if (st_etcd_start(&st__cluster, st_dir(), "etcd", false) < 0)
			return false;
		st__cluster_up = true;
		atexit(st__stop_cluster);
	}
	return true;
}

/* The current back-end's store URL (static buffer rotation). */
static inline const char *st_url(const char *name, const char *query)
{
	static char bufs[4][1600];
	static int i;
	char *b = bufs[i++ % 4];
	if (!st_etcd()) {
		snprintf(b, sizeof bufs[0], "sqlite://%s/%s.db%s", st_dir(), name, query ? query : "");
		return b;
	}
	char opts[256] = "";
	if (query && query[0] == '?') {
		char copy[256];
		snprintf(copy, sizeof copy, "%s", query + 1);
		char *save = NULL;
		for (char *kv = strtok_r(copy, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
			if (strncmp(kv, "history=", 8) && strncmp(kv, "timeout=", 8))
				continue; /* SQLite's own (synchronous, busy_timeout, mode) */
			size_t n = strlen(opts);
			snprintf(opts + n, sizeof opts - n, "%s%s", n ? "&" : "", kv);
		}
	}
	snprintf(b, sizeof bufs[0], "%s", st_etcd_url(&st__cluster, 0, opts[0] ? opts : NULL));
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

/* Wait until fd is readable: at once on SQLite (wake-ups are synchronous);
 * on etcd bounded by 30 s (a watch stream delivers them).  Not a timing
 * assertion: only the condition is checked. */
static inline bool st_readable_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

#endif
