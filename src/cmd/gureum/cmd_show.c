/*
 * cmd_show.c - `gureum show NAME [--format yaml|json]`.
 */
#include "commands.h"

#include <string.h>
#include "util/alloc.h"

static const char *usage_show =
	"usage: gureum show NAME [--format yaml|json]\n"
	"\nAll recorded fields of one instance.  The default (yaml, or table) is for people:\n"
	"times in local time (RFC 3339), the host it runs on as 'location'.  --format json\n"
	"prints the API's document as it is (times in epoch seconds, the host as 'host').\n";

int gr_cmd_show(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_show))
		return 0;
	enum gr_cli_fmt fmt = GR_FMT_YAML;
	const char *name = NULL;
	for (int i = 1; i < argc; i++) {
		int f = gr_cli_format_flag(argc, argv, &i, &fmt, usage_show);
		if (f < 0)
			return 2;
		if (f)
			continue;
		if (argv[i][0] == '-' || name)
			return gr_cli_usage(usage_show, "show: unexpected '%s'", argv[i]);
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
	gr_cli_print(resp, fmt);
	json_decref(resp);
	return 0;
}
