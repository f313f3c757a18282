/*
 * commands.h - the `gureum-oci` subcommands (OCI runtime CLI).  main.c parses
 * the global options into gr_oci_cli and dispatches on the subcommand; each
 * lives in cmd_<name>.c and returns the exit code (0 ok, 1 failed, 2 usage).
 * argv[0] is the subcommand's name.
 */
#ifndef GR_CMD_GUREUM_OCI_COMMANDS_H
#define GR_CMD_GUREUM_OCI_COMMANDS_H

#include <stdbool.h>
#include "runtime/runtime.h"

struct gr_oci_cli {
	struct gr_rt_opts opts;      /* root from --root */
};
extern struct gr_oci_cli gr_cli;

struct gr_oci_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

/* Print "gureum-oci: <msg>" (and log it); returns 1. */
int gr_cli_fail(const gr_error_t *err);
/* Usage error: message + hint; returns 2. */
int gr_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "TERM", "SIGTERM", "15" -> 15; -1 if unknown. */
int gr_cli_signal(const char *s);

int gr_cmd_create(int argc, char **argv);
int gr_cmd_start(int argc, char **argv);
int gr_cmd_state(int argc, char **argv);
int gr_cmd_kill(int argc, char **argv);
int gr_cmd_delete(int argc, char **argv);
int gr_cmd_run(int argc, char **argv);
int gr_cmd_exec(int argc, char **argv);
int gr_cmd_spec(int argc, char **argv);
int gr_cmd_list(int argc, char **argv);

#endif
