/*
 * cmd_cluster.c - `gureum cluster init|show|join ADDRESS --token T|leave`
 * (docs/CLUSTER.md).  init prints the pool id and its join token (shown this
 * once); join asks the local daemon to check the token against the pool's
 * store and record it for its next start; leave undoes that.
 */
#include "commands.h"

#include <stdio.h>
#include <string.h>

static const char *usage_cluster =
	"usage: gureum cluster init\n"
	"       gureum cluster show [--format yaml|json]\n"
	"       gureum cluster join ADDRESS --token TOKEN\n"
	"       gureum cluster leave\n"
	"       gureum cluster set KEY=VALUE...\n"
	"\n"
	"  init   on a daemon running on an etcd store: make the pool record and print its\n"
	"         join token (shown this once; only its SHA-256 is stored)\n"
	"  join   ADDRESS: the pool's etcd endpoints (host:port,... or etcd://...); the local\n"
	"         daemon (on its own SQLite store, no instances) checks TOKEN there and uses\n"
	"         the pool's store from its next start; a wrong token changes nothing\n"
	"  leave  the reverse (no instances on this host); the next start is standalone\n"
	"  set    pool settings, stored in the pool's store for every host:\n"
	"           placement.policy=NAME  how launch picks a host: static, round-robin,\n"
	"                                  least-instances (default), shortest-queue,\n"
	"                                  diffusive, local, global, best-fit, pabfd\n"
	"  show   the pool record and its settings\n";

int gr_cmd_cluster(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_cluster))
		return 0;
	if (argc < 2)
		return gr_cli_usage(usage_cluster, "cluster: expected init, show, join or leave");
	const char *sub = argv[1];
	json_t *resp = NULL;
	if (!strcmp(sub, "init") || !strcmp(sub, "leave")) {
		if (argc != 2)
			return gr_cli_usage(usage_cluster, "cluster %s: unexpected '%s'", sub, argv[2]);
		bool init = !strcmp(sub, "init");
		if (gr_cli_call("POST", init ? "/v1/cluster" : "/v1/cluster/leave", NULL, &resp))
			return 1;
		if (init)
			printf("pool %s initialized\njoin token (shown once): %s\n",
			       json_string_value(json_object_get(resp, "id")),
			       json_string_value(json_object_get(resp, "token")));
		else
			printf("left the pool; %s\n", json_string_value(json_object_get(resp, "message")));
		json_decref(resp);
		return 0;
	}
	if (!strcmp(sub, "show")) {
		enum gr_cli_fmt fmt = GR_FMT_YAML;
		for (int i = 2; i < argc; i++) {
			int f = gr_cli_format_flag(argc, argv, &i, &fmt, usage_cluster);
			if (f < 0)
				return 2;
			if (!f)
				return gr_cli_usage(usage_cluster, "cluster show: unexpected '%s'", argv[i]);
		}
		if (gr_cli_call("GET", "/v1/cluster", NULL, &resp))
			return 1;
		/* (the record carries the settings: config.placement.policy) */
		gr_cli_print(resp, fmt);
		json_decref(resp);
		return 0;
	}
	if (!strcmp(sub, "set")) {
		if (argc < 3)
			return gr_cli_usage(usage_cluster, "cluster set: expected KEY=VALUE");
		json_t *body = json_object();
		for (int i = 2; i < argc; i++) {
			const char *eq = strchr(argv[i], '=');
			if (!eq || eq == argv[i]) {
				json_decref(body);
				return gr_cli_usage(usage_cluster, "cluster set: '%s': expected KEY=VALUE",
						    argv[i]);
			}
			char key[128];
			snprintf(key, sizeof key, "%.*s", (int)(eq - argv[i]), argv[i]);
			json_object_set_new(body, key, json_string(eq + 1));
		}
		int rc = gr_cli_call("PUT", "/v1/cluster/config", body, &resp);
		json_decref(body);
		if (rc)
			return 1;
		printf("placement.policy=%s\n", json_string_value(json_object_get(resp, "placement.policy")));
		json_decref(resp);
		return 0;
	}
	if (strcmp(sub, "join"))
		return gr_cli_usage(usage_cluster, "cluster: unknown subcommand '%s'", sub);
	const char *address = NULL, *token = NULL;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--token") && i + 1 < argc)
			token = argv[++i];
		else if (!strncmp(argv[i], "--token=", 8))
			token = argv[i] + 8;
		else if (argv[i][0] != '-' && !address)
			address = argv[i];
		else
			return gr_cli_usage(usage_cluster, "cluster join: unexpected '%s'", argv[i]);
	}
	if (!address || !token)
		return gr_cli_usage(usage_cluster, "cluster join: expected ADDRESS --token TOKEN");
	json_t *body = json_pack("{s:s,s:s}", "address", address, "token", token);
	int rc = gr_cli_call("POST", "/v1/cluster/join", body, &resp);
	json_decref(body);
	if (rc)
		return 1;
	printf("joined pool %s; %s\n", json_string_value(json_object_get(resp, "joined")),
	       json_string_value(json_object_get(resp, "message")));
	json_decref(resp);
	return 0;
}
