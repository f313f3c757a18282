/* cmd_delete.c - `gureum-oci delete [--force] ID`. */
#include "commands.h"

#include <getopt.h>
#include <stdio.h>

int gr_cmd_delete(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "force", no_argument, NULL, 'f' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	bool force = false;
	int c;
	while ((c = getopt_long(argc, argv, "+fh", lo, NULL)) != -1) {
		switch (c) {
		case 'f': force = true; break;
		case 'h':
			printf("usage: gureum-oci delete [--force] ID\n\n"
			       "Remove container ID (its cgroup and state). A running container is\n"
			       "refused unless -f/--force, which kills it first.\n");
			return 0;
		default: return gr_cli_usage("delete", "bad option");
		}
	}
	if (optind != argc - 1)
		return gr_cli_usage("delete", "expected exactly one container ID");
	gr_error_t err = { 0 };
	if (gr_rt_delete(&gr_cli.opts, argv[optind], force, &err) < 0)
		return gr_cli_fail(&err);
	return 0;
}
