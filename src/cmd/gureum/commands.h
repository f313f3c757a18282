/*
 * commands.h - the `gureum` CLI's subcommands and the helpers they share
 * (cli.c).  main.c dispatches on argv[1]; each subcommand lives in its own
 * cmd_<name>.c and returns the exit code (0 ok, 1 failed, 2 usage).
 * argv[0] is the subcommand's name.  Errors go to stderr as "gureum: <msg>".
 */
#ifndef GR_CMD_GUREUM_COMMANDS_H
#define GR_CMD_GUREUM_COMMANDS_H

#include <jansson.h>
#include <stdbool.h>
#include "api/api.h"

struct gr_cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

/* cmd_sim.c is written by the scheduler work. */
int gr_cmd_sim(int argc, char **argv);
int gr_cmd_launch(int argc, char **argv);
int gr_cmd_create(int argc, char **argv);
int gr_cmd_start(int argc, char **argv);
int gr_cmd_stop(int argc, char **argv);
int gr_cmd_restart(int argc, char **argv);
int gr_cmd_delete(int argc, char **argv);
int gr_cmd_list(int argc, char **argv);
int gr_cmd_show(int argc, char **argv);
int gr_cmd_exec(int argc, char **argv);
int gr_cmd_console(int argc, char **argv);
int gr_cmd_logs(int argc, char **argv);
int gr_cmd_config(int argc, char **argv);
int gr_cmd_image(int argc, char **argv);
int gr_cmd_operation(int argc, char **argv);
int gr_cmd_events(int argc, char **argv);
int gr_cmd_snapshot(int argc, char **argv);

/* ---- cli.c ---- */
extern struct gr_client gr_cli;

enum gr_cli_fmt { GR_FMT_TABLE, GR_FMT_JSON, GR_FMT_YAML };

/* --help/-h anywhere before "--": print text on stdout and return true. */
bool gr_cli_wants_help(int argc, char **argv, const char *text);
/* Print "gureum CMD: msg" + usage on stderr; returns 2. */
int gr_cli_usage(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Failure: "gureum: msg" on stderr; returns 1. */
int gr_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int gr_cli_parse_format(const char *s, enum gr_cli_fmt *out);
/* A name safe in a URL path ([A-Za-z0-9._-], 1..128); else prints and false. */
bool gr_cli_name_ok(const char *what, const char *name);
/* One request; 0 when the answer is 2xx (resp may be NULL to drop it),
 * else prints the error and returns 1. */
int gr_cli_call(const char *method, const char *path, json_t *body, json_t **resp);
void gr_cli_print(json_t *j, enum gr_cli_fmt fmt);
/* Wait for an operation to end, printing progress on stderr. 0 success. */
int gr_cli_wait_op(const char *id, bool quiet);
/* POST /v1/instances/NAME/state {"action":...} with extra fields. */
int gr_cli_state_action(const char *name, const char *action, json_t *extra);

#endif
