/* cmd_list.c - `gureum-oci list [--format table|json] [-q]`. */
#include "commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gr_cmd_list(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "format", required_argument, NULL, 'f' }, { "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	bool json = false, quiet = false;
	int c;
	while ((c = getopt_long(argc, argv, "+f:qh", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "table"))
				return gr_cli_usage("list", "--format: expected table or json");
			json = !strcmp(optarg, "json");
			break;
		case 'q': quiet = true; break;
		case 'h':
			printf("usage: gureum-oci list [-f table|json] [-q]\n\nList the containers under --root.\n");
			return 0;
		default: return gr_cli_usage("list", "bad option");
		}
	}
	if (optind != argc)
		return gr_cli_usage("list", "unexpected argument '%s'", argv[optind]);
	struct gr_rt_state *v;
	size_t n;
	gr_error_t err = { 0 };
	if (gr_rt_list(&gr_cli.opts, &v, &n, &err) < 0)
		return gr_cli_fail(&err);
	if (json)
		printf("[");
	else if (!quiet)
		printf("%-24s %-8s %-8s %s\n", "ID", "PID", "STATUS", "BUNDLE");
	for (size_t i = 0; i < n; i++) {
		if (json) {
			char *s = gr_rt_state_json(&v[i]);
			printf("%s%s", i ? "," : "", s);
			free(s);
		} else if (quiet) {
			printf("%s\n", v[i].id);
		} else {
			printf("%-24s %-8d %-8s %s\n", v[i].id, (int)v[i].pid, gr_rt_status_name(v[i].status),
			       v[i].bundle);
		}
		gr_rt_state_clear(&v[i]);
	}
	if (json)
		printf("]\n");
	free(v);
	return 0;
}
