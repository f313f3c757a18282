/*
 * devices_bpf.c - linux.resources.devices on cgroup v2: an eBPF program of type
 * BPF_PROG_TYPE_CGROUP_DEVICE attached to the container's cgroup2 leaf.
 *
 * cgroup v2 has no devices.allow/deny files; the kernel instead runs the
 * device programs attached to a process's cgroup on every open/mknod of a
 * device node.  The program is generated from the rules (plus the devices
 * every container needs, as on v1): the LAST matching rule decides, so the
 * rules are emitted in reverse and the first match returns; no match denies.
 * Used by the v2 back-end when the devices controller is not on v1.
 */
#include "runtime/runtime-internal.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* registers: r1 ctx; r2 type; r3 access; r4 major; r5 minor; r6 scratch */
static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	return (struct bpf_insn){ .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
}

struct prog {
	struct bpf_insn *v;
	size_t n, cap;
};

static void emit(struct prog *p, struct bpf_insn i)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->v = xrealloc(p->v, p->cap * sizeof *p->v);
	}
	p->v[p->n++] = i;
}

static int access_bits(const char *a)
{
	int bits = 0;
	for (; a && *a; a++)
		bits |= *a == 'm' ? BPF_DEVCG_ACC_MKNOD : *a == 'r' ? BPF_DEVCG_ACC_READ
			: *a == 'w' ? BPF_DEVCG_ACC_WRITE : 0;
	return bits ? bits : BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
}

/* One rule: jumps to the next rule unless every present condition matches.
 * Returns true for a catch-all rule (no condition): nothing after it is reachable,
 * and the verifier refuses unreachable instructions. */
static bool emit_rule(struct prog *p, const struct gr_oci_device_rule *r)
{
	int acc = access_bits(r->access);
	bool all_acc = acc == (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE);
	int checks = (r->type != 'a') + (all_acc ? 0 : 2) + (r->major >= 0) + (r->minor >= 0);
	int left = checks + 2; /* instructions after the current one up to the next rule */
	if (r->type != 'a') {
		left--;
		emit(p, insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, (int16_t)left,
			     r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR));
	}
	if (!all_acc) { /* requested access must be a subset of the rule's */
		left--;
		emit(p, insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_3, 0, 0));
		left--;
		emit(p, insn(BPF_JMP | BPF_JSET | BPF_K, BPF_REG_6, 0, (int16_t)left, ~acc & 0xffff));
	}
	if (r->major >= 0) {
		left--;
		emit(p, insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, (int16_t)left, (int32_t)r->major));
	}
	if (r->minor >= 0) {
		left--;
		emit(p, insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, (int16_t)left, (int32_t)r->minor));
	}
	emit(p, insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, r->allow ? 1 : 0));
	emit(p, insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	return checks == 0;
}

static const struct gr_oci_device_rule default_rules[] = {
	{ true, 'c', 1, 3, "rwm" }, { true, 'c', 1, 5, "rwm" }, { true, 'c', 1, 7, "rwm" },
	{ true, 'c', 1, 8, "rwm" }, { true, 'c', 1, 9, "rwm" }, { true, 'c', 5, 0, "rwm" },
	{ true, 'c', 5, 1, "rwm" }, { true, 'c', 5, 2, "rwm" }, { true, 'c', 136, -1, "rwm" },
};

int gr__devices_bpf_build(const struct gr_oci_device_rule *rules, size_t n, struct bpf_insn **out,
			  size_t *len)
{
	struct prog p = { 0 };
	/* r2 = type, r3 = access, r4 = major, r5 = minor */
	emit(&p, insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0));
	emit(&p, insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0));
	emit(&p, insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff));
	emit(&p, insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16));
	emit(&p, insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0));
	emit(&p, insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0));
	/* the defaults were appended last on v1, so they are checked first here */
	for (size_t i = sizeof default_rules / sizeof default_rules[0]; i-- > 0;)
		emit_rule(&p, &default_rules[i]);
	bool catch_all = false;
	for (size_t i = n; i-- > 0 && !catch_all;)
		catch_all = emit_rule(&p, &rules[i]);
	if (!catch_all) { /* no rule matched: deny */
		emit(&p, insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0));
		emit(&p, insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
	}
	*out = p.v;
	*len = p.n;
	return 0;
}

int gr__devices_bpf_attach(const char *cgroup_dir, const struct gr_oci_device_rule *rules, size_t n,
			   gr_error_t *err)
{
	struct bpf_insn *insns;
	size_t len;
	gr__devices_bpf_build(rules, n, &insns, &len);
	union bpf_attr load;
	memset(&load, 0, sizeof load);
	load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	load.insns = (uint64_t)(uintptr_t)insns;
	load.insn_cnt = (uint32_t)len;
	load.license = (uint64_t)(uintptr_t)"GPL";
	int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
	if (prog < 0) { /* once more with the verifier's log, for the message */
		int saved = errno;
		static __thread char log[65536];
		log[0] = '\0';
		load.log_buf = (uint64_t)(uintptr_t)log;
		load.log_size = sizeof log;
		load.log_level = 1;
		syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
		free(insns);
		errno = saved;
		return gr_error_sys(err, "linux.resources.devices: the cgroup v2 device program was refused (%.300s)",
				    log);
	}
	free(insns);
	int cg = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		close(prog);
		return gr_error_sys(err, "cannot open cgroup %s", cgroup_dir);
	}
	union bpf_attr at;
	memset(&at, 0, sizeof at);
	at.target_fd = (uint32_t)cg;
	at.attach_bpf_fd = (uint32_t)prog;
	at.attach_type = BPF_CGROUP_DEVICE;
	int r = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &at, sizeof at);
	int saved = errno;
	close(cg);
	close(prog); /* the attachment keeps the program alive with the cgroup */
	if (r < 0) {
		errno = saved;
		return gr_error_sys(err, "linux.resources.devices: attaching the device program to %s",
				    cgroup_dir);
	}
	return 0;
}
