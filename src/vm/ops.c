/*
 * ops.c - controls of a running VM through QMP: pause (stop), resume (cont), hard reset
 * (system_reset), what QEMU reports about it (vCPUs, guest RAM), the balloon, whether
 * the console has a client, and live resizing (gr_vm_update).  Each call opens a
 * QMP connection for its duration (QEMU serves one QMP client at a time; holding one
 * would lock out everyone else) and fails with ESRCH when the VM is not running.
 */
#include "vm/vm-internal.h"
#include "util/alloc.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* QMP of a running VM (ESRCH when it is not running). */
int gr__vm_connect_running(const struct gr_vm_spec *s, struct gr_qmp_conn **c, gr_error_t *err)
{
	struct gr__vm_run r;
	if (gr__vm_run_read(s, &r, NULL) < 0 || !gr__vm_alive(&r))
		return gr_error_set(err, ESRCH, "VM '%s' is not running", s->name);
	_cleanup_free_ char *qmp = gr_vm_path(s, "qmp.sock");
	if (gr_qmp_connect(qmp, 5000, c, err) < 0)
		return gr_error_prefix(err, "VM '%s'", s->name);
	return 0;
}

static int run(const struct gr_vm_spec *s, int (*fn)(struct gr_qmp_conn *, gr_error_t *), const char *what,
	       gr_error_t *err)
{
	struct gr_qmp_conn *c = NULL;
	if (gr__vm_connect_running(s, &c, err) < 0)
		return -1;
	int rc = fn(c, err);
	gr_qmp_close(c);
	return rc < 0 ? gr_error_prefix(err, "%s VM '%s'", what, s->name) : 0;
}

int gr_vm_pause(const struct gr_vm_spec *s, gr_error_t *err)
{
	return run(s, gr_qmp_stop, "pausing", err);
}

int gr_vm_resume(const struct gr_vm_spec *s, gr_error_t *err)
{
	return run(s, gr_qmp_cont, "resuming", err);
}

int gr_vm_reset(const struct gr_vm_spec *s, gr_error_t *err)
{
	return run(s, gr_qmp_system_reset, "resetting", err);
}

int gr_vm_info(const struct gr_vm_spec *s, int *vcpus, uint64_t *ram_bytes, gr_error_t *err)
{
	struct gr_qmp_conn *c = NULL;
	if (gr__vm_connect_running(s, &c, err) < 0)
		return -1;
	int rc = gr_qmp_query_cpus(c, vcpus, NULL, 0, err);
	if (rc == 0)
		rc = gr_qmp_query_memory(c, ram_bytes, NULL, err);
	gr_qmp_close(c);
	return rc;
}

int gr_vm_balloon_set(const struct gr_vm_spec *s, uint64_t mb, gr_error_t *err)
{
	struct gr_qmp_conn *c = NULL;
	if (gr__vm_connect_running(s, &c, err) < 0)
		return -1;
	int rc = gr_qmp_exec(c, "balloon", json_pack("{s:I}", "value", (json_int_t)(mb << 20)), 5000, NULL, err);
	gr_qmp_close(c);
	return rc < 0 ? gr_error_prefix(err, "VM '%s': balloon", s->name) : 0;
}

int gr_vm_balloon_get(const struct gr_vm_spec *s, uint64_t *bytes, gr_error_t *err)
{
	struct gr_qmp_conn *c = NULL;
	if (gr__vm_connect_running(s, &c, err) < 0)
		return -1;
	json_t *ret = NULL;
	int rc = gr_qmp_exec(c, "query-balloon", NULL, 5000, &ret, err);
	gr_qmp_close(c);
	if (rc < 0)
		return gr_error_prefix(err, "VM '%s': query-balloon", s->name);
	json_t *v = json_object_get(ret, "actual");
	rc = json_is_integer(v) ? 0 : gr_error_set(err, EPROTO, "VM '%s': query-balloon: no \"actual\"", s->name);
	if (rc == 0)
		*bytes = (uint64_t)json_integer_value(v);
	json_decref(ret);
	return rc;
}

/* query-chardev: is a client connected to chardev `label`?  1 yes, 0 no. */
static int chardev_connected(struct gr_qmp_conn *c, const char *label, int *frontend_open, gr_error_t *err)
{
	json_t *ret = NULL, *v;
	size_t i;
	if (gr_qmp_exec(c, "query-chardev", NULL, 5000, &ret, err) < 0)
		return -1;
	int rc = gr_error_set(err, ENOENT, "QEMU has no chardev '%s'", label);
	json_array_foreach(ret, i, v) {
		const char *l = json_string_value(json_object_get(v, "label"));
		const char *f = json_string_value(json_object_get(v, "filename"));
		if (!l || strcmp(l, label))
			continue;
		if (frontend_open)
			*frontend_open = json_is_true(json_object_get(v, "frontend-open"));
		/* a listening socket without a client is "disconnected:unix:..." */
		rc = f && strncmp(f, "disconnected:", 13) ? 1 : 0;
		gr_error_clear(err);
		break;
	}
	json_decref(ret);
	return rc;
}

int gr_vm_console_check_free(const struct gr_vm_spec *s, gr_error_t *err)
{
	struct gr_qmp_conn *c = NULL;
	if (gr__vm_connect_running(s, &c, err) < 0)
		return -1;
	int rc = chardev_connected(c, "console", NULL, err);
	gr_qmp_close(c);
	if (rc < 0)
		return gr_error_prefix(err, "VM '%s' console", s->name);
	if (rc == 1)
		return gr_error_set(err, EBUSY, "the console of VM '%s' is in use by another session (one console at a "
				    "time; use `gureum exec` to run commands alongside it)", s->name);
	return 0;
}

/* 1 when the guest has the agent's port open; waits up to timeout_ms for it. */
int gr__vm_agent_port_open(const struct gr_vm_spec *s, int timeout_ms, gr_error_t *err)
{
	long long deadline = gr__vm_now_ms() + timeout_ms;
	for (;;) {
		struct gr_qmp_conn *c = NULL;
		if (gr__vm_connect_running(s, &c, err) < 0)
			return -1;
		int open = 0;
		int rc = chardev_connected(c, "agent", &open, err);
		gr_qmp_close(c);
		if (rc < 0 && err && err->code == ENOENT)
			return gr_error_set(err, ENOTSUP, "VM '%s' was started without the guest agent's port (QEMU "
					    "predates it): restart the VM to get one", s->name);
		if (rc < 0)
			return -1;
		if (open)
			return 1;
		if (gr__vm_now_ms() >= deadline)
			return 0;
		usleep(50000);
	}
}

int gr_vm_update(const struct gr_vm_spec *old, const struct gr_vm_spec *s, gr_error_t *err)
{
	struct gr__vm_run r;
	if (gr__vm_run_read(s, &r, NULL) < 0 || !gr__vm_alive(&r))
		return 0; /* stopped: the next start uses the new spec */
	unsigned oc = old->cpus ? old->cpus : 1, nc = s->cpus ? s->cpus : 1;
	uint64_t om = old->memory_mb ? old->memory_mb : 256, nm = s->memory_mb ? s->memory_mb : 256;
	/* the maximums are what QEMU was started with (its vCPUs and RAM), whatever the
	 * record says now */
	int vcpus = 0;
	uint64_t ram = 0;
	if (gr_vm_info(s, &vcpus, &ram, err) < 0)
		return gr_error_prefix(err, "VM '%s': resize", s->name);
	unsigned maxc = vcpus > 0 ? (unsigned)vcpus : oc;
	uint64_t maxm = ram ? ram >> 20 : om;
	if (nc > maxc)
		return gr_error_set(err, EINVAL, "cpu: %u vCPUs is more than VM '%s' may have while running (max_cpu "
				    "%u, set at launch; stop it to go beyond)", nc, s->name, maxc);
	if (nm > maxm)
		return gr_error_set(err, EINVAL, "memory: %llu MiB is more than VM '%s' may have while running "
				    "(max_memory %llu MiB, set at launch; stop it to go beyond)",
				    (unsigned long long)nm, s->name, (unsigned long long)maxm);
	if (nm < 64)
		return gr_error_set(err, EINVAL, "memory: %llu MiB is too little for a running VM (at least 64 MiB)",
				    (unsigned long long)nm);
	if (nm != om) {
		/* room first when growing (guest RAM + QEMU's own 512 MiB, as at start) */
		if (nm > om && gr_vm_cgroup_set_memory(gr__vm_cg_parent(s), s->name, (nm + 512) << 20, err) < 0)
			return gr_error_prefix(err, "VM '%s': memory", s->name);
		if (gr_vm_balloon_set(s, nm, err) < 0)
			return -1;
	}
	if (nc != oc) {
		int online = 0;
		if (gr_vm_agent_set_cpus(s, nc, &online, err) < 0) {
			if (nm != om)
				gr_vm_balloon_set(s, om, NULL);
			return gr_error_prefix(err, "cpu");
		}
	}
	if (old->cpu_limit != s->cpu_limit &&
	    gr_vm_cgroup_set_cpu(gr__vm_cg_parent(s), s->name, s->cpu_limit, err) < 0)
		return gr_error_prefix(err, "VM '%s': cpu", s->name);
	return 0;
}
