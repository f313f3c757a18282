/*
 * core.c - what every file of the control layer uses: per-name locks, the
 * in-memory event feed (state changes, numbered), worker threads, and the
 * driver's view of an instance.
 *
 * Invariants: one thread at a time works on a name (gr__lock_name); the
 * event feed keeps the last GR_EVENTS_KEEP events, numbered from 1 without
 * gaps; gr_control_close() waits for worker threads before freeing.
 */
#include "control/control-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "util/alloc.h"
#include "util/log.h"

#define GR_EVENTS_KEEP 1000

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

struct timespec gr__deadline_ms(int ms)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

json_t *gr_control_events(struct gr_control *c, uint64_t after, int wait_ms)
{
	struct timespec until = gr__deadline_ms(wait_ms);
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

const struct gr_driver_ops *gr__driver(const struct gr_instance *in)
{
	return gr_driver_of(in->backend);
}

void gr__spec_of(const struct gr_control *c, const struct gr_instance *in, struct gr_inst_spec *s,
		 char *dir)
{
	snprintf(dir, GR__DIR_MAX, "%s/%s", c->inst_dir, in->name);
	*s = (struct gr_inst_spec){
		.name = in->name,
		.backend = in->backend,
		.image = in->image,
		.dir = dir,
		.cpu = in->cpu,
		.memory = in->memory,
		.pids = in->pids,
		.env = in->env,
		.cmd = in->cmd,
		.ephemeral = in->ephemeral,
		.privileged = in->privileged,
		.options = in->options,
		.nics = in->nics,
		.n_nics = in->n_nics,
	};
}

int gr__running_stats(struct gr_control *c, const struct gr_instance *in, struct gr_drv_stats *st)
{
	const struct gr_driver_ops *d = gr__driver(in);
	struct gr_inst_spec sp;
	char dir[GR__DIR_MAX];
	if (in->state != GR_ST_RUNNING || !d->stats)
		return -1;
	gr__spec_of(c, in, &sp, dir);
	return d->stats(&c->agent, &sp, st, NULL);
}

bool gr__host_elsewhere(struct gr_control *c, const char *host)
{
	if (!host[0] || !strcmp(host, c->hostname))
		return false;
	_cleanup_free_ char *key = xasprintf("%s%s", GR_KEY_HOSTS, host);
	/* no record: this machine under an old name, so ours; a store error:
	 * better refuse than act on the wrong machine */
	return gr_store_get(c->store, key, NULL, NULL) != 0;
}

int gr__local_only(struct gr_control *c, const struct gr_instance *in, const char *what,
		   gr_error_t *err)
{
	if (!gr__host_elsewhere(c, in->host))
		return 0;
	return gr_error_set(err, EREMOTE, "instance '%s' is on host %s: %s work only through that "
			    "host's daemon (it publishes no peer address to forward to); nothing was done", in->name,
			    in->host, what);
}

/* Here rather than in hosts.c: route.c above it and distrib.c below it both ask. */
int gr__host_state(struct gr_control *c, const char *name, bool *online, double *offline_since,
		   gr_error_t *err)
{
	_cleanup_free_ char *rkey = xasprintf("%s%s", GR_KEY_HOSTS, name);
	_cleanup_free_ char *akey = xasprintf("%s%s/alive", GR_KEY_HOSTS, name);
	json_t *rec = NULL;
	int r = gr_store_get_json(c->store, rkey, &rec, NULL, err);
	if (r <= 0)
		return r;
	*offline_since = json_number_value(json_object_get(rec, "offline_since"));
	json_decref(rec);
	r = gr_store_get(c->store, akey, NULL, err);
	if (r < 0)
		return -1;
	*online = r == 1;
	return 1;
}
