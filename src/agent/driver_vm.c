/*
 * driver_vm.c - the VM driver: gr_driver_ops over the QEMU back-end in src/vm (owned by
 * the VM module).  An instance's private folder (<state_dir>/instances/<name>) holds the
 * VM's files (vm.json, seed.img, console.log, state.json, qemu.pid, qemu.log); its
 * sockets live in <run_dir>/vm/<name>/ (short paths: unix sockets are limited to 107
 * bytes); its disk layers are the image module's (user.qcow2, run.qcow2 when ephemeral),
 * made and dropped here and handed to the VM module as calls (struct gr_vm_disks);
 * QEMU runs daemonized in cgroup <cgroup_prefix>/<name>.  No state is kept in memory, so
 * a restarted daemon finds running VMs again through state() (pid + start time, QMP).
 *
 * Options ("options" object of the instance), all optional:
 *   {"machine": "microvm"|"q35", "accel": "auto"|"kvm"|"tcg", "cpus": N,
 *    "hostname": "...", "ssh_keys": ["ssh-ed25519 ..."], "address": "10.0.0.5/24",
 *    "gateway": "10.0.0.1", "tap": "tap0", "mac": "52:54:00:...", "runas": "user"|"",
 *    "max_cpu": N, "max_memory": bytes or "1G"}
 * cpu (CPUs, may be fractional) sets the cgroup quota and, rounded up, the vCPU count;
 * memory (bytes) is the guest RAM (default 256 MiB).  A running VM may be resized up to
 * max_cpu vCPUs and max_memory (default: twice its size at start, at least 2 vCPUs):
 * QEMU gets the maximum, the guest is held to the size (vm/ops.c gr_vm_update).
 * exec goes through the guest agent (vm/agent.c), never the serial console, which stays
 * the person's: one console client at a time, a second gets EBUSY.
 *
 * NICs on a gureum network (s->nics, docs/NETWORK.md; the first one: QEMU has one
 * virtio-net here): start makes the tap grtXXXXXXXX on the network's bridge (net/tap.c)
 * before QEMU, whose virtio-net gets the instance's MAC; the NoCloud seed carries the
 * address, the gateway and "dhcp4: true" (the network's dnsmasq, when it has DHCP, hands
 * out that same address by reservation).  The options tap/mac/address/gateway are then
 * not used.  stop, cleanup and delete remove the tap; the sweep removes leaked ones.
 */
#include "agent/driver.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "image/image.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"
#include "vm/image_build.h"
#include "vm/vm.h"

#define STOP_DEFAULT_S 30

struct vm_holder {
	struct gr_vm_spec vm;
	struct gr_vm_disks disks;
	const struct gr_agent *a;
	json_t *opts;
	char *sock_dir;
	char *boot_dir;
	char **keys;
	char tap[16], address[GR_NET_CIDR_MAX], gateway[GR_NET_IP_MAX];
};

static void holder_clear(struct vm_holder *h)
{
	json_decref(h->opts);
	free(h->sock_dir);
	free(h->boot_dir);
	gr_strv_free(h->keys);
	memset(h, 0, sizeof(*h));
}

/* ---- the VM's disks: the agent owns layers, the VM module gets these calls ---- */

static int disk_create(void *ud, gr_error_t *err)
{
	struct vm_holder *h = ud;
	return gr_layer_create_user(h->a->image, h->vm.image, h->vm.name, err);
}

static int disk_remove(void *ud, gr_error_t *err)
{
	struct vm_holder *h = ud;
	return gr_layer_delete(h->a->image, h->vm.name, err);
}

static int disk_open(void *ud, int ephemeral, char **path, gr_error_t *err)
{
	struct vm_holder *h = ud;
	return gr_layer_disk_open(h->a->image, h->vm.name, ephemeral, path, err);
}

static int disk_close(void *ud, int drop_run_layer, gr_error_t *err)
{
	struct vm_holder *h = ud;
	return gr_layer_disk_close(h->a->image, h->vm.name, drop_run_layer, err);
}

static int disk_user_path(void *ud, char **path, gr_error_t *err)
{
	struct vm_holder *h = ud;
	struct gr_layer_info li = {0};
	if (gr_layer_get(h->a->image, h->vm.name, &li, err) < 0)
		return -1;
	*path = li.user_path ? xstrdup(li.user_path) : NULL;
	gr_layer_info_clear(&li);
	return 0;
}

static int disk_snap_create(void *ud, const char *snap, gr_error_t *err)
{
	struct vm_holder *h = ud;
	return gr_layer_snapshot_create(h->a->image, h->vm.name, snap, err);
}

static int disk_snap_restore(void *ud, const char *snap, gr_error_t *err)
{
	struct vm_holder *h = ud;
	return gr_layer_snapshot_restore(h->a->image, h->vm.name, snap, err);
}

static int disk_snap_delete(void *ud, const char *snap, gr_error_t *err)
{
	struct vm_holder *h = ud;
	return gr_layer_snapshot_delete(h->a->image, h->vm.name, snap, err);
}

/* The master's folder (where its vm.json, kernel and initrd are); NULL when the image
 * is gone (stop, delete and sweep need none). */
static char *boot_dir_of(const struct gr_agent *a, const char *image, gr_error_t *err)
{
	struct gr_image_info info = {0};
	if (!image || !*image || gr_image_get(a->image, image, &info, err) < 0)
		return NULL;
	char *dir = xstrdup(info.path);
	gr_image_info_clear(&info);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	return dir;
}

static const char *opt_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* bytes (integer) or "<n>[KMGT]" (binary units) */
static int parse_size(const json_t *v, uint64_t *out)
{
	if (json_is_integer(v) && json_integer_value(v) > 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	const char *s = json_string_value(v);
	if (!s || !*s)
		return -1;
	char *end;
	unsigned long long n = strtoull(s, &end, 10);
	if (end == s)
		return -1;
	int shift = 0;
	switch (*end) {
	case 0: break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -1;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end || n > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)n << shift;
	return 0;
}

static int vm_check_options(const json_t *options, gr_error_t *err)
{
	static const char *const known[] = {"machine", "accel", "cpus", "hostname", "ssh_keys", "address",
					    "gateway", "tap", "mac", "runas", "max_cpu", "max_memory", NULL};
	const char *key;
	json_t *v;
	if (options && !json_is_object(options))
		return gr_error_set(err, EINVAL, "options: expected a JSON object");
	json_object_foreach((json_t *)options, key, v) {
		size_t i = 0;
		while (known[i] && strcmp(known[i], key))
			i++;
		if (!known[i])
			return gr_error_set(err, EINVAL, "options.%s: unknown VM option", key);
		if (!strcmp(key, "max_memory")) {
			uint64_t b;
			if (parse_size(v, &b) < 0 || b < (64ull << 20) || b > (4096ull << 30))
				return gr_error_set(err, EINVAL, "options.max_memory: expected bytes or a size like "
						    "\"1G\" between 64M and 4T");
			continue;
		}
		if (!strcmp(key, "cpus") || !strcmp(key, "max_cpu")
			    ? !json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 64
		    : !strcmp(key, "ssh_keys") ? !json_is_array(v)
		    : !json_is_string(v))
			return gr_error_set(err, EINVAL, "options.%s: bad value", key);
	}
	return 0;
}

static int holder_init(struct vm_holder *h, const struct gr_agent *a, const struct gr_inst_spec *s, gr_error_t *err)
{
	memset(h, 0, sizeof(*h));
	if (vm_check_options(s->options, err) < 0)
		return -1;
	h->opts = s->options ? json_incref((json_t *)s->options) : NULL;
	json_t *v;
	json_t *keys = json_object_get(h->opts, "ssh_keys");
	if (keys) {
		h->keys = xcalloc(json_array_size(keys) + 1, sizeof(char *));
		size_t i;
		json_array_foreach(keys, i, v) {
			if (!json_is_string(v))
				return gr_error_set(err, EINVAL, "options.ssh_keys[%zu]: expected a string", i);
			h->keys[i] = xstrdup(json_string_value(v));
		}
	}
	h->sock_dir = xasprintf("%s/vm/%s", a->run_dir ? a->run_dir : "/run/gureum", s->name);
	unsigned cpus = s->cpu > 0 ? (unsigned)ceil(s->cpu) : 1;
	if (json_object_get(h->opts, "cpus"))
		cpus = (unsigned)json_integer_value(json_object_get(h->opts, "cpus"));
	h->vm = (struct gr_vm_spec){
		.name = s->name,
		.image = s->image,
		.disks = &h->disks,
		.dir = s->dir,
		.sock_dir = h->sock_dir,
		.cpus = cpus,
		.cpu_limit = s->cpu,
		.memory_mb = s->memory ? (s->memory + (1 << 20) - 1) >> 20 : 256,
		.ephemeral = s->ephemeral,
		.hostname = opt_str(h->opts, "hostname"),
		.ssh_keys = h->keys,
		.address = opt_str(h->opts, "address"),
		.gateway = opt_str(h->opts, "gateway"),
		.tap = opt_str(h->opts, "tap"),
		.mac = opt_str(h->opts, "mac"),
		.machine = opt_str(h->opts, "machine"),
		.accel = opt_str(h->opts, "accel"),
		.runas = opt_str(h->opts, "runas"),
		.cgroup_parent = a->cgroup_prefix ? a->cgroup_prefix : "gureum",
	};
	if (s->n_nics) {
		/* a gureum network: its NIC replaces the tap/address options */
		const struct gr_net_nic *n = &s->nics[0];
		char ip[GR_NET_IP_MAX];
		snprintf(h->address, sizeof h->address, "%s/%d", gr_net_ip_format(n->ip, ip), n->subnet.prefix);
		gr_net_ip_format(gr_net_gateway(&n->subnet), h->gateway);
		gr_net_tap_name(s->name, 0, h->tap);
		h->vm.address = h->address;
		h->vm.gateway = h->gateway;
		h->vm.tap = h->tap;
		h->vm.mac = n->mac[0] ? n->mac : NULL;
		h->vm.dhcp = true;
	}
	/* live-resize ceilings: given, else twice the size (at least 2 vCPUs) */
	json_t *mc = json_object_get(h->opts, "max_cpu");
	h->vm.max_cpus = mc ? (unsigned)json_integer_value(mc) : (cpus * 2 > 2 ? cpus * 2 : 2);
	if (h->vm.max_cpus > 64)
		h->vm.max_cpus = cpus > 64 ? cpus : 64;
	uint64_t mm = 0;
	if (json_object_get(h->opts, "max_memory") && parse_size(json_object_get(h->opts, "max_memory"), &mm) == 0)
		h->vm.max_memory_mb = mm >> 20;
	else
		h->vm.max_memory_mb = h->vm.memory_mb * 2;
	if (h->vm.max_cpus < cpus)
		return gr_error_set(err, EINVAL, "cpu: %u vCPUs is more than options.max_cpu %u", cpus, h->vm.max_cpus);
	if (h->vm.max_memory_mb < h->vm.memory_mb)
		return gr_error_set(err, EINVAL, "memory: %llu MiB is more than options.max_memory %llu MiB",
				    (unsigned long long)h->vm.memory_mb, (unsigned long long)h->vm.max_memory_mb);
	if (!a->image)
		return gr_error_set(err, ENOTSUP, "the VM driver needs the image module (agent has no image context)");
	h->a = a;
	h->disks = (struct gr_vm_disks){
		.ud = h, .create = disk_create, .remove = disk_remove, .open = disk_open, .close = disk_close,
		.user_path = disk_user_path, .snap_create = disk_snap_create, .snap_restore = disk_snap_restore,
		.snap_delete = disk_snap_delete,
	};
	h->boot_dir = boot_dir_of(a, s->image, NULL);
	h->vm.boot_dir = h->boot_dir;
	return 0;
}

/* The taps of the instance's NICs (only the first is wired: one virtio-net) on their
 * bridges, before QEMU opens them by name. */
static int nics_up(const struct gr_inst_spec *s, gr_error_t *err)
{
	if (gr_net_bridge_ensure(&s->nics[0], err) < 0 || gr_net_tap_attach(s->name, 0, &s->nics[0], err) < 0)
		return gr_error_prefix(err, "starting VM '%s'", s->name);
	return 0;
}

/* Remove the taps (QEMU is gone); a failure is logged, never fatal: the sweep
 * finds a leaked tap by its alias. */
static int nics_down(const struct gr_inst_spec *s)
{
	gr_error_t e;
	if (s->n_nics && gr_net_tap_detach(s->name, s->n_nics, &e) < 0)
		gr_log_warn("%s: %s", s->name, e.msg);
	return 0;
}

/* define and start need the master: its error ("image 'x' not found") is theirs */
static int need_master(struct vm_holder *h, gr_error_t *err)
{
	if (h->boot_dir)
		return 0;
	_cleanup_free_ char *dir = boot_dir_of(h->a, h->vm.image, err);
	if (!dir && err && !err->code)
		gr_error_set(err, ENOENT, "VM '%s': no master image given", h->vm.name);
	return -1;
}

#define WITH_VM(call)                                                 \
	do {                                                          \
		struct vm_holder h;                                   \
		int r__ = holder_init(&h, a, s, err);                 \
		if (r__ == 0)                                         \
			r__ = (call);                                 \
		holder_clear(&h);                                     \
		return r__;                                           \
	} while (0)

static int vm_define(const struct gr_agent *a, const struct gr_inst_spec *s, gr_error_t *err)
{
	WITH_VM(need_master(&h, err) < 0 ? -1 : gr_vm_define(&h.vm, err));
}

static int vm_start(const struct gr_agent *a, const struct gr_inst_spec *s, pid_t *pid, gr_error_t *err)
{
	struct vm_holder h;
	int r = holder_init(&h, a, s, err);
	if (r == 0) {
		/* QEMU appends to console.log (logappend=on): rotate a big one first */
		_cleanup_free_ char *logp = gr_vm_path(&h.vm, "console.log");
		gr_error_t e2;
		if (gr_inst_log_rotate(logp, GR_INST_LOG_MAX, &e2) < 0)
			gr_log_warn("%s: %s", s->name, e2.msg);
		r = need_master(&h, err) < 0 ? -1 : 0;
		if (r == 0 && s->n_nics)
			r = nics_up(s, err);
		if (r == 0 && (r = gr_vm_start(&h.vm, pid, err)) < 0)
			nics_down(s);
		/* QEMU has max_memory: the balloon holds the guest to its size from the start */
		if (r == 0 && h.vm.max_memory_mb > h.vm.memory_mb && gr_vm_balloon_set(&h.vm, h.vm.memory_mb, err) < 0) {
			gr_error_prefix(err, "starting VM '%s'", s->name);
			gr_vm_stop(&h.vm, 0, 1, NULL);
			nics_down(s);
			r = -1;
		}
	}
	holder_clear(&h);
	return r;
}

static int vm_stop(const struct gr_agent *a, const struct gr_inst_spec *s, int timeout_s, bool force, gr_error_t *err)
{
	WITH_VM(gr_vm_stop(&h.vm, (timeout_s > 0 ? timeout_s : STOP_DEFAULT_S) * 1000, force || timeout_s == 0, err) < 0
			? -1
			: nics_down(s));
}

static int do_kill(struct vm_holder *h, int sig, gr_error_t *err)
{
	struct gr_vm_state st;
	if (gr_vm_state_get(&h->vm, &st, err) < 0)
		return -1;
	if (st.status != GR_VM_RUNNING && st.status != GR_VM_PAUSED)
		return gr_error_set(err, ESRCH, "VM '%s' is not running", h->vm.name);
	if (kill(st.pid, sig) < 0)
		return gr_error_sys(err, "kill(%d, %d)", (int)st.pid, sig);
	return 0;
}

static int vm_kill(const struct gr_agent *a, const struct gr_inst_spec *s, int sig, gr_error_t *err)
{
	WITH_VM(do_kill(&h, sig, err));
}

static int vm_cleanup(const struct gr_agent *a, const struct gr_inst_spec *s, gr_error_t *err)
{
	WITH_VM(gr_vm_cleanup(&h.vm, err) < 0 ? -1 : nics_down(s));
}

static int vm_delete(const struct gr_agent *a, const struct gr_inst_spec *s, bool force, gr_error_t *err)
{
	WITH_VM(gr_vm_delete(&h.vm, force, err) < 0 ? -1 : nics_down(s));
}

static int do_state(struct vm_holder *h, struct gr_drv_state *out, gr_error_t *err)
{
	struct gr_vm_state st;
	memset(out, 0, sizeof(*out));
	if (gr_vm_state_get(&h->vm, &st, err) < 0)
		return -1;
	switch (st.status) {
	case GR_VM_ABSENT: out->status = GR_DRV_ABSENT; break;
	case GR_VM_DEFINED:
	case GR_VM_STOPPED: out->status = GR_DRV_STOPPED; break;
	case GR_VM_RUNNING:
	case GR_VM_PAUSED: out->status = GR_DRV_RUNNING; out->pid = st.pid; break;
	}
	return 0;
}

static int vm_state(const struct gr_agent *a, const struct gr_inst_spec *s, struct gr_drv_state *out,
		    gr_error_t *err)
{
	WITH_VM(do_state(&h, out, err));
}

static int do_exec(struct vm_holder *h, const struct gr_exec_req *req, int *exit_status, gr_error_t *err)
{
	struct gr_vm_exec x = {
		.cmd = req->cmd, .env = req->env, .cwd = req->cwd, .fd_in = req->fd_in, .fd_out = req->fd_out,
		.fd_err = req->fd_err, .console_socket = req->tty ? req->console_socket : NULL, .cols = req->cols,
		.rows = req->rows,
	};
	return gr_vm_agent_exec(&h->vm, &x, exit_status, err);
}

static int vm_exec(const struct gr_agent *a, const struct gr_inst_spec *s, const struct gr_exec_req *req,
		   int *exit_status, gr_error_t *err)
{
	WITH_VM(do_exec(&h, req, exit_status, err));
}

static int vm_console(const struct gr_agent *a, const struct gr_inst_spec *s, char **out_path, char **in_path,
		      gr_error_t *err)
{
	struct vm_holder h;
	if (holder_init(&h, a, s, err) < 0) {
		holder_clear(&h);
		return -1;
	}
	/* QEMU serves one console client; a second would wait unanswered: refuse it */
	struct gr_vm_state st;
	if (in_path && gr_vm_state_get(&h.vm, &st, NULL) == 0 && st.status != GR_VM_ABSENT &&
	    (st.status == GR_VM_RUNNING || st.status == GR_VM_PAUSED) && gr_vm_console_check_free(&h.vm, err) < 0) {
		holder_clear(&h);
		return -1;
	}
	*out_path = gr_vm_path(&h.vm, "console.log");
	if (in_path)
		*in_path = gr_vm_path(&h.vm, "serial.sock");
	holder_clear(&h);
	return 0;
}

static int vm_update(const struct gr_agent *a, const struct gr_inst_spec *old, const struct gr_inst_spec *s,
		     gr_error_t *err)
{
	struct vm_holder ho, hn;
	int rc = holder_init(&ho, a, old, err);
	if (rc == 0)
		rc = holder_init(&hn, a, s, err);
	else
		memset(&hn, 0, sizeof hn);
	for (const char *const *k = (const char *const[]){"max_cpu", "max_memory", NULL}; rc == 0 && *k; k++) {
		json_t *a1 = json_object_get(ho.opts, *k), *b1 = json_object_get(hn.opts, *k);
		struct gr_vm_state st;
		if (!json_equal(a1, b1) && (a1 || b1) && gr_vm_state_get(&hn.vm, &st, NULL) == 0 &&
		    (st.status == GR_VM_RUNNING || st.status == GR_VM_PAUSED))
			rc = gr_error_set(err, EINVAL, "options.%s: fixed while VM '%s' runs (it applies at the next "
					  "start)", *k, s->name);
	}
	if (rc == 0)
		rc = gr_vm_update(&ho.vm, &hn.vm, err);
	holder_clear(&ho);
	holder_clear(&hn);
	return rc;
}

static int do_stats(struct vm_holder *h, struct gr_drv_stats *out, gr_error_t *err)
{
	struct gr_vm_stats st;
	memset(out, 0, sizeof(*out));
	if (gr_vm_stats_get(&h->vm, &st, err) < 0)
		return -1;
	out->cpu_ns = st.cpu_ns;
	out->memory_bytes = st.rss_bytes;
	out->memory_limit = st.memory_mb << 20;
	out->pids = 1;
	return 0;
}

static int vm_stats(const struct gr_agent *a, const struct gr_inst_spec *s, struct gr_drv_stats *out,
		    gr_error_t *err)
{
	WITH_VM(do_stats(&h, out, err));
}

static int vm_snap_create(const struct gr_agent *a, const struct gr_inst_spec *s, const char *snap, gr_error_t *err)
{
	WITH_VM(gr_vm_snapshot_create(&h.vm, snap, err));
}

static int vm_snap_restore(const struct gr_agent *a, const struct gr_inst_spec *s, const char *snap,
			   gr_error_t *err)
{
	WITH_VM(gr_vm_snapshot_restore(&h.vm, snap, err));
}

static int vm_snap_delete(const struct gr_agent *a, const struct gr_inst_spec *s, const char *snap, gr_error_t *err)
{
	WITH_VM(gr_vm_snapshot_delete(&h.vm, snap, err));
}

static int vm_reattach(const struct gr_agent *a, const struct gr_inst_spec *s, pid_t *pid,
		       gr_error_t *err)
{
	struct gr_drv_state st;
	*pid = 0;
	if (vm_state(a, s, &st, err) < 0)
		return -1;
	if (st.status == GR_DRV_RUNNING)
		*pid = st.pid;
	return 0;
}

/* ---- live move (vm/migrate.c) ---- */

static int do_move_listen(struct vm_holder *h, const struct gr_inst_spec *s, const char *ip, int nbd_port,
			  int mig_port, pid_t *pid, gr_error_t *err)
{
	if (need_master(h, err) < 0)
		return -1;
	if (s->n_nics && nics_up(s, err) < 0)
		return -1;
	h->vm.incoming = "defer";
	if (gr_vm_start(&h->vm, pid, err) < 0) {
		nics_down(s);
		return -1;
	}
	if (gr_vm_migrate_listen(&h->vm, ip, nbd_port, mig_port, err) < 0) {
		gr_vm_stop(&h->vm, 0, 1, NULL);
		nics_down(s);
		return -1;
	}
	return 0;
}

static int vm_move_listen(const struct gr_agent *a, const struct gr_inst_spec *s, const char *ip, int nbd_port,
			  int mig_port, pid_t *pid, gr_error_t *err)
{
	WITH_VM(do_move_listen(&h, s, ip, nbd_port, mig_port, pid, err));
}

static int vm_move_resume(const struct gr_agent *a, const struct gr_inst_spec *s, gr_error_t *err)
{
	WITH_VM(gr_vm_migrate_resume(&h.vm, err));
}

static void move_progress(const struct gr_vm_migrate_progress *p, void *ud)
{
	const struct gr_move_req *m = ud;
	struct gr_move_progress mp = { .phase = p->phase, .transferred = p->transferred, .remaining = p->remaining,
				       .total = p->total, .dirty_rate = p->dirty_rate,
				       .expected_downtime_ms = p->expected_downtime_ms };
	m->progress(&mp, m->ud);
}

static int do_move_send(struct vm_holder *h, const struct gr_move_req *m, gr_error_t *err)
{
	if (h->vm.ephemeral)
		return gr_error_set(err, ENOTSUP, "VM '%s' is ephemeral: moving its run layer is not supported yet",
				    h->vm.name);
	struct gr_vm_migrate_out o = { .host = m->host, .nbd_port = m->nbd_port, .mig_port = m->mig_port,
				       .bandwidth = m->bandwidth, .downtime_ms = m->downtime_ms };
	int64_t dt = 0;
	int r = gr_vm_migrate_send(&h->vm, &o, m->progress ? move_progress : NULL, (void *)m, &dt, err);
	((struct gr_move_req *)m)->downtime_out_ms = dt;
	return r;
}

static int vm_move_send(const struct gr_agent *a, const struct gr_inst_spec *s, const struct gr_move_req *m,
			gr_error_t *err)
{
	WITH_VM(do_move_send(&h, m, err));
}

static int vm_move_abort(const struct gr_agent *a, const struct gr_inst_spec *s, gr_error_t *err)
{
	WITH_VM(gr_vm_migrate_abort(&h.vm, err));
}

/* VMs without a record: an instance folder holding vm.json, or a socket
 * folder under <run_dir>/vm/, whose name the daemon does not know.  QEMU is
 * stopped (forced) and its files removed. */
static int vm_sweep(const struct gr_agent *a, gr_known_fn known, void *ud, gr_error_t *err)
{
	int removed = 0;
	_cleanup_free_ char *inst_dir = xasprintf("%s/instances", a->state_dir);
	_cleanup_free_ char *sock_root = xasprintf("%s/vm", a->run_dir ? a->run_dir : "/run/gureum");
	const char *roots[] = { inst_dir, sock_root };
	for (int k = 0; k < 2; k++) {
		DIR *d = opendir(roots[k]);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.' || known(de->d_name, ud) || !gr_layer_id_valid(de->d_name))
				continue;
			_cleanup_free_ char *meta = xasprintf("%s/%s/vm.json", inst_dir, de->d_name);
			if (k == 0 && access(meta, F_OK) < 0)
				continue;
			_cleanup_free_ char *dir = xasprintf("%s/%s", inst_dir, de->d_name);
			struct gr_inst_spec s = { .name = de->d_name, .backend = GR_BACKEND_VM, .image = "",
						  .dir = dir };
			gr_log_info("sweep: removing VM %s (no record)", de->d_name);
			gr_error_t e;
			if (vm_delete(a, &s, true, &e) < 0)
				gr_log_warn("sweep: VM %s: %s", de->d_name, e.msg);
			else
				removed++;
		}
		if (d)
			closedir(d);
	}
	return removed;
}

/* ---- the debian-vm master: the VM module builds it, the image module publishes it ---- */

struct build_ud {
	gr_image_progress_fn fn;
	void *ud;
};

static void build_step(const char *phase, const char *message, void *ud)
{
	struct build_ud *b = ud;
	if (b->fn) {
		struct gr_image_progress pr = { .phase = phase, .message = message };
		b->fn(&pr, b->ud);
	}
}

static int build_debian_vm(const struct gr_image_ctx *ctx, const char *stage_dir, gr_image_progress_fn progress,
			   void *ud, char **source, gr_error_t *err)
{
	(void)ctx;
	struct build_ud b = { progress, ud };
	if (gr_vm_image_build(stage_dir, NULL, build_step, &b, err) < 0)
		return -1;
	_cleanup_free_ char *key = gr_vm_image_inputs_key();
	*source = xasprintf("build:debian-vm %s", key);
	return 0;
}

static const struct gr_image_recipe vm_recipes[] = {
	{ "debian-vm", GR_IMAGE_KIND_QCOW2, "bootable Debian VM disk with kernel and initrd (VM driver)",
	  build_debian_vm },
	{ NULL, NULL, NULL, NULL },
};

const struct gr_driver_ops gr_driver_vm = {
	.name = "vm",
	.recipes = vm_recipes,
	.backend = GR_BACKEND_VM,
	.default_cpu = 1,
	.default_memory = 256ull << 20,
	.check_options = vm_check_options,
	.reattach = vm_reattach,
	.sweep = vm_sweep,
	.define = vm_define,
	.start = vm_start,
	.stop = vm_stop,
	.kill = vm_kill,
	.cleanup = vm_cleanup,
	.delete = vm_delete,
	.state = vm_state,
	.exec = vm_exec,
	.console = vm_console,
	.update = vm_update,
	.stats = vm_stats,
	.snapshot_create = vm_snap_create,
	.snapshot_restore = vm_snap_restore,
	.snapshot_delete = vm_snap_delete,
	.move_listen = vm_move_listen,
	.move_resume = vm_move_resume,
	.move_send = vm_move_send,
	.move_abort = vm_move_abort,
};
