/*
 * test_ipam.c - the pure address management of src/net/ipam.c: parsing
 * addresses, subnets and MACs (bad input named), membership, overlap, the
 * gateway, which addresses may be given, and the next free address.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "net/net.h"
#include "tap.h"

static struct gr_net_cidr cidr(const char *s)
{
	struct gr_net_cidr c = { 0, 0 };
	gr_net_cidr_parse("subnet", s, &c, NULL);
	return c;
}

static uint32_t ip(const char *s)
{
	uint32_t v = 0;
	gr_net_ip_parse("ip", s, &v, NULL);
	return v;
}

int main(void)
{
	gr_error_t err;
	char buf[GR_NET_CIDR_MAX];
	uint32_t v;

	/* addresses */
	is_int(gr_net_ip_parse("ip", "10.1.2.3", &v, &err), 0, "an address parses");
	is_int(v, 0x0a010203, "to host byte order");
	is_str(gr_net_ip_format(v, buf), "10.1.2.3", "and formats back");
	const char *bad_ips[] = { "", "10.1.2", "10.1.2.3.4", "256.1.1.1", "1.2.3.x", "01.2.3.4",
				  "1..2.3", " 1.2.3.4", "1.2.3.4 ", "1.2.3.-4", NULL };
	for (int i = 0; bad_ips[i]; i++) {
		int r = gr_net_ip_parse("ip", bad_ips[i], &v, &err);
		ok(r < 0 && err.code == EINVAL && strstr(err.msg, "ip: "), "'%s' refused naming the field",
		   bad_ips[i]);
	}

	/* subnets */
	struct gr_net_cidr c;
	is_int(gr_net_cidr_parse("subnet", "10.20.0.0/16", &c, &err), 0, "a subnet parses");
	is_int(c.base, 0x0a140000, "base");
	is_int(c.prefix, 16, "prefix");
	is_str(gr_net_cidr_format(&c, buf), "10.20.0.0/16", "and formats back");
	const char *bad_cidrs[] = { "10.0.0.0", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/33", "10.0.0/24",
				    "/24", "10.0.0.0/24/1", "10.0.0.0/-1", NULL };
	for (int i = 0; bad_cidrs[i]; i++) {
		int r = gr_net_cidr_parse("subnet", bad_cidrs[i], &c, &err);
		ok(r < 0 && err.code == EINVAL && !strncmp(err.msg, "subnet: ", 8),
		   "'%s' refused naming the field (%s)", bad_cidrs[i], err.msg);
	}
	ok(gr_net_cidr_parse("subnet", "10.0.0.1/24", &c, &err) < 0 && strstr(err.msg, "10.0.0.0/24"),
	   "host bits set: refused with the network it meant (%s)", err.msg);
	ok(gr_net_cidr_parse("subnet", "10.0.0.0/31", &c, &err) < 0 && strstr(err.msg, "8..30"),
	   "a /31 has no room: refused (%s)", err.msg);
	ok(gr_net_cidr_parse("subnet", "10.0.0.0/7", &c, &err) < 0, "a /7 is too wide");

	/* membership, overlap, gateway */
	struct gr_net_cidr a = cidr("10.1.0.0/24"), b = cidr("10.1.0.128/25"), d = cidr("10.2.0.0/24"),
			   w = cidr("10.0.0.0/8");
	ok(gr_net_cidr_contains(&a, ip("10.1.0.200")), "contains an inside address");
	ok(!gr_net_cidr_contains(&a, ip("10.1.1.1")), "not an outside one");
	ok(gr_net_cidr_overlap(&a, &b) && gr_net_cidr_overlap(&b, &a), "nested subnets overlap (both ways)");
	ok(gr_net_cidr_overlap(&w, &d), "a /8 overlaps a /24 inside it");
	ok(!gr_net_cidr_overlap(&a, &d), "disjoint subnets do not");
	ok(gr_net_cidr_overlap(&a, &a), "a subnet overlaps itself");
	is_int(gr_net_gateway(&a), ip("10.1.0.1"), "gateway is the first address");
	is_int(gr_net_cidr_broadcast(&a), ip("10.1.0.255"), "broadcast");

	/* which addresses an instance may have */
	is_int(gr_net_check_host(&a, ip("10.1.0.5"), "ip", &err), 0, "a host address is fine");
	ok(gr_net_check_host(&a, ip("10.2.0.5"), "ip", &err) < 0 && strstr(err.msg, "ip: 10.2.0.5 is outside"),
	   "outside the subnet refused (%s)", err.msg);
	ok(gr_net_check_host(&a, ip("10.1.0.0"), "ip", &err) < 0 && strstr(err.msg, "network address"),
	   "the network address refused");
	ok(gr_net_check_host(&a, ip("10.1.0.255"), "ip", &err) < 0 && strstr(err.msg, "broadcast"),
	   "the broadcast address refused");
	ok(gr_net_check_host(&a, ip("10.1.0.1"), "ip", &err) < 0 && strstr(err.msg, "gateway"),
	   "the gateway refused");

	/* next free address */
	is_int(gr_net_pick(&a, NULL, 0, &v, &err), 0, "pick on an empty subnet");
	is_int(v, ip("10.1.0.2"), "the first after the gateway");
	uint32_t used[] = { ip("10.1.0.4"), ip("10.1.0.2"), ip("10.1.0.3"), ip("10.1.0.9") };
	is_int(gr_net_pick(&a, used, 4, &v, &err), 0, "pick with a used set (unsorted)");
	is_int(v, ip("10.1.0.5"), "the lowest free one");
	struct gr_net_cidr tiny = cidr("10.3.0.0/30"); /* .1 gateway, .2 the only host */
	uint32_t one = ip("10.3.0.2");
	is_int(gr_net_pick(&tiny, NULL, 0, &v, &err), 0, "a /30 has one address");
	is_int(v, one, "and it is .2");
	ok(gr_net_pick(&tiny, &one, 1, &v, &err) < 0 && err.code == ENOSPC &&
	   strstr(err.msg, "subnet: 10.3.0.0/30 is exhausted"), "exhausted: ENOSPC naming the subnet (%s)",
	   err.msg);

	/* MACs */
	char mac[GR_NET_MAC_MAX], mac2[GR_NET_MAC_MAX];
	uint8_t m[6];
	gr_net_mac_random(mac);
	gr_net_mac_random(mac2);
	is_int(gr_net_mac_parse("mac", mac, m, &err), 0, "a random MAC parses (%s)", mac);
	ok((m[0] & 3) == 2, "locally administered, unicast");
	ok(strcmp(mac, mac2) != 0, "two random MACs differ");
	ok(gr_net_mac_parse("mac", "02:00:00:00:00", m, &err) < 0 && strstr(err.msg, "mac: "),
	   "a short MAC refused naming the field");
	ok(gr_net_mac_parse("mac", "02:00:00:00:00:0g", m, &err) < 0, "a bad digit refused");

	/* the NAT script */
	struct gr_net_nat_net nets[] = { { "gr-a", a, true }, { "gr-d", d, false } };
	char *s = gr_net_nat_script(nets, 2, NULL, 0);
	ok(strstr(s, "ip saddr 10.1.0.0/24 ip daddr != 10.1.0.0/24 masquerade") != NULL,
	   "NAT script masquerades the NAT subnet");
	ok(!strstr(s, "10.2.0.0/24"), "and not the other");
	ok(strstr(s, "iifname \"gr-d\" oifname \"gr-*\" oifname != \"gr-d\" drop") != NULL,
	   "no forwarding between networks");
	ok(!strstr(s, "dnat"), "no forward: no DNAT chain");
	free(s);
	s = gr_net_nat_script(nets + 1, 1, NULL, 0);
	ok(!strcmp(s, "table inet gureum {}\ndelete table inet gureum\n"),
	   "no NAT network: the table is only deleted");
	free(s);
	/* port forwards: the table exists for them alone */
	uint32_t fip;
	gr_net_ip_parse("ip", "10.2.0.7", &fip, NULL);
	struct gr_net_fwd fw[] = { { "tcp", 8080, fip, 80 }, { "udp", 5353, fip, 53 } };
	s = gr_net_nat_script(nets + 1, 1, fw, 2);
	ok(strstr(s, "type nat hook prerouting priority dstnat;") &&
		   strstr(s, "\t\tfib daddr type local tcp dport 8080 dnat ip to 10.2.0.7:80\n"),
	   "a forward is a DNAT in prerouting");
	ok(strstr(s, "ip daddr != 127.0.0.0/8 fib daddr type local udp dport 5353 dnat ip to 10.2.0.7:53"),
	   "and in output for this host's own traffic (not from 127/8)");
	ok(!strstr(s, "masquerade"), "no NAT network: no masquerade");
	ok(strstr(s, "iifname \"gr-d\" oifname \"gr-*\" oifname != \"gr-d\" drop") != NULL,
	   "networks stay apart with forwards only");
	free(s);
	/* rates */
	uint64_t bps;
	char rb[24];
	ok(gr_net_rate_parse("net.limit", "10mbit", &bps, &err) == 0 && bps == 10000000, "10mbit");
	ok(gr_net_rate_parse("net.limit", "100Mbit", &bps, &err) == 0 && bps == 100000000, "100Mbit");
	ok(gr_net_rate_parse("net.limit", "500kbit", &bps, &err) == 0 && bps == 500000, "500kbit");
	ok(gr_net_rate_parse("net.limit", "0", &bps, &err) == 0 && bps == 0, "0: no limit");
	ok(gr_net_rate_parse("net.limit", "fast", &bps, &err) < 0 && strstr(err.msg, "net.limit: 'fast' is not a rate"),
	   "a word refused naming the field");
	ok(gr_net_rate_parse("net.limit", "10mbyte", &bps, &err) < 0, "an unknown unit refused");
	ok(gr_net_rate_parse("net.limit", "99999999999999999999gbit", &bps, &err) < 0, "an overflow refused");
	ok(gr_net_rate_parse("net.limit", "10bit", &bps, &err) < 0 && strstr(err.msg, "out of range"),
	   "under 8kbit refused");
	ok(!strcmp(gr_net_rate_format(16000000, rb), "16mbit") && !strcmp(gr_net_rate_format(1500, rb), "1500bit"),
	   "rates formatted back");
	char h1[16], h2[16];
	gr_net_host_if("web1", 0, h1);
	gr_net_host_if("web1", 1, h2);
	ok(strlen(h1) == 11 && !strncmp(h1, "grv", 3) && strcmp(h1, h2), "host end names (%s, %s)", h1, h2);
	return tap_done();
}
