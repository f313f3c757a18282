/*
 * runtime-internal.h - what the files of src/runtime/ share with each other.
 *
 * The container init is created by clone() from the calling process (the CLI
 * or the daemon, which may be multi-threaded).  Everything the init needs is
 * prepared by the parent in a struct gr__plan BEFORE the clone, so the child
 * side (init.c, mounts.c, caps.c, seccomp.c's install) never allocates: it
 * only runs system calls on strings and buffers the plan owns.
 */
#ifndef GR_RUNTIME_INTERNAL_H
#define GR_RUNTIME_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/filter.h>
#include "runtime/runtime.h"

/* ---- cgroups (cgroup.c, cgroup_v1.c, cgroup_v2.c) ---- */

enum gr_cg_ctrl { GR_CG_CPU, GR_CG_CPUACCT, GR_CG_CPUSET, GR_CG_MEMORY, GR_CG_DEVICES,
		  GR_CG_FREEZER, GR_CG_BLKIO, GR_CG_PIDS, GR_CG_HUGETLB, GR_CG_NET_CLS, GR_CG_NET_PRIO,
		  GR_CG_NCTRL };

#define GR_CG_MAX_HIER 16

/* One mounted hierarchy: a v1 hierarchy (one or more controllers) or the cgroup2 tree. */
struct gr_cg_hier {
	char mount[256];     /* /sys/fs/cgroup/memory */
	char name[64];       /* "memory", "cpu,cpuacct", "unified" */
	unsigned ctrls;      /* bit (1<<gr_cg_ctrl) of the controllers this back-end handles here */
	bool v2;
};

struct gr_cgroup;

/* A cgroup back-end.  Each function works on the hierarchies of cg that belong to it. */
struct gr_cgroup_ops {
	const char *name;
	/* mkdir the cgroup (and its parents) and prepare it to take processes. */
	int (*create)(struct gr_cgroup *cg, const struct gr_cg_hier *h, gr_error_t *err);
	int (*apply)(struct gr_cgroup *cg, const struct gr_cg_hier *h,
		     const struct gr_oci_resources *r, gr_error_t *err);
	/* Both back-ends use gr__cg_enter_pid and gr__cg_rmdir (below). */
	int (*enter)(const struct gr_cgroup *cg, const struct gr_cg_hier *h, pid_t pid, gr_error_t *err);
	/* rmdir the leaf; EBUSY while processes remain. */
	int (*destroy)(const struct gr_cgroup *cg, const struct gr_cg_hier *h, gr_error_t *err);
	/* Number of OOM kills seen by the memory controller; -1 when unknown. */
	long long (*oom_kills)(struct gr_cgroup *cg, const struct gr_cg_hier *h);
	/* Fill the figures of struct gr_rt_stats this hierarchy holds. */
	void (*stats)(struct gr_cgroup *cg, const struct gr_cg_hier *h, struct gr_rt_stats *out);
};

extern const struct gr_cgroup_ops gr__cgroup_v1_ops;
extern const struct gr_cgroup_ops gr__cgroup_v2_ops;

struct gr_cgroup {
	char path[512];      /* relative to each hierarchy root, starts with '/' */
	size_t n_hier;
	struct gr_cg_hier hier[GR_CG_MAX_HIER];
	const struct gr_cgroup_ops *ops[GR_CG_MAX_HIER];
	int created_mask;    /* bit i: hier[i]'s leaf was created by us */
	int own_parents[GR_CG_MAX_HIER]; /* per hierarchy: levels above the leaf that create()
			      * made there; destroy() removes that many there when empty */
	unsigned want;       /* controllers the resources use: v2 enables only these, so an
			      * unused controller stays free for a v1 mount (crun's hybrid fix) */
	char gone[256];      /* gr__cgroup_load: hierarchies the container was created in that
			      * are not mounted now ("net_cls,net_prio unified"), "" if none */
};

struct gr__meta;

const char *gr__cg_ctrl_name(enum gr_cg_ctrl c);
/* Discover the host's layout (v1, v2 or hybrid) and pick a back-end per controller. */
int gr__cgroup_init(struct gr_cgroup *cg, const char *path, gr_error_t *err);
/* Same from another mountinfo file (unit tests feed v1, v2 and hybrid layouts). */
int gr__cgroup_init_from(struct gr_cgroup *cg, const char *path, const char *mountinfo, gr_error_t *err);
/* An existing container's cgroup (every operation after create): the hierarchies it was
 * created in (meta->cg_parents, matched by name against those mounted now).  A hierarchy
 * mounted since is left out; one unmounted since is skipped and named in cg->gone.  A state
 * from before the record (no names) gets every hierarchy mounted now. */
int gr__cgroup_load(struct gr_cgroup *cg, const struct gr__meta *meta, gr_error_t *err);
int gr__cgroup_load_from(struct gr_cgroup *cg, const struct gr__meta *meta, const char *mountinfo,
			 gr_error_t *err);
void gr__cgroup_stats(struct gr_cgroup *cg, struct gr_rt_stats *out);
int gr__cgroup_create(struct gr_cgroup *cg, const struct gr_oci_resources *r, gr_error_t *err);
int gr__cgroup_enter(struct gr_cgroup *cg, pid_t pid, gr_error_t *err);
int gr__cgroup_apply(struct gr_cgroup *cg, const struct gr_oci_resources *r, gr_error_t *err);
/* SIGKILL every process, wait for the cgroup to empty, rmdir everywhere. */
int gr__cgroup_destroy(struct gr_cgroup *cg, gr_error_t *err);
/* Signal every process in the cgroup. */
int gr__cgroup_signal_all(struct gr_cgroup *cg, int sig, gr_error_t *err);
long long gr__cgroup_oom_kills(struct gr_cgroup *cg);
/* Full path of the cgroup directory in hierarchy i. */
void gr__cg_dir(const struct gr_cgroup *cg, size_t i, char *buf, size_t len);
/* Write value to <dir>/<file>; err names the file. */
int gr__cg_write(const char *dir, const char *file, const char *value, gr_error_t *err);
int gr__cg_write_i64(const char *dir, const char *file, long long v, gr_error_t *err);
/* Called for each level of a cgroup's path in one hierarchy, before its
 * mkdir (made false) and after it (made true: it exists now). */
typedef int gr__cg_level_fn(struct gr_cgroup *cg, const struct gr_cg_hier *h, const char *dir,
			    bool made, gr_error_t *err);
/* mkdir every level of cg's path in h, calling level around each; records in
 * cg->own_parents how many parent levels this call made; EEXIST when the leaf
 * was there already (a live cgroup is never adopted). */
int gr__cg_make_levels(struct gr_cgroup *cg, const struct gr_cg_hier *h, gr__cg_level_fn *level,
		       gr_error_t *err);
/* A field (GR_OPT_* bit) this host cannot apply: fails with "<field>: <why>" (EINVAL),
 * or, when ignore (the config's GR_OCI_IGNORE_UNSUPPORTED annotation) lists the
 * field, logs a warning and returns 0. */
int gr__unsupported(unsigned ignore, unsigned bit, gr_error_t *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Shared by both back-ends: move pid into the hierarchy's copy of cg, remove that
 * copy (ENOENT is success), and read the "oom_kill N" line of a memory events file. */
int gr__cg_enter_pid(const struct gr_cgroup *cg, const struct gr_cg_hier *h, pid_t pid, gr_error_t *err);
int gr__cg_rmdir(const struct gr_cgroup *cg, const struct gr_cg_hier *h, gr_error_t *err);
long long gr__cg_oom_kill_count(const struct gr_cgroup *cg, const struct gr_cg_hier *h, const char *file);
/* The first number in <h's copy of cg>/<file> after key ("" = the file's first number); -1 if none. */
long long gr__cg_read_num(const struct gr_cgroup *cg, const struct gr_cg_hier *h, const char *file,
			  const char *key);

/* ---- device rules on cgroup v2 (devices_bpf.c) ---- */
struct bpf_insn;
/* The BPF_PROG_TYPE_CGROUP_DEVICE program for the rules (+ the default devices); malloc'd. */
int gr__devices_bpf_build(const struct gr_oci_device_rule *rules, size_t n, struct bpf_insn **out,
			  size_t *len);
/* Load it and attach it to the cgroup2 folder cgroup_dir. */
int gr__devices_bpf_attach(const char *cgroup_dir, const struct gr_oci_device_rule *rules, size_t n,
			   gr_error_t *err);

/* ---- seccomp (seccomp.c) ---- */
struct gr__bpf {
	struct sock_filter *insns;
	unsigned short len;
	unsigned flags;      /* SECCOMP_FILTER_FLAG_* */
};
/* Compile in the parent (allocates); install in the child (no allocation). */
int gr__seccomp_compile(const struct gr_oci_seccomp *s, struct gr__bpf *out, gr_error_t *err);
/* Same, through the cache folder cache_dir (NULL = no cache). */
int gr__seccomp_compile_cached(const struct gr_oci_seccomp *s, const char *cache_dir,
			       struct gr__bpf *out, gr_error_t *err);
int gr__seccomp_install(const struct gr__bpf *bpf);
void gr__bpf_free(struct gr__bpf *b);

/* ---- the plan handed to the child ---- */

struct gr__mount_plan {
	const struct gr_oci_mount *m;
	char *data;          /* mount data when the plan changes it (linux.mountLabel), else NULL */
	char target[4096];   /* rootfs-joined, symlinks resolved inside the rootfs */
	char source[4096];   /* bind sources made absolute (relative = to the bundle) */
	bool is_bind, src_is_dir;
};

/* lsm.c: AppArmor / SELinux labels for the program (parent allocates, child writes) */
struct gr__lsm {
	char *apparmor_exec;         /* "exec <profile>", NULL = none */
	char *selinux_exec;          /* the label, NULL = none */
	int apparmor_fd, selinux_fd; /* child: /proc/thread-self/attr/.../exec, -1 */
};
/* Parent: what to apply; refuses (or, opted out, warns about) what the host cannot. */
int gr__lsm_plan(const struct gr_oci_process *p, unsigned ignore, struct gr__lsm *out, gr_error_t *err);
/* Parent: linux.mountLabel as a mount option (context="..."), NULL when none. */
int gr__lsm_mount_label(const struct gr_oci_config *cfg, char **context_opt, gr_error_t *err);
/* Whether mounts of this file system type get the mount label as context=. */
bool gr__lsm_labels_mount(const char *type);
/* Child: open the attr files (while the host's /proc is reachable); write them before execve. */
int gr__lsm_open(struct gr__lsm *l, gr_error_t *err);
int gr__lsm_apply(const struct gr__lsm *l, gr_error_t *err);
void gr__lsm_free(struct gr__lsm *l);

struct gr__process_plan {
	const struct gr_oci_process *p;
	struct gr__bpf bpf;          /* len 0 = no filter */
	bool has_bpf;
	int console_fd;              /* connected console socket, -1 */
	int stdio[3];                /* dup'ed onto 0,1,2 when > 0 (gr_rt_opts.stdio) */
	char **env;                  /* env to exec with */
	char exe[4096];              /* resolved path of args[0] (via PATH in env); "" = not found yet */
	struct gr__lsm lsm;          /* fds -1 until the child opens them */
};

struct gr__plan {
	const struct gr_oci_config *cfg;
	char rootfs[4096];
	char bundle[4096];           /* absolute */
	int preserve_fds;
	int clone_flags;             /* CLONE_NEW* to create */
	int join_fds[GR_NS_COUNT];   /* namespaces to join (-1) */
	bool join_pid;
	struct gr__mount_plan *mounts;
	size_t n_mounts;
	struct gr_cgroup *cg;        /* for the cgroup mount */
	struct gr__process_plan proc;
	int sync_fd;                 /* child end of the sync socketpair */
	int parent_sync_fd;          /* parent end: the child closes its copy first, so the
				      * parent's death (or its end closing) is EOF for the child */
	int fifo_fd;                 /* exec fifo opened O_RDONLY|O_NONBLOCK, child waits on it */
	bool dev_is_tmpfs;           /* the config mounts a tmpfs on /dev: create default nodes */
	char *mount_context;         /* context="<linux.mountLabel>" when SELinux applies it, NULL */
	bool userns;
	bool host_mnt;               /* no mount namespace in the config: mount in the caller's,
				      * chroot instead of pivot_root (host_mounts.c records them) */
	/* state JSON for hooks run by the child (filled through the sync socket) */
	char *hook_state;            /* preallocated GR__HOOK_STATE_MAX bytes */
	bool has_container_hooks;    /* createContainer or startContainer hooks exist */
	bool has_runtime_hooks;      /* prestart or createRuntime hooks exist */
	bool new_cgroupns;           /* unshare(CLONE_NEWCGROUP) once in the cgroup */
	bool new_timens;             /* unshare(CLONE_NEWTIME): the program enters it at exec */
	bool cg_joined;              /* child: the parent's GR__SYNC_CGROUP arrived */
};

#define GR__HOOK_STATE_MAX 65536

/* Sync messages between parent and child (one byte, then optional payload). */
enum { GR__SYNC_GO = 'g', GR__SYNC_PREPIVOT = 'p', GR__SYNC_READY = 'r', GR__SYNC_ERROR = 'e',
       GR__SYNC_CGROUP = 'c', /* parent -> child: you are in the cgroup now */
       GR__SYNC_DONE = 'd',   /* parent -> child: create saved the state; wait for start */
       GR__SYNC_STATE = 's' };

/* Error report from child: code (int) then message text (NUL-terminated, <= 1024). */
struct gr__sync_err {
	int code;
	char msg[1024];
};

/* init.c: the child side of create.  Never returns. */
__attribute__((noreturn)) void gr__init_main(struct gr__plan *plan);
/* Report an error to the parent over fd and _exit. */
__attribute__((noreturn)) void gr__child_fail(int fd, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The CLONE_NEW* flag of a namespace type. */
int gr__ns_flag(enum gr_ns_type t);

/* mounts.c */
int gr__plan_mounts(struct gr__plan *plan, gr_error_t *err);
/* Child side: everything up to (not including) pivot_root. */
int gr__setup_mounts(struct gr__plan *plan, gr_error_t *err);
int gr__pivot_root(struct gr__plan *plan, gr_error_t *err);
/* After pivot: masked/readonly paths, readonly root, rootfs propagation. */
int gr__finish_rootfs(struct gr__plan *plan, gr_error_t *err);
/* Resolve `path` inside `root`, following symlinks without leaving root. */
int gr__secure_join(const char *root, const char *path, char *out, size_t len);

/* host_mounts.c: mounts made in the runtime's mount namespace (parent side, allocates) */
struct gr__mnt {
	int id;                      /* mount id (mountinfo field 1) */
	char *path;                  /* mount point */
};
struct gr__mnts {
	struct gr__mnt *v;
	size_t n;
};
/* The mounts whose mount point is root or below it, from /proc/self/mountinfo. */
int gr__mounts_under(const char *root, struct gr__mnts *out, gr_error_t *err);
/* The mounts of after whose id is not in before. */
void gr__mnts_diff(const struct gr__mnts *before, const struct gr__mnts *after, struct gr__mnts *out);
int gr__mnts_save(const char *file, const struct gr__mnts *m, gr_error_t *err);
/* A missing file is an empty list. */
int gr__mnts_load(const char *file, struct gr__mnts *m, gr_error_t *err);
/* Unmount (MNT_DETACH) deepest and newest first, each only while it is still the mount at
 * its path; fails if one of them is still mounted afterwards. */
int gr__mnts_unmount(const struct gr__mnts *m, gr_error_t *err);
void gr__mnts_free(struct gr__mnts *m);

/* caps.c: process attributes, child side (no allocation). */
/* dup2 pp->stdio[i] onto i where set; -1 with errno on failure. */
int gr__apply_stdio(const struct gr__process_plan *pp);
int gr__apply_rlimits(const struct gr_oci_process *p, gr_error_t *err);
int gr__apply_user_caps(const struct gr_oci_process *p, gr_error_t *err);
/* Parent: refuse capabilities above the running kernel's last (capset would drop them). */
int gr__check_caps_known(const struct gr_oci_process *p, gr_error_t *err);
/* Child: apply rlimits, the early seccomp filter, user and capabilities in a vfork()ed
 * copy and report what the kernel refuses; the caller's credentials are untouched. */
int gr__check_creds(const struct gr__process_plan *pp, gr_error_t *err);
int gr__find_exe(char *const *env, const char *arg0, char *out, size_t len);
__attribute__((noreturn)) void gr__exec_process(struct gr__process_plan *pp, int errfd);

/* terminal.c */
/* Child side: open a pty in the current /dev/pts, send the master over sockfd, make
 * the slave the controlling terminal and stdio. */
int gr__setup_terminal(int sockfd, const struct gr_oci_process *p, gr_error_t *err);
int gr__console_connect(const char *path, gr_error_t *err);

/* hooks.c */
/* poststart/poststop: every hook runs; a failure is a warning in the log (util/log.h) */
void gr__run_hooks_warn(const struct gr_oci_hook *h, size_t n, const char *state_json, const char *kind,
			const char *id);
int gr__run_hooks(const struct gr_oci_hook *h, size_t n, const char *state_json,
		  const char *kind, gr_error_t *err);
const char *gr__hook_kind_name(enum gr_hook_kind k);

/* state.c: the container's folder <root>/<id>/ */
struct gr__meta {                /* what state.json keeps beyond the spec's fields */
	char cgroup[512];
	unsigned long long starttime;  /* /proc/<pid>/stat field 22, to detect pid reuse */
	bool userns;
	/* The hierarchies create made the cgroup in, by name ("memory", "unified"), each with
	 * struct gr_cgroup.own_parents there; a state from before per-hierarchy counts has
	 * one entry "*" (levels for every hierarchy) and n_cg_parents == 0 none */
	size_t n_cg_parents;
	struct { char name[64]; int levels; } cg_parents[GR_CG_MAX_HIER];
	unsigned cg_want;              /* struct gr_cgroup.want at create */
	unsigned ignore_unsupported;   /* the config's GR_OPT_* opt-outs (for updates) */
	unsigned hooks;                /* bit (1<<gr_hook_kind) when the config has such hooks */
};
const char *gr__root(const struct gr_rt_opts *o);
int gr__check_id(const char *id, gr_error_t *err);
char *gr__dir(const struct gr_rt_opts *o, const char *id);
int gr__state_write(const struct gr_rt_opts *o, const struct gr_rt_state *st,
		    const struct gr__meta *meta, gr_error_t *err);
/* Read state.json and compute the live status. */
int gr__state_read(const struct gr_rt_opts *o, const char *id, struct gr_rt_state *st,
		   struct gr__meta *meta, gr_error_t *err);
unsigned long long gr__proc_starttime(pid_t pid, char *state_char);
ssize_t gr__read_full(int fd, void *buf, size_t len);

#endif
