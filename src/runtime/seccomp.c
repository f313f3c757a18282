/*
 * seccomp.c - linux.seccomp compiled to a classic BPF program with libseccomp.
 *
 * The compile runs in the parent (libseccomp allocates); the child only
 * installs the finished program with seccomp(2), as the last step before
 * execve, so the container's init never calls into libseccomp.  Syscall names
 * unknown on this architecture are skipped (runc and crun do the same); a
 * rule whose action equals the default action is redundant and skipped.
 *
 * Compiling a 300-syscall allowlist costs libseccomp ~10-25 ms, more than the
 * rest of a container start, so finished programs are cached in
 * <root>/.cache/seccomp-<hash>: the file holds the full serialized filter
 * description (the key) and the program; a hit needs an exact key match, so a
 * hash collision can only cost a recompile.  A broken cache file is ignored.
 * The key starts with the build of the code that compiles: the GNU build id of
 * the object holding this file (any change to the runtime binary changes it;
 * without one, the executable's inode, size and mtime), the compiler's format
 * version and libseccomp's version, so a changed runtime never uses a filter
 * an older one compiled.
 */
#include "runtime/runtime-internal.h"
#include "util/alloc.h"

#include <ctype.h>
#include <elf.h>
#include <link.h>
#include <fcntl.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int action_of(enum gr_seccomp_action a, bool has_errno, unsigned errno_ret, uint32_t *out,
		     gr_error_t *err, const char *where)
{
	switch (a) {
	case GR_SCMP_KILL: case GR_SCMP_KILL_THREAD: *out = SCMP_ACT_KILL_THREAD; return 0;
	case GR_SCMP_KILL_PROCESS: *out = SCMP_ACT_KILL_PROCESS; return 0;
	case GR_SCMP_TRAP: *out = SCMP_ACT_TRAP; return 0;
	case GR_SCMP_ERRNO: *out = SCMP_ACT_ERRNO(has_errno ? errno_ret : EPERM); return 0;
	case GR_SCMP_TRACE: *out = SCMP_ACT_TRACE(has_errno ? errno_ret : EPERM); return 0;
	case GR_SCMP_ALLOW: *out = SCMP_ACT_ALLOW; return 0;
	case GR_SCMP_LOG: *out = SCMP_ACT_LOG; return 0;
	case GR_SCMP_NOTIFY: break;
	}
	return gr_error_set(err, ENOTSUP, "%s: SCMP_ACT_NOTIFY is not supported (no listener socket)", where);
}

static const enum scmp_compare ops[] = {
	[GR_SCMP_NE] = SCMP_CMP_NE, [GR_SCMP_LT] = SCMP_CMP_LT, [GR_SCMP_LE] = SCMP_CMP_LE,
	[GR_SCMP_EQ] = SCMP_CMP_EQ, [GR_SCMP_GE] = SCMP_CMP_GE, [GR_SCMP_GT] = SCMP_CMP_GT,
	[GR_SCMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

static uint32_t arch_of(const char *name)
{
	char low[64];
	const char *p = name;
	if (!strncmp(p, "SCMP_ARCH_", 10))
		p += 10;
	size_t i = 0;
	for (; p[i] && i < sizeof low - 1; i++)
		low[i] = (char)tolower((unsigned char)p[i]);
	low[i] = '\0';
	return seccomp_arch_resolve_name(low);
}

static int build(scmp_filter_ctx ctx, const struct gr_oci_seccomp *s, uint32_t def, gr_error_t *err)
{
	for (size_t i = 0; s->architectures && s->architectures[i]; i++) {
		uint32_t a = arch_of(s->architectures[i]);
		if (!a)
			return gr_error_set(err, EINVAL, "linux.seccomp.architectures[%zu]: unknown '%s'", i,
					    s->architectures[i]);
		int r = seccomp_arch_add(ctx, a);
		if (r < 0 && r != -EEXIST)
			return gr_error_set(err, -r, "linux.seccomp.architectures[%zu]: cannot add '%s'",
					    i, s->architectures[i]);
	}
	for (size_t i = 0; s->flags && s->flags[i]; i++) {
		const char *f = s->flags[i];
		if (!strcmp(f, "SECCOMP_FILTER_FLAG_LOG"))
			seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
		else if (!strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
			seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC"))
			return gr_error_set(err, EINVAL, "linux.seccomp.flags[%zu]: unknown '%s'", i, f);
	}
	for (size_t i = 0; i < s->n_syscalls; i++) {
		const struct gr_oci_seccomp_rule *rule = &s->syscalls[i];
		char where[64];
		snprintf(where, sizeof where, "linux.seccomp.syscalls[%zu]", i);
		uint32_t act;
		if (action_of(rule->action, rule->has_errno_ret, rule->errno_ret, &act, err, where) < 0)
			return -1;
		if (act == def)
			continue;
		struct scmp_arg_cmp cmp[6];
		if (rule->n_args > 6)
			return gr_error_set(err, EINVAL, "%s.args: more than 6 conditions", where);
		for (size_t a = 0; a < rule->n_args; a++) {
			const struct gr_oci_seccomp_arg *g = &rule->args[a];
			if (g->index > 5 || g->op < GR_SCMP_NE || g->op > GR_SCMP_MASKED_EQ)
				return gr_error_set(err, EINVAL, "%s.args[%zu]: bad index or op", where, a);
			cmp[a] = (struct scmp_arg_cmp){ .arg = g->index, .op = ops[g->op],
							.datum_a = g->value, .datum_b = g->value_two };
		}
		for (size_t n = 0; rule->names && rule->names[n]; n++) {
			int nr = seccomp_syscall_resolve_name(rule->names[n]);
			if (nr == __NR_SCMP_ERROR)
				continue; /* not a syscall on this architecture */
			/* several conditions on one argument are alternatives: one rule
			 * each (runc, crun); libseccomp refuses them in one rule */
			bool same_arg = false;
			for (size_t a = 0; a < rule->n_args; a++)
				for (size_t b = a + 1; b < rule->n_args; b++)
					same_arg |= cmp[a].arg == cmp[b].arg;
			int r = 0;
			if (same_arg)
				for (size_t a = 0; a < rule->n_args && r >= 0; a++)
					r = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[a]);
			else
				r = seccomp_rule_add_array(ctx, act, nr, (unsigned)rule->n_args, cmp);
			if (r < 0)
				return gr_error_set(err, -r, "%s.names[%zu]: cannot add a rule for '%s': %s",
						    where, n, rule->names[n], strerror(-r));
		}
	}
	return 0;
}

int gr__seccomp_compile(const struct gr_oci_seccomp *s, struct gr__bpf *out, gr_error_t *err)
{
	memset(out, 0, sizeof *out);
	uint32_t def;
	if (action_of(s->default_action, s->has_default_errno, s->default_errno, &def, err,
		      "linux.seccomp.defaultAction") < 0)
		return -1;
	scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx)
		return gr_error_set(err, EINVAL, "linux.seccomp: cannot initialise libseccomp");
	/* the child sets no_new_privs itself when the process asks for it */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	int rc = build(ctx, s, def, err);
	int fd = -1;
	if (rc == 0) {
		fd = memfd_create("gr-seccomp", MFD_CLOEXEC);
		if (fd < 0)
			rc = gr_error_sys(err, "memfd_create");
	}
	if (rc == 0) {
		int r = seccomp_export_bpf(ctx, fd);
		if (r < 0)
			rc = gr_error_set(err, -r, "linux.seccomp: cannot compile the filter");
	}
	if (rc == 0) {
		off_t len = lseek(fd, 0, SEEK_END);
		if (len <= 0 || len % (off_t)sizeof(struct sock_filter) ||
		    len / (off_t)sizeof(struct sock_filter) > 65535) {
			rc = gr_error_set(err, EINVAL, "linux.seccomp: filter of %lld bytes", (long long)len);
		} else {
			out->insns = xmalloc((size_t)len);
			if (pread(fd, out->insns, (size_t)len, 0) != len) {
				rc = gr_error_sys(err, "reading the seccomp filter");
				gr__bpf_free(out);
			} else {
				out->len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
			}
		}
	}
	for (size_t i = 0; rc == 0 && s->flags && s->flags[i]; i++) {
		if (!strcmp(s->flags[i], "SECCOMP_FILTER_FLAG_TSYNC"))
			out->flags |= SECCOMP_FILTER_FLAG_TSYNC;
		else if (!strcmp(s->flags[i], "SECCOMP_FILTER_FLAG_LOG"))
			out->flags |= SECCOMP_FILTER_FLAG_LOG;
		else if (!strcmp(s->flags[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
			out->flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	}
	if (fd >= 0)
		close(fd);
	seccomp_release(ctx);
	return rc;
}

int gr__seccomp_install(const struct gr__bpf *bpf)
{
	struct sock_fprog prog = { .len = bpf->len, .filter = bpf->insns };
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, bpf->flags, &prog);
}

void gr__bpf_free(struct gr__bpf *b)
{
	free(b->insns);
	b->insns = NULL;
	b->len = 0;
}

/* ---- the compiled-filter cache ---- */

struct keybuf {
	char *p;
	size_t len, cap;
};

static void kb_add(struct keybuf *k, const void *data, size_t n)
{
	if (k->len + n > k->cap) {
		k->cap = (k->len + n) * 2 + 256;
		k->p = xrealloc(k->p, k->cap);
	}
	memcpy(k->p + k->len, data, n);
	k->len += n;
}

static void kb_str(struct keybuf *k, const char *s)
{
	kb_add(k, s ? s : "", s ? strlen(s) + 1 : 1);
}

static void kb_u64(struct keybuf *k, uint64_t v)
{
	kb_add(k, &v, sizeof v);
}

/* bumped whenever build() changes what it emits (the build id covers it too) */
#define COMPILER_VERSION "gureum-seccomp-2"

struct build_id_search {
	uintptr_t addr;      /* an address inside the object we look for */
	char hex[2 * 64 + 1];
};

static int find_build_id(struct dl_phdr_info *info, size_t size, void *data)
{
	struct build_id_search *b = data;
	bool ours = false;
	for (int i = 0; i < info->dlpi_phnum && !ours; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;
		ours = ph->p_type == PT_LOAD && b->addr >= start && b->addr < start + ph->p_memsz;
	}
	if (!ours)
		return 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
			const char *name = p + sizeof *n;
			const unsigned char *desc = (const unsigned char *)name + ((n->n_namesz + 3) & ~3u);
			if ((const char *)desc + n->n_descsz > end)
				break;
			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && !memcmp(name, "GNU", 4) &&
			    n->n_descsz && n->n_descsz <= 64) {
				for (unsigned j = 0; j < n->n_descsz; j++)
					snprintf(b->hex + 2 * j, 3, "%02x", desc[j]);
				return 1;
			}
			p = (const char *)desc + ((n->n_descsz + 3) & ~3u);
		}
	}
	return 1;
}

/* "build-id:<hex>" of the object holding this code, else "exe:<dev>:<ino>:<size>:<mtime>". */
static void runtime_build(char *out, size_t len)
{
	struct build_id_search b = { .addr = (uintptr_t)&runtime_build };
	dl_iterate_phdr(find_build_id, &b);
	if (b.hex[0]) {
		snprintf(out, len, "build-id:%s", b.hex);
		return;
	}
	struct stat st;
	if (stat("/proc/self/exe", &st) == 0)
		snprintf(out, len, "exe:%llu:%llu:%lld:%lld.%09ld", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec,
			 st.st_mtim.tv_nsec);
	else
		snprintf(out, len, "unknown:%s %s", __DATE__, __TIME__);
}

static void serialize(const struct gr_oci_seccomp *s, struct keybuf *k)
{
	const struct scmp_version *v = seccomp_version();
	char build[256];
	runtime_build(build, sizeof build);
	kb_str(k, COMPILER_VERSION);
	kb_str(k, build);
	kb_u64(k, v ? ((uint64_t)v->major << 32 | v->minor << 16 | v->micro) : 0);
	kb_u64(k, seccomp_arch_native());
	kb_u64(k, s->default_action);
	kb_u64(k, s->has_default_errno ? s->default_errno + 1u : 0);
	for (size_t i = 0; s->architectures && s->architectures[i]; i++)
		kb_str(k, s->architectures[i]);
	kb_str(k, "|");
	for (size_t i = 0; s->flags && s->flags[i]; i++)
		kb_str(k, s->flags[i]);
	kb_str(k, "|");
	for (size_t i = 0; i < s->n_syscalls; i++) {
		const struct gr_oci_seccomp_rule *r = &s->syscalls[i];
		kb_u64(k, r->action);
		kb_u64(k, r->has_errno_ret ? r->errno_ret + 1u : 0);
		for (size_t n = 0; r->names && r->names[n]; n++)
			kb_str(k, r->names[n]);
		kb_str(k, "|");
		kb_u64(k, r->n_args);
		for (size_t a = 0; a < r->n_args; a++) {
			kb_u64(k, r->args[a].index);
			kb_u64(k, r->args[a].value);
			kb_u64(k, r->args[a].value_two);
			kb_u64(k, r->args[a].op);
		}
	}
}

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return h;
}

struct cache_hdr {
	char magic[8];
	uint64_t keylen;
	uint32_t flags;
	uint32_t ninsns;
};

static int cache_load(const char *path, const struct keybuf *k, struct gr__bpf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct cache_hdr h;
	int rc = -1;
	char *key = NULL;
	if (pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h || memcmp(h.magic, "GRBPF01", 8) ||
	    h.keylen != k->len || h.ninsns == 0 || h.ninsns > 65535)
		goto out;
	key = xmalloc(k->len);
	if (pread(fd, key, k->len, sizeof h) != (ssize_t)k->len || memcmp(key, k->p, k->len))
		goto out;
	size_t bytes = h.ninsns * sizeof(struct sock_filter);
	out->insns = xmalloc(bytes);
	if (pread(fd, out->insns, bytes, (off_t)(sizeof h + k->len)) != (ssize_t)bytes) {
		gr__bpf_free(out);
		goto out;
	}
	out->len = (unsigned short)h.ninsns;
	out->flags = h.flags;
	rc = 0;
out:
	free(key);
	close(fd);
	return rc;
}

static void cache_store(const char *dir, const char *path, const struct keybuf *k,
			const struct gr__bpf *b)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return;
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)gettid()); /* unique per thread */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	struct cache_hdr h = { "GRBPF01", k->len, b->flags, b->len };
	size_t bytes = b->len * sizeof(struct sock_filter);
	bool ok = write(fd, &h, sizeof h) == (ssize_t)sizeof h &&
		  write(fd, k->p, k->len) == (ssize_t)k->len &&
		  write(fd, b->insns, bytes) == (ssize_t)bytes;
	close(fd);
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
}

int gr__seccomp_compile_cached(const struct gr_oci_seccomp *s, const char *cache_dir,
			       struct gr__bpf *out, gr_error_t *err)
{
	if (!cache_dir)
		return gr__seccomp_compile(s, out, err);
	struct keybuf k = { 0 };
	serialize(s, &k);
	char path[4200];
	snprintf(path, sizeof path, "%s/seccomp-%016llx", cache_dir,
		 (unsigned long long)fnv1a(k.p, k.len));
	memset(out, 0, sizeof *out);
	int rc = 0;
	if (cache_load(path, &k, out) < 0) {
		rc = gr__seccomp_compile(s, out, err);
		if (rc == 0)
			cache_store(cache_dir, path, &k, out);
	}
	free(k.p);
	return rc;
}
