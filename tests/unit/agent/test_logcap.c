/*
 * test_logcap.c - console.log bounds (logcap.c) on a real file in /var/tmp:
 * rotation at start only past the limit, and the in-place cut keeps the
 * newest bytes while a writer holding an O_APPEND fd goes on appending at the
 * new end.  The cut needs FALLOC_FL_COLLAPSE_RANGE (ext4, xfs); elsewhere it
 * must leave the file alone (checked either way).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "agent/driver.h"
#include "tap.h"
#include "util/alloc.h"
#include "util/fs.h"

static off_t size_of(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? st.st_size : -1;
}

/* n bytes where byte i is 'a' + (i / 4096) % 26: the block a byte came from is visible */
static void fill(int fd, off_t from, off_t n)
{
	char buf[4096];
	for (off_t i = 0; i < n;) {
		size_t k = 0;
		for (; k < sizeof buf && i < n; k++, i++)
			buf[k] = (char)('a' + ((from + i) / 4096) % 26);
		if (write(fd, buf, k) != (ssize_t)k)
			abort();
	}
}

int main(void)
{
	char dir[] = "/var/tmp/gr-test-logcap.XXXXXX";
	if (!mkdtemp(dir)) {
		skip("no /var/tmp: %s", strerror(errno));
		return tap_done();
	}
	_cleanup_free_ char *p = xasprintf("%s/console.log", dir);
	_cleanup_free_ char *p1 = xasprintf("%s/console.log.1", dir);
	gr_error_t err = { 0 };
	const off_t max = 64 * 4096;

	ok(gr_inst_log_rotate(p, max, &err) == 0, "rotate: no log yet is fine");
	ok(gr_inst_log_cap(p, max, &err) == 0, "cap: no log yet is fine");
	int fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	fill(fd, 0, max);
	ok(gr_inst_log_rotate(p, max, &err) == 0 && size_of(p) == max && size_of(p1) < 0,
	   "rotate: a log at the limit stays");
	ok(gr_inst_log_cap(p, max, &err) == 0 && size_of(p) == max, "cap: a log at the limit stays");

	fill(fd, max, 3 * max + 100); /* 4 limits + 100 bytes, written through O_APPEND */
	off_t before = size_of(p);
	int r = gr_inst_log_cap(p, max, &err);
	off_t after = size_of(p);
	if (r == 1) {
		ok(after <= max && after >= max / 2, "cap: cut to about half the limit (%lld -> %lld)",
		   (long long)before, (long long)after);
		/* the newest byte is the last one written, the first kept is block-aligned */
		FILE *f = fopen(p, "r");
		int first = fgetc(f);
		fseek(f, -1, SEEK_END);
		int last = fgetc(f);
		fclose(f);
		off_t cut = before - after;
		ok(cut % 4096 == 0 && first == 'a' + (int)((cut / 4096) % 26) &&
		   last == 'a' + (int)(((before - 1) / 4096) % 26),
		   "cap: the newest bytes are kept, in order");
		if (write(fd, "END\n", 4) != 4)
			abort();
		f = fopen(p, "r");
		char tail[5] = { 0 };
		fseek(f, -4, SEEK_END);
		ok(fread(tail, 1, 4, f) == 4 && !strcmp(tail, "END\n") && size_of(p) == after + 4,
		   "cap: the O_APPEND writer goes on at the new end (no hole)");
		fclose(f);
	} else {
		ok(r == 0 && after == before, "cap: this file system cannot collapse; file untouched");
		skip("cut content checks: no FALLOC_FL_COLLAPSE_RANGE here");
		skip("append after cut: no FALLOC_FL_COLLAPSE_RANGE here");
	}
	close(fd);

	off_t cur = size_of(p);
	fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
	fill(fd, 0, max);
	close(fd);
	ok(gr_inst_log_rotate(p, max, &err) == 1 && size_of(p) < 0 && size_of(p1) == cur + max,
	   "rotate: past the limit the log becomes console.log.1");
	fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	fill(fd, 0, 2 * max);
	close(fd);
	ok(gr_inst_log_rotate(p, max, &err) == 1 && size_of(p1) == 2 * max,
	   "rotate: a second rotation replaces the older .1");
	gr_rm_rf(dir, NULL);
	return tap_done();
}
