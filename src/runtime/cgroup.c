/*
 * cgroup.c - the cgroup manager: finds the host's layout and picks a back-end
 * per controller.
 *
 * The layout is read from /proc/self/mountinfo.  Each controller goes to the
 * v1 hierarchy that carries it if there is one, else to the cgroup2 tree if its
 * cgroup.controllers lists it.  So pure v1, pure v2 and the hybrid layout
 * (v1 controllers plus a cgroup2 mount holding a few, e.g. only hugetlb) all
 * work: on hybrid, memory/cpu/pids go to v1 and hugetlb to v2.  The cgroup2
 * tree, when mounted, always gets a leaf too (process tracking), even if it
 * carries no controller we use.  Named v1 hierarchies (name=systemd) are left
 * alone.  Invariant: a struct gr_cgroup only ever removes leaves it created.
 */
#include "runtime/runtime-internal.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"

#include <dirent.h>
#include <stdlib.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const ctrl_names[GR_CG_NCTRL] = {
	[GR_CG_CPU] = "cpu", [GR_CG_CPUACCT] = "cpuacct", [GR_CG_CPUSET] = "cpuset",
	[GR_CG_MEMORY] = "memory", [GR_CG_DEVICES] = "devices", [GR_CG_FREEZER] = "freezer",
	[GR_CG_BLKIO] = "blkio", [GR_CG_PIDS] = "pids", [GR_CG_HUGETLB] = "hugetlb",
	[GR_CG_NET_CLS] = "net_cls", [GR_CG_NET_PRIO] = "net_prio",
};

const char *gr__cg_ctrl_name(enum gr_cg_ctrl c)
{
	return c < GR_CG_NCTRL ? ctrl_names[c] : "?";
}

static int ctrl_from_name(const char *s, size_t n)
{
	for (int i = 0; i < GR_CG_NCTRL; i++)
		if (strlen(ctrl_names[i]) == n && !strncmp(ctrl_names[i], s, n))
			return i;
	/* the v2 names of v1 controllers */
	if (n == 2 && !strncmp(s, "io", 2))
		return GR_CG_BLKIO;
	return -1;
}

/* Bits of the known controllers listed in a comma- or space-separated list. */
static unsigned parse_ctrls(const char *list)
{
	unsigned mask = 0;
	const char *p = list;
	while (*p) {
		size_t n = strcspn(p, ", \n");
		int c = ctrl_from_name(p, n);
		if (c >= 0)
			mask |= 1u << c;
		p += n;
		if (*p)
			p++;
	}
	return mask;
}

void gr__cg_dir(const struct gr_cgroup *cg, size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", cg->hier[i].mount, cg->path);
}

int gr__cg_write(const char *dir, const char *file, const char *value, gr_error_t *err)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return gr_error_sys(err, "cgroup file %s", path);
	ssize_t w;
	size_t len = strlen(value);
	do
		w = write(fd, value, len);
	while (w < 0 && errno == EINTR);
	int saved = errno;
	close(fd);
	if (w < 0) {
		errno = saved;
		return gr_error_sys(err, "cannot write '%s' to %s", value, path);
	}
	return 0;
}

int gr__cg_write_i64(const char *dir, const char *file, long long v, gr_error_t *err)
{
	char b[32];
	snprintf(b, sizeof b, "%lld", v);
	return gr__cg_write(dir, file, b, err);
}

int gr__cg_make_levels(struct gr_cgroup *cg, const struct gr_cg_hier *h, gr__cg_level_fn *level,
		       gr_error_t *err)
{
	char dir[1024];
	snprintf(dir, sizeof dir, "%s%s", h->mount, cg->path);
	size_t base = strlen(h->mount);
	char *first_made = NULL;
	for (char *p = dir + base + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (level(cg, h, dir, false, err) < 0)
			return -1;
		bool made = mkdir(dir, 0755) == 0;
		if (made && c != '\0' && !first_made)
			first_made = p;
		if (!made && errno != EEXIST)
			return gr_error_sys(err, "cannot create cgroup %s", dir);
		if (level(cg, h, dir, true, err) < 0)
			return -1;
		if (c == '\0') {
			if (first_made) { /* levels from first_made up to the leaf's parent are ours */
				int n = 0;
				for (char *q = first_made; q < p; q++)
					n += *q == '/';
				cg->own_parents[h - cg->hier] = n;
			}
			if (!made) /* the leaf must be ours: never adopt (and later remove) a live cgroup */
				return gr_error_set(err, EEXIST, "cgroup %s already exists", dir);
			break;
		}
		*p = c;
	}
	return 0;
}

int gr__unsupported(unsigned ignore, unsigned bit, gr_error_t *err, const char *fmt, ...)
{
	char why[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (ignore & bit) {
		gr_log_warn("%s: not applied: %s (listed in annotations[\"%s\"])", gr_oci_optional_name(bit),
			    why, GR_OCI_IGNORE_UNSUPPORTED);
		return 0;
	}
	return gr_error_set(err, EINVAL, "%s: %s (annotations[\"%s\"] may list it to run without it)",
			    gr_oci_optional_name(bit), why, GR_OCI_IGNORE_UNSUPPORTED);
}

/* Unescape the octal escapes of mountinfo (\040 for space) in place. */
static void unescape(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] && p[3]) {
			*o++ = (char)(((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0'));
			p += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
}

int gr__cgroup_init(struct gr_cgroup *cg, const char *path, gr_error_t *err)
{
	return gr__cgroup_init_from(cg, path, "/proc/self/mountinfo", err);
}

int gr__cgroup_init_from(struct gr_cgroup *cg, const char *path, const char *mountinfo, gr_error_t *err)
{
	memset(cg, 0, sizeof *cg);
	if (!path || path[0] != '/' || strstr(path, "/../") || strlen(path) >= sizeof cg->path ||
	    !strcmp(path, "/"))
		return gr_error_set(err, EINVAL, "linux.cgroupsPath: '%s' is not a usable cgroup path",
				    path ? path : "");
	snprintf(cg->path, sizeof cg->path, "%s", path);
	_cleanup_fclose_ FILE *f = fopen(mountinfo, "re");
	if (!f)
		return gr_error_sys(err, "cannot read %s", mountinfo);
	char line[4096];
	unsigned taken = 0;
	int v2 = -1;
	while (fgets(line, sizeof line, f)) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		char fstype[32], source[256], super[1024] = "";
		if (sscanf(sep + 3, "%31s %255s %1023s", fstype, source, super) < 2)
			continue;
		bool is2 = !strcmp(fstype, "cgroup2");
		if (!is2 && strcmp(fstype, "cgroup"))
			continue;
		char root[1024], mnt[1024];
		if (sscanf(line, "%*s %*s %*s %1023s %1023s", root, mnt) != 2)
			continue;
		unescape(mnt);
		if (strcmp(root, "/") || strlen(mnt) >= sizeof cg->hier[0].mount)
			continue; /* a bind of a sub-cgroup: not a hierarchy root */
		if (cg->n_hier == GR_CG_MAX_HIER)
			break;
		struct gr_cg_hier *h = &cg->hier[cg->n_hier];
		if (is2) {
			if (v2 >= 0)
				continue;
			h->v2 = true;
			snprintf(h->name, sizeof h->name, "unified");
			snprintf(h->mount, sizeof h->mount, "%s", mnt);
			v2 = (int)cg->n_hier++;
			continue;
		}
		unsigned m = parse_ctrls(super) & ~taken;
		if (!m)
			continue;
		taken |= m;
		h->ctrls = m;
		snprintf(h->mount, sizeof h->mount, "%s", mnt);
		size_t o = 0;
		for (int c = 0; c < GR_CG_NCTRL; c++)
			if (m & (1u << c))
				o += (size_t)snprintf(h->name + o, sizeof h->name - o, "%s%s", o ? "," : "",
						      ctrl_names[c]);
		cg->ops[cg->n_hier++] = &gr__cgroup_v1_ops;
	}
	if (v2 >= 0) {
		char p[512];
		_cleanup_free_ char *list = NULL;
		snprintf(p, sizeof p, "%s/cgroup.controllers", cg->hier[v2].mount);
		if (gr_read_file(p, 0, &list, NULL, NULL) == 0)
			cg->hier[v2].ctrls = parse_ctrls(list) & ~taken;
		cg->ops[v2] = &gr__cgroup_v2_ops;
	}
	if (cg->n_hier == 0)
		return gr_error_set(err, ENOENT, "no cgroup hierarchy is mounted");
	return 0;
}

int gr__cgroup_load(struct gr_cgroup *cg, const struct gr__meta *meta, gr_error_t *err)
{
	return gr__cgroup_load_from(cg, meta, "/proc/self/mountinfo", err);
}

int gr__cgroup_load_from(struct gr_cgroup *cg, const struct gr__meta *meta, const char *mountinfo,
			 gr_error_t *err)
{
	if (gr__cgroup_init_from(cg, meta->cgroup, mountinfo, err) < 0)
		return -1;
	cg->want = meta->cg_want;
	bool legacy = meta->n_cg_parents == 0 ||
		      (meta->n_cg_parents == 1 && !strcmp(meta->cg_parents[0].name, "*"));
	bool used[GR_CG_MAX_HIER] = { false };
	size_t k = 0;
	for (size_t i = 0; i < cg->n_hier; i++) {
		size_t j = 0;
		while (!legacy && j < meta->n_cg_parents && strcmp(meta->cg_parents[j].name, cg->hier[i].name))
			j++;
		if (!legacy && j == meta->n_cg_parents) /* mounted after create: not the container's */
			continue;
		if (!legacy)
			used[j] = true;
		cg->hier[k] = cg->hier[i];
		cg->ops[k] = cg->ops[i];
		cg->own_parents[k] = meta->n_cg_parents ? meta->cg_parents[legacy ? 0 : j].levels : 0;
		k++;
	}
	cg->n_hier = k;
	cg->created_mask = (int)((1u << k) - 1);
	size_t o = 0;
	for (size_t j = 0; !legacy && j < meta->n_cg_parents; j++)
		if (!used[j] && o < sizeof cg->gone)
			o += (size_t)snprintf(cg->gone + o, sizeof cg->gone - o, "%s%s", o ? " " : "",
					      meta->cg_parents[j].name);
	return 0;
}

void gr__cgroup_stats(struct gr_cgroup *cg, struct gr_rt_stats *out)
{
	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < cg->n_hier; i++)
		cg->ops[i]->stats(cg, &cg->hier[i], out);
}

/* The controllers the resource fields (not the unified keys) use. */
static unsigned wanted_by_fields(const struct gr_oci_resources *r)
{
	unsigned w = 0;
	if (!r)
		return 0;
	if (r->has_mem_limit || r->has_mem_reservation || r->has_mem_swap || r->disable_oom_killer ||
	    r->has_mem_kernel || r->has_mem_kernel_tcp || r->has_mem_swappiness)
		w |= 1u << GR_CG_MEMORY;
	if (r->has_cpu_shares || r->has_cpu_quota || r->has_cpu_period)
		w |= 1u << GR_CG_CPU;
	if ((r->cpu_cpus && *r->cpu_cpus) || (r->cpu_mems && *r->cpu_mems))
		w |= 1u << GR_CG_CPUSET;
	if (r->has_pids_limit)
		w |= 1u << GR_CG_PIDS;
	if (r->has_blkio_weight || r->n_throttle_read_bps || r->n_throttle_write_bps ||
	    r->n_throttle_read_iops || r->n_throttle_write_iops)
		w |= 1u << GR_CG_BLKIO;
	if (r->n_hugepage_limits)
		w |= 1u << GR_CG_HUGETLB;
	if (r->has_net_class_id)
		w |= 1u << GR_CG_NET_CLS;
	if (r->n_net_priorities)
		w |= 1u << GR_CG_NET_PRIO;
	return w;
}

static unsigned wanted(const struct gr_oci_resources *r)
{
	unsigned w = wanted_by_fields(r);
	for (size_t i = 0; r && i < r->n_unified; i++) {
		size_t n = strcspn(r->unified[i].key, ".");
		int c = ctrl_from_name(r->unified[i].key, n);
		if (c >= 0)
			w |= 1u << c;
	}
	return w;
}

/* Every resource the config sets needs a hierarchy carrying its controller: a limit
 * nothing would apply is refused (or skipped with a warning where the config's
 * annotation allows that), never dropped in silence. */
static int check_carried(const struct gr_cgroup *cg, const struct gr_oci_resources *r, gr_error_t *err)
{
	static const struct { enum gr_cg_ctrl c; const char *field; unsigned opt; } need[] = {
		{ GR_CG_MEMORY, "linux.resources.memory", 0 },
		{ GR_CG_CPU, "linux.resources.cpu (shares, quota, period)", 0 },
		{ GR_CG_CPUSET, "linux.resources.cpu (cpus, mems)", 0 },
		{ GR_CG_PIDS, "linux.resources.pids", 0 },
		{ GR_CG_BLKIO, "linux.resources.blockIO", 0 },
		{ GR_CG_HUGETLB, "linux.resources.hugepageLimits", 0 },
		{ GR_CG_NET_CLS, NULL, GR_OPT_NET_CLASSID },
		{ GR_CG_NET_PRIO, NULL, GR_OPT_NET_PRIORITIES },
	};
	unsigned carried = 0;
	bool v2 = false;
	for (size_t i = 0; i < cg->n_hier; i++) {
		carried |= cg->hier[i].ctrls;
		v2 |= cg->hier[i].v2;
	}
	unsigned w = wanted_by_fields(r);
	if (r->n_unified && !v2)
		return gr_error_set(err, EINVAL, "linux.resources.unified: needs cgroup v2, which is not mounted");
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
		if (!(w & (1u << need[i].c)) || (carried & (1u << need[i].c)))
			continue;
		if (need[i].opt) { /* net_cls/net_prio exist on cgroup v1 only */
			if (gr__unsupported(r->ignore_unsupported, need[i].opt, err,
					    "no cgroup v1 %s hierarchy is mounted on this host",
					    ctrl_names[need[i].c]) < 0)
				return -1;
			continue;
		}
		return gr_error_set(err, EINVAL, "%s: no cgroup hierarchy carries the %s controller",
				    need[i].field, ctrl_names[need[i].c]);
	}
	return 0;
}

int gr__cgroup_create(struct gr_cgroup *cg, const struct gr_oci_resources *r, gr_error_t *err)
{
	/* memory is always wanted on v2: OOM kills are reported from memory.events */
	cg->want = wanted(r) | (1u << GR_CG_MEMORY) | (1u << GR_CG_PIDS);
	for (size_t i = 0; i < cg->n_hier; i++) {
		int r, tries = 0;
		/* ENOENT: a delete removed an empty parent between our mkdirs; go again */
		while ((r = cg->ops[i]->create(cg, &cg->hier[i], err)) < 0 && err && err->code == ENOENT &&
		       ++tries < 5)
			;
		if (r < 0)
			goto fail;
		cg->created_mask |= 1 << i;
	}
	if (r && gr__cgroup_apply(cg, r, err) < 0)
		goto fail;
	return 0;
fail:
	gr__cgroup_destroy(cg, NULL);
	return -1;
}

int gr__cgroup_apply(struct gr_cgroup *cg, const struct gr_oci_resources *r, gr_error_t *err)
{
	if (check_carried(cg, r, err) < 0)
		return -1;
	for (size_t i = 0; i < cg->n_hier; i++)
		if (cg->ops[i]->apply(cg, &cg->hier[i], r, err) < 0)
			return err && strncmp(err->msg, "linux.", 6) ? gr_error_prefix(err, "linux.resources") : -1;
	return 0;
}

int gr__cgroup_enter(struct gr_cgroup *cg, pid_t pid, gr_error_t *err)
{
	for (size_t i = 0; i < cg->n_hier; i++)
		if (cg->ops[i]->enter(cg, &cg->hier[i], pid, err) < 0)
			return -1;
	return 0;
}

/* Read the pids of cgroup.procs of the first hierarchy that has the cgroup. */
static size_t read_procs(struct gr_cgroup *cg, pid_t *pids, size_t max)
{
	for (size_t i = 0; i < cg->n_hier; i++) {
		char dir[1024], path[1100];
		gr__cg_dir(cg, i, dir, sizeof dir);
		snprintf(path, sizeof path, "%s/cgroup.procs", dir);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		size_t n = 0;
		long v;
		while (n < max && fscanf(f, "%ld", &v) == 1)
			pids[n++] = (pid_t)v;
		fclose(f);
		return n;
	}
	return 0;
}

int gr__cgroup_signal_all(struct gr_cgroup *cg, int sig, gr_error_t *err)
{
	pid_t pids[4096];
	size_t n = read_procs(cg, pids, 4096);
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], sig) < 0 && errno != ESRCH)
			return gr_error_sys(err, "cannot signal process %d", (int)pids[i]);
	return 0;
}

int gr__cgroup_destroy(struct gr_cgroup *cg, gr_error_t *err)
{
	int rc = 0;
	/* Kill what remains, then rmdir; a dying process leaves its cgroup a moment later. */
	for (int attempt = 0; attempt < 2000; attempt++) {
		pid_t pids[4096];
		size_t n = read_procs(cg, pids, 4096);
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	for (size_t i = 0; i < cg->n_hier; i++) {
		if (!(cg->created_mask & (1 << i)))
			continue;
		int r = -1;
		gr_error_t e = { 0 };
		for (int attempt = 0; attempt < 1000; attempt++) {
			r = cg->ops[i]->destroy(cg, &cg->hier[i], &e);
			if (r == 0 || e.code != EBUSY)
				break;
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
		if (r < 0) {
			if (err && rc == 0)
				*err = e;
			rc = -1;
			continue;
		}
		cg->created_mask &= ~(1 << i);
		/* parents made for this container go too when nothing else uses them */
		char dir[1024];
		gr__cg_dir(cg, i, dir, sizeof dir);
		for (int k = 0; k < cg->own_parents[i]; k++) {
			char *slash = strrchr(dir, '/');
			if (!slash || (size_t)(slash - dir) <= strlen(cg->hier[i].mount))
				break;
			*slash = '\0';
			if (rmdir(dir) < 0)
				break;
		}
	}
	return rc;
}

long long gr__cgroup_oom_kills(struct gr_cgroup *cg)
{
	for (size_t i = 0; i < cg->n_hier; i++)
		if (cg->hier[i].ctrls & (1u << GR_CG_MEMORY))
			return cg->ops[i]->oom_kills(cg, &cg->hier[i]);
	return -1;
}

int gr__cg_enter_pid(const struct gr_cgroup *cg, const struct gr_cg_hier *h, pid_t pid, gr_error_t *err)
{
	char dir[1024], b[24];
	snprintf(dir, sizeof dir, "%s%s", h->mount, cg->path);
	snprintf(b, sizeof b, "%d", (int)pid);
	return gr__cg_write(dir, "cgroup.procs", b, err);
}

int gr__cg_rmdir(const struct gr_cgroup *cg, const struct gr_cg_hier *h, gr_error_t *err)
{
	char dir[1024];
	snprintf(dir, sizeof dir, "%s%s", h->mount, cg->path);
	if (rmdir(dir) < 0 && errno != ENOENT)
		return gr_error_sys(err, "cannot remove cgroup %s", dir);
	return 0;
}

long long gr__cg_read_num(const struct gr_cgroup *cg, const struct gr_cg_hier *h, const char *file,
			  const char *key)
{
	char path[1100];
	snprintf(path, sizeof path, "%s%s/%s", h->mount, cg->path, file);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char line[256];
	long long v = -1;
	size_t klen = strlen(key);
	while (fgets(line, sizeof line, f)) {
		if (klen && (strncmp(line, key, klen) || line[klen] != ' '))
			continue;
		char *p = line + klen, *end;
		while (*p == ' ')
			p++;
		long long n = strtoll(p, &end, 10);
		v = end != p ? n : !strncmp(p, "max", 3) ? 0 /* no limit */ : -1;
		break;
	}
	fclose(f);
	return v;
}

long long gr__cg_oom_kill_count(const struct gr_cgroup *cg, const struct gr_cg_hier *h, const char *file)
{
	return gr__cg_read_num(cg, h, file, "oom_kill");
}
