/*
 * control.c - the control layer's frame: opening the store and the image
 * module under the state folder, per-instance-name locks, the in-memory
 * event feed (state changes, numbered), worker threads and /metrics.
 *
 * Invariants: one thread at a time works on a name (gr__lock_name); the
 * event feed keeps the last GR_EVENTS_KEEP events, numbered from 1 without
 * gaps; gr_control_close() waits for worker threads before freeing.
 */
#include "control/control-internal.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"

#define GR_EVENTS_KEEP 1000

char *gr__inst_key(const char *name)
{
	return xasprintf("%s%s", GR_KEY_INSTANCES, name);
}

void gr__lock_name(struct gr_control *c, const char *name)
{
	pthread_mutex_lock(&c->lock);
	for (;;) {
		bool taken = false;
		for (size_t i = 0; i < c->n_busy; i++)
			if (!strcmp(c->busy[i], name))
				taken = true;
		if (!taken)
			break;
		pthread_cond_wait(&c->cond, &c->lock);
	}
	c->busy = xrealloc(c->busy, (c->n_busy + 1) * sizeof *c->busy);
	c->busy[c->n_busy++] = xstrdup(name);
	pthread_mutex_unlock(&c->lock);
}

void gr__unlock_name(struct gr_control *c, const char *name)
{
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n_busy; i++)
		if (!strcmp(c->busy[i], name)) {
			free(c->busy[i]);
			c->busy[i] = c->busy[--c->n_busy];
			break;
		}
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

void gr__event(struct gr_control *c, const char *kind, const char *name, const char *state,
	       const char *detail)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&c->lock);
	json_t *ev = json_pack("{s:I,s:s,s:s,s:f}", "seq", (json_int_t)++c->ev_seq, "kind", kind,
			       "name", name, "time", (double)ts.tv_sec + ts.tv_nsec / 1e9);
	if (state)
		json_object_set_new(ev, "state", json_string(state));
	if (detail)
		json_object_set_new(ev, "detail", json_string(detail));
	json_array_append_new(c->events, ev);
	while (json_array_size(c->events) > GR_EVENTS_KEEP)
		json_array_remove(c->events, 0);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	gr_log_info("%s %s%s%s", kind, name, state ? " -> " : "", state ? state : "");
}

json_t *gr_control_events(struct gr_control *c, uint64_t after, int wait_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	json_t *out = json_array();
	pthread_mutex_lock(&c->lock);
	while (c->ev_seq <= after && wait_ms > 0 && !atomic_load(&c->closing))
		if (pthread_cond_timedwait(&c->cond, &c->lock, &until) == ETIMEDOUT)
			break;
	size_t i;
	json_t *ev;
	json_array_foreach(c->events, i, ev)
		if ((uint64_t)json_integer_value(json_object_get(ev, "seq")) > after)
			json_array_append_new(out, json_deep_copy(ev));
	pthread_mutex_unlock(&c->lock);
	return out;
}

struct spawn_arg {
	struct gr_control *c;
	void *(*fn)(void *);
	void *arg;
};

static void *spawn_main(void *p)
{
	struct spawn_arg sa = *(struct spawn_arg *)p;
	free(p);
	sa.fn(sa.arg);
	atomic_fetch_sub(&sa.c->workers, 1);
	return NULL;
}

void gr__spawn(struct gr_control *c, void *(*fn)(void *), void *arg)
{
	struct spawn_arg *sa = xmalloc(sizeof *sa);
	*sa = (struct spawn_arg){ c, fn, arg };
	atomic_fetch_add(&c->workers, 1);
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &at, spawn_main, sa)) {
		gr_log_error("cannot start a worker thread; running inline");
		spawn_main(sa);
	}
	pthread_attr_destroy(&at);
}

static int in_use(const char *image, char *who, size_t who_len, void *ud)
{
	struct gr_control *c = ud;
	json_t *arr = NULL;
	if (gr_store_list_json(c->store, GR_KEY_INSTANCES, &arr, NULL) < 0)
		return -1;
	size_t i;
	json_t *e;
	int r = 0;
	json_array_foreach(arr, i, e) {
		json_t *v = json_object_get(e, "value");
		const char *im = json_string_value(json_object_get(v, "image"));
		if (im && !strcmp(im, image)) {
			snprintf(who, who_len, "%s", json_string_value(json_object_get(v, "name")));
			r = 1;
			break;
		}
	}
	json_decref(arr);
	return r;
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
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->events = json_array();
	c->lock_fd = -1;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	c->img = (struct gr_image_ctx){ .images_dir = c->images_dir, .layers_dir = c->layers_dir,
					.in_use = in_use, .in_use_ud = c };
	c->agent = (struct gr_agent){ .state_dir = c->state_dir, .run_dir = c->run_dir,
				      .rt_root = c->rt_root, .image_root = c->images_dir,
				      .cgroup_prefix = c->cgroup_prefix, .image = &c->img };
	if (gr_mkdir_p(c->state_dir, 0700, err) < 0 || gr_mkdir_p(c->run_dir, 0711, err) < 0 ||
	    gr_mkdir_p(c->rt_root, 0700, err) < 0 || gr_mkdir_p(c->inst_dir, 0700, err) < 0)
		goto fail;
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
	url = xasprintf("sqlite://%s/state.db", c->state_dir);
	if (gr_store_open(url, NULL, &c->store, err) < 0) {
		gr_error_prefix(err, "opening the store");
		goto fail;
	}
	if (!o->no_recover && (gr__ops_recover(c, err) < 0 || gr__recover(c, err) < 0)) {
		gr_error_prefix(err, "recovering instances");
		goto fail;
	}
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
	/* workers finish their current step (bounded by the stop timeouts) */
	for (int i = 0; i < 600 && atomic_load(&c->workers) > 0; i++)
		usleep(50 * 1000);
	gr_store_close(c->store);
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
	free(c);
}

/* Every 10 ticks: keep the console.log of running instances (the watched
 * ones) under GR_INST_LOG_MAX (logcap.c; a few stat calls, on the loop). */
static void cap_logs(struct gr_control *c)
{
	pthread_mutex_lock(&c->lock);
	size_t n = c->n_watches;
	char **names = xcalloc(n + 1, sizeof *names);
	for (size_t i = 0; i < n; i++)
		names[i] = xstrdup(c->watches[i].name);
	pthread_mutex_unlock(&c->lock);
	for (size_t i = 0; i < n; i++) {
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
	if (++c->ticks % 10 == 0)
		cap_logs(c);
}

int gr_control_watch_fd(struct gr_control *c)
{
	return c->epfd;
}

/* ---- metrics ---- */

static char *append(char *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *append(char *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *add = NULL;
	if (vasprintf(&add, fmt, ap) < 0)
		abort();
	va_end(ap);
	char *n = xasprintf("%s%s", s, add);
	free(s);
	free(add);
	return n;
}

char *gr_control_metrics(struct gr_control *c)
{
	static const char *states[] = { "defining", "defined", "starting", "running",
					"stopping", "stopped", "deleting" };
	size_t counts[7] = { 0 };
	char *out = xstrdup("");
	char *per = xstrdup("");
	json_t *arr = NULL;
	if (gr_store_list_json(c->store, GR_KEY_INSTANCES, &arr, NULL) == 0) {
		size_t i;
		json_t *e;
		json_array_foreach(arr, i, e) {
			json_t *doc = json_object_get(e, "value");
			const char *st = json_string_value(json_object_get(doc, "state"));
			const char *name = json_string_value(json_object_get(doc, "name"));
			for (int k = 0; k < 7; k++)
				if (st && !strcmp(st, states[k]))
					counts[k]++;
			if (!st || strcmp(st, "running") || !name)
				continue;
			const struct gr_driver_ops *d = gr__driver_of(doc, NULL);
			if (!d || !d->stats)
				continue;
			struct gr__spec_holder h;
			gr__spec_from_doc(c, doc, &h);
			struct gr_drv_stats s;
			if (d->stats(&c->agent, &h.spec, &s, NULL) == 0)
				per = append(per,
					     "gureum_instance_cpu_seconds_total{name=\"%s\"} %.6f\n"
					     "gureum_instance_memory_bytes{name=\"%s\"} %llu\n",
					     name, (double)s.cpu_ns / 1e9, name,
					     (unsigned long long)s.memory_bytes);
			gr__spec_clear(&h);
		}
		json_decref(arr);
	}
	out = append(out, "# HELP gureum_instances Instances by state.\n# TYPE gureum_instances gauge\n");
	for (int k = 0; k < 7; k++)
		out = append(out, "gureum_instances{state=\"%s\"} %zu\n", states[k], counts[k]);
	out = append(out, "# HELP gureum_instance_cpu_seconds_total CPU time used by a running instance.\n"
			  "# TYPE gureum_instance_cpu_seconds_total counter\n"
			  "# HELP gureum_instance_memory_bytes Memory used by a running instance.\n"
			  "# TYPE gureum_instance_memory_bytes gauge\n%s", per);
	free(per);
	return out;
}
