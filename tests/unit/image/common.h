/*
 * common.h - helpers shared by the image module's test programs: a private scratch
 * folder under /var/tmp (removed at exit, after unmounting anything left under it),
 * running shell snippets, and small file checks.
 */
#ifndef GR_TEST_IMAGE_COMMON_H
#define GR_TEST_IMAGE_COMMON_H

#include <errno.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static char t_root[256];

static __attribute__((unused)) void t_cleanup(void)
{
	if (!t_root[0])
		return;
	/* unmount whatever a failed test left mounted under the scratch folder */
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "awk '{print $5}' /proc/self/mountinfo | grep '^%s/' | sort -r | xargs -r -n1 umount -l 2>/dev/null;"
		 " chmod -R u+w '%s' 2>/dev/null; rm -rf '%s'",
		 t_root, t_root, t_root);
	if (system(cmd) != 0)
		fprintf(stderr, "# cleanup of %s failed\n", t_root);
}

/* Make the scratch folder; prefix names the test (gr-test-img-<what>). */
static __attribute__((unused)) const char *t_scratch(const char *what)
{
	snprintf(t_root, sizeof t_root, "/var/tmp/gr-test-img-%s-XXXXXX", what);
	if (!mkdtemp(t_root)) {
		perror("mkdtemp");
		exit(1);
	}
	atexit(t_cleanup);
	return t_root;
}

__attribute__((format(printf, 1, 2), unused)) static int t_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int rc = system(cmd);
	return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static __attribute__((unused)) int t_exists(const char *dir, const char *rel)
{
	char p[1024];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	struct stat st;
	return lstat(p, &st) == 0;
}

static __attribute__((unused)) char *t_slurp(const char *dir, const char *rel)
{
	char p[1024];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	FILE *f = fopen(p, "r");
	if (!f)
		return NULL;
	static char buf[4096];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Number of visible entries in a folder (without . and ..); -1 if it cannot be read. */
static __attribute__((unused)) int t_count_entries(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	int n = -1;
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

#endif
