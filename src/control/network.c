/*
 * network.c - networks as store objects and their address allocation
 * (docs/NETWORK.md):
 *
 *   /gureum/networks/<name>                  {"name","type":"bridge"|"vxlan","subnet",
 *                                             "gateway","nat","bridge","created"[,"vni"]}
 *   /gureum/networks/<name>/addresses/<ip>   the instance's name (a JSON string)
 *
 * An address is taken by a compare-absent put of its key, so no two
 * instances ever hold one address, whichever host of a pool allocates it;
 * it is released when the instance's record goes.  The instance record
 * keeps a copy of what a start needs (network, bridge, subnet, address,
 * MAC), so starting an instance reads no network record.  Only "nat" and
 * "dhcp" change after creation (gr_control_network_set).  Port forwards (netforward.c) live under the
 * network's key and are part of the NAT table.  The NAT table (net/nat.c) is rebuilt from the
 * records at start and after every create/delete on this host.  What is
 * vxlan's own (the VNI, each host's devices and FDB) is in netvxlan.c.
 *
 * Known races, accepted for now: two overlapping subnets created at the
 * same moment on two hosts are both accepted; a network deleted while an
 * allocation on another host is under way may leave that address key
 * (removed by the next start-up sweep of the host that made it).
 */
#include "control/control-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "util/alloc.h"
#include "util/log.h"

#define KEY_NETWORKS "/gureum/networks/"

/* Network names: as instance names but at most 12 characters, so the
 * bridge "gr-<name>" fits a link name (15). */
static int net_name_valid(const char *field, const char *name, gr_error_t *err)
{
	if (gr_name_valid(field, name, err) < 0)
		return -1;
	if (strlen(name) > 12)
		return gr_error_set(err, EINVAL, "%s: '%s' is longer than 12 characters (the bridge "
				    "\"gr-<name>\" must fit a 15-character link name)", field, name);
	return 0;
}

struct netrec {
	char name[GR_NET_NAME_MAX];
	char bridge[16];
	struct gr_net_cidr subnet;
	bool nat;
	bool vxlan;
};

static int netrec_of(const json_t *doc, struct netrec *out, gr_error_t *err)
{
	const char *name = json_string_value(json_object_get(doc, "name"));
	const char *subnet = json_string_value(json_object_get(doc, "subnet"));
	const char *bridge = json_string_value(json_object_get(doc, "bridge"));
	if (!name || !subnet || !bridge || strlen(name) >= sizeof out->name ||
	    strlen(bridge) >= sizeof out->bridge ||
	    gr_net_cidr_parse("subnet", subnet, &out->subnet, NULL) < 0)
		return gr_error_set(err, EBADMSG, "network record %s: malformed", name ? name : "?");
	snprintf(out->name, sizeof out->name, "%s", name);
	snprintf(out->bridge, sizeof out->bridge, "%s", bridge);
	out->nat = json_is_true(json_object_get(doc, "nat"));
	const char *type = json_string_value(json_object_get(doc, "type"));
	out->vxlan = type && !strcmp(type, "vxlan");
	return 0;
}

static bool is_network_key(const char *key)
{
	return !strchr(key + strlen(KEY_NETWORKS), '/');
}

/* Every network record (sorted by name), as docs and parsed. */
static int networks_read(struct gr_control *c, json_t **docs, struct netrec **recs, size_t *n,
			 gr_error_t *err)
{
	struct gr_kv_list l = { 0 };
	if (gr_store_list(c->store, KEY_NETWORKS, 0, &l, err) < 0)
		return -1;
	json_t *arr = json_array();
	struct netrec *r = xcalloc(l.n + 1, sizeof *r);
	size_t k = 0;
	for (size_t i = 0; i < l.n; i++) {
		if (!is_network_key(l.kvs[i].key))
			continue;
		json_t *doc = json_loadb(l.kvs[i].value, l.kvs[i].value_len, 0, NULL);
		gr_error_t e;
		if (!doc || netrec_of(doc, &r[k], &e) < 0) {
			gr_log_warn("network record %s: not readable, ignored", l.kvs[i].key);
			json_decref(doc);
			continue;
		}
		json_array_append_new(arr, doc);
		k++;
	}
	gr_kv_list_clear(&l);
	if (docs)
		*docs = arr;
	else
		json_decref(arr);
	if (recs)
		*recs = r;
	else
		free(r);
	if (n)
		*n = k;
	return 0;
}

static int network_get(struct gr_control *c, const char *name, json_t **doc, struct netrec *rec,
		       gr_error_t *err)
{
	_cleanup_free_ char *key = xasprintf(KEY_NETWORKS "%s", name);
	json_t *d = NULL;
	int r = gr_store_get_json(c->store, key, &d, NULL, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return gr_error_set(err, ENOENT, "network: no network named '%s' (see 'gureum network "
				    "list')", name);
	if (rec && netrec_of(d, rec, err) < 0) {
		json_decref(d);
		return -1;
	}
	if (doc)
		*doc = d;
	else
		json_decref(d);
	return 0;
}

/* Addresses of a network: {ip: instance} (new reference). */
static int addresses_of(struct gr_control *c, const char *net, json_t **out, gr_error_t *err)
{
	_cleanup_free_ char *prefix = xasprintf(KEY_NETWORKS "%s/addresses/", net);
	struct gr_kv_list l = { 0 };
	if (gr_store_list(c->store, prefix, 0, &l, err) < 0)
		return -1;
	json_t *o = json_object();
	for (size_t i = 0; i < l.n; i++) {
		json_t *v = json_loadb(l.kvs[i].value, l.kvs[i].value_len, JSON_DECODE_ANY, NULL);
		json_object_set_new(o, l.kvs[i].key + strlen(prefix),
				    json_is_string(v) ? json_incref(v) : json_string("?"));
		json_decref(v);
	}
	gr_kv_list_clear(&l);
	*out = o;
	return 0;
}

int gr__net_sync(struct gr_control *c, gr_error_t *err)
{
	struct netrec *recs = NULL;
	size_t n = 0;
	if (networks_read(c, NULL, &recs, &n, err) < 0)
		return -1;
	struct gr_net_fwd *fwds = NULL;
	size_t nf = 0;
	if (gr__fwd_rules(c, &fwds, &nf, err) < 0) {
		free(recs);
		return -1;
	}
	struct gr_net_nat_net *nets = xcalloc(n + 1, sizeof *nets);
	for (size_t i = 0; i < n; i++)
		nets[i] = (struct gr_net_nat_net){ recs[i].bridge, recs[i].subnet, recs[i].nat };
	int r = gr_net_nat_sync(nets, n, fwds, nf, err);
	free(nets);
	free(fwds);
	free(recs);
	return r;
}

static json_t *with_usage(struct gr_control *c, json_t *doc)
{
	json_t *addrs = NULL;
	if (addresses_of(c, json_string_value(json_object_get(doc, "name")), &addrs, NULL) == 0)
		json_object_set_new(doc, "addresses", addrs);
	return doc;
}

/* A VLAN network's fields ("vlan" 1..4094, "parent" a link name; only with
 * type vlan), then this kernel's support.  VLAN networks are refused here
 * either way: where the kernel has 802.1Q and bridge VLAN filtering, the
 * host wiring (the parent's 802.1Q device on the bridge) is not built yet. */
static int vlan_check(const json_t *req, bool is_vlan, gr_error_t *err)
{
	json_t *id = json_object_get(req, "vlan");
	json_t *parent = json_object_get(req, "parent");
	if (!is_vlan) {
		if (id || parent)
			return gr_error_set(err, EINVAL, "%s: only for a network of type \"vlan\"", id ? "vlan" : "parent");
		return 0;
	}
	if (!id)
		return gr_error_set(err, EINVAL, "vlan: required for a network of type \"vlan\" (1..4094)");
	if (!json_is_integer(id) || json_integer_value(id) < 1 || json_integer_value(id) > 4094)
		return gr_error_set(err, EINVAL, "vlan: expected a VLAN ID from 1 to 4094");
	const char *p = json_string_value(parent);
	if (!p)
		return gr_error_set(err, EINVAL, "parent: required for a network of type \"vlan\" (the host's "
				    "link carrying the tagged frames, e.g. eth0)");
	if (!*p || strlen(p) > 15 || strchr(p, '/') || strchr(p, ' '))
		return gr_error_set(err, EINVAL, "parent: '%s' is not a link name", p);
	if (gr_net_vlan_support(err) < 0)
		return gr_error_prefix(err, "type: vlan networks need 802.1Q and bridge VLAN filtering");
	return gr_error_set(err, EOPNOTSUPP, "type: vlan networks are not built yet (this host's kernel "
			    "supports them, but gureum does not wire them)");
}

int gr_control_network_create(struct gr_control *c, json_t *req, json_t **out, gr_error_t *err)
{
	if (!json_is_object(req))
		return gr_error_set(err, EINVAL, "body: expected a JSON object");
	const char *key;
	json_t *v;
	json_object_foreach(req, key, v)
		if (strcmp(key, "name") && strcmp(key, "subnet") && strcmp(key, "nat") && strcmp(key, "type") &&
		    strcmp(key, "dhcp") && strcmp(key, "vni") && strcmp(key, "vlan") && strcmp(key, "parent"))
			return gr_error_set(err, EINVAL, "%s: unknown field (name, subnet, nat, dhcp, type, vni, "
					    "vlan, parent)", key);
	const char *name = json_string_value(json_object_get(req, "name"));
	if (!name)
		return gr_error_set(err, EINVAL, "name: required (a string)");
	if (net_name_valid("name", name, err) < 0)
		return -1;
	const char *type = json_string_value(json_object_get(req, "type"));
	if (json_object_get(req, "type") &&
	    (!type || (strcmp(type, "bridge") && strcmp(type, "vxlan") && strcmp(type, "vlan"))))
		return gr_error_set(err, EINVAL, "type: unknown type%s%s%s (bridge, vxlan, vlan)", type ? " '" : "",
				    type ? type : "", type ? "'" : "");
	if (vlan_check(req, type && !strcmp(type, "vlan"), err) < 0)
		return -1;
	bool vxlan = type && !strcmp(type, "vxlan");
	if (gr__vxlan_check(req, err) < 0)
		return -1;
	json_t *nat = json_object_get(req, "nat");
	if (nat && !json_is_boolean(nat))
		return gr_error_set(err, EINVAL, "nat: expected true or false");
	json_t *dhcp = json_object_get(req, "dhcp");
	if (dhcp && !json_is_boolean(dhcp))
		return gr_error_set(err, EINVAL, "dhcp: expected true or false");
	if (vxlan && json_is_true(dhcp))
		/* every host's dnsmasq would answer on the one segment */
		return gr_error_set(err, EINVAL, "dhcp: not available on a vxlan network yet (addresses "
				    "are static: --ip or the lowest free one)");
	const char *subnet = json_string_value(json_object_get(req, "subnet"));
	if (!subnet)
		return gr_error_set(err, EINVAL, "subnet: required (a.b.c.d/N)");
	struct gr_net_cidr cidr;
	if (gr_net_cidr_parse("subnet", subnet, &cidr, err) < 0)
		return -1;
	struct netrec *recs = NULL;
	size_t n = 0;
	if (networks_read(c, NULL, &recs, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(recs[i].name, name)) {
			free(recs);
			return gr_error_set(err, EEXIST, "name: a network named '%s' exists", name);
		}
		if (gr_net_cidr_overlap(&recs[i].subnet, &cidr)) {
			char b[GR_NET_CIDR_MAX];
			gr_error_set(err, EINVAL, "subnet: %s overlaps %s of network '%s'", subnet,
				     gr_net_cidr_format(&recs[i].subnet, b), recs[i].name);
			free(recs);
			return -1;
		}
	}
	free(recs);
	char c_text[GR_NET_CIDR_MAX], gw[GR_NET_IP_MAX];
	_cleanup_free_ char *bridge = xasprintf("gr-%s", name);
	json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:s,s:I}", "name", name, "type", vxlan ? "vxlan" : "bridge",
				"subnet", gr_net_cidr_format(&cidr, c_text), "gateway",
				gr_net_ip_format(gr_net_gateway(&cidr), gw), "nat", json_is_true(nat),
				"dhcp", json_is_true(dhcp), "bridge", bridge, "created", (json_int_t)time(NULL));
	_cleanup_free_ char *k = xasprintf(KEY_NETWORKS "%s", name);
	int r = vxlan ? gr__vxlan_put(c, k, doc, req, err) : gr_store_put_json_if(c->store, k, doc, 0, 0, NULL, err);
	if (r <= 0) {
		json_decref(doc);
		return r < 0 ? -1 : gr_error_set(err, EEXIST, "name: a network named '%s' exists", name);
	}
	gr__event(c, "network-created", name, NULL, c_text);
	/* every network change: the table's no-forwarding rules name every
	 * bridge, so a network without NAT changes it too */
	gr_error_t e2;
	if (gr__net_sync(c, json_is_true(nat) ? err : &e2) < 0) {
		if (json_is_true(nat)) {
			gr_store_delete(c->store, k, NULL, &e2);
			json_decref(doc);
			return gr_error_prefix(err, "network '%s' not created", name);
		}
		gr_log_warn("network %s: %s", name, e2.msg);
	}
	if (vxlan)
		gr__vxlan_sync(c);
	gr__netdhcp_sync(c);
	if (out)
		*out = with_usage(c, doc);
	else
		json_decref(doc);
	return 0;
}

int gr_control_network_list(struct gr_control *c, json_t **out, gr_error_t *err)
{
	json_t *docs;
	if (networks_read(c, &docs, NULL, NULL, err) < 0)
		return -1;
	size_t i;
	json_t *d;
	json_array_foreach(docs, i, d)
		with_usage(c, d);
	*out = json_pack("{s:o}", "networks", docs);
	return 0;
}

int gr_control_network_get(struct gr_control *c, const char *name, json_t **out, gr_error_t *err)
{
	if (net_name_valid("name", name, err) < 0)
		return -1;
	json_t *doc;
	if (network_get(c, name, &doc, NULL, err) < 0)
		return -1;
	*out = with_usage(c, doc);
	return 0;
}

int gr_control_network_delete(struct gr_control *c, const char *name, gr_error_t *err)
{
	if (net_name_valid("name", name, err) < 0)
		return -1;
	struct netrec rec;
	json_t *doc;
	if (network_get(c, name, &doc, &rec, err) < 0)
		return -1;
	json_t *addrs;
	if (addresses_of(c, name, &addrs, err) < 0)
		return -1;
	if (json_object_size(addrs)) {
		char who[512] = "";
		size_t o = 0;
		const char *ip;
		json_t *v;
		json_object_foreach(addrs, ip, v)
			if (o < sizeof who - 80)
				o += (size_t)snprintf(who + o, sizeof who - o, "%s%s (%s)", o ? ", " : "",
						      json_string_value(v), ip);
		json_decref(addrs);
		json_decref(doc);
		return gr_error_set(err, EBUSY, "network '%s' is in use by %s: delete those instances "
				    "first", name, who);
	}
	json_decref(addrs);
	_cleanup_free_ char *k = xasprintf(KEY_NETWORKS "%s", name);
	if (gr_store_delete(c->store, k, NULL, err) < 0) {
		json_decref(doc);
		return -1;
	}
	gr__fwd_forget_network(c, name); /* none while in use, but a crash may leave some */
	gr__event(c, "network-deleted", name, NULL, NULL);
	/* the bridge goes with the network on this host (other hosts keep an
	 * idle bridge until their next start) */
	gr__netdhcp_sync(c); /* its dnsmasq goes before its bridge */
	gr_error_t e2;
	if (rec.vxlan)
		gr__vxlan_deleted(c, name, doc);
	else if (gr_net_bridge_remove(rec.bridge, &e2) < 0)
		gr_log_warn("network %s: %s", name, e2.msg);
	json_decref(doc);
	if (gr__net_sync(c, &e2) < 0)
		gr_log_warn("network %s: %s", name, e2.msg);
	return 0;
}

int gr_control_network_set(struct gr_control *c, const char *name, json_t *req, json_t **out,
			   gr_error_t *err)
{
	if (net_name_valid("name", name, err) < 0)
		return -1;
	if (!json_is_object(req) || !json_object_size(req))
		return gr_error_set(err, EINVAL, "body: expected a JSON object with nat and/or dhcp");
	const char *key;
	json_t *v;
	json_object_foreach(req, key, v) {
		if (!strcmp(key, "nat") || !strcmp(key, "dhcp")) {
			if (!json_is_boolean(v))
				return gr_error_set(err, EINVAL, "%s: expected true or false", key);
		} else if (!strcmp(key, "name") || !strcmp(key, "subnet") || !strcmp(key, "type") ||
			   !strcmp(key, "vni") || !strcmp(key, "gateway") || !strcmp(key, "bridge")) {
			return gr_error_set(err, EINVAL, "%s: cannot change after creation (its instances' "
					    "addresses, MACs and links depend on it: make a new network)", key);
		} else {
			return gr_error_set(err, EINVAL, "%s: unknown field (nat and dhcp can change)", key);
		}
	}
	_cleanup_free_ char *k = xasprintf(KEY_NETWORKS "%s", name);
	for (int tries = 0; tries < 8; tries++) {
		json_t *doc = NULL;
		int64_t rev = 0;
		int r = gr_store_get_json(c->store, k, &doc, &rev, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return gr_error_set(err, ENOENT, "network: no network named '%s' (see 'gureum network "
					    "list')", name);
		const char *type = json_string_value(json_object_get(doc, "type"));
		if (json_is_true(json_object_get(req, "dhcp")) && type && !strcmp(type, "vxlan")) {
			json_decref(doc);
			return gr_error_set(err, EINVAL, "dhcp: not available on a vxlan network yet (addresses "
					    "are static: --ip or the lowest free one)");
		}
		bool old_nat = json_is_true(json_object_get(doc, "nat"));
		json_object_foreach(req, key, v)
			json_object_set(doc, key, v);
		if ((r = gr_store_put_json_if(c->store, k, doc, 0, rev, NULL, err)) < 0) {
			json_decref(doc);
			return -1;
		}
		if (r == 0) { /* changed meanwhile: read it again */
			json_decref(doc);
			continue;
		}
		char *what = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
		gr__event(c, "network-changed", name, NULL, what);
		free(what);
		gr_error_t e2;
		if (gr__net_sync(c, &e2) < 0) {
			/* the record is written; the table follows at the next change or start */
			gr_log_warn("network %s: %s", name, e2.msg);
			if (!old_nat && json_is_true(json_object_get(doc, "nat"))) {
				json_decref(doc);
				*err = e2;
				return gr_error_prefix(err, "network '%s': nat recorded but not applied", name);
			}
		}
		gr__netdhcp_sync(c); /* starts or stops its dnsmasq */
		if (out)
			*out = with_usage(c, doc);
		else
			json_decref(doc);
		return 0;
	}
	return gr_error_set(err, EAGAIN, "network '%s' changed too often meanwhile; try again", name);
}

/* Take addr in net for inst: 1 taken / 0 held by someone / -1. */
static int take(struct gr_control *c, const char *net, uint32_t ip, const char *inst,
		gr_error_t *err)
{
	char a[GR_NET_IP_MAX];
	_cleanup_free_ char *k = xasprintf(KEY_NETWORKS "%s/addresses/%s", net, gr_net_ip_format(ip, a));
	_cleanup_free_ char *v = xasprintf("\"%s\"", inst);
	return gr_store_create(c->store, k, v, strlen(v), 0, NULL, err);
}

static void release(struct gr_control *c, const char *net, uint32_t ip, const char *inst)
{
	char a[GR_NET_IP_MAX];
	_cleanup_free_ char *k = xasprintf(KEY_NETWORKS "%s/addresses/%s", net, gr_net_ip_format(ip, a));
	_cleanup_free_ char *v = xasprintf("\"%s\"", inst);
	/* only while it is still this instance's */
	struct gr_store_cmp cmp = { .key = k, .target = GR_CMP_VALUE, .op = GR_CMP_EQUAL, .value = v,
				    .value_len = strlen(v) };
	struct gr_store_op del = { .type = GR_OP_DELETE, .key = k };
	struct gr_store_txn txn = { &cmp, 1, &del, 1, NULL, 0 };
	struct gr_store_txn_result res;
	gr_error_t e;
	if (gr_store_txn(c->store, &txn, &res, &e) < 0)
		gr_log_warn("%s: releasing %s in %s: %s", inst, a, net, e.msg);
}

static int alloc_one(struct gr_control *c, const char *inst, struct gr_net_nic *nic, unsigned i,
		     gr_error_t *err)
{
	struct netrec rec;
	if (network_get(c, nic->network, NULL, &rec, err) < 0)
		return gr_error_prefix(err, "nics[%u]", i);
	if (rec.vxlan && gr__vxlan_ready(c, nic->network, err) < 0)
		return gr_error_prefix(err, "nics[%u]", i);
	snprintf(nic->bridge, sizeof nic->bridge, "%s", rec.bridge);
	nic->subnet = rec.subnet;
	if (!nic->mac[0])
		gr_net_mac_random(nic->mac);
	char a[GR_NET_IP_MAX];
	if (nic->ip) {
		if (gr_net_check_host(&rec.subnet, nic->ip, "ip", err) < 0)
			return -1;
		int r = take(c, nic->network, nic->ip, inst, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return gr_error_set(err, EEXIST, "ip: %s is taken in network '%s'", gr_net_ip_format(nic->ip, a),
					    nic->network);
		return 0;
	}
	for (int tries = 0; tries < 16; tries++) {
		json_t *addrs;
		if (addresses_of(c, nic->network, &addrs, err) < 0)
			return -1;
		size_t n = json_object_size(addrs), k = 0;
		uint32_t *used = xcalloc(n + 1, sizeof *used);
		const char *ip;
		json_t *v;
		json_object_foreach(addrs, ip, v)
			if (gr_net_ip_parse("ip", ip, &used[k], NULL) == 0)
				k++;
		json_decref(addrs);
		uint32_t pick;
		int r = gr_net_pick(&rec.subnet, used, k, &pick, err);
		free(used);
		if (r < 0) {
			/* a state conflict for the API (409), not a full disk (ENOSPC's 500) */
			if (err && err->code == ENOSPC)
				err->code = EBUSY;
			return gr_error_prefix(err, "network '%s'", nic->network);
		}
		if ((r = take(c, nic->network, pick, inst, err)) < 0)
			return -1;
		if (r == 1) {
			nic->ip = pick;
			return 0;
		}
		/* another instance took it meanwhile: look again */
	}
	return gr_error_set(err, EAGAIN, "network '%s': could not take an address (too many at once); "
			    "try again", nic->network);
}

int gr__net_alloc(struct gr_control *c, struct gr_instance *in, gr_error_t *err)
{
	for (unsigned i = 0; i < in->n_nics; i++) {
		if (alloc_one(c, in->name, &in->nics[i], i, err) < 0) {
			/* release what the NICs before this one took */
			unsigned n = in->n_nics;
			in->n_nics = i;
			gr__net_release(c, in);
			in->n_nics = n;
			for (unsigned k = 0; k < n; k++)
				in->nics[k].ip = 0;
			return -1;
		}
	}
	return 0;
}

void gr__net_release(struct gr_control *c, const struct gr_instance *in)
{
	for (unsigned i = 0; i < in->n_nics; i++)
		if (in->nics[i].ip)
			release(c, in->nics[i].network, in->nics[i].ip, in->name);
	if (in->n_nics)
		gr__netlimit_forget(c, in->name);
	/* its port forwards go with it, and their rules */
	gr_error_t e;
	if (gr__fwd_forget_instance(c, in) > 0 && gr__net_sync(c, &e) < 0)
		gr_log_warn("%s: NAT rules after removing its forwards: %s", in->name, e.msg);
}

int gr__net_sweep(struct gr_control *c)
{
	struct gr_kv_list l = { 0 };
	gr_error_t e;
	if (gr_store_list(c->store, KEY_NETWORKS, 0, &l, &e) < 0) {
		gr_log_warn("sweep: network addresses: %s", e.msg);
		return 0;
	}
	int removed = 0;
	for (size_t i = 0; i < l.n; i++) {
		const char *k = l.kvs[i].key;
		if (is_network_key(k) || !strstr(k + strlen(KEY_NETWORKS), "/addresses/"))
			continue;
		json_t *v = json_loadb(l.kvs[i].value, l.kvs[i].value_len, JSON_DECODE_ANY, NULL);
		const char *inst = json_string_value(v);
		if (inst && !gr__index_known(inst, c)) {
			gr_log_info("sweep: releasing address %s of %s (no record)", k, inst);
			if (gr_store_delete_if(c->store, k, l.kvs[i].mod_revision, NULL, &e) < 0)
				gr_log_warn("sweep: %s", e.msg);
			else
				removed++;
		}
		json_decref(v);
	}
	gr_kv_list_clear(&l);
	if (gr__fwd_sweep(c) > 0 && gr__net_sync(c, &e) < 0)
		gr_log_warn("sweep: NAT rules: %s", e.msg);
	return removed;
}

int gr__net_default(struct gr_control *c, const char *cidr, gr_error_t *err)
{
	if (!cidr || !strcmp(cidr, "none"))
		return 0;
	if (network_get(c, "gr0", NULL, NULL, NULL) == 0)
		return 0;
	json_t *req = json_pack("{s:s,s:s,s:b,s:b}", "name", "gr0", "subnet", cidr, "nat", 1, "dhcp", 1);
	int r = gr_control_network_create(c, req, NULL, err);
	json_decref(req);
	return r < 0 ? gr_error_prefix(err, "default network gr0") : 0;
}

void gr__net_default_nic(struct gr_control *c, const json_t *req, struct gr_instance *in)
{
	if (in->n_nics || json_object_get(req, "nics") || network_get(c, "gr0", NULL, NULL, NULL) < 0)
		return;
	memset(&in->nics[0], 0, sizeof in->nics[0]);
	snprintf(in->nics[0].network, sizeof in->nics[0].network, "gr0");
	in->n_nics = 1;
}
