/* cmd_run.c - `gureum-oci run [-b DIR] [-d] [--pid-file F] [--console-socket S] ID`. */
#include "commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

int gr_cmd_run(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "bundle", required_argument, NULL, 'b' }, { "pid-file", required_argument, NULL, 'p' },
		{ "console-socket", required_argument, NULL, 'c' }, { "detach", no_argument, NULL, 'd' },
		{ "preserve-fds", required_argument, NULL, 'f' }, { "no-pivot", no_argument, NULL, 'n' },
		{ "no-new-keyring", no_argument, NULL, 'k' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *bundle = ".";
	bool detach = false;
	int c;
	while ((c = getopt_long(argc, argv, "+b:dh", lo, NULL)) != -1) {
		switch (c) {
		case 'b': bundle = optarg; break;
		case 'p': gr_cli.opts.pid_file = optarg; break;
		case 'c': gr_cli.opts.console_socket = optarg; break;
		case 'd': detach = true; break;
		case 'f': gr_cli.opts.preserve_fds = atoi(optarg); break;
		case 'k': gr_cli.opts.no_new_keyring = true; break;
		case 'n': break;
		case 'h':
			printf("usage: gureum-oci run [OPTIONS] ID\n\n"
			       "Create and start container ID; without --detach wait for it, delete it\n"
			       "and exit with its status (128+N when killed by signal N).\n\n"
			       "  -b, --bundle DIR          bundle folder (default .)\n"
			       "  -d, --detach              return once the program runs\n"
			       "      --pid-file FILE       write the container's init pid here\n"
			       "      --console-socket SOCK receive the pty master (process.terminal)\n");
			return 0;
		default: return gr_cli_usage("run", "bad option");
		}
	}
	if (optind != argc - 1)
		return gr_cli_usage("run", "expected exactly one container ID");
	gr_error_t err = { 0 };
	int status = 0;
	if (gr_rt_run(&gr_cli.opts, argv[optind], bundle, detach, &status, &err) < 0)
		return gr_cli_fail(&err);
	return detach ? 0 : status;
}
