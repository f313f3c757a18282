/*
 * netforward.c - port forwards of a network (docs/NETWORK.md):
 *
 *   /gureum/networks/<net>/forwards/<proto>/<hostport>
 *       {"network","proto","hostport","instance","port","created"}
 *
 * A forward sends proto traffic to hostport on the instance's host to the
 * instance's address on <net>, port.  The record names the instance, not
 * its address: the address is read from the instance's record whenever the
 * NAT table is rebuilt (gr__net_sync), so the rule follows the record and
 * a forward whose instance has no address on the network (or runs on
 * another host of a pool) gives no rule here.  A host port is taken once
 * per protocol over all networks (checked before the compare-absent put of
 * the key; two adds of one port on two networks at the same moment may
 * both pass, an accepted race).  Forwards go with their instance (its
 * delete, gr__net_release), with their network, and by the start-up sweep
 * when their instance has no record.
 */
#include "control/control-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "util/alloc.h"
#include "util/log.h"

#define KEY_NETWORKS "/gureum/networks/"

/* "1".."65535" or a JSON integer in range -> *out; EINVAL naming field. */
static int port_of(const char *field, const json_t *v, unsigned *out, gr_error_t *err)
{
	long long n = -1;
	if (json_is_integer(v))
		n = json_integer_value(v);
	else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		n = *s ? strtoll(s, &end, 10) : -1;
		if (!*s || *end)
			n = -1;
	}
	if (n < 1 || n > 65535)
		return gr_error_set(err, EINVAL, "%s: expected a port number from 1 to 65535", field);
	*out = (unsigned)n;
	return 0;
}

static int network_exists(struct gr_control *c, const char *net, gr_error_t *err)
{
	if (gr_name_valid("network", net, err) < 0)
		return -1;
	_cleanup_free_ char *key = xasprintf(KEY_NETWORKS "%s", net);
	json_t *d = NULL;
	int r = gr_store_get_json(c->store, key, &d, NULL, err);
	json_decref(d);
	if (r < 0)
		return -1;
	if (r == 0)
		return gr_error_set(err, ENOENT, "network: no network named '%s' (see 'gureum network list')", net);
	return 0;
}

/* The document as the API shows it: the record plus "ip" (the instance's
 * address on the network, when it has one). */
static json_t *shown(struct gr_control *c, json_t *doc)
{
	json_t *d = json_deep_copy(doc);
	struct gr_instance in;
	const char *net = json_string_value(json_object_get(doc, "network"));
	if (gr__inst_get(c, json_string_value(json_object_get(doc, "instance")), &in, NULL) == 0) {
		for (unsigned i = 0; i < in.n_nics; i++)
			if (!strcmp(in.nics[i].network, net) && in.nics[i].ip) {
				char a[GR_NET_IP_MAX];
				json_object_set_new(d, "ip", json_string(gr_net_ip_format(in.nics[i].ip, a)));
				break;
			}
		gr__inst_clear(&in);
	}
	return d;
}

int gr_control_network_forward_add(struct gr_control *c, const char *net, json_t *req, json_t **out,
				   gr_error_t *err)
{
	if (network_exists(c, net, err) < 0)
		return -1;
	if (!json_is_object(req))
		return gr_error_set(err, EINVAL, "body: expected a JSON object");
	const char *key;
	json_t *v;
	json_object_foreach(req, key, v)
		if (strcmp(key, "hostport") && strcmp(key, "instance") && strcmp(key, "port") && strcmp(key, "proto"))
			return gr_error_set(err, EINVAL, "%s: unknown field (hostport, instance, port, proto)", key);
	unsigned hostport, port;
	if (port_of("hostport", json_object_get(req, "hostport"), &hostport, err) < 0 ||
	    port_of("port", json_object_get(req, "port"), &port, err) < 0)
		return -1;
	json_t *pv = json_object_get(req, "proto");
	const char *proto = pv ? gr__fwd_proto(json_string_value(pv)) : "tcp";
	if (!proto)
		return gr_error_set(err, EINVAL, "proto: expected \"tcp\" or \"udp\"");
	const char *inst = json_string_value(json_object_get(req, "instance"));
	if (!inst)
		return gr_error_set(err, EINVAL, "instance: required (a string)");
	if (gr_name_valid("instance", inst, err) < 0)
		return -1;
	struct gr_instance in;
	if (gr__inst_get(c, inst, &in, NULL) < 0)
		return gr_error_set(err, ENOENT, "instance: no instance named '%s'", inst);
	bool on_net = false;
	for (unsigned i = 0; i < in.n_nics; i++)
		on_net |= !strcmp(in.nics[i].network, net) && in.nics[i].ip;
	gr__inst_clear(&in);
	if (!on_net)
		return gr_error_set(err, EINVAL, "instance: '%s' has no address on network '%s'", inst, net);
	/* the host port, once per protocol over every network */
	struct fwd_rec *r;
	size_t nr;
	if (gr__fwd_read(c, NULL, &r, &nr, err) < 0)
		return -1;
	for (size_t i = 0; i < nr; i++) {
		const json_t *d = r[i].doc;
		if (strcmp(json_string_value(json_object_get(d, "proto")), proto) ||
		    json_integer_value(json_object_get(d, "hostport")) != hostport)
			continue;
		gr_error_set(err, EEXIST, "hostport: %s %u is taken by the forward of network '%s' to %s:%lld",
			     proto, hostport, json_string_value(json_object_get(d, "network")),
			     json_string_value(json_object_get(d, "instance")),
			     (long long)json_integer_value(json_object_get(d, "port")));
		gr__fwd_free(r, nr);
		return -1;
	}
	gr__fwd_free(r, nr);
	json_t *doc = json_pack("{s:s,s:s,s:I,s:s,s:I,s:I}", "network", net, "proto", proto, "hostport",
				(json_int_t)hostport, "instance", inst, "port", (json_int_t)port, "created",
				(json_int_t)time(NULL));
	_cleanup_free_ char *k = xasprintf(KEY_NETWORKS "%s/forwards/%s/%u", net, proto, hostport);
	int w = gr_store_put_json_if(c->store, k, doc, 0, 0, NULL, err);
	if (w <= 0) {
		json_decref(doc);
		return w < 0 ? -1 : gr_error_set(err, EEXIST, "hostport: %s %u is taken on network '%s'", proto,
						 hostport, net);
	}
	if (gr__net_sync(c, err) < 0) {
		gr_error_t e2;
		gr_store_delete(c->store, k, NULL, &e2);
		json_decref(doc);
		gr__net_sync(c, &e2);
		return gr_error_prefix(err, "forward not added");
	}
	char what[64];
	snprintf(what, sizeof what, "%s %u -> %s:%u", proto, hostport, inst, port);
	gr__event(c, "network-forward-added", net, NULL, what);
	if (out)
		*out = shown(c, doc);
	json_decref(doc);
	return 0;
}

int gr_control_network_forward_list(struct gr_control *c, const char *net, json_t **out, gr_error_t *err)
{
	if (network_exists(c, net, err) < 0)
		return -1;
	struct fwd_rec *r;
	size_t nr;
	if (gr__fwd_read(c, net, &r, &nr, err) < 0)
		return -1;
	json_t *arr = json_array();
	for (size_t i = 0; i < nr; i++)
		json_array_append_new(arr, shown(c, r[i].doc));
	gr__fwd_free(r, nr);
	*out = json_pack("{s:o}", "forwards", arr);
	return 0;
}

int gr_control_network_forward_delete(struct gr_control *c, const char *net, const char *hostport,
				      const char *proto, gr_error_t *err)
{
	if (network_exists(c, net, err) < 0)
		return -1;
	unsigned port;
	json_t *hp = json_string(hostport);
	int r = port_of("hostport", hp, &port, err);
	json_decref(hp);
	if (r < 0)
		return -1;
	if (proto && !gr__fwd_proto(proto))
		return gr_error_set(err, EINVAL, "proto: expected \"tcp\" or \"udp\"");
	int deleted = 0;
	for (int i = 0; i < 2; i++) {
		const char *p = i ? "udp" : "tcp";
		if (proto && strcmp(proto, p))
			continue;
		_cleanup_free_ char *k = xasprintf(KEY_NETWORKS "%s/forwards/%s/%u", net, p, port);
		int d = gr_store_delete(c->store, k, NULL, err);
		if (d < 0)
			return -1;
		deleted += d;
	}
	if (!deleted)
		return gr_error_set(err, ENOENT, "hostport: network '%s' has no %s forward on port %u", net,
				    proto ? proto : "tcp or udp", port);
	char what[32];
	snprintf(what, sizeof what, "%u", port);
	gr__event(c, "network-forward-deleted", net, NULL, what);
	return gr__net_sync(c, err);
}

