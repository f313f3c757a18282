/*
 * host_tune.c - host settings that make container starts fast.
 *
 * Moving a process into a cgroup takes the kernel's global cgroup threadgroup
 * rwsem for writing; unless the rwsem is kept in its slow mode, every first
 * writer after a quiet spell waits for an RCU grace period (5-12 ms on this
 * class of machine), which is most of a container's start.  The cgroup2 mount
 * option "favordynmods" keeps it in slow mode (forks and exits pay a little
 * instead); systemd >= 254 mounts cgroup2 with it by default.  The option is
 * global, whichever cgroup2 mount carries it, and this kernel keeps it until
 * reboot.  gureumd applies it at start (see `gureumd --no-host-tuning`); the
 * library never does so on its own, so gureum-oci leaves the host as it finds it.
 */
#include "runtime/runtime.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

/* Mount flags that a remount must carry over, by their mountinfo names. */
static const struct {
	const char *name;
	unsigned long flag;
} mnt_flags[] = {
	{ "ro", MS_RDONLY }, { "nosuid", MS_NOSUID }, { "nodev", MS_NODEV },
	{ "noexec", MS_NOEXEC }, { "relatime", MS_RELATIME }, { "noatime", MS_NOATIME },
	{ "nodiratime", MS_NODIRATIME }, { "strictatime", MS_STRICTATIME },
};

static int has_opt(const char *list, const char *opt)
{
	size_t n = strlen(opt);
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && !strncmp(p, opt, n))
			return 1;
		p = e ? e + 1 : NULL;
	}
	return 0;
}

int gr_rt_mountinfo_cgroup2(const char *line, char *target, size_t target_len, unsigned long *flags,
			    int *has_favordynmods)
{
	/* id parent major:minor root target mount-opts [optional...] - fstype source super-opts */
	char root[4096], tgt[4096], mopts[1024], fstype[64], source[256], sopts[1024];
	if (sscanf(line, "%*s %*s %*s %4095s %4095s %1023s", root, tgt, mopts) != 3)
		return 0;
	const char *sep = strstr(line, " - ");
	if (!sep || sscanf(sep + 3, "%63s %255s %1023s", fstype, source, sopts) != 3)
		return 0;
	if (strcmp(fstype, "cgroup2") || strlen(tgt) >= target_len)
		return 0;
	memcpy(target, tgt, strlen(tgt) + 1);
	*flags = 0;
	for (size_t i = 0; i < sizeof mnt_flags / sizeof mnt_flags[0]; i++)
		if (has_opt(mopts, mnt_flags[i].name))
			*flags |= mnt_flags[i].flag;
	*has_favordynmods = has_opt(sopts, "favordynmods");
	return 1;
}

int gr_rt_host_favor_dynmods(gr_error_t *err)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return gr_error_sys(err, "cannot read /proc/self/mountinfo");
	char *line = NULL, target[4096];
	size_t cap = 0;
	unsigned long flags = 0;
	int found = 0, already = 0;
	while (getline(&line, &cap, f) > 0) {
		int fav;
		if (gr_rt_mountinfo_cgroup2(line, target, sizeof target, &flags, &fav)) {
			found = 1;
			already = fav;
			break;
		}
	}
	free(line);
	fclose(f);
	if (!found)
		return 0; /* no cgroup2 mount: nothing to tune */
	if (already)
		return 0;
	if (mount(NULL, target, NULL, MS_REMOUNT | flags, "favordynmods") < 0) {
		if (errno == EINVAL)
			return gr_error_set(err, ENOTSUP, "cgroup2 at %s: this kernel has no favordynmods option",
					    target);
		return gr_error_sys(err, "cannot remount cgroup2 at %s with favordynmods", target);
	}
	return 1;
}
