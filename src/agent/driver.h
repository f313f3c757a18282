/*
 * driver.h - the instance driver table: what the control layer asks of a
 * per-host back-end (containers on our runtime, QEMU VMs).
 *
 * A driver is a `struct gr_driver_ops` chosen once per instance by its
 * backend (gr_driver_of).  The control layer owns the instance record (store)
 * and the state machine and never names a back-end; a driver only does the
 * host work (including the instance's disk or root file system, made from
 * the image module's layers) and never touches the store or the API.  Every op returns < 0 and fills err on failure and
 * must leave no half-made host state behind (rollback inside the op).  Ops
 * are called from API worker threads, never concurrently for one instance
 * (control holds the instance's lock), but concurrently for different ones.
 *
 * Life of an instance, as seen by a driver:
 *   define   make the user layer (thin clone of the master + per-instance config)
 *   start    make the run layer if missing, boot; returns the main pid, marked
 *            owned (gr_proc_own) so a stray-child reaper leaves it to the
 *            caller, who disowns it once it watches the pid
 *   stop     graceful stop (SIGTERM then SIGKILL after timeout), remove the
 *            runtime object; an ephemeral instance also loses its run layer
 *   kill     send a signal, nothing else
 *   cleanup  after a crash or an exit seen by the daemon: remove whatever of
 *            the runtime object is left (stopped container, mounts, cgroup)
 *            so that start can run again; ephemeral drops the run layer
 *   delete   remove everything (must be stopped/cleaned first; force kills)
 *   state    what is really on the host: absent/created/running/stopped, pid
 *   reattach after a daemon restart, for an instance recorded starting or
 *            running: find it by every handle the back-end keeps and give
 *            the pid to watch (0 when nothing of it runs)
 *   snapshot_create/restore/delete  the back-end's own kind of snapshot
 * gr_agent_sweep() (sweep.c) removes what belongs to no instance: each
 * driver's `sweep` first (runtime objects, processes), then instance folders,
 * layers and cgroups without a record.
 * Optional ops may be NULL (the API then answers 501/EOPNOTSUPP).
 */
#ifndef GR_AGENT_DRIVER_H
#define GR_AGENT_DRIVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "net/net.h"
#include "util/error.h"

/* The back-ends an instance can run on (JSON "type": "container", "vm"). */
enum gr_backend { GR_BACKEND_CONTAINER, GR_BACKEND_VM, GR_BACKEND__COUNT };

/* Per-host settings every driver gets (owned by the daemon, read-only). */
struct gr_agent {
	const char *state_dir;      /* e.g. /var/lib/gureum: instances/<name>/ live here */
	const char *run_dir;        /* e.g. /run/gureum: runtime roots, sockets */
	const char *rt_root;        /* container runtime state root (<run_dir>/oci) */
	const char *image_root;     /* image module root (<state_dir>/images) */
	const char *cgroup_prefix;  /* cgroup parent for instances, e.g. "gureum" */
	void *image;                /* the image module handle (struct gr_image *), may be NULL */
	/* unprivileged containers: host ID ranges from idmap_base, idmap_size IDs
	 * each, recorded in <state_dir>/idranges (0 = the defaults of idrange.h) */
	uint32_t idmap_base, idmap_size;
};

/* What a driver needs to know about one instance: a read-only view of the
 * instance's configuration (owned by the caller, valid during the call). */
struct gr_inst_spec {
	const char *name;           /* validated: [a-z0-9][a-z0-9-]{0,62} */
	enum gr_backend backend;
	const char *image;          /* master image name */
	const char *dir;            /* <state_dir>/instances/<name>: driver's private folder */
	double cpu;                 /* CPUs (0 = no limit) */
	uint64_t memory;            /* bytes (0 = no limit) */
	int64_t pids;               /* max processes (0 = no limit) */
	char **env;                 /* "K=V", NULL-terminated, may be NULL */
	char **cmd;                 /* command override, NULL = image default (/bin/sh) */
	bool ephemeral;             /* drop the run layer on stop */
	const json_t *options;      /* driver options (an object, checked by check_options), may be NULL */
	bool privileged;            /* containers: no user namespace (container root = host root) */
	const struct gr_net_nic *nics; /* network interfaces (net/net.h), n_nics of them */
	unsigned n_nics;
};

enum gr_drv_status { GR_DRV_ABSENT, GR_DRV_CREATED, GR_DRV_RUNNING, GR_DRV_STOPPED };

struct gr_drv_state {
	enum gr_drv_status status;
	pid_t pid;                  /* main process when running, else 0 */
};

struct gr_drv_stats {
	uint64_t cpu_ns;            /* cumulative CPU time */
	uint64_t memory_bytes;      /* current memory use */
	uint64_t memory_limit;      /* 0 = none */
	uint64_t pids;              /* current number of tasks */
};

/* exec: run cmd inside the instance.  Each of stdin/out/err is an fd owned by
 * the caller (-1 = /dev/null).  tty: the process gets a new terminal whose
 * master side is sent (SCM_RIGHTS) to the unix socket console_socket, where
 * the caller listens; fd_in/out/err are then unused.  Waits for the process. */
struct gr_exec_req {
	char **cmd;                 /* NULL-terminated, at least one */
	char **env;                 /* "K=V" added to the defaults, may be NULL */
	const char *cwd;            /* NULL = "/" */
	bool tty;
	int fd_in, fd_out, fd_err;
	const char *console_socket; /* tty only */
	unsigned cols, rows;        /* tty size, 0 = default */
};

/* sweep's question: does an instance of this name have a record? */
typedef bool (*gr_known_fn)(const char *name, void *ud);

struct gr_image_recipe;

/* A live move's transfer (move_send). */
struct gr_move_progress {
	const char *phase;          /* "disk", "ram" */
	uint64_t transferred, remaining, total, dirty_rate;
	int64_t expected_downtime_ms;
};
struct gr_move_req {
	const char *host;           /* destination's address (IPv4) */
	int nbd_port, mig_port;
	uint64_t bandwidth;         /* bytes/s, 0 = no limit */
	unsigned downtime_ms;       /* maximum downtime, 0 = default */
	void (*progress)(const struct gr_move_progress *p, void *ud); /* may be NULL */
	void *ud;
	int64_t downtime_out_ms;    /* set by move_send: the measured downtime */
};

struct gr_driver_ops {
	const char *name;           /* the backend's JSON name: "container", "vm" */
	/* Image recipes this back-end brings (ended by a NULL name), or NULL: the
	 * daemon registers them with the image module at start. */
	const struct gr_image_recipe *recipes;
	enum gr_backend backend;
	/* What the back-end gives an instance that asks for no limit (0 = none):
	 * recorded at creation, so `show` tells what the instance really has. */
	double default_cpu;
	uint64_t default_memory;
	/* Validate the options object (NULL or empty = none) before anything is
	 * stored: EINVAL naming "options.<key>". */
	int (*check_options)(const json_t *options, gr_error_t *err);
	int (*define)(const struct gr_agent *a, const struct gr_inst_spec *s, gr_error_t *err);
	int (*start)(const struct gr_agent *a, const struct gr_inst_spec *s, pid_t *pid, gr_error_t *err);
	int (*stop)(const struct gr_agent *a, const struct gr_inst_spec *s, int timeout_s, bool force,
		    gr_error_t *err);
	int (*kill)(const struct gr_agent *a, const struct gr_inst_spec *s, int sig, gr_error_t *err);
	int (*cleanup)(const struct gr_agent *a, const struct gr_inst_spec *s, gr_error_t *err);
	int (*delete)(const struct gr_agent *a, const struct gr_inst_spec *s, bool force, gr_error_t *err);
	int (*state)(const struct gr_agent *a, const struct gr_inst_spec *s, struct gr_drv_state *out,
		     gr_error_t *err);
	int (*reattach)(const struct gr_agent *a, const struct gr_inst_spec *s, pid_t *pid,
			gr_error_t *err);
	/* Remove this back-end's host objects (runtime state, processes) whose
	 * instance has no record.  Best effort: logs what it removes. */
	int (*sweep)(const struct gr_agent *a, gr_known_fn known, void *ud, gr_error_t *err);
	/* optional */
	int (*exec)(const struct gr_agent *a, const struct gr_inst_spec *s, const struct gr_exec_req *req,
		    int *exit_status, gr_error_t *err);
	/* console: a path the daemon reads the instance's console output from
	 * (malloc'd); input, when supported, is written to *in_path.  in_path is
	 * NULL when the caller only follows the output (no input taken). */
	int (*console)(const struct gr_agent *a, const struct gr_inst_spec *s, char **out_path,
		       char **in_path, gr_error_t *err);
	/* live resource change; only the fields that differ from old are applied */
	int (*update)(const struct gr_agent *a, const struct gr_inst_spec *old,
		      const struct gr_inst_spec *s, gr_error_t *err);
	int (*stats)(const struct gr_agent *a, const struct gr_inst_spec *s, struct gr_drv_stats *out,
		     gr_error_t *err);
	int (*snapshot_create)(const struct gr_agent *a, const struct gr_inst_spec *s, const char *snap,
			       gr_error_t *err);
	int (*snapshot_restore)(const struct gr_agent *a, const struct gr_inst_spec *s, const char *snap,
				gr_error_t *err);
	int (*snapshot_delete)(const struct gr_agent *a, const struct gr_inst_spec *s, const char *snap,
			       gr_error_t *err);
	/* live move to another host (optional; docs/MIGRATION.md).  Destination:
	 * move_listen starts the defined instance as a paused migration target whose
	 * disk is exported on ip:nbd_port and RAM received on ip:mig_port (*pid its
	 * process); move_resume runs it after the switch-over.  Source: move_send
	 * copies disk and memory there and leaves the instance paused; move_abort
	 * cancels that and runs the instance on here. */
	int (*move_listen)(const struct gr_agent *a, const struct gr_inst_spec *s, const char *ip, int nbd_port,
			   int mig_port, pid_t *pid, gr_error_t *err);
	int (*move_resume)(const struct gr_agent *a, const struct gr_inst_spec *s, gr_error_t *err);
	int (*move_send)(const struct gr_agent *a, const struct gr_inst_spec *s, const struct gr_move_req *m,
			 gr_error_t *err);
	int (*move_abort)(const struct gr_agent *a, const struct gr_inst_spec *s, gr_error_t *err);
};

extern const struct gr_driver_ops gr_driver_container;
/* QEMU VMs: src/agent/driver_vm.c over src/vm (written by the VM work). */
extern const struct gr_driver_ops gr_driver_vm;

/* The driver of a backend; never NULL for a valid backend. */
const struct gr_driver_ops *gr_driver_of(enum gr_backend b);
/* The driver for a type name ("container", "vm"); NULL when unknown/not built. */
const struct gr_driver_ops *gr_driver_lookup(const char *type);
/* Every driver, NULL-terminated. */
extern const struct gr_driver_ops *const gr_drivers[];

/* sweep.c: every driver's sweep, then instance folders (<state_dir>/instances/<name>),
 * image layers and instance cgroups (<cgroup_prefix>/<name> in every hierarchy) whose
 * name has no record.  Returns how many objects were removed. */
int gr_agent_sweep(const struct gr_agent *a, gr_known_fn known, void *ud);
/* Kill every process in the cgroup <cgroup_prefix>/<name> of every hierarchy
 * (v1 and v2) and remove it, nested groups first.  Absent is success; EBUSY
 * when a group could not be emptied. */
int gr_agent_cgroup_remove(const struct gr_agent *a, const char *name, gr_error_t *err);

/* Log file of an instance's main process output: <dir>/console.log (malloc'd). */
char *gr_inst_log_path(const struct gr_inst_spec *s);

/* logcap.c: console.log bounds.  Over GR_INST_LOG_MAX at start, the log is
 * renamed to <path>.1; while running, gr_inst_log_cap cuts the oldest part in
 * place (FALLOC_FL_COLLAPSE_RANGE; safe with O_APPEND writers) down to about
 * max/2.  Both return 1 when they acted, 0 when not needed (or not supported
 * by the file system, for the cap), -1 on error. */
#define GR_INST_LOG_MAX ((off_t)8 << 20)
int gr_inst_log_rotate(const char *path, off_t max, gr_error_t *err);
int gr_inst_log_cap(const char *path, off_t max, gr_error_t *err);

#endif
