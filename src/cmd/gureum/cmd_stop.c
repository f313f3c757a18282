/*
 * cmd_stop.c - `gureum stop [--force] [--timeout S] NAME...`.
 */
#include "commands.h"

#include <getopt.h>
#include <stdlib.h>

static const char *usage_stop =
	"usage: gureum stop [--force] [--timeout SECONDS] NAME...\n"
	"\nAsk the main process to stop (SIGTERM), kill it after the timeout (default 10 s).\n"
	"  --force      kill at once\n";

int gr_cmd_stop(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_stop))
		return 0;
	static const struct option opts[] = { { "force", no_argument, 0, 'f' },
					      { "timeout", required_argument, 0, 't' }, { 0, 0, 0, 0 } };
	int force = 0, ch;
	long timeout = 10;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "ft:", opts, NULL)) != -1) {
		char *end;
		if (ch == 'f')
			force = 1;
		else if (ch == 't') {
			timeout = strtol(optarg, &end, 10);
			if (*end || timeout < 0 || timeout > 3600)
				return gr_cli_usage(usage_stop, "--timeout: '%s' is not 0..3600 seconds", optarg);
		} else
			return gr_cli_usage(usage_stop, "stop: unknown option '%s'", argv[optind - 1]);
	}
	if (optind >= argc)
		return gr_cli_usage(usage_stop, "stop: expected NAME");
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		if (!gr_cli_name_ok("name", argv[i]))
			return 2;
		json_t *extra = json_pack("{s:b,s:i}", "force", force, "timeout", (int)timeout);
		if (gr_cli_state_action(argv[i], "stop", extra))
			rc = 1;
	}
	return rc;
}
