/*
 * cmd_operation.c - `gureum operation list|show ID|wait ID`.  list is a
 * table by default (one row per operation, newest last), show a YAML view;
 * --format json prints the API's operation documents as they are.
 */
#include "commands.h"

#include <stdio.h>
#include <string.h>
#include "util/alloc.h"

static const char *usage_op =
	"usage: gureum operation list [--format table|json|yaml]\n"
	"       gureum operation show ID [--format yaml|json]\n"
	"       gureum operation wait ID [--format table|json|yaml]\n"
	"\n"
	"Long-running work of the daemon (image import/build, snapshots, lifecycle calls).\n"
	"  list   ID, KIND, TARGET, STATUS, PROGRESS, STARTED (local time), ERROR\n"
	"  wait   until it ends; exit 0 when it succeeded (json/yaml: print it then)\n";

/* A running operation's "extract:42%" / "extract:120-files"; "done" once it
 * succeeded; the phase it failed in; else "-". */
static void progress_cell(json_t *op, char *buf, size_t n)
{
	json_t *p = json_object_get(op, "progress");
	const char *phase = json_string_value(json_object_get(p, "phase"));
	const char *st = json_string_value(json_object_get(op, "status"));
	if (st && !strcmp(st, "success")) {
		snprintf(buf, n, "done");
		return;
	}
	if (!json_is_object(p) || !phase) {
		snprintf(buf, n, "-");
		return;
	}
	if (st && strcmp(st, "running")) {
		snprintf(buf, n, "%s", phase);
		goto one_word;
	}
	long long bd = json_integer_value(json_object_get(p, "bytes_done"));
	long long bt = json_integer_value(json_object_get(p, "bytes_total"));
	long long fd = json_integer_value(json_object_get(p, "files_done"));
	long long ft = json_integer_value(json_object_get(p, "files_total"));
	if (bt > 0)
		snprintf(buf, n, "%s:%lld%%", phase, bd * 100 / bt);
	else if (ft > 0)
		snprintf(buf, n, "%s:%lld%%", phase, fd * 100 / ft);
	else if (fd > 0)
		snprintf(buf, n, "%s:%lld-files", phase, fd);
	else
		snprintf(buf, n, "%s", phase);
one_word:
	for (char *c = buf; *c; c++) /* one word per cell */
		if (*c == ' ')
			*c = '-';
}

static void print_table(json_t *list)
{
	printf("%-20s %-16s %-16s %-8s %-14s %-25s %s\n", "ID", "KIND", "TARGET", "STATUS", "PROGRESS",
	       "STARTED", "ERROR");
	size_t i;
	json_t *op;
	json_array_foreach(list, i, op) {
		char when[64], prog[64];
		const char *target = json_string_value(json_object_get(op, "target"));
		const char *msg = json_string_value(json_object_get(json_object_get(op, "error"), "message"));
		progress_cell(op, prog, sizeof prog);
		printf("%-20s %-16s %-16s %-8s %-14s %-25s %s\n", json_string_value(json_object_get(op, "id")),
		       json_string_value(json_object_get(op, "kind")), target && *target ? target : "-",
		       json_string_value(json_object_get(op, "status")), prog,
		       gr_cli_time(json_object_get(op, "created"), when, sizeof when), msg ? msg : "-");
	}
}

int gr_cmd_operation(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_op))
		return 0;
	if (argc < 2)
		return gr_cli_usage(usage_op, "operation: expected list, show ID or wait ID");
	const char *sub = argv[1];
	bool is_list = !strcmp(sub, "list"), is_show = !strcmp(sub, "show"), is_wait = !strcmp(sub, "wait");
	if (!is_list && !is_show && !is_wait)
		return gr_cli_usage(usage_op, "operation: unknown subcommand '%s'", sub);
	enum gr_cli_fmt fmt = is_show ? GR_FMT_YAML : GR_FMT_TABLE;
	const char *id = NULL;
	if (gr_cli_sub_args(argc, argv, 2, &fmt, is_list, usage_op, "operation", sub, &id))
		return 2;
	if (is_list)
		return gr_cli_list("/v1/operations", "operations", fmt, print_table);
	if (!id)
		return gr_cli_usage(usage_op, "operation %s: expected ID", sub);
	if (!gr_cli_name_ok("operation id", id))
		return 2;
	if (is_wait) {
		json_t *final = NULL;
		int rc = gr_cli_wait_op(id, true, &final);
		if (final && fmt != GR_FMT_TABLE)
			gr_cli_print(final, fmt);
		json_decref(final);
		return rc;
	}
	_cleanup_free_ char *path = xasprintf("/v1/operations/%s", id);
	json_t *resp = NULL;
	if (gr_cli_call("GET", path, NULL, &resp))
		return 1;
	gr_cli_print(resp, fmt);
	json_decref(resp);
	return 0;
}
