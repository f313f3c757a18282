/*
 * vlan.c - what a VLAN network needs of the kernel: 802.1Q devices
 * (CONFIG_VLAN_8021Q) and VLAN filtering on bridges
 * (CONFIG_BRIDGE_VLAN_FILTERING).  gr_net_vlan_support probes both once per
 * process in the caller's namespace with two short-lived links (a bridge
 * "grvlp<pid>" switched to VLAN filtering, and a vlan device on it), both
 * removed before it returns, and says in words what is missing.  Nothing
 * else is built here: VLAN networks are refused on a kernel without them
 * (docs/NETWORK.md "VLAN").
 */
#include "net/net.h"
#include "net/net-internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int probed_filtering, probed_8021q; /* 1 yes, 0 no, -errno unknown */

static int set_filtering(struct gr_nl *nl, int index)
{
	struct msg m;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = index };
	msg_init(&m, RTM_NEWLINK, 0, &ifi, sizeof ifi);
	size_t li = nest_begin(&m, IFLA_LINKINFO);
	put_str(&m, IFLA_INFO_KIND, "bridge");
	size_t data = nest_begin(&m, IFLA_INFO_DATA);
	uint8_t on = 1;
	put_attr(&m, IFLA_BR_VLAN_FILTERING, &on, 1);
	nest_end(&m, data);
	nest_end(&m, li);
	return gr__nl_talk(nl, &m, NULL, NULL);
}

static int add_vlan(struct gr_nl *nl, const char *name, int parent, uint16_t id)
{
	struct msg m;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	msg_init(&m, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
	put_str(&m, IFLA_IFNAME, name);
	put_u32(&m, IFLA_LINK, (uint32_t)parent);
	size_t li = nest_begin(&m, IFLA_LINKINFO);
	put_str(&m, IFLA_INFO_KIND, "vlan");
	size_t data = nest_begin(&m, IFLA_INFO_DATA);
	put_attr(&m, IFLA_VLAN_ID, &id, 2);
	nest_end(&m, data);
	nest_end(&m, li);
	return gr__nl_talk(nl, &m, NULL, NULL);
}

static void probe(void)
{
	probed_filtering = probed_8021q = -EIO;
	struct gr_nl nl;
	if (gr_nl_open(&nl, -1, NULL) < 0)
		return;
	char br[16], vl[16];
	snprintf(br, sizeof br, "grvlp%08x", (unsigned)getpid());
	snprintf(vl, sizeof vl, "grvlq%08x", (unsigned)getpid());
	int index;
	if (gr_nl_bridge_add(&nl, br, NULL) < 0 || gr_nl_link_index(&nl, br, &index, NULL) < 0)
		goto out;
	int r = set_filtering(&nl, index);
	probed_filtering = r == 0 ? 1 : r == -EOPNOTSUPP ? 0 : r;
	r = add_vlan(&nl, vl, index, 1);
	probed_8021q = r == 0 ? 1 : r == -EOPNOTSUPP ? 0 : r;
	gr_nl_link_del(&nl, vl, NULL);
out:
	gr_nl_link_del(&nl, br, NULL);
	gr_nl_close(&nl);
}

int gr_net_vlan_support(gr_error_t *err)
{
	pthread_once(&once, probe);
	if (probed_filtering == 1 && probed_8021q == 1)
		return 0;
	char what[160] = "";
	if (probed_8021q == 0)
		snprintf(what, sizeof what, "802.1Q devices (CONFIG_VLAN_8021Q, module 8021q)");
	if (probed_filtering == 0)
		snprintf(what + strlen(what), sizeof what - strlen(what), "%sbridge VLAN filtering "
			 "(CONFIG_BRIDGE_VLAN_FILTERING)", *what ? " and " : "");
	if (*what)
		return gr_error_set(err, EOPNOTSUPP, "this host's kernel has no %s", what);
	int e = probed_8021q < 0 ? -probed_8021q : -probed_filtering;
	return gr_error_set(err, e, "probing VLAN support: %s", strerror(e));
}
