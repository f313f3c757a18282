/*
 * etcd_cluster.h - a private etcd cluster for the store tests: 3 members of
 * the Debian etcd-server 3.4 on 127.0.0.1, client and peer ports picked free
 * by binding port 0, data under the test's temp folder.  Members are started
 * with PR_SET_PDEATHSIG (they die with the test process, also when it
 * crashes) and store_test.h's reaper removes the folder after the test
 * process is gone, whatever way it ends.
 *
 * Heartbeat 250 ms, election timeout 2.5 s (etcd's shortest lease TTL is then
 * 4 s).  Optionally with TLS on the client port (--client-cert-auth): a CA, a server
 * certificate for IP 127.0.0.1 and a client certificate are made with
 * openssl first.  Peers talk plain HTTP on loopback.
 */
#ifndef GR_TESTS_ETCD_CLUSTER_H
#define GR_TESTS_ETCD_CLUSTER_H

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "store/store.h"
#include "util/fs.h"
#include "util/proc.h"

#define ST_ETCD_MEMBERS 3

struct st_etcd_member {
	pid_t pid;
	int client_port, peer_port;
	char name[16];
	char dir[400];
	char log[400];
};

struct st_etcd {
	struct st_etcd_member m[ST_ETCD_MEMBERS];
	char root[300];
	char token[64];
	bool tls;
	char ca[400], ca_key[400], srv[400], srv_key[400], cli[400], cli_key[400];
};

static inline void st_etcd__sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* n free loopback TCP ports (held open together so they are distinct). */
static inline int st_etcd__ports(int *ports, int n)
{
	int fds[16];
	int ok = 0;
	for (int i = 0; i < n; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof a;
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&a, sizeof a) < 0 ||
		    getsockname(fds[i], (struct sockaddr *)&a, &len) < 0) {
			n = i + 1;
			ok = -1;
			break;
		}
		ports[i] = ntohs(a.sin_port);
	}
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return ok;
}

static inline const char *st_etcd__scheme(const struct st_etcd *c)
{
	return c->tls ? "https" : "http";
}

/* "127.0.0.1:p1,127.0.0.1:p2,..." of the members in `which` (bitmask; 0 = all). */
static inline const char *st_etcd_endpoints(const struct st_etcd *c, unsigned which)
{
	static char buf[4][256];
	static int k;
	char *b = buf[k++ % 4];
	b[0] = '\0';
	for (int i = 0; i < ST_ETCD_MEMBERS; i++) {
		if (which && !(which & (1u << i)))
			continue;
		size_t n = strlen(b);
		snprintf(b + n, sizeof buf[0] - n, "%s127.0.0.1:%d", n ? "," : "", c->m[i].client_port);
	}
	return b;
}

/* The store URL for the members in `which` (0 = all, in member order), plus
 * extra options ("timeout=2000", may be NULL); TLS files added when the
 * cluster has TLS. */
static inline const char *st_etcd_url(const struct st_etcd *c, unsigned which, const char *extra)
{
	static char buf[4][1600];
	static int k;
	char *b = buf[k++ % 4];
	if (c->tls)
		snprintf(b, sizeof buf[0], "etcds://%s?cacert=%s&cert=%s&key=%s%s%s", st_etcd_endpoints(c, which),
			 c->ca, c->cli, c->cli_key, extra ? "&" : "", extra ? extra : "");
	else
		snprintf(b, sizeof buf[0], "etcd://%s%s%s", st_etcd_endpoints(c, which), extra ? "?" : "",
			 extra ? extra : "");
	return b;
}

/* Like st_etcd_url for every member, listed from member `first` on (the
 * handle uses that one until it fails). */
static inline const char *st_etcd_url_from(const struct st_etcd *c, int first, const char *extra)
{
	static char buf[2][256];
	static int k;
	char *b = buf[k++ % 2];
	b[0] = '\0';
	for (int j = 0; j < ST_ETCD_MEMBERS; j++) {
		size_t n = strlen(b);
		snprintf(b + n, sizeof buf[0] - n, "%s127.0.0.1:%d", j ? "," : "",
			 c->m[(first + j) % ST_ETCD_MEMBERS].client_port);
	}
	static char url[2][1600];
	char *u = url[k % 2];
	if (c->tls)
		snprintf(u, sizeof url[0], "etcds://%s?cacert=%s&cert=%s&key=%s%s%s", b, c->ca, c->cli, c->cli_key,
			 extra ? "&" : "", extra ? extra : "");
	else
		snprintf(u, sizeof url[0], "etcd://%s%s%s", b, extra ? "?" : "", extra ? extra : "");
	return u;
}

static inline int st_etcd__run(char *const *argv, const char *cwd)
{
	gr_error_t err = {0};
	struct gr_proc p = { .argv = argv, .cwd = cwd, .fd_in = GR_PROC_NULL, .fd_out = GR_PROC_PIPE,
			     .fd_err = GR_PROC_PIPE, .timeout_ms = 120000 };
	if (gr_proc_run(&p, &err) < 0) {
		printf("# %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* CA, server (IP 127.0.0.1; also a client cert: etcd's gateway dials its own
 * gRPC port with it) and client certificates, EC P-256, valid 2 days. */
static inline int st_etcd__certs(struct st_etcd *c)
{
	char *d = c->root;
	snprintf(c->ca, sizeof c->ca, "%s/ca.pem", d);
	snprintf(c->ca_key, sizeof c->ca_key, "%s/ca.key", d);
	snprintf(c->srv, sizeof c->srv, "%s/server.pem", d);
	snprintf(c->srv_key, sizeof c->srv_key, "%s/server.key", d);
	snprintf(c->cli, sizeof c->cli, "%s/client.pem", d);
	snprintf(c->cli_key, sizeof c->cli_key, "%s/client.key", d);
	char ext_srv[400], ext_cli[400];
	snprintf(ext_srv, sizeof ext_srv, "%s/server.ext", d);
	snprintf(ext_cli, sizeof ext_cli, "%s/client.ext", d);
	const char srv_ext[] = "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n";
	const char cli_ext[] = "extendedKeyUsage=clientAuth\n";
	if (gr_write_file_atomic(ext_srv, srv_ext, sizeof srv_ext - 1, 0600, NULL) < 0 ||
	    gr_write_file_atomic(ext_cli, cli_ext, sizeof cli_ext - 1, 0600, NULL) < 0)
		return -1;
	char *ca[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
		       "-nodes", "-keyout", c->ca_key, "-out", c->ca, "-days", "2", "-subj", "/CN=gureum-test-ca",
		       NULL };
	if (st_etcd__run(ca, d) < 0)
		return -1;
	const char *names[2] = { "server", "client" };
	/* The client certificate has no CommonName: with auth on, etcd 3.4 refuses
	 * gateway requests whose certificate has one (it would not be used). */
	const char *cns[2] = { "/CN=127.0.0.1", "/O=gureum-test-client" };
	char *pems[2] = { c->srv, c->cli }, *keys[2] = { c->srv_key, c->cli_key }, *exts[2] = { ext_srv, ext_cli };
	for (int i = 0; i < 2; i++) {
		char csr[400];
		snprintf(csr, sizeof csr, "%s/%s.csr", d, names[i]);
		char *req[] = { "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
				"-keyout", keys[i], "-out", csr, "-subj", (char *)cns[i], NULL };
		char *sign[] = { "openssl", "x509", "-req", "-in", csr, "-CA", c->ca, "-CAkey", c->ca_key,
				 "-CAcreateserial", "-out", pems[i], "-days", "2", "-extfile", exts[i], NULL };
		if (st_etcd__run(req, d) < 0 || st_etcd__run(sign, d) < 0)
			return -1;
	}
	return 0;
}

static inline int st_etcd__spawn(struct st_etcd *c, int i, bool existing)
{
	struct st_etcd_member *m = &c->m[i];
	char cluster[512] = "", listen[64], peer[64], state[40], tok[100];
	for (int j = 0; j < ST_ETCD_MEMBERS; j++) {
		size_t n = strlen(cluster);
		snprintf(cluster + n, sizeof cluster - n, "%sm%d=http://127.0.0.1:%d", j ? "," : "", j,
			 c->m[j].peer_port);
	}
	snprintf(listen, sizeof listen, "%s://127.0.0.1:%d", st_etcd__scheme(c), m->client_port);
	snprintf(peer, sizeof peer, "http://127.0.0.1:%d", m->peer_port);
	snprintf(state, sizeof state, "--initial-cluster-state=%s", existing ? "existing" : "new");
	snprintf(tok, sizeof tok, "--initial-cluster-token=%s", c->token);
	char *argv[40] = { "etcd", "--name", m->name, "--data-dir", m->dir, "--listen-client-urls", listen,
			   "--advertise-client-urls", listen, "--listen-peer-urls", peer,
			   "--initial-advertise-peer-urls", peer, "--initial-cluster", cluster, state, tok,
			   "--logger=zap", "--log-level=warn", "--log-outputs=stderr",
			   /* 10x etcd's defaults: builds and guests share the 2 cores, and a
			    * starved member must not trigger elections in the middle of a test */
			   "--heartbeat-interval=250", "--election-timeout=2500" };
	int n = 0;
	while (argv[n])
		n++;
	char cert[420], key[420], ca[420];
	if (c->tls) {
		snprintf(cert, sizeof cert, "--cert-file=%s", c->srv);
		snprintf(key, sizeof key, "--key-file=%s", c->srv_key);
		snprintf(ca, sizeof ca, "--trusted-ca-file=%s", c->ca);
		argv[n++] = cert;
		argv[n++] = key;
		argv[n++] = ca;
		argv[n++] = "--client-cert-auth";
		argv[n++] = "--auth-token-ttl=3"; /* the TLS cluster's auth test waits out a token */
	}
	argv[n] = NULL;
	int log = open(m->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (log < 0)
		return -1;
	gr_error_t err = {0};
	struct gr_proc p = { .argv = argv, .fd_in = GR_PROC_NULL, .fd_out = log, .fd_err = log,
			     .die_with_parent = true };
	m->pid = gr_proc_spawn(&p, NULL, &err);
	close(log);
	if (m->pid < 0) {
		printf("# starting etcd member %s: %s\n", m->name, err.msg);
		m->pid = 0;
		return -1;
	}
	return 0;
}

/* The member answers a linearizable read (it is in a cluster with a leader). */
static inline bool st_etcd__ready(struct st_etcd *c, int i)
{
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	if (gr_store_open(st_etcd_url(c, 1u << i, "timeout=1000"), NULL, &s, &err) < 0)
		return false;
	gr_store_close(s);
	return true;
}

static inline bool st_etcd__alive(struct st_etcd_member *m)
{
	int status;
	if (m->pid <= 0)
		return false;
	if (waitpid(m->pid, &status, WNOHANG) == m->pid) {
		m->pid = 0;
		return false;
	}
	return true;
}

static inline void st_etcd__log_tail(struct st_etcd_member *m)
{
	char *text = NULL;
	size_t len = 0;
	if (gr_read_file(m->log, 0, &text, &len, NULL) < 0)
		return;
	size_t from = len > 1500 ? len - 1500 : 0;
	for (char *line = strtok(text + from, "\n"); line; line = strtok(NULL, "\n"))
		printf("#   %s: %s\n", m->name, line);
	free(text);
}

/* Wait (bounded: 90 s, for a loaded machine) until member i answers. */
static inline int st_etcd_wait(struct st_etcd *c, int i)
{
	for (int t = 0; t < 900; t++) {
		if (!st_etcd__alive(&c->m[i])) {
			printf("# etcd member %s exited\n", c->m[i].name);
			st_etcd__log_tail(&c->m[i]);
			return -1;
		}
		if (st_etcd__ready(c, i))
			return 0;
		st_etcd__sleep_ms(100);
	}
	printf("# etcd member %s did not answer within 90 s\n", c->m[i].name);
	st_etcd__log_tail(&c->m[i]);
	return -1;
}

/* SIGKILL member i and reap it. */
static inline void st_etcd_kill(struct st_etcd *c, int i)
{
	if (c->m[i].pid > 0) {
		kill(c->m[i].pid, SIGKILL);
		waitpid(c->m[i].pid, NULL, 0);
		c->m[i].pid = 0;
	}
}

/* Start member i again on its data (it rejoins) and wait until it answers. */
static inline int st_etcd_restart(struct st_etcd *c, int i)
{
	if (st_etcd__spawn(c, i, true) < 0)
		return -1;
	return st_etcd_wait(c, i);
}

static inline void st_etcd_stop(struct st_etcd *c)
{
	for (int i = 0; i < ST_ETCD_MEMBERS; i++) {
		if (c->m[i].pid > 0) {
			kill(c->m[i].pid, SIGTERM);
			gr_error_t err = {0};
			int status;
			if (gr_proc_wait(c->m[i].pid, 20000, &status, &err) < 0)
				st_etcd_kill(c, i);
			c->m[i].pid = 0;
		}
	}
	if (c->root[0])
		gr_rm_rf(c->root, NULL);
	c->root[0] = '\0';
}

/* Start a fresh 3-member cluster in <parent>/<name>; 0 when every member
 * answers, -1 (with "#" lines saying why) otherwise.  Retried with other
 * ports if one was taken in between. */
static inline int st_etcd_start(struct st_etcd *c, const char *parent, const char *name, bool tls)
{
	memset(c, 0, sizeof *c);
	c->tls = tls;
	snprintf(c->root, sizeof c->root, "%s/%s", parent, name);
	snprintf(c->token, sizeof c->token, "gr-test-%d-%s", (int)getpid(), name);
	if (gr_mkdir_p(c->root, 0700, NULL) < 0)
		return -1;
	if (tls && st_etcd__certs(c) < 0)
		return -1;
	for (int attempt = 0; attempt < 3; attempt++) {
		int ports[2 * ST_ETCD_MEMBERS];
		if (st_etcd__ports(ports, 2 * ST_ETCD_MEMBERS) < 0)
			return -1;
		int failed = 0;
		for (int i = 0; i < ST_ETCD_MEMBERS; i++) {
			struct st_etcd_member *m = &c->m[i];
			m->client_port = ports[2 * i];
			m->peer_port = ports[2 * i + 1];
			snprintf(m->name, sizeof m->name, "m%d", i);
			snprintf(m->dir, sizeof m->dir, "%s/m%d-%d", c->root, i, attempt);
			snprintf(m->log, sizeof m->log, "%s/m%d.log", c->root, i);
		}
		for (int i = 0; i < ST_ETCD_MEMBERS && !failed; i++)
			failed = st_etcd__spawn(c, i, false) < 0;
		for (int i = 0; i < ST_ETCD_MEMBERS && !failed; i++)
			failed = st_etcd_wait(c, i) < 0;
		if (!failed)
			return 0;
		for (int i = 0; i < ST_ETCD_MEMBERS; i++)
			st_etcd_kill(c, i);
		printf("# etcd cluster attempt %d failed; trying other ports\n", attempt + 1);
	}
	return -1;
}

/* Run etcdctl against the cluster (TLS files added); extra args after.
 * capture (may be NULL) gets its stdout. */
static inline int st_etcdctl(struct st_etcd *c, char *const *args, char **capture)
{
	char eps[300], cacert[420], cert[420], key[420];
	snprintf(eps, sizeof eps, "--endpoints=");
	for (int i = 0; i < ST_ETCD_MEMBERS; i++) {
		size_t n = strlen(eps);
		snprintf(eps + n, sizeof eps - n, "%s%s://127.0.0.1:%d", i ? "," : "", st_etcd__scheme(c),
			 c->m[i].client_port);
	}
	char *argv[32] = { "etcdctl", eps };
	int n = 2;
	if (c->tls) {
		snprintf(cacert, sizeof cacert, "--cacert=%s", c->ca);
		snprintf(cert, sizeof cert, "--cert=%s", c->cli);
		snprintf(key, sizeof key, "--key=%s", c->cli_key);
		argv[n++] = cacert;
		argv[n++] = cert;
		argv[n++] = key;
	}
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	char *env[] = { "ETCDCTL_API=3", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	gr_error_t err = {0};
	struct gr_proc p = { .argv = argv, .envp = env, .fd_in = GR_PROC_NULL, .fd_out = GR_PROC_PIPE,
			     .fd_err = GR_PROC_PIPE, .timeout_ms = 60000, .capture = capture };
	if (gr_proc_run(&p, &err) < 0) {
		printf("# etcdctl: %s\n", err.msg);
		return -1;
	}
	return 0;
}

/* The member that leads the cluster now (from `etcdctl endpoint status`), or -1. */
static inline int st_etcd_leader(struct st_etcd *c)
{
	char *out = NULL;
	char *args[] = { "endpoint", "status", NULL };
	int leader = -1;
	if (st_etcdctl(c, args, &out) == 0) {
		/* "<scheme>://127.0.0.1:PORT, <id>, <version>, <size>, <is leader>, ..." */
		char *s1 = NULL;
		for (char *line = strtok_r(out, "\n", &s1); line; line = strtok_r(NULL, "\n", &s1)) {
			int port = 0;
			char *s2 = NULL, *first = strtok_r(line, ",", &s2), *f = NULL;
			char *colon = first ? strrchr(first, ':') : NULL;
			if (colon)
				port = atoi(colon + 1);
			for (int k = 0; k < 4; k++)
				f = strtok_r(NULL, ",", &s2);
			for (int i = 0; f && i < ST_ETCD_MEMBERS; i++)
				if (c->m[i].client_port == port && strstr(f, "true"))
					leader = i;
		}
	}
	free(out);
	return leader;
}

#endif
