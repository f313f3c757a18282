/* cmd_kill.c - `gureum-oci kill [--all] ID [SIGNAL]`. */
#include "commands.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

int gr_cmd_kill(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "all", no_argument, NULL, 'a' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	bool all = false;
	int c;
	while ((c = getopt_long(argc, argv, "+ah", lo, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'h':
			printf("usage: gureum-oci kill [--all] ID [SIGNAL]\n\n"
			       "Send SIGNAL (name or number, default TERM) to the container's init;\n"
			       "  -a, --all   to every process in the container's cgroup\n");
			return 0;
		default: return gr_cli_usage("kill", "bad option");
		}
	}
	if (optind != argc - 1 && optind != argc - 2)
		return gr_cli_usage("kill", "expected ID [SIGNAL]");
	int sig = SIGTERM;
	if (optind == argc - 2 && (sig = gr_cli_signal(argv[optind + 1])) < 0)
		return gr_cli_usage("kill", "unknown signal '%s'", argv[optind + 1]);
	gr_error_t err = { 0 };
	if (gr_rt_kill(&gr_cli.opts, argv[optind], sig, all, &err) < 0)
		return gr_cli_fail(&err);
	return 0;
}
