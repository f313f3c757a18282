/*
 * cmd_snapshot.c - `gureum snapshot create|list|show|restore|delete`.
 * create and restore are daemon operations: we wait for them unless
 * --no-wait (then the operation id is printed; with --format json or yaml
 * the operation itself, the running one or, after waiting, the ended one).  The daemon checks names
 * and states and says what is wrong; we only check what goes into a URL.
 */
#include "commands.h"

#include <stdio.h>
#include <string.h>
#include "util/alloc.h"

static const char *usage_snapshot =
	"usage: gureum snapshot create NAME SNAP [--memory | --no-memory] [--stop] [--no-wait]\n"
	"                              [--format table|json|yaml]\n"
	"       gureum snapshot list NAME [--format table|json|yaml]\n"
	"       gureum snapshot show NAME SNAP [--format yaml|json]\n"
	"       gureum snapshot restore NAME SNAP [--stop] [--no-wait] [--format table|json|yaml]\n"
	"       gureum snapshot delete NAME SNAP\n"
	"\n"
	"Snapshots of instance NAME, named SNAP ([a-z0-9][a-z0-9._-]{0,62}).\n"
	"  VM, running:     memory + disk state; restore is live (the VM goes on from the snapshot)\n"
	"  VM, stopped:     disk only (--no-memory on a running VM needs --stop)\n"
	"  container:       the files of its layer; taken and restored while stopped\n"
	"  --stop           stop a running instance for the work and start it again after\n"
	"  --memory         insist on a memory snapshot (fails unless the VM is running)\n"
	"  --no-wait        print the operation id instead of waiting (see 'gureum operation')\n"
	"  --format         json: the API's JSON (list, show; for create/restore the operation)\n"
	"Records survive daemon restarts; deleting an instance deletes its snapshots.\n";

static int run_op(const char *path, json_t *body, bool wait, enum gr_cli_fmt fmt)
{
	json_t *op = NULL, *final = NULL;
	int rc = gr_cli_call("POST", path, body, &op);
	json_decref(body);
	if (rc)
		return rc;
	const char *id = json_string_value(json_object_get(op, "id"));
	if (!id)
		rc = gr_cli_fail("the daemon answered no operation id");
	else if (!wait && fmt == GR_FMT_TABLE)
		printf("%s\n", id);
	else if (!wait)
		gr_cli_print(op, fmt);
	else {
		rc = gr_cli_wait_op(id, true, &final);
		if (final && fmt != GR_FMT_TABLE)
			gr_cli_print(final, fmt);
	}
	json_decref(final);
	json_decref(op);
	return rc;
}

static const char *kind_of(json_t *s)
{
	const char *type = json_string_value(json_object_get(s, "type"));
	if (type && !strcmp(type, "vm"))
		return json_is_true(json_object_get(s, "memory")) ? "memory+disk" : "disk";
	return "files";
}

static void print_table(json_t *list)
{
	printf("%-24s %-12s %-25s %s\n", "SNAPSHOT", "KIND", "CREATED", "TAKEN WHILE");
	size_t i;
	json_t *s;
	json_array_foreach(list, i, s) {
		char when[64];
		const char *st = json_string_value(json_object_get(s, "instance_state"));
		printf("%-24s %-12s %-25s %s\n", json_string_value(json_object_get(s, "name")), kind_of(s),
		       gr_cli_time(json_object_get(s, "created"), when, sizeof when), st ? st : "-");
	}
}

int gr_cmd_snapshot(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_snapshot))
		return 0;
	if (argc < 2)
		return gr_cli_usage(usage_snapshot, "snapshot: expected create, list, show, restore or delete");
	const char *sub = argv[1];
	bool is_create = !strcmp(sub, "create"), is_list = !strcmp(sub, "list");
	bool is_show = !strcmp(sub, "show"), is_restore = !strcmp(sub, "restore");
	bool is_delete = !strcmp(sub, "delete");
	if (!is_create && !is_list && !is_show && !is_restore && !is_delete)
		return gr_cli_usage(usage_snapshot, "snapshot: unknown subcommand '%s'", sub);
	enum gr_cli_fmt fmt = is_show ? GR_FMT_YAML : GR_FMT_TABLE;
	bool wait = true, stop = false;
	int memory = -1;
	const char *pos[2];
	int npos = 0;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		if ((is_create || is_restore) && !strcmp(a, "--no-wait"))
			wait = false;
		else if ((is_create || is_restore) && !strcmp(a, "--stop"))
			stop = true;
		else if (is_create && (!strcmp(a, "--memory") || !strcmp(a, "--no-memory"))) {
			int m = !strcmp(a, "--memory");
			if (memory >= 0 && memory != m)
				return gr_cli_usage(usage_snapshot, "snapshot create: --memory and --no-memory "
						    "exclude each other");
			memory = m;
		} else if (!is_delete && (!strcmp(a, "--format") || !strncmp(a, "--format=", 9))) {
			if (gr_cli_format_flag(argc, argv, &i, &fmt, usage_snapshot) < 0)
				return 2;
		} else if (a[0] == '-' || npos == 2)
			return gr_cli_usage(usage_snapshot, "snapshot %s: unexpected '%s'", sub, a);
		else
			pos[npos++] = a;
	}
	int want = is_list ? 1 : 2;
	if (npos != want)
		return gr_cli_usage(usage_snapshot, "snapshot %s: expected NAME%s", sub, is_list ? "" : " SNAP");
	if (!gr_cli_name_ok("name", pos[0]) || (!is_list && !is_create && !gr_cli_name_ok("snapshot", pos[1])))
		return 2;
	if (is_create) {
		_cleanup_free_ char *path = xasprintf("/v1/instances/%s/snapshots", pos[0]);
		json_t *body = json_pack("{s:s}", "name", pos[1]);
		if (memory >= 0)
			json_object_set_new(body, "memory", json_boolean(memory));
		if (stop)
			json_object_set_new(body, "stop", json_true());
		return run_op(path, body, wait, fmt);
	}
	if (is_restore) {
		_cleanup_free_ char *path = xasprintf("/v1/instances/%s/snapshots/%s/restore", pos[0], pos[1]);
		json_t *body = json_object();
		if (stop)
			json_object_set_new(body, "stop", json_true());
		return run_op(path, body, wait, fmt);
	}
	if (is_delete) {
		_cleanup_free_ char *path = xasprintf("/v1/instances/%s/snapshots/%s", pos[0], pos[1]);
		return gr_cli_call("DELETE", path, NULL, NULL);
	}
	_cleanup_free_ char *path = is_list ? xasprintf("/v1/instances/%s/snapshots", pos[0])
					    : xasprintf("/v1/instances/%s/snapshots/%s", pos[0], pos[1]);
	json_t *resp = NULL;
	if (gr_cli_call("GET", path, NULL, &resp))
		return 1;
	if (is_show)
		gr_cli_print(resp, fmt);
	else if (fmt == GR_FMT_TABLE)
		print_table(json_object_get(resp, "snapshots"));
	else
		gr_cli_print(json_object_get(resp, "snapshots"), fmt);
	json_decref(resp);
	return 0;
}
