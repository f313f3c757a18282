/*
 * cmd_version.c - `gureum version`: the CLI's version, and what the daemon
 * says about itself (GET /v1): its version and API version, the host it runs
 * on, the kernel, and which back-ends the host can run.  Without a daemon the
 * CLI's version is still printed, and the exit code is 1.
 */
#include "commands.h"

#include <stdio.h>
#include <string.h>

static const char *usage_version =
	"usage: gureum version [--format table|json|yaml]\n"
	"\nThe CLI's version and the daemon's (GET /v1): its version and API version, the host\n"
	"it runs on (location), the kernel, and whether the host runs containers and VMs\n"
	"(with KVM, or TCG emulation).  Without a daemon the CLI's version is still printed\n"
	"(exit 1).  --format json: {\"client_version\", \"server\": GET /v1 as it is, or null}.\n";

static const char *str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "?";
}

/* "yes (cgroup v1)", "yes (tcg: no /dev/kvm)", "no (QEMU is not installed)" */
static void backend_line(const char *label, json_t *b, const char *what_key)
{
	const char *what = json_string_value(json_object_get(b, what_key));
	const char *reason = json_string_value(json_object_get(b, "reason"));
	bool yes = json_is_true(json_object_get(b, "available"));
	printf("%-16s%s", label, yes ? "yes" : "no");
	if (yes && what && reason)
		printf(" (%s%s: %s)", !strcmp(what_key, "cgroup") ? "cgroup " : "", what, reason);
	else if (yes && what)
		printf(" (%s%s)", !strcmp(what_key, "cgroup") ? "cgroup " : "", what);
	else if (reason)
		printf(" (%s)", reason);
	printf("\n");
}

int gr_cmd_version(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_version))
		return 0;
	enum gr_cli_fmt fmt = GR_FMT_TABLE;
	for (int i = 1; i < argc; i++) {
		int f = gr_cli_format_flag(argc, argv, &i, &fmt, usage_version);
		if (f < 0)
			return 2;
		if (!f)
			return gr_cli_usage(usage_version, "version: unexpected '%s'", argv[i]);
	}
	json_t *srv = NULL;
	long status = 0;
	gr_error_t err;
	const char *why = NULL;
	if (gr_client_request(&gr_cli, "GET", "/v1", NULL, &status, &srv, &err) < 0)
		why = err.msg;
	else if (status < 200 || status > 299 || !json_is_object(srv))
		why = status == 404 ? "the daemon is older than GET /v1 and does not say its version"
				    : gr_client_error_message(srv, status);
	if (why && srv) {
		static char msg[GR_ERROR_MSG_MAX];
		snprintf(msg, sizeof msg, "%s", why); /* why may point into srv */
		why = msg;
		json_decref(srv);
		srv = NULL;
	}
	if (fmt != GR_FMT_TABLE) {
		json_t *o = json_pack("{s:s,s:O?}", "client_version", GR_VERSION, "server", srv);
		gr_cli_print(o, fmt);
		json_decref(o);
	} else {
		printf("%-16s%s\n", "client version:", GR_VERSION);
		if (!srv) {
			printf("%-16s%s\n", "server version:", "unreachable");
		} else {
			json_t *env = json_object_get(srv, "environment");
			json_t *b = json_object_get(env, "backends");
			printf("%-16s%s\n", "server version:", str(srv, "server_version"));
			printf("%-16s%s\n", "api version:", str(srv, "api_version"));
			printf("%-16s%s\n", "location:", str(env, "server_name"));
			printf("%-16s%s %s (%s)\n", "kernel:", str(env, "kernel"), str(env, "kernel_version"),
			       str(env, "kernel_architecture"));
			backend_line("containers:", json_object_get(b, "container"), "cgroup");
			backend_line("vms:", json_object_get(b, "vm"), "accel");
		}
	}
	json_decref(srv);
	if (why)
		return gr_cli_fail("%s", why);
	return 0;
}
