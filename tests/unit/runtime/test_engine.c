/*
 * test_engine.c - pure parts of the engine: resolving mount destinations inside
 * a rootfs (symlinks must not escape), container id rules, the state JSON, and
 * the compiled seccomp filter cache (a hit returns the same program; a different
 * filter misses).
 */
#include "runtime/runtime-internal.h"
#include "util/alloc.h"
#include "tap.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[] = "/tmp/gr-test-rt-engine.XXXXXX";

static void test_secure_join(void)
{
	char root[256], p[512], out[4096];
	snprintf(root, sizeof root, "%s/root", tmp);
	snprintf(p, sizeof p, "%s/etc", root);
	mkdir(root, 0755);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/abs", root);
	if (symlink("/etc", p) < 0)
		diag("symlink: %s", strerror(errno));
	snprintf(p, sizeof p, "%s/rel", root);
	if (symlink("../../../../etc", p) < 0)
		diag("symlink: %s", strerror(errno));
	snprintf(p, sizeof p, "%s/loop", root);
	if (symlink("loop", p) < 0)
		diag("symlink: %s", strerror(errno));
	char want[600];

	ok(gr__secure_join(root, "/proc", out, sizeof out) == 0, "plain path joins");
	snprintf(want, sizeof want, "%s/proc", root);
	is_str(out, want, "plain path under the root");
	gr__secure_join(root, "/abs/passwd", out, sizeof out);
	snprintf(want, sizeof want, "%s/etc/passwd", root);
	is_str(out, want, "absolute symlink resolves inside the root, not to the host's /etc");
	gr__secure_join(root, "/rel/x", out, sizeof out);
	snprintf(want, sizeof want, "%s/etc/x", root);
	is_str(out, want, "'..' in a symlink stops at the root");
	gr__secure_join(root, "/../../x/./y/..", out, sizeof out);
	snprintf(want, sizeof want, "%s/x", root);
	is_str(out, want, "'..' and '.' in the destination stay inside");
	errno = 0;
	ok(gr__secure_join(root, "/loop/x", out, sizeof out) < 0 && errno == ELOOP, "symlink loop: ELOOP");
	gr__secure_join(root, "/", out, sizeof out);
	is_str(out, root, "'/' is the root itself");
}

static void test_ids(void)
{
	gr_error_t err;
	ok(gr__check_id("gr-test.1_A", &err) == 0, "letters, digits, - _ . accepted");
	ok(gr__check_id("", &err) < 0, "empty id refused");
	ok(gr__check_id("a/b", &err) < 0 && strstr(err.msg, "a/b"), "slash refused, message names the id");
	ok(gr__check_id("..", &err) < 0, "'..' refused");
	ok(gr__check_id(".hidden", &err) < 0, "leading dot refused");
	char longid[200];
	memset(longid, 'a', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	ok(gr__check_id(longid, &err) < 0, "over 128 characters refused");
}

static void test_state_json(void)
{
	struct gr_oci_kv ann = { "k", "v" };
	struct gr_rt_state st = { .id = "c1", .bundle = "/b", .oci_version = "1.0.2",
				  .status = GR_RT_RUNNING, .pid = 42, .created = 1700000000123456789LL,
				  .annotations = &ann, .n_annotations = 1 };
	char *s = gr_rt_state_json(&st);
	json_t *j = json_loads(s, 0, NULL);
	ok(j != NULL, "state JSON parses");
	is_str(json_string_value(json_object_get(j, "status")), "running", "status");
	is_int(json_integer_value(json_object_get(j, "pid")), 42, "pid");
	is_str(json_string_value(json_object_get(j, "bundle")), "/b", "bundle");
	is_str(json_string_value(json_object_get(j, "ociVersion")), "1.0.2", "ociVersion");
	is_str(json_string_value(json_object_get(json_object_get(j, "annotations"), "k")), "v", "annotations");
	is_str(json_string_value(json_object_get(j, "created")), "2023-11-14T22:13:20.123456789Z",
	       "created in RFC 3339 with nanoseconds");
	json_decref(j);
	free(s);
	is_str(gr_rt_status_name(GR_RT_CREATED), "created", "status names");
	is_str(gr_rt_status_name(GR_RT_STOPPED), "stopped", "status names");
}

static void test_seccomp_cache(void)
{
	char *names1[] = { "read", "write", "exit_group", NULL };
	char *names2[] = { "read", NULL };
	char *arches[] = { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", NULL };
	struct gr_oci_seccomp_rule rule = { .names = names1, .action = GR_SCMP_ALLOW };
	struct gr_oci_seccomp s = { .default_action = GR_SCMP_ERRNO, .architectures = arches,
				    .syscalls = &rule, .n_syscalls = 1 };
	char cache[300];
	snprintf(cache, sizeof cache, "%s/cache", tmp);
	gr_error_t err = { 0 };
	struct gr__bpf a, b, c;
	ok(gr__seccomp_compile_cached(&s, cache, &a, &err) == 0 && a.len > 0, "compile (miss) %s", err.msg);
	ok(gr__seccomp_compile_cached(&s, cache, &b, &err) == 0, "compile again (hit)");
	ok(a.len == b.len && !memcmp(a.insns, b.insns, a.len * sizeof *a.insns), "the cached program is identical");
	rule.names = names2;
	ok(gr__seccomp_compile_cached(&s, cache, &c, &err) == 0, "a different filter compiles");
	ok(c.len != a.len || memcmp(c.insns, a.insns, a.len * sizeof *a.insns), "and is not served the cached one");
	gr__bpf_free(&a);
	gr__bpf_free(&b);
	gr__bpf_free(&c);
	char *bad[] = { "SCMP_ARCH_NOPE", NULL };
	s.architectures = bad;
	ok(gr__seccomp_compile_cached(&s, cache, &a, &err) < 0 && strstr(err.msg, "architectures[0]"),
	   "unknown architecture: error names the field (%s)", err.msg);
	s.architectures = NULL;
	rule.action = GR_SCMP_NOTIFY;
	ok(gr__seccomp_compile(&s, &a, &err) < 0 && strstr(err.msg, "syscalls[0]"), "SCMP_ACT_NOTIFY refused, names the rule");
}

/* capabilities above the running kernel's last are refused (capset would drop them) */
static void test_caps_known(void)
{
	gr_error_t err = { 0 };
	int last = -1;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
	if (!f || fscanf(f, "%d", &last) != 1 || last < 0 || last > 61) {
		skip("no usable /proc/sys/kernel/cap_last_cap");
		if (f)
			fclose(f);
		return;
	}
	fclose(f);
	struct gr_oci_process p = { .has_caps = true };
	p.caps[GR_CAP_PERMITTED] = (1ull << (last + 1)) - 1;
	ok(gr__check_caps_known(&p, &err) == 0, "every capability up to the kernel's last is accepted");
	p.caps[GR_CAP_AMBIENT] = 1ull << (last + 2);
	ok(gr__check_caps_known(&p, &err) < 0 && strstr(err.msg, "process.capabilities.ambient: ") &&
	   strstr(err.msg, "not known to the running kernel"), "one past it is refused, naming the set (%s)",
	   err.msg);
	p.has_caps = false;
	ok(gr__check_caps_known(&p, &err) == 0, "no capabilities object: nothing to check");
}

int main(void)
{
	if (!mkdtemp(tmp))
		return 1;
	test_secure_join();
	test_ids();
	test_state_json();
	test_seccomp_cache();
	test_caps_known();
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	if (system(cmd) != 0)
		diag("cleanup failed");
	return tap_done();
}
