/*
 * test_dnsmasq.c - the file side of src/net/dnsmasq.c (no dnsmasq is run):
 * the config binds the bridge only, reads neither resolv.conf nor the host's
 * hosts and gives out reservations only; the reservation files are written
 * only when they change; a pid file naming a process that is not this
 * folder's dnsmasq is not taken for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "net/net.h"
#include "util/fs.h"
#include "tap.h"

int main(void)
{
	char tmpl[] = "/tmp/gr-test-dnsmasq.XXXXXX";
	char *dir = mkdtemp(tmpl);
	ok(dir != NULL, "temp folder");
	struct gr_net_dns d = { "nd", "gr-nd", { 0x0acc0000u, 24 }, dir };
	char *conf = gr_net_dns_conf(&d);
	ok(strstr(conf, "\ninterface=gr-nd\n") && strstr(conf, "\nbind-interfaces\n"), "bound to the bridge only");
	ok(strstr(conf, "\nno-resolv\n") && strstr(conf, "\nno-hosts\n"), "no resolv.conf, no host hosts file");
	ok(strstr(conf, "\ndhcp-range=10.204.0.0,static,255.255.255.0,"), "static range: reservations only");
	ok(strstr(conf, "option:router,10.204.0.1\n") && strstr(conf, "option:dns-server,10.204.0.1\n"),
	   "router and DNS server: the gateway");
	free(conf);

	struct gr_net_dns_host h[2] = { { "02:00:00:00:00:01", 0x0acc0002u, "c1" },
					{ "02:00:00:00:00:02", 0x0acc0032u, "vm1" } };
	gr_error_t e;
	is_int(gr_net_dns_hosts(dir, h, 2, &e), 1, "reservations written");
	is_int(gr_net_dns_hosts(dir, h, 2, &e), 0, "the same again: unchanged");
	char path[512], *text = NULL;
	snprintf(path, sizeof path, "%s/dhcp-hosts", dir);
	ok(gr_read_file(path, 0, &text, NULL, NULL) == 0, "dhcp-hosts readable");
	is_str(text, "02:00:00:00:00:01,10.204.0.2,c1\n02:00:00:00:00:02,10.204.0.50,vm1\n", "dhcp-hosts: MAC,IP,name");
	free(text);
	snprintf(path, sizeof path, "%s/hosts", dir);
	ok(gr_read_file(path, 0, &text, NULL, NULL) == 0, "hosts readable");
	is_str(text, "10.204.0.2 c1 c1.gureum\n10.204.0.50 vm1 vm1.gureum\n", "hosts: IP name name.gureum");
	free(text);
	is_int(gr_net_dns_hosts(dir, h, 1, &e), 1, "one reservation less: changed");

	is_int((int)gr_net_dns_pid(dir), 0, "no pid file: none runs");
	snprintf(path, sizeof path, "%s/dnsmasq.pid", dir);
	char mine[32];
	snprintf(mine, sizeof mine, "%d\n", (int)getpid());
	gr_write_file_atomic(path, mine, strlen(mine), 0644, NULL);
	is_int((int)gr_net_dns_pid(dir), 0, "a pid that is not this folder's dnsmasq is not taken");
	is_int(gr_net_dns_reload(dir), -1, "no reload without a dnsmasq");
	ok(gr_net_dns_stop(dir, &e) == 0 && access(dir, F_OK) < 0, "stop removes the folder");
	return tap_done();
}
