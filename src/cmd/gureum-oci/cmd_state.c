/* cmd_state.c - `gureum-oci state ID`: the spec's state JSON on stdout. */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gr_cmd_state(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: gureum-oci state ID\n\nPrint the state of container ID as JSON\n"
		       "(status creating/created/running/stopped; annotation " GR_RT_OOM_ANNOTATION
		       " = OOM kills when > 0).\n");
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-')
		return gr_cli_usage("state", "expected exactly one container ID");
	gr_error_t err = { 0 };
	struct gr_rt_state st;
	if (gr_rt_state(&gr_cli.opts, argv[1], &st, &err) < 0)
		return gr_cli_fail(&err);
	char *json = gr_rt_state_json(&st);
	printf("%s\n", json);
	free(json);
	gr_rt_state_clear(&st);
	return 0;
}
