/*
 * mounts.c - the container's file system: rootfs, mounts, /dev, pivot_root,
 * masked and read-only paths, read-only root and rootfs propagation.
 *
 * gr__plan_mounts() runs in the parent: it resolves every mount destination
 * inside the rootfs (symlinks followed without leaving it, like runc's
 * securejoin) and every bind source.  The rest runs in the child and does not
 * allocate.  With a mount namespace (new or joined) everything is mounted in
 * it and vanishes with it; / is made a slave first and pivot_root enters the
 * rootfs.  Without one (plan->host_mnt) the child mounts in the runtime's
 * namespace: / is left alone, the rootfs bind is made private (nothing under
 * it propagates to the host's peers), chroot replaces pivot_root, and the
 * parent records the mounts so delete removes them (host_mounts.c).
 */
#include "runtime/runtime-internal.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

int gr__secure_join(const char *root, const char *path, char *out, size_t len)
{
	char rel[PATH_MAX] = "", rest[PATH_MAX], tmp[PATH_MAX], full[PATH_MAX], link[PATH_MAX];
	int links = 0;
	if (snprintf(rest, sizeof rest, "%s", path) >= (int)sizeof rest)
		return errno = ENAMETOOLONG, -1;
	char *p = rest;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t n = strcspn(p, "/");
		char comp[NAME_MAX + 1];
		if (n > NAME_MAX)
			return errno = ENAMETOOLONG, -1;
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		if (!strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			char *s = strrchr(rel, '/');
			if (s)
				*s = '\0';
			continue;
		}
		char cand[PATH_MAX];
		if (snprintf(cand, sizeof cand, "%s/%s", rel, comp) >= (int)sizeof cand ||
		    snprintf(full, sizeof full, "%s%s", root, cand) >= (int)sizeof full)
			return errno = ENAMETOOLONG, -1;
		ssize_t l = readlink(full, link, sizeof link - 1);
		if (l < 0) { /* not a link, or missing: take it literally */
			memcpy(rel, cand, strlen(cand) + 1);
			continue;
		}
		if (++links > 40)
			return errno = ELOOP, -1;
		link[l] = '\0';
		if (snprintf(tmp, sizeof tmp, "%s/%s", link, p) >= (int)sizeof tmp)
			return errno = ENAMETOOLONG, -1;
		memcpy(rest, tmp, strlen(tmp) + 1);
		p = rest;
		if (link[0] == '/')
			rel[0] = '\0';
	}
	if (snprintf(out, len, "%s%s", root, rel[0] ? rel : "") >= (int)len)
		return errno = ENAMETOOLONG, -1;
	return 0;
}

int gr__plan_mounts(struct gr__plan *plan, gr_error_t *err)
{
	const struct gr_oci_config *cfg = plan->cfg;
	plan->mounts = xcalloc(cfg->n_mounts ? cfg->n_mounts : 1, sizeof *plan->mounts);
	plan->n_mounts = cfg->n_mounts;
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		struct gr__mount_plan *mp = &plan->mounts[i];
		const struct gr_oci_mount *m = &cfg->mounts[i];
		mp->m = m;
		if (!m->destination || m->destination[0] != '/')
			return gr_error_set(err, EINVAL, "mounts[%zu].destination: must be an absolute path", i);
		if (gr__secure_join(plan->rootfs, m->destination, mp->target, sizeof mp->target) < 0)
			return gr_error_sys(err, "mounts[%zu].destination: %s", i, m->destination);
		mp->is_bind = (m->flags & MS_BIND) || (m->type && !strcmp(m->type, "bind"));
		if (!strcmp(m->destination, "/dev") && m->type && !strcmp(m->type, "tmpfs"))
			plan->dev_is_tmpfs = true;
		if (!mp->is_bind) {
			snprintf(mp->source, sizeof mp->source, "%s", m->source ? m->source : "none");
			if (plan->mount_context && gr__lsm_labels_mount(m->type))
				mp->data = m->data ? xasprintf("%s,%s", m->data, plan->mount_context)
						   : xstrdup(plan->mount_context);
			continue;
		}
		if (!m->source)
			return gr_error_set(err, EINVAL, "mounts[%zu].source: a bind mount needs a source", i);
		if (m->source[0] == '/')
			snprintf(mp->source, sizeof mp->source, "%s", m->source);
		else /* relative sources are relative to the bundle */
			snprintf(mp->source, sizeof mp->source, "%s/%s", plan->bundle, m->source);
		struct stat st;
		if (stat(mp->source, &st) < 0)
			return gr_error_sys(err, "mounts[%zu].source: %s", i, m->source);
		mp->src_is_dir = S_ISDIR(st.st_mode);
	}
	return 0;
}

/* Flags that a bind remount inside a user namespace may not clear. */
static unsigned long locked_flags(const char *path)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (statvfs(path, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID)
		f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		f |= MS_NOEXEC;
	return f;
}

static int make_target(const char *target, bool dir, gr_error_t *err)
{
	struct stat st;
	if (stat(target, &st) == 0)
		return 0;
	char parent[PATH_MAX];
	snprintf(parent, sizeof parent, "%s", target);
	char *s = strrchr(parent, '/');
	if (s && s != parent)
		*s = '\0';
	if (gr_mkdir_p(dir ? target : parent, 0755, err) < 0)
		return -1;
	if (!dir) {
		int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return gr_error_sys(err, "cannot create mount point %s", target);
		close(fd);
	}
	return 0;
}

#define PROPAGATION (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)

static int mount_cgroup(struct gr__plan *plan, struct gr__mount_plan *mp, gr_error_t *err)
{
	const struct gr_cgroup *cg = plan->cg;
	unsigned long fl = mp->m->flags & ~(PROPAGATION | MS_BIND | MS_REC);
	if (!cg)
		return 0;
	if (mount("tmpfs", mp->target, "tmpfs", (fl & ~MS_RDONLY) | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=755") < 0)
		return gr_error_sys(err, "mounts: tmpfs for cgroups on %s", mp->target);
	for (size_t i = 0; i < cg->n_hier; i++) {
		char src[1024], dst[PATH_MAX];
		gr__cg_dir(cg, i, src, sizeof src);
		snprintf(dst, sizeof dst, "%s/%s", mp->target, cg->hier[i].name);
		if (mkdir(dst, 0755) < 0 && errno != EEXIST)
			return gr_error_sys(err, "mounts: mkdir %s", dst);
		if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
			return gr_error_sys(err, "mounts: binding cgroup %s on %s", src, dst);
		if ((fl & MS_RDONLY) &&
		    mount(NULL, dst, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(dst), NULL) < 0)
			return gr_error_sys(err, "mounts: remount %s read-only", dst);
	}
	if ((fl & MS_RDONLY) &&
	    mount(NULL, mp->target, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "mode=755") < 0)
		return gr_error_sys(err, "mounts: remount %s read-only", mp->target);
	return 0;
}

static int do_mount(struct gr__plan *plan, size_t i, gr_error_t *err)
{
	struct gr__mount_plan *mp = &plan->mounts[i];
	const struct gr_oci_mount *m = mp->m;
	unsigned long fl = m->flags & ~PROPAGATION;
	if (make_target(mp->target, mp->is_bind ? mp->src_is_dir : true, err) < 0)
		return gr_error_prefix(err, "mounts[%zu]", i);
	if (m->type && !strcmp(m->type, "cgroup")) {
		if (mount_cgroup(plan, mp, err) < 0)
			return gr_error_prefix(err, "mounts[%zu]", i);
	} else if (mp->is_bind) {
		if (mount(mp->source, mp->target, NULL, MS_BIND | (fl & MS_REC), NULL) < 0)
			return gr_error_sys(err, "mounts[%zu]: cannot bind %s on %s", i, mp->source,
					    m->destination);
		unsigned long extra = fl & ~(MS_BIND | MS_REC | MS_REMOUNT);
		if (extra && mount(NULL, mp->target, NULL,
				   MS_BIND | MS_REMOUNT | extra | (plan->userns ? locked_flags(mp->target) : 0),
				   NULL) < 0)
			return gr_error_sys(err, "mounts[%zu]: cannot remount %s with its options", i,
					    m->destination);
	} else {
		if (mount(mp->source, mp->target, m->type, fl, mp->data ? mp->data : m->data) < 0) {
			if (!(errno == EPERM && m->type && !strcmp(m->type, "sysfs")))
				return gr_error_sys(err, "mounts[%zu]: cannot mount %s (%s) on %s", i,
						    mp->source, m->type ? m->type : "?", m->destination);
			/* sysfs in a user namespace without a network namespace: bind the host's */
			if (mount("/sys", mp->target, NULL, MS_BIND | MS_REC, NULL) < 0)
				return gr_error_sys(err, "mounts[%zu]: cannot bind /sys on %s", i,
						    m->destination);
		}
	}
	/* mqueue takes no context= option: the mount label goes on its root (runc does so) */
	if (plan->mount_context && m->type && !strcmp(m->type, "mqueue") &&
	    lsetxattr(mp->target, "security.selinux", plan->cfg->mount_label, strlen(plan->cfg->mount_label),
		      0) < 0)
		return gr_error_sys(err, "mounts[%zu]: linux.mountLabel on %s", i, m->destination);
	if (m->propagation && mount(NULL, mp->target, NULL, m->propagation, NULL) < 0)
		return gr_error_sys(err, "mounts[%zu]: cannot set propagation of %s", i, m->destination);
	return 0;
}

struct dev_spec {
	const char *name;
	unsigned maj, min;
};
static const struct dev_spec default_devs[] = {
	{ "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 },
	{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

/* A device node: mknod, or (in a user namespace, where mknod is refused) a bind of the host's. */
static int make_dev(struct gr__plan *plan, const char *path, char type, unsigned maj, unsigned min,
		    mode_t mode, uid_t uid, gid_t gid, gr_error_t *err)
{
	char target[PATH_MAX];
	snprintf(target, sizeof target, "%s%s", plan->rootfs, path);
	char parent[PATH_MAX];
	snprintf(parent, sizeof parent, "%s", target);
	*strrchr(parent, '/') = '\0';
	if (gr_mkdir_p(parent, 0755, err) < 0)
		return -1;
	mode_t fmt = type == 'b' ? S_IFBLK : type == 'p' ? S_IFIFO : S_IFCHR;
	unlink(target);
	if (!plan->userns && mknod(target, fmt | (mode & 07777), makedev(maj, min)) == 0) {
		if (chown(target, uid, gid) < 0)
			return gr_error_sys(err, "chown %s", path);
		if (chmod(target, mode & 07777) < 0)
			return gr_error_sys(err, "chmod %s", path);
		return 0;
	}
	if (type == 'p')
		return gr_error_sys(err, "linux.devices: cannot create fifo %s", path);
	int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return gr_error_sys(err, "cannot create %s", target);
	close(fd);
	char host[PATH_MAX];
	snprintf(host, sizeof host, "/dev/%s", path + 5);
	if (mount(host, target, NULL, MS_BIND, NULL) < 0)
		return gr_error_sys(err, "cannot bind %s on %s", host, path);
	return 0;
}

static int setup_dev(struct gr__plan *plan, gr_error_t *err)
{
	const struct gr_oci_config *cfg = plan->cfg;
	if (plan->dev_is_tmpfs) {
		for (size_t i = 0; i < sizeof default_devs / sizeof default_devs[0]; i++) {
			char path[64];
			snprintf(path, sizeof path, "/dev/%s", default_devs[i].name);
			if (make_dev(plan, path, 'c', default_devs[i].maj, default_devs[i].min, 0666, 0, 0,
				     err) < 0)
				return -1;
		}
		static const char *const links[][2] = {
			{ "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" },
			{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
			{ "pts/ptmx", "ptmx" }, { "/proc/kcore", "core" },
		};
		for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
			char path[PATH_MAX];
			snprintf(path, sizeof path, "%s/dev/%s", plan->rootfs, links[i][1]);
			if (symlink(links[i][0], path) < 0 && errno != EEXIST)
				return gr_error_sys(err, "cannot create /dev/%s", links[i][1]);
		}
	}
	for (size_t i = 0; i < cfg->n_devices; i++) {
		const struct gr_oci_device *d = &cfg->devices[i];
		if (!d->path || strncmp(d->path, "/dev/", 5) || strstr(d->path, ".."))
			return gr_error_set(err, EINVAL, "linux.devices[%zu].path: must be under /dev", i);
		if (make_dev(plan, d->path, d->type == 'u' ? 'c' : d->type, (unsigned)d->major,
			     (unsigned)d->minor, d->has_file_mode ? d->file_mode : 0666,
			     d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0, err) < 0)
			return gr_error_prefix(err, "linux.devices[%zu]", i);
	}
	return 0;
}

int gr__setup_mounts(struct gr__plan *plan, gr_error_t *err)
{
	if (!plan->host_mnt && mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return gr_error_sys(err, "cannot make / a slave mount");
	if (mount(plan->rootfs, plan->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return gr_error_sys(err, "root.path: cannot bind %s", plan->rootfs);
	/* in the host's namespace: our mounts stay ours (no propagation to its peers) */
	if (plan->host_mnt && mount(NULL, plan->rootfs, NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return gr_error_sys(err, "root.path: cannot make %s private", plan->rootfs);
	for (size_t i = 0; i < plan->n_mounts; i++)
		if (do_mount(plan, i, err) < 0)
			return -1;
	return setup_dev(plan, err);
}

int gr__pivot_root(struct gr__plan *plan, gr_error_t *err)
{
	if (plan->host_mnt) { /* no mount namespace of its own: pivot_root would move the host's */
		if (chdir(plan->rootfs) < 0)
			return gr_error_sys(err, "root.path: cannot enter %s", plan->rootfs);
		if (chroot(".") < 0)
			return gr_error_sys(err, "chroot to %s", plan->rootfs);
		if (chdir("/") < 0)
			return gr_error_sys(err, "chdir /");
		return 0;
	}
	int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (oldroot < 0)
		return gr_error_sys(err, "open /");
	if (chdir(plan->rootfs) < 0) {
		close(oldroot);
		return gr_error_sys(err, "root.path: cannot enter %s", plan->rootfs);
	}
	/* pivot_root(".", ".") stacks the old root on top of the new one; then detach it */
	if (syscall(SYS_pivot_root, ".", ".") < 0) {
		close(oldroot);
		return gr_error_sys(err, "pivot_root to %s", plan->rootfs);
	}
	if (fchdir(oldroot) < 0 || mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0 ||
	    umount2(".", MNT_DETACH) < 0) {
		close(oldroot);
		return gr_error_sys(err, "cannot detach the old root");
	}
	close(oldroot);
	if (chdir("/") < 0)
		return gr_error_sys(err, "chdir /");
	return 0;
}

int gr__finish_rootfs(struct gr__plan *plan, gr_error_t *err)
{
	const struct gr_oci_config *cfg = plan->cfg;
	for (size_t i = 0; cfg->readonly_paths && cfg->readonly_paths[i]; i++) {
		const char *p = cfg->readonly_paths[i];
		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue;
			return gr_error_sys(err, "linux.readonlyPaths[%zu]: bind %s", i, p);
		}
		if (mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | locked_flags(p), NULL) < 0)
			return gr_error_sys(err, "linux.readonlyPaths[%zu]: remount %s", i, p);
	}
	for (size_t i = 0; cfg->masked_paths && cfg->masked_paths[i]; i++) {
		const char *p = cfg->masked_paths[i];
		struct stat st;
		if (stat(p, &st) < 0) {
			if (errno == ENOENT)
				continue;
			return gr_error_sys(err, "linux.maskedPaths[%zu]: %s", i, p);
		}
		int r = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0k")
					    : mount("/dev/null", p, NULL, MS_BIND, NULL);
		if (r < 0)
			return gr_error_sys(err, "linux.maskedPaths[%zu]: cannot mask %s", i, p);
	}
	if (cfg->root_readonly &&
	    mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags("/"), NULL) < 0)
		return gr_error_sys(err, "root.readonly: cannot remount / read-only");
	if (cfg->rootfs_propagation && mount(NULL, "/", NULL, cfg->rootfs_propagation, NULL) < 0)
		return gr_error_sys(err, "linux.rootfsPropagation");
	return 0;
}
