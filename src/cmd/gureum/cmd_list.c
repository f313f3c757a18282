/*
 * cmd_list.c - `gureum list [--format table|json|yaml]`.
 */
#include "commands.h"

#include <stdio.h>
#include <string.h>

static const char *usage_list =
	"usage: gureum list [--format table|json|yaml]\n"
	"\nList instances with state, limits and HOST (the pool member that holds the instance).\n"
	"--format json prints the API's JSON as it is.\n";

static void human_size(long long b, char *buf, size_t n)
{
	if (b <= 0)
		snprintf(buf, n, "-");
	else if (b % (1LL << 30) == 0)
		snprintf(buf, n, "%lldG", b >> 30);
	else if (b % (1LL << 20) == 0)
		snprintf(buf, n, "%lldM", b >> 20);
	else
		snprintf(buf, n, "%lld", b);
}

int gr_cmd_list(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_list))
		return 0;
	enum gr_cli_fmt fmt = GR_FMT_TABLE;
	for (int i = 1; i < argc; i++) {
		int f = gr_cli_format_flag(argc, argv, &i, &fmt, usage_list);
		if (f < 0)
			return 2;
		if (!f)
			return gr_cli_usage(usage_list, "list: unexpected '%s'", argv[i]);
	}
	json_t *resp = NULL;
	if (gr_cli_call("GET", "/v1/instances", NULL, &resp))
		return 1;
	json_t *list = json_object_get(resp, "instances");
	if (fmt != GR_FMT_TABLE) {
		gr_cli_print(list, fmt);
		json_decref(resp);
		return 0;
	}
	printf("%-24s %-10s %-9s %-16s %-5s %-7s %-10s %-7s %s\n", "NAME", "TYPE", "STATE", "IMAGE",
	       "CPU", "MEMORY", "RESTART", "PID", "HOST");
	size_t i;
	json_t *in;
	json_array_foreach(list, i, in) {
		char mem[32], cpu[16];
		human_size(json_integer_value(json_object_get(in, "memory")), mem, sizeof mem);
		double c = json_number_value(json_object_get(in, "cpu"));
		if (c > 0)
			snprintf(cpu, sizeof cpu, "%g", c);
		else
			snprintf(cpu, sizeof cpu, "-");
		const char *host = json_string_value(json_object_get(in, "host"));
		printf("%-24s %-10s %-9s %-16s %-5s %-7s %-10s %-7lld %s%s\n",
		       json_string_value(json_object_get(in, "name")),
		       json_string_value(json_object_get(in, "type")),
		       json_string_value(json_object_get(in, "state")),
		       json_string_value(json_object_get(in, "image")), cpu, mem,
		       json_string_value(json_object_get(in, "restart")),
		       (long long)json_integer_value(json_object_get(in, "pid")), host ? host : "-",
		       json_is_true(json_object_get(in, "ephemeral")) ? " (ephemeral)" : "");
	}
	json_decref(resp);
	return 0;
}
