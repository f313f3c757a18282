/*
 * cmd_logs.c - `gureum logs [-f] NAME`: the main process's output.
 */
#include "commands.h"

#include <string.h>
#include "util/alloc.h"

static const char *usage_logs =
	"usage: gureum logs [-f|--follow] NAME\n"
	"\nPrint what the instance's main process wrote (stdout and stderr).\n"
	"  -f   keep printing new output until the instance stops\n";

int gr_cmd_logs(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_logs))
		return 0;
	const char *name = NULL;
	bool follow = false;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--follow"))
			follow = true;
		else if (argv[i][0] == '-' || name)
			return gr_cli_usage(usage_logs, "logs: unexpected '%s'", argv[i]);
		else
			name = argv[i];
	if (!name)
		return gr_cli_usage(usage_logs, "logs: expected NAME");
	if (!gr_cli_name_ok("name", name))
		return 2;
	/* ask first, so a missing instance gets its real message */
	_cleanup_free_ char *ipath = xasprintf("/v1/instances/%s", name);
	if (gr_cli_call("GET", ipath, NULL, NULL))
		return 1;
	_cleanup_free_ char *path = xasprintf("/v1/instances/%s/logs%s", name, follow ? "?follow=1" : "");
	return gr_cli_stream(path, NULL, NULL);
}
