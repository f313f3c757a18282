/*
 * netmetrics.c - per-NIC traffic in /metrics (docs/NETWORK.md): for each
 * running instance of this host, each NIC's bytes and packets, read from
 * the counters of its host link (veth host end or tap; one netlink dump per
 * scrape) and turned round to the instance's view: what the host end sent,
 * the instance received.
 */
#include "control/control-internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"
#include "util/log.h"

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

char *gr__net_metrics(struct gr_control *c)
{
	static const struct {
		const char *name, *help;
	} m[4] = {
		{ "gureum_nic_receive_bytes_total", "Bytes received by an instance's NIC." },
		{ "gureum_nic_transmit_bytes_total", "Bytes sent by an instance's NIC." },
		{ "gureum_nic_receive_packets_total", "Packets received by an instance's NIC." },
		{ "gureum_nic_transmit_packets_total", "Packets sent by an instance's NIC." },
	};
	char *lines[4];
	for (int k = 0; k < 4; k++)
		lines[k] = xstrdup("");
	struct gr_net_link_stats *st = NULL;
	size_t nst = 0;
	gr_error_t e;
	if (gr_net_link_stats(&st, &nst, &e) < 0)
		gr_log_warn("metrics: %s", e.msg);
	char **names = gr__index_names(c);
	for (size_t i = 0; nst && names[i]; i++) {
		struct gr_instance in;
		if (gr__inst_get(c, names[i], &in, NULL) < 0)
			continue;
		if (in.state == GR_ST_RUNNING && (!in.host[0] || !strcmp(in.host, c->hostname))) {
			for (unsigned n = 0; n < in.n_nics; n++) {
				char dev[16];
				if (in.backend == GR_BACKEND_VM)
					gr_net_tap_name(in.name, n, dev);
				else
					gr_net_host_if(in.name, n, dev);
				const struct gr_net_link_stats *s = gr_net_link_stats_find(st, nst, dev);
				if (!s)
					continue;
				/* the instance's view: the host end's tx is its rx */
				unsigned long long v[4] = { s->tx_bytes, s->rx_bytes, s->tx_packets, s->rx_packets };
				for (int k = 0; k < 4; k++)
					lines[k] = append(lines[k], "%s{name=\"%s\",nic=\"eth%u\",network=\"%s\"} %llu\n",
							  m[k].name, in.name, n, in.nics[n].network, v[k]);
			}
		}
		gr__inst_clear(&in);
	}
	gr_strv_free(names);
	free(st);
	char *out = xstrdup("");
	for (int k = 0; k < 4; k++) {
		out = append(out, "# HELP %s %s\n# TYPE %s counter\n%s", m[k].name, m[k].help, m[k].name, lines[k]);
		free(lines[k]);
	}
	return out;
}
