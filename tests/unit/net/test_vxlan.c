/*
 * test_vxlan.c - a vxlan network's devices and FDB on the real kernel
 * (net/vxlan.c).  The test moves itself into a new network namespace first
 * (as test_netlink.c does); the underlay is a veth pair with an address
 * there.  No packet is sent.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "net/net.h"
#include "tap.h"
#include "util/alloc.h"

static struct gr_net_fdb entry(const char *mac, const char *dst)
{
	struct gr_net_fdb f;
	gr_net_mac_parse("mac", mac, f.mac, NULL);
	gr_net_ip_parse("dst", dst, &f.dst, NULL);
	return f;
}

int main(void)
{
	gr_error_t err = { 0 };
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		skip("needs root (a private network namespace)");
		return tap_done();
	}
	struct gr_nl nl;
	is_int(gr_nl_open(&nl, -1, &err), 0, "netlink here");
	is_int(gr_nl_veth_add(&nl, "ul0", NULL, NULL, "ul1", -1, NULL, 1500, &err), 0, "underlay pair (%s)", err.msg);
	uint32_t local;
	gr_net_ip_parse("ip", "10.99.0.1", &local, NULL);
	is_int(gr_nl_addr_add(&nl, "ul0", local, 24, &err), 0, "underlay address");
	is_int(gr_nl_link_up(&nl, "ul0", true, 0, &err), 0, "underlay up");
	int idx;
	unsigned mtu = 0;
	is_int(gr_net_underlay(local, &idx, &mtu, &err), 0, "underlay found (%s)", err.msg);
	is_int((int)mtu, 1500, "its MTU");
	uint32_t other;
	gr_net_ip_parse("ip", "10.99.0.9", &other, NULL);
	ok(gr_net_underlay(other, &idx, &mtu, &err) < 0 && err.code == EADDRNOTAVAIL,
	   "an address on no link: EADDRNOTAVAIL (%s)", err.msg);

	char dev[16];
	is_str(gr_net_vxlan_dev(4242, dev), "grx4242", "device name");
	struct gr_net_vxlan v = { "vx", "gr-vx", 4242, local, { 0 } };
	gr_net_cidr_parse("subnet", "10.240.0.0/24", &v.subnet, NULL);
	is_int(gr_net_vxlan_ensure(&v, &mtu, &err), 0, "devices made (%s)", err.msg);
	is_int((int)mtu, 1450, "overlay MTU = underlay - 50");
	is_int(gr_net_vxlan_ensure(&v, &mtu, &err), 0, "made again: idempotent (%s)", err.msg);
	unsigned m = 0;
	is_int(gr_nl_link_mtu(&nl, "gr-vx", &m, &err), 0, "bridge MTU read");
	is_int((int)m, 1450, "bridge MTU");
	is_int(gr_nl_link_mtu(&nl, "grx4242", &m, &err), 0, "vxlan MTU read");
	is_int((int)m, 1450, "vxlan MTU");

	struct gr_net_fdb want[3] = {
		entry("00:00:00:00:00:00", "10.99.0.2"),
		entry("00:00:00:00:00:00", "10.99.0.3"),
		entry("02:aa:bb:cc:dd:01", "10.99.0.2"),
	};
	int added, removed;
	is_int(gr_net_vxlan_fdb_sync(4242, want, 3, &added, &removed, &err), 0, "FDB synced (%s)", err.msg);
	ok(added == 3 && removed == 0, "3 added (%d, %d)", added, removed);
	struct gr_net_fdb *have = NULL;
	size_t n = 0;
	is_int(gr_net_vxlan_fdb_list(4242, &have, &n, &err), 0, "listed");
	is_int((int)n, 3, "3 entries in the kernel");
	free(have);
	is_int(gr_net_vxlan_fdb_sync(4242, want, 3, &added, &removed, &err), 0, "synced again");
	ok(added == 0 && removed == 0, "nothing to do (%d, %d)", added, removed);
	/* the instance moved to 10.99.0.3, host .2 left */
	want[0] = entry("02:aa:bb:cc:dd:01", "10.99.0.3");
	is_int(gr_net_vxlan_fdb_sync(4242, want, 2, &added, &removed, &err), 0, "synced to a new set (%s)", err.msg);
	ok(added == 1 && removed == 2, "1 added, 2 removed (%d, %d)", added, removed);
	is_int(gr_net_vxlan_fdb_list(4242, &have, &n, &err), 0, "listed");
	is_int((int)n, 2, "2 entries now");
	free(have);

	is_int(gr_net_vxlan_remove(4242, "gr-vx", &err), 0, "removed");
	ok(gr_nl_link_index(&nl, "grx4242", &idx, &err) < 0 && gr_nl_link_index(&nl, "gr-vx", &idx, &err) < 0,
	   "both devices gone");
	is_int(gr_net_vxlan_remove(4242, "gr-vx", &err), 0, "absent is fine");
	ok(gr_net_vxlan_fdb_list(4242, &have, &n, &err) < 0 && err.code == ENODEV, "no device: ENODEV");
	gr_nl_close(&nl);
	return tap_done();
}
