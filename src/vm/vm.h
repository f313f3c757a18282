/*
 * vm.h - the QEMU back-end: host probe, QEMU argv builder, QMP client, NoCloud seed,
 * cgroups for QEMU, VM lifecycle and snapshots.  docs/VM.md tells the whole story.
 *
 * Conventions: every function that can fail returns < 0 and fills err (docs/ERRORS.md).
 * Pure parts (argv, seed text, the QMP sans-IO core) do no I/O and may be called from any
 * thread.  Lifecycle calls (gr_vm_define/start/stop/...) do host work; calls for the same
 * instance must be serialized by the caller, different instances may run in parallel.
 * Strings passed in are borrowed for the call; strings returned are malloc'd (caller frees).
 */
#ifndef GR_VM_VM_H
#define GR_VM_VM_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>
#include "util/error.h"

/* ---- host (host.c) ----------------------------------------------------------------- */

struct gr_vm_host {
	int kvm;                  /* /dev/kvm opens, KVM_CREATE_VM works, CPU has vmx/svm */
	int seccomp;              /* this QEMU accepts -sandbox on */
	unsigned long tsc_khz;    /* host TSC in kHz (for tsc_early_khz under TCG), 0 unknown */
	char qemu[256];           /* QEMU binary (GR_QEMU env overrides) */
};
/* Probe once (results cached per process; thread-safe). */
int gr_vm_host_probe(struct gr_vm_host *h, gr_error_t *err);

/* ---- QEMU command line (argv.c) ---------------------------------------------------- */

struct gr_vm_config {
	const char *name;          /* instance name (QEMU -name guest=) */
	const char *machine;       /* "microvm" (default) or "q35" */
	const char *accel;         /* "auto" (default: kvm when usable, else tcg), "kvm", "tcg" */
	unsigned cpus;             /* 0 = 1 */
	uint64_t memory_mb;        /* 0 = 256 */
	const char *kernel;        /* vmlinux (microvm) or bzImage */
	const char *initrd;        /* may be NULL */
	const char *cmdline;       /* kernel command line (TCG/microvm additions are appended) */
	const char *disk;          /* qcow2 root disk (virtio-blk, node "root") */
	const char *seed;          /* NoCloud seed image (raw, read-only), may be NULL */
	const char *tap;           /* host tap device for virtio-net, may be NULL */
	const char *mac;           /* guest MAC, NULL = derived from the name */
	const char *qmp_sock;      /* unix socket paths (< 108 bytes) */
	const char *serial_sock;
	const char *console_log;   /* all serial output is also appended here, may be NULL */
	const char *pidfile;       /* may be NULL */
	const char *runas;         /* unprivileged user for -runas, may be NULL */
	int sandbox;               /* -1 auto (on when QEMU supports it), 0 off, 1 on */
	int daemonize;             /* add -daemonize */
	const char *incoming;      /* migration URI for -incoming, may be NULL */
	unsigned max_cpus;         /* > cpus: QEMU gets max_cpus vCPUs, the guest kernel boots
				    * with `cpus` online (maxcpus=), the agent onlines more */
	uint64_t max_memory_mb;    /* > memory_mb: QEMU gets max RAM, a balloon holds it to memory_mb */
	const char *agent_sock;    /* virtio-serial port org.gureum.agent.0 on this unix socket, may be NULL */
	int balloon;               /* add a virtio-balloon device */
};
/* Build the argv (NULL-terminated strv, free with gr_strv_free).  EINVAL names the bad
 * field (machine, accel, missing kernel/disk, socket path too long, ...). */
int gr_vm_argv_build(const struct gr_vm_config *c, const struct gr_vm_host *h, char ***argv, gr_error_t *err);
/* The accelerator argv uses: "kvm" or "tcg". */
const char *gr_vm_accel_pick(const struct gr_vm_config *c, const struct gr_vm_host *h);

/* ---- QMP (qmp.c: sans-IO core; qmp_conn.c: blocking wrapper) --------------------- */

struct gr_qmp;
/* A reply: ret is the "return" value (borrowed, valid during the call) or NULL with qerr
 * set (QMP error, protocol error, disconnect or timeout). */
typedef void (*gr_qmp_reply_fn)(struct gr_qmp *q, json_t *ret, const gr_error_t *qerr, void *ud);
typedef void (*gr_qmp_event_fn)(struct gr_qmp *q, const char *event, json_t *data, void *ud);

/* A parser + command queue with no I/O.  on_event may be NULL. */
struct gr_qmp *gr_qmp_new(gr_qmp_event_fn on_event, void *ud);
/* Frees; pending commands get an ECANCELED error callback first. */
void gr_qmp_free(struct gr_qmp *q);
/* Feed bytes read from the socket.  Complete messages are dispatched (greeting, replies,
 * events) before it returns.  A malformed message fails the session: -1 with EPROTO, and
 * every pending command's callback gets the same error; later calls keep failing. */
int gr_qmp_feed(struct gr_qmp *q, const void *buf, size_t len, gr_error_t *err);
/* Queue a command (args stolen, may be NULL).  Before the greeting, commands wait behind
 * the automatic qmp_capabilities.  *id (may be NULL) receives the command's id. */
int gr_qmp_send(struct gr_qmp *q, const char *cmd, json_t *args, gr_qmp_reply_fn cb, void *ud, uint64_t *id,
		gr_error_t *err);
/* Bytes waiting to be written to the socket, and how many of them were written. */
const char *gr_qmp_output(struct gr_qmp *q, size_t *len);
void gr_qmp_output_consume(struct gr_qmp *q, size_t n);
/* 1 once the greeting arrived and qmp_capabilities succeeded. */
int gr_qmp_ready(const struct gr_qmp *q);
/* Commands sent and not answered yet. */
size_t gr_qmp_pending(const struct gr_qmp *q);
/* The connection is gone or timed out: every pending callback gets err's error. */
void gr_qmp_fail(struct gr_qmp *q, const gr_error_t *err);
/* QEMU version from the greeting ("7.2.22"), NULL before it. */
const char *gr_qmp_version(const struct gr_qmp *q);

/* Blocking wrapper over a unix socket, for the CLI, tests and short driver ops. */
struct gr_qmp_conn;
int gr_qmp_connect(const char *sock_path, int timeout_ms, struct gr_qmp_conn **out, gr_error_t *err);
void gr_qmp_close(struct gr_qmp_conn *c);
/* Run cmd (args stolen) and wait for its reply; *ret (may be NULL) gets a new reference. */
int gr_qmp_exec(struct gr_qmp_conn *c, const char *cmd, json_t *args, int timeout_ms, json_t **ret,
		gr_error_t *err);
/* human-monitor-command; an HMP command that prints an error fails with its text. */
int gr_qmp_hmp(struct gr_qmp_conn *c, const char *cmdline, int timeout_ms, char **out, gr_error_t *err);
/* Wait for an event by name (events seen since connect are kept, oldest first). */
int gr_qmp_wait_event(struct gr_qmp_conn *c, const char *event, int timeout_ms, json_t **data, gr_error_t *err);

/* Typed commands (qmp_cmds.c); replies of the wrong shape are EPROTO naming the field. */
int gr_qmp_query_status(struct gr_qmp_conn *c, char *status, size_t len, int *running, gr_error_t *err);
int gr_qmp_stop(struct gr_qmp_conn *c, gr_error_t *err);
int gr_qmp_cont(struct gr_qmp_conn *c, gr_error_t *err);
int gr_qmp_system_reset(struct gr_qmp_conn *c, gr_error_t *err);
/* quit; the connection closing on us counts as success. */
int gr_qmp_quit(struct gr_qmp_conn *c, gr_error_t *err);
/* system_powerdown, wait for SHUTDOWN up to timeout_ms, else quit.  *graceful (may be
 * NULL) = 1 when the guest shut itself down. */
int gr_qmp_powerdown(struct gr_qmp_conn *c, int timeout_ms, int *graceful, gr_error_t *err);
/* query-cpus-fast: vCPU count and (up to max_ids) their host thread ids. */
int gr_qmp_query_cpus(struct gr_qmp_conn *c, int *count, pid_t *thread_ids, size_t max_ids, gr_error_t *err);
/* query-memory-size-summary: base (and hot-plugged) guest RAM in bytes. */
int gr_qmp_query_memory(struct gr_qmp_conn *c, uint64_t *base, uint64_t *plugged, gr_error_t *err);

/* ---- NoCloud seed (cloudinit.c) ---------------------------------------------------- */

struct gr_vm_seed {
	const char *instance_id;   /* required: [A-Za-z0-9._-]+ */
	const char *hostname;      /* required: RFC 1123 label(s) */
	const char *user;          /* extra user for user-data, NULL = none */
	char **ssh_keys;           /* NULL-terminated, may be NULL; one line each */
	const char *address;       /* static IPv4 CIDR for the first NIC, NULL = dhcp */
	const char *gateway;       /* may be NULL */
	const char *mac;           /* match the NIC by MAC in network-config, may be NULL */
	bool dhcp;                 /* with address: also "dhcp4: true" (the guest asks DHCP, which
				    * hands out the same address: a gureum network's reservation) */
};
/* The three NoCloud documents (malloc'd), after validating every field. */
int gr_vm_seed_render(const struct gr_vm_seed *s, char **meta_data, char **user_data, char **network_config,
		      gr_error_t *err);
/* Write a vfat image labelled CIDATA holding them (mkfs.vfat + mcopy, no mount). */
int gr_vm_seed_write(const struct gr_vm_seed *s, const char *path, gr_error_t *err);

/* ---- cgroup for the QEMU process (cgroup.c) ---------------------------------------- */

/* Create <parent>/<name> in the cpu(acct) and memory controllers (v1 hybrid or v2) with
 * a CPU quota (cpus, 0 = none), the CPU weight of `threads` tasks (cpu.shares 1024 each,
 * cpu.weight 100 each) and a memory limit (bytes, 0 = none). */
int gr_vm_cgroup_create(const char *parent, const char *name, double cpus, unsigned threads, uint64_t mem_bytes,
			gr_error_t *err);
/* Change the memory limit of an existing group (bytes, 0 = none). */
int gr_vm_cgroup_set_memory(const char *parent, const char *name, uint64_t bytes, gr_error_t *err);
/* Change the CPU quota of an existing group (0 = none). */
int gr_vm_cgroup_set_cpu(const char *parent, const char *name, double cpus, gr_error_t *err);
/* cgroup.procs files to write "0" into (in a child before exec); NULL-terminated strv. */
char **gr_vm_cgroup_procs_files(const char *parent, const char *name);
/* Pids in the group (all its hierarchies, deduplicated): malloc'd, 0-terminated; NULL
 * when the group is empty or absent. */
pid_t *gr_vm_cgroup_pids(const char *parent, const char *name);
int gr_vm_cgroup_cpu_ns(const char *parent, const char *name, uint64_t *ns, gr_error_t *err);
int gr_vm_cgroup_memory(const char *parent, const char *name, uint64_t *bytes, gr_error_t *err);
/* Remove (empty) groups; ENOENT is success. */
int gr_vm_cgroup_remove(const char *parent, const char *name, gr_error_t *err);

/* ---- lifecycle (vm.c) and snapshots (snapshot.c) ------------------------------------- */

/* The instance's disks.  The VM module never makes or names layers: the caller (the
 * agent, which owns every instance's disk preparation) hands it these calls, and ud. */
struct gr_vm_disks {
	void *ud;
	int (*create)(void *ud, gr_error_t *err);      /* define: the instance's own (user) disk */
	int (*remove)(void *ud, gr_error_t *err);      /* delete: every disk and snapshot; absent = 0 */
	/* start: the qcow2 QEMU opens (a fresh run layer over the user disk when ephemeral) */
	int (*open)(void *ud, int ephemeral, char **path, gr_error_t *err);
	int (*close)(void *ud, int drop_run_layer, gr_error_t *err); /* QEMU is gone */
	int (*user_path)(void *ud, char **path, gr_error_t *err);    /* the user disk's qcow2 */
	/* disk-only snapshots of the stopped VM's user disk */
	int (*snap_create)(void *ud, const char *snap, gr_error_t *err);
	int (*snap_restore)(void *ud, const char *snap, gr_error_t *err);
	int (*snap_delete)(void *ud, const char *snap, gr_error_t *err);
};

struct gr_vm_spec {
	const char *name;          /* instance id (one path component; the caller checks its rule) */
	const char *image;         /* master image name (recorded in vm.json) */
	const char *boot_dir;      /* the master's folder: vm.json, kernel, initrd */
	const struct gr_vm_disks *disks;
	const char *dir;           /* instance's private folder (created by define) */
	const char *sock_dir;      /* short folder for sockets, NULL = dir */
	unsigned cpus;             /* 0 = 1 */
	double cpu_limit;          /* CPU quota in CPUs, 0 = none */
	uint64_t memory_mb;        /* 0 = 256 */
	int ephemeral;             /* run layer dropped on stop */
	const char *hostname;      /* NULL = name */
	char **ssh_keys;
	const char *address, *gateway, *tap, *mac;
	bool dhcp;                 /* the seed's network-config also says dhcp4 (gr_vm_seed) */
	const char *machine, *accel;
	const char *cgroup_parent; /* NULL = "gureum-vm" */
	const char *runas;         /* QEMU's user: NULL = $GR_VM_RUNAS, else gureum-qemu if it
				    * exists, else root; "" = root */
	unsigned max_cpus;         /* vCPUs a live resize may reach (0 = cpus) */
	uint64_t max_memory_mb;    /* guest RAM a live resize may reach (0 = memory_mb) */
	const char *incoming;      /* start as a migration destination (-incoming), NULL = boot */
};

#define GR_VM_DEFAULT_USER "gureum-qemu"

/* [a-z0-9][a-z0-9._-]{0,62}: snapshot names (they become QEMU snapshot tags) */
int gr_vm_name_valid(const char *name);

enum gr_vm_status { GR_VM_ABSENT, GR_VM_DEFINED, GR_VM_RUNNING, GR_VM_PAUSED, GR_VM_STOPPED };
const char *gr_vm_status_name(enum gr_vm_status s);

struct gr_vm_state {
	enum gr_vm_status status;
	pid_t pid;                 /* QEMU when running/paused */
	char qmp_status[32];       /* QMP query-status "status" ("running", "paused", ...) */
};

struct gr_vm_stats {
	uint64_t cpu_ns;           /* QEMU's cgroup CPU time (all threads) */
	uint64_t rss_bytes;        /* QEMU resident set */
	uint64_t guest_ram_rss;    /* part of it that is guest RAM */
	uint64_t overhead_bytes;   /* rss - guest RAM: what QEMU itself costs */
	uint64_t memory_mb;        /* configured guest RAM */
};

/* define: user layer (qcow2 overlay on the master), NoCloud seed, instance folder. */
int gr_vm_define(const struct gr_vm_spec *s, gr_error_t *err);
/* start: run layer when ephemeral, cgroup, QEMU daemonized, QMP answers; *pid of QEMU. */
int gr_vm_start(const struct gr_vm_spec *s, pid_t *pid, gr_error_t *err);
/* stop: system_powerdown, wait timeout_ms; then quit; then SIGKILL.  force skips the
 * powerdown.  Then cleanup.  Stopping a stopped VM is success. */
int gr_vm_stop(const struct gr_vm_spec *s, int timeout_ms, int force, gr_error_t *err);
/* state: pid alive (same process: start time checked) + QMP query-status. */
int gr_vm_state_get(const struct gr_vm_spec *s, struct gr_vm_state *st, gr_error_t *err);
/* After QEMU died on its own: remove cgroup, sockets, pidfile, run layer if ephemeral. */
int gr_vm_cleanup(const struct gr_vm_spec *s, gr_error_t *err);
/* Remove everything; a running VM is refused (EBUSY) unless force (then killed). */
int gr_vm_delete(const struct gr_vm_spec *s, int force, gr_error_t *err);
/* A pidfd of the running QEMU: readable when it exits (for the daemon's event loop). */
int gr_vm_pidfd(const struct gr_vm_spec *s, gr_error_t *err);
int gr_vm_stats_get(const struct gr_vm_spec *s, struct gr_vm_stats *out, gr_error_t *err);
/* Wait until the guest printed its readiness line on the console (reads console.log);
 * *hostname (may be NULL) gets the hostname it reported. */
int gr_vm_wait_ready(const struct gr_vm_spec *s, int timeout_ms, char **hostname, gr_error_t *err);
/* Files of the instance (malloc'd): "console.log", "serial.sock", "qmp.sock", ... */
char *gr_vm_path(const struct gr_vm_spec *s, const char *what);
/* Run a shell command on the serial console and return what it printed (between unique
 * markers), for tests and `gureum exec` on VMs without an agent. */
int gr_vm_console_run(const struct gr_vm_spec *s, const char *cmd, int timeout_ms, char **out, gr_error_t *err);

/* Running-VM controls over QMP (ops.c): pause/resume the vCPUs, hard reset. */
int gr_vm_pause(const struct gr_vm_spec *s, gr_error_t *err);
int gr_vm_resume(const struct gr_vm_spec *s, gr_error_t *err);
int gr_vm_reset(const struct gr_vm_spec *s, gr_error_t *err);
/* Live resource change of a running VM (stopped: nothing to do, the next start uses s):
 * the CPU quota at once; the vCPU count through the guest agent (vCPUs onlined or
 * offlined within max_cpus); guest RAM through the balloon (within max_memory_mb, the
 * cgroup limit raised first).  Beyond a maximum: EINVAL naming it. */
int gr_vm_update(const struct gr_vm_spec *old, const struct gr_vm_spec *s, gr_error_t *err);
/* What QEMU reports: vCPU count and guest RAM bytes. */
int gr_vm_info(const struct gr_vm_spec *s, int *vcpus, uint64_t *ram_bytes, gr_error_t *err);

/* Balloon (ops.c): set the guest RAM target (MiB) / read what the guest has (bytes). */
int gr_vm_balloon_set(const struct gr_vm_spec *s, uint64_t mb, gr_error_t *err);
int gr_vm_balloon_get(const struct gr_vm_spec *s, uint64_t *bytes, gr_error_t *err);
/* The serial console is free (no client on serial.sock), else EBUSY naming the VM: QEMU
 * serves one console client, a second connection would wait unanswered. */
int gr_vm_console_check_free(const struct gr_vm_spec *s, gr_error_t *err);

/* ---- the guest agent (agent.c; protocol in agent_proto.h) ---------------------------- */

struct gr_vm_exec {
	char **cmd;                /* NULL-terminated, at least one */
	char **env;                /* "K=V", may be NULL */
	const char *cwd;           /* NULL = "/" */
	int fd_in, fd_out, fd_err; /* owned by the caller, -1 = none (no tty) */
	const char *console_socket;/* tty: a new host pty's master is sent here (SCM_RIGHTS) */
	unsigned cols, rows;       /* tty size, 0 = 80x24 */
};
/* Run a command in the guest through its agent and wait for it; *exit_status = its code
 * (128 + signal).  Waits for the guest's readiness line first (a booting guest).  One
 * session at a time per VM: another is EBUSY ("busy"), never a silent wait.  No agent in
 * the guest (an image older than the agent, or QEMU started without the port): an error
 * naming gureum-guest-agent within seconds.  A malformed frame from the guest is EPROTO. */
int gr_vm_agent_exec(const struct gr_vm_spec *s, const struct gr_vm_exec *x, int *exit_status, gr_error_t *err);
/* Ask the agent to keep n vCPUs online; *online (may be NULL) = how many are. */
int gr_vm_agent_set_cpus(const struct gr_vm_spec *s, unsigned n, int *online, gr_error_t *err);

/* ---- live migration (migrate.c; docs/MIGRATION.md) ------------------------------------ */

/* Destination, on a QEMU started with spec.incoming = "defer": keep the guest paused after
 * the migration, export node "root" writable over NBD on ip:nbd_port (QEMU's own server),
 * listen for the RAM on tcp:ip:mig_port. */
int gr_vm_migrate_listen(const struct gr_vm_spec *s, const char *ip, int nbd_port, int mig_port, gr_error_t *err);
/* Destination, after the switch-over: stop the NBD server, run the guest.  EAGAIN while
 * the RAM has not all arrived. */
int gr_vm_migrate_resume(const struct gr_vm_spec *s, gr_error_t *err);

struct gr_vm_migrate_out {
	const char *host;          /* destination's IPv4 */
	int nbd_port, mig_port;
	uint64_t bandwidth;        /* bytes/s, 0 = QEMU's default */
	unsigned downtime_ms;      /* maximum downtime, 0 = 300 ms */
	int timeout_ms;            /* the whole transfer, 0 = 10 min */
};
struct gr_vm_migrate_progress {
	const char *phase;         /* "disk" (mirror catching up) or "ram" */
	uint64_t transferred, remaining, total, dirty_rate;
	int64_t expected_downtime_ms;
};
typedef void (*gr_vm_migrate_progress_fn)(const struct gr_vm_migrate_progress *p, void *ud);
/* Source: mirror the instance's own layer (sync top) to the destination's export, then
 * migrate the RAM (auto-converge).  0: the source QEMU is paused ("postmigrate"), the
 * destination holds RAM and disk, *downtime_ms QEMU's measure.  -1: rolled back, the
 * guest runs on here.  fn (may be NULL) is called a few times a second. */
int gr_vm_migrate_send(const struct gr_vm_spec *s, const struct gr_vm_migrate_out *o, gr_vm_migrate_progress_fn fn,
		       void *ud, int64_t *downtime_ms, gr_error_t *err);
/* Source: cancel a migration and the disk mirror, drop the target, run the guest. */
int gr_vm_migrate_abort(const struct gr_vm_spec *s, gr_error_t *err);

/* Snapshots.  Running VM: memory + disk state (savevm/loadvm into the qcow2 QEMU has
 * open).  Stopped VM: disk only (the disks' snapshot calls).  Names follow
 * gr_vm_name_valid. */
int gr_vm_snapshot_create(const struct gr_vm_spec *s, const char *snap, gr_error_t *err);
int gr_vm_snapshot_restore(const struct gr_vm_spec *s, const char *snap, gr_error_t *err);
int gr_vm_snapshot_delete(const struct gr_vm_spec *s, const char *snap, gr_error_t *err);
/* JSON array of {"name", "vm_state_size", "date"} (new reference). */
int gr_vm_snapshot_list(const struct gr_vm_spec *s, json_t **out, gr_error_t *err);

#endif
