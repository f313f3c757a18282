/*
 * lsm.c - the Linux security module labels of a container: process.apparmorProfile,
 * process.selinuxLabel and linux.mountLabel.
 *
 * The parent decides (gr__lsm_plan) whether the host can apply each one: AppArmor
 * when the kernel has it enabled (/sys/module/apparmor/parameters/enabled is "Y"),
 * SELinux when selinuxfs is mounted (/sys/fs/selinux/enforce).  A label the host
 * cannot apply is refused with an error naming the field, unless the config's
 * annotation org.gureum.ignore-unsupported lists the field (gr__unsupported: a
 * warning is logged instead).  AppArmor's "unconfined" asks for nothing and is
 * never refused.  The child opens /proc/thread-self/attr/.../exec while it still
 * sees the host's /proc (before pivot_root or, for exec, before joining the mount
 * namespace) and writes the labels just before execve (gr__lsm_apply), so the
 * program, not the runtime, starts confined; nothing there allocates.
 * linux.mountLabel becomes a context="..." option of the file systems the
 * container mounts (not bind mounts, proc, sysfs and cgroups, as runc does; an
 * mqueue mount gets the label as its security.selinux attribute instead).
 */
#include "runtime/runtime-internal.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static bool apparmor_enabled(void)
{
	char c = 0;
	int fd = open("/sys/module/apparmor/parameters/enabled", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, &c, 1);
	close(fd);
	return n == 1 && c == 'Y';
}

static bool selinux_enabled(void)
{
	return access("/sys/fs/selinux/enforce", F_OK) == 0;
}

int gr__lsm_plan(const struct gr_oci_process *p, unsigned ignore, struct gr__lsm *out, gr_error_t *err)
{
	out->apparmor_fd = out->selinux_fd = -1;
	const char *aa = p ? p->apparmor_profile : NULL, *se = p ? p->selinux_label : NULL;
	if (aa && *aa && strcmp(aa, "unconfined")) {
		if (!apparmor_enabled()) {
			if (gr__unsupported(ignore, GR_OPT_APPARMOR, err, "AppArmor is not enabled on this host "
					    "(profile \"%s\")", aa) < 0)
				return -1;
		} else {
			out->apparmor_exec = xasprintf("exec %s", aa);
		}
	}
	if (se && *se) {
		if (!selinux_enabled()) {
			if (gr__unsupported(ignore, GR_OPT_SELINUX, err, "SELinux is not enabled on this host "
					    "(label \"%s\")", se) < 0)
				return -1;
		} else {
			out->selinux_exec = xstrdup(se);
		}
	}
	return 0;
}

int gr__lsm_mount_label(const struct gr_oci_config *cfg, char **context_opt, gr_error_t *err)
{
	*context_opt = NULL;
	if (!cfg->mount_label || !*cfg->mount_label)
		return 0;
	if (!selinux_enabled())
		return gr__unsupported(cfg->ignore_unsupported, GR_OPT_MOUNT_LABEL, err,
				       "SELinux is not enabled on this host (label \"%s\")", cfg->mount_label);
	if (strchr(cfg->mount_label, '"'))
		return gr_error_set(err, EINVAL, "linux.mountLabel: \"%s\" contains a quote", cfg->mount_label);
	*context_opt = xasprintf("context=\"%s\"", cfg->mount_label);
	return 0;
}

bool gr__lsm_labels_mount(const char *type)
{
	static const char *const unlabelled[] = { "bind", "proc", "sysfs", "cgroup", "cgroup2", "mqueue", NULL };
	if (!type)
		return false;
	for (size_t i = 0; unlabelled[i]; i++)
		if (!strcmp(type, unlabelled[i]))
			return false;
	return true;
}

/* Child: /proc/thread-self/attr/<name>, or the LSM's own folder first when given. */
static int open_attr(const char *lsm_dir, gr_error_t *err)
{
	char path[96];
	int fd = -1;
	if (lsm_dir) {
		snprintf(path, sizeof path, "/proc/thread-self/attr/%s/exec", lsm_dir);
		fd = open(path, O_WRONLY | O_CLOEXEC);
	}
	if (fd < 0)
		fd = open("/proc/thread-self/attr/exec", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return gr_error_sys(err, "cannot open /proc/thread-self/attr/exec");
	return fd;
}

int gr__lsm_open(struct gr__lsm *l, gr_error_t *err)
{
	if (l->apparmor_exec && (l->apparmor_fd = open_attr("apparmor", err)) < 0)
		return gr_error_prefix(err, "process.apparmorProfile");
	if (l->selinux_exec && (l->selinux_fd = open_attr(NULL, err)) < 0)
		return gr_error_prefix(err, "process.selinuxLabel");
	return 0;
}

int gr__lsm_apply(const struct gr__lsm *l, gr_error_t *err)
{
	if (l->apparmor_fd >= 0 &&
	    write(l->apparmor_fd, l->apparmor_exec, strlen(l->apparmor_exec)) < 0)
		return gr_error_sys(err, "process.apparmorProfile: cannot set \"%s\"", l->apparmor_exec + 5);
	if (l->selinux_fd >= 0 && write(l->selinux_fd, l->selinux_exec, strlen(l->selinux_exec)) < 0)
		return gr_error_sys(err, "process.selinuxLabel: cannot set \"%s\"", l->selinux_exec);
	return 0;
}

void gr__lsm_free(struct gr__lsm *l)
{
	if (l->apparmor_fd >= 0)
		close(l->apparmor_fd);
	if (l->selinux_fd >= 0)
		close(l->selinux_fd);
	free(l->apparmor_exec);
	free(l->selinux_exec);
	memset(l, 0, sizeof *l);
	l->apparmor_fd = l->selinux_fd = -1;
}
