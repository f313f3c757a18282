/*
 * cmd_show.c - `gureum show NAME [--format yaml|json]`.
 */
#include "commands.h"

#include <string.h>
#include "util/alloc.h"

static const char *usage_show =
	"usage: gureum show NAME [--format yaml|json]\n\nAll recorded fields of one instance.\n";

int gr_cmd_show(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_show))
		return 0;
	enum gr_cli_fmt fmt = GR_FMT_YAML;
	const char *name = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc) {
			if (gr_cli_parse_format(argv[++i], &fmt) < 0)
				return gr_cli_usage(usage_show, "--format: '%s' is not json or yaml", argv[i]);
		} else if (argv[i][0] == '-' || name)
			return gr_cli_usage(usage_show, "show: unexpected '%s'", argv[i]);
		else
			name = argv[i];
	}
	if (!name)
		return gr_cli_usage(usage_show, "show: expected NAME");
	if (!gr_cli_name_ok("name", name))
		return 2;
	_cleanup_free_ char *path = xasprintf("/v1/instances/%s", name);
	json_t *resp = NULL;
	if (gr_cli_call("GET", path, NULL, &resp))
		return 1;
	gr_cli_print(resp, fmt == GR_FMT_TABLE ? GR_FMT_YAML : fmt);
	json_decref(resp);
	return 0;
}
