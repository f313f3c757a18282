/*
 * test_idrange.c - the subordinate ID range allocator (idrange.c) on a real
 * folder: lowest free range first, one range per owner (asking again gives
 * the same), disjoint ranges, release and reuse, the pool's end (ENOSPC),
 * entries of another base/size still blocking what they overlap, garbage
 * ignored, the sweep, and 8 threads allocating at once getting 8 disjoint
 * ranges; a second process sees the same state (the folder is the state).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "agent/idrange.h"
#include "tap.h"
#include "util/alloc.h"
#include "util/fs.h"

static struct gr_idrange_pool pool;

static bool known_only_a(const char *owner, void *ud)
{
	(void)ud;
	return !strcmp(owner, "a");
}

struct thr {
	char name[16];
	uint32_t start;
	int rc;
};

static void *thr_main(void *p)
{
	struct thr *t = p;
	t->rc = gr_idrange_get(&pool, t->name, &t->start, NULL);
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	char dir[] = "/var/tmp/gr-test-idrange.XXXXXX";
	if (!mkdtemp(dir)) {
		skip("no /var/tmp: %s", strerror(errno));
		return tap_done();
	}
	_cleanup_free_ char *pdir = xasprintf("%s/pool", dir);
	pool = (struct gr_idrange_pool){ .dir = pdir, .base = 1000000, .size = 65536 };
	gr_error_t err = { 0 };
	uint32_t a = 0, b = 0, c = 0, again = 0;

	ok(gr_idrange_find(&pool, "a", &a, &err) < 0 && err.code == ENOENT, "find: no pool yet is ENOENT");
	int r = gr_idrange_get(&pool, "a", &a, &err);
	ok(r == 0 && a == 1000000, "first range starts at the base (%u)", a);
	ok(gr_idrange_get(&pool, "a", &again, &err) == 0 && again == a, "asking again gives the same range");
	r = gr_idrange_get(&pool, "b", &b, &err);
	ok(r == 0 && b == 1000000 + 65536, "the next owner gets the next range (%u)", b);
	r = gr_idrange_get(&pool, "c", &c, &err);
	ok(r == 0 && c == 1000000 + 2 * 65536, "and the next (%u)", c);
	ok(gr_idrange_find(&pool, "b", &again, &err) == 0 && again == b, "find gives b's range");
	_cleanup_free_ char *link = xasprintf("%s/1065536+65536", pdir);
	char target[64] = "";
	ok(readlink(link, target, sizeof target - 1) == 1 && !strcmp(target, "b"), "recorded as <start>+<size> -> owner");

	ok(gr_idrange_release(&pool, "b", &err) == 0, "release b");
	ok(gr_idrange_find(&pool, "b", &again, &err) < 0 && err.code == ENOENT, "b has no range any more");
	ok(gr_idrange_release(&pool, "b", &err) == 0, "releasing twice is fine");
	uint32_t d = 0;
	r = gr_idrange_get(&pool, "d", &d, &err);
	ok(r == 0 && d == b, "the freed range is the lowest free: reused (%u)", d);

	/* the folder is the state: another process sees it and cannot take a used range */
	pid_t pid = fork();
	if (pid == 0) {
		uint32_t x = 0, y = 0;
		int r = gr_idrange_find(&pool, "a", &x, NULL) == 0 && x == a &&
			gr_idrange_get(&pool, "e", &y, NULL) == 0 && y == 1000000 + 3 * 65536;
		_exit(r ? 0 : 1);
	}
	int ws = -1;
	waitpid(pid, &ws, 0);
	ok(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "another process finds a's range and allocates past the used ones");

	/* an entry of other settings blocks every range it overlaps */
	_cleanup_free_ char *odd = xasprintf("%s/1262144+100", pdir); /* inside the 5th range */
	ok(symlink("old", odd) == 0, "plant an entry of another size");
	_cleanup_free_ char *junk = xasprintf("%s/not-a-range", pdir);
	ok(symlink("x", junk) == 0, "plant garbage");
	uint32_t f = 0;
	r = gr_idrange_get(&pool, "f", &f, &err);
	ok(r == 0 && f == 1000000 + 5 * 65536, "a range overlapping a foreign entry is skipped (%u)", f);

	/* bad owners */
	ok(gr_idrange_get(&pool, "../x", &f, &err) < 0 && err.code == EINVAL, "an owner with '/' is refused");
	ok(gr_idrange_get(&pool, "", &f, &err) < 0 && err.code == EINVAL, "an empty owner is refused");

	/* the end of the ID space */
	_cleanup_free_ char *tdir = xasprintf("%s/tiny", dir);
	struct gr_idrange_pool tiny = { .dir = tdir, .base = 4294967295u - 2500, .size = 1000 };
	uint32_t t1, t2, t3;
	ok(gr_idrange_get(&tiny, "x", &t1, &err) == 0 && gr_idrange_get(&tiny, "y", &t2, &err) == 0,
	   "two ranges fit below 2^32-1 (base 2^32-1-2500, 1000 each)");
	ok(gr_idrange_get(&tiny, "z", &t3, &err) < 0 && err.code == ENOSPC, "the third does not: ENOSPC (%s)", err.msg);
	ok(gr_idrange_release(&tiny, "x", &err) == 0 && gr_idrange_get(&tiny, "z", &t3, &err) == 0 && t3 == t1,
	   "after a release it does");

	/* sweep frees the ranges of unknown owners */
	int n = gr_idrange_sweep(&pool, known_only_a, NULL);
	ok(n == 5, "sweep frees every range but a's and garbage (%d: c d e f old)", n);
	ok(gr_idrange_find(&pool, "a", &again, &err) == 0 && again == a, "a keeps its range");
	struct stat lst;
	ok(lstat(junk, &lst) == 0, "garbage is left alone");
	ok(gr_idrange_release(&pool, "a", &err) == 0, "release a");

	/* 8 threads at once: 8 disjoint ranges */
	struct thr th[8];
	pthread_t tid[8];
	for (int i = 0; i < 8; i++) {
		snprintf(th[i].name, sizeof th[i].name, "t%d", i);
		pthread_create(&tid[i], NULL, thr_main, &th[i]);
	}
	uint32_t starts[8];
	int bad = 0;
	for (int i = 0; i < 8; i++) {
		pthread_join(tid[i], NULL);
		bad += th[i].rc != 0;
		starts[i] = th[i].start;
	}
	qsort(starts, 8, sizeof starts[0], cmp_u32);
	for (int i = 1; i < 8; i++)
		bad += starts[i] < starts[i - 1] + 65536;
	ok(bad == 0 && starts[0] == 1000000 && starts[7] == 1000000 + 7 * 65536,
	   "8 threads get 8 disjoint ranges, packed from the base");

	gr_rm_rf(dir, NULL);
	return tap_done();
}
