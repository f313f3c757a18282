/*
 * netlink.c - rtnetlink requests written directly on a NETLINK_ROUTE
 * socket: links (bridge, veth pair, up/MTU, namespace), IPv4 addresses and
 * the default route.  No `ip` subprocess: a NIC costs a handful of
 * syscalls on the launch path.
 *
 * Each request is one message built in a stack buffer (attributes appended
 * with put_attr, nests opened and closed by offset), sent with NLM_F_ACK and
 * answered by an NLMSG_ERROR whose code becomes the result.  A socket acts
 * in the namespace it was opened in (gr_nl_open), whichever thread uses it.
 */
#include "net/net.h"

#include <errno.h>
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "net/net-internal.h"
#include "util/alloc.h"

/* Send m and read the answer: 0 on an ack, -errno from the kernel otherwise.
 * fn (may be NULL) sees each non-error reply message (a dump's parts). */
static int talk(struct gr_nl *nl, struct msg *m, void (*fn)(struct nlmsghdr *h, void *ud),
		void *ud)
{
	m->h.nlmsg_seq = ++nl->seq;
	m->h.nlmsg_flags |= NLM_F_ACK;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (sendto(nl->fd, m->buf, m->h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) < 0)
		return -errno;
	static _Thread_local char rbuf[32768];
	for (;;) {
		ssize_t n = recv(nl->fd, rbuf, sizeof rbuf, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != nl->seq)
				continue; /* a late answer to an earlier request */
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				return e->error;
			}
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (fn)
				fn(h, ud);
		}
	}
}

struct open_arg {
	int netns_fd, fd, err;
};

static int nl_socket(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -1;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1;
	/* extended acks would only lengthen answers we do not parse */
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void *open_in_ns(void *p)
{
	struct open_arg *a = p;
	if (setns(a->netns_fd, CLONE_NEWNET) < 0) {
		a->err = errno;
		return NULL;
	}
	a->fd = nl_socket();
	if (a->fd < 0)
		a->err = errno;
	return NULL; /* the thread ends: no daemon thread stays in the namespace */
}

int gr_nl_open(struct gr_nl *nl, int netns_fd, gr_error_t *err)
{
	nl->seq = 0;
	if (netns_fd < 0) {
		nl->fd = nl_socket();
		return nl->fd < 0 ? gr_error_sys(err, "netlink socket") : 0;
	}
	struct open_arg a = { netns_fd, -1, 0 };
	pthread_t t;
	int r = pthread_create(&t, NULL, open_in_ns, &a);
	if (r)
		return gr_error_set(err, r, "netlink: thread: %s", strerror(r));
	pthread_join(t, NULL);
	if (a.fd < 0)
		return gr_error_set(err, a.err, "netlink socket in a namespace: %s", strerror(a.err));
	nl->fd = a.fd;
	return 0;
}

void gr_nl_close(struct gr_nl *nl)
{
	if (nl->fd >= 0)
		close(nl->fd);
	nl->fd = -1;
}

struct index_ud {
	int index;
};

static void take_index(struct nlmsghdr *h, void *ud)
{
	if (h->nlmsg_type == RTM_NEWLINK)
		((struct index_ud *)ud)->index = ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
}

static int check_name(const char *name, gr_error_t *err)
{
	if (!name[0] || strlen(name) >= IFNAMSIZ)
		return gr_error_set(err, EINVAL, "link name '%s': 1..%d characters", name, IFNAMSIZ - 1);
	return 0;
}

int gr_nl_link_index(struct gr_nl *nl, const char *name, int *index, gr_error_t *err)
{
	if (check_name(name, err) < 0)
		return -1;
	struct msg m;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	msg_init(&m, RTM_GETLINK, 0, &ifi, sizeof ifi);
	put_str(&m, IFLA_IFNAME, name);
	struct index_ud ud = { 0 };
	int r = talk(nl, &m, take_index, &ud);
	if (r == -ENODEV || (r == 0 && !ud.index))
		return gr_error_set(err, ENODEV, "link %s: no such link", name);
	if (r < 0)
		return gr_error_set(err, -r, "link %s: %s", name, strerror(-r));
	*index = ud.index;
	return 0;
}

int gr_nl_bridge_add(struct gr_nl *nl, const char *name, gr_error_t *err)
{
	if (check_name(name, err) < 0)
		return -1;
	struct msg m;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
	put_str(&m, IFLA_IFNAME, name);
	size_t li = nest_begin(&m, IFLA_LINKINFO);
	put_str(&m, IFLA_INFO_KIND, "bridge");
	nest_end(&m, li);
	int r = talk(nl, &m, NULL, NULL);
	if (r < 0)
		return gr_error_set(err, -r, "bridge %s: %s", name, strerror(-r));
	return 0;
}

int gr_nl_veth_add(struct gr_nl *nl, const char *host_if, const char *alias, const char *master,
		   const char *peer_if, int peer_netns_fd, const char *peer_mac, unsigned mtu,
		   gr_error_t *err)
{
	if (check_name(host_if, err) < 0 || check_name(peer_if, err) < 0)
		return -1;
	uint8_t mac[6];
	if (peer_mac && gr_net_mac_parse("mac", peer_mac, mac, err) < 0)
		return -1;
	int master_index = 0;
	if (master && gr_nl_link_index(nl, master, &master_index, err) < 0)
		return -1;
	struct msg m;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
	put_str(&m, IFLA_IFNAME, host_if);
	if (mtu)
		put_u32(&m, IFLA_MTU, mtu);
	if (master_index)
		put_u32(&m, IFLA_MASTER, (uint32_t)master_index);
	size_t li = nest_begin(&m, IFLA_LINKINFO);
	put_str(&m, IFLA_INFO_KIND, "veth");
	size_t data = nest_begin(&m, IFLA_INFO_DATA);
	size_t peer = nest_begin(&m, VETH_INFO_PEER);
	/* the peer's attributes follow its own ifinfomsg */
	struct ifinfomsg pifi = { .ifi_family = AF_UNSPEC };
	memcpy(tail(&m), &pifi, sizeof pifi);
	m.h.nlmsg_len = NLMSG_ALIGN(m.h.nlmsg_len) + (uint32_t)NLMSG_ALIGN(sizeof pifi);
	put_str(&m, IFLA_IFNAME, peer_if);
	if (peer_netns_fd >= 0)
		put_u32(&m, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
	if (peer_mac)
		put_attr(&m, IFLA_ADDRESS, mac, sizeof mac);
	if (mtu)
		put_u32(&m, IFLA_MTU, mtu);
	nest_end(&m, peer);
	nest_end(&m, data);
	nest_end(&m, li);
	int r = talk(nl, &m, NULL, NULL);
	if (r < 0)
		return gr_error_set(err, -r, "veth %s: %s", host_if, strerror(-r));
	if (alias) {
		/* the alias is set after creation: newlink ignores IFLA_IFALIAS */
		int index;
		if (gr_nl_link_index(nl, host_if, &index, err) < 0)
			goto undo;
		struct ifinfomsg si = { .ifi_family = AF_UNSPEC, .ifi_index = index };
		msg_init(&m, RTM_NEWLINK, 0, &si, sizeof si);
		put_str(&m, IFLA_IFALIAS, alias);
		if ((r = talk(nl, &m, NULL, NULL)) < 0) {
			gr_error_set(err, -r, "veth %s: alias: %s", host_if, strerror(-r));
			goto undo;
		}
	}
	return 0;
undo:
	gr_nl_link_del(nl, host_if, NULL);
	return -1;
}

int gr_nl_link_del(struct gr_nl *nl, const char *name, gr_error_t *err)
{
	if (check_name(name, err) < 0)
		return -1;
	struct msg m;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	msg_init(&m, RTM_DELLINK, 0, &ifi, sizeof ifi);
	put_str(&m, IFLA_IFNAME, name);
	int r = talk(nl, &m, NULL, NULL);
	if (r < 0 && r != -ENODEV)
		return gr_error_set(err, -r, "deleting link %s: %s", name, strerror(-r));
	return 0;
}

static int link_set(struct gr_nl *nl, const char *name, struct msg *m, const char *what,
		    gr_error_t *err)
{
	int r = talk(nl, m, NULL, NULL);
	if (r < 0)
		return gr_error_set(err, -r, "link %s: %s: %s", name, what, strerror(-r));
	return 0;
}

int gr_nl_link_up(struct gr_nl *nl, const char *name, bool up, unsigned mtu, gr_error_t *err)
{
	int index;
	if (gr_nl_link_index(nl, name, &index, err) < 0)
		return -1;
	struct msg m;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index,
				 .ifi_flags = up ? IFF_UP : 0, .ifi_change = IFF_UP };
	msg_init(&m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
	if (mtu)
		put_u32(&m, IFLA_MTU, mtu);
	return link_set(nl, name, &m, up ? "up" : "down", err);
}

int gr_nl_link_master(struct gr_nl *nl, const char *name, const char *master, const char *alias,
		      gr_error_t *err)
{
	int index, master_index = 0;
	if (gr_nl_link_index(nl, name, &index, err) < 0 ||
	    (master && gr_nl_link_index(nl, master, &master_index, err) < 0))
		return -1;
	struct msg m;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index };
	msg_init(&m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
	if (master_index)
		put_u32(&m, IFLA_MASTER, (uint32_t)master_index);
	if (alias)
		put_str(&m, IFLA_IFALIAS, alias);
	return link_set(nl, name, &m, "master and alias", err);
}

int gr_nl_link_netns(struct gr_nl *nl, const char *name, int netns_fd, gr_error_t *err)
{
	int index;
	if (gr_nl_link_index(nl, name, &index, err) < 0)
		return -1;
	struct msg m;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index };
	msg_init(&m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
	put_u32(&m, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	return link_set(nl, name, &m, "moving to a namespace", err);
}

int gr_nl_addr_add(struct gr_nl *nl, const char *name, uint32_t ip, int prefix, gr_error_t *err)
{
	int index;
	if (gr_nl_link_index(nl, name, &index, err) < 0)
		return -1;
	struct msg m;
	struct ifaddrmsg ifa = { .ifa_family = AF_INET, .ifa_prefixlen = (unsigned char)prefix,
				 .ifa_index = (uint32_t)index };
	msg_init(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, &ifa, sizeof ifa);
	uint32_t be = htonl(ip);
	put_attr(&m, IFA_LOCAL, &be, sizeof be);
	put_attr(&m, IFA_ADDRESS, &be, sizeof be);
	uint32_t bc = htonl(ip | (prefix ? ~(~0u << (32 - prefix)) : ~0u));
	put_attr(&m, IFA_BROADCAST, &bc, sizeof bc);
	int r = talk(nl, &m, NULL, NULL);
	if (r < 0 && r != -EEXIST) {
		char a[GR_NET_IP_MAX];
		return gr_error_set(err, -r, "link %s: address %s/%d: %s", name,
				    gr_net_ip_format(ip, a), prefix, strerror(-r));
	}
	return 0;
}

int gr_nl_route_default(struct gr_nl *nl, uint32_t gw, gr_error_t *err)
{
	struct msg m;
	struct rtmsg rt = { .rtm_family = AF_INET, .rtm_table = RT_TABLE_MAIN,
			    .rtm_protocol = RTPROT_BOOT, .rtm_scope = RT_SCOPE_UNIVERSE,
			    .rtm_type = RTN_UNICAST };
	msg_init(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, &rt, sizeof rt);
	uint32_t be = htonl(gw);
	put_attr(&m, RTA_GATEWAY, &be, sizeof be);
	int r = talk(nl, &m, NULL, NULL);
	if (r < 0) {
		char a[GR_NET_IP_MAX];
		return gr_error_set(err, -r, "default route via %s: %s", gr_net_ip_format(gw, a),
				    strerror(-r));
	}
	return 0;
}

struct alias_ud {
	const char *prefix;
	char **names, **aliases;
	size_t n;
};

static void take_alias(struct nlmsghdr *h, void *p)
{
	struct alias_ud *ud = p;
	if (h->nlmsg_type != RTM_NEWLINK)
		return;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)IFLA_PAYLOAD(h);
	const char *name = NULL, *alias = NULL;
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME)
			name = RTA_DATA(a);
		else if (a->rta_type == IFLA_IFALIAS)
			alias = RTA_DATA(a);
	}
	if (!name || !alias || strncmp(alias, ud->prefix, strlen(ud->prefix)))
		return;
	ud->names = xrealloc(ud->names, (ud->n + 2) * sizeof *ud->names);
	ud->aliases = xrealloc(ud->aliases, (ud->n + 2) * sizeof *ud->aliases);
	ud->names[ud->n] = xstrdup(name);
	ud->aliases[ud->n] = xstrdup(alias);
	ud->n++;
	ud->names[ud->n] = ud->aliases[ud->n] = NULL;
}

int gr_nl_links_by_alias(struct gr_nl *nl, const char *prefix, char ***names, char ***aliases,
			 gr_error_t *err)
{
	struct msg m;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	msg_init(&m, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof ifi);
	struct alias_ud ud = { prefix, xcalloc(1, sizeof(char *)), xcalloc(1, sizeof(char *)), 0 };
	int r = talk(nl, &m, take_alias, &ud);
	if (r < 0) {
		gr_strv_free(ud.names);
		gr_strv_free(ud.aliases);
		return gr_error_set(err, -r, "listing links: %s", strerror(-r));
	}
	*names = ud.names;
	*aliases = ud.aliases;
	return 0;
}

int gr__nl_talk(struct gr_nl *nl, struct msg *m, void (*fn)(struct nlmsghdr *h, void *ud), void *ud)
{
	return talk(nl, m, fn, ud);
}
