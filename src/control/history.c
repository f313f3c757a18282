/*
 * history.c - metric history per instance and host (history.h): the rings, their
 * files, the sampling done by the daemon loop's tick (gr__history_tick: every
 * GR_HIST_SAMPLE ticks, the running instances of this host and the host itself),
 * and the documents GET /v1/{instances,hosts}/NAME/metrics/history answers
 * (gr_control_history).
 */
#include "control/control-internal.h"
#include "control/history.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"

#define GR_HIST_MAX_GAP_NS (600LL * 1000000000LL)

void gr_hist_init(struct gr_hist *h)
{
	memset(h, 0, sizeof *h);
	memcpy(h->magic, GR_HIST_MAGIC, sizeof h->magic);
}

static void slot_add(struct gr_hist_slot *ring, int n, int step, int64_t now_s, double cpu,
		     double mem)
{
	int64_t t = now_s / step * step;
	struct gr_hist_slot *s = &ring[(t / step) % n];
	if (s->t != t)
		*s = (struct gr_hist_slot){ .t = t };
	if (!isnan(cpu)) {
		s->cpu_sum += cpu;
		s->cpu_n++;
	}
	if (mem >= 0) {
		s->mem_sum += mem;
		s->mem_n++;
	}
}

void gr_hist_put(struct gr_hist *h, int64_t now_ns, uint64_t cpu_ns, double mem)
{
	double cpu = NAN;
	if (h->last_ns && now_ns > h->last_ns && now_ns - h->last_ns <= GR_HIST_MAX_GAP_NS &&
	    cpu_ns >= h->last_cpu_ns)
		cpu = (double)(cpu_ns - h->last_cpu_ns) / (double)(now_ns - h->last_ns);
	h->last_ns = now_ns;
	h->last_cpu_ns = cpu_ns;
	int64_t now_s = now_ns / 1000000000LL;
	slot_add(h->hour, GR_HIST_HOUR_N, GR_HIST_HOUR_STEP, now_s, cpu, mem);
	slot_add(h->day, GR_HIST_DAY_N, GR_HIST_DAY_STEP, now_s, cpu, mem);
}

json_t *gr_hist_series(const struct gr_hist *h, bool day, int64_t now_s)
{
	const struct gr_hist_slot *ring = day ? h->day : h->hour;
	int n = day ? GR_HIST_DAY_N : GR_HIST_HOUR_N, step = day ? GR_HIST_DAY_STEP : GR_HIST_HOUR_STEP;
	json_t *tm = json_array(), *cpu = json_array(), *mem = json_array();
	int64_t end = now_s / step * step;
	for (int64_t t = end - (int64_t)(n - 1) * step; t <= end; t += step) {
		const struct gr_hist_slot *s = &ring[((t / step) % n + n) % n];
		bool here = s->t == t;
		json_array_append_new(tm, json_integer(t));
		json_array_append_new(cpu, here && s->cpu_n ? json_real(s->cpu_sum / s->cpu_n) : json_null());
		json_array_append_new(mem, here && s->mem_n ? json_integer((json_int_t)(s->mem_sum / s->mem_n))
							    : json_null());
	}
	return json_pack("{s:s,s:i,s:o,s:o,s:o}", "range", day ? "day" : "hour", "step", step, "time", tm,
			 "cpu", cpu, "memory", mem);
}

int gr_hist_load(const char *path, struct gr_hist *h, gr_error_t *err)
{
	gr_hist_init(h);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		return gr_error_sys(err, "metric history %s", path);
	}
	struct gr_hist tmp;
	ssize_t n = gr_read_all(fd, &tmp, sizeof tmp);
	char extra;
	ssize_t more = n == (ssize_t)sizeof tmp ? read(fd, &extra, 1) : 0;
	close(fd);
	if (n < 0)
		return gr_error_sys(err, "metric history %s", path);
	if (n != (ssize_t)sizeof tmp || more != 0)
		return gr_error_set(err, EINVAL, "metric history %s: %zd bytes, a history file has %zu", path,
				    n + (more > 0 ? 1 : 0), sizeof tmp);
	if (memcmp(tmp.magic, GR_HIST_MAGIC, sizeof tmp.magic))
		return gr_error_set(err, EINVAL, "metric history %s: not a history file (bad magic)", path);
	*h = tmp;
	return 0;
}

int gr_hist_save(const char *path, const struct gr_hist *h, gr_error_t *err)
{
	/* no fsync: losing the last samples to a power cut is fine, and a torn file
	 * is noticed by its size or magic and started again */
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return gr_error_sys(err, "metric history %s", tmp);
	if (gr_write_all(fd, h, sizeof *h) < 0) {
		gr_error_sys(err, "metric history %s", tmp);
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		gr_error_sys(err, "metric history %s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---- the daemon's samples ---- */

static char *hist_path(const struct gr_control *c, const char *kind, const char *name)
{
	return name ? xasprintf("%s/history/%s/%s", c->state_dir, kind, name)
		    : xasprintf("%s/history/%s", c->state_dir, kind);
}

static int64_t wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sample(struct gr_control *c, const char *kind, const char *name, int64_t now,
		   uint64_t cpu_ns, double mem)
{
	_cleanup_free_ char *dir = hist_path(c, kind, NULL);
	_cleanup_free_ char *p = hist_path(c, kind, name);
	gr_error_t err;
	struct gr_hist *h = xmalloc(sizeof *h);
	if (gr_hist_load(p, h, &err) < 0) {
		gr_log_warn("%s; starting it again", err.msg);
		gr_hist_init(h);
	}
	gr_hist_put(h, now, cpu_ns, mem);
	if (gr_mkdir_p(dir, 0700, &err) < 0 || gr_hist_save(p, h, &err) < 0)
		gr_log_warn("%s", err.msg);
	free(h);
}

/* the host's busy CPU time (all CPUs, ns) and memory in use (total - available) */
static int host_stats(uint64_t *cpu_ns, double *mem)
{
	char *s = NULL;
	if (gr_read_file("/proc/stat", 1 << 20, &s, NULL, NULL) < 0)
		return -1;
	unsigned long long v[8] = { 0 };
	int n = sscanf(s, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		       &v[4], &v[5], &v[6], &v[7]);
	free(s);
	if (n < 4)
		return -1;
	unsigned long long busy = 0;
	for (int i = 0; i < n; i++)
		if (i != 3 && i != 4) /* idle, iowait */
			busy += v[i];
	long hz = sysconf(_SC_CLK_TCK);
	*cpu_ns = (uint64_t)busy * (1000000000ULL / (uint64_t)(hz > 0 ? hz : 100));
	*mem = -1;
	if (gr_read_file("/proc/meminfo", 1 << 20, &s, NULL, NULL) == 0) {
		const char *t = strstr(s, "MemTotal:"), *a = strstr(s, "MemAvailable:");
		unsigned long long tk, ak;
		if (t && a && sscanf(t, "MemTotal: %llu", &tk) == 1 && sscanf(a, "MemAvailable: %llu", &ak) == 1 &&
		    tk >= ak)
			*mem = (double)(tk - ak) * 1024;
		free(s);
	}
	return 0;
}

/* files of instances that are no more */
static void prune(struct gr_control *c)
{
	_cleanup_free_ char *dir = hist_path(c, "instance", NULL);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		struct gr_instance in;
		gr_error_t err;
		const char *dot = strstr(e->d_name, ".tmp");
		if (!dot && gr__inst_get(c, e->d_name, &in, &err) == 0) {
			gr__inst_clear(&in);
			continue;
		}
		if (!dot && err.code != ENOENT)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			gr_log_info("metric history of %s removed (no such instance)", e->d_name);
	}
	closedir(d);
}

void gr__history_tick(struct gr_control *c)
{
	int64_t now = wall_ns();
	char **names = gr__watch_names(c); /* the running instances of this host */
	for (size_t i = 0; names[i]; i++) {
		struct gr_instance in;
		if (gr__inst_get(c, names[i], &in, NULL) < 0)
			continue;
		struct gr_drv_stats s;
		if (gr__running_stats(c, &in, &s) == 0)
			sample(c, "instance", in.name, now, s.cpu_ns, (double)s.memory_bytes);
		gr__inst_clear(&in);
	}
	gr_strv_free(names);
	uint64_t cpu_ns;
	double mem;
	if (host_stats(&cpu_ns, &mem) == 0)
		sample(c, "host", c->hostname, now, cpu_ns, mem);
	if (c->ticks % 60 == 0)
		prune(c);
}

int gr_control_history(struct gr_control *c, const char *kind, const char *name, const char *range,
		       json_t **out, gr_error_t *err)
{
	bool day = false;
	if (range && !strcmp(range, "day"))
		day = true;
	else if (range && strcmp(range, "hour"))
		return gr_error_set(err, EINVAL, "range: '%s' is not one of hour, day", range);
	if (!strcmp(kind, "instance")) {
		struct gr_instance in;
		if (gr__inst_get(c, name, &in, err) < 0)
			return -1;
		gr__inst_clear(&in);
	} else if (strcmp(name, c->hostname)) {
		json_t *h = NULL;
		if (gr_control_host_get(c, name, &h, err) < 0)
			return -1;
		json_decref(h);
		return gr_error_set(err, EREMOTE, "host %s keeps its own metric history; this is host %s "
				    "(ask %s's daemon)", name, c->hostname, name);
	}
	_cleanup_free_ char *p = hist_path(c, kind, name);
	struct gr_hist *h = xmalloc(sizeof *h);
	if (gr_hist_load(p, h, err) < 0) {
		free(h);
		return -1;
	}
	*out = gr_hist_series(h, day, wall_ns() / 1000000000LL);
	json_object_set_new(*out, kind, json_string(name));
	free(h);
	return 0;
}
