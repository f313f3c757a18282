/*
 * cmd_console.c - `gureum console NAME`: follow the console output of an
 * instance (for a container: its main process's stdout/stderr) until it
 * stops or Ctrl-C.  Input is not forwarded yet; use `gureum exec`.
 */
#include "commands.h"

#include "util/alloc.h"

static const char *usage_console =
	"usage: gureum console NAME\n"
	"\nFollow the instance's console output (read-only) until it stops; Ctrl-C leaves.\n";

int gr_cli_stream_text(const char *path);

int gr_cmd_console(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_console))
		return 0;
	if (argc != 2 || argv[1][0] == '-')
		return gr_cli_usage(usage_console, "console: expected NAME");
	if (!gr_cli_name_ok("name", argv[1]))
		return 2;
	_cleanup_free_ char *ipath = xasprintf("/v1/instances/%s", argv[1]);
	if (gr_cli_call("GET", ipath, NULL, NULL))
		return 1;
	_cleanup_free_ char *path = xasprintf("/v1/instances/%s/console", argv[1]);
	return gr_cli_stream_text(path);
}
