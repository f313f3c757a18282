/* Unit tests for src/util: errors, string vectors, file helpers. */
#include "tap.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

int main(void)
{
	gr_error_t err = {0};
	is_int(gr_error_set(&err, EINVAL, "field %s", "x"), -1, "gr_error_set returns -1");
	is_str(err.msg, "field x", "message formatted");
	gr_error_prefix(&err, "config.json");
	is_str(err.msg, "config.json: field x", "prefix adds context");
	is_int(gr_error_http_status(&err), 400, "EINVAL maps to 400");
	err.code = ENOENT;
	is_int(gr_error_http_status(&err), 404, "ENOENT maps to 404");
	errno = ENOENT;
	gr_error_sys(&err, "open %s", "/nope");
	is_str(err.msg, "open /nope: No such file or directory", "sys error appends strerror");

	char *v[] = { "a", "b", NULL };
	_cleanup_strv_ char **d = gr_strv_dup(v);
	is_int(gr_strv_len(d), 2, "strv dup length");
	is_str(d[1], "b", "strv dup content");

	char tmpl[] = "/tmp/gr-util-XXXXXX";
	ok(mkdtemp(tmpl) != NULL, "temp dir");
	_cleanup_free_ char *deep = xasprintf("%s/a/b/c", tmpl);
	is_int(gr_mkdir_p(deep, 0755, &err), 0, "mkdir -p");
	_cleanup_free_ char *f = xasprintf("%s/a/file", tmpl);
	is_int(gr_write_file_atomic(f, "hello", 5, 0644, &err), 0, "atomic write");
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	is_int(gr_read_file(f, 0, &buf, &len, &err), 0, "read back");
	is_str(buf, "hello", "content round-trips");
	_cleanup_free_ char *big = NULL;
	is_int(gr_read_file(f, 3, &big, NULL, &err), -1, "size limit enforced");
	is_int(err.code, EFBIG, "size limit reports EFBIG");
	is_int(gr_rm_rf(tmpl, &err), 0, "rm -rf");
	struct stat st;
	ok(stat(tmpl, &st) < 0 && errno == ENOENT, "tree gone");
	return tap_done();
}
