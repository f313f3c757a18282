/*
 * test_devices_bpf.c - device rules on cgroup v2: the generated program is
 * loaded by the kernel's verifier, attached to a real cgroup2 leaf, and a child
 * moved into that leaf is allowed or refused device opens as the rules say
 * (last matching rule wins, default devices always allowed).  Needs root and a
 * cgroup2 mount; skips otherwise.
 */
#include "runtime/runtime-internal.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char v2root[256];

static int find_v2(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int found = 0;
	while (f && fgets(line, sizeof line, f)) {
		char root[256], mnt[256];
		char *sep = strstr(line, " - cgroup2 ");
		if (sep && sscanf(line, "%*s %*s %*s %255s %255s", root, mnt) == 2 && !strcmp(root, "/")) {
			snprintf(v2root, sizeof v2root, "%s", mnt);
			found = 1;
			break;
		}
	}
	if (f)
		fclose(f);
	return found;
}

/* In a child moved into dir: open path with flags; returns 0 or the errno. */
static int try_open(const char *dir, const char *path, int flags)
{
	pid_t pid = fork();
	if (pid == 0) {
		char procs[512], me[32];
		snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
		snprintf(me, sizeof me, "%d", (int)getpid());
		int fd = open(procs, O_WRONLY);
		if (fd < 0 || write(fd, me, strlen(me)) < 0)
			_exit(200);
		close(fd);
		fd = open(path, flags);
		_exit(fd >= 0 ? 0 : (errno & 0x7f));
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

int main(void)
{
	struct gr_oci_device_rule deny_all = { false, 'a', -1, -1, "rwm" };
	struct gr_oci_device_rule allow_kmsg_r = { true, 'c', 1, 11, "r" };
	struct gr_oci_device_rule rules[] = { deny_all, allow_kmsg_r };
	struct bpf_insn *insns;
	size_t len;
	gr__devices_bpf_build(rules, 2, &insns, &len);
	ok(len > 20 && insns[len - 1].code == (BPF_JMP | BPF_EXIT), "program built, ends in exit (%zu insns)", len);
	free(insns);

	if (geteuid() != 0 || !find_v2() || access("/dev/kmsg", F_OK) < 0) {
		skip("needs root, a cgroup2 mount and /dev/kmsg");
		return tap_done();
	}
	char dir[512];
	snprintf(dir, sizeof dir, "%s/gr-test-rt-devbpf-%d", v2root, (int)getpid());
	if (mkdir(dir, 0755) < 0) {
		skip("cannot create %s: %s", dir, strerror(errno));
		return tap_done();
	}
	gr_error_t err = { 0 };
	ok(gr__devices_bpf_attach(dir, rules, 2, &err) == 0, "verifier accepts and attaches the program (%s)", err.msg);
	is_int(try_open(dir, "/dev/null", O_RDWR), 0, "default device /dev/null allowed");
	is_int(try_open(dir, "/dev/kmsg", O_RDONLY), 0, "c 1:11 r allowed by the last rule");
	is_int(try_open(dir, "/dev/kmsg", O_WRONLY), EPERM, "c 1:11 w refused (the rule grants r only)");
	is_int(try_open(dir, "/dev/tty0", O_RDONLY) == EPERM || access("/dev/tty0", F_OK) < 0, 1,
	       "a device no rule allows is refused");
	rmdir(dir);

	/* a later deny overrides an earlier allow */
	snprintf(dir, sizeof dir, "%s/gr-test-rt-devbpf2-%d", v2root, (int)getpid());
	struct gr_oci_device_rule rules2[] = { { true, 'a', -1, -1, "rwm" }, { false, 'c', 1, 11, "rwm" } };
	if (mkdir(dir, 0755) == 0) {
		ok(gr__devices_bpf_attach(dir, rules2, 2, &err) == 0, "allow-all then deny one attaches");
		is_int(try_open(dir, "/dev/kmsg", O_RDONLY), EPERM, "the later deny wins");
		is_int(try_open(dir, "/dev/null", O_RDONLY), 0, "everything else allowed");
		rmdir(dir);
	}
	return tap_done();
}
