/*
 * build.c - gr_image_build and the recipes that make the default masters offline from
 * Debian's packages:
 *   busybox      a static busybox (package busybox-static) with its applet links and a
 *                minimal /etc; builds in about a second.
 *   debian-base  `debootstrap --variant=minbase <suite>` from the apt mirror this host
 *                uses (first plain Debian entry of /etc/apt/sources.list*); minutes.
 * A recipe only fills a staging folder; store.c checksums and publishes it.  Back-ends
 * add theirs with gr_image_recipe_register() (the VM driver's debian-vm).
 */
#include "image/image-internal.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BUSYBOX_BIN "/bin/busybox"

static char *pkg_version(const char *pkg)
{
	char *argv[] = {"dpkg-query", "-W", "-f=${Version}", (char *)pkg, NULL};
	char *out = NULL;
	if (gr__run_capture(argv, 256, &out, NULL) < 0)
		return xstrdup("unknown");
	return out;
}

static int write_text(const char *root, const char *rel, const char *text, mode_t mode, gr_error_t *err)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", root, rel);
	return gr_write_file_atomic(path, text, strlen(text), mode, err);
}

static int build_busybox(const struct gr_image_ctx *ctx, const char *stage, gr_image_progress_fn progress,
			 void *ud, char **source, gr_error_t *err)
{
	struct gr__progress pr;
	gr__progress_init(&pr, progress, ud, "busybox");
	struct stat st;
	if (stat(BUSYBOX_BIN, &st) < 0)
		return gr_error_set(err, ENOENT, "%s not found: install the busybox-static package", BUSYBOX_BIN);
	_cleanup_free_ char *root = xasprintf("%s/" GR__ROOTFS, stage);
	static const struct { const char *path; mode_t mode; } dirs[] = {
		{"", 0755}, {"bin", 0755}, {"sbin", 0755}, {"usr", 0755}, {"usr/bin", 0755},
		{"usr/sbin", 0755}, {"etc", 0755}, {"proc", 0555}, {"sys", 0555}, {"dev", 0755},
		{"tmp", 01777}, {"root", 0700}, {"home", 0755}, {"var", 0755}, {"var/tmp", 01777},
		{"run", 0755}, {"mnt", 0755},
	};
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		_cleanup_free_ char *d = xasprintf("%s/%s", root, dirs[i].path);
		if (mkdir(d, 0755) < 0 || chmod(d, dirs[i].mode) < 0)
			return gr_error_sys(err, "cannot create %s", d);
	}
	_cleanup_free_ char *bb = xasprintf("%s/bin/busybox", root);
	{
		_cleanup_close_ int in = open(BUSYBOX_BIN, O_RDONLY | O_CLOEXEC);
		_cleanup_close_ int out = open(bb, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
		if (in < 0 || out < 0)
			return gr_error_sys(err, "cannot copy %s", BUSYBOX_BIN);
		char buf[1 << 16];
		ssize_t n;
		while ((n = read(in, buf, sizeof buf)) > 0)
			if (gr_write_all(out, buf, (size_t)n) != n)
				return gr_error_sys(err, "cannot write %s", bb);
		if (n < 0)
			return gr_error_sys(err, "cannot read %s", BUSYBOX_BIN);
	}
	char *argv[] = {BUSYBOX_BIN, "--list-full", NULL};
	_cleanup_free_ char *list = NULL;
	if (gr__run_capture(argv, 1 << 20, &list, err) < 0)
		return -1;
	char *save = NULL;
	for (char *line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!*line || strstr(line, "..") || line[0] == '/' || !strcmp(line, "bin/busybox"))
			continue;
		_cleanup_free_ char *link = xasprintf("%s/%s", root, line);
		if (symlink("/bin/busybox", link) < 0 && errno != EEXIST)
			return gr_error_sys(err, "cannot create applet link %s", link);
		pr.p.files_done++;
		gr__progress_emit(&pr, 0);
	}
	if (write_text(root, "etc/passwd",
		       "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		       0644, err) < 0 ||
	    write_text(root, "etc/group", "root:x:0:\nnogroup:x:65534:\n", 0644, err) < 0 ||
	    write_text(root, "etc/shadow", "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n", 0640,
		       err) < 0 ||
	    write_text(root, "etc/hostname", "busybox\n", 0644, err) < 0 ||
	    write_text(root, "etc/hosts", "127.0.0.1 localhost\n::1 localhost\n", 0644, err) < 0 ||
	    write_text(root, "etc/os-release", "NAME=\"gureum busybox\"\nID=busybox\n", 0644, err) < 0)
		return -1;
	_cleanup_free_ char *ver = pkg_version("busybox-static");
	*source = xasprintf("build:busybox busybox-static %s", ver);
	gr__progress_emit(&pr, 1);
	return 0;
}

/* deb822 "URIs:"/"Suites:" or one-line "deb [opts] uri suite comps". */
static int pick_entry(const char *uri, const char *suite, char **mirror, char **suite_out)
{
	if (!uri || !suite || strchr(suite, '-') || strchr(suite, '/') || strncmp(uri, "http", 4))
		return 0;
	if (strstr(uri, "security"))
		return 0;
	*mirror = xstrdup(uri);
	*suite_out = xstrdup(suite);
	return 1;
}

static int scan_sources_file(const char *path, char **mirror, char **suite)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	char line[2048], uris[1024] = "", suites[1024] = "";
	int found = 0, deb822 = strstr(path, ".sources") != NULL;
	for (;;) {
		char *got = fgets(line, sizeof line, f);
		if (deb822 && (!got || line[0] == '\n')) {
			/* end of a stanza: try every URI x every suite, first fit wins */
			char *s1 = NULL, *s2 = NULL;
			char ub[1024], sb[1024];
			snprintf(ub, sizeof ub, "%s", uris);
			for (char *u = strtok_r(ub, " \t\n", &s1); u && !found; u = strtok_r(NULL, " \t\n", &s1)) {
				snprintf(sb, sizeof sb, "%s", suites);
				for (char *s = strtok_r(sb, " \t\n", &s2); s && !found; s = strtok_r(NULL, " \t\n", &s2))
					found = pick_entry(u, s, mirror, suite);
			}
			uris[0] = suites[0] = '\0';
		}
		if (!got || found)
			break;
		if (deb822) {
			if (!strncmp(line, "URIs:", 5))
				snprintf(uris, sizeof uris, "%s", line + 5);
			else if (!strncmp(line, "Suites:", 7))
				snprintf(suites, sizeof suites, "%s", line + 7);
			continue;
		}
		char *save = NULL, *tok = strtok_r(line, " \t\n", &save);
		if (!tok || strcmp(tok, "deb"))
			continue;
		tok = strtok_r(NULL, " \t\n", &save);
		if (tok && tok[0] == '[')
			while (tok && !strchr(tok, ']'))
				tok = strtok_r(NULL, " \t\n", &save);
		if (tok && tok[0] == '[')
			tok = strtok_r(NULL, " \t\n", &save);
		else if (tok && strchr(tok, ']'))
			tok = strtok_r(NULL, " \t\n", &save);
		char *uri = tok;
		char *s = uri ? strtok_r(NULL, " \t\n", &save) : NULL;
		found = pick_entry(uri, s, mirror, suite);
	}
	fclose(f);
	return found;
}

int gr__apt_mirror(char **mirror, char **suite, gr_error_t *err)
{
	if (scan_sources_file("/etc/apt/sources.list", mirror, suite))
		return 0;
	glob_t g;
	int found = 0;
	if (glob("/etc/apt/sources.list.d/*.sources", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc && !found; i++)
			found = scan_sources_file(g.gl_pathv[i], mirror, suite);
		globfree(&g);
	}
	if (!found && glob("/etc/apt/sources.list.d/*.list", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc && !found; i++)
			found = scan_sources_file(g.gl_pathv[i], mirror, suite);
		globfree(&g);
	}
	if (!found)
		return gr_error_set(err, ENOENT, "no Debian mirror found in /etc/apt/sources.list*");
	return 0;
}

struct deboot_ud {
	struct gr__progress *pr;
};

static void deboot_line(const char *line, void *ud)
{
	struct deboot_ud *d = ud;
	d->pr->p.files_done++;
	d->pr->p.message = line;
	if (!strncmp(line, "I: Retrieving", 13))
		d->pr->p.phase = "download";
	else if (!strncmp(line, "I: Extracting", 13))
		d->pr->p.phase = "extract";
	else if (!strncmp(line, "I: Unpacking", 12) || !strncmp(line, "I: Installing", 13))
		d->pr->p.phase = "install";
	else if (!strncmp(line, "I: Configuring", 14))
		d->pr->p.phase = "configure";
	gr__progress_emit(d->pr, !strncmp(line, "I: ", 3) && strncmp(line, "I: Retrieving", 13) &&
					 strncmp(line, "I: Extracting", 13) && strncmp(line, "I: Validating", 13));
	d->pr->p.message = NULL;
}

static void rm_files_in(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	size_t sl = strlen(suffix);
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (de->d_type == DT_REG && n > sl && !strcmp(de->d_name + n - sl, suffix))
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

static int build_debian_base(const struct gr_image_ctx *ctx, const char *stage, gr_image_progress_fn progress,
			     void *ud, char **source, gr_error_t *err)
{
	_cleanup_free_ char *mirror = NULL, *suite = NULL;
	if (ctx->mirror) {
		mirror = xstrdup(ctx->mirror);
		suite = xstrdup("bookworm");
		char *sp = strchr(mirror, ' '); /* "URL SUITE" form */
		if (sp) {
			*sp = '\0';
			free(suite);
			suite = xstrdup(sp + 1);
		}
	} else if (gr__apt_mirror(&mirror, &suite, err) < 0) {
		return -1;
	}
	struct gr__progress pr;
	gr__progress_init(&pr, progress, ud, "debootstrap");
	_cleanup_free_ char *root = xasprintf("%s/" GR__ROOTFS, stage);
	_cleanup_free_ char *msg = xasprintf("debootstrap --variant=minbase %s from %s", suite, mirror);
	pr.p.message = msg;
	gr__progress_emit(&pr, 1);
	pr.p.message = NULL;
	char *argv[] = {"debootstrap", "--variant=minbase", suite, root, mirror, NULL};
	struct deboot_ud d = {&pr};
	if (gr__run(argv, deboot_line, &d, err) < 0)
		return gr_error_prefix(err, "building debian-base");
	/* The package cache is not part of the image. */
	_cleanup_free_ char *cache = xasprintf("%s/var/cache/apt/archives", root);
	rm_files_in(cache, ".deb");
	_cleanup_free_ char *ver = pkg_version("debootstrap");
	*source = xasprintf("build:debian-base debootstrap %s minbase %s %s", ver, suite, mirror);
	return 0;
}

#define MAX_RECIPES 16
static struct gr_image_recipe recipes[MAX_RECIPES + 1] = {
	{"busybox", GR_IMAGE_KIND_ROOTFS, "static busybox with applet links (package busybox-static)",
	 build_busybox},
	{"debian-base", GR_IMAGE_KIND_ROOTFS, "Debian minbase via debootstrap from the apt mirror",
	 build_debian_base},
};
static pthread_mutex_t recipes_lock = PTHREAD_MUTEX_INITIALIZER;

int gr_image_recipe_register(const struct gr_image_recipe *r, gr_error_t *err)
{
	if (!r || !r->name || !r->kind || !r->build)
		return gr_error_set(err, EINVAL, "image recipe: name, kind and build are required");
	pthread_mutex_lock(&recipes_lock);
	size_t n = 0;
	int rc = 0;
	while (recipes[n].name && strcmp(recipes[n].name, r->name))
		n++;
	if (recipes[n].name)
		rc = recipes[n].build == r->build ? 0 : gr_error_set(err, EEXIST, "image recipe '%s' is taken", r->name);
	else if (n == MAX_RECIPES)
		rc = gr_error_set(err, ENOSPC, "image recipe '%s': the table is full", r->name);
	else
		recipes[n] = *r;
	pthread_mutex_unlock(&recipes_lock);
	return rc;
}

const struct gr_image_recipe *gr_image_recipes(void)
{
	return recipes;
}

int gr_image_build(const struct gr_image_ctx *ctx, const char *name, gr_image_progress_fn progress,
		   void *ud, struct gr_image_info *info, gr_error_t *err)
{
	const struct gr_image_recipe *r = recipes;
	while (r->name && (!name || strcmp(r->name, name)))
		r++;
	if (!r->name) {
		char known[256] = "";
		for (const struct gr_image_recipe *k = recipes; k->name; k++)
			snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", known[0] ? ", " : "",
				 k->name);
		return gr_error_set(err, ENOENT, "no build recipe named '%s' (known: %s)", name ? name : "", known);
	}
	_cleanup_free_ char *stage = NULL;
	if (gr__image_stage(ctx, name, &stage, err) < 0)
		return -1;
	_cleanup_free_ char *source = NULL;
	if (r->build(ctx, stage, progress, ud, &source, err) < 0) {
		gr__image_stage_discard(stage);
		return gr_error_prefix(err, "building image '%s'", name);
	}
	struct gr__progress pr;
	gr__progress_init(&pr, progress, ud, "checksum");
	if (gr__image_publish(ctx, name, stage, r->kind, source, &pr, info, err) < 0)
		return gr_error_prefix(err, "building image '%s'", name);
	return 0;
}
