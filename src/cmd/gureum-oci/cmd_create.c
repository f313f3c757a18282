/* cmd_create.c - `gureum-oci create [--bundle DIR] [--pid-file F] [--console-socket S] ID`. */
#include "commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

int gr_cmd_create(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "bundle", required_argument, NULL, 'b' }, { "pid-file", required_argument, NULL, 'p' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "preserve-fds", required_argument, NULL, 'f' }, { "no-pivot", no_argument, NULL, 'n' },
		{ "no-new-keyring", no_argument, NULL, 'k' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *bundle = ".";
	int c;
	while ((c = getopt_long(argc, argv, "+b:h", lo, NULL)) != -1) {
		switch (c) {
		case 'b': bundle = optarg; break;
		case 'p': gr_cli.opts.pid_file = optarg; break;
		case 'c': gr_cli.opts.console_socket = optarg; break;
		case 'f': gr_cli.opts.preserve_fds = atoi(optarg); break;
		case 'k': gr_cli.opts.no_new_keyring = true; break;
		case 'n': break;
		case 'h':
			printf("usage: gureum-oci create [OPTIONS] ID\n\n"
			       "Create container ID from BUNDLE/config.json; returns once its process\n"
			       "waits for 'gureum-oci start'.\n\n"
			       "  -b, --bundle DIR          bundle folder (default .)\n"
			       "      --pid-file FILE       write the container's init pid here\n"
			       "      --console-socket SOCK receive the pty master (process.terminal)\n"
			       "      --preserve-fds N      pass fds 3..3+N-1 to the container\n");
			return 0;
		default: return gr_cli_usage("create", "bad option");
		}
	}
	if (optind != argc - 1)
		return gr_cli_usage("create", "expected exactly one container ID");
	gr_error_t err = { 0 };
	if (gr_rt_create(&gr_cli.opts, argv[optind], bundle, NULL, &err) < 0)
		return gr_cli_fail(&err);
	return 0;
}
