/*
 * net.h - the virtual switch (docs/NETWORK.md): host work for instance
 * networks.  Pure IPv4 address management (ipam.c), rtnetlink on netlink
 * sockets (netlink.c: bridges, veth pairs, addresses, routes; no `ip`
 * subprocess on the launch path), per-instance network namespaces kept as
 * bind-mounted files (netns.c), a container NIC's wiring (attach.c) and the
 * NAT table (nat.c, nftables through `nft -f -`).
 *
 * Layering: below control, beside runtime and vm.  This module never touches
 * the store or the API; control decides (which network, which address, which
 * MAC) and passes plain values down.  Every function returns < 0 and fills
 * err on failure.  Thread-safe unless said otherwise: a netlink handle
 * (struct gr_nl) belongs to one thread at a time.
 */
#ifndef GR_NET_NET_H
#define GR_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "util/error.h"

/* ---- ipam.c: pure IPv4 address management (addresses in host byte order) ---- */

struct gr_net_cidr {
	uint32_t base;   /* network address (host bits zero) */
	int prefix;      /* 8..30 */
};

#define GR_NET_IP_MAX 16   /* "255.255.255.255" + NUL */
#define GR_NET_CIDR_MAX 19 /* + "/32" */
#define GR_NET_MAC_MAX 18  /* "02:00:00:00:00:00" + NUL */

/* "a.b.c.d" -> *out.  EINVAL naming field otherwise. */
int gr_net_ip_parse(const char *field, const char *s, uint32_t *out, gr_error_t *err);
/* buf of GR_NET_IP_MAX bytes; returns buf. */
char *gr_net_ip_format(uint32_t ip, char *buf);
/* "a.b.c.d/N" with N in 8..30 and no host bits set -> *out.  EINVAL naming
 * field (and saying which part is wrong) otherwise. */
int gr_net_cidr_parse(const char *field, const char *s, struct gr_net_cidr *out, gr_error_t *err);
/* buf of GR_NET_CIDR_MAX bytes; returns buf. */
char *gr_net_cidr_format(const struct gr_net_cidr *c, char *buf);
uint32_t gr_net_cidr_mask(const struct gr_net_cidr *c);
uint32_t gr_net_cidr_broadcast(const struct gr_net_cidr *c);
bool gr_net_cidr_contains(const struct gr_net_cidr *c, uint32_t ip);
bool gr_net_cidr_overlap(const struct gr_net_cidr *a, const struct gr_net_cidr *b);
/* The gateway: the first host address (base + 1). */
uint32_t gr_net_gateway(const struct gr_net_cidr *c);
/* May ip be given to an instance?  Inside the subnet and neither the network
 * address, the broadcast address nor the gateway: EINVAL naming field. */
int gr_net_check_host(const struct gr_net_cidr *c, uint32_t ip, const char *field, gr_error_t *err);
/* The lowest address an instance may get that is not in used[0..n) (any
 * order): ENOSPC naming the subnet when there is none. */
int gr_net_pick(const struct gr_net_cidr *c, const uint32_t *used, size_t n, uint32_t *out,
		gr_error_t *err);
/* A random locally administered unicast MAC ("02:xx:xx:xx:xx:xx"), buf of
 * GR_NET_MAC_MAX bytes; returns buf. */
char *gr_net_mac_random(char *buf);
/* "aa:bb:cc:dd:ee:ff" -> 6 bytes.  EINVAL naming field. */
int gr_net_mac_parse(const char *field, const char *s, uint8_t out[6], gr_error_t *err);

/* ---- netlink.c: rtnetlink requests on one socket ---- */

/* A route netlink socket bound to the network namespace it was opened in. */
struct gr_nl {
	int fd;
	uint32_t seq;
};

/* Open a socket in the caller's namespace (netns_fd < 0) or in the namespace
 * of netns_fd: a short-lived thread enters it (setns affects only that
 * thread) and opens the socket there; a netlink socket stays bound to the
 * namespace it was made in, so every request on it acts there, from any
 * thread, and the daemon's own threads never change namespace. */
int gr_nl_open(struct gr_nl *nl, int netns_fd, gr_error_t *err);
void gr_nl_close(struct gr_nl *nl);
/* Index of link name: ENODEV naming it when absent. */
int gr_nl_link_index(struct gr_nl *nl, const char *name, int *index, gr_error_t *err);
/* A bridge named name (EEXIST when a link of that name exists). */
int gr_nl_bridge_add(struct gr_nl *nl, const char *name, gr_error_t *err);
/* A veth pair: host_if here (under bridge master when master is not NULL,
 * with alias when not NULL: the sweep reads it), peer_if in the namespace
 * peer_netns_fd (< 0: here) with MAC peer_mac (NULL = kernel's), both with
 * mtu (0 = default).  One request: the pair never exists half made. */
int gr_nl_veth_add(struct gr_nl *nl, const char *host_if, const char *alias, const char *master,
		   const char *peer_if, int peer_netns_fd, const char *peer_mac, unsigned mtu,
		   gr_error_t *err);
/* Delete link name (a veth takes its peer along).  Absent is success. */
int gr_nl_link_del(struct gr_nl *nl, const char *name, gr_error_t *err);
/* Set link name up (or down), with mtu when not 0. */
int gr_nl_link_up(struct gr_nl *nl, const char *name, bool up, unsigned mtu, gr_error_t *err);
/* Put link name under bridge master (when not NULL) and set its alias
 * (when not NULL). */
int gr_nl_link_master(struct gr_nl *nl, const char *name, const char *master, const char *alias,
		      gr_error_t *err);
/* Move link name into the namespace of netns_fd. */
int gr_nl_link_netns(struct gr_nl *nl, const char *name, int netns_fd, gr_error_t *err);
/* Add ip/prefix on link name (an existing equal address is success). */
int gr_nl_addr_add(struct gr_nl *nl, const char *name, uint32_t ip, int prefix, gr_error_t *err);
/* Default route via gw (replaces one that exists). */
int gr_nl_route_default(struct gr_nl *nl, uint32_t gw, gr_error_t *err);
/* Links whose alias starts with prefix: names and aliases as two
 * NULL-terminated strvs (malloc'd, gr_strv_free). */
int gr_nl_links_by_alias(struct gr_nl *nl, const char *prefix, char ***names, char ***aliases,
			 gr_error_t *err);

/* ---- netns.c: namespaces kept as files ---- */

/* A new network namespace bind-mounted on path (a file made here; the
 * folder must exist).  An existing live one is kept (success). */
int gr_netns_create(const char *path, gr_error_t *err);
/* Open it (O_RDONLY|O_CLOEXEC): ENOENT when there is none. */
int gr_netns_open(const char *path, gr_error_t *err);
/* Unmount and remove path; absent is success. */
int gr_netns_remove(const char *path, gr_error_t *err);

/* ---- attach.c: a container's NIC ---- */

/* One NIC as control decided it and the instance record keeps it (plain
 * values: a copy of the network's bridge and subnet, so a start reads no
 * network record). */
#define GR_NET_NAME_MAX 64
#define GR_NET_NICS_MAX 4
struct gr_net_nic {
	char network[GR_NET_NAME_MAX]; /* network name */
	char bridge[16];               /* its bridge device on each host */
	char mac[GR_NET_MAC_MAX];      /* the instance's MAC, stable for its life ("" = kernel's) */
	uint32_t ip;                   /* its address */
	struct gr_net_cidr subnet;
	unsigned mtu;                  /* 0 = default */
};

/* The host end's name of NIC index of instance: "grv" + 8 hex digits of a
 * hash of both (15 bytes at most), buf of 16 bytes. */
char *gr_net_host_if(const char *inst, unsigned index, char *buf);
/* The alias put on every host end: "gureum:<instance>". */
#define GR_NET_ALIAS_PREFIX "gureum:"
/* Make sure the bridge of nic exists here with the gateway address, up. */
int gr_net_bridge_ensure(const struct gr_net_nic *nic, gr_error_t *err);
/* Remove a network's bridge here (absent is fine). */
int gr_net_bridge_remove(const char *bridge, gr_error_t *err);
/* Wire NIC index of inst into the namespace file netns_path: the veth pair
 * (host end on the bridge, up; eth<index> inside with the MAC and address),
 * lo up, the default route via the gateway (first NIC).  Rolls back the
 * pair on failure. */
int gr_net_attach(const char *inst, unsigned index, const struct gr_net_nic *nic,
		  const char *netns_path, gr_error_t *err);
/* Remove the host ends of inst's NICs (n of them); absent ones are fine. */
int gr_net_detach(const char *inst, unsigned n, gr_error_t *err);
/* Host ends (links with a GR_NET_ALIAS_PREFIX alias) of instances known()
 * says have no record: removed, logged.  Best effort; returns how many. */
int gr_net_sweep_links(bool (*known)(const char *name, void *ud), void *ud);

/* ---- nat.c: the nftables table "inet gureum" ---- */

/* One network as the NAT table sees it. */
struct gr_net_nat_net {
	const char *bridge;
	struct gr_net_cidr subnet;
	bool nat;
};

/* One port forward as the table sees it: proto ("tcp"/"udp") hostport on
 * any of this host's addresses (but 127/8) goes to ip:port. */
struct gr_net_fwd {
	const char *proto;
	unsigned hostport;
	uint32_t ip;
	unsigned port;
};

/* The nft script gr_net_nat_sync runs for nets[0..n) and fwds[0..nf)
 * (malloc'd; pure). */
char *gr_net_nat_script(const struct gr_net_nat_net *nets, size_t n, const struct gr_net_fwd *fwds,
			size_t nf);
/* Make the table "inet gureum" match nets[0..n) and fwds[0..nf): when one
 * network has nat or there is a forward, masquerade out of each NAT
 * subnet, DNAT each forward (prerouting for traffic arriving at this host,
 * output for traffic this host makes, to a local address other than 127/8)
 * and drop forwarding between two different gureum bridges (IP forwarding
 * is switched on in the daemon's namespace, so networks must not route
 * into each other); with neither the table is deleted.  One `nft -f -`
 * transaction (create, delete, refill): idempotent, atomic.  Nothing
 * outside the table is touched. */
int gr_net_nat_sync(const struct gr_net_nat_net *nets, size_t n, const struct gr_net_fwd *fwds,
		    size_t nf, gr_error_t *err);

/* ---- tap.c: a VM's NIC ---- */

/* The tap of NIC index of instance: "grt" + the 8 hex digits of
 * gr_net_host_if's hash (15 bytes at most), buf of 16 bytes. */
char *gr_net_tap_name(const char *inst, unsigned index, char *buf);
/* Make the tap of NIC index of inst here: persistent (QEMU opens it by
 * name), on the NIC's bridge, alias "gureum:<inst>" (the sweep reads it),
 * up.  A tap left by a start cut short is made again.  Rolls back on
 * failure. */
int gr_net_tap_attach(const char *inst, unsigned index, const struct gr_net_nic *nic, gr_error_t *err);
/* Remove the taps of inst's NICs (n of them); absent ones are fine. */
int gr_net_tap_detach(const char *inst, unsigned n, gr_error_t *err);

/* ---- dnsmasq.c: DHCP and DNS of one network on this host ---- */

/* One network as its dnsmasq sees it (borrowed strings). */
struct gr_net_dns {
	const char *network;
	const char *bridge;
	struct gr_net_cidr subnet;
	const char *dir;   /* its folder: config, reservations, leases, pid file */
};
/* One reservation: DHCP gives mac the address ip, DNS answers name. */
struct gr_net_dns_host {
	const char *mac;
	uint32_t ip;
	const char *name;
};
/* The config text (malloc'd; pure). */
char *gr_net_dns_conf(const struct gr_net_dns *d);
/* The pid of the dnsmasq running for dir (its pid file, checked against
 * /proc: alive, not a zombie, started with dir's config), else 0. */
pid_t gr_net_dns_pid(const char *dir);
/* Write the config and start dnsmasq (it daemonizes; returns when it runs,
 * with its pid).  The caller makes sure none runs already (gr_net_dns_pid)
 * and that the bridge exists with its address. */
int gr_net_dns_start(const struct gr_net_dns *d, pid_t *pid, gr_error_t *err);
/* Write the reservation files dhcp-hosts and hosts from hosts[0..n):
 * 1 when a file changed (then gr_net_dns_reload), 0 when not, -1. */
int gr_net_dns_hosts(const char *dir, const struct gr_net_dns_host *hosts, size_t n, gr_error_t *err);
/* SIGHUP: dnsmasq re-reads the reservation files.  -1 when none runs. */
int gr_net_dns_reload(const char *dir);
/* Stop the dnsmasq of dir (SIGTERM, then SIGKILL) and remove dir. */
int gr_net_dns_stop(const char *dir, gr_error_t *err);

/* ---- vxlan.c: a vxlan network on one host (docs/NETWORK.md) ---- */

#define GR_NET_VXLAN_PORT 4789      /* IANA's */
#define GR_NET_VXLAN_OVERHEAD 50    /* outer IPv4 + UDP + VXLAN + inner Ethernet */
#define GR_NET_VNI_MAX 16777215u    /* 24 bits; VNI 0 is not used */
#define GR_NET_VXLAN_ALIAS "gureum-vxlan:" /* + network name, on the vxlan device */

struct gr_net_vxlan {
	const char *network;      /* its name */
	const char *bridge;       /* "gr-<name>" */
	uint32_t vni;
	uint32_t local;           /* this host's underlay address */
	struct gr_net_cidr subnet;
};
/* One forwarding entry of a vxlan device: frames for mac go to dst (an
 * all-zero mac: broadcast and unknown unicast, one entry per remote host). */
struct gr_net_fdb {
	uint8_t mac[6];
	uint32_t dst;
};
/* The vxlan device's name: "grx<vni>", buf of 16 bytes; returns buf. */
char *gr_net_vxlan_dev(uint32_t vni, char *buf);
/* MTU of link name. */
int gr_nl_link_mtu(struct gr_nl *nl, const char *name, unsigned *mtu, gr_error_t *err);
/* The link holding address local here: its index and MTU
 * (EADDRNOTAVAIL naming the address when no link has it). */
int gr_net_underlay(uint32_t local, int *ifindex, unsigned *mtu, gr_error_t *err);
/* Make sure v's bridge (anycast MAC, gateway address, MTU = underlay - 50,
 * up) and vxlan device (on the bridge, learning off, no group, up) exist
 * here; *mtu (may be NULL) gets the overlay MTU.  Idempotent. */
int gr_net_vxlan_ensure(const struct gr_net_vxlan *v, unsigned *mtu, gr_error_t *err);
/* Delete the vxlan device of vni and then bridge (NULL: keep it); absent is fine. */
int gr_net_vxlan_remove(uint32_t vni, const char *bridge, gr_error_t *err);
/* The device's entries (malloc'd array). */
int gr_net_vxlan_fdb_list(uint32_t vni, struct gr_net_fdb **out, size_t *n, gr_error_t *err);
/* Make the device's entries equal want[0..n): counts of what changed. */
int gr_net_vxlan_fdb_sync(uint32_t vni, const struct gr_net_fdb *want, size_t n, int *added,
			  int *removed, gr_error_t *err);

/* ---- limit.c: a NIC's rate limit (tc tbf) ---- */

/* "10mbit", "500kbit", "1gbit", "100Mbit", "8000" (bit/s) -> *bps; 0 = no
 * limit; 8kbit..100gbit otherwise.  EINVAL naming field.  Pure. */
int gr_net_rate_parse(const char *field, const char *s, uint64_t *bps, gr_error_t *err);
/* The shortest exact text of bps ("10mbit"), buf of 24 bytes; returns buf. */
char *gr_net_rate_format(uint64_t bps, char *buf);
/* Limit what leaves by link dev (in the namespace file netns_path; NULL:
 * here) to bps (a token bucket as its root qdisc, replacing one there);
 * bps 0 removes it (absent is success). */
int gr_net_limit_apply(const char *dev, const char *netns_path, uint64_t bps, gr_error_t *err);

/* ---- stats.c: link counters ---- */

struct gr_net_link_stats {
	char name[16];
	uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets;
};
/* The counters of every link of the caller's namespace, one netlink dump
 * (malloc'd array). */
int gr_net_link_stats(struct gr_net_link_stats **out, size_t *n, gr_error_t *err);
/* The entry of link name in v[0..n), or NULL. */
const struct gr_net_link_stats *gr_net_link_stats_find(const struct gr_net_link_stats *v, size_t n,
							const char *name);

/* ---- vlan.c: VLAN support of this kernel ---- */

/* 0 when the kernel has 802.1Q devices and bridge VLAN filtering (probed
 * once per process with two short-lived links, removed at once), else
 * EOPNOTSUPP saying which is missing (with the kernel option's name). */
int gr_net_vlan_support(gr_error_t *err);

#endif
