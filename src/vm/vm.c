/*
 * vm.c - VM lifecycle on one host: define (user layer + NoCloud seed), start (run layer,
 * cgroup, QEMU daemonized, QMP answers), stop (powerdown -> quit -> SIGKILL), state,
 * cleanup after a death, delete, stats, pidfd, readiness.
 *
 * Files of an instance (gr_vm_path): <dir>/vm.json (what define was given), seed.img,
 * console.log (every byte of the serial console, appended), qemu.log (QEMU's stderr),
 * qemu.pid (QEMU's own -pidfile), state.json ({pid, start_time, disk, ephemeral,
 * console_offset} while started; {pid: 0} after cleanup); <sock_dir>/qmp.sock,
 * serial.sock.  Nothing lives in memory: a restarted daemon reattaches from state.json
 * (pid + its start time, so a recycled pid is never mistaken for our QEMU) and the QMP
 * socket.  QEMU is not our child after -daemonize; exits are seen through a pidfd.
 */
#include "vm/vm-internal.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GR__VM_CONSOLE_ROTATE (8 << 20)

const char *gr_vm_status_name(enum gr_vm_status s)
{
	switch (s) {
	case GR_VM_ABSENT: return "absent";
	case GR_VM_DEFINED: return "defined";
	case GR_VM_RUNNING: return "running";
	case GR_VM_PAUSED: return "paused";
	case GR_VM_STOPPED: return "stopped";
	}
	return "unknown";
}

char *gr_vm_path(const struct gr_vm_spec *s, const char *what)
{
	int sock = strstr(what, ".sock") != NULL;
	return xasprintf("%s/%s", sock && s->sock_dir ? s->sock_dir : s->dir, what);
}

long long gr__vm_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *gr__vm_cg_parent(const struct gr_vm_spec *s)
{
	return s->cgroup_parent ? s->cgroup_parent : "gureum-vm";
}

/* Field 22 of /proc/<pid>/stat (start time in clock ticks); 0 when gone. */
unsigned long long gr__vm_start_time(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	_cleanup_free_ char *text = NULL;
	if (pid <= 0 || gr_read_file(path, 8192, &text, NULL, NULL) < 0)
		return 0;
	char *p = strrchr(text, ')');
	if (!p)
		return 0;
	if (p[1] && p[2] == 'Z')
		return 0; /* a zombie is gone for our purposes */
	int field = 2;
	for (; *p && field < 22; p++)
		if (*p == ' ')
			field++;
	return strtoull(p, NULL, 10);
}

int gr__vm_alive(const struct gr__vm_run *r)
{
	return r->pid > 0 && r->start_time && gr__vm_start_time(r->pid) == r->start_time;
}

static pid_t read_pidfile(const char *path)
{
	_cleanup_free_ char *text = NULL;
	if (gr_read_file(path, 64, &text, NULL, NULL) < 0)
		return 0;
	return (pid_t)atoi(text);
}

/* Does pid's command line name this VM's QMP socket? (QEMU's, not a recycled pid) */
static int cmdline_has(pid_t pid, const char *needle)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (gr_read_file(path, 1 << 16, &text, &len, NULL) < 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!text[i])
			text[i] = ' ';
	return strstr(text, needle) != NULL;
}

/* The QEMU of this VM when state.json names no live one: the daemon may have died
 * between starting QEMU and recording it, or state.json may be lost.  QEMU joins the
 * VM's cgroup before exec, so a process in that group is ours (qemu.pid says which,
 * when the daemonizing parent is still there too); without the group, the pid file's
 * process counts when its command line names this VM's QMP socket.  1 = found. */
static int find_qemu(const struct gr_vm_spec *s, struct gr__vm_run *r)
{
	_cleanup_free_ char *pidf = gr_vm_path(s, "qemu.pid"), *qmp = gr_vm_path(s, "qmp.sock");
	pid_t want = read_pidfile(pidf), pick = 0;
	_cleanup_free_ pid_t *pids = gr_vm_cgroup_pids(gr__vm_cg_parent(s), s->name);
	for (size_t i = 0; pids && pids[i]; i++)
		if (!pick || pids[i] == want)
			pick = pids[i];
	if (!pick && want > 0 && cmdline_has(want, qmp))
		pick = want;
	unsigned long long st = pick ? gr__vm_start_time(pick) : 0;
	if (!st)
		return 0;
	r->pid = pick;
	r->start_time = st;
	return 1;
}

int gr__vm_run_read(const struct gr_vm_spec *s, struct gr__vm_run *r, gr_error_t *err)
{
	memset(r, 0, sizeof(*r));
	_cleanup_free_ char *path = gr_vm_path(s, "state.json");
	json_error_t je;
	json_t *o = json_load_file(path, 0, &je);
	if (!o) {
		if (find_qemu(s, r))
			return 0; /* running, though its start was never recorded */
		if (access(path, F_OK) < 0)
			return gr_error_set(err, ENOENT, "VM '%s' was never started", s->name);
		return gr_error_set(err, EIO, "%s: %s", path, je.text);
	}
	r->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
	r->start_time = (unsigned long long)json_integer_value(json_object_get(o, "start_time"));
	const char *d = json_string_value(json_object_get(o, "disk"));
	snprintf(r->disk, sizeof r->disk, "%s", d ? d : "");
	r->ephemeral = json_is_true(json_object_get(o, "ephemeral"));
	r->console_offset = (long long)json_integer_value(json_object_get(o, "console_offset"));
	json_decref(o);
	if (!gr__vm_alive(r))
		find_qemu(s, r);
	return 0;
}

int gr__vm_run_write(const struct gr_vm_spec *s, const struct gr__vm_run *r, gr_error_t *err)
{
	_cleanup_free_ char *path = gr_vm_path(s, "state.json");
	json_t *o = json_pack("{s:i, s:I, s:s, s:b, s:I}", "pid", (int)r->pid, "start_time",
			      (json_int_t)r->start_time, "disk", r->disk, "ephemeral", r->ephemeral, "console_offset",
			      (json_int_t)r->console_offset);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	int rc = gr_write_file_atomic(path, text, strlen(text), 0600, err);
	free(text);
	return rc;
}

/* The master's folder and its vm.json: kernel, initrd, command line, machine. */
static int image_boot(const struct gr_vm_spec *s, char **kernel, char **initrd, char **cmdline, char **machine,
		      gr_error_t *err)
{
	if (!s->boot_dir)
		return gr_error_set(err, EINVAL, "VM '%s': no master image folder given", s->name);
	const char *dir = s->boot_dir;
	_cleanup_free_ char *mpath = xasprintf("%s/vm.json", dir);
	json_error_t je;
	json_t *m = json_load_file(mpath, 0, &je);
	if (!m)
		return gr_error_set(err, EINVAL, "image '%s' is not a bootable VM image (no vm.json: build it with "
				    "`gureum image build debian-vm`)", s->image);
	const char *k = json_string_value(json_object_get(m, "kernel"));
	const char *bz = json_string_value(json_object_get(m, "bzimage"));
	const char *i = json_string_value(json_object_get(m, "initrd"));
	const char *c = json_string_value(json_object_get(m, "cmdline"));
	const char *mach = s->machine ? s->machine : json_string_value(json_object_get(m, "machine"));
	int q35 = mach && !strcmp(mach, "q35");
	const char *kern = q35 && bz ? bz : k;
	if (!kern || strchr(kern, '/') || (i && strchr(i, '/'))) {
		json_decref(m);
		return gr_error_set(err, EINVAL, "%s: \"kernel\"/\"initrd\" must be file names in the image", mpath);
	}
	*kernel = xasprintf("%s/%s", dir, kern);
	*initrd = i ? xasprintf("%s/%s", dir, i) : NULL;
	*cmdline = xstrdup(c ? c : "console=ttyS0");
	*machine = xstrdup(mach ? mach : "microvm");
	json_decref(m);
	return 0;
}

int gr_vm_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n < 1 || n > 63 || !((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

int gr_vm_define(const struct gr_vm_spec *s, gr_error_t *err)
{
	/* the caller checks instance ids; here only that the name is one safe path component */
	if (!s->name || !*s->name || s->name[0] == '.' || strchr(s->name, '/') || strlen(s->name) > 128)
		return gr_error_set(err, EINVAL, "name: '%s' is not a valid instance id", s->name ? s->name : "");
	_cleanup_free_ char *k = NULL, *i = NULL, *c = NULL, *m = NULL;
	if (image_boot(s, &k, &i, &c, &m, err) < 0)
		return gr_error_prefix(err, "defining VM '%s'", s->name);
	_cleanup_free_ char *meta = gr_vm_path(s, "vm.json");
	_cleanup_free_ char *seed = gr_vm_path(s, "seed.img");
	if (access(meta, F_OK) == 0)
		return gr_error_set(err, EEXIST, "VM '%s' is already defined", s->name);
	int made_dir = access(s->dir, F_OK) < 0;
	if (gr_mkdir_p(s->dir, 0700, err) < 0)
		return -1;
	if (s->sock_dir && gr_mkdir_p(s->sock_dir, 0700, err) < 0)
		goto fail_dir;
	if (s->disks->create(s->disks->ud, err) < 0)
		goto fail_dir;
	struct gr_vm_seed sd = {
		.instance_id = s->name, .hostname = s->hostname ? s->hostname : s->name,
		.ssh_keys = s->ssh_keys, .address = s->address, .gateway = s->gateway, .mac = s->mac, .dhcp = s->dhcp,
	};
	if (gr_vm_seed_write(&sd, seed, err) < 0)
		goto fail_layer;
	json_t *o = json_pack("{s:s, s:s, s:i, s:I, s:b, s:s}", "name", s->name, "image", s->image, "cpus",
			      (int)(s->cpus ? s->cpus : 1), "memory_mb", (json_int_t)(s->memory_mb ? s->memory_mb : 256),
			      "ephemeral", s->ephemeral, "machine", m);
	char *text = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	int rc = gr_write_file_atomic(meta, text, strlen(text), 0600, err);
	free(text);
	if (rc < 0)
		goto fail_seed;
	return 0;
fail_seed:
	unlink(seed);
fail_layer:
	s->disks->remove(s->disks->ud, NULL);
fail_dir:
	if (made_dir)
		gr_rm_rf(s->dir, NULL);
	return gr_error_prefix(err, "defining VM '%s'", s->name);
}

static char *file_tail(const char *path, size_t max)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (gr_read_file(path, 0, &text, &len, NULL) < 0 || !len)
		return xstrdup("(no output)");
	const char *start = len > max ? text + len - max : text;
	char *out = xstrdup(start);
	for (char *p = out; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return out;
}

/* The daemonizing parent QEMU exits 0 once the child has set everything up.  Through
 * the process runner: it joins the cgroup before exec and is waited for by pid, so the
 * daemon's stray reaper leaves it alone. */
static int spawn_qemu(const struct gr_vm_spec *s, char **argv, char **procs, const char *log, gr_error_t *err)
{
	_cleanup_close_ int out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		return gr_error_sys(err, "%s", log);
	int status = 0;
	struct gr_proc p = { .argv = argv, .fd_in = GR_PROC_NULL, .fd_out = out, .fd_err = out,
			     .cgroup_procs = procs, .new_session = true, .exit_status = &status };
	if (gr_proc_run(&p, err) < 0) {
		if (err && err->code == ENOENT)
			return gr_error_set(err, ENOENT, "cannot run %s: install qemu-system-x86", argv[0]);
		return gr_error_prefix(err, "VM '%s': starting QEMU", s->name);
	}
	if (status == 0)
		return 0;
	_cleanup_free_ char *tail = file_tail(log, 600);
	return gr_error_set(err, EIO, "QEMU failed to start (%s %d): %s", status > 128 ? "signal" : "exit",
			    status > 128 ? status - 128 : status, tail);
}

/* The user QEMU drops to: the spec's, else $GR_VM_RUNAS (empty = none), else the
 * gureum-qemu system user when it exists, else none (QEMU stays root). */
static const char *pick_runas(const struct gr_vm_spec *s)
{
	if (s->runas)
		return *s->runas ? s->runas : NULL;
	const char *env = getenv("GR_VM_RUNAS");
	if (env)
		return *env ? env : NULL;
	struct passwd pw, *res = NULL;
	char buf[1024];
	if (getpwnam_r(GR_VM_DEFAULT_USER, &pw, buf, sizeof buf, &res) == 0 && res)
		return GR_VM_DEFAULT_USER;
	return NULL;
}

/* SIGKILL every process in the VM's cgroup (a QEMU whose start was never recorded,
 * or a second one) and wait until the group is empty.  0 = empty. */
static int kill_group(const struct gr_vm_spec *s, int timeout_ms)
{
	long long deadline = gr__vm_now_ms() + timeout_ms;
	for (;;) {
		_cleanup_free_ pid_t *pids = gr_vm_cgroup_pids(gr__vm_cg_parent(s), s->name);
		if (!pids)
			return 0;
		if (gr__vm_now_ms() >= deadline)
			return -1;
		for (size_t i = 0; pids[i]; i++)
			kill(pids[i], SIGKILL);
		usleep(10000);
	}
}

int gr_vm_start(const struct gr_vm_spec *s, pid_t *pid_out, gr_error_t *err)
{
	_cleanup_free_ char *meta = gr_vm_path(s, "vm.json");
	if (access(meta, F_OK) < 0)
		return gr_error_set(err, ENOENT, "VM '%s' is not defined", s->name);
	struct gr__vm_run r;
	if (gr__vm_run_read(s, &r, NULL) == 0 && gr__vm_alive(&r))
		return gr_error_set(err, EBUSY, "VM '%s' is already running (pid %d)", s->name, (int)r.pid);
	_cleanup_free_ char *kernel = NULL, *initrd = NULL, *cmdline = NULL, *machine = NULL;
	if (image_boot(s, &kernel, &initrd, &cmdline, &machine, err) < 0)
		return gr_error_prefix(err, "starting VM '%s'", s->name);
	struct gr_vm_host h;
	if (gr_vm_host_probe(&h, err) < 0)
		return -1;
	_cleanup_free_ char *qmp = gr_vm_path(s, "qmp.sock"), *ser = gr_vm_path(s, "serial.sock");
	_cleanup_free_ char *con = gr_vm_path(s, "console.log"), *pidf = gr_vm_path(s, "qemu.pid");
	_cleanup_free_ char *seed = gr_vm_path(s, "seed.img"), *log = gr_vm_path(s, "qemu.log");
	_cleanup_free_ char *agent = gr_vm_path(s, "agent.sock");
	_cleanup_free_ char *disk = NULL;
	if (s->disks->open(s->disks->ud, s->ephemeral, &disk, err) < 0)
		return gr_error_prefix(err, "starting VM '%s'", s->name);
	struct gr_vm_config c = {
		.name = s->name, .machine = machine, .accel = s->accel, .cpus = s->cpus, .memory_mb = s->memory_mb,
		.kernel = kernel, .initrd = initrd, .cmdline = cmdline, .disk = disk,
		.seed = access(seed, R_OK) == 0 ? seed : NULL, .tap = s->tap, .mac = s->mac, .qmp_sock = qmp,
		.serial_sock = ser, .console_log = con, .pidfile = pidf, .runas = pick_runas(s), .sandbox = -1,
		.daemonize = 1, .max_cpus = s->max_cpus, .max_memory_mb = s->max_memory_mb, .agent_sock = agent,
		.balloon = 1, .incoming = s->incoming,
	};
	_cleanup_strv_ char **argv = NULL;
	_cleanup_strv_ char **procs = NULL;
	uint64_t mem = (s->memory_mb ? s->memory_mb : 256) << 20;
	/* a migration destination receives every page of QEMU's RAM (max_memory), the
	 * ballooned-out ones included: room for all of it */
	if (s->incoming && s->max_memory_mb > (mem >> 20))
		mem = s->max_memory_mb << 20;
	int cg = 0;
	if (gr_vm_argv_build(&c, &h, &argv, err) < 0)
		goto fail;
	struct stat st;
	/* keep one previous console log; a chatty guest must not fill the disk over restarts */
	if (stat(con, &st) == 0 && st.st_size > GR__VM_CONSOLE_ROTATE) {
		_cleanup_free_ char *old = xasprintf("%s.1", con);
		rename(con, old);
	}
	memset(&r, 0, sizeof r);
	r.console_offset = stat(con, &st) == 0 ? (long long)st.st_size : 0;
	r.ephemeral = s->ephemeral;
	snprintf(r.disk, sizeof r.disk, "%s", disk);
	/* recorded before the cgroup and QEMU exist: a daemon killed from here on leaves a
	 * state.json that names the disk to close, and QEMU is found by its cgroup */
	if (gr__vm_run_write(s, &r, err) < 0)
		goto fail;
	/* guest RAM + QEMU's own needs (TCG translation cache, device state, I/O buffers) */
	/* weight: the vCPU threads + QEMU's main loop */
	if (gr_vm_cgroup_create(gr__vm_cg_parent(s), s->name, s->cpu_limit, (s->cpus ? s->cpus : 1) + 1,
				mem + (512ull << 20), err) < 0)
		goto fail;
	cg = 1;
	procs = gr_vm_cgroup_procs_files(gr__vm_cg_parent(s), s->name);
	/* the socket folder may live on a tmpfs that a host reboot emptied */
	if (s->sock_dir && gr_mkdir_p(s->sock_dir, 0700, err) < 0)
		goto fail;
	unlink(qmp);
	unlink(ser);
	unlink(pidf);
	if (spawn_qemu(s, argv, procs, log, err) < 0)
		goto fail;
	r.pid = read_pidfile(pidf);
	r.start_time = gr__vm_start_time(r.pid);
	if (!r.pid || !r.start_time) {
		char *tail = file_tail(log, 600);
		gr_error_set(err, EIO, "QEMU exited right after starting: %s", tail);
		free(tail);
		goto fail;
	}
	if (gr__vm_run_write(s, &r, err) < 0)
		goto fail_kill;
	struct gr_qmp_conn *q = NULL;
	if (gr_qmp_connect(qmp, 5000, &q, err) < 0)
		goto fail_kill;
	gr_qmp_close(q);
	if (pid_out)
		*pid_out = r.pid;
	return 0;
fail_kill:
	kill(r.pid, SIGKILL);
	gr__vm_wait_gone(&r, 5000);
	r.pid = 0;
	gr__vm_run_write(s, &r, NULL);
fail:
	if (cg && kill_group(s, 5000) < 0)
		gr_log_warn("VM '%s': processes survive SIGKILL in its cgroup", s->name);
	if (cg)
		for (int i = 0; i < 50 && gr_vm_cgroup_remove(gr__vm_cg_parent(s), s->name, NULL) < 0; i++)
			usleep(20000);
	s->disks->close(s->disks->ud, s->ephemeral, NULL);
	return gr_error_prefix(err, "starting VM '%s'", s->name);
}

int gr__vm_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Wait until the process is gone (pidfd when available, else polling). 1 = gone. */
int gr__vm_wait_gone(const struct gr__vm_run *r, int timeout_ms)
{
	long long deadline = gr__vm_now_ms() + timeout_ms;
	int fd = gr__vm_pidfd_open(r->pid);
	while (gr__vm_alive(r)) {
		long long left = deadline - gr__vm_now_ms();
		if (left <= 0)
			break;
		if (fd >= 0) {
			struct pollfd p = {fd, POLLIN, 0};
			poll(&p, 1, (int)(left > 100 ? 100 : left));
		} else {
			usleep(20000);
		}
	}
	if (fd >= 0)
		close(fd);
	return !gr__vm_alive(r);
}

int gr_vm_pidfd(const struct gr_vm_spec *s, gr_error_t *err)
{
	struct gr__vm_run r;
	if (gr__vm_run_read(s, &r, err) < 0)
		return -1;
	if (!gr__vm_alive(&r))
		return gr_error_set(err, ESRCH, "VM '%s' is not running", s->name);
	int fd = gr__vm_pidfd_open(r.pid);
	if (fd < 0)
		return gr_error_sys(err, "pidfd_open(%d)", (int)r.pid);
	/* the pid could have been recycled between the check and the open */
	if (!gr__vm_alive(&r)) {
		close(fd);
		return gr_error_set(err, ESRCH, "VM '%s' is not running", s->name);
	}
	return fd;
}

int gr_vm_cleanup(const struct gr_vm_spec *s, gr_error_t *err)
{
	struct gr__vm_run r;
	if (gr__vm_run_read(s, &r, NULL) < 0) {
		/* never recorded as started; a group made by an interrupted start may be there */
		gr_vm_cgroup_remove(gr__vm_cg_parent(s), s->name, NULL);
		return 0;
	}
	if (gr__vm_alive(&r))
		return gr_error_set(err, EBUSY, "VM '%s' is still running (pid %d)", s->name, (int)r.pid);
	_cleanup_free_ char *qmp = gr_vm_path(s, "qmp.sock"), *ser = gr_vm_path(s, "serial.sock");
	_cleanup_free_ char *pidf = gr_vm_path(s, "qemu.pid");
	unlink(qmp);
	unlink(ser);
	unlink(pidf);
	int rc = 0;
	gr_error_t e = {0};
	for (int i = 0; i < 100; i++) { /* the cgroup empties a moment after the exit */
		if (gr_vm_cgroup_remove(gr__vm_cg_parent(s), s->name, &e) == 0)
			break;
		if (i == 99)
			rc = -1;
		usleep(20000);
	}
	if (rc < 0 && err)
		*err = e;
	if (r.disk[0] && s->disks->close(s->disks->ud, r.ephemeral, rc < 0 ? NULL : err) < 0)
		rc = -1;
	r.pid = 0;
	r.start_time = 0;
	if (gr__vm_run_write(s, &r, rc < 0 ? NULL : err) < 0)
		rc = -1;
	return rc < 0 ? gr_error_prefix(err, "cleaning up VM '%s'", s->name) : 0;
}

int gr_vm_stop(const struct gr_vm_spec *s, int timeout_ms, int force, gr_error_t *err)
{
	struct gr__vm_run r;
	if (gr__vm_run_read(s, &r, NULL) < 0 || !gr__vm_alive(&r))
		return gr_vm_cleanup(s, err);
	_cleanup_free_ char *qmp = gr_vm_path(s, "qmp.sock");
	if (!force) {
		struct gr_qmp_conn *q = NULL;
		gr_error_t e = {0};
		if (gr_qmp_connect(qmp, 2000, &q, &e) == 0) {
			int running = 1;
			/* a paused guest cannot see the power button */
			if (gr_qmp_query_status(q, NULL, 0, &running, &e) == 0 && !running)
				gr_qmp_cont(q, &e);
			if (gr_qmp_exec(q, "system_powerdown", NULL, 2000, NULL, &e) == 0)
				gr__vm_wait_gone(&r, timeout_ms);
			gr_qmp_close(q);
		}
	}
	if (gr__vm_alive(&r)) {
		struct gr_qmp_conn *q = NULL;
		if (gr_qmp_connect(qmp, 1000, &q, NULL) == 0) {
			gr_qmp_exec(q, "quit", NULL, 1000, NULL, NULL);
			gr_qmp_close(q);
			gr__vm_wait_gone(&r, 3000);
		}
	}
	if (gr__vm_alive(&r)) {
		kill(r.pid, SIGKILL);
		if (!gr__vm_wait_gone(&r, 5000))
			return gr_error_set(err, EBUSY, "VM '%s': QEMU (pid %d) survives SIGKILL", s->name, (int)r.pid);
	}
	/* anything else in its cgroup (a QEMU started twice) goes too */
	if (kill_group(s, 5000) < 0)
		return gr_error_set(err, EBUSY, "VM '%s': processes in its cgroup survive SIGKILL", s->name);
	return gr_vm_cleanup(s, err);
}

int gr_vm_state_get(const struct gr_vm_spec *s, struct gr_vm_state *st, gr_error_t *err)
{
	memset(st, 0, sizeof(*st));
	_cleanup_free_ char *meta = gr_vm_path(s, "vm.json");
	if (access(meta, F_OK) < 0) {
		st->status = GR_VM_ABSENT;
		return 0;
	}
	struct gr__vm_run r;
	if (gr__vm_run_read(s, &r, err) < 0) {
		if (err && err->code == ENOENT) {
			gr_error_clear(err);
			st->status = GR_VM_DEFINED;
			return 0;
		}
		return -1;
	}
	if (!gr__vm_alive(&r)) {
		st->status = GR_VM_STOPPED;
		return 0;
	}
	st->pid = r.pid;
	st->status = GR_VM_RUNNING;
	snprintf(st->qmp_status, sizeof st->qmp_status, "unknown");
	_cleanup_free_ char *qmp = gr_vm_path(s, "qmp.sock");
	struct gr_qmp_conn *q = NULL;
	json_t *ret = NULL;
	if (gr_qmp_connect(qmp, 2000, &q, NULL) == 0 && gr_qmp_exec(q, "query-status", NULL, 2000, &ret, NULL) == 0) {
		const char *qs = json_string_value(json_object_get(ret, "status"));
		snprintf(st->qmp_status, sizeof st->qmp_status, "%s", qs ? qs : "unknown");
		if (qs && strcmp(qs, "running"))
			st->status = GR_VM_PAUSED;
		json_decref(ret);
	}
	gr_qmp_close(q);
	return 0;
}

int gr_vm_delete(const struct gr_vm_spec *s, int force, gr_error_t *err)
{
	struct gr__vm_run r;
	if (gr__vm_run_read(s, &r, NULL) == 0 && gr__vm_alive(&r)) {
		if (!force)
			return gr_error_set(err, EBUSY, "VM '%s' is running; stop it first", s->name);
		if (gr_vm_stop(s, 0, 1, err) < 0)
			return -1;
	} else if (gr_vm_cleanup(s, err) < 0) {
		return -1;
	}
	if (s->disks->remove(s->disks->ud, err) < 0)
		return gr_error_prefix(err, "deleting VM '%s'", s->name);
	if (s->sock_dir)
		gr_rm_rf(s->sock_dir, NULL);
	return gr_rm_rf(s->dir, err);
}
