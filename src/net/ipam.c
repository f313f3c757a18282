/*
 * ipam.c - pure IPv4 address management: parsing and formatting addresses,
 * subnets and MACs, membership, overlap and the choice of the next free
 * address.  No I/O but the random bytes of a new MAC; any thread.
 *
 * Conventions: addresses are host byte order uint32_t; a subnet's first
 * host address is its gateway (the bridge's address on every host), the
 * network and broadcast addresses are never handed out.  Prefixes are 8..30
 * (a /31 or /32 has no room for a gateway and an instance).
 */
#include "net/net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

int gr_net_ip_parse(const char *field, const char *s, uint32_t *out, gr_error_t *err)
{
	uint32_t ip = 0;
	const char *p = s;
	for (int i = 0; i < 4; i++) {
		if (*p < '0' || *p > '9')
			goto bad;
		unsigned v = 0;
		int digits = 0;
		while (*p >= '0' && *p <= '9') {
			v = v * 10 + (unsigned)(*p++ - '0');
			if (++digits > 3 || v > 255)
				goto bad;
		}
		if (digits > 1 && p[-digits] == '0')
			goto bad; /* no leading zeros: 010 is octal to some parsers */
		ip = ip << 8 | v;
		if (i < 3 && *p++ != '.')
			goto bad;
	}
	if (*p)
		goto bad;
	*out = ip;
	return 0;
bad:
	return gr_error_set(err, EINVAL, "%s: '%s' is not an IPv4 address (a.b.c.d)", field, s);
}

char *gr_net_ip_format(uint32_t ip, char *buf)
{
	snprintf(buf, GR_NET_IP_MAX, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255);
	return buf;
}

uint32_t gr_net_cidr_mask(const struct gr_net_cidr *c)
{
	return c->prefix ? ~0u << (32 - c->prefix) : 0;
}

uint32_t gr_net_cidr_broadcast(const struct gr_net_cidr *c)
{
	return c->base | ~gr_net_cidr_mask(c);
}

int gr_net_cidr_parse(const char *field, const char *s, struct gr_net_cidr *out, gr_error_t *err)
{
	const char *slash = strchr(s, '/');
	if (!slash || slash - s >= GR_NET_IP_MAX)
		return gr_error_set(err, EINVAL, "%s: '%s' is not a subnet in CIDR form (a.b.c.d/N)",
				    field, s);
	char ip[GR_NET_IP_MAX];
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	struct gr_net_cidr c;
	if (gr_net_ip_parse(field, ip, &c.base, NULL) < 0)
		return gr_error_set(err, EINVAL, "%s: '%s' is not a subnet in CIDR form (a.b.c.d/N): "
				    "bad address '%s'", field, s, ip);
	char *end;
	errno = 0;
	long n = strtol(slash + 1, &end, 10);
	if (!slash[1] || *end || errno || n < 0 || n > 32)
		return gr_error_set(err, EINVAL, "%s: '%s' is not a subnet in CIDR form (a.b.c.d/N): "
				    "bad prefix length '%s'", field, s, slash + 1);
	if (n < 8 || n > 30)
		return gr_error_set(err, EINVAL, "%s: prefix /%ld of '%s' is out of range (8..30: room "
				    "for a gateway and instances)", field, n, s);
	c.prefix = (int)n;
	if (c.base & ~gr_net_cidr_mask(&c)) {
		char b[GR_NET_CIDR_MAX];
		c.base &= gr_net_cidr_mask(&c);
		return gr_error_set(err, EINVAL, "%s: '%s' has host bits set (did you mean %s?)", field,
				    s, gr_net_cidr_format(&c, b));
	}
	*out = c;
	return 0;
}

char *gr_net_cidr_format(const struct gr_net_cidr *c, char *buf)
{
	char ip[GR_NET_IP_MAX];
	snprintf(buf, GR_NET_CIDR_MAX, "%s/%d", gr_net_ip_format(c->base, ip), c->prefix);
	return buf;
}

bool gr_net_cidr_contains(const struct gr_net_cidr *c, uint32_t ip)
{
	return (ip & gr_net_cidr_mask(c)) == c->base;
}

bool gr_net_cidr_overlap(const struct gr_net_cidr *a, const struct gr_net_cidr *b)
{
	/* two prefixes overlap when the shorter one contains the other's base */
	const struct gr_net_cidr *wide = a->prefix <= b->prefix ? a : b;
	const struct gr_net_cidr *narrow = wide == a ? b : a;
	return gr_net_cidr_contains(wide, narrow->base);
}

uint32_t gr_net_gateway(const struct gr_net_cidr *c)
{
	return c->base + 1;
}

int gr_net_check_host(const struct gr_net_cidr *c, uint32_t ip, const char *field, gr_error_t *err)
{
	char a[GR_NET_IP_MAX], b[GR_NET_CIDR_MAX];
	gr_net_ip_format(ip, a);
	gr_net_cidr_format(c, b);
	if (!gr_net_cidr_contains(c, ip))
		return gr_error_set(err, EINVAL, "%s: %s is outside the subnet %s", field, a, b);
	if (ip == c->base)
		return gr_error_set(err, EINVAL, "%s: %s is the network address of %s", field, a, b);
	if (ip == gr_net_cidr_broadcast(c))
		return gr_error_set(err, EINVAL, "%s: %s is the broadcast address of %s", field, a, b);
	if (ip == gr_net_gateway(c))
		return gr_error_set(err, EINVAL, "%s: %s is the gateway of %s", field, a, b);
	return 0;
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

int gr_net_pick(const struct gr_net_cidr *c, const uint32_t *used, size_t n, uint32_t *out,
		gr_error_t *err)
{
	uint32_t *sorted = NULL;
	if (n) {
		sorted = malloc(n * sizeof *sorted);
		if (!sorted)
			return gr_error_set(err, ENOMEM, "out of memory");
		memcpy(sorted, used, n * sizeof *sorted);
		qsort(sorted, n, sizeof *sorted, cmp_u32);
	}
	/* walk candidates and the sorted used set together: O(n log n) */
	uint32_t cand = gr_net_gateway(c) + 1, last = gr_net_cidr_broadcast(c) - 1;
	size_t i = 0;
	while (cand <= last) {
		while (i < n && sorted[i] < cand)
			i++;
		if (i < n && sorted[i] == cand) {
			cand++;
			continue;
		}
		break;
	}
	free(sorted);
	if (cand > last) {
		char b[GR_NET_CIDR_MAX];
		return gr_error_set(err, ENOSPC, "subnet: %s is exhausted (every address is taken)",
				    gr_net_cidr_format(c, b));
	}
	*out = cand;
	return 0;
}

char *gr_net_mac_random(char *buf)
{
	uint8_t m[6];
	if (getrandom(m, sizeof m, 0) != (ssize_t)sizeof m) {
		/* never expected: fall back to a weaker source, still unique enough */
		for (size_t i = 0; i < sizeof m; i++)
			m[i] = (uint8_t)random();
	}
	m[0] = (uint8_t)((m[0] & 0xfe) | 0x02); /* unicast, locally administered */
	snprintf(buf, GR_NET_MAC_MAX, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
		 m[5]);
	return buf;
}

int gr_net_mac_parse(const char *field, const char *s, uint8_t out[6], gr_error_t *err)
{
	unsigned v[6];
	char tail;
	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
				      &v[4], &v[5], &tail) != 6)
		return gr_error_set(err, EINVAL, "%s: '%s' is not a MAC address (aa:bb:cc:dd:ee:ff)",
				    field, s);
	for (int i = 0; i < 6; i++)
		out[i] = (uint8_t)v[i];
	return 0;
}
