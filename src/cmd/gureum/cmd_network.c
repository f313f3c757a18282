/*
 * cmd_network.c - `gureum network create NAME --subnet CIDR [--nat] [--dhcp]
 * [--type bridge|vxlan] [--vni N] | list |
 * show NAME | delete NAME | forward add|list|delete` (docs/NETWORK.md).  list is a table by default,
 * show a YAML view; --format json prints the API's documents as they are.
 */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

static const char *usage_network =
	"usage: gureum network create NAME --subnet CIDR [--nat] [--dhcp] [--type bridge|vxlan|vlan]\n"
	"                             [--vni N] [--vlan ID --parent IF] [--format yaml|json]\n"
	"       gureum network list [--format table|json|yaml]\n"
	"       gureum network show NAME [--format yaml|json]\n"
	"       gureum network delete NAME\n"
	"       gureum network set NAME KEY=VALUE... [--format yaml|json]\n"
	"       gureum network forward add NET HOSTPORT INSTANCE:PORT [--proto tcp|udp]\n"
	"                                  [--format yaml|json] [--json]\n"
	"       gureum network forward list NET [--format table|json|yaml] [--json]\n"
	"       gureum network forward delete NET HOSTPORT [--proto tcp|udp]\n"
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
	"           vlan (--vlan ID --parent IF): 802.1Q on a VLAN-filtering bridge; refused\n"
	"           where the kernel lacks 8021q or bridge VLAN filtering (not built yet).\n"
	"  --vni N  vxlan only: the VXLAN network identifier, 1..16777215, unique in the\n"
	"           pool (default: the lowest free one)\n"
	"  list   NAME, TYPE, SUBNET, GATEWAY, NAT, DHCP, BRIDGE, ADDRESSES\n"
	"  set    change a live network: nat=true|false (the NAT table is rebuilt at\n"
	"           once), dhcp=true|false (its dnsmasq is started or stopped; bridge\n"
	"           networks only).  name, subnet, type and vni cannot change.\n"
	"  forward  port forwards: PROTO (tcp by default) traffic to HOSTPORT on any\n"
	"           address of the instance's host (but 127.0.0.0/8) goes to INSTANCE's\n"
	"           address on NET, PORT (nftables DNAT in the table \"inet gureum\").  A\n"
	"           host port is forwarded once per protocol; a forward goes with its\n"
	"           instance.  delete without --proto removes the tcp and udp forwards of\n"
	"           HOSTPORT.  --json is --format json.\n";

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
	const char *name = NULL, *subnet = NULL, *type = NULL, *vni = NULL, *vlan = NULL, *parent = NULL;
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
		} else if (!strcmp(argv[i], "--type") || !strcmp(argv[i], "--vni") || !strcmp(argv[i], "--vlan") ||
			   !strcmp(argv[i], "--parent")) {
			if (i + 1 >= argc)
				return gr_cli_usage(usage_network, "network create: %s needs a value", argv[i]);
			*(argv[i][2] == 't' ? &type : argv[i][2] == 'p' ? &parent : argv[i][3] == 'n' ? &vni : &vlan) =
				argv[i + 1];
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
	if (vlan) {
		char *end;
		long long n = strtoll(vlan, &end, 10);
		if (!*vlan || *end) {
			json_decref(body);
			return gr_cli_usage(usage_network, "network create: --vlan: '%s' is not a number", vlan);
		}
		json_object_set_new(body, "vlan", json_integer(n));
	}
	if (parent)
		json_object_set_new(body, "parent", json_string(parent));
	json_t *resp = NULL;
	int r = gr_cli_call("POST", "/v1/networks", body, &resp);
	json_decref(body);
	if (r)
		return 1;
	gr_cli_print(resp, fmt);
	json_decref(resp);
	return 0;
}

static void print_forwards(json_t *list)
{
	printf("%-6s %-9s %-20s %-6s %s\n", "PROTO", "HOSTPORT", "INSTANCE", "PORT", "ADDRESS");
	size_t i;
	json_t *f;
	json_array_foreach(list, i, f) {
		const char *ip = json_string_value(json_object_get(f, "ip"));
		printf("%-6s %-9lld %-20s %-6lld %s\n", json_string_value(json_object_get(f, "proto")),
		       (long long)json_integer_value(json_object_get(f, "hostport")),
		       json_string_value(json_object_get(f, "instance")),
		       (long long)json_integer_value(json_object_get(f, "port")), ip ? ip : "-");
	}
}

/* "1".."65535" -> 1..65535, else 0 */
static long port_arg(const char *s)
{
	char *end;
	long n = *s ? strtol(s, &end, 10) : 0;
	return *s && !*end && n >= 1 && n <= 65535 ? n : 0;
}

/* gureum network set NAME KEY=VALUE... */
static int set(int argc, char **argv)
{
	enum gr_cli_fmt fmt = GR_FMT_YAML;
	const char *name = NULL;
	json_t *body = json_object();
	for (int i = 2; i < argc; i++) {
		int f = gr_cli_format_flag(argc, argv, &i, &fmt, usage_network);
		if (f < 0 || (!f && argv[i][0] == '-')) {
			json_decref(body);
			return f < 0 ? 2 : gr_cli_usage(usage_network, "network set: unknown flag '%s'", argv[i]);
		}
		if (f)
			continue;
		if (!name) {
			name = argv[i];
			continue;
		}
		const char *eq = strchr(argv[i], '=');
		if (!eq || eq == argv[i]) {
			json_decref(body);
			return gr_cli_usage(usage_network, "network set: '%s' is not KEY=VALUE", argv[i]);
		}
		_cleanup_free_ char *key = strndup(argv[i], (size_t)(eq - argv[i]));
		const char *v = eq + 1;
		/* true/false (on/off, yes/no) as JSON booleans, anything else as
		 * given: the daemon names what is wrong */
		json_t *jv = !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "yes")    ? json_true()
			     : !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "no") ? json_false()
											      : json_string(v);
		json_object_set_new(body, key, jv);
	}
	if (!name || !json_object_size(body)) {
		json_decref(body);
		return gr_cli_usage(usage_network, "network set: expected NAME KEY=VALUE...");
	}
	if (!gr_cli_name_ok("network name", name)) {
		json_decref(body);
		return 2;
	}
	_cleanup_free_ char *path = xasprintf("/v1/networks/%s", name);
	json_t *resp = NULL;
	int r = gr_cli_call("PATCH", path, body, &resp);
	json_decref(body);
	if (r)
		return 1;
	gr_cli_print(resp, fmt);
	json_decref(resp);
	return 0;
}

/* gureum network forward add|list|delete ... (argv[1] = "forward") */
static int forward(int argc, char **argv)
{
	if (argc < 3)
		return gr_cli_usage(usage_network, "network forward: expected add, list or delete");
	const char *sub = argv[2];
	bool is_add = !strcmp(sub, "add"), is_list = !strcmp(sub, "list"), is_del = !strcmp(sub, "delete");
	if (!is_add && !is_list && !is_del)
		return gr_cli_usage(usage_network, "network forward: unknown subcommand '%s'", sub);
	enum gr_cli_fmt fmt = is_list ? GR_FMT_TABLE : GR_FMT_YAML;
	const char *proto = NULL, *args[3] = { NULL, NULL, NULL };
	int na = 0, want = is_add ? 3 : is_list ? 1 : 2;
	for (int i = 3; i < argc; i++) {
		int f = is_del ? 0 : gr_cli_format_flag(argc, argv, &i, &fmt, usage_network);
		if (f < 0)
			return 2;
		if (f)
			continue;
		if (!is_del && !strcmp(argv[i], "--json")) {
			fmt = GR_FMT_JSON;
		} else if (!is_list && (!strcmp(argv[i], "--proto") || !strncmp(argv[i], "--proto=", 8))) {
			if (argv[i][7] == '=')
				proto = argv[i] + 8;
			else if (i + 1 < argc)
				proto = argv[++i];
			else
				return gr_cli_usage(usage_network, "network forward %s: --proto needs tcp or udp", sub);
			if (strcmp(proto, "tcp") && strcmp(proto, "udp"))
				return gr_cli_usage(usage_network, "network forward %s: --proto: '%s' is not tcp or udp",
						    sub, proto);
		} else if (argv[i][0] == '-') {
			return gr_cli_usage(usage_network, "network forward %s: unknown flag '%s'", sub, argv[i]);
		} else if (na < want) {
			args[na++] = argv[i];
		} else {
			return gr_cli_usage(usage_network, "network forward %s: unexpected argument '%s'", sub, argv[i]);
		}
	}
	if (na < want)
		return gr_cli_usage(usage_network, "network forward %s: expected %s", sub,
				    is_add ? "NET HOSTPORT INSTANCE:PORT" : is_list ? "NET" : "NET HOSTPORT");
	if (!gr_cli_name_ok("network name", args[0]))
		return 2;
	if (!is_list && !port_arg(args[1]))
		return gr_cli_usage(usage_network, "network forward %s: HOSTPORT: '%s' is not a port (1..65535)",
				    sub, args[1]);
	_cleanup_free_ char *path = xasprintf("/v1/networks/%s/forwards", args[0]);
	if (is_list)
		return gr_cli_list(path, "forwards", fmt, print_forwards);
	if (is_del) {
		_cleanup_free_ char *p = xasprintf("%s/%s%s%s", path, args[1], proto ? "?proto=" : "",
						   proto ? proto : "");
		return gr_cli_call("DELETE", p, NULL, NULL);
	}
	const char *colon = strrchr(args[2], ':');
	if (!colon || colon == args[2] || !port_arg(colon + 1))
		return gr_cli_usage(usage_network, "network forward add: '%s' is not INSTANCE:PORT (PORT 1..65535)",
				    args[2]);
	_cleanup_free_ char *inst = strndup(args[2], (size_t)(colon - args[2]));
	if (!gr_cli_name_ok("instance name", inst))
		return 2;
	json_t *body = json_pack("{s:I,s:s,s:I,s:s}", "hostport", (json_int_t)port_arg(args[1]), "instance",
				 inst, "port", (json_int_t)port_arg(colon + 1), "proto", proto ? proto : "tcp");
	json_t *resp = NULL;
	int r = gr_cli_call("POST", path, body, &resp);
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
		return gr_cli_usage(usage_network, "network: expected create, list, show, delete, set or forward");
	const char *sub = argv[1];
	if (!strcmp(sub, "create"))
		return create(argc, argv);
	if (!strcmp(sub, "forward"))
		return forward(argc, argv);
	if (!strcmp(sub, "set"))
		return set(argc, argv);
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
