/*
 * nat.c - the nftables table "inet gureum": masquerade out of NAT networks,
 * port forwards (DNAT to an instance's address) and no forwarding between
 * two networks.  The table is the only thing of the host's ruleset gureum
 * writes; it is rebuilt whole from the store's networks and forwards (at
 * daemon start and after each change) by one `nft -f -` transaction that
 * declares, deletes and redefines it, so the result does not depend on
 * what was there before and a crash mid-way leaves either the old table or
 * the new one.
 */
#include "net/net.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "util/alloc.h"
#include "util/fs.h"
#include "util/proc.h"

/* s + the formatted text (s freed). */
static char *append(char *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *append(char *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *add = NULL;
	if (vasprintf(&add, fmt, ap) < 0)
		abort();
	va_end(ap);
	char *t = xasprintf("%s%s", s, add);
	free(s);
	free(add);
	return t;
}

static char *dnat_rules(char *s, const struct gr_net_fwd *fwds, size_t nf, const char *guard)
{
	for (size_t i = 0; i < nf; i++) {
		char ip[GR_NET_IP_MAX];
		s = append(s, "\t\t%sfib daddr type local %s dport %u dnat ip to %s:%u\n", guard,
			   fwds[i].proto, fwds[i].hostport, gr_net_ip_format(fwds[i].ip, ip), fwds[i].port);
	}
	return s;
}

char *gr_net_nat_script(const struct gr_net_nat_net *nets, size_t n, const struct gr_net_fwd *fwds,
			size_t nf)
{
	size_t n_nat = 0;
	for (size_t i = 0; i < n; i++)
		n_nat += nets[i].nat;
	/* "table ... {}" first: deleting a table that is not there would fail */
	char *s = xstrdup("table inet gureum {}\ndelete table inet gureum\n");
	if (!n_nat && !nf)
		return s;
	s = append(s, "table inet gureum {\n");
	if (nf) {
		s = append(s, "\tchain prerouting {\n"
			      "\t\ttype nat hook prerouting priority dstnat; policy accept;\n");
		s = dnat_rules(s, fwds, nf, "");
		/* locally made traffic; not from loopback addresses (a packet
		 * from 127/8 may not leave through a bridge) */
		s = append(s, "\t}\n\tchain output {\n"
			      "\t\ttype nat hook output priority -100; policy accept;\n");
		s = dnat_rules(s, fwds, nf, "ip daddr != 127.0.0.0/8 ");
		s = append(s, "\t}\n");
	}
	s = append(s, "\tchain postrouting {\n"
		      "\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
	for (size_t i = 0; i < n; i++) {
		if (!nets[i].nat)
			continue;
		char c[GR_NET_CIDR_MAX];
		gr_net_cidr_format(&nets[i].subnet, c);
		s = append(s, "\t\tip saddr %s ip daddr != %s masquerade\n", c, c);
	}
	s = append(s, "\t}\n\tchain forward {\n"
		      "\t\ttype filter hook forward priority filter; policy accept;\n");
	for (size_t i = 0; i < n; i++)
		s = append(s, "\t\tiifname \"%s\" oifname \"gr-*\" oifname != \"%s\" drop\n", nets[i].bridge,
			   nets[i].bridge);
	return append(s, "\t}\n}\n");
}

int gr_net_nat_sync(const struct gr_net_nat_net *nets, size_t n, const struct gr_net_fwd *fwds,
		    size_t nf, gr_error_t *err)
{
	bool any = nf > 0;
	for (size_t i = 0; i < n; i++)
		any |= nets[i].nat;
	/* masquerade and forwards need routing between the bridge and the
	 * uplink: on in the daemon's namespace while a NAT network or a
	 * forward exists (never turned off again: other software may rely on
	 * it) */
	if (any && gr_write_str("/proc/sys/net/ipv4/ip_forward", "1", err) < 0)
		return gr_error_prefix(err, "NAT: enabling IPv4 forwarding");
	_cleanup_free_ char *script = gr_net_nat_script(nets, n, fwds, nf);
	char *const argv[] = { "nft", "-f", "-", NULL };
	struct gr_proc p = { .argv = argv, .fd_in = GR_PROC_NULL, .fd_out = GR_PROC_PIPE,
			     .fd_err = GR_PROC_PIPE, .input = script, .input_len = strlen(script),
			     .timeout_ms = 30000 };
	gr_error_t e;
	if (gr_proc_run(&p, &e) < 0) {
		/* without NAT there is no table to remove when nft is not even installed */
		if (!any && e.code == ENOENT)
			return 0;
		if (err)
			*err = e;
		return gr_error_prefix(err, "NAT rules (nft)");
	}
	return 0;
}
