/*
 * limit.c - a NIC's rate limit with tc: a token bucket (tbf) as the root
 * qdisc of the link the traffic leaves by.  Traffic towards an instance
 * leaves the host by the host end of its veth (or its tap); traffic from a
 * container leaves by eth<i> inside its namespace, so that direction's
 * bucket sits there (tc runs in the namespace through nsenter).  `tc qdisc
 * replace` makes a setting idempotent; removing one that is not there is
 * success.  The rate parser is pure.
 */
#include "net/net.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "util/alloc.h"
#include "util/proc.h"

int gr_net_rate_parse(const char *field, const char *s, uint64_t *bps, gr_error_t *err)
{
	static const struct { const char *unit; uint64_t mult; } units[] = {
		{ "", 1 }, { "bit", 1 }, { "kbit", 1000 }, { "mbit", 1000000 }, { "gbit", 1000000000 },
		{ "k", 1000 }, { "m", 1000000 }, { "g", 1000000000 },
	};
	if (!s || !*s || !isdigit((unsigned char)*s))
		goto bad;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno)
		goto bad;
	for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
		if (strcasecmp(end, units[i].unit))
			continue;
		if (n > UINT64_MAX / units[i].mult)
			goto bad;
		*bps = n * units[i].mult;
		if (*bps && (*bps < 8000 || *bps > 100000000000ull))
			return gr_error_set(err, EINVAL, "%s: '%s' is out of range (8kbit..100gbit, or 0 for no "
					    "limit)", field, s);
		return 0;
	}
bad:
	return gr_error_set(err, EINVAL, "%s: '%s' is not a rate (e.g. 10mbit, 500kbit, 1gbit; 0 for no limit)",
			    field, s ? s : "");
}

char *gr_net_rate_format(uint64_t bps, char *buf)
{
	if (bps && bps % 1000000000 == 0)
		snprintf(buf, 24, "%llugbit", (unsigned long long)(bps / 1000000000));
	else if (bps && bps % 1000000 == 0)
		snprintf(buf, 24, "%llumbit", (unsigned long long)(bps / 1000000));
	else if (bps && bps % 1000 == 0)
		snprintf(buf, 24, "%llukbit", (unsigned long long)(bps / 1000));
	else
		snprintf(buf, 24, "%llubit", (unsigned long long)bps);
	return buf;
}

static int tc(const char *netns_path, char **args, bool absent_ok, gr_error_t *err)
{
	char *argv[24];
	size_t k = 0;
	_cleanup_free_ char *ns = netns_path ? xasprintf("--net=%s", netns_path) : NULL;
	if (ns) {
		argv[k++] = "nsenter";
		argv[k++] = ns;
	}
	argv[k++] = "tc";
	for (size_t i = 0; args[i] && k < 23; i++)
		argv[k++] = args[i];
	argv[k] = NULL;
	struct gr_proc p = { .argv = argv, .fd_in = GR_PROC_NULL, .fd_out = GR_PROC_PIPE,
			     .fd_err = GR_PROC_PIPE, .timeout_ms = 10000 };
	gr_error_t e;
	if (gr_proc_run(&p, &e) == 0)
		return 0;
	/* deleting a root qdisc that is the default one */
	if (absent_ok && (strstr(e.msg, "Cannot delete qdisc with handle of zero") ||
			  strstr(e.msg, "Cannot find device") || strstr(e.msg, "No such file or directory")))
		return 0;
	if (err)
		*err = e;
	return -1;
}

int gr_net_limit_apply(const char *dev, const char *netns_path, uint64_t bps, gr_error_t *err)
{
	if (!bps) {
		char *args[] = { "qdisc", "del", "dev", (char *)dev, "root", NULL };
		if (tc(netns_path, args, true, err) < 0)
			return gr_error_prefix(err, "removing the rate limit of %s", dev);
		return 0;
	}
	/* the bucket holds 10 ms of traffic, at least a few full frames */
	uint64_t burst = bps / 8 / 100;
	if (burst < 15000)
		burst = 15000;
	char rate[32], b[32];
	snprintf(rate, sizeof rate, "%llubit", (unsigned long long)bps);
	snprintf(b, sizeof b, "%llu", (unsigned long long)burst);
	char *args[] = { "qdisc", "replace", "dev", (char *)dev, "root", "tbf", "rate", rate,
			 "burst", b, "latency", "100ms", NULL };
	if (tc(netns_path, args, false, err) < 0)
		return gr_error_prefix(err, "rate limit %s on %s", rate, dev);
	return 0;
}
