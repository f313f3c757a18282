/*
 * commands.h - the `gureum` CLI's subcommands.  main.c dispatches on argv[1];
 * each subcommand lives in its own cmd_<name>.c and returns the exit code
 * (0 ok, 1 failed, 2 usage).  argv[0] is the subcommand's name.
 */
#ifndef GR_CMD_GUREUM_COMMANDS_H
#define GR_CMD_GUREUM_COMMANDS_H

struct gr_cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

int gr_cmd_sim(int argc, char **argv);

#endif
