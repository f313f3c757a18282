/* cmd_spec.c - `gureum-oci spec [--bundle DIR] [--rootless]`: write config.json. */
#include "commands.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int gr_cmd_spec(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "bundle", required_argument, NULL, 'b' }, { "rootless", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *bundle = ".";
	int rootless = 0, c;
	while ((c = getopt_long(argc, argv, "+b:h", lo, NULL)) != -1) {
		switch (c) {
		case 'b': bundle = optarg; break;
		case 'r': rootless = 1; break;
		case 'h':
			printf("usage: gureum-oci spec [--bundle DIR] [--rootless]\n\n"
			       "Write a hardened default BUNDLE/config.json (refuses to overwrite).\n");
			return 0;
		default: return gr_cli_usage("spec", "bad option");
		}
	}
	if (optind != argc)
		return gr_cli_usage("spec", "unexpected argument '%s'", argv[optind]);
	_cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
	gr_error_t err = { 0 };
	if (access(path, F_OK) == 0) {
		gr_error_set(&err, EEXIST, "%s already exists", path);
		return gr_cli_fail(&err);
	}
	_cleanup_free_ char *json = gr_oci_spec_default(rootless);
	if (gr_write_file_atomic(path, json, strlen(json), 0644, &err) < 0)
		return gr_cli_fail(&err);
	return 0;
}
