/*
 * sweep.c - what belongs to no instance is removed: after a daemon crash a
 * define or delete may have been cut short, leaving a runtime object, a
 * QEMU, a layer, a folder or a cgroup whose record is gone (or was never
 * written).  gr_agent_sweep() asks each driver to sweep its own objects, then
 * removes the shared ones: instance folders, image layers, and instance
 * cgroups under the prefix in every hierarchy (v1 controllers, the v2
 * unified tree) — whatever hierarchies the host has now.
 *
 * gr_agent_cgroup_remove() is also what a driver uses to make sure nothing
 * of an instance survives: it kills every process of the group (and of the
 * groups the instance made inside it), then removes them leaves first.
 */
#include "agent/driver.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "image/image.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

/* Every folder <hierarchy>/<prefix>/<name> of the host, v1 and v2. */
static void cgroup_dirs(const struct gr_agent *a, const char *name, glob_t *g)
{
	_cleanup_free_ char *v1 = xasprintf(CGROUP_ROOT "/*/%s/%s", a->cgroup_prefix, name);
	_cleanup_free_ char *v2 = xasprintf(CGROUP_ROOT "/%s/%s", a->cgroup_prefix, name);
	memset(g, 0, sizeof *g);
	glob(v1, GLOB_ONLYDIR | GLOB_NOSORT, NULL, g);
	glob(v2, GLOB_ONLYDIR | GLOB_NOSORT | GLOB_APPEND, NULL, g);
}

/* 1 when the group (and its sub-groups) holds no process any more. */
static int kill_all(const char *dir)
{
	int empty = 1;
	_cleanup_free_ char *procs_path = xasprintf("%s/cgroup.procs", dir);
	_cleanup_free_ char *procs = NULL;
	if (gr_read_file(procs_path, 1 << 20, &procs, NULL, NULL) == 0) {
		for (char *p = procs, *end; *p; p = end) {
			long pid = strtol(p, &end, 10);
			if (end == p)
				break;
			if (pid > 0) {
				kill((pid_t)pid, SIGKILL);
				empty = 0;
			}
		}
	}
	glob_t sub = { 0 };
	_cleanup_free_ char *sp = xasprintf("%s/*/", dir);
	glob(sp, GLOB_ONLYDIR | GLOB_NOSORT, NULL, &sub);
	for (size_t k = 0; k < sub.gl_pathc; k++)
		empty &= kill_all(sub.gl_pathv[k]);
	globfree(&sub);
	return empty;
}

/* rmdir dir after its sub-groups (deepest first). */
static int rmdir_tree(const char *dir)
{
	glob_t sub = { 0 };
	_cleanup_free_ char *sp = xasprintf("%s/*/", dir);
	glob(sp, GLOB_ONLYDIR | GLOB_NOSORT, NULL, &sub);
	for (size_t k = 0; k < sub.gl_pathc; k++) {
		size_t n = strlen(sub.gl_pathv[k]);
		if (n > 1 && sub.gl_pathv[k][n - 1] == '/')
			sub.gl_pathv[k][n - 1] = '\0';
		rmdir_tree(sub.gl_pathv[k]);
	}
	globfree(&sub);
	return rmdir(dir) == 0 || errno == ENOENT ? 0 : -1;
}

int gr_agent_cgroup_remove(const struct gr_agent *a, const char *name, gr_error_t *err)
{
	glob_t g;
	cgroup_dirs(a, name, &g);
	int rc = 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *dir = g.gl_pathv[i];
		/* a process dies a moment after SIGKILL; the group empties after it */
		int gone = -1;
		for (int tries = 0; tries < 250 && gone < 0; tries++) {
			kill_all(dir);
			gone = rmdir_tree(dir);
			if (gone < 0)
				usleep(20 * 1000);
		}
		if (gone < 0)
			rc = gr_error_sys(err, "cannot remove cgroup %s", dir);
	}
	globfree(&g);
	return rc;
}

/* Names found as entries of dir (folders or files), NULL-terminated. */
static char **entries(const char *dir)
{
	size_t n = 0;
	char **v = xcalloc(1, sizeof *v);
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		v = xrealloc(v, (n + 2) * sizeof *v);
		v[n++] = xstrdup(de->d_name);
		v[n] = NULL;
	}
	if (d)
		closedir(d);
	return v;
}

int gr_agent_sweep(const struct gr_agent *a, gr_known_fn known, void *ud)
{
	int removed = 0;
	gr_error_t err;
	for (size_t i = 0; gr_drivers[i]; i++) {
		if (!gr_drivers[i]->sweep)
			continue;
		int r = gr_drivers[i]->sweep(a, known, ud, &err);
		if (r < 0)
			gr_log_warn("sweep (%s): %s", gr_drivers[i]->name, err.msg);
		else
			removed += r;
	}
	/* layers */
	char **ids = NULL;
	if (a->image && gr_layer_list(a->image, NULL, &ids, NULL) == 0) {
		for (size_t i = 0; ids[i]; i++) {
			if (known(ids[i], ud))
				continue;
			gr_log_info("sweep: removing the layers of %s (no record)", ids[i]);
			gr_layer_umount_root(a->image, ids[i], NULL, 1, NULL);
			if (gr_layer_delete(a->image, ids[i], &err) < 0)
				gr_log_warn("sweep: %s", err.msg);
			else
				removed++;
		}
		gr_strv_free(ids);
	}
	/* instance folders */
	_cleanup_free_ char *inst_dir = xasprintf("%s/instances", a->state_dir);
	_cleanup_strv_ char **names = entries(inst_dir);
	for (size_t i = 0; names[i]; i++) {
		if (known(names[i], ud))
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", inst_dir, names[i]);
		gr_log_info("sweep: removing folder %s (no record)", p);
		if (gr_rm_rf(p, &err) < 0)
			gr_log_warn("sweep: %s", err.msg);
		else
			removed++;
	}
	/* cgroups: <hierarchy>/<prefix>/<name> of every hierarchy */
	glob_t g;
	cgroup_dirs(a, "*", &g);
	char **seen = xcalloc(g.gl_pathc + 1, sizeof *seen);
	size_t n_seen = 0;
	for (size_t i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/');
		base = base ? base + 1 : g.gl_pathv[i];
		bool dup = false;
		for (size_t k = 0; k < n_seen && !dup; k++)
			dup = !strcmp(seen[k], base);
		if (!dup && !known(base, ud))
			seen[n_seen++] = xstrdup(base);
	}
	globfree(&g);
	for (size_t k = 0; k < n_seen; k++) {
		gr_log_info("sweep: removing the cgroup of %s (no record)", seen[k]);
		if (gr_agent_cgroup_remove(a, seen[k], &err) < 0)
			gr_log_warn("sweep: %s", err.msg);
		else
			removed++;
	}
	gr_strv_free(seen);
	return removed;
}
