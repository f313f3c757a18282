/*
 * cmd_config.c - `gureum config set NAME KEY=VALUE...`: change memory, cpu,
 * pids, restart, ephemeral; applied live to a running container.
 */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

static const char *usage_config =
	"usage: gureum config set NAME KEY=VALUE...\n"
	"\nKeys: memory (e.g. 512M), cpu (CPUs), pids, restart (always|on-failure|no),\n"
	"ephemeral (true|false).  memory/cpu/pids apply at once to a running container.\n";

int gr_cmd_config(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_config))
		return 0;
	if (argc < 4 || strcmp(argv[1], "set"))
		return gr_cli_usage(usage_config, "config: expected 'set NAME KEY=VALUE...'");
	const char *name = argv[2];
	if (!gr_cli_name_ok("name", name))
		return 2;
	json_t *body = json_object();
	for (int i = 3; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq || eq == argv[i]) {
			json_decref(body);
			return gr_cli_usage(usage_config, "config: '%s' is not KEY=VALUE", argv[i]);
		}
		_cleanup_free_ char *key = xstrndup(argv[i], (size_t)(eq - argv[i]));
		const char *v = eq + 1;
		char *end;
		json_t *val;
		if (!strcmp(key, "cpu")) {
			double d = strtod(v, &end);
			val = *end || !*v ? json_string(v) : json_real(d);
		} else if (!strcmp(key, "pids")) {
			long long n = strtoll(v, &end, 10);
			val = *end || !*v ? json_string(v) : json_integer(n);
		} else if (!strcmp(key, "ephemeral")) {
			val = !strcmp(v, "true") ? json_true() : !strcmp(v, "false") ? json_false() : json_string(v);
		} else {
			val = json_string(v);
		}
		json_object_set_new(body, key, val);
	}
	_cleanup_free_ char *path = xasprintf("/v1/instances/%s/config", name);
	int rc = gr_cli_call("PATCH", path, body, NULL);
	json_decref(body);
	return rc;
}
