/*
 * control.c - the control layer's frame: opening the store, the image module
 * and the index under the state folder, recovery, and the daemon loop's
 * entry points (the watch fd, dispatch, the 1 s tick), /metrics.
 *
 * The loop's fd (gr_control_watch_fd) is an epoll set of the running
 * instances' pidfds and the store's change notifications; dispatch follows
 * exits up on worker threads, brings the index up to date with the store,
 * and reaps stray children (the daemon is a child subreaper: orphans such as
 * a daemonizing QEMU's intermediate process are re-parented to it) — all but
 * the watched instances' main processes, whose exit status the watch reads.
 */
#include "control/control-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"

static int in_use(const char *image, char *who, size_t who_len, void *ud)
{
	return gr__index_image_users(ud, image, who, who_len) > 0;
}

int gr_control_open(const struct gr_control_opts *o, struct gr_control **out, gr_error_t *err)
{
	struct gr_control *c = xcalloc(1, sizeof *c);
	_cleanup_free_ char *url = NULL, *lock = NULL;
	c->state_dir = xstrdup(o->state_dir ? o->state_dir : "/var/lib/gureum");
	c->run_dir = xstrdup(o->run_dir ? o->run_dir : "/run/gureum");
	c->cgroup_prefix = xstrdup(o->cgroup_prefix ? o->cgroup_prefix : "gureum");
	c->rt_root = xasprintf("%s/oci", c->run_dir);
	c->images_dir = xasprintf("%s/images", c->state_dir);
	c->layers_dir = xasprintf("%s/layers", c->state_dir);
	c->inst_dir = xasprintf("%s/instances", c->state_dir);
	if (o->host_name)
		snprintf(c->hostname, sizeof c->hostname, "%s", o->host_name);
	else if (gethostname(c->hostname, sizeof c->hostname - 1) < 0 || !c->hostname[0])
		snprintf(c->hostname, sizeof c->hostname, "localhost");
	c->host_ttl = o->host_ttl > 0 ? o->host_ttl : 10;
	c->host_version = o->version ? xstrdup(o->version) : NULL;
	c->host_address = o->host_address ? xstrdup(o->host_address) : NULL;
	c->peer = o->peer ? json_deep_copy(o->peer) : NULL;
	c->peer_get = o->peer ? o->peer_get : NULL;
	c->peer_create = o->peer ? o->peer_create : NULL;
	c->peer_ud = o->peer_ud;
	c->peer_post = o->peer ? o->peer_post : NULL;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->events = json_array();
	c->lock_fd = -1;
	c->feed_fd = -1;
	c->route_fd = -1;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	c->img = (struct gr_image_ctx){ .images_dir = c->images_dir, .layers_dir = c->layers_dir,
					.in_use = in_use, .in_use_ud = c };
	c->agent = (struct gr_agent){ .state_dir = c->state_dir, .run_dir = c->run_dir,
				      .rt_root = c->rt_root, .image_root = c->images_dir,
				      .cgroup_prefix = c->cgroup_prefix, .image = &c->img,
				      .idmap_base = o->idmap_base, .idmap_size = o->idmap_size };
	/* the back-ends' own image recipes (the VM driver's debian-vm) */
	for (const struct gr_driver_ops *const *d = gr_drivers; *d; d++)
		for (const struct gr_image_recipe *r = (*d)->recipes; r && r->name; r++)
			if (gr_image_recipe_register(r, err) < 0)
				goto fail;
	if (gr_mkdir_p(c->state_dir, 0711, err) < 0 || gr_mkdir_p(c->run_dir, 0711, err) < 0 ||
	    gr_mkdir_p(c->rt_root, 0700, err) < 0 || gr_mkdir_p(c->inst_dir, 0711, err) < 0)
		goto fail;
	/* searchable (not readable) by others: an unprivileged container's root
	 * must reach its root folder under instances/ (as Docker's 0711 root) */
	if (chmod(c->state_dir, 0711) < 0 || chmod(c->inst_dir, 0711) < 0) {
		gr_error_sys(err, "cannot make %s searchable", c->state_dir);
		goto fail;
	}
	/* one daemon per state folder: a second one would recover (and fight
	 * over) instances the first one is working on */
	lock = xasprintf("%s/gureumd.lock", c->state_dir);
	c->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->lock_fd < 0) {
		gr_error_sys(err, "%s", lock);
		goto fail;
	}
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		gr_error_set(err, EBUSY, "another gureumd is using %s", c->state_dir);
		goto fail;
	}
	url = o->store_url ? xstrdup(o->store_url) : gr__cluster_pool_url(c->state_dir);
	if (!url) /* no pool joined: this host's own store */
		url = xasprintf("sqlite://%s/state.db", c->state_dir);
	if (gr_store_open(url, NULL, &c->store, err) < 0) {
		gr_error_prefix(err, "opening the store");
		goto fail;
	}
	if (gr__index_open(c, err) < 0) {
		gr_error_prefix(err, "reading the instance records");
		goto fail;
	}
	/* the name before any write: a daemon whose name is online elsewhere
	 * recovers nothing */
	if (gr__hosts_register(c, err) < 0)
		goto fail;
	c->feed_fd = gr_store_subscribe(c->store, err);
	if (c->feed_fd < 0)
		goto fail;
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = c->feed_fd };
	epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->feed_fd, &ev);
	if (!o->no_recover && (gr__ops_recover(c, err) < 0 || gr__recover(c, err) < 0)) {
		gr_error_prefix(err, "recovering instances");
		goto fail;
	}
	if (!o->no_recover)
		gr__move_recover(c);
	/* networks: the default one when asked for, then this host's NAT
	 * table as the records say (whatever a crash left in it) */
	if (gr__net_default(c, o->default_network, err) < 0 || gr__net_sync(c, err) < 0)
		goto fail;
	gr__vxlan_sync(c);
	gr__netdhcp_sync(c); /* reattaches the dnsmasq processes a previous daemon left */
	gr__netlimit_sync(c);
	c->leader_work = gr__pending_round;
	if (gr__hosts_start(c, err) < 0 || gr__route_start(c, err) < 0)
		goto fail;
	gr__distrib_publish_all(c);
	*out = c;
	return 0;
fail:
	gr_control_close(c);
	return -1;
}

void gr_control_close(struct gr_control *c)
{
	if (!c)
		return;
	atomic_store(&c->closing, true);
	pthread_mutex_lock(&c->lock);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	gr__route_stop(c); /* no new request is claimed */
	/* workers finish their current step (bounded by the stop timeouts) */
	for (int i = 0; i < 600 && atomic_load(&c->workers) > 0; i++)
		usleep(50 * 1000);
	gr__hosts_stop(c);
	gr__index_close(c);
	gr_store_close(c->store); /* closes the feed fd too */
	for (size_t i = 0; i < c->n_watches; i++) {
		close(c->watches[i].pidfd);
		free(c->watches[i].name);
	}
	free(c->watches);
	for (size_t i = 0; i < c->n_busy; i++)
		free(c->busy[i]);
	free(c->busy);
	json_decref(c->events);
	if (c->epfd >= 0)
		close(c->epfd);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	free(c->state_dir);
	free(c->run_dir);
	free(c->cgroup_prefix);
	free(c->rt_root);
	free(c->images_dir);
	free(c->layers_dir);
	free(c->inst_dir);
	free(c->host_version);
	free(c->host_address);
	json_decref(c->peer);
	free(c);
}

int gr_control_watch_fd(struct gr_control *c)
{
	return c->epfd;
}

void gr_control_dispatch(struct gr_control *c)
{
	struct epoll_event evs[32];
	int n = epoll_wait(c->epfd, evs, 32, 0);
	for (int k = 0; k < n; k++) {
		if (evs[k].data.fd == c->feed_fd) {
			gr_store_subscriber_drain(c->feed_fd);
			gr__index_feed(c);
			c->vxlan_dirty = true;
			continue;
		}
		struct gr__exited ex;
		if (gr__watch_take(c, evs[k].data.fd, &ex)) {
			gr__exit_seen(c, ex.name, ex.pid, ex.status);
			free(ex.name);
		}
	}
	gr_proc_reap_strays(gr__watch_has_pid, c);
}

/* Every 10 ticks: keep the console.log of running instances (the watched
 * ones) under GR_INST_LOG_MAX (logcap.c; a few stat calls, on the loop). */
static void cap_logs(struct gr_control *c)
{
	char **names = gr__watch_names(c);
	for (size_t i = 0; names[i]; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s/console.log", c->inst_dir, names[i]);
		gr_error_t err;
		int r = gr_inst_log_cap(p, GR_INST_LOG_MAX, &err);
		if (r < 0)
			gr_log_warn("%s: %s", names[i], err.msg);
		else if (r > 0)
			gr_log_info("%s: console.log cut to its newest part", names[i]);
	}
	gr_strv_free(names);
}

void gr_control_tick(struct gr_control *c)
{
	gr_store_tick(c->store, NULL);
	gr__index_feed(c);
	gr_proc_reap_strays(gr__watch_has_pid, c);
	if (++c->ticks % 10 == 0)
		cap_logs(c);
	/* vxlan devices follow the records: after a change, and every 10 s */
	if (atomic_exchange(&c->vxlan_dirty, false) || c->ticks % 10 == 0)
		gr__vxlan_sync(c);
	if (c->ticks % 2 == 0) {
		gr__netdhcp_sync(c); /* a dead dnsmasq restarted, reservations kept current */
		gr__netlimit_sync(c); /* rate limits back on a restarted instance's links */
	}
	if (c->ticks % GR_HIST_SAMPLE == 0)
		gr__history_tick(c); /* metric history (history.c) */
}

/* ---- metrics ---- */

/* Prometheus text: each metric's HELP, TYPE and samples together. */
char *gr_control_metrics(struct gr_control *c)
{
	size_t counts[GR_ST__COUNT];
	gr__index_count(c, counts);
	char *out = xstrdup("# HELP gureum_instances Instances by state.\n# TYPE gureum_instances gauge\n");
	for (int k = 0; k < GR_ST__COUNT; k++)
		out = xappendf(out, "gureum_instances{state=\"%s\"} %zu\n", gr__state_name(k), counts[k]);
	char *cpu = xstrdup(""), *mem = xstrdup("");
	char **names = gr__index_names(c);
	for (size_t i = 0; names[i]; i++) {
		struct gr_instance in;
		if (gr__inst_get(c, names[i], &in, NULL) < 0)
			continue;
		struct gr_drv_stats s;
		if (gr__running_stats(c, &in, &s) == 0) {
			cpu = xappendf(cpu, "gureum_instance_cpu_seconds_total{name=\"%s\"} %.6f\n", in.name,
				     (double)s.cpu_ns / 1e9);
			mem = xappendf(mem, "gureum_instance_memory_bytes{name=\"%s\"} %llu\n", in.name,
				     (unsigned long long)s.memory_bytes);
		}
		gr__inst_clear(&in);
	}
	gr_strv_free(names);
	out = xappendf(out, "# HELP gureum_instance_records_parsed_total Instance records decoded from JSON "
			  "since start (a debug counter: each change is parsed once).\n"
			  "# TYPE gureum_instance_records_parsed_total counter\n"
			  "gureum_instance_records_parsed_total %llu\n",
		     (unsigned long long)gr__inst_decodes);
	out = xappendf(out, "# HELP gureum_instance_cpu_seconds_total CPU time used by a running instance.\n"
			  "# TYPE gureum_instance_cpu_seconds_total counter\n%s"
			  "# HELP gureum_instance_memory_bytes Memory used by a running instance.\n"
			  "# TYPE gureum_instance_memory_bytes gauge\n%s",
		     cpu, mem);
	free(cpu);
	free(mem);
	char *nics = gr__net_metrics(c); /* per-NIC traffic (netmetrics.c) */
	out = xappendf(out, "%s", nics);
	free(nics);
	return out;
}
