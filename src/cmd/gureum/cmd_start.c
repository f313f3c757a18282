/*
 * cmd_start.c - `gureum start NAME...`.
 */
#include "commands.h"

#include <string.h>

static const char *usage_start = "usage: gureum start NAME...\n\nStart defined or stopped instances.\n";

int gr_cmd_start(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_start))
		return 0;
	if (argc < 2)
		return gr_cli_usage(usage_start, "start: expected NAME");
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			return gr_cli_usage(usage_start, "start: unknown option '%s'", argv[i]);
		if (!gr_cli_name_ok("name", argv[i]))
			return 2;
		if (gr_cli_state_action(argv[i], "start", NULL))
			rc = 1;
	}
	return rc;
}
