/*
 * runtime.h - the container runtime's public API, used in-process by gureumd
 * and by the gureum-oci front-end.
 *
 * A container lives in <root>/<id>/ (state.json and the runtime's bookkeeping).
 * The lifecycle follows the OCI runtime spec: create (namespaces, mounts,
 * cgroup, the process waiting to exec) -> start (user program runs) -> stopped
 * -> delete.  gr_rt_create() returns once the container is "created"; the
 * container's init is a child of the calling process (make the caller a
 * child subreaper, or reap it, to collect its exit status).  No function keeps
 * global state; calls on different containers may run on different threads.
 */
#ifndef GR_RUNTIME_RUNTIME_H
#define GR_RUNTIME_RUNTIME_H

#include <stdbool.h>
#include <sys/types.h>
#include "runtime/config.h"
#include "util/error.h"

#define GR_RT_DEFAULT_ROOT "/run/gureum-oci"

struct gr_rt_opts {
	const char *root;            /* state root; NULL = GR_RT_DEFAULT_ROOT */
	const char *console_socket;  /* unix socket to hand the pty master to (terminal) */
	const char *pid_file;        /* write the init pid here */
	int preserve_fds;            /* fds 3..3+n-1 passed into the container */
	bool no_new_keyring;
	int stdio[3];                /* fds the container process gets as 0, 1, 2 (create, run,
				      * exec); 0 = inherit the caller's.  Not with a terminal. */
};

enum gr_rt_status { GR_RT_CREATING, GR_RT_CREATED, GR_RT_RUNNING, GR_RT_STOPPED };

struct gr_rt_state {
	char *id;
	char *bundle;
	char *oci_version;
	enum gr_rt_status status;
	pid_t pid;                   /* 0 when stopped */
	long long created;           /* unix time, ns */
	struct gr_oci_kv *annotations;
	size_t n_annotations;
};

/* Create the container `id` from bundle/config.json.  cfg may be NULL (load
 * from bundle) or a parsed config owned by the caller. */
int gr_rt_create(const struct gr_rt_opts *o, const char *id, const char *bundle,
		 const struct gr_oci_config *cfg, gr_error_t *err);
int gr_rt_start(const struct gr_rt_opts *o, const char *id, gr_error_t *err);
/* create + start; when !detach waits and stores the exit status (128+sig for signals). */
int gr_rt_run(const struct gr_rt_opts *o, const char *id, const char *bundle, bool detach,
	      int *exit_status, gr_error_t *err);
int gr_rt_state(const struct gr_rt_opts *o, const char *id, struct gr_rt_state *out, gr_error_t *err);
void gr_rt_state_clear(struct gr_rt_state *st);
/* The state as the spec's JSON (malloc'd). */
char *gr_rt_state_json(const struct gr_rt_state *st);
int gr_rt_list(const struct gr_rt_opts *o, struct gr_rt_state **out, size_t *n, gr_error_t *err);
/* Signal the init (all = every process in the container's cgroup). */
int gr_rt_kill(const struct gr_rt_opts *o, const char *id, int sig, bool all, gr_error_t *err);
/* Remove a stopped container; a created or running one is refused (EBUSY) unless
 * force, which kills it first.  Leaves no cgroup, mount or state dir. */
int gr_rt_delete(const struct gr_rt_opts *o, const char *id, bool force, gr_error_t *err);
/* Run proc inside the container's namespaces and cgroup.  detach: return after
 * the exec with *pid set; else wait and set *exit_status. */
int gr_rt_exec(const struct gr_rt_opts *o, const char *id, const struct gr_oci_process *proc,
	       bool detach, pid_t *pid, int *exit_status, gr_error_t *err);
/* Apply new resource limits to a live container (memory, cpu, pids). */
int gr_rt_update(const struct gr_rt_opts *o, const char *id, const struct gr_oci_resources *res,
		 gr_error_t *err);
/* The container's cgroup path relative to the hierarchy roots. */
int gr_rt_cgroup_path(const struct gr_rt_opts *o, const char *id, char **out, gr_error_t *err);

/* Usage figures of a container, read from the cgroup hierarchies it was created in
 * (v1: cpuacct.usage, memory.usage_in_bytes / limit_in_bytes, pids.current; v2:
 * cpu.stat usage_usec, memory.current / max, pids.current), wherever those are
 * mounted now.  A figure no hierarchy holds is 0.  Any thread. */
struct gr_rt_stats {
	unsigned long long cpu_ns;
	unsigned long long memory_bytes;
	unsigned long long memory_limit;     /* 0 = no limit */
	unsigned long long pids;
};
int gr_rt_stats(const struct gr_rt_opts *o, const char *id, struct gr_rt_stats *out, gr_error_t *err);

/* OOM kills: the number of processes the kernel's OOM killer killed in the
 * container's memory cgroup (v1 memory.oom_control "oom_kill", v2
 * memory.events "oom_kill").  Readable until delete, also after the container
 * stopped.  gr_rt_state() adds it as the annotation GR_RT_OOM_ANNOTATION
 * ("org.gureum.oom-kills": "<n>") when it is > 0.  Any thread. */
#define GR_RT_OOM_ANNOTATION "org.gureum.oom-kills"
int gr_rt_oom_kills(const struct gr_rt_opts *o, const char *id, long long *count, gr_error_t *err);

const char *gr_rt_status_name(enum gr_rt_status s);

/* Host tuning (host_tune.c).  Remount the cgroup2 mount with "favordynmods" so
 * moving a process into a cgroup does not wait for an RCU grace period.  Global
 * and, on current kernels, sticky until reboot; only gureumd calls it.  Returns 1
 * when it changed the host, 0 when there was nothing to do, < 0 on failure. */
int gr_rt_host_favor_dynmods(gr_error_t *err);
/* Parse one /proc/self/mountinfo line: 1 for a cgroup2 mount (target, the mount
 * flags a remount must keep, whether favordynmods is already on), else 0. */
int gr_rt_mountinfo_cgroup2(const char *line, char *target, size_t target_len, unsigned long *flags,
			    int *has_favordynmods);

#endif
