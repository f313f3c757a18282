/* cmd_start.c - `gureum-oci start ID`. */
#include "commands.h"

#include <stdio.h>
#include <string.h>

int gr_cmd_start(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: gureum-oci start ID\n\nRun the user program of the created container ID.\n");
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-')
		return gr_cli_usage("start", "expected exactly one container ID");
	gr_error_t err = { 0 };
	if (gr_rt_start(&gr_cli.opts, argv[1], &err) < 0)
		return gr_cli_fail(&err);
	return 0;
}
