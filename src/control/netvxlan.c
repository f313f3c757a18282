/*
 * netvxlan.c - vxlan networks: their VNI in the store and each host's
 * devices and forwarding entries built from the store (docs/NETWORK.md,
 * "VXLAN overlay"):
 *
 *   /gureum/networks/<name>     {..., "type": "vxlan", "vni": N}
 *   /gureum/vxlan/vni/<N>       "<name>"   (taken by compare-absent, in the
 *                                           same txn as the network record)
 *
 * A VNI is unique in the pool because its key is created in one txn with
 * the network's record.  Every host of the pool builds every vxlan
 * network (bridge + vxlan device, net/vxlan.c) and fills the device's FDB
 * from the records: the all-zero MAC to each other host's underlay
 * address, each instance's MAC (its NIC on that network) to the underlay
 * address of the host its record names.  gr__vxlan_sync rebuilds all of
 * that from scratch each time (idempotent): at daemon start, after a
 * network create/delete here, and on the loop's tick after the store
 * changed (the feed fired), so instances and hosts coming and going
 * elsewhere reach this host within a tick.  Devices whose network is gone
 * (deleted elsewhere, or while this daemon was down) are removed then too.
 *
 * A host's underlay address is read from its host record: its peer
 * channel's address, else its API address, when that is an IPv4 literal
 * other than 0.0.0.0 and 127/8.
 */
#include "control/control-internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"
#include "util/log.h"

#define KEY_NETWORKS "/gureum/networks/"
#define KEY_VNI "/gureum/vxlan/vni/"

/* one sync at a time (the loop's tick, API threads' create/delete/alloc) */
static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;

/* "a.b.c.d[:port]" -> a usable underlay address */
static bool underlay_parse(const char *s, uint32_t *out)
{
	if (!s)
		return false;
	char buf[64];
	snprintf(buf, sizeof buf, "%s", s);
	char *colon = strchr(buf, ':');
	if (colon)
		*colon = 0;
	uint32_t ip;
	if (gr_net_ip_parse("address", buf, &ip, NULL) < 0 || ip == 0 || (ip >> 24) == 127)
		return false;
	*out = ip;
	return true;
}

static bool underlay_of(const json_t *hrec, uint32_t *out)
{
	return underlay_parse(json_string_value(json_object_get(json_object_get(hrec, "peer"), "address")),
			      out) ||
	       underlay_parse(json_string_value(json_object_get(hrec, "address")), out);
}

int gr__vxlan_local(struct gr_control *c, uint32_t *out, gr_error_t *err)
{
	if (underlay_parse(json_string_value(json_object_get(c->peer, "address")), out) ||
	    underlay_parse(c->host_address, out))
		return 0;
	return gr_error_set(err, EADDRNOTAVAIL, "host %s has no underlay address for vxlan networks "
			    "(start gureumd with --peer-listen or --host-address on an IPv4 address "
			    "other hosts reach)", c->hostname);
}

/* ---- create / delete ---- */

static int vni_value(const json_t *v, uint32_t *out, gr_error_t *err)
{
	if (!json_is_integer(v))
		return gr_error_set(err, EINVAL, "vni: expected an integer (1..%u)", GR_NET_VNI_MAX);
	json_int_t n = json_integer_value(v);
	if (n < 1 || n > (json_int_t)GR_NET_VNI_MAX)
		return gr_error_set(err, EINVAL, "vni: %lld is out of range (1..%u)", (long long)n,
				    GR_NET_VNI_MAX);
	*out = (uint32_t)n;
	return 0;
}

int gr__vxlan_check(const json_t *req, gr_error_t *err)
{
	const char *type = json_string_value(json_object_get(req, "type"));
	json_t *vni = json_object_get(req, "vni");
	if (vni && (!type || strcmp(type, "vxlan")))
		return gr_error_set(err, EINVAL, "vni: only for a network of type \"vxlan\"");
	uint32_t n;
	return vni && !json_is_null(vni) ? vni_value(vni, &n, err) : 0;
}

/* Holder of vni (a new string), or NULL. */
static char *vni_holder(struct gr_control *c, uint32_t vni)
{
	_cleanup_free_ char *k = xasprintf(KEY_VNI "%u", vni);
	json_t *v = NULL;
	if (gr_store_get_json(c->store, k, &v, NULL, NULL) <= 0)
		return NULL;
	char *who = xstrdup(json_is_string(v) ? json_string_value(v) : "?");
	json_decref(v);
	return who;
}

int gr__vxlan_put(struct gr_control *c, const char *key, json_t *doc, const json_t *req,
		  gr_error_t *err)
{
	const char *name = json_string_value(json_object_get(doc, "name"));
	json_t *given = json_object_get(req, "vni");
	uint32_t vni = 0;
	if (given && !json_is_null(given) && vni_value(given, &vni, err) < 0)
		return -1;
	_cleanup_free_ char *text = NULL, *holder = xasprintf("\"%s\"", name);
	for (int tries = 0; tries < 64; tries++) {
		uint32_t pick = vni;
		if (!pick) {
			/* the lowest free from 1: list the taken ones */
			struct gr_kv_list l = { 0 };
			if (gr_store_list(c->store, KEY_VNI, 0, &l, err) < 0)
				return -1;
			pick = 1;
			for (bool again = true; again;) {
				again = false;
				for (size_t i = 0; i < l.n; i++)
					if (strtoul(l.kvs[i].key + strlen(KEY_VNI), NULL, 10) == pick) {
						pick++;
						again = true;
					}
			}
			gr_kv_list_clear(&l);
			if (pick > GR_NET_VNI_MAX)
				return gr_error_set(err, EBUSY, "vni: every VNI is taken");
		}
		json_object_set_new(doc, "vni", json_integer(pick));
		free(text);
		text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
		_cleanup_free_ char *vk = xasprintf(KEY_VNI "%u", pick);
		struct gr_store_cmp cmps[] = {
			{ .key = key, .target = GR_CMP_VERSION, .op = GR_CMP_EQUAL, .number = 0 },
			{ .key = vk, .target = GR_CMP_VERSION, .op = GR_CMP_EQUAL, .number = 0 },
		};
		struct gr_store_op ops[] = {
			{ .type = GR_OP_PUT, .key = key, .value = text, .value_len = strlen(text) },
			{ .type = GR_OP_PUT, .key = vk, .value = holder, .value_len = strlen(holder) },
		};
		struct gr_store_txn t = { cmps, 2, ops, 2, NULL, 0 };
		struct gr_store_txn_result res;
		if (gr_store_txn(c->store, &t, &res, err) < 0)
			return -1;
		if (res.succeeded)
			return 1;
		json_t *old = NULL;
		if (gr_store_get_json(c->store, key, &old, NULL, NULL) > 0) {
			json_decref(old);
			return 0; /* the name is taken */
		}
		if (vni) {
			_cleanup_free_ char *who = vni_holder(c, vni);
			return gr_error_set(err, EEXIST, "vni: %u is taken by network '%s'", vni,
					    who ? who : "?");
		}
		/* another create took that VNI meanwhile: look again */
	}
	return gr_error_set(err, EAGAIN, "vni: could not take one (too many creates at once); try again");
}

void gr__vxlan_deleted(struct gr_control *c, const char *name, const json_t *doc)
{
	json_t *v = json_object_get(doc, "vni");
	if (!json_is_integer(v))
		return;
	uint32_t vni = (uint32_t)json_integer_value(v);
	_cleanup_free_ char *k = xasprintf(KEY_VNI "%u", vni), *val = xasprintf("\"%s\"", name);
	struct gr_store_cmp cmp = { .key = k, .target = GR_CMP_VALUE, .op = GR_CMP_EQUAL, .value = val,
				    .value_len = strlen(val) };
	struct gr_store_op del = { .type = GR_OP_DELETE, .key = k };
	struct gr_store_txn txn = { &cmp, 1, &del, 1, NULL, 0 };
	struct gr_store_txn_result res;
	gr_error_t e;
	if (gr_store_txn(c->store, &txn, &res, &e) < 0)
		gr_log_warn("network %s: releasing VNI %u: %s", name, vni, e.msg);
	_cleanup_free_ char *bridge = xasprintf("gr-%s", name);
	pthread_mutex_lock(&sync_lock);
	if (gr_net_vxlan_remove(vni, bridge, &e) < 0)
		gr_log_warn("network %s: %s", name, e.msg);
	pthread_mutex_unlock(&sync_lock);
}

/* ---- this host's devices from the records ---- */

struct vnet {
	const char *name, *bridge;
	uint32_t vni;
	struct gr_net_cidr subnet;
	json_t *addrs; /* {ip: instance} */
};

struct vhost {
	const char *name;
	uint32_t underlay;
};

static uint32_t host_underlay(const struct vhost *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(h[i].name, name))
			return h[i].underlay;
	return 0;
}

static void fdb_add(struct gr_net_fdb **v, size_t *n, const uint8_t mac[6], uint32_t dst)
{
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].dst == dst && !memcmp((*v)[i].mac, mac, 6))
			return;
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	memcpy((*v)[*n].mac, mac, 6);
	(*v)[*n].dst = dst;
	(*n)++;
}

static void sync_net(struct gr_control *c, const struct vnet *n, uint32_t local,
		     const struct vhost *hosts, size_t nh)
{
	gr_error_t e;
	struct gr_net_vxlan v = { n->name, n->bridge, n->vni, local, n->subnet };
	if (gr_net_vxlan_ensure(&v, NULL, &e) < 0) {
		gr_log_warn("vxlan: %s", e.msg);
		return;
	}
	struct gr_net_fdb *want = NULL;
	size_t nw = 0;
	static const uint8_t zero[6];
	for (size_t i = 0; i < nh; i++)
		if (strcmp(hosts[i].name, c->hostname) && hosts[i].underlay && hosts[i].underlay != local)
			fdb_add(&want, &nw, zero, hosts[i].underlay);
	const char *ip;
	json_t *who;
	json_object_foreach(n->addrs, ip, who) {
		struct gr_instance in;
		if (!json_is_string(who) || gr__inst_get(c, json_string_value(who), &in, NULL) < 0)
			continue;
		uint32_t dst = in.host[0] && strcmp(in.host, c->hostname) ?
				       host_underlay(hosts, nh, in.host) : 0;
		for (unsigned k = 0; dst && dst != local && k < in.n_nics; k++) {
			uint8_t mac[6];
			if (!strcmp(in.nics[k].network, n->name) &&
			    gr_net_mac_parse("mac", in.nics[k].mac, mac, NULL) == 0)
				fdb_add(&want, &nw, mac, dst);
		}
		gr__inst_clear(&in);
	}
	int added, removed;
	if (gr_net_vxlan_fdb_sync(n->vni, want, nw, &added, &removed, &e) < 0)
		gr_log_warn("vxlan: network %s: %s", n->name, e.msg);
	else if (added || removed)
		gr_log_info("vxlan: network %s (VNI %u): %d forwarding entries added, %d removed "
			    "(%zu now)", n->name, n->vni, added, removed, nw);
	free(want);
}

/* vxlan devices (by their alias) of networks that are gone: removed, with
 * their bridge when no network of that name exists any more. */
static void sweep(const struct vnet *nets, size_t nn, char **all_names)
{
	struct gr_nl nl;
	gr_error_t e;
	if (gr_nl_open(&nl, -1, &e) < 0)
		return;
	char **names = NULL, **aliases = NULL;
	if (gr_nl_links_by_alias(&nl, GR_NET_VXLAN_ALIAS, &names, &aliases, &e) == 0) {
		for (size_t i = 0; names[i]; i++) {
			bool keep = false;
			for (size_t k = 0; k < nn && !keep; k++) {
				char dev[16];
				keep = !strcmp(names[i], gr_net_vxlan_dev(nets[k].vni, dev));
			}
			if (keep)
				continue;
			const char *net = aliases[i] + strlen(GR_NET_VXLAN_ALIAS);
			bool named = false;
			for (size_t k = 0; all_names[k] && !named; k++)
				named = !strcmp(all_names[k], net);
			gr_log_info("vxlan: removing %s of network %s (no such vxlan network)", names[i], net);
			if (gr_nl_link_del(&nl, names[i], &e) < 0) {
				gr_log_warn("vxlan: %s", e.msg);
				continue;
			}
			_cleanup_free_ char *bridge = xasprintf("gr-%s", net);
			if (!named && strlen(bridge) < 16 && gr_nl_link_del(&nl, bridge, &e) < 0)
				gr_log_warn("vxlan: %s", e.msg);
		}
	}
	gr_strv_free(names);
	gr_strv_free(aliases);
	gr_nl_close(&nl);
}

static bool warned_no_underlay;

void gr__vxlan_sync(struct gr_control *c)
{
	struct gr_kv_list nl = { 0 }, hl = { 0 };
	gr_error_t e;
	if (gr_store_list(c->store, KEY_NETWORKS, 0, &nl, &e) < 0 ||
	    gr_store_list(c->store, GR_KEY_HOSTS, 0, &hl, &e) < 0) {
		gr_log_warn("vxlan: reading the records: %s", e.msg);
		gr_kv_list_clear(&nl);
		return;
	}
	json_t *docs = json_array();
	struct vnet *nets = xcalloc(nl.n + 1, sizeof *nets);
	char **all_names = xcalloc(nl.n + 1, sizeof *all_names);
	size_t nn = 0, na = 0;
	for (size_t i = 0; i < nl.n; i++) {
		const char *rest = nl.kvs[i].key + strlen(KEY_NETWORKS);
		const char *slash = strchr(rest, '/');
		if (slash) { /* <name>/addresses/<ip>: to the network listed just before */
			if (nn && !strncmp(rest, nets[nn - 1].name, (size_t)(slash - rest)) &&
			    !nets[nn - 1].name[slash - rest] && !strncmp(slash, "/addresses/", 11)) {
				json_t *v = json_loadb(nl.kvs[i].value, nl.kvs[i].value_len, JSON_DECODE_ANY, NULL);
				if (v)
					json_object_set_new(nets[nn - 1].addrs, slash + 11, v);
			}
			continue;
		}
		json_t *d = json_loadb(nl.kvs[i].value, nl.kvs[i].value_len, 0, NULL);
		if (!d)
			continue;
		json_array_append_new(docs, d);
		all_names[na++] = xstrdup(rest);
		const char *type = json_string_value(json_object_get(d, "type"));
		const char *name = json_string_value(json_object_get(d, "name"));
		const char *bridge = json_string_value(json_object_get(d, "bridge"));
		const char *subnet = json_string_value(json_object_get(d, "subnet"));
		json_t *vni = json_object_get(d, "vni");
		struct vnet *n = &nets[nn];
		if (!type || strcmp(type, "vxlan") || !name || !bridge || strlen(bridge) > 15 ||
		    !json_is_integer(vni) || !subnet || gr_net_cidr_parse("subnet", subnet, &n->subnet, NULL) < 0)
			continue;
		n->name = name;
		n->bridge = bridge;
		n->vni = (uint32_t)json_integer_value(vni);
		n->addrs = json_object();
		nn++;
	}
	struct vhost *hosts = xcalloc(hl.n + 1, sizeof *hosts);
	json_t *hdocs = json_array();
	size_t nh = 0;
	for (size_t i = 0; i < hl.n; i++) {
		const char *rest = hl.kvs[i].key + strlen(GR_KEY_HOSTS);
		if (strchr(rest, '/'))
			continue;
		json_t *d = json_loadb(hl.kvs[i].value, hl.kvs[i].value_len, 0, NULL);
		if (!d)
			continue;
		json_array_append_new(hdocs, d);
		const char *name = json_string_value(json_object_get(d, "name"));
		if (!name)
			continue;
		hosts[nh].name = name;
		underlay_of(d, &hosts[nh].underlay);
		nh++;
	}
	pthread_mutex_lock(&sync_lock);
	uint32_t local = 0;
	if (nn && gr__vxlan_local(c, &local, &e) < 0) {
		if (!warned_no_underlay)
			gr_log_warn("vxlan: %s: vxlan networks are not built here", e.msg);
		warned_no_underlay = true;
	}
	for (size_t i = 0; local && i < nn; i++)
		sync_net(c, &nets[i], local, hosts, nh);
	sweep(nets, nn, all_names);
	pthread_mutex_unlock(&sync_lock);
	for (size_t i = 0; i < nn; i++)
		json_decref(nets[i].addrs);
	free(nets);
	free(hosts);
	gr_strv_free(all_names);
	json_decref(docs);
	json_decref(hdocs);
	gr_kv_list_clear(&nl);
	gr_kv_list_clear(&hl);
}

int gr__vxlan_ready(struct gr_control *c, const char *net, gr_error_t *err)
{
	uint32_t local;
	if (gr__vxlan_local(c, &local, err) < 0)
		return gr_error_prefix(err, "network %s is of type vxlan", net);
	gr__vxlan_sync(c);
	return 0;
}
