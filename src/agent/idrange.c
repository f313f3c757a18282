/*
 * idrange.c - the subordinate ID range allocator (idrange.h): a folder of
 * symlinks "<start>+<size>" -> owner, created with symlink(2) and made
 * durable by an fsync of the folder.
 */
#include "agent/idrange.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

struct entry {
	uint64_t start, size;
	char owner[NAME_MAX + 1];
	char name[64];
};

static uint32_t base_of(const struct gr_idrange_pool *p)
{
	return p->base ? p->base : GR_IDRANGE_BASE;
}

static uint32_t size_of(const struct gr_idrange_pool *p)
{
	return p->size ? p->size : GR_IDRANGE_SIZE;
}

static bool owner_ok(const char *o)
{
	if (!o || !*o || strlen(o) > NAME_MAX || o[0] == '.')
		return false;
	return !strchr(o, '/');
}

/* Every well-formed entry of the pool (malloc'd array). */
static int list(const struct gr_idrange_pool *p, struct entry **out, size_t *n, gr_error_t *err)
{
	*out = NULL;
	*n = 0;
	DIR *d = opendir(p->dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return gr_error_sys(err, "cannot open the ID range pool %s", p->dir);
	}
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct entry e = { 0 };
		char tail;
		if (de->d_name[0] == '.' ||
		    sscanf(de->d_name, "%" SCNu64 "+%" SCNu64 "%c", &e.start, &e.size, &tail) != 2 || !e.size)
			continue;
		ssize_t l = readlinkat(dirfd(d), de->d_name, e.owner, sizeof e.owner - 1);
		if (l <= 0)
			continue;
		e.owner[l] = '\0';
		snprintf(e.name, sizeof e.name, "%s", de->d_name);
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xrealloc(*out, cap * sizeof **out);
		}
		(*out)[(*n)++] = e;
	}
	closedir(d);
	return 0;
}

static int sync_dir(const char *dir, gr_error_t *err)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		return gr_error_sys(err, "cannot sync %s", dir);
	return 0;
}

static int find_locked(const struct gr_idrange_pool *p, const char *owner, uint32_t *start, gr_error_t *err)
{
	struct entry *es;
	size_t n;
	if (list(p, &es, &n, err) < 0)
		return -1;
	int rc = gr_error_set(err, ENOENT, "'%s' has no ID range", owner);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(es[i].owner, owner) && es[i].start <= UINT32_MAX) {
			*start = (uint32_t)es[i].start;
			rc = 0;
			break;
		}
	free(es);
	return rc;
}

int gr_idrange_find(const struct gr_idrange_pool *p, const char *owner, uint32_t *start, gr_error_t *err)
{
	if (!owner_ok(owner))
		return gr_error_set(err, EINVAL, "ID range owner '%s' is not a valid name", owner ? owner : "");
	pthread_mutex_lock(&pool_lock);
	int rc = find_locked(p, owner, start, err);
	pthread_mutex_unlock(&pool_lock);
	return rc;
}

int gr_idrange_get(const struct gr_idrange_pool *p, const char *owner, uint32_t *start, gr_error_t *err)
{
	if (!owner_ok(owner))
		return gr_error_set(err, EINVAL, "ID range owner '%s' is not a valid name", owner ? owner : "");
	uint64_t base = base_of(p), size = size_of(p);
	if (base == 0 || base + size > UINT32_MAX)
		return gr_error_set(err, EINVAL, "ID range base %" PRIu64 " + size %" PRIu64 " is out of range",
				    base, size);
	pthread_mutex_lock(&pool_lock);
	int rc = find_locked(p, owner, start, NULL);
	if (rc == 0)
		goto out;
	rc = -1;
	if (gr_mkdir_p(p->dir, 0700, err) < 0)
		goto out;
	for (int attempt = 0; attempt < 64; attempt++) {
		struct entry *es;
		size_t n;
		if (list(p, &es, &n, err) < 0)
			goto out;
		/* the lowest aligned range no entry overlaps (IDs up to 2^32-2: -1 is no ID) */
		uint64_t cand = base;
		bool moved = true;
		while (moved && cand + size <= UINT32_MAX) {
			moved = false;
			for (size_t i = 0; i < n; i++)
				if (es[i].start < cand + size && cand < es[i].start + es[i].size) {
					cand += size;
					moved = true;
					break;
				}
		}
		free(es);
		if (cand + size > UINT32_MAX) {
			gr_error_set(err, ENOSPC, "no free ID range of %" PRIu64 " IDs from %" PRIu64 " (pool %s)",
				     size, base, p->dir);
			goto out;
		}
		_cleanup_free_ char *path = xasprintf("%s/%" PRIu64 "+%" PRIu64, p->dir, cand, size);
		if (symlink(owner, path) == 0) {
			if (sync_dir(p->dir, err) < 0) {
				unlink(path);
				goto out;
			}
			*start = (uint32_t)cand;
			rc = 0;
			goto out;
		}
		if (errno != EEXIST) { /* EEXIST: another process took it meanwhile: look again */
			gr_error_sys(err, "cannot record the ID range %s", path);
			goto out;
		}
	}
	gr_error_set(err, EAGAIN, "ID range pool %s: too many concurrent allocations", p->dir);
out:
	pthread_mutex_unlock(&pool_lock);
	return rc;
}

int gr_idrange_release(const struct gr_idrange_pool *p, const char *owner, gr_error_t *err)
{
	if (!owner_ok(owner))
		return gr_error_set(err, EINVAL, "ID range owner '%s' is not a valid name", owner ? owner : "");
	pthread_mutex_lock(&pool_lock);
	struct entry *es;
	size_t n;
	int rc = list(p, &es, &n, err);
	bool changed = false;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (strcmp(es[i].owner, owner))
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s", p->dir, es[i].name);
		if (unlink(path) < 0 && errno != ENOENT)
			rc = gr_error_sys(err, "cannot free the ID range %s", path);
		changed = true;
	}
	free(es);
	if (rc == 0 && changed)
		rc = sync_dir(p->dir, err);
	pthread_mutex_unlock(&pool_lock);
	return rc;
}

int gr_idrange_sweep(const struct gr_idrange_pool *p, bool (*known)(const char *owner, void *ud), void *ud)
{
	pthread_mutex_lock(&pool_lock);
	struct entry *es;
	size_t n;
	int freed = 0;
	if (list(p, &es, &n, NULL) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (known(es[i].owner, ud))
				continue;
			_cleanup_free_ char *path = xasprintf("%s/%s", p->dir, es[i].name);
			if (unlink(path) == 0) {
				gr_log_info("sweep: freeing ID range %s of '%s' (no record)", es[i].name, es[i].owner);
				freed++;
			}
		}
		free(es);
		if (freed)
			sync_dir(p->dir, NULL);
	}
	pthread_mutex_unlock(&pool_lock);
	return freed;
}
