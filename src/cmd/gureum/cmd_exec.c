/*
 * cmd_exec.c - `gureum exec NAME [--env K=V] [--cwd DIR] -- CMD...`: runs CMD
 * in the instance; its stdin is this command's stdin (when not a terminal),
 * its output is printed, and its exit status becomes ours.
 */
#include "commands.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/fs.h"

static const char *usage_exec =
	"usage: gureum exec NAME [--env K=V] [--cwd DIR] [-t] -- CMD [ARG...]\n"
	"\nRun CMD inside the instance and exit with its status.  Standard input is\n"
	"passed when it is not a terminal.  -t (interactive terminal) is not supported yet.\n";

int gr_cmd_exec(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_exec))
		return 0;
	const char *name = NULL;
	_cleanup_free_ char *path = NULL;
	json_t *body = json_object(), *env = json_array();
	int i, rc = 2;
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--env") && i + 1 < argc) {
			if (!strchr(argv[i + 1], '=')) {
				gr_cli_usage(usage_exec, "--env: '%s' is not KEY=VALUE", argv[i + 1]);
				goto out;
			}
			json_array_append_new(env, json_string(argv[++i]));
		} else if (!strcmp(argv[i], "--cwd") && i + 1 < argc) {
			json_object_set_new(body, "cwd", json_string(argv[++i]));
		} else if (!strcmp(argv[i], "-t") || !strcmp(argv[i], "--tty") || !strcmp(argv[i], "-it")) {
			json_object_set_new(body, "tty", json_true());
		} else if (!strcmp(argv[i], "-i")) {
			/* stdin is always passed when it is not a terminal */
		} else if (argv[i][0] == '-' || name) {
			gr_cli_usage(usage_exec, "exec: unexpected '%s' (put the command after --)", argv[i]);
			goto out;
		} else
			name = argv[i];
	}
	if (!name || i + 1 >= argc) {
		gr_cli_usage(usage_exec, "exec: expected NAME -- CMD");
		goto out;
	}
	if (!gr_cli_name_ok("name", name))
		goto out;
	json_t *cmd = json_array();
	for (i++; i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	json_object_set_new(body, "cmd", cmd);
	if (json_array_size(env))
		json_object_set(body, "env", env);
	if (!isatty(0) && !json_is_true(json_object_get(body, "tty"))) {
		_cleanup_free_ char *in = NULL;
		size_t len = 0;
		gr_error_t err;
		if (gr_read_file("/dev/stdin", 512u << 10, &in, &len, &err) < 0) {
			rc = gr_cli_fail("stdin: %s", err.msg);
			goto out;
		}
		if (len)
			json_object_set_new(body, "stdin", json_stringn(in, len));
	}
	path = xasprintf("/v1/instances/%s/exec", name);
	json_t *resp = NULL;
	if (gr_cli_call("POST", path, body, &resp)) {
		rc = 1;
		goto out;
	}
	const char *o = json_string_value(json_object_get(resp, "stdout"));
	const char *e = json_string_value(json_object_get(resp, "stderr"));
	if (o)
		gr_write_all(1, o, json_string_length(json_object_get(resp, "stdout")));
	if (e)
		gr_write_all(2, e, json_string_length(json_object_get(resp, "stderr")));
	rc = (int)json_integer_value(json_object_get(resp, "exit_code"));
	if (rc < 0 || rc > 255)
		rc = 1;
	json_decref(resp);
out:
	json_decref(env);
	json_decref(body);
	return rc;
}
