/*
 * cmd_host.c - `gureum host list|show NAME|evacuate NAME|restore NAME`.
 * list is a table by default (one row per host, the leader marked with *),
 * show a YAML view; --format json prints the API's host documents as they
 * are.  evacuate/restore are reserved: the daemon answers 501 until
 * instances can migrate.
 */
#include "commands.h"

#include <stdio.h>
#include <string.h>
#include "util/alloc.h"

static const char *usage_host =
	"usage: gureum host list [--format table|json|yaml]\n"
	"       gureum host show NAME [--format yaml|json]\n"
	"       gureum host evacuate|restore NAME   (not implemented yet: needs migration)\n"
	"\n"
	"The hosts of the pool (one with the SQLite store, every daemon on an etcd store).\n"
	"A host is online while its lease is renewed, offline once it lapsed (its record\n"
	"stays); the leader (*) runs the pool's background work.\n"
	"  list   NAME, STATE, LEADER, ADDRESS, CORES, MEMORY, INSTANCES, LOAD, LEASE-AGE, VERSION\n";

static void size_cell(long long b, char *buf, size_t n)
{
	if (b <= 0)
		snprintf(buf, n, "-");
	else if (b >= 1LL << 30)
		snprintf(buf, n, "%.1fG", (double)b / (1LL << 30));
	else
		snprintf(buf, n, "%lldM", b >> 20);
}

static void print_table(json_t *list)
{
	printf("%-20s %-8s %-6s %-21s %-5s %-7s %-9s %-11s %-9s %s\n", "NAME", "STATE", "LEADER", "ADDRESS",
	       "CORES", "MEMORY", "INSTANCES", "LOAD", "LEASE-AGE", "VERSION");
	size_t i;
	json_t *h;
	json_array_foreach(list, i, h) {
		json_t *cap = json_object_get(h, "capacity"), *load = json_object_get(h, "load");
		json_t *lease = json_object_get(h, "lease");
		const char *addr = json_string_value(json_object_get(h, "address"));
		char mem[32], ld[32], age[32];
		size_cell(json_integer_value(json_object_get(cap, "memory")), mem, sizeof mem);
		snprintf(ld, sizeof ld, "%lld/%.1f", (long long)json_integer_value(json_object_get(load, "instances_running")),
			 json_number_value(json_object_get(load, "cpu_load")));
		if (json_is_object(lease))
			snprintf(age, sizeof age, "%.0fs", json_number_value(json_object_get(lease, "age")));
		else
			snprintf(age, sizeof age, "-");
		printf("%-20s %-8s %-6s %-21s %-5lld %-7s %-9lld %-11s %-9s %s\n",
		       json_string_value(json_object_get(h, "name")),
		       json_string_value(json_object_get(h, "state")),
		       json_is_true(json_object_get(h, "leader")) ? "*" : "-", addr && *addr ? addr : "-",
		       (long long)json_integer_value(json_object_get(cap, "cores")), mem,
		       (long long)json_integer_value(json_object_get(h, "instances")), ld, age,
		       json_string_value(json_object_get(h, "version")));
	}
}

int gr_cmd_host(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_host))
		return 0;
	if (argc < 2)
		return gr_cli_usage(usage_host, "host: expected list, show NAME, evacuate NAME or restore NAME");
	const char *sub = argv[1];
	bool is_list = !strcmp(sub, "list"), is_show = !strcmp(sub, "show");
	bool is_move = !strcmp(sub, "evacuate") || !strcmp(sub, "restore");
	if (!is_list && !is_show && !is_move)
		return gr_cli_usage(usage_host, "host: unknown subcommand '%s'", sub);
	enum gr_cli_fmt fmt = is_show ? GR_FMT_YAML : GR_FMT_TABLE;
	const char *name = NULL;
	if (gr_cli_sub_args(argc, argv, 2, is_move ? NULL : &fmt, is_list, usage_host, "host", sub, &name))
		return 2;
	if (is_list)
		return gr_cli_list("/v1/hosts", "hosts", fmt, print_table);
	if (!name)
		return gr_cli_usage(usage_host, "host %s: expected NAME", sub);
	if (!gr_cli_name_ok("host name", name))
		return 2;
	if (is_move) {
		_cleanup_free_ char *path = xasprintf("/v1/hosts/%s/%s", name, sub);
		return gr_cli_call("POST", path, NULL, NULL);
	}
	_cleanup_free_ char *path = xasprintf("/v1/hosts/%s", name);
	json_t *resp = NULL;
	if (gr_cli_call("GET", path, NULL, &resp))
		return 1;
	if (fmt != GR_FMT_JSON) /* for people: these times as RFC 3339 too */
		for (const char **k = (const char *[]){ "started", "offline_since", NULL }; *k; k++) {
			char when[64];
			json_t *t = json_object_get(resp, *k);
			if (json_is_number(t))
				json_object_set_new(resp, *k, json_string(gr_cli_time(t, when, sizeof when)));
		}
	gr_cli_print(resp, fmt);
	json_decref(resp);
	return 0;
}
