/*
 * trace.c - PlanetLab CPU trace loader for the simulator.
 *
 * A day folder holds one file per VM; each file holds one CPU percentage per
 * line (0..100), one line per 5-minute step.  Files are taken in name order
 * so a run is reproducible.  Anything else (missing folder, empty folder,
 * non-numeric text, a value out of range, too few or too many lines) is an
 * error naming the file and the line.  Blank trailing lines are allowed.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "sched/sched.h"
#include "sched/sim.h"
#include "util/alloc.h"
#include "util/fs.h"

#define TRACE_FILE_MAX (1u << 20)

int gr_sim_trace_parse(const char *path, const char *text, size_t len, size_t n_samples,
		       float *out, gr_error_t *err)
{
	size_t line = 0, got = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		line++;
		/* trim spaces and a CR */
		const char *a = p, *b = eol;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r'))
			b--;
		if (a == b) {
			/* blank: only allowed once the samples are complete */
			const char *q = eol;
			int rest_blank = 1;
			for (; q < end; q++)
				if (*q != '\n' && *q != '\r' && *q != ' ' && *q != '\t')
					rest_blank = 0;
			if (rest_blank)
				break;
			return gr_error_set(err, EINVAL, "%s:%zu: empty line", path, line);
		}
		char buf[64];
		size_t n = (size_t)(b - a);
		if (n >= sizeof buf)
			return gr_error_set(err, EINVAL, "%s:%zu: not a number", path, line);
		memcpy(buf, a, n);
		buf[n] = 0;
		char *e = NULL;
		errno = 0;
		double v = strtod(buf, &e);
		if (e == buf || *e || errno || !isfinite(v))
			return gr_error_set(err, EINVAL, "%s:%zu: '%s' is not a number", path, line, buf);
		if (v < 0 || v > 100)
			return gr_error_set(err, EINVAL, "%s:%zu: %s is not a percentage in 0..100",
					    path, line, buf);
		if (got == n_samples)
			return gr_error_set(err, EINVAL, "%s:%zu: more than %zu samples", path, line,
					    n_samples);
		out[got++] = (float)(v / 100.0);
		p = eol + 1;
	}
	if (got != n_samples)
		return gr_error_set(err, EINVAL, "%s:%zu: only %zu samples, want %zu", path,
				    line + (got == 0), got, n_samples);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int gr_sim_trace_load(const char *dir, size_t n_samples, struct gr_sim_trace *t, gr_error_t *err)
{
	memset(t, 0, sizeof *t);
	if (n_samples < 2)
		return gr_error_set(err, EINVAL, "trace: n_samples %zu is below 2", n_samples);
	_cleanup_free_ char *clean = xstrdup(dir);
	for (size_t n = strlen(clean); n > 1 && clean[n - 1] == '/'; n--)
		clean[n - 1] = 0;
	dir = clean;
	DIR *d = opendir(dir);
	if (!d)
		return gr_error_sys(err, "trace folder %s", dir);
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, de->d_name);
		struct stat st;
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (t->n_vms == cap) {
			cap = cap ? 2 * cap : 1024;
			t->names = xrealloc(t->names, cap * sizeof *t->names);
		}
		t->names[t->n_vms++] = xstrdup(de->d_name);
	}
	closedir(d);
	t->dir = xstrdup(dir);
	t->n_samples = n_samples;
	if (t->n_vms == 0) {
		gr_sim_trace_free(t);
		return gr_error_set(err, ENOENT, "trace folder %s: no trace files", dir);
	}
	qsort(t->names, t->n_vms, sizeof *t->names, cmp_str);
	size_t stride = n_samples + 1;
	t->util = xmalloc(t->n_vms * stride * sizeof *t->util);
	for (size_t i = 0; i < t->n_vms; i++) {
		_cleanup_free_ char *path = xasprintf("%s/%s", dir, t->names[i]);
		_cleanup_free_ char *text = NULL;
		size_t len = 0;
		if (gr_read_file(path, TRACE_FILE_MAX, &text, &len, err) < 0) {
			gr_error_prefix(err, "trace %s", path);
			gr_sim_trace_free(t);
			return -1;
		}
		float *row = t->util + i * stride;
		if (gr_sim_trace_parse(path, text, len, n_samples, row, err) < 0) {
			gr_sim_trace_free(t);
			return -1;
		}
		row[n_samples] = row[n_samples - 1];
	}
	return 0;
}

int gr_sim_trace_slice(struct gr_sim_trace *t, size_t first, size_t count, gr_error_t *err)
{
	if (first >= t->n_vms || count == 0 || count > t->n_vms - first)
		return gr_error_set(err, EINVAL, "trace slice %zu+%zu outside 0..%zu", first, count,
				    t->n_vms);
	size_t stride = t->n_samples + 1;
	for (size_t i = 0; i < first; i++)
		free(t->names[i]);
	for (size_t i = first + count; i < t->n_vms; i++)
		free(t->names[i]);
	memmove(t->names, t->names + first, count * sizeof *t->names);
	memmove(t->util, t->util + first * stride, count * stride * sizeof *t->util);
	t->n_vms = count;
	return 0;
}

void gr_sim_trace_shift(struct gr_sim_trace *t, size_t shift)
{
	size_t n = t->n_samples, stride = n + 1;
	shift %= n;
	if (!shift)
		return;
	_cleanup_free_ float *tmp = xmalloc(n * sizeof *tmp);
	for (size_t i = 0; i < t->n_vms; i++) {
		float *row = t->util + i * stride;
		for (size_t k = 0; k < n; k++)
			tmp[k] = row[(k + shift) % n];
		memcpy(row, tmp, n * sizeof *tmp);
		row[n] = row[n - 1];
	}
}

void gr_sim_trace_shuffle(struct gr_sim_trace *t, uint64_t seed)
{
	struct gr_sched_rng rng;
	gr_sched_rng_seed(&rng, seed);
	size_t stride = t->n_samples + 1;
	_cleanup_free_ float *tmp = xmalloc(stride * sizeof *tmp);
	for (size_t i = t->n_vms; i > 1; i--) {
		size_t j = (size_t)gr_sched_rng_below(&rng, i);
		char *nm = t->names[i - 1];
		t->names[i - 1] = t->names[j];
		t->names[j] = nm;
		memcpy(tmp, t->util + (i - 1) * stride, stride * sizeof *tmp);
		memcpy(t->util + (i - 1) * stride, t->util + j * stride, stride * sizeof *tmp);
		memcpy(t->util + j * stride, tmp, stride * sizeof *tmp);
	}
}

void gr_sim_trace_free(struct gr_sim_trace *t)
{
	for (size_t i = 0; i < t->n_vms; i++)
		free(t->names[i]);
	free(t->names);
	free(t->util);
	free(t->dir);
	memset(t, 0, sizeof *t);
}
