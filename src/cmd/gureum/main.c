/*
 * main.c - the `gureum` command: a dispatch table over cmd_*.c.
 */
#include "commands.h"

#include <stdio.h>
#include <string.h>

static const struct gr_cli_command commands[] = {
	{ "sim", gr_cmd_sim, "replay CPU traces against placement and consolidation policies" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: gureum COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'gureum COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "gureum: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
