/*
 * cmd_network.c - `gureum network create NAME --subnet CIDR [--nat] [--dhcp]
 * [--type bridge|vxlan] [--vni N] | list |
 * show NAME | delete NAME` (docs/NETWORK.md).  list is a table by default,
 * show a YAML view; --format json prints the API's documents as they are.
 */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

static const char *usage_network =
	"usage: gureum network create NAME --subnet CIDR [--nat] [--dhcp] [--type bridge|vxlan]\n"
	"                             [--vni N] [--format yaml|json]\n"
	"       gureum network list [--format table|json|yaml]\n"
	"       gureum network show NAME [--format yaml|json]\n"
	"       gureum network delete NAME\n"
	"\n"
	"Networks are virtual switches: a bridge \"gr-NAME\" on each host, its first address\n"
	"the gateway.  Instances join one with 'gureum launch IMAGE NAME --network NET\n"
	"[--ip ADDR]'; each gets an address of the subnet (the given one or the lowest free)\n"
	"and a MAC kept for its life.  --nat masquerades traffic leaving the subnet.\n"
	"--dhcp (bridge networks) runs dnsmasq on the bridge of each host (off unless given; the default network\n"
	"gr0 has it): DHCP hands each instance's MAC its address (reservations only) and DNS\n"
	"on the gateway answers instance names (NAME and NAME.gureum), nothing else.  VMs get\n"
	"their address by DHCP and by the NoCloud seed, containers statically.\n"
	"A network in use (an instance holds an address in it) cannot be deleted.\n"
	"  --type   bridge (default): one bridge per host, instances on different hosts\n"
	"           do not reach each other.  vxlan: an overlay spanning every host of the\n"
	"           pool (a vxlan device \"grx<VNI>\" on each host's bridge, UDP 4789 between\n"
	"           the hosts' underlay addresses, forwarding entries from the store; MTU =\n"
	"           underlay MTU - 50), so instances reach each other at their addresses\n"
	"           on any host.\n"
	"  --vni N  vxlan only: the VXLAN network identifier, 1..16777215, unique in the\n"
	"           pool (default: the lowest free one)\n"
	"  list   NAME, TYPE, SUBNET, GATEWAY, NAT, DHCP, BRIDGE, ADDRESSES\n";

static void print_table(json_t *list)
{
	printf("%-14s %-7s %-18s %-15s %-4s %-4s %-15s %s\n", "NAME", "TYPE", "SUBNET", "GATEWAY", "NAT",
	       "DHCP", "BRIDGE", "ADDRESSES");
	size_t i;
	json_t *n;
	json_array_foreach(list, i, n)
		printf("%-14s %-7s %-18s %-15s %-4s %-4s %-15s %zu\n",
		       json_string_value(json_object_get(n, "name")),
		       json_string_value(json_object_get(n, "type")),
		       json_string_value(json_object_get(n, "subnet")),
		       json_string_value(json_object_get(n, "gateway")),
		       json_is_true(json_object_get(n, "nat")) ? "yes" : "no",
		       json_is_true(json_object_get(n, "dhcp")) ? "yes" : "no",
		       json_string_value(json_object_get(n, "bridge")),
		       json_object_size(json_object_get(n, "addresses")));
}

static int create(int argc, char **argv)
{
	const char *name = NULL, *subnet = NULL, *type = NULL, *vni = NULL;
	bool nat = false, dhcp = false;
	enum gr_cli_fmt fmt = GR_FMT_YAML;
	for (int i = 2; i < argc; i++) {
		int f = gr_cli_format_flag(argc, argv, &i, &fmt, usage_network);
		if (f < 0)
			return 2;
		if (f)
			continue;
		if (!strcmp(argv[i], "--subnet") || !strncmp(argv[i], "--subnet=", 9)) {
			if (argv[i][8] == '=')
				subnet = argv[i] + 9;
			else if (i + 1 < argc)
				subnet = argv[++i];
			else
				return gr_cli_usage(usage_network, "network create: --subnet needs a CIDR");
		} else if (!strcmp(argv[i], "--nat")) {
			nat = true;
		} else if (!strcmp(argv[i], "--dhcp")) {
			dhcp = true;
		} else if (!strcmp(argv[i], "--type") || !strcmp(argv[i], "--vni")) {
			if (i + 1 >= argc)
				return gr_cli_usage(usage_network, "network create: %s needs a value", argv[i]);
			*(argv[i][2] == 't' ? &type : &vni) = argv[i + 1];
			i++;
		} else if (argv[i][0] == '-') {
			return gr_cli_usage(usage_network, "network create: unknown flag '%s'", argv[i]);
		} else if (!name) {
			name = argv[i];
		} else {
			return gr_cli_usage(usage_network, "network create: unexpected argument '%s'", argv[i]);
		}
	}
	if (!name)
		return gr_cli_usage(usage_network, "network create: expected NAME");
	if (!subnet)
		return gr_cli_usage(usage_network, "network create: --subnet CIDR is required");
	json_t *body = json_pack("{s:s,s:s,s:b,s:b}", "name", name, "subnet", subnet, "nat", nat, "dhcp", dhcp);
	if (type)
		json_object_set_new(body, "type", json_string(type));
	if (vni) {
		/* the number as given; the daemon checks the range and says which field */
		char *end;
		long long n = strtoll(vni, &end, 10);
		if (!*vni || *end) {
			json_decref(body);
			return gr_cli_usage(usage_network, "network create: --vni: '%s' is not a number", vni);
		}
		json_object_set_new(body, "vni", json_integer(n));
	}
	json_t *resp = NULL;
	int r = gr_cli_call("POST", "/v1/networks", body, &resp);
	json_decref(body);
	if (r)
		return 1;
	gr_cli_print(resp, fmt);
	json_decref(resp);
	return 0;
}

int gr_cmd_network(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_network))
		return 0;
	if (argc < 2)
		return gr_cli_usage(usage_network, "network: expected create, list, show or delete");
	const char *sub = argv[1];
	if (!strcmp(sub, "create"))
		return create(argc, argv);
	bool is_list = !strcmp(sub, "list"), is_show = !strcmp(sub, "show");
	bool is_delete = !strcmp(sub, "delete");
	if (!is_list && !is_show && !is_delete)
		return gr_cli_usage(usage_network, "network: unknown subcommand '%s'", sub);
	enum gr_cli_fmt fmt = is_show ? GR_FMT_YAML : GR_FMT_TABLE;
	const char *name = NULL;
	if (gr_cli_sub_args(argc, argv, 2, is_delete ? NULL : &fmt, is_list, usage_network, "network",
			    sub, &name))
		return 2;
	if (is_list)
		return gr_cli_list("/v1/networks", "networks", fmt, print_table);
	if (!name)
		return gr_cli_usage(usage_network, "network %s: expected NAME", sub);
	if (!gr_cli_name_ok("network name", name))
		return 2;
	_cleanup_free_ char *path = xasprintf("/v1/networks/%s", name);
	if (is_delete)
		return gr_cli_call("DELETE", path, NULL, NULL);
	json_t *resp = NULL;
	if (gr_cli_call("GET", path, NULL, &resp))
		return 1;
	gr_cli_print(resp, fmt);
	json_decref(resp);
	return 0;
}
