/*
 * trace.c - PlanetLab CPU trace loader for the simulator.
 *
 * A day is a folder with one file per VM, or a tar archive (any compression
 * libarchive reads: xz, gzip, zstd, bzip2, ...) holding such files, all in
 * one folder of the archive (data/planetlab/<day>.tar.xz is read in place,
 * never extracted).  Each file holds one CPU percentage per line (0..100),
 * one line per 5-minute step.  Files are taken in name order so a run is
 * reproducible; names starting with '.' are skipped.  Anything else (missing
 * path, empty folder, damaged archive, files in several folders of one
 * archive, non-numeric text, a value out of range, too few or too many
 * lines) is an error naming the file (archive:member for archives) and line.
 * Blank trailing lines are allowed.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "sched/sched.h"
#include "sched/sim.h"
#include "util/alloc.h"
#include "util/dl.h"
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

/* One file of an archive, read into memory. */
struct member {
	char *name; /* base name (the VM) */
	char *path; /* path inside the archive (messages) */
	char *text;
	size_t len;
};

static int cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->name, ((const struct member *)b)->name);
}

static void members_free(struct member *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].name);
		free(m[i].path);
		free(m[i].text);
	}
	free(m);
}

/* libarchive, bound on first use (util/dl.h): the CLI links this module for
 * `gureum sim` and should not load libarchive (and its dozens of libraries)
 * for every other command. */
static struct {
	typeof(archive_read_new) *read_new;
	typeof(archive_read_support_filter_all) *support_filter_all;
	typeof(archive_read_support_format_tar) *support_format_tar;
	typeof(archive_read_open_filename) *open_filename;
	typeof(archive_error_string) *error_string;
	typeof(archive_read_next_header) *next_header;
	typeof(archive_entry_pathname) *entry_pathname;
	typeof(archive_entry_filetype) *entry_filetype;
	typeof(archive_entry_size) *entry_size;
	typeof(archive_read_data) *read_data;
	typeof(archive_read_free) *read_free;
} la;

static int archive_bind(gr_error_t *err)
{
	static const char *const names[] = { "archive_read_new", "archive_read_support_filter_all",
					     "archive_read_support_format_tar", "archive_read_open_filename",
					     "archive_error_string", "archive_read_next_header",
					     "archive_entry_pathname", "archive_entry_filetype",
					     "archive_entry_size", "archive_read_data", "archive_read_free" };
	void *f[sizeof names / sizeof *names];
	if (gr_dl_bind("libarchive.so.13", "libarchive13", names, f, sizeof names / sizeof *names, err) < 0)
		return -1;
	la.read_new = (typeof(la.read_new))f[0];
	la.support_filter_all = (typeof(la.support_filter_all))f[1];
	la.support_format_tar = (typeof(la.support_format_tar))f[2];
	la.open_filename = (typeof(la.open_filename))f[3];
	la.error_string = (typeof(la.error_string))f[4];
	la.next_header = (typeof(la.next_header))f[5];
	la.entry_pathname = (typeof(la.entry_pathname))f[6];
	la.entry_filetype = (typeof(la.entry_filetype))f[7];
	la.entry_size = (typeof(la.entry_size))f[8];
	la.read_data = (typeof(la.read_data))f[9];
	la.read_free = (typeof(la.read_free))f[10];
	return 0;
}

/* Read every regular file of a tar archive into *out (unsorted). */
static int archive_members(const char *file, struct member **out, size_t *n_out, gr_error_t *err)
{
	if (archive_bind(err) < 0)
		return gr_error_prefix(err, "trace archive %s", file);
	struct archive *a = la.read_new();
	la.support_filter_all(a);
	la.support_format_tar(a);
	struct member *m = NULL;
	size_t n = 0, cap = 0;
	_cleanup_free_ char *folder = NULL;
	int rc = -1;
	if (la.open_filename(a, file, 1 << 16) != ARCHIVE_OK) {
		gr_error_set(err, EINVAL, "trace archive %s: damaged or not a tar archive: %s", file,
			     la.error_string(a));
		goto out;
	}
	struct archive_entry *e;
	int r;
	while ((r = la.next_header(a, &e)) == ARCHIVE_OK) {
		const char *path = la.entry_pathname(e);
		if (la.entry_filetype(e) != AE_IFREG || !path)
			continue;
		while (path[0] == '.' && path[1] == '/')
			path += 2;
		const char *slash = strrchr(path, '/');
		const char *name = slash ? slash + 1 : path;
		if (!*name || name[0] == '.')
			continue;
		size_t dlen = slash ? (size_t)(slash - path) : 0;
		if (!folder) {
			folder = xstrndup(path, dlen);
		} else if (strlen(folder) != dlen || strncmp(folder, path, dlen)) {
			gr_error_set(err, EINVAL,
				     "trace archive %s: files in more than one folder ('%s/' and '%.*s/'); one archive holds one day",
				     file, folder, (int)dlen, path);
			goto out;
		}
		la_int64_t size = la.entry_size(e);
		if (size < 0 || size > TRACE_FILE_MAX) {
			gr_error_set(err, EFBIG, "trace archive %s: %s: %lld bytes, more than a trace file holds (%u)",
				     file, path, (long long)size, TRACE_FILE_MAX);
			goto out;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			m = xrealloc(m, cap * sizeof *m);
		}
		struct member *mb = &m[n++];
		*mb = (struct member){ .name = xstrdup(name), .path = xstrdup(path),
				       .text = xmalloc((size_t)size + 1) };
		while (mb->len < (size_t)size) {
			la_ssize_t got = la.read_data(a, mb->text + mb->len, (size_t)size - mb->len);
			if (got <= 0) {
				gr_error_set(err, EINVAL, "trace archive %s: %s: damaged or truncated: %s",
					     file, path, got < 0 ? la.error_string(a) : "end of data");
				goto out;
			}
			mb->len += (size_t)got;
		}
	}
	if (r != ARCHIVE_EOF) {
		gr_error_set(err, EINVAL, "trace archive %s: damaged or not a tar archive: %s", file,
			     la.error_string(a));
		goto out;
	}
	*out = TAKE_PTR(m);
	*n_out = n;
	rc = 0;
out:
	if (rc < 0)
		members_free(m, n);
	la.read_free(a);
	return rc;
}

static int trace_load_archive(const char *file, size_t n_samples, struct gr_sim_trace *t,
			      gr_error_t *err)
{
	struct member *m = NULL;
	size_t n = 0;
	if (archive_members(file, &m, &n, err) < 0)
		return -1;
	if (n == 0) {
		members_free(m, n);
		return gr_error_set(err, ENOENT, "trace archive %s: no trace files", file);
	}
	qsort(m, n, sizeof *m, cmp_member);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(m[i].name, m[i - 1].name)) {
			gr_error_set(err, EINVAL, "trace archive %s: %s appears twice", file, m[i].path);
			members_free(m, n);
			return -1;
		}
	t->dir = xstrdup(file);
	t->n_samples = n_samples;
	t->n_vms = n;
	t->names = xcalloc(n, sizeof *t->names);
	size_t stride = n_samples + 1;
	t->util = xmalloc(n * stride * sizeof *t->util);
	for (size_t i = 0; i < n; i++) {
		t->names[i] = TAKE_PTR(m[i].name);
		_cleanup_free_ char *where = xasprintf("%s:%s", file, m[i].path);
		float *row = t->util + i * stride;
		if (gr_sim_trace_parse(where, m[i].text, m[i].len, n_samples, row, err) < 0) {
			members_free(m, n);
			gr_sim_trace_free(t);
			return -1;
		}
		row[n_samples] = row[n_samples - 1];
	}
	members_free(m, n);
	return 0;
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
	struct stat top;
	if (stat(dir, &top) == 0 && S_ISREG(top.st_mode))
		return trace_load_archive(dir, n_samples, t, err);
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
