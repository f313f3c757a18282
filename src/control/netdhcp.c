/*
 * netdhcp.c - this host's dnsmasq processes, one per network whose record
 * says "dhcp": true (docs/NETWORK.md).  net/dnsmasq.c does the process and
 * file work; this file decides from the records:
 *
 *   <state_dir>/networks/<net>/   the network's dnsmasq folder (net/dnsmasq.c)
 *
 * gr__netdhcp_sync() is the one reconciler, run at daemon start, after a
 * network create or delete here, and every 2 s from the loop's tick: for
 * each DHCP network it makes the bridge (dnsmasq binds to it), writes the
 * reservations "MAC,IP,name" of every address key of the network (the MAC
 * from the instance record, so DHCP hands out exactly the IPAM address),
 * starts dnsmasq when none runs for the folder (first start, a dnsmasq that
 * died, a host reboot) or sends SIGHUP when a reservation changed; the
 * folder of a network that is gone or has no DHCP is stopped and removed.
 * The daemon holds nothing of a dnsmasq but its folder: a restarted daemon
 * (SIGTERM or kill -9) finds it alive by its pid file and command line and
 * keeps it, so there is never a second one per network.  A mutex keeps two
 * threads (the loop's tick and an API worker) from starting two.
 */
#include "control/control-internal.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"

#define KEY_NETWORKS "/gureum/networks/"

static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;

struct dhcpnet {
	char *name;
	struct gr_net_nic nic; /* network, bridge, subnet: what bridge_ensure needs */
	struct gr_net_dns_host *hosts;
	char **strs;           /* names and MACs the hosts point into */
	size_t n, ns;
};

static void keep_str(struct dhcpnet *d, char *s)
{
	d->strs = xrealloc(d->strs, (d->ns + 2) * sizeof *d->strs);
	d->strs[d->ns++] = s;
	d->strs[d->ns] = NULL;
}

/* The reservation of address key ip (value: the instance) when the
 * instance's record has a NIC on this network with that address. */
static void add_host(struct gr_control *c, struct dhcpnet *d, const char *ip_text, const char *inst)
{
	uint32_t ip;
	if (!inst || gr_net_ip_parse("ip", ip_text, &ip, NULL) < 0)
		return;
	struct gr_instance in;
	memset(&in, 0, sizeof in);
	if (gr__inst_get(c, inst, &in, NULL) < 0)
		return; /* no record (yet): the next sync has it */
	for (unsigned i = 0; i < in.n_nics; i++) {
		if (strcmp(in.nics[i].network, d->name) || in.nics[i].ip != ip || !in.nics[i].mac[0])
			continue;
		char *mac = xstrdup(in.nics[i].mac), *name = xstrdup(inst);
		keep_str(d, mac);
		keep_str(d, name);
		d->hosts = xrealloc(d->hosts, (d->n + 1) * sizeof *d->hosts);
		d->hosts[d->n++] = (struct gr_net_dns_host){ mac, ip, name };
		break;
	}
	gr__inst_clear(&in);
}

/* The DHCP networks of the records, with their reservations. */
static int dhcp_networks(struct gr_control *c, struct dhcpnet **out, size_t *n_out)
{
	struct gr_kv_list l = { 0 };
	gr_error_t e;
	if (gr_store_list(c->store, KEY_NETWORKS, 0, &l, &e) < 0) {
		gr_log_warn("dhcp: reading the networks: %s", e.msg);
		return -1;
	}
	struct dhcpnet *nets = NULL;
	size_t n = 0;
	/* sorted by key: a network's record comes before its address keys */
	for (size_t i = 0; i < l.n; i++) {
		const char *rest = l.kvs[i].key + strlen(KEY_NETWORKS);
		const char *slash = strchr(rest, '/');
		if (!slash) {
			json_t *doc = json_loadb(l.kvs[i].value, l.kvs[i].value_len, 0, NULL);
			const char *bridge = json_string_value(json_object_get(doc, "bridge"));
			const char *subnet = json_string_value(json_object_get(doc, "subnet"));
			struct gr_net_cidr cidr;
			if (json_is_true(json_object_get(doc, "dhcp")) && bridge && strlen(bridge) < 16 &&
			    strlen(rest) < GR_NET_NAME_MAX && subnet &&
			    gr_net_cidr_parse("subnet", subnet, &cidr, NULL) == 0) {
				nets = xrealloc(nets, (n + 1) * sizeof *nets);
				struct dhcpnet *d = &nets[n++];
				memset(d, 0, sizeof *d);
				d->name = xstrdup(rest);
				snprintf(d->nic.network, sizeof d->nic.network, "%s", rest);
				snprintf(d->nic.bridge, sizeof d->nic.bridge, "%s", bridge);
				d->nic.subnet = cidr;
			}
			json_decref(doc);
			continue;
		}
		if (!n || strncmp(rest, nets[n - 1].name, (size_t)(slash - rest)) ||
		    nets[n - 1].name[slash - rest] || strncmp(slash, "/addresses/", 11))
			continue;
		json_t *v = json_loadb(l.kvs[i].value, l.kvs[i].value_len, JSON_DECODE_ANY, NULL);
		add_host(c, &nets[n - 1], slash + 11, json_string_value(v));
		json_decref(v);
	}
	gr_kv_list_clear(&l);
	*out = nets;
	*n_out = n;
	return 0;
}

static void one(struct gr_control *c, struct dhcpnet *d, const char *root)
{
	_cleanup_free_ char *dir = xasprintf("%s/%s", root, d->name);
	gr_error_t e;
	if (gr_mkdir_p(dir, 0755, &e) < 0 || gr_net_bridge_ensure(&d->nic, &e) < 0) {
		gr_log_warn("dhcp of network %s: %s", d->name, e.msg);
		return;
	}
	int changed = gr_net_dns_hosts(dir, d->hosts, d->n, &e);
	if (changed < 0) {
		gr_log_warn("dhcp of network %s: %s", d->name, e.msg);
		return;
	}
	if (gr_net_dns_pid(dir) > 0) {
		if (changed > 0 && gr_net_dns_reload(dir) < 0)
			gr_log_warn("dhcp of network %s: dnsmasq did not take the reload", d->name);
		return;
	}
	struct gr_net_dns dns = { d->name, d->nic.bridge, d->nic.subnet, dir };
	pid_t pid;
	if (gr_net_dns_start(&dns, &pid, &e) < 0) {
		gr_log_warn("dhcp of network %s: %s", d->name, e.msg);
		return;
	}
	gr_log_info("dhcp of network %s: dnsmasq started (pid %d, %zu reservations)", d->name, (int)pid, d->n);
	gr__event(c, "dnsmasq-started", d->name, NULL, NULL);
}

void gr__netdhcp_sync(struct gr_control *c)
{
	pthread_mutex_lock(&sync_lock);
	struct dhcpnet *nets = NULL;
	size_t n = 0;
	_cleanup_free_ char *root = xasprintf("%s/networks", c->state_dir);
	if (dhcp_networks(c, &nets, &n) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		one(c, &nets[i], root);
	/* folders of networks gone or without DHCP */
	DIR *dir = opendir(root);
	struct dirent *de;
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		size_t i = 0;
		while (i < n && strcmp(nets[i].name, de->d_name))
			i++;
		if (i < n)
			continue;
		_cleanup_free_ char *d = xasprintf("%s/%s", root, de->d_name);
		gr_error_t e;
		gr_log_info("dhcp of network %s: stopping its dnsmasq (no DHCP network of that name)", de->d_name);
		if (gr_net_dns_stop(d, &e) < 0)
			gr_log_warn("dhcp of network %s: %s", de->d_name, e.msg);
	}
	if (dir)
		closedir(dir);
out:
	for (size_t i = 0; i < n; i++) {
		free(nets[i].name);
		free(nets[i].hosts);
		gr_strv_free(nets[i].strs);
	}
	free(nets);
	pthread_mutex_unlock(&sync_lock);
}
