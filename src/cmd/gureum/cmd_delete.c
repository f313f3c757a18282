/*
 * cmd_delete.c - `gureum delete [--force] NAME...`.
 */
#include "commands.h"

#include <string.h>
#include "util/alloc.h"

static const char *usage_delete =
	"usage: gureum delete [--force] NAME...\n"
	"\nDelete instances and their layers.  A running instance needs --force (it is killed).\n";

int gr_cmd_delete(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_delete))
		return 0;
	bool force = false;
	int rc = 0, names = 0;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
			force = true;
		else if (argv[i][0] == '-')
			return gr_cli_usage(usage_delete, "delete: unknown option '%s'", argv[i]);
		else if (!gr_cli_name_ok("name", argv[i]))
			return 2;
		else
			names++;
	if (!names)
		return gr_cli_usage(usage_delete, "delete: expected NAME");
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;
		_cleanup_free_ char *path = xasprintf("/v1/instances/%s%s", argv[i], force ? "?force=1" : "");
		if (gr_cli_call("DELETE", path, NULL, NULL))
			rc = 1;
	}
	return rc;
}
