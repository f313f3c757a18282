/*
 * stats.c - the traffic counters of this namespace's links, read in one
 * RTM_GETLINK dump (IFLA_STATS64), for the per-NIC metrics.  Netlink, not
 * /sys/class/net: sysfs shows the namespace it was mounted in, which need
 * not be the daemon's.
 */
#include "net/net.h"
#include "net/net-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include "util/alloc.h"

struct dump {
	struct gr_net_link_stats *v;
	size_t n, cap;
};

static void take(struct nlmsghdr *h, void *p)
{
	struct dump *d = p;
	if (h->nlmsg_type != RTM_NEWLINK)
		return;
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)IFLA_PAYLOAD(h);
	struct gr_net_link_stats s = { 0 };
	bool named = false, counted = false;
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_IFNAME && RTA_PAYLOAD(a) <= sizeof s.name) {
			snprintf(s.name, sizeof s.name, "%s", (const char *)RTA_DATA(a));
			named = true;
		} else if (a->rta_type == IFLA_STATS64 && RTA_PAYLOAD(a) >= sizeof(struct rtnl_link_stats64)) {
			struct rtnl_link_stats64 st;
			memcpy(&st, RTA_DATA(a), sizeof st);
			s.rx_bytes = st.rx_bytes;
			s.tx_bytes = st.tx_bytes;
			s.rx_packets = st.rx_packets;
			s.tx_packets = st.tx_packets;
			counted = true;
		}
	}
	if (!named || !counted)
		return;
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 32;
		d->v = xrealloc(d->v, d->cap * sizeof *d->v);
	}
	d->v[d->n++] = s;
}

int gr_net_link_stats(struct gr_net_link_stats **out, size_t *n, gr_error_t *err)
{
	struct gr_nl nl;
	if (gr_nl_open(&nl, -1, err) < 0)
		return -1;
	struct msg m;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	msg_init(&m, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof ifi);
	struct dump d = { 0 };
	int r = gr__nl_talk(&nl, &m, take, &d);
	gr_nl_close(&nl);
	if (r < 0) {
		free(d.v);
		return gr_error_set(err, -r, "listing links: %s", strerror(-r));
	}
	*out = d.v;
	*n = d.n;
	return 0;
}

const struct gr_net_link_stats *gr_net_link_stats_find(const struct gr_net_link_stats *v, size_t n,
							const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return &v[i];
	return NULL;
}
