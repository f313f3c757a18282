/*
 * main.c - gureumd, the per-host daemon: flags, then one event loop.
 *
 * The loop (epoll on this thread) waits on a signalfd (TERM/INT end the
 * daemon; instances keep running), a 1 s timerfd (store lease expiry and
 * change notifications) and the control layer's watch fd (an instance's main
 * process ended).  HTTP is served by libmicrohttpd threads (src/api) and
 * blocking follow-up work runs on control's worker threads, so the loop
 * never blocks.  The daemon is a child subreaper: container inits whose
 * short-lived creator exits are re-parented to it and reaped via pidfds.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "agent/lxcfs.h"
#include "api/api.h"
#include "api/peer.h"
#include "control/control.h"
#include "runtime/runtime.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/notify.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gureumd [OPTIONS]\n"
		"\n"
		"The gureum daemon: serves the REST API and runs this host's instances.\n"
		"Stopping it (SIGTERM/SIGINT) leaves instances running; the next start finds them.\n"
		"\n"
		"  --state-dir DIR      store, images, layers, instance folders (GUREUM_STATE_DIR,\n"
		"                       default /var/lib/gureum)\n"
		"  --run-dir DIR        runtime state and the socket (GUREUM_RUN_DIR, default /run/gureum)\n"
		"  --socket PATH        API unix socket, root only (default RUN_DIR/gureum.sock)\n"
		"  --cgroup-prefix NAME cgroup parent of the instances (default gureum)\n"
		"  --store URL          state store (GUREUM_STORE; default sqlite://STATE_DIR/state.db;\n"
		"                       etcd://HOST:PORT,... for a cluster, see docs/CLUSTER.md)\n"
		"  --host-name NAME     this host's name in the pool (default the machine's hostname)\n"
		"  --host-ttl SECONDS   host lease TTL: offline this long after the daemon dies\n"
		"                       (default 10)\n"
		"  --host-address ADDR  the API address other hosts reach (default --listen's)\n"
		"  --peer-listen IP:PORT  in a pool: serve the host-to-host channel (mutual TLS, this\n"
		"                       host's certificate made once in STATE_DIR; masters are fetched\n"
		"                       from other hosts through it; see docs/CLUSTER.md)\n"
		"  --listen HOST:PORT   also serve HTTPS on TCP (needs --tls-cert, --tls-key, --tokens)\n"
		"  --tls-cert FILE      PEM certificate for --listen\n"
		"  --tls-key FILE       PEM private key for --listen\n"
		"  --tokens FILE        bearer tokens: lines '<token> admin|viewer'\n"
		"  --no-tls             plain HTTP on --listen (benchmarks on loopback only)\n"
		"  --pid-file FILE      write the daemon's pid here\n"
		"  --log FILE           log here instead of stderr;  --log-json  JSON lines\n"
		"  --debug              verbose log\n"
		"  --idmap-base N       first host ID of unprivileged containers' ranges (default 1000000)\n"
		"  --idmap-size N       IDs per unprivileged container (default 65536)\n"
		"  --lxcfs PROGRAM      the lxcfs to run (default lxcfs from PATH): containers' /proc/meminfo,\n"
		"                       cpuinfo, stat, uptime and cpu/online show their limits\n"
		"  --no-lxcfs           do not run lxcfs (containers see the host's /proc files)\n"
		"  --default-network none|CIDR  make the default network gr0 (bridge, NAT, DHCP) on this\n"
		"                       subnet at start when it does not exist (default none)\n"
		"  --no-host-tuning     leave the cgroup2 mount as found (by default gureumd adds\n"
		"                       favordynmods, so container starts skip an RCU grace period)\n"
		"  -h, --help           this text\n");
}

/* control's fetch hook: the peer channel's client as this host */
static int peer_get(void *ud, const char *host, const json_t *peer, const char *path, int fd, gr_error_t *err)
{
	return gr_peer_get(ud, host, peer, path, fd, err);
}

/* control's create hook: a create placed on another host, sent there as this host */
/* control's live-move hook: the target's part of a move over the channel */
static int peer_post(void *ud, const char *from, const char *host, const json_t *peer, const char *path, json_t *req,
		     json_t **out, gr_error_t *err)
{
	return gr_peer_post(ud, from, host, peer, path, req, out, err);
}

static int peer_create(void *ud, const char *from, const char *host, const json_t *peer, json_t *req,
		       json_t **out, gr_error_t *err)
{
	return gr_peer_create(ud, from, host, peer, req, out, err);
}

int main(int argc, char **argv)
{
	const char *state_dir = getenv("GUREUM_STATE_DIR"), *run_dir = getenv("GUREUM_RUN_DIR");
	const char *sock = NULL, *prefix = NULL, *listen_addr = NULL, *cert = NULL, *key = NULL;
	const char *tokens = NULL, *log_path = NULL, *pid_file = NULL;
	const char *store_url = getenv("GUREUM_STORE"), *host_name = NULL, *host_addr = NULL;
	int host_ttl = 10;
	int log_json = 0, debug = 0, no_tls = 0, no_tune = 0;
	enum { O_STATE = 256, O_RUN, O_SOCK, O_CG, O_LISTEN, O_CERT, O_KEY, O_TOKENS, O_LOG,
	       O_LOGJSON, O_DEBUG, O_NOTLS, O_PID, O_NOTUNE, O_STORE, O_HOSTNAME, O_HOSTTTL,
	       O_HOSTADDR, O_IDBASE, O_IDSIZE, O_LXCFS, O_NOLXCFS, O_PEER, O_DEFNET };
	const char *default_network = NULL;
	const char *lxcfs_prog = NULL, *peer_listen = NULL;
	int no_lxcfs = 0;
	unsigned long long idmap_base = 0, idmap_size = 0;
	char *end;
	static const struct option opts[] = {
		{ "state-dir", required_argument, 0, O_STATE }, { "run-dir", required_argument, 0, O_RUN },
		{ "socket", required_argument, 0, O_SOCK }, { "cgroup-prefix", required_argument, 0, O_CG },
		{ "listen", required_argument, 0, O_LISTEN }, { "tls-cert", required_argument, 0, O_CERT },
		{ "tls-key", required_argument, 0, O_KEY }, { "tokens", required_argument, 0, O_TOKENS },
		{ "log", required_argument, 0, O_LOG }, { "log-json", no_argument, 0, O_LOGJSON },
		{ "debug", no_argument, 0, O_DEBUG }, { "no-tls", no_argument, 0, O_NOTLS },
		{ "pid-file", required_argument, 0, O_PID }, { "help", no_argument, 0, 'h' },
		{ "no-host-tuning", no_argument, 0, O_NOTUNE },
		{ "store", required_argument, 0, O_STORE }, { "host-name", required_argument, 0, O_HOSTNAME },
		{ "host-ttl", required_argument, 0, O_HOSTTTL },
		{ "host-address", required_argument, 0, O_HOSTADDR },
		{ "idmap-base", required_argument, 0, O_IDBASE }, { "idmap-size", required_argument, 0, O_IDSIZE },
		{ "default-network", required_argument, 0, O_DEFNET },
		{ "lxcfs", required_argument, 0, O_LXCFS }, { "no-lxcfs", no_argument, 0, O_NOLXCFS },
		{ "peer-listen", required_argument, 0, O_PEER },
		{ 0, 0, 0, 0 }
	};
	int ch;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case O_STATE: state_dir = optarg; break;
		case O_RUN: run_dir = optarg; break;
		case O_SOCK: sock = optarg; break;
		case O_CG: prefix = optarg; break;
		case O_LISTEN: listen_addr = optarg; break;
		case O_CERT: cert = optarg; break;
		case O_KEY: key = optarg; break;
		case O_TOKENS: tokens = optarg; break;
		case O_LOG: log_path = optarg; break;
		case O_LOGJSON: log_json = 1; break;
		case O_DEBUG: debug = 1; break;
		case O_NOTLS: no_tls = 1; break;
		case O_PID: pid_file = optarg; break;
		case O_NOTUNE: no_tune = 1; break;
		case O_STORE: store_url = optarg; break;
		case O_HOSTNAME: host_name = optarg; break;
		case O_HOSTADDR: host_addr = optarg; break;
		case O_HOSTTTL: {
			long t = strtol(optarg, &end, 10);
			if (!*optarg || *end || t < 1 || t > 3600) {
				fprintf(stderr, "gureumd: --host-ttl: '%s' is not 1..3600 seconds\n", optarg);
				return 2;
			}
			host_ttl = (int)t;
			break;
		}
		case O_LXCFS: lxcfs_prog = optarg; break;
		case O_DEFNET: default_network = optarg; break;
		case O_NOLXCFS: no_lxcfs = 1; break;
		case O_PEER: peer_listen = optarg; break;
		case O_IDBASE:
		case O_IDSIZE: {
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end || v == 0 || v >= 0xffffffffULL || optarg[0] == '-') {
				fprintf(stderr, "gureumd: --%s: '%s' is not an ID count from 1 to 2^32-2\n",
					ch == O_IDBASE ? "idmap-base" : "idmap-size", optarg);
				return 2;
			}
			*(ch == O_IDBASE ? &idmap_base : &idmap_size) = v;
			break;
		}
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "gureumd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if ((idmap_base ? idmap_base : 1000000) + (idmap_size ? idmap_size : 65536) >= 0xffffffffULL) {
		fprintf(stderr, "gureumd: --idmap-base + --idmap-size must stay below 2^32-1\n");
		return 2;
	}
	if (prefix && (!*prefix || strstr(prefix, "..") || prefix[0] == '/')) {
		fprintf(stderr, "gureumd: --cgroup-prefix: '%s' must be a relative cgroup path\n", prefix);
		return 2;
	}
	if (gr_log_open(log_path, log_json, debug ? GR_LOG_DEBUG : GR_LOG_INFO) < 0) {
		fprintf(stderr, "gureumd: cannot open log %s\n", log_path);
		return 1;
	}
	if (!run_dir)
		run_dir = "/run/gureum";
	_cleanup_free_ char *sock_def = xasprintf("%s/gureum.sock", run_dir);
	if (!sock)
		sock = sock_def;

	/* signals go to the signalfd; threads started below inherit the mask */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		gr_log_warn("cannot become a child subreaper: %s", strerror(errno));

	gr_error_t err;
	if (!no_tune) {
		int t = gr_rt_host_favor_dynmods(&err);
		if (t < 0)
			gr_log_warn("host tuning: %s (container starts may wait for an RCU grace period)", err.msg);
		else if (t > 0)
			gr_log_info("host tuning: cgroup2 remounted with favordynmods (fast cgroup moves)");
	}
	/* before recovery, which may start containers (restart policies) */
	struct gr_lxcfs *lxcfs = NULL;
	_cleanup_free_ char *rt_root = xasprintf("%s/oci", run_dir);
	if (no_lxcfs)
		gr_log_warn("lxcfs off (--no-lxcfs): containers see the host's /proc/meminfo, cpuinfo, stat, uptime");
	else if (gr_lxcfs_start(state_dir ? state_dir : "/var/lib/gureum", rt_root, lxcfs_prog, &lxcfs,
				&err) < 0)
		gr_log_warn("%s: containers see the host's /proc/meminfo, cpuinfo, stat, uptime "
			    "(install lxcfs: it is in deps/daemon.txt)", err.msg);
	/* the peer channel's identity goes into the host record, so it is made
	 * before the control layer registers this host */
	struct gr_peer_identity peer_id = { 0 };
	json_t *peer_rec = NULL;
	if (peer_listen) {
		if (!strncmp(peer_listen, "0.0.0.0:", 8)) {
			fprintf(stderr, "gureumd: --peer-listen %s: give the address other hosts reach\n",
				peer_listen);
			gr_lxcfs_stop(lxcfs);
			return 2;
		}
		curl_global_init(CURL_GLOBAL_DEFAULT);
		if (gr_peer_identity_load(state_dir ? state_dir : "/var/lib/gureum", &peer_id, &err) < 0) {
			gr_log_error("%s", err.msg);
			fprintf(stderr, "gureumd: %s\n", err.msg);
			gr_lxcfs_stop(lxcfs);
			return 1;
		}
		peer_rec = gr_peer_identity_record(&peer_id, peer_listen);
	}
	struct gr_control_opts co = { .state_dir = state_dir, .run_dir = run_dir, .cgroup_prefix = prefix,
				      .store_url = store_url && *store_url ? store_url : NULL,
				      .host_name = host_name, .host_ttl = host_ttl,
				      .host_address = host_addr ? host_addr : listen_addr,
				      .version = GR_VERSION,
				      .idmap_base = (uint32_t)idmap_base, .idmap_size = (uint32_t)idmap_size,
				      .peer = peer_rec, .peer_get = peer_get, .peer_create = peer_create, .peer_post = peer_post,
				      .peer_ud = &peer_id,
				      .default_network = default_network };
	struct gr_control *c = NULL;
	if (gr_control_open(&co, &c, &err) < 0) {
		gr_log_error("%s", err.msg);
		fprintf(stderr, "gureumd: %s\n", err.msg);
		gr_lxcfs_release(lxcfs); /* e.g. another daemon owns this state folder and its lxcfs */
		return 1;
	}
	struct gr_api_opts ao = { .unix_path = sock, .tcp_addr = listen_addr, .tls_cert = cert,
				  .tls_key = key, .tls_off = no_tls, .tokens_file = tokens,
				  .peer_id = peer_listen ? &peer_id : NULL };
	struct gr_api *api = NULL;
	if (gr_api_start(&ao, c, &api, &err) < 0) {
		gr_log_error("%s", err.msg);
		fprintf(stderr, "gureumd: %s\n", err.msg);
		gr_control_close(c);
		gr_lxcfs_stop(lxcfs);
		return 1;
	}
	struct gr_peer_server *peer = NULL;
	if (peer_listen && gr_peer_start(peer_listen, &peer_id, c, api, &peer, &err) < 0) {
		gr_log_error("%s", err.msg);
		fprintf(stderr, "gureumd: %s\n", err.msg);
		gr_api_stop(api);
		gr_control_close(c);
		gr_lxcfs_stop(lxcfs);
		return 1;
	}
	if (pid_file) {
		_cleanup_free_ char *pid = xasprintf("%d\n", (int)getpid());
		if (gr_write_file_atomic(pid_file, pid, strlen(pid), 0644, &err) < 0)
			gr_log_warn("%s", err.msg);
	}
	gr_log_info("gureumd ready: socket %s%s%s", sock, listen_addr ? ", tcp " : "",
		    listen_addr ? listen_addr : "");
	/* under systemd (Type=notify): ready once the API answers */
	if (gr_notify("READY=1\nSTATUS=serving") < 0)
		gr_log_warn("notify the service manager (NOTIFY_SOCKET): %s", strerror(errno));

	int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	struct itimerspec its = { { 1, 0 }, { 1, 0 } };
	timerfd_settime(tfd, 0, &its, NULL);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	int wfd = gr_control_watch_fd(c);
	ev.data.fd = wfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, wfd, &ev);

	bool running = true;
	while (running) {
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, 8, -1);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == sfd) {
				struct signalfd_siginfo si;
				while (read(sfd, &si, sizeof si) == sizeof si)
					if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
						gr_log_info("signal %d: stopping (instances keep running)",
							    (int)si.ssi_signo);
						running = false;
					}
			} else if (fd == tfd) {
				uint64_t ticks;
				if (read(tfd, &ticks, sizeof ticks) > 0) {
					gr_control_tick(c);
					gr_lxcfs_check(lxcfs);
				}
			} else if (fd == wfd) {
				gr_control_dispatch(c);
			}
		}
	}
	gr_notify("STOPPING=1");
	gr_peer_stop(peer);
	gr_api_stop(api);
	gr_control_close(c);
	gr_lxcfs_stop(lxcfs);
	json_decref(peer_rec);
	gr_peer_identity_clear(&peer_id);
	if (pid_file)
		unlink(pid_file);
	close(ep);
	close(tfd);
	close(sfd);
	return 0;
}
