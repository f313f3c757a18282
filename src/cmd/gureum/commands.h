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
int gr_cmd_move(int argc, char **argv);
int gr_cmd_version(int argc, char **argv);
int gr_cmd_host(int argc, char **argv);
int gr_cmd_cluster(int argc, char **argv);
int gr_cmd_network(int argc, char **argv);

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
/* argv[*i] is "--format X" or "--format=X": 1 (*fmt set, *i on its last
 * word), 0 it is not --format, -1 a bad or missing value (usage printed;
 * the caller returns 2). */
int gr_cli_format_flag(int argc, char **argv, int *i, enum gr_cli_fmt *fmt, const char *usage);
/* The words of "CMD SUB ..." from argv[first]: --format flags (only when fmt
 * is not NULL) and at most one operand (none when no_operand); 0 with
 * *operand set (NULL when there is none), else usage printed and 2. */
int gr_cli_sub_args(int argc, char **argv, int first, enum gr_cli_fmt *fmt, bool no_operand,
		    const char *usage, const char *cmd, const char *sub, const char **operand);
/* GET path and print the array under key: a table through table(list) for
 * GR_FMT_TABLE, else as gr_cli_print does; 0, or 1 after printing the error. */
int gr_cli_list(const char *path, const char *key, enum gr_cli_fmt fmt, void (*table)(json_t *list));
/* A name safe in a URL path ([A-Za-z0-9._-], 1..128); else prints and false. */
bool gr_cli_name_ok(const char *what, const char *name);
/* One request; 0 when the answer is 2xx (resp may be NULL to drop it),
 * else prints the error and returns 1. */
int gr_cli_call(const char *method, const char *path, json_t *body, json_t **resp);
/* GET path streamed to fn (NULL: to stdout); 0 ok, else prints and 1. */
int gr_cli_stream(const char *path, gr_client_data_fn fn, void *ud);
/* JSON: the API's JSON as it is.  table/yaml: YAML of gr_cli_humanize(j). */
void gr_cli_print(json_t *j, enum gr_cli_fmt fmt);
/* A copy of j for people: times (created, updated, time; epoch seconds)
 * as RFC 3339 local time, "host" renamed "location".  Caller owns it. */
json_t *gr_cli_humanize(json_t *j);
/* An epoch-seconds number as RFC 3339 in local time (2025-05-06T14:03:11+09:00)
 * into buf (>= 32 bytes), or "-" when t is not a positive number.  Returns buf. */
const char *gr_cli_time(json_t *t, char *buf, size_t n);
/* Wait for an operation to end, printing progress on stderr. 0 success.
 * *final (may be NULL) gets the ended operation, also on failure. */
int gr_cli_wait_op(const char *id, bool quiet, json_t **final);
/* POST /v1/instances/NAME/state {"action":...} with extra fields. */
int gr_cli_state_action(const char *name, const char *action, json_t *extra);

#endif
