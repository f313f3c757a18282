/*
 * test_tokens.c - the API's token store, role rule and path splitting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "api/api.h"
#include "tap.h"

static char *write_tmp(const char *text)
{
	static char path[64];
	strcpy(path, "/tmp/gr-test-tokens.XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	return path;
}

int main(void)
{
	gr_error_t err;
	struct gr_tokens *t = NULL;
	char *p = write_tmp("# comment\n\nadmintoken-0123456789 admin\n  viewertoken-0123456789\tviewer  # trailing\n");
	ok(gr_tokens_load(p, &t, &err) == 0, "a valid token file loads");
	is_str(gr_tokens_role(t, "admintoken-0123456789"), "admin", "admin token has role admin");
	is_str(gr_tokens_role(t, "viewertoken-0123456789"), "viewer", "viewer token has role viewer");
	ok(gr_tokens_role(t, "admintoken-012345678") == NULL, "a prefix of a token is not a token");
	ok(gr_tokens_role(t, "admintoken-01234567890") == NULL, "a longer string is not a token");
	ok(gr_tokens_role(t, "") == NULL, "empty token has no role");
	ok(gr_tokens_role(t, NULL) == NULL, "NULL token has no role");
	gr_tokens_free(t);
	unlink(p);

	p = write_tmp("sometoken-0123456789 root\n");
	ok(gr_tokens_load(p, &t, &err) < 0 && err.code == EINVAL, "unknown role is refused");
	ok(strstr(err.msg, "line 1") != NULL, "the error names the line: %s", err.msg);
	unlink(p);
	p = write_tmp("short admin\n");
	ok(gr_tokens_load(p, &t, &err) < 0 && strstr(err.msg, "16"), "short tokens are refused: %s", err.msg);
	unlink(p);
	p = write_tmp("a-token-0123456789 admin extra\n");
	ok(gr_tokens_load(p, &t, &err) < 0, "extra words are refused");
	unlink(p);
	ok(gr_tokens_load("/nonexistent/tokens", &t, &err) < 0 && err.code == ENOENT, "missing file: ENOENT");

	ok(gr_api_role_allows("admin", "DELETE"), "admin may DELETE");
	ok(gr_api_role_allows("viewer", "GET"), "viewer may GET");
	ok(!gr_api_role_allows("viewer", "POST"), "viewer may not POST");
	ok(!gr_api_role_allows("viewer", "PATCH"), "viewer may not PATCH");
	ok(!gr_api_role_allows(NULL, "GET"), "no role may nothing");

	char buf[128], *seg[4];
	strcpy(buf, "/v1/instances/web1/state");
	is_int(gr_api_split_path(buf, seg, 4), 4, "four segments");
	is_str(seg[2], "web1", "third segment is the name");
	strcpy(buf, "//v1//instances/");
	is_int(gr_api_split_path(buf, seg, 4), 2, "empty segments are skipped");
	strcpy(buf, "/a/b/c/d/e");
	is_int(gr_api_split_path(buf, seg, 4), -1, "too many segments: -1");
	return tap_done();
}
