/*
 * cmd_restart.c - `gureum restart [--timeout S] NAME...`.
 */
#include "commands.h"

#include <getopt.h>
#include <stdlib.h>

static const char *usage_restart =
	"usage: gureum restart [--timeout SECONDS] NAME...\n\nStop (gracefully) and start again.\n";

int gr_cmd_restart(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_restart))
		return 0;
	static const struct option opts[] = { { "timeout", required_argument, 0, 't' }, { 0, 0, 0, 0 } };
	int ch;
	long timeout = 10;
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "t:", opts, NULL)) != -1) {
		char *end;
		if (ch != 't')
			return gr_cli_usage(usage_restart, "restart: unknown option '%s'", argv[optind - 1]);
		timeout = strtol(optarg, &end, 10);
		if (*end || timeout < 0 || timeout > 3600)
			return gr_cli_usage(usage_restart, "--timeout: '%s' is not 0..3600 seconds", optarg);
	}
	if (optind >= argc)
		return gr_cli_usage(usage_restart, "restart: expected NAME");
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		if (!gr_cli_name_ok("name", argv[i]))
			return 2;
		if (gr_cli_state_action(argv[i], "restart", json_pack("{s:i}", "timeout", (int)timeout)))
			rc = 1;
	}
	return rc;
}
