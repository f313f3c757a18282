/*
 * cloudinit.c - the cloud-init NoCloud seed: meta-data (instance-id, local-hostname),
 * user-data (#cloud-config: hostname, users, ssh_authorized_keys) and network-config
 * (version 2, one NIC, static or dhcp), written as a small vfat image labelled CIDATA
 * (mkfs.vfat + mcopy: no mount, no root needed).  Every value is validated before it
 * is written, so nothing a user passes can change the YAML's structure.
 */
#include "vm/vm.h"
#include "util/alloc.h"
#include "util/proc.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int hostname_ok(const char *h)
{
	size_t n = h ? strlen(h) : 0;
	if (n == 0 || n > 253)
		return 0;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		if (c == '.') {
			if (label == 0 || h[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && !(c == '-' && label > 0))
			return 0;
		if (++label > 63)
			return 0;
	}
	return h[n - 1] != '-' && h[n - 1] != '.';
}

static int token_ok(const char *s, const char *extra, size_t max)
{
	if (!s || !*s || strlen(s) > max)
		return 0;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr(extra, *p)))
			return 0;
	return 1;
}

/* "a.b.c.d" or, with cidr, "a.b.c.d/n" */
static int ipv4_ok(const char *s, int cidr)
{
	unsigned a, b, c, d, m;
	char tail;
	if (cidr)
		return sscanf(s, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &m, &tail) == 5 && a < 256 && b < 256 &&
		       c < 256 && d < 256 && m <= 32 && token_ok(s, "./", 18);
	return sscanf(s, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a < 256 && b < 256 && c < 256 &&
	       d < 256 && token_ok(s, ".", 15);
}

/* An OpenSSH public key line: type, base64, optional comment; printable, no quotes. */
static int ssh_key_ok(const char *k)
{
	if (!k || strlen(k) < 16 || strlen(k) > 16384)
		return 0;
	if (strncmp(k, "ssh-", 4) && strncmp(k, "ecdsa-", 6) && strncmp(k, "sk-", 3))
		return 0;
	for (const char *p = k; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
			return 0;
	return strchr(k, ' ') != NULL;
}

int gr_vm_seed_render(const struct gr_vm_seed *s, char **meta_data, char **user_data, char **network_config,
		      gr_error_t *err)
{
	if (!token_ok(s->instance_id, "._-", 128))
		return gr_error_set(err, EINVAL, "seed.instance_id: '%s' must be 1-128 of [A-Za-z0-9._-]",
				    s->instance_id ? s->instance_id : "");
	if (!hostname_ok(s->hostname))
		return gr_error_set(err, EINVAL, "seed.hostname: '%s' is not a valid host name (RFC 1123)",
				    s->hostname ? s->hostname : "");
	if (s->user && (!token_ok(s->user, "_-", 32) || s->user[0] == '-'))
		return gr_error_set(err, EINVAL, "seed.user: '%s' is not a valid user name", s->user);
	for (size_t i = 0; s->ssh_keys && s->ssh_keys[i]; i++)
		if (!ssh_key_ok(s->ssh_keys[i]))
			return gr_error_set(err, EINVAL, "seed.ssh_keys[%zu]: not an OpenSSH public key line", i);
	if (s->address && !ipv4_ok(s->address, 1))
		return gr_error_set(err, EINVAL, "seed.address: '%s' is not an IPv4 CIDR (a.b.c.d/n)", s->address);
	if (s->gateway && !ipv4_ok(s->gateway, 0))
		return gr_error_set(err, EINVAL, "seed.gateway: '%s' is not an IPv4 address", s->gateway);
	if (s->gateway && !s->address)
		return gr_error_set(err, EINVAL, "seed.gateway: needs seed.address");
	if (s->mac && !token_ok(s->mac, ":", 17))
		return gr_error_set(err, EINVAL, "seed.mac: '%s' is not a MAC address", s->mac);

	*meta_data = xasprintf("instance-id: %s\nlocal-hostname: %s\n", s->instance_id, s->hostname);

	size_t cap = 4096;
	for (size_t i = 0; s->ssh_keys && s->ssh_keys[i]; i++)
		cap += 2 * strlen(s->ssh_keys[i]) + 16;
	char *u = xmalloc(cap);
	size_t n = (size_t)snprintf(u, cap, "#cloud-config\nhostname: %s\nmanage_etc_hosts: true\n", s->hostname);
	if (s->ssh_keys && s->ssh_keys[0]) {
		n += (size_t)snprintf(u + n, cap - n, "ssh_authorized_keys:\n");
		for (size_t i = 0; s->ssh_keys[i]; i++)
			n += (size_t)snprintf(u + n, cap - n, "  - \"%s\"\n", s->ssh_keys[i]);
	}
	if (s->user) {
		n += (size_t)snprintf(u + n, cap - n,
				      "users:\n  - default\n  - name: %s\n    shell: /bin/sh\n    sudo: "
				      "\"ALL=(ALL) NOPASSWD:ALL\"\n",
				      s->user);
		if (s->ssh_keys && s->ssh_keys[0]) {
			n += (size_t)snprintf(u + n, cap - n, "    ssh_authorized_keys:\n");
			for (size_t i = 0; s->ssh_keys[i]; i++)
				n += (size_t)snprintf(u + n, cap - n, "      - \"%s\"\n", s->ssh_keys[i]);
		}
	}
	*user_data = u;

	char match[64] = "";
	if (s->mac)
		snprintf(match, sizeof match, "    match:\n      macaddress: \"%s\"\n", s->mac);
	else
		snprintf(match, sizeof match, "    match:\n      name: \"e*\"\n");
	if (s->address)
		*network_config = xasprintf("version: 2\nethernets:\n  nic0:\n%s    addresses: [%s]\n%s%s%s%s", match,
					    s->address, s->gateway ? "    gateway4: " : "",
					    s->gateway ? s->gateway : "", s->gateway ? "\n" : "",
					    s->dhcp ? "    dhcp4: true\n" : "");
	else
		*network_config = xasprintf("version: 2\nethernets:\n  nic0:\n%s    dhcp4: true\n", match);
	return 0;
}

static int run_quiet(char *const argv[], gr_error_t *err)
{
	struct gr_proc p = { .argv = argv, .fd_in = GR_PROC_NULL, .fd_out = GR_PROC_PIPE, .fd_err = GR_PROC_PIPE };
	if (gr_proc_run(&p, err) < 0)
		return err && err->code == ENOENT ? gr_error_prefix(err, "install dosfstools and mtools") : -1;
	return 0;
}

int gr_vm_seed_write(const struct gr_vm_seed *s, const char *path, gr_error_t *err)
{
	_cleanup_free_ char *md = NULL, *ud = NULL, *nc = NULL;
	if (gr_vm_seed_render(s, &md, &ud, &nc, err) < 0)
		return -1;
	_cleanup_free_ char *tmpdir = xasprintf("%s.d", path);
	_cleanup_free_ char *tmpimg = xasprintf("%s.tmp", path);
	gr_rm_rf(tmpdir, NULL);
	unlink(tmpimg);
	if (mkdir(tmpdir, 0700) < 0)
		return gr_error_sys(err, "cannot create %s", tmpdir);
	const char *names[] = {"meta-data", "user-data", "network-config"};
	const char *texts[] = {md, ud, nc};
	char *files[3] = {0};
	int rc = 0;
	for (int i = 0; i < 3 && rc == 0; i++) {
		files[i] = xasprintf("%s/%s", tmpdir, names[i]);
		rc = gr_write_file_atomic(files[i], texts[i], strlen(texts[i]), 0600, err);
	}
	if (rc == 0) {
		char *mk[] = {"mkfs.vfat", "-C", "-n", "CIDATA", tmpimg, "1024", NULL};
		rc = run_quiet(mk, err);
	}
	if (rc == 0) {
		char *mc[] = {"mcopy", "-o", "-i", tmpimg, files[0], files[1], files[2], "::/", NULL};
		rc = run_quiet(mc, err);
	}
	if (rc == 0 && rename(tmpimg, path) < 0)
		rc = gr_error_sys(err, "cannot rename %s", tmpimg);
	for (int i = 0; i < 3; i++)
		free(files[i]);
	gr_rm_rf(tmpdir, NULL);
	unlink(tmpimg);
	return rc < 0 ? gr_error_prefix(err, "writing the NoCloud seed %s", path) : 0;
}
