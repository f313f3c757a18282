/*
 * tap.c - a VM's NIC on one host:
 *
 *   bridge <net> (gateway address, up)            host namespace
 *     └─ grtXXXXXXXX (persistent tap, alias "gureum:<instance>", up)
 *          ══ QEMU virtio-net (the instance's MAC)  opened by name (ifname=)
 *
 * The tap is made persistent (TUNSETPERSIST) by the daemon before QEMU
 * starts, so it exists whether or not QEMU runs, and QEMU (still root when
 * it opens its netdevs, before -runas) attaches to it by name.  Its alias
 * names the instance, so the start-up sweep removes the taps of instances
 * with no record like the container veths; stop, cleanup and delete remove
 * it.  The name shares the veth's hash, with "grt" for "grv".
 */
#include "net/net.h"
#include "net/net-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "util/alloc.h"

char *gr_net_tap_name(const char *inst, unsigned index, char *buf)
{
	gr_net_host_if(inst, index, buf);
	buf[2] = 't';
	return buf;
}

/* A persistent tap named name (an existing one is kept). */
static int tap_make(const char *name, gr_error_t *err)
{
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return gr_error_sys(err, "tap %s: /dev/net/tun", name);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	/* the flags QEMU's tap backend asks for, so its TUNSETIFF matches */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETPERSIST, 1) < 0) {
		gr_error_sys(err, "tap %s", name);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

int gr_net_tap_attach(const char *inst, unsigned index, const struct gr_net_nic *nic, gr_error_t *err)
{
	char tap[16], alias[128];
	gr_net_tap_name(inst, index, tap);
	snprintf(alias, sizeof alias, GR_NET_ALIAS_PREFIX "%s", inst);
	struct gr_nl nl;
	if (gr_nl_open(&nl, -1, err) < 0)
		return -1;
	int r = -1;
	/* a tap left by a start cut short goes first: a fresh one, known flags */
	if (gr_nl_link_del(&nl, tap, err) < 0 || tap_make(tap, err) < 0)
		goto out;
	if (gr_nl_link_master(&nl, tap, nic->bridge, alias, err) < 0 ||
	    gr_nl_link_up(&nl, tap, true, nic->mtu, err) < 0) {
		gr_nl_link_del(&nl, tap, NULL);
		goto out;
	}
	r = 0;
out:
	gr_nl_close(&nl);
	if (r < 0)
		gr_error_prefix(err, "NIC %u of %s on network %s", index, inst, nic->network);
	return r;
}

int gr_net_tap_detach(const char *inst, unsigned n, gr_error_t *err)
{
	return gr__net_del_links(inst, n, gr_net_tap_name, err);
}
