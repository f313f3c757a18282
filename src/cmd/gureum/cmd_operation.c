/*
 * cmd_operation.c - `gureum operation list|show ID|wait ID`.
 */
#include "commands.h"

#include <string.h>
#include "util/alloc.h"

static const char *usage_op =
	"usage: gureum operation list [--format json|yaml]\n"
	"       gureum operation show ID\n"
	"       gureum operation wait ID     (exit 0 when it succeeded)\n";

int gr_cmd_operation(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_op))
		return 0;
	if (argc >= 2 && !strcmp(argv[1], "list")) {
		enum gr_cli_fmt fmt = GR_FMT_YAML;
		if (argc == 4 && !strcmp(argv[2], "--format")) {
			if (gr_cli_parse_format(argv[3], &fmt) < 0)
				return gr_cli_usage(usage_op, "--format: '%s' is not json or yaml", argv[3]);
		} else if (argc != 2)
			return gr_cli_usage(usage_op, "operation list: unexpected '%s'", argv[2]);
		json_t *resp = NULL;
		if (gr_cli_call("GET", "/v1/operations", NULL, &resp))
			return 1;
		gr_cli_print(json_object_get(resp, "operations"), fmt == GR_FMT_TABLE ? GR_FMT_YAML : fmt);
		json_decref(resp);
		return 0;
	}
	if (argc == 3 && (!strcmp(argv[1], "show") || !strcmp(argv[1], "wait"))) {
		if (!gr_cli_name_ok("operation id", argv[2]))
			return 2;
		if (!strcmp(argv[1], "wait"))
			return gr_cli_wait_op(argv[2], true);
		_cleanup_free_ char *path = xasprintf("/v1/operations/%s", argv[2]);
		json_t *resp = NULL;
		if (gr_cli_call("GET", path, NULL, &resp))
			return 1;
		gr_cli_print(resp, GR_FMT_YAML);
		json_decref(resp);
		return 0;
	}
	return gr_cli_usage(usage_op, "operation: expected list, show ID or wait ID");
}
