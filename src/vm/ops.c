/*
 * ops.c - controls of a running VM through QMP: pause (stop), resume (cont), hard reset
 * (system_reset), and what QEMU reports about it (vCPUs, guest RAM).  Each call opens a
 * QMP connection for its duration (QEMU serves one QMP client at a time; holding one
 * would lock out everyone else) and fails with ESRCH when the VM is not running.
 */
#include "vm/vm-internal.h"
#include "util/alloc.h"

#include <errno.h>

static int connect_running(const struct gr_vm_spec *s, struct gr_qmp_conn **c, gr_error_t *err)
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
	if (connect_running(s, &c, err) < 0)
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
	if (connect_running(s, &c, err) < 0)
		return -1;
	int rc = gr_qmp_query_cpus(c, vcpus, NULL, 0, err);
	if (rc == 0)
		rc = gr_qmp_query_memory(c, ram_bytes, NULL, err);
	gr_qmp_close(c);
	return rc;
}

int gr_vm_update(const struct gr_vm_spec *old, const struct gr_vm_spec *s, gr_error_t *err)
{
	struct gr__vm_run r;
	if (gr__vm_run_read(s, &r, NULL) < 0 || !gr__vm_alive(&r))
		return 0; /* stopped: the next start uses the new spec */
	unsigned oc = old->cpus ? old->cpus : 1, nc = s->cpus ? s->cpus : 1;
	uint64_t om = old->memory_mb ? old->memory_mb : 256, nm = s->memory_mb ? s->memory_mb : 256;
	if (oc != nc)
		return gr_error_set(err, ENOTSUP, "cpus: the vCPU count of a running VM cannot change; stop it first");
	if (om != nm)
		return gr_error_set(err, ENOTSUP, "memory: the RAM of a running VM cannot change; stop it first");
	if (old->cpu_limit != s->cpu_limit &&
	    gr_vm_cgroup_set_cpu(gr__vm_cg_parent(s), s->name, s->cpu_limit, err) < 0)
		return gr_error_prefix(err, "VM '%s': cpu", s->name);
	return 0;
}
