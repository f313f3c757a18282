/*
 * main.c - the `gureum` command: global options (where the daemon is, how
 * long to wait), then a dispatch table over cmd_*.c.  `gureum help CMD` is
 * `gureum CMD --help`.
 */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

static const struct gr_cli_command commands[] = {
	{ "launch", gr_cmd_launch, "create and start an instance from an image" },
	{ "create", gr_cmd_create, "create an instance without starting it" },
	{ "start", gr_cmd_start, "start an instance" },
	{ "stop", gr_cmd_stop, "stop an instance" },
	{ "restart", gr_cmd_restart, "stop and start an instance" },
	{ "delete", gr_cmd_delete, "delete an instance and its layers" },
	{ "list", gr_cmd_list, "list instances" },
	{ "show", gr_cmd_show, "show one instance" },
	{ "exec", gr_cmd_exec, "run a command inside an instance" },
	{ "console", gr_cmd_console, "attach to an instance's console (VMs interactive)" },
	{ "logs", gr_cmd_logs, "print an instance's output" },
	{ "config", gr_cmd_config, "show, get and change an instance's settings (live when running)" },
	{ "image", gr_cmd_image, "import, build, list, show and delete master images" },
	{ "snapshot", gr_cmd_snapshot, "create, list, restore and delete instance snapshots" },
	{ "move", gr_cmd_move, "move a running VM to another host while it runs" },
	{ "operation", gr_cmd_operation, "list and show long-running operations" },
	{ "events", gr_cmd_events, "stream state changes" },
	{ "network", gr_cmd_network, "virtual networks: create NAME --subnet CIDR [--nat] [--dhcp], list, show, delete" },
	{ "cluster", gr_cmd_cluster, "form a pool: init, join ADDRESS --token T, leave, show" },
	{ "host", gr_cmd_host, "list and show the hosts of the pool (online, leader, load)" },
	{ "sim", gr_cmd_sim, "replay CPU traces against placement and consolidation policies" },
	{ "version", gr_cmd_version, "the CLI's and the daemon's versions, and what the host runs" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: gureum [--socket PATH | --url URL [--token T] [--cacert F]] [--timeout S]\n"
		   "              COMMAND [ARGS...]\n"
		   "\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nThe daemon is reached on GUREUM_SOCKET (default /run/gureum/gureum.sock), or on\n"
		   "GUREUM_URL (https://host:port) with GUREUM_TOKEN and GUREUM_CACERT.\n"
		   "--timeout S (GUREUM_TIMEOUT): give up on a request after S seconds (default: wait;\n"
		   "streams such as logs -f and events always wait).\n"
		   "'gureum COMMAND --help' (or 'gureum help COMMAND') describes a command; data\n"
		   "commands take --format table|json|yaml (json: the API's JSON as it is).\n"
		   "Exit codes: 0 ok, 1 failed (also: daemon unreachable), 2 usage.\n");
}

static const struct gr_cli_command *find(const char *name)
{
	for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
		if (!strcmp(name, commands[k].name))
			return &commands[k];
	return NULL;
}

static int set_opt(char **dst, int *i, int argc, char **argv)
{
	if (*i + 1 >= argc) {
		fprintf(stderr, "gureum: %s needs a value\n", argv[*i]);
		return -1;
	}
	free(*dst);
	*dst = xstrdup(argv[++*i]);
	return 0;
}

int main(int argc, char **argv)
{
	gr_client_init(&gr_cli);
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		int r = 0;
		if (!strcmp(argv[i], "--socket"))
			r = set_opt(&gr_cli.unix_path, &i, argc, argv);
		else if (!strcmp(argv[i], "--url"))
			r = set_opt(&gr_cli.url, &i, argc, argv);
		else if (!strcmp(argv[i], "--token"))
			r = set_opt(&gr_cli.token, &i, argc, argv);
		else if (!strcmp(argv[i], "--cacert"))
			r = set_opt(&gr_cli.cacert, &i, argc, argv);
		else if (!strcmp(argv[i], "--insecure"))
			gr_cli.insecure = true;
		else if (!strcmp(argv[i], "--timeout") || !strncmp(argv[i], "--timeout=", 10)) {
			const char *v = argv[i][9] == '=' ? argv[i] + 10 : i + 1 < argc ? argv[++i] : "";
			char *end;
			long t = strtol(v, &end, 10);
			if (!*v || *end || t < 1 || t > 86400) {
				fprintf(stderr, "gureum: --timeout: '%s' is not 1..86400 seconds\n", v);
				return 2;
			}
			gr_cli.timeout_s = t;
		} else {
			fprintf(stderr, "gureum: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
		if (r < 0)
			return 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	char *help_argv[3];
	if (!strcmp(argv[i], "help")) {
		if (i + 1 >= argc) {
			usage(stdout);
			return 0;
		}
		/* gureum help CMD [SUB] = gureum CMD [SUB] --help */
		help_argv[0] = argv[i + 1];
		help_argv[1] = i + 2 < argc ? argv[i + 2] : "--help";
		help_argv[2] = "--help";
		argv = help_argv;
		argc = i + 2 < argc ? 3 : 2;
		i = 0;
	}
	const struct gr_cli_command *cmd = find(argv[i]);
	if (!cmd) {
		fprintf(stderr, "gureum: unknown command '%s'\n", argv[i]);
		usage(stderr);
		return 2;
	}
	int rc = cmd->run(argc - i, argv + i);
	gr_client_clear(&gr_cli);
	return rc;
}
