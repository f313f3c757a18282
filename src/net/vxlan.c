/*
 * vxlan.c - a vxlan network's devices and forwarding entries on one host
 * (docs/NETWORK.md, "VXLAN overlay"):
 *
 *   gr-<net>   bridge, gateway address, the network's anycast MAC, MTU = underlay - 50
 *     ├─ grx<vni>   vxlan device: VNI, local = this host's underlay address,
 *     │             UDP 4789, learning off, no group; alias "gureum-vxlan:<net>"
 *     └─ grvXXXXXXXX  instance veths (attach.c; they take the bridge's MTU)
 *
 * The vxlan device learns nothing: its FDB is written from what control
 * read in the store (all-zero MAC -> every other host, for broadcast and
 * unknown unicast; each remote instance's MAC -> its host), and
 * gr_net_vxlan_fdb_sync makes the device's entries equal that set (adds
 * the missing, deletes the others).  Everything here is idempotent: a
 * daemon restarted after kill -9 calls the same functions and ends in the
 * same state.  rtnetlink only (net-internal.h), no `ip`/`bridge` process.
 */
#include "net/net-internal.h"

#include <errno.h>
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <stdio.h>
#include <string.h>
#include "util/alloc.h"
#include "util/log.h"

char *gr_net_vxlan_dev(uint32_t vni, char *buf)
{
	snprintf(buf, 16, "grx%u", vni);
	return buf;
}

/* ---- link queries ---- */

struct link_ud {
	int index;
	unsigned mtu;
	uint8_t mac[6];
	bool has_mac;
};

static void take_link(struct nlmsghdr *h, void *p)
{
	struct link_ud *ud = p;
	if (h->nlmsg_type != RTM_NEWLINK)
		return;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	ud->index = ifi->ifi_index;
	int len = (int)IFLA_PAYLOAD(h);
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_MTU && RTA_PAYLOAD(a) >= 4)
			memcpy(&ud->mtu, RTA_DATA(a), 4);
		else if (a->rta_type == IFLA_ADDRESS && RTA_PAYLOAD(a) == 6) {
			memcpy(ud->mac, RTA_DATA(a), 6);
			ud->has_mac = true;
		}
	}
}

/* name (or index when name is NULL): ENODEV when absent. */
static int link_get(struct gr_nl *nl, const char *name, int index, struct link_ud *out,
		    gr_error_t *err)
{
	struct msg m;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = name ? 0 : index };
	msg_init(&m, RTM_GETLINK, 0, &ifi, sizeof ifi);
	if (name)
		put_str(&m, IFLA_IFNAME, name);
	memset(out, 0, sizeof *out);
	int r = gr__nl_talk(nl, &m, take_link, out);
	if (r == -ENODEV || (r == 0 && !out->index))
		return gr_error_set(err, ENODEV, "link %s: no such link", name ? name : "?");
	if (r < 0)
		return gr_error_set(err, -r, "link %s: %s", name ? name : "?", strerror(-r));
	return 0;
}

int gr_nl_link_mtu(struct gr_nl *nl, const char *name, unsigned *mtu, gr_error_t *err)
{
	struct link_ud ud;
	if (link_get(nl, name, 0, &ud, err) < 0)
		return -1;
	*mtu = ud.mtu;
	return 0;
}

struct addr_ud {
	uint32_t want; /* network order */
	int index;
};

static void take_addr(struct nlmsghdr *h, void *p)
{
	struct addr_ud *ud = p;
	if (h->nlmsg_type != RTM_NEWADDR)
		return;
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	int len = (int)IFA_PAYLOAD(h);
	for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFA_LOCAL && RTA_PAYLOAD(a) == 4 && !memcmp(RTA_DATA(a), &ud->want, 4))
			ud->index = (int)ifa->ifa_index;
}

int gr_net_underlay(uint32_t local, int *ifindex, unsigned *mtu, gr_error_t *err)
{
	struct gr_nl nl;
	if (gr_nl_open(&nl, -1, err) < 0)
		return -1;
	struct msg m;
	struct ifaddrmsg ifa = { .ifa_family = AF_INET };
	msg_init(&m, RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof ifa);
	struct addr_ud ud = { htonl(local), 0 };
	int r = gr__nl_talk(&nl, &m, take_addr, &ud);
	char a[GR_NET_IP_MAX];
	if (r < 0) {
		gr_error_set(err, -r, "listing addresses: %s", strerror(-r));
	} else if (!ud.index) {
		r = gr_error_set(err, EADDRNOTAVAIL, "underlay address %s: on no link of this host",
				 gr_net_ip_format(local, a));
	} else {
		struct link_ud l;
		r = link_get(&nl, NULL, ud.index, &l, err);
		*ifindex = ud.index;
		*mtu = l.mtu;
	}
	gr_nl_close(&nl);
	return r < 0 ? -1 : 0;
}

/* ---- devices ---- */

/* The bridge's MAC, the same on every host (02:67:72 + the VNI): the
 * gateway address answers with one MAC wherever an instance runs, so its
 * traffic to the gateway stays on its own host (the local bridge owns
 * that MAC) instead of crossing the overlay to whichever host answered
 * an ARP request last. */
static void anycast_mac(uint32_t vni, uint8_t mac[6])
{
	mac[0] = 0x02, mac[1] = 0x67, mac[2] = 0x72;
	mac[3] = (uint8_t)(vni >> 16), mac[4] = (uint8_t)(vni >> 8), mac[5] = (uint8_t)vni;
}

static int set_link(struct gr_nl *nl, int index, const uint8_t *mac, unsigned mtu, int master,
		    const char *alias, const char *what, gr_error_t *err)
{
	struct msg m;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index, .ifi_flags = IFF_UP,
				 .ifi_change = IFF_UP };
	msg_init(&m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
	if (mac)
		put_attr(&m, IFLA_ADDRESS, mac, 6);
	if (mtu)
		put_u32(&m, IFLA_MTU, mtu);
	if (master)
		put_u32(&m, IFLA_MASTER, (uint32_t)master);
	if (alias)
		put_str(&m, IFLA_IFALIAS, alias);
	int r = gr__nl_talk(nl, &m, NULL, NULL);
	if (r < 0)
		return gr_error_set(err, -r, "%s: %s", what, strerror(-r));
	return 0;
}

static int vxlan_add(struct gr_nl *nl, const char *dev, const struct gr_net_vxlan *v, int lower,
		     unsigned mtu, gr_error_t *err)
{
	struct msg m;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
	put_str(&m, IFLA_IFNAME, dev);
	put_u32(&m, IFLA_MTU, mtu);
	size_t li = nest_begin(&m, IFLA_LINKINFO);
	put_str(&m, IFLA_INFO_KIND, "vxlan");
	size_t data = nest_begin(&m, IFLA_INFO_DATA);
	put_u32(&m, IFLA_VXLAN_ID, v->vni);
	uint32_t local = htonl(v->local);
	put_attr(&m, IFLA_VXLAN_LOCAL, &local, 4);
	put_u32(&m, IFLA_VXLAN_LINK, (uint32_t)lower);
	uint16_t port = htons(GR_NET_VXLAN_PORT);
	put_attr(&m, IFLA_VXLAN_PORT, &port, 2);
	uint8_t off = 0;
	put_attr(&m, IFLA_VXLAN_LEARNING, &off, 1);
	nest_end(&m, data);
	nest_end(&m, li);
	int r = gr__nl_talk(nl, &m, NULL, NULL);
	if (r < 0 && r != -EEXIST)
		return gr_error_set(err, -r, "vxlan device %s (VNI %u): %s", dev, v->vni, strerror(-r));
	return 0;
}

int gr_net_vxlan_ensure(const struct gr_net_vxlan *v, unsigned *mtu_out, gr_error_t *err)
{
	int lower;
	unsigned umtu;
	if (gr_net_underlay(v->local, &lower, &umtu, err) < 0)
		return gr_error_prefix(err, "network %s", v->network);
	if (umtu <= GR_NET_VXLAN_OVERHEAD + 68)
		return gr_error_set(err, EINVAL, "network %s: underlay MTU %u is too small for vxlan",
				    v->network, umtu);
	unsigned mtu = umtu - GR_NET_VXLAN_OVERHEAD;
	struct gr_nl nl;
	if (gr_nl_open(&nl, -1, err) < 0)
		return -1;
	char dev[16], alias[128];
	gr_net_vxlan_dev(v->vni, dev);
	snprintf(alias, sizeof alias, GR_NET_VXLAN_ALIAS "%s", v->network);
	uint8_t mac[6];
	anycast_mac(v->vni, mac);
	int r = -1;
	struct link_ud br, vx;
	gr_error_t e;
	if (link_get(&nl, v->bridge, 0, &br, &e) < 0) {
		if (e.code != ENODEV) {
			*err = e;
			goto out;
		}
		if (gr_nl_bridge_add(&nl, v->bridge, &e) < 0 && e.code != EEXIST) {
			*err = e;
			goto out;
		}
		if (link_get(&nl, v->bridge, 0, &br, err) < 0)
			goto out;
	}
	if (vxlan_add(&nl, dev, v, lower, mtu, err) < 0 || link_get(&nl, dev, 0, &vx, err) < 0)
		goto out;
	/* the bridge's MTU first (set, it no longer follows its ports), then
	 * the port under it, then the gateway */
	if (set_link(&nl, br.index, mac, mtu, 0, NULL, v->bridge, err) < 0 ||
	    set_link(&nl, vx.index, NULL, mtu, br.index, alias, dev, err) < 0 ||
	    gr_nl_addr_add(&nl, v->bridge, gr_net_gateway(&v->subnet), v->subnet.prefix, err) < 0)
		goto out;
	if (mtu_out)
		*mtu_out = mtu;
	r = 0;
out:
	gr_nl_close(&nl);
	if (r < 0)
		gr_error_prefix(err, "network %s", v->network);
	return r;
}

int gr_net_vxlan_remove(uint32_t vni, const char *bridge, gr_error_t *err)
{
	struct gr_nl nl;
	if (gr_nl_open(&nl, -1, err) < 0)
		return -1;
	char dev[16];
	int r = gr_nl_link_del(&nl, gr_net_vxlan_dev(vni, dev), err);
	if (r == 0 && bridge)
		r = gr_nl_link_del(&nl, bridge, err);
	gr_nl_close(&nl);
	return r;
}

/* ---- forwarding entries ---- */

struct fdb_ud {
	int index;
	struct gr_net_fdb *e;
	size_t n;
};

static void take_fdb(struct nlmsghdr *h, void *p)
{
	struct fdb_ud *ud = p;
	if (h->nlmsg_type != RTM_NEWNEIGH)
		return;
	struct ndmsg *nd = NLMSG_DATA(h);
	if (nd->ndm_ifindex != ud->index || !(nd->ndm_flags & NTF_SELF))
		return;
	int len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *nd));
	struct gr_net_fdb f = { 0 };
	bool mac = false, dst = false;
	for (struct rtattr *a = (struct rtattr *)((char *)nd + NLMSG_ALIGN(sizeof *nd)); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6) {
			memcpy(f.mac, RTA_DATA(a), 6);
			mac = true;
		} else if (a->rta_type == NDA_DST && RTA_PAYLOAD(a) == 4) {
			uint32_t be;
			memcpy(&be, RTA_DATA(a), 4);
			f.dst = ntohl(be);
			dst = true;
		}
	}
	if (!mac || !dst)
		return;
	ud->e = xrealloc(ud->e, (ud->n + 1) * sizeof *ud->e);
	ud->e[ud->n++] = f;
}

int gr_net_vxlan_fdb_list(uint32_t vni, struct gr_net_fdb **out, size_t *n, gr_error_t *err)
{
	struct gr_nl nl;
	if (gr_nl_open(&nl, -1, err) < 0)
		return -1;
	char dev[16];
	struct link_ud vx;
	int r = link_get(&nl, gr_net_vxlan_dev(vni, dev), 0, &vx, err);
	struct fdb_ud ud = { vx.index, NULL, 0 };
	if (r == 0) {
		struct msg m;
		struct ndmsg nd = { .ndm_family = AF_BRIDGE };
		msg_init(&m, RTM_GETNEIGH, NLM_F_DUMP, &nd, sizeof nd);
		r = gr__nl_talk(&nl, &m, take_fdb, &ud);
		if (r < 0)
			gr_error_set(err, -r, "%s: listing forwarding entries: %s", dev, strerror(-r));
	}
	gr_nl_close(&nl);
	if (r < 0) {
		free(ud.e);
		return -1;
	}
	*out = ud.e;
	*n = ud.n;
	return 0;
}

static int fdb_req(struct gr_nl *nl, int index, bool add, const struct gr_net_fdb *f, gr_error_t *err)
{
	static const uint8_t zero[6];
	bool flood = !memcmp(f->mac, zero, 6);
	struct msg m;
	struct ndmsg nd = { .ndm_family = AF_BRIDGE, .ndm_ifindex = index,
			    .ndm_state = NUD_NOARP | NUD_PERMANENT, .ndm_flags = NTF_SELF };
	/* the all-zero MAC holds one entry per remote host (APPEND); a MAC has
	 * one host (REPLACE: an instance moved) */
	uint16_t flags = add ? (uint16_t)(NLM_F_CREATE | (flood ? NLM_F_APPEND : NLM_F_REPLACE)) : 0;
	msg_init(&m, add ? RTM_NEWNEIGH : RTM_DELNEIGH, flags, &nd, sizeof nd);
	put_attr(&m, NDA_LLADDR, f->mac, 6);
	uint32_t be = htonl(f->dst);
	put_attr(&m, NDA_DST, &be, 4);
	int r = gr__nl_talk(nl, &m, NULL, NULL);
	if (r == -EEXIST || (!add && r == -ENOENT))
		r = 0;
	if (r < 0) {
		char a[GR_NET_IP_MAX];
		return gr_error_set(err, -r, "%s forwarding entry %02x:%02x:%02x:%02x:%02x:%02x -> %s: %s",
				    add ? "adding" : "deleting", f->mac[0], f->mac[1], f->mac[2], f->mac[3],
				    f->mac[4], f->mac[5], gr_net_ip_format(f->dst, a), strerror(-r));
	}
	return 0;
}

static bool fdb_in(const struct gr_net_fdb *f, const struct gr_net_fdb *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].dst == f->dst && !memcmp(set[i].mac, f->mac, 6))
			return true;
	return false;
}

int gr_net_vxlan_fdb_sync(uint32_t vni, const struct gr_net_fdb *want, size_t n, int *added,
			  int *removed, gr_error_t *err)
{
	struct gr_net_fdb *have = NULL;
	size_t nh = 0;
	if (gr_net_vxlan_fdb_list(vni, &have, &nh, err) < 0)
		return -1;
	struct gr_nl nl;
	if (gr_nl_open(&nl, -1, err) < 0) {
		free(have);
		return -1;
	}
	char dev[16];
	struct link_ud vx;
	int r = link_get(&nl, gr_net_vxlan_dev(vni, dev), 0, &vx, err);
	*added = *removed = 0;
	/* deletions first: a MAC whose host changed is replaced either way */
	for (size_t i = 0; r == 0 && i < nh; i++)
		if (!fdb_in(&have[i], want, n)) {
			if ((r = fdb_req(&nl, vx.index, false, &have[i], err)) == 0)
				(*removed)++;
		}
	for (size_t i = 0; r == 0 && i < n; i++)
		if (!fdb_in(&want[i], have, nh)) {
			if ((r = fdb_req(&nl, vx.index, true, &want[i], err)) == 0)
				(*added)++;
		}
	gr_nl_close(&nl);
	free(have);
	return r < 0 ? gr_error_prefix(err, "%s", dev) : 0;
}
