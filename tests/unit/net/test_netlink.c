/*
 * test_netlink.c - the rtnetlink helpers, namespace files and a container
 * NIC's wiring on the real kernel.  The test first moves itself into a new
 * network namespace (unshare, while single-threaded), so every link it
 * makes lives there and the host's namespace is never touched; the
 * instance namespaces are files under a temporary folder.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "net/net.h"
#include "tap.h"
#include "util/alloc.h"
#include "util/fs.h"

static bool known_none(const char *name, void *ud)
{
	return ud && !strcmp(name, ud);
}

int main(void)
{
	gr_error_t err;
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		skip("needs root (a private network namespace)");
		return tap_done();
	}
	char tmpl[] = "/tmp/gr-test-net-XXXXXX";
	char *dir = mkdtemp(tmpl);
	ok(dir != NULL, "temporary folder");
	_cleanup_free_ char *ns1 = xasprintf("%s/ns1", dir), *ns2 = xasprintf("%s/ns2", dir);

	is_int(gr_netns_create(ns1, &err), 0, "a namespace file (%s)", err.msg);
	is_int(gr_netns_create(ns1, &err), 0, "made again: kept");
	int fd1 = gr_netns_open(ns1, &err);
	ok(fd1 >= 0, "opened");
	struct gr_nl nl, in1;
	is_int(gr_nl_open(&nl, -1, &err), 0, "netlink here");
	is_int(gr_nl_open(&in1, fd1, &err), 0, "netlink in the namespace file's namespace");
	int idx;
	is_int(gr_nl_link_index(&in1, "lo", &idx, &err), 0, "lo is there");
	ok(gr_nl_link_index(&in1, "nope0", &idx, &err) < 0 && err.code == ENODEV, "absent link: ENODEV");

	/* bridge */
	is_int(gr_nl_bridge_add(&nl, "gr-t0", &err), 0, "bridge (%s)", err.msg);
	ok(gr_nl_bridge_add(&nl, "gr-t0", &err) < 0 && err.code == EEXIST, "again: EEXIST");
	ok(gr_nl_bridge_add(&nl, "a-name-far-too-long", &err) < 0 && err.code == EINVAL,
	   "a name over 15 bytes refused");
	ok(gr_nl_link_index(&in1, "gr-t0", &idx, &err) < 0, "the bridge is not in the other namespace");

	/* a NIC, as a container start makes it */
	struct gr_net_nic nic = { .network = "t0", .bridge = "gr-t1", .mac = "02:11:22:33:44:55" };
	gr_net_cidr_parse("subnet", "10.77.0.0/24", &nic.subnet, NULL);
	gr_net_ip_parse("ip", "10.77.0.2", &nic.ip, NULL);
	is_int(gr_net_bridge_ensure(&nic, &err), 0, "bridge ensured (%s)", err.msg);
	is_int(gr_net_bridge_ensure(&nic, &err), 0, "twice is fine");
	is_int(gr_net_attach("web1", 0, &nic, ns1, &err), 0, "NIC attached (%s)", err.msg);
	is_int(gr_net_attach("web1", 0, &nic, ns1, &err), 0, "attached again (a restart): replaced (%s)",
	       err.msg);
	char host_if[16];
	gr_net_host_if("web1", 0, host_if);
	is_int(gr_nl_link_index(&nl, host_if, &idx, &err), 0, "host end %s here", host_if);
	is_int(gr_nl_link_index(&in1, "eth0", &idx, &err), 0, "eth0 in the instance namespace");
	ok(gr_nl_link_index(&nl, "eth0", &idx, &err) < 0, "no eth0 here");
	char **names = NULL, **aliases = NULL;
	is_int(gr_nl_links_by_alias(&nl, GR_NET_ALIAS_PREFIX, &names, &aliases, &err), 0, "links by alias");
	ok(names[0] && !strcmp(names[0], host_if) && !strcmp(aliases[0], "gureum:web1") && !names[1],
	   "the host end carries the instance's alias");
	gr_strv_free(names);
	gr_strv_free(aliases);
	/* a second instance: the first can reach it (checked by a ping in the
	 * integration tests); here: it is on the same bridge */
	is_int(gr_netns_create(ns2, &err), 0, "second namespace");
	nic.mac[0] = '\0';
	gr_net_ip_parse("ip", "10.77.0.3", &nic.ip, NULL);
	is_int(gr_net_attach("web2", 0, &nic, ns2, &err), 0, "second NIC (%s)", err.msg);
	ok(gr_net_attach("web3", 0, &nic, "/nonexistent/ns", &err) < 0 && err.code == ENOENT,
	   "attach to a missing namespace: ENOENT (%s)", err.msg);

	/* sweep: web2 is known, web1 is not */
	is_int(gr_net_sweep_links(known_none, "web2"), 1, "sweep removed the unknown instance's link");
	ok(gr_nl_link_index(&nl, host_if, &idx, &err) < 0, "the host end is gone");
	ok(gr_nl_link_index(&in1, "eth0", &idx, &err) < 0, "and its peer with it");
	is_int(gr_net_detach("web2", 1, &err), 0, "detach");
	is_int(gr_net_detach("web2", 1, &err), 0, "detach again: nothing left is fine");
	is_int(gr_nl_link_del(&nl, "gr-t0", &err), 0, "bridge deleted");
	is_int(gr_nl_link_del(&nl, "gr-t0", &err), 0, "absent: fine");
	gr_nl_link_del(&nl, "gr-t1", NULL);

	/* a VM's tap: on the bridge, alias naming the instance, swept like a veth */
	is_int(gr_net_bridge_ensure(&nic, &err), 0, "bridge again for the tap");
	char tap[16];
	gr_net_tap_name("vm1", 0, tap);
	ok(!strncmp(tap, "grt", 3) && strlen(tap) == 11, "tap name %s", tap);
	if (access("/dev/net/tun", R_OK | W_OK) == 0) {
		is_int(gr_net_tap_attach("vm1", 0, &nic, &err), 0, "tap attached (%s)", err.msg);
		is_int(gr_net_tap_attach("vm1", 0, &nic, &err), 0, "attached again (a restart): replaced (%s)",
		       err.msg);
		char **names = NULL, **aliases = NULL;
		ok(gr_nl_links_by_alias(&nl, GR_NET_ALIAS_PREFIX, &names, &aliases, &err) == 0 && names[0] &&
			   !strcmp(names[0], tap) && !strcmp(aliases[0], "gureum:vm1") && !names[1],
		   "the tap carries the alias gureum:vm1");
		gr_strv_free(names);
		gr_strv_free(aliases);
		is_int(gr_net_sweep_links(known_none, "web2"), 1, "sweep removed the unknown VM's tap");
		ok(gr_nl_link_index(&nl, tap, &idx, &err) < 0, "the tap is gone");
		is_int(gr_net_tap_attach("vm1", 0, &nic, &err), 0, "tap made again");
		is_int(gr_net_tap_detach("vm1", 1, &err), 0, "detach");
		ok(gr_nl_link_index(&nl, tap, &idx, &err) < 0, "the tap is gone after detach");
		is_int(gr_net_tap_detach("vm1", 1, &err), 0, "detach again: nothing left is fine");
	} else {
		skip("no /dev/net/tun");
	}
	gr_nl_link_del(&nl, "gr-t0", NULL);

	/* plain veth and namespace moves */
	is_int(gr_nl_veth_add(&nl, "grt-a", NULL, NULL, "grt-b", -1, NULL, 1400, &err), 0, "veth here");
	is_int(gr_nl_link_netns(&nl, "grt-b", fd1, &err), 0, "peer moved by fd");
	is_int(gr_nl_link_index(&in1, "grt-b", &idx, &err), 0, "and found there");
	is_int(gr_nl_addr_add(&in1, "grt-b", 0x0a580001, 24, &err), 0, "address inside");
	is_int(gr_nl_link_up(&in1, "grt-b", true, 1300, &err), 0, "up with an MTU inside");
	is_int(gr_nl_route_default(&in1, 0x0a5800fe, &err), 0, "default route inside (%s)", err.msg);
	is_int(gr_nl_link_del(&nl, "grt-a", &err), 0, "pair deleted");

	gr_nl_close(&in1);
	gr_nl_close(&nl);
	close(fd1);
	is_int(gr_netns_remove(ns1, &err), 0, "namespace file removed");
	is_int(gr_netns_remove(ns1, &err), 0, "twice: fine");
	ok(access(ns1, F_OK) < 0, "file gone");
	ok(gr_netns_open(ns1, &err) < 0 && err.code == ENOENT, "open after remove: ENOENT");
	gr_netns_remove(ns2, NULL);
	rmdir(dir);
	return tap_done();
}
