/*
 * console.c - what a running VM shows and costs: the guest's readiness line (from the
 * console log QEMU appends every serial byte to), running a shell command over the
 * serial console socket (the guest keeps a root shell there), and resource stats
 * (cgroup CPU time; QEMU's RSS split into guest RAM and QEMU's own overhead by reading
 * /proc/<pid>/smaps for the guest RAM mapping).
 */
#include "vm/vm-internal.h"
#include "vm/image_build.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int gr_vm_wait_ready(const struct gr_vm_spec *s, int timeout_ms, char **hostname, gr_error_t *err)
{
	struct gr__vm_run r;
	if (gr__vm_run_read(s, &r, err) < 0)
		return -1;
	_cleanup_free_ char *con = gr_vm_path(s, "console.log");
	long long deadline = gr__vm_now_ms() + timeout_ms;
	/* read this boot's output incrementally; keep a tail so a line split across reads is seen */
	char buf[8192 + 1];
	size_t have = 0;
	off_t off = (off_t)r.console_offset;
	const size_t rl = strlen(GR_VM_READY_LINE);
	_cleanup_close_ int fd = -1;
	for (;;) {
		if (fd < 0)
			fd = open(con, O_RDONLY | O_CLOEXEC);
		ssize_t n = 0;
		if (fd >= 0 && (n = pread(fd, buf + have, sizeof buf - 1 - have, off)) > 0) {
			off += n;
			have += (size_t)n;
			buf[have] = 0;
			for (size_t i = 0; i < have; i++)
				if (!buf[i])
					buf[i] = ' ';
			char *hit = strstr(buf, GR_VM_READY_LINE);
			if (hit) {
				char *name = hit + rl;
				size_t len = strcspn(name, "\r\n");
				if (name[len]) { /* the whole line is there */
					if (hostname)
						*hostname = xstrndup(name, len);
					return 0;
				}
			}
			/* keep the last part (a line in progress), drop the rest */
			size_t keep = hit ? have - (size_t)(hit - buf) : (have > rl + 256 ? rl + 256 : have);
			if (keep > sizeof buf / 2)
				keep = sizeof buf / 2;
			memmove(buf, buf + have - keep, keep);
			have = keep;
			continue;
		}
		if (!gr__vm_alive(&r))
			return gr_error_set(err, ESRCH, "VM '%s': QEMU exited before the guest was ready", s->name);
		if (gr__vm_now_ms() >= deadline)
			return gr_error_set(err, ETIMEDOUT, "VM '%s': no readiness line on the console in %d ms", s->name,
					    timeout_ms);
		usleep(20000);
	}
}

static int connect_unix(const char *path, gr_error_t *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path)
		return gr_error_set(err, EINVAL, "socket path too long: %s", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return gr_error_sys(err, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return gr_error_sys(err, "cannot connect to %s", path);
	}
	return fd;
}

int gr_vm_console_run(const struct gr_vm_spec *s, const char *cmd, int timeout_ms, char **out, gr_error_t *err)
{
	if (strchr(cmd, '\n') || strchr(cmd, '\r'))
		return gr_error_set(err, EINVAL, "console command: must be one line");
	_cleanup_free_ char *path = gr_vm_path(s, "serial.sock");
	_cleanup_close_ int fd = connect_unix(path, err);
	if (fd < 0)
		return gr_error_prefix(err, "VM '%s' console", s->name);
	static unsigned seq;
	char tok[48];
	snprintf(tok, sizeof tok, "%d_%u_%lld", (int)getpid(), __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED),
		 gr__vm_now_ms() % 100000);
	/* The echoed input shows B""_tok; only the shell's output joins it to B_tok. */
	_cleanup_free_ char *line = xasprintf("\necho GRB\"\"_%s; %s; echo GRE\"\"_%s_$?\n", tok, cmd, tok);
	if (gr_write_all(fd, line, strlen(line)) < 0)
		return gr_error_sys(err, "VM '%s' console: write", s->name);
	_cleanup_free_ char *begin = xasprintf("GRB_%s", tok), *end = xasprintf("GRE_%s_", tok);
	char *buf = NULL;
	size_t len = 0, cap = 0;
	long long deadline = gr__vm_now_ms() + timeout_ms;
	int rc = -1;
	for (;;) {
		char *b = buf ? strstr(buf, begin) : NULL;
		char *e = b ? strstr(b, end) : NULL;
		if (e && strpbrk(e + strlen(end), "\r\n")) {
			char *body = b + strlen(begin);
			body += strspn(body, "\r\n");
			size_t n = (size_t)(e - body);
			char *o = xstrndup(body, n), *w = o;
			for (char *p = o; *p; p++) /* the tty turns \n into \r\n */
				if (*p != '\r')
					*w++ = *p;
			*w = 0;
			int status = atoi(e + strlen(end));
			if (out)
				*out = o;
			else
				free(o);
			rc = status;
			break;
		}
		long long left = deadline - gr__vm_now_ms();
		if (left <= 0) {
			gr_error_set(err, ETIMEDOUT, "VM '%s' console: no answer to '%s' in %d ms", s->name, cmd, timeout_ms);
			break;
		}
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		if (len + 4097 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > (64u << 20)) {
				gr_error_set(err, EFBIG, "VM '%s' console: output too large", s->name);
				break;
			}
			buf = xrealloc(buf, cap);
		}
		ssize_t n = read(fd, buf + len, 4096);
		if (n <= 0) {
			gr_error_set(err, ECONNRESET, "VM '%s' console: closed", s->name);
			break;
		}
		for (ssize_t i = 0; i < n; i++) /* NULs would end strstr early */
			if (!buf[len + i])
				buf[len + i] = ' ';
		len += (size_t)n;
		buf[len] = 0;
	}
	free(buf);
	return rc;
}

/* Rss (kB) of the guest RAM mapping: the anonymous mapping whose size is the guest's
 * memory (QEMU may add up to a few MiB of alignment/guard). */
static uint64_t guest_ram_rss(pid_t pid, uint64_t mem_kb)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	char line[512];
	unsigned long long lo, hi, best = 0;
	int in_ram = 0;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "%llx-%llx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			uint64_t kb = (hi - lo) / 1024;
			in_ram = kb >= mem_kb && kb <= mem_kb + 8192;
			continue;
		}
		unsigned long long v;
		if (in_ram && sscanf(line, "Rss: %llu kB", &v) == 1) {
			if (v > best)
				best = v;
			in_ram = 0;
		}
	}
	fclose(f);
	return best * 1024;
}

int gr_vm_stats_get(const struct gr_vm_spec *s, struct gr_vm_stats *out, gr_error_t *err)
{
	memset(out, 0, sizeof(*out));
	struct gr__vm_run r;
	if (gr__vm_run_read(s, &r, err) < 0)
		return -1;
	if (!gr__vm_alive(&r))
		return gr_error_set(err, ESRCH, "VM '%s' is not running", s->name);
	_cleanup_free_ char *meta = gr_vm_path(s, "vm.json");
	json_t *m = json_load_file(meta, 0, NULL);
	out->memory_mb = m ? (uint64_t)json_integer_value(json_object_get(m, "memory_mb")) : 0;
	json_decref(m);
	if (s->memory_mb)
		out->memory_mb = s->memory_mb;
	if (gr_vm_cgroup_cpu_ns(gr__vm_cg_parent(s), s->name, &out->cpu_ns, NULL) < 0)
		out->cpu_ns = 0;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", (int)r.pid);
	_cleanup_free_ char *st = NULL;
	if (gr_read_file(path, 1 << 16, &st, NULL, err) < 0)
		return -1;
	const char *rss = strstr(st, "\nVmRSS:");
	if (rss)
		out->rss_bytes = strtoull(rss + 7, NULL, 10) * 1024;
	out->guest_ram_rss = guest_ram_rss(r.pid, out->memory_mb * 1024);
	out->overhead_bytes = out->rss_bytes > out->guest_ram_rss ? out->rss_bytes - out->guest_ram_rss : 0;
	return 0;
}
