/*
 * config.h - an OCI runtime-spec 1.x config.json, parsed into C.
 *
 * gr_oci_config_parse() validates everything Linux uses and reports the first
 * problem with its JSON path ("process.args[2]: expected a string").  The
 * parsed config owns all its memory; free it with gr_oci_config_free().  No
 * field here is touched by the parser after it returns, so a config may be
 * read from any thread.  Optional scalars have a has_* flag.
 */
#ifndef GR_RUNTIME_CONFIG_H
#define GR_RUNTIME_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "util/error.h"

enum gr_cap_set { GR_CAP_BOUNDING, GR_CAP_EFFECTIVE, GR_CAP_INHERITABLE, GR_CAP_PERMITTED,
		  GR_CAP_AMBIENT, GR_CAP_NSETS };

struct gr_oci_rlimit {
	int resource;            /* RLIMIT_* */
	uint64_t soft, hard;
};

struct gr_oci_user {
	uid_t uid;
	gid_t gid;
	gid_t *additional_gids;
	size_t n_additional_gids;
	bool has_umask;
	mode_t umask;
};

struct gr_oci_process {
	bool terminal;
	unsigned console_height, console_width;
	struct gr_oci_user user;
	char **args;             /* NULL-terminated, at least one */
	char **env;              /* NULL-terminated, "K=V" */
	char *cwd;               /* absolute */
	bool has_caps;           /* capabilities object present */
	uint64_t caps[GR_CAP_NSETS]; /* bit n = capability number n */
	struct gr_oci_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
	char *apparmor_profile;  /* applied where AppArmor is enabled, else refused (lsm.c) */
	char *selinux_label;     /* applied where SELinux is enabled, else refused (lsm.c) */
};

struct gr_oci_mount {
	char *destination;       /* absolute path inside the container */
	char *source;            /* may be NULL */
	char *type;              /* may be NULL (bind mounts) */
	char **options;          /* the raw option strings, NULL-terminated */
	unsigned long flags;     /* MS_* set by the options (MS_BIND|MS_REC for rbind;
				    MS_BIND also when type is "bind"); later options win */
	unsigned long clear_flags; /* MS_* explicitly cleared ("rw", "suid", ...) */
	unsigned long propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (|MS_REC) or 0 */
	char *data;              /* the options that are not flags, comma-joined, or NULL */
};

enum gr_ns_type { GR_NS_PID, GR_NS_NET, GR_NS_MNT, GR_NS_IPC, GR_NS_UTS, GR_NS_USER,
		  GR_NS_CGROUP, GR_NS_TIME, GR_NS_COUNT };

struct gr_oci_namespace {
	enum gr_ns_type type;
	char *path;              /* join this namespace; NULL = create a new one */
};

struct gr_oci_idmap {
	uint32_t container_id, host_id, size;
};

struct gr_oci_device {      /* linux.devices: nodes to create in /dev */
	char type;               /* 'c', 'b', 'u' or 'p' */
	char *path;
	int64_t major, minor;
	bool has_file_mode, has_uid, has_gid;
	mode_t file_mode;
	uid_t uid;
	gid_t gid;
};

struct gr_oci_device_rule { /* linux.resources.devices */
	bool allow;
	char type;               /* 'a', 'c' or 'b' */
	int64_t major, minor;    /* -1 = any */
	char access[4];          /* subset of "rwm" */
};

struct gr_oci_throttle {
	int64_t major, minor;
	uint64_t rate;
};

struct gr_oci_weight_device {
	int64_t major, minor;
	bool has_weight, has_leaf_weight;
	uint16_t weight, leaf_weight;
};

struct gr_oci_hugepage_limit {
	char *page_size;         /* "2MB", "1GB" */
	uint64_t limit;
};

struct gr_oci_kv {
	char *key, *value;
};

struct gr_oci_net_priority { /* linux.resources.network.priorities */
	char *name;              /* interface name */
	uint32_t priority;
};

/* Fields a host may be unable to apply.  The runtime refuses a config that sets
 * one the host cannot apply, with an error naming the field, unless the
 * annotation GR_OCI_IGNORE_UNSUPPORTED lists the field: then it runs without it
 * and logs a warning.  The annotation's value is a comma- or space-separated list
 * of the names below ("linux.resources.network" stands for both of its fields). */
#define GR_OCI_IGNORE_UNSUPPORTED "org.gureum.ignore-unsupported"
enum gr_oci_optional {
	GR_OPT_MEM_KERNEL = 1u << 0,     /* linux.resources.memory.kernel */
	GR_OPT_MEM_KERNEL_TCP = 1u << 1, /* linux.resources.memory.kernelTCP */
	GR_OPT_NET_CLASSID = 1u << 2,    /* linux.resources.network.classID */
	GR_OPT_NET_PRIORITIES = 1u << 3, /* linux.resources.network.priorities */
	GR_OPT_APPARMOR = 1u << 4,       /* process.apparmorProfile */
	GR_OPT_SELINUX = 1u << 5,        /* process.selinuxLabel */
	GR_OPT_MOUNT_LABEL = 1u << 6,    /* linux.mountLabel */
	GR_OPT_ALL = (1u << 7) - 1,
};
/* The field name of one GR_OPT_* bit ("linux.resources.memory.kernel"); "?" if unknown. */
const char *gr_oci_optional_name(unsigned bit);

struct gr_oci_resources {
	/* memory */
	bool has_mem_limit, has_mem_reservation, has_mem_swap, has_mem_kernel, has_mem_kernel_tcp,
		has_mem_swappiness;
	int64_t mem_limit, mem_reservation, mem_swap, mem_kernel, mem_kernel_tcp;
	uint64_t mem_swappiness;
	bool disable_oom_killer;
	/* cpu */
	bool has_cpu_shares, has_cpu_quota, has_cpu_period;
	uint64_t cpu_shares, cpu_period;
	int64_t cpu_quota;
	char *cpu_cpus, *cpu_mems;   /* cpuset lists, or NULL */
	/* pids */
	bool has_pids_limit;
	int64_t pids_limit;
	/* block I/O */
	bool has_blkio_weight, has_blkio_leaf_weight;
	uint16_t blkio_weight, blkio_leaf_weight;
	struct gr_oci_weight_device *blkio_weight_devices;
	size_t n_blkio_weight_devices;
	struct gr_oci_throttle *throttle_read_bps, *throttle_write_bps, *throttle_read_iops,
		*throttle_write_iops;
	size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops, n_throttle_write_iops;
	/* hugetlb */
	struct gr_oci_hugepage_limit *hugepage_limits;
	size_t n_hugepage_limits;
	/* device cgroup rules */
	struct gr_oci_device_rule *devices;
	size_t n_devices;
	/* cgroup v2 "unified" key/values */
	struct gr_oci_kv *unified;
	size_t n_unified;
	/* network (v1 net_cls / net_prio) */
	bool has_net_class_id;
	uint32_t net_class_id;
	struct gr_oci_net_priority *net_priorities;
	size_t n_net_priorities;
	/* GR_OPT_* fields the host may leave unapplied (the config's annotation) */
	unsigned ignore_unsupported;
};

enum gr_seccomp_op { GR_SCMP_NE = 1, GR_SCMP_LT, GR_SCMP_LE, GR_SCMP_EQ, GR_SCMP_GE, GR_SCMP_GT,
		     GR_SCMP_MASKED_EQ };

enum gr_seccomp_action { GR_SCMP_KILL, GR_SCMP_KILL_PROCESS, GR_SCMP_KILL_THREAD, GR_SCMP_TRAP,
			 GR_SCMP_ERRNO, GR_SCMP_TRACE, GR_SCMP_ALLOW, GR_SCMP_LOG, GR_SCMP_NOTIFY };

struct gr_oci_seccomp_arg {
	unsigned index;
	uint64_t value, value_two;
	enum gr_seccomp_op op;
};

struct gr_oci_seccomp_rule {
	char **names;            /* NULL-terminated syscall names */
	enum gr_seccomp_action action;
	bool has_errno_ret;
	unsigned errno_ret;
	struct gr_oci_seccomp_arg *args;
	size_t n_args;
};

struct gr_oci_seccomp {
	enum gr_seccomp_action default_action;
	bool has_default_errno;
	unsigned default_errno;
	char **architectures;    /* "SCMP_ARCH_X86_64", ...; NULL-terminated, may be empty */
	char **flags;            /* "SECCOMP_FILTER_FLAG_*", NULL-terminated, may be empty */
	struct gr_oci_seccomp_rule *syscalls;
	size_t n_syscalls;
	char *listener_path;     /* absolute unix socket for SCMP_ACT_NOTIFY, or NULL */
	char *listener_metadata; /* opaque string passed to the listener, or NULL */
};

struct gr_oci_hook {
	char *path;
	char **args;             /* NULL-terminated or NULL */
	char **env;              /* NULL-terminated or NULL */
	int timeout;             /* seconds, 0 = none */
};

enum gr_hook_kind { GR_HOOK_PRESTART, GR_HOOK_CREATE_RUNTIME, GR_HOOK_CREATE_CONTAINER,
		    GR_HOOK_START_CONTAINER, GR_HOOK_POSTSTART, GR_HOOK_POSTSTOP, GR_HOOK_NKINDS };

struct gr_oci_config {
	char *oci_version;
	struct gr_oci_process *process;  /* NULL when absent (allowed for create-only bundles) */
	char *root_path;                 /* as written; relative to the bundle when not absolute */
	bool root_readonly;
	char *hostname, *domainname;
	struct gr_oci_mount *mounts;
	size_t n_mounts;
	struct gr_oci_hook *hooks[GR_HOOK_NKINDS];
	size_t n_hooks[GR_HOOK_NKINDS];
	struct gr_oci_kv *annotations;
	size_t n_annotations;

	/* linux */
	struct gr_oci_namespace *namespaces;  /* each type at most once */
	size_t n_namespaces;
	/* only with a user namespace; a new user namespace may come without
	 * mappings (crun's rootless spec): the engine then picks them */
	struct gr_oci_idmap *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	struct gr_oci_device *devices;
	size_t n_devices;
	char *cgroups_path;              /* NULL = runtime's choice */
	bool has_resources;
	struct gr_oci_resources resources;
	unsigned long rootfs_propagation; /* MS_* or 0 */
	struct gr_oci_seccomp *seccomp;  /* NULL = no filter */
	struct gr_oci_kv *sysctl;
	size_t n_sysctl;
	char **masked_paths;             /* NULL-terminated or NULL */
	char **readonly_paths;           /* NULL-terminated or NULL */
	char *mount_label;               /* applied where SELinux is enabled, else refused */
	unsigned ignore_unsupported;     /* GR_OPT_* bits from GR_OCI_IGNORE_UNSUPPORTED */
};

/* Parse config.json text.  On error returns < 0 with err->msg starting with the
 * JSON path of the offending value; *out is untouched. */
int gr_oci_config_parse(const char *json, size_t len, struct gr_oci_config **out, gr_error_t *err);
/* Read and parse bundle/config.json. */
int gr_oci_config_load(const char *bundle, struct gr_oci_config **out, gr_error_t *err);
void gr_oci_config_free(struct gr_oci_config *cfg);
/* Parse just a process object (for `exec --process file.json`). */
int gr_oci_process_parse(const char *json, size_t len, struct gr_oci_process **out, gr_error_t *err);
void gr_oci_process_free(struct gr_oci_process *p);
/* Look up a namespace entry by type; NULL when the config does not list it. */
const struct gr_oci_namespace *gr_oci_config_ns(const struct gr_oci_config *cfg, enum gr_ns_type t);

/* "SCMP_ACT_ERRNO", ... for an action (NULL if out of range). */
const char *gr_seccomp_action_name(enum gr_seccomp_action a);

/* The hardened default config.json that `gureum-oci spec` writes (malloc'd,
 * owned by the caller).  rootless != 0 adds a user namespace mapping the caller. */
char *gr_oci_spec_default(int rootless);

/* Capability and namespace names, shared with the parser. */
#define GR_CAP_LAST 40                           /* CAP_CHECKPOINT_RESTORE */
int gr_cap_from_name(const char *name);          /* "CAP_SYS_ADMIN" -> 21, -1 if unknown;
						    case-insensitive, the CAP_ prefix is required */
const char *gr_cap_name(int cap);                /* NULL when cap is not 0..GR_CAP_LAST */
const char *gr_ns_name(enum gr_ns_type t);       /* "pid", "network", ... (OCI names) */
int gr_ns_from_name(const char *name);           /* OCI name -> enum gr_ns_type, -1 if unknown */
const char *gr_ns_proc_name(enum gr_ns_type t);  /* "pid", "net", "mnt", ... (/proc/<pid>/ns/) */
int gr_ns_clone_flag(enum gr_ns_type t);         /* CLONE_NEWPID, CLONE_NEWNET, ... */

#endif
