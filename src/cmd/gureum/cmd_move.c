/*
 * cmd_move.c - `gureum move NAME --target HOST`: live move of a running VM to another host
 * of the pool (POST /v1/instances/NAME/move, an operation; docs/MIGRATION.md).  We wait for
 * the operation unless --no-wait; the daemon checks the instance, the target and its room
 * and says what is wrong before anything starts.
 */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

static const char *usage_move =
	"usage: gureum move NAME --target HOST [--bandwidth RATE] [--max-downtime MS] [--no-wait]\n"
	"                   [--json | --format table|json|yaml]\n"
	"\n"
	"Move the running VM NAME to host HOST of the pool while it runs (live migration):\n"
	"the target prepares the same master and an empty overlay, the VM's own disk layer\n"
	"is mirrored there, then its memory; the VM pauses only for the final switch-over.\n"
	"  --target HOST       the pool host to move to (see 'gureum host list')\n"
	"  --bandwidth RATE    cap the transfer, bytes per second (\"100M\", \"1G\")\n"
	"  --max-downtime MS   the longest pause allowed for the switch-over (default 300)\n"
	"  --no-wait           print the operation id instead of waiting ('gureum operation')\n"
	"  --json              the operation as JSON (same as --format json)\n"
	"Containers do not move yet.  Transfer is plain TCP between the hosts (TLS not yet).\n";

int gr_cmd_move(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_move))
		return 0;
	enum gr_cli_fmt fmt = GR_FMT_TABLE;
	const char *name = NULL, *target = NULL, *bw = NULL, *downtime = NULL;
	bool wait = true;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--target") || !strcmp(a, "--bandwidth") || !strcmp(a, "--max-downtime")) {
			if (i + 1 >= argc)
				return gr_cli_usage(usage_move, "move: %s needs a value", a);
			const char **dst = a[2] == 't' ? &target : a[2] == 'b' ? &bw : &downtime;
			*dst = argv[++i];
		} else if (!strncmp(a, "--target=", 9)) {
			target = a + 9;
		} else if (!strncmp(a, "--bandwidth=", 12)) {
			bw = a + 12;
		} else if (!strncmp(a, "--max-downtime=", 15)) {
			downtime = a + 15;
		} else if (!strcmp(a, "--no-wait")) {
			wait = false;
		} else if (!strcmp(a, "--json")) {
			fmt = GR_FMT_JSON;
		} else if (!strcmp(a, "--format") || !strncmp(a, "--format=", 9)) {
			if (gr_cli_format_flag(argc, argv, &i, &fmt, usage_move) < 0)
				return 2;
		} else if (a[0] == '-' || name) {
			return gr_cli_usage(usage_move, "move: unexpected '%s'", a);
		} else {
			name = a;
		}
	}
	if (!name)
		return gr_cli_usage(usage_move, "move: expected NAME");
	if (!target)
		return gr_cli_usage(usage_move, "move: --target HOST is required");
	if (!gr_cli_name_ok("name", name))
		return 2;
	json_t *body = json_pack("{s:s}", "target", target);
	if (bw)
		json_object_set_new(body, "bandwidth", json_string(bw));
	if (downtime) {
		char *end;
		long ms = strtol(downtime, &end, 10);
		if (*end || end == downtime || ms < 1 || ms > 60000) {
			json_decref(body);
			return gr_cli_usage(usage_move, "move: --max-downtime: expected milliseconds 1..60000");
		}
		json_object_set_new(body, "max_downtime_ms", json_integer(ms));
	}
	_cleanup_free_ char *path = xasprintf("/v1/instances/%s/move", name);
	json_t *op = NULL, *final = NULL;
	int rc = gr_cli_call("POST", path, body, &op);
	json_decref(body);
	if (rc)
		return rc;
	const char *id = json_string_value(json_object_get(op, "id"));
	if (!id) {
		rc = gr_cli_fail("the daemon answered no operation id");
	} else if (!wait) {
		if (fmt == GR_FMT_TABLE)
			printf("%s\n", id);
		else
			gr_cli_print(op, fmt);
	} else {
		rc = gr_cli_wait_op(id, fmt != GR_FMT_TABLE, &final);
		if (final && fmt != GR_FMT_TABLE) {
			gr_cli_print(final, fmt);
		} else if (rc == 0 && final) {
			json_t *res = json_object_get(final, "result");
			printf("moved %s to %s in %.2f s (downtime %lld ms)\n", name,
			       json_string_value(json_object_get(res, "host")) ?: target,
			       json_real_value(json_object_get(res, "total_s")),
			       (long long)json_integer_value(json_object_get(res, "downtime_ms")));
		}
	}
	json_decref(final);
	json_decref(op);
	return rc;
}
