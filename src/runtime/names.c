/*
 * names.c - name tables shared by the config parser, the default spec and the
 * engine: Linux capabilities (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40)
 * and namespace types (OCI names, /proc/<pid>/ns names, CLONE_NEW* flags).
 * Pure lookups over constant tables; safe from any thread.
 */
#include <sched.h>
#include <string.h>
#include <strings.h>

#include "runtime/config.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const char *const cap_names[GR_CAP_LAST + 1] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

int gr_cap_from_name(const char *name)
{
	if (!name)
		return -1;
	for (int i = 0; i <= GR_CAP_LAST; i++)
		if (!strcasecmp(cap_names[i], name))
			return i;
	return -1;
}

const char *gr_cap_name(int cap)
{
	return cap >= 0 && cap <= GR_CAP_LAST ? cap_names[cap] : NULL;
}

static const struct {
	const char *oci, *proc;
	int clone_flag;
} ns_names[GR_NS_COUNT] = {
	[GR_NS_PID] = { "pid", "pid", CLONE_NEWPID },
	[GR_NS_NET] = { "network", "net", CLONE_NEWNET },
	[GR_NS_MNT] = { "mount", "mnt", CLONE_NEWNS },
	[GR_NS_IPC] = { "ipc", "ipc", CLONE_NEWIPC },
	[GR_NS_UTS] = { "uts", "uts", CLONE_NEWUTS },
	[GR_NS_USER] = { "user", "user", CLONE_NEWUSER },
	[GR_NS_CGROUP] = { "cgroup", "cgroup", CLONE_NEWCGROUP },
	[GR_NS_TIME] = { "time", "time", CLONE_NEWTIME },
};

const char *gr_ns_name(enum gr_ns_type t)
{
	return (unsigned)t < GR_NS_COUNT ? ns_names[t].oci : NULL;
}

int gr_ns_from_name(const char *name)
{
	for (int i = 0; name && i < GR_NS_COUNT; i++)
		if (!strcmp(ns_names[i].oci, name))
			return i;
	return -1;
}

const char *gr_ns_proc_name(enum gr_ns_type t)
{
	return (unsigned)t < GR_NS_COUNT ? ns_names[t].proc : NULL;
}

int gr_ns_clone_flag(enum gr_ns_type t)
{
	return (unsigned)t < GR_NS_COUNT ? ns_names[t].clone_flag : 0;
}
