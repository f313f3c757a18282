/*
 * vm-internal.h - helpers shared by the files of src/vm/ (not a public API).
 * struct gr__vm_run mirrors <dir>/state.json: what a started QEMU is.
 */
#ifndef GR_VM_INTERNAL_H
#define GR_VM_INTERNAL_H

#include "vm/vm.h"

struct gr__vm_run {
	pid_t pid;                     /* 0 when not started / cleaned up */
	unsigned long long start_time; /* /proc/<pid>/stat field 22 at start */
	char disk[4096];               /* the qcow2 QEMU opened */
	int ephemeral;
	long long console_offset;      /* console.log size when this boot started */
};

long long gr__vm_now_ms(void);
const char *gr__vm_cg_parent(const struct gr_vm_spec *s);
unsigned long long gr__vm_start_time(pid_t pid);
int gr__vm_alive(const struct gr__vm_run *r);
int gr__vm_run_read(const struct gr_vm_spec *s, struct gr__vm_run *r, gr_error_t *err);
/* ops.c: QMP of a running VM (ESRCH when it is not running). */
int gr__vm_connect_running(const struct gr_vm_spec *s, struct gr_qmp_conn **c, gr_error_t *err);
int gr__vm_run_write(const struct gr_vm_spec *s, const struct gr__vm_run *r, gr_error_t *err);
int gr__vm_wait_gone(const struct gr__vm_run *r, int timeout_ms);
int gr__vm_pidfd_open(pid_t pid);
/* ops.c: 1 when the guest opened the agent's virtio-serial port (waits up to timeout_ms),
 * 0 when it did not, -1 on error (ENOTSUP: QEMU has no agent port). */
int gr__vm_agent_port_open(const struct gr_vm_spec *s, int timeout_ms, gr_error_t *err);

#endif
