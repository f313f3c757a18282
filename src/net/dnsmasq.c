/*
 * dnsmasq.c - one Debian dnsmasq per DHCP network on this host: its files,
 * its start, its liveness and its stop.  Everything of one network lives in
 * one folder (control passes <state_dir>/networks/<net>):
 *
 *   dnsmasq.conf   written at each start (bridge, subnet, the files below)
 *   dhcp-hosts     "MAC,IP,name" per instance: the reservations (re-read on SIGHUP)
 *   hosts          "IP name name.gureum" per instance: DNS names (re-read on SIGHUP)
 *   leases         dnsmasq's lease file
 *   dnsmasq.pid    its pid (dnsmasq writes it while daemonizing)
 *   dnsmasq.err    its stderr at start (the reason when it refuses to start)
 *
 * Invariants: the DHCP range is "static", so dnsmasq hands out an address
 * only to a MAC with a reservation, and that is exactly the IPAM address of
 * the store; it listens on the bridge only (interface= + bind-interfaces,
 * never the host's other links); it reads neither /etc/resolv.conf
 * (no-resolv: no upstream, it answers only the network's own names) nor the
 * host's /etc/hosts (no-hosts).  A running dnsmasq is recognised by its pid
 * file AND its command line naming this folder's config, so a recycled pid
 * is never taken for it and a second one is never started beside it.
 */
#include "net/net.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"

static char *path_in(const char *dir, const char *file)
{
	return xasprintf("%s/%s", dir, file);
}

pid_t gr_net_dns_pid(const char *dir)
{
	_cleanup_free_ char *pidf = path_in(dir, "dnsmasq.pid"), *conf = path_in(dir, "dnsmasq.conf");
	char *text = NULL;
	if (gr_read_file(pidf, 64, &text, NULL, NULL) < 0)
		return 0;
	long pid = strtol(text, NULL, 10);
	free(text);
	if (pid <= 1)
		return 0;
	/* the command line must name our config: a recycled pid is not ours */
	_cleanup_free_ char *cl = xasprintf("/proc/%ld/cmdline", pid);
	char *cmd = NULL;
	size_t len = 0;
	if (gr_read_file(cl, 8192, &cmd, &len, NULL) < 0)
		return 0;
	bool ours = false;
	for (size_t o = 0; o < len; o += strlen(cmd + o) + 1)
		if (!strncmp(cmd + o, "--conf-file=", 12) && !strcmp(cmd + o + 12, conf))
			ours = true;
	free(cmd);
	/* a zombie (exited, not reaped yet) is not running */
	_cleanup_free_ char *st = xasprintf("/proc/%ld/stat", pid);
	char *stat = NULL;
	if (ours && gr_read_file(st, 4096, &stat, NULL, NULL) == 0) {
		char *p = strrchr(stat, ')');
		if (p && p[1] == ' ' && p[2] == 'Z')
			ours = false;
		free(stat);
	}
	return ours ? (pid_t)pid : 0;
}

char *gr_net_dns_conf(const struct gr_net_dns *d)
{
	char gw[GR_NET_IP_MAX], base[GR_NET_IP_MAX], mask[GR_NET_IP_MAX];
	gr_net_ip_format(gr_net_gateway(&d->subnet), gw);
	gr_net_ip_format(d->subnet.base, base);
	gr_net_ip_format(gr_net_cidr_mask(&d->subnet), mask);
	return xasprintf("# written by gureumd for network %s: changes are lost at its next start\n"
			 "interface=%s\n"
			 "bind-interfaces\n"
			 "except-interface=lo\n"
			 "no-resolv\n"
			 "no-hosts\n"
			 "no-poll\n"
			 "domain-needed\n"
			 "bogus-priv\n"
			 "local=/gureum/\n"
			 "domain=gureum\n"
			 "user=root\n"
			 "dhcp-range=%s,static,%s,1h\n"
			 "dhcp-authoritative\n"
			 "dhcp-option=option:router,%s\n"
			 "dhcp-option=option:dns-server,%s\n"
			 "dhcp-hostsfile=%s/dhcp-hosts\n"
			 "addn-hosts=%s/hosts\n"
			 "dhcp-leasefile=%s/leases\n"
			 "pid-file=%s/dnsmasq.pid\n",
			 d->network, d->bridge, base, mask, gw, gw, d->dir, d->dir, d->dir, d->dir);
}

/* Write path when its content differs: 1 written, 0 same, -1. */
static int write_if_changed(const char *path, const char *text, gr_error_t *err)
{
	char *old = NULL;
	if (gr_read_file(path, 0, &old, NULL, NULL) == 0) {
		bool same = !strcmp(old, text);
		free(old);
		if (same)
			return 0;
	}
	if (gr_write_file_atomic(path, text, strlen(text), 0644, err) < 0)
		return -1;
	return 1;
}

int gr_net_dns_hosts(const char *dir, const struct gr_net_dns_host *hosts, size_t n, gr_error_t *err)
{
	size_t cap = 64 + n * 160, o = 0, o2 = 0;
	_cleanup_free_ char *dh = xmalloc(cap), *hs = xmalloc(cap);
	dh[0] = hs[0] = 0;
	for (size_t i = 0; i < n; i++) {
		char ip[GR_NET_IP_MAX];
		gr_net_ip_format(hosts[i].ip, ip);
		o += (size_t)snprintf(dh + o, cap - o, "%s,%s,%s\n", hosts[i].mac, ip, hosts[i].name);
		o2 += (size_t)snprintf(hs + o2, cap - o2, "%s %s %s.gureum\n", ip, hosts[i].name, hosts[i].name);
	}
	_cleanup_free_ char *p1 = path_in(dir, "dhcp-hosts"), *p2 = path_in(dir, "hosts");
	int a = write_if_changed(p1, dh, err);
	if (a < 0)
		return -1;
	int b = write_if_changed(p2, hs, err);
	if (b < 0)
		return -1;
	return a || b;
}

int gr_net_dns_start(const struct gr_net_dns *d, pid_t *pid, gr_error_t *err)
{
	if (gr_mkdir_p(d->dir, 0755, err) < 0)
		return -1;
	_cleanup_free_ char *confp = path_in(d->dir, "dnsmasq.conf"), *errp = path_in(d->dir, "dnsmasq.err");
	_cleanup_free_ char *conf = gr_net_dns_conf(d);
	if (gr_write_file_atomic(confp, conf, strlen(conf), 0644, err) < 0)
		return -1;
	/* the reservation files must exist before dnsmasq reads them */
	const char *files[] = { "dhcp-hosts", "hosts", "leases" };
	for (size_t i = 0; i < 3; i++) {
		_cleanup_free_ char *p = path_in(d->dir, files[i]);
		int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return gr_error_sys(err, "dnsmasq of network %s: %s", d->network, p);
		close(fd);
	}
	int efd = open(errp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (efd < 0)
		return gr_error_sys(err, "dnsmasq of network %s: %s", d->network, errp);
	_cleanup_free_ char *conf_arg = xasprintf("--conf-file=%s", confp);
	/* dnsmasq daemonizes: its first process exits once the daemon has bound
	 * its sockets and written the pid file, or with an error code; the
	 * daemon closes the stdio it inherited, so no pipe is held open */
	char *const argv[] = { "dnsmasq", conf_arg, NULL };
	struct gr_proc p = { .argv = argv, .fd_in = GR_PROC_NULL, .fd_out = efd, .fd_err = efd,
			     .new_session = true, .timeout_ms = 20000 };
	gr_error_t e;
	int r = gr_proc_run(&p, &e);
	close(efd);
	if (r < 0) {
		char *why = NULL;
		if (gr_read_file(errp, 2048, &why, NULL, NULL) == 0) {
			size_t l = strlen(why);
			while (l && why[l - 1] == '\n')
				why[--l] = 0;
		}
		gr_error_set(err, e.code, "dnsmasq of network %s did not start: %s%s%s", d->network, e.msg,
			     why && *why ? ": " : "", why ? why : "");
		free(why);
		return -1;
	}
	for (int i = 0; i < 100; i++) {
		pid_t got = gr_net_dns_pid(d->dir);
		if (got > 0) {
			if (pid)
				*pid = got;
			return 0;
		}
		usleep(20 * 1000);
	}
	return gr_error_set(err, ESRCH, "dnsmasq of network %s: started but no live pid in %s/dnsmasq.pid",
			    d->network, d->dir);
}

int gr_net_dns_reload(const char *dir)
{
	pid_t pid = gr_net_dns_pid(dir);
	return pid > 0 ? kill(pid, SIGHUP) : -1;
}

int gr_net_dns_stop(const char *dir, gr_error_t *err)
{
	pid_t pid = gr_net_dns_pid(dir);
	if (pid > 0) {
		kill(pid, SIGTERM);
		for (int i = 0; i < 100 && gr_net_dns_pid(dir) == pid; i++)
			usleep(20 * 1000);
		if (gr_net_dns_pid(dir) == pid) {
			kill(pid, SIGKILL);
			usleep(20 * 1000);
		}
	}
	return gr_rm_rf(dir, err);
}
