/*
 * attach.c - a container NIC's wiring on one host:
 *
 *   bridge <net> (gateway address, up)            host namespace
 *     └─ grvXXXXXXXX (veth host end, alias "gureum:<instance>", up)
 *          ══ eth<i> (MAC, address/prefix, up)    instance namespace file
 *                     + lo up, default route via the gateway (first NIC)
 *
 * The pair is made in one request with its peer already in the instance's
 * namespace, so no half-made pair is ever visible in the host namespace
 * under the peer's name.  The host end's alias names the instance: the
 * start-up sweep finds leaked ends by it.  Removing the host end removes
 * the peer.
 */
#include "net/net.h"
#include "net/net-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/log.h"

char *gr_net_host_if(const char *inst, unsigned index, char *buf)
{
	uint32_t h = 2166136261u; /* FNV-1a of "name/index" */
	for (const char *c = inst; *c; c++)
		h = (h ^ (unsigned char)*c) * 16777619u;
	h = (h ^ '/') * 16777619u;
	h = (h ^ index) * 16777619u;
	snprintf(buf, 16, "grv%08x", h);
	return buf;
}

int gr_net_bridge_ensure(const struct gr_net_nic *nic, gr_error_t *err)
{
	struct gr_nl nl;
	if (gr_nl_open(&nl, -1, err) < 0)
		return -1;
	int index, r = -1;
	gr_error_t e;
	if (gr_nl_link_index(&nl, nic->bridge, &index, &e) < 0) {
		if (e.code != ENODEV) {
			*err = e;
			goto out;
		}
		/* EEXIST: another start made it meanwhile */
		if (gr_nl_bridge_add(&nl, nic->bridge, &e) < 0 && e.code != EEXIST) {
			*err = e;
			goto out;
		}
	}
	if (gr_nl_addr_add(&nl, nic->bridge, gr_net_gateway(&nic->subnet), nic->subnet.prefix, err) < 0 ||
	    gr_nl_link_up(&nl, nic->bridge, true, 0, err) < 0)
		goto out;
	r = 0;
out:
	gr_nl_close(&nl);
	if (r < 0)
		gr_error_prefix(err, "network %s", nic->network);
	return r;
}

int gr_net_bridge_remove(const char *bridge, gr_error_t *err)
{
	struct gr_nl nl;
	if (gr_nl_open(&nl, -1, err) < 0)
		return -1;
	int r = gr_nl_link_del(&nl, bridge, err);
	gr_nl_close(&nl);
	return r;
}

static int inside(int nsfd, unsigned index, const struct gr_net_nic *nic, gr_error_t *err)
{
	struct gr_nl nl;
	if (gr_nl_open(&nl, nsfd, err) < 0)
		return -1;
	char eth[16];
	snprintf(eth, sizeof eth, "eth%u", index);
	int r = -1;
	if (gr_nl_link_up(&nl, "lo", true, 0, err) < 0 ||
	    gr_nl_addr_add(&nl, eth, nic->ip, nic->subnet.prefix, err) < 0 ||
	    gr_nl_link_up(&nl, eth, true, 0, err) < 0)
		goto out;
	if (index == 0 && gr_nl_route_default(&nl, gr_net_gateway(&nic->subnet), err) < 0)
		goto out;
	r = 0;
out:
	gr_nl_close(&nl);
	return r;
}

int gr_net_attach(const char *inst, unsigned index, const struct gr_net_nic *nic,
		  const char *netns_path, gr_error_t *err)
{
	char host_if[16], eth[16], alias[128];
	gr_net_host_if(inst, index, host_if);
	snprintf(eth, sizeof eth, "eth%u", index);
	snprintf(alias, sizeof alias, GR_NET_ALIAS_PREFIX "%s", inst);
	int nsfd = gr_netns_open(netns_path, err);
	if (nsfd < 0)
		return -1;
	struct gr_nl nl;
	if (gr_nl_open(&nl, -1, err) < 0) {
		close(nsfd);
		return -1;
	}
	int r = -1;
	/* a pair left by a start cut short goes first (the netns was kept) */
	if (gr_nl_link_del(&nl, host_if, err) < 0)
		goto out;
	/* no MTU given: the bridge's (a vxlan network's is the underlay's - 50) */
	unsigned mtu = nic->mtu;
	if (!mtu && gr_nl_link_mtu(&nl, nic->bridge, &mtu, err) < 0)
		goto out;
	if (gr_nl_veth_add(&nl, host_if, alias, nic->bridge, eth, nsfd, nic->mac[0] ? nic->mac : NULL, mtu, err) < 0)
		goto out;
	if (gr_nl_link_up(&nl, host_if, true, 0, err) < 0 || inside(nsfd, index, nic, err) < 0) {
		gr_nl_link_del(&nl, host_if, NULL);
		goto out;
	}
	r = 0;
out:
	gr_nl_close(&nl);
	close(nsfd);
	if (r < 0)
		gr_error_prefix(err, "NIC %u of %s on network %s", index, inst, nic->network);
	return r;
}

int gr__net_del_links(const char *inst, unsigned n, char *(*name)(const char *inst, unsigned index, char *buf),
		      gr_error_t *err)
{
	struct gr_nl nl;
	if (gr_nl_open(&nl, -1, err) < 0)
		return -1;
	int r = 0;
	for (unsigned i = 0; i < n; i++) {
		char link[16];
		gr_error_t e;
		if (gr_nl_link_del(&nl, name(inst, i, link), &e) < 0 && r == 0) {
			if (err)
				*err = e;
			r = -1;
		}
	}
	gr_nl_close(&nl);
	return r;
}

int gr_net_detach(const char *inst, unsigned n, gr_error_t *err)
{
	return gr__net_del_links(inst, n, gr_net_host_if, err);
}

int gr_net_sweep_links(bool (*known)(const char *name, void *ud), void *ud)
{
	struct gr_nl nl;
	gr_error_t e;
	if (gr_nl_open(&nl, -1, &e) < 0) {
		gr_log_warn("sweep: %s", e.msg);
		return 0;
	}
	char **names = NULL, **aliases = NULL;
	int removed = 0;
	if (gr_nl_links_by_alias(&nl, GR_NET_ALIAS_PREFIX, &names, &aliases, &e) < 0) {
		gr_log_warn("sweep: %s", e.msg);
		goto out;
	}
	for (size_t i = 0; names[i]; i++) {
		const char *inst = aliases[i] + strlen(GR_NET_ALIAS_PREFIX);
		if (known(inst, ud))
			continue;
		gr_log_info("sweep: removing link %s of %s (no record)", names[i], inst);
		if (gr_nl_link_del(&nl, names[i], &e) < 0)
			gr_log_warn("sweep: %s", e.msg);
		else
			removed++;
	}
out:
	gr_strv_free(names);
	gr_strv_free(aliases);
	gr_nl_close(&nl);
	return removed;
}
