/*
 * recover.c - surviving the daemon's own restart, and noticing instances
 * that exit.
 *
 * Exit watching: every running instance's main pid is watched through a
 * pidfd in c->epfd (readable when the process ends, whether it is our child,
 * a child re-parented to us as subreaper, or a process a previous daemon
 * started).  The loop calls gr_control_dispatch(), which reaps (when it can:
 * the exit status is only known for our own children) and hands the
 * follow-up to a worker: clean up, record "stopped", apply the restart policy.
 *
 * Recovery at open: each record in a transient state is finished or rolled
 * back (defining -> gone, deleting -> gone, starting/running -> running if
 * the host says so, else stopped + restart policy, stopping -> stopped), and
 * runtime objects, layers or folders that belong to no record are removed.
 */
#include "control/control-internal.h"
#include "control/snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "runtime/runtime.h"
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"

struct exit_job {
	struct gr_control *c;
	char *name;
	pid_t pid;
	int status;   /* -1 unknown */
};

static bool restart_wanted(const json_t *doc, int status)
{
	const char *p = json_string_value(json_object_get(doc, "restart"));
	if (!p)
		return false;
	if (!strcmp(p, "always"))
		return true;
	return !strcmp(p, "on-failure") && status != 0;
}

/* The instance left "running" behind our back: clean up, record it stopped.
 * Returns its new restart_count when the restart policy wants it started
 * again (the caller does that; *rev gets the record's revision then), else
 * 0.  Caller holds the name lock. */
static json_int_t instance_died(struct gr_control *c, const char *name, pid_t pid, int status,
				const char *from, int64_t *rev)
{
	json_t *doc = NULL;
	gr_error_t err;
	if (gr__get_doc(c, name, &doc, &err) < 0)
		return 0;
	const char *st = json_string_value(json_object_get(doc, "state"));
	pid_t cur = (pid_t)json_integer_value(json_object_get(doc, "pid"));
	if (!st || strcmp(st, from) || (pid && cur != pid)) {
		json_decref(doc);
		return 0; /* someone else moved it (stop, delete) */
	}
	const struct gr_driver_ops *d = gr__driver_of(doc, &err);
	struct gr__spec_holder h;
	gr__spec_from_doc(c, doc, &h);
	if (d && d->cleanup(&c->agent, &h.spec, &err) < 0)
		gr_log_warn("cleanup of %s: %s", name, err.msg);
	gr__spec_clear(&h);
	json_t *patch = json_pack("{s:i}", "pid", 0);
	json_object_set_new(patch, "exit_code", status >= 0 ? json_integer(status) : json_null());
	json_int_t count = 0;
	if (restart_wanted(doc, status)) {
		count = json_integer_value(json_object_get(doc, "restart_count")) + 1;
		json_object_set_new(patch, "restart_count", json_integer(count));
	}
	json_decref(doc);
	if (gr__transition(c, name, from, "stopped", patch, &err) < 0) {
		gr_log_warn("%s: %s", name, err.msg);
		return 0;
	}
	char detail[32];
	snprintf(detail, sizeof detail, "exit %d", status);
	gr__event(c, "exited", name, "stopped", detail);
	_cleanup_free_ char *key = gr__inst_key(name);
	json_t *now = NULL;
	*rev = 0;
	if (count && gr_store_get_json(c->store, key, &now, rev, NULL) == 1)
		json_decref(now);
	return count;
}

/* Start name again for its restart policy (caller holds the name lock);
 * only when the record was not written since instance_died() (revision
 * rev), so a stop, delete, config change or start in between wins. */
static void restart_locked(struct gr_control *c, const char *name, int64_t rev)
{
	json_t *doc = NULL;
	gr_error_t err;
	int64_t now = -1;
	_cleanup_free_ char *key = gr__inst_key(name);
	if (gr_store_get_json(c->store, key, &doc, &now, &err) != 1)
		return;
	json_decref(doc);
	if (now != rev || atomic_load(&c->closing))
		return;
	if (gr__start_locked(c, name, NULL, &err) < 0)
		gr_log_warn("restart policy: starting %s: %s", name, err.msg);
	else
		gr__event(c, "restarted", name, "running", NULL);
}

static void *exit_worker(void *p)
{
	struct exit_job *j = p;
	int64_t rev = 0;
	gr__lock_name(j->c, j->name);
	json_int_t count = instance_died(j->c, j->name, j->pid, j->status, "running", &rev);
	gr__unlock_name(j->c, j->name);
	if (count > 0) {
		/* back off without holding the lock: 0.1 s, doubling, at most 10 s,
		 * so a crash loop costs little and stop/delete are not held up */
		long ms = 100L << (count > 8 ? 7 : count - 1);
		if (ms > 10000)
			ms = 10000;
		for (long waited = 0; waited < ms && !atomic_load(&j->c->closing); waited += 50)
			usleep(50 * 1000);
		gr__lock_name(j->c, j->name);
		restart_locked(j->c, j->name, rev);
		gr__unlock_name(j->c, j->name);
	}
	free(j->name);
	free(j);
	return NULL;
}

static void spawn_exit(struct gr_control *c, const char *name, pid_t pid, int status)
{
	struct exit_job *j = xmalloc(sizeof *j);
	*j = (struct exit_job){ c, xstrdup(name), pid, status };
	gr__spawn(c, exit_worker, j);
}

void gr__watch_add(struct gr_control *c, const char *name, pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0) {
		gr_log_warn("watching %s (pid %d): %s", name, (int)pid, strerror(errno));
		spawn_exit(c, name, pid, -1);
		return;
	}
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	pthread_mutex_lock(&c->lock);
	c->watches = xrealloc(c->watches, (c->n_watches + 1) * sizeof *c->watches);
	c->watches[c->n_watches++] = (struct gr__watch){ xstrdup(name), pid, fd };
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev);
	pthread_mutex_unlock(&c->lock);
}

/* Remove name's watch; reaps it if it is our child and has exited.  Returns
 * the exit status (128+signal) when known, else -1.  Caller holds c->lock. */
static int watch_drop(struct gr_control *c, size_t i)
{
	struct gr__watch w = c->watches[i];
	c->watches[i] = c->watches[--c->n_watches];
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, w.pidfd, NULL);
	siginfo_t si = { 0 };
	int status = -1;
	if (waitid(P_PIDFD, (id_t)w.pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid) {
		status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
	}
	close(w.pidfd);
	free(w.name);
	return status;
}

void gr_control_dispatch(struct gr_control *c)
{
	struct epoll_event evs[32];
	int n = epoll_wait(c->epfd, evs, 32, 0);
	for (int k = 0; k < n; k++) {
		pthread_mutex_lock(&c->lock);
		for (size_t i = 0; i < c->n_watches; i++) {
			if (c->watches[i].pidfd != evs[k].data.fd)
				continue;
			char *name = xstrdup(c->watches[i].name);
			pid_t pid = c->watches[i].pid;
			int status = watch_drop(c, i);
			pthread_mutex_unlock(&c->lock);
			spawn_exit(c, name, pid, status);
			free(name);
			pthread_mutex_lock(&c->lock);
			break;
		}
		pthread_mutex_unlock(&c->lock);
	}
}

/* ---- recovery ---- */

static void recover_one(struct gr_control *c, json_t *doc)
{
	const char *name = json_string_value(json_object_get(doc, "name"));
	const char *st = json_string_value(json_object_get(doc, "state"));
	if (!name || !st)
		return;
	gr_error_t err;
	const struct gr_driver_ops *d = gr__driver_of(doc, &err);
	if (!d) {
		gr_log_warn("recover %s: %s", name, err.msg);
		return;
	}
	struct gr__spec_holder h;
	gr__spec_from_doc(c, doc, &h);
	struct gr_drv_state ds = { 0 };
	if (d->state(&c->agent, &h.spec, &ds, &err) < 0)
		ds.status = GR_DRV_ABSENT;
	gr_log_info("recover %s: recorded %s, host %s", name, st,
		    ds.status == GR_DRV_RUNNING ? "running" : ds.status == GR_DRV_ABSENT ? "absent" : "stopped");
	if (!strcmp(st, "defining") || !strcmp(st, "deleting")) {
		if (d->delete(&c->agent, &h.spec, true, &err) < 0)
			gr_log_warn("recover %s: delete: %s", name, err.msg);
		else {
			gr_rm_rf(h.dir, NULL);
			_cleanup_free_ char *key = gr__inst_key(name);
			if (gr_store_delete(c->store, key, NULL, NULL) >= 0 &&
			    gr_control_snapshot_forget(c, name, &err) < 0)
				gr_log_warn("recover %s: snapshot records: %s", name, err.msg);
			gr__event(c, "deleted", name, NULL, "recovered");
		}
	} else if (!strcmp(st, "starting") || !strcmp(st, "running")) {
		if (ds.status == GR_DRV_RUNNING) {
			if (!strcmp(st, "starting"))
				gr__transition(c, name, "starting", "running",
					       json_pack("{s:i}", "pid", (int)ds.pid), NULL);
			gr__watch_add(c, name, ds.pid);
		} else {
			gr__spec_clear(&h);
			int64_t rev = 0;
			if (instance_died(c, name, 0, -1, st, &rev) > 0)
				restart_locked(c, name, rev);
			return;
		}
	} else if (!strcmp(st, "stopping")) {
		if (d->stop(&c->agent, &h.spec, 0, true, &err) < 0)
			gr_log_warn("recover %s: stop: %s", name, err.msg);
		gr__transition(c, name, "stopping", "stopped", json_pack("{s:i}", "pid", 0), NULL);
	} else if (ds.status != GR_DRV_ABSENT) {
		/* at rest (defined/stopped) with host leftovers: remove them */
		if (d->cleanup(&c->agent, &h.spec, &err) < 0)
			gr_log_warn("recover %s: cleanup: %s", name, err.msg);
	}
	gr__spec_clear(&h);
}

static bool known(json_t *names, const char *id)
{
	return json_object_get(names, id) != NULL;
}

int gr__recover(struct gr_control *c, gr_error_t *err)
{
	json_t *arr = NULL;
	if (gr_store_list_json(c->store, GR_KEY_INSTANCES, &arr, err) < 0)
		return -1;
	json_t *names = json_object();
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		json_t *doc = json_object_get(e, "value");
		const char *name = json_string_value(json_object_get(doc, "name"));
		if (!name)
			continue;
		gr__lock_name(c, name);
		recover_one(c, doc);
		gr__unlock_name(c, name);
		json_t *now = NULL;
		if (gr__get_doc(c, name, &now, NULL) == 0) {
			json_object_set_new(names, name, json_true());
			json_decref(now);
		}
	}
	json_decref(arr);

	/* runtime objects, layers and folders that belong to no record */
	struct gr_rt_opts ro = { .root = c->rt_root };
	struct gr_rt_state *sts = NULL;
	size_t n = 0;
	if (gr_rt_list(&ro, &sts, &n, NULL) == 0) {
		for (i = 0; i < n; i++) {
			if (!known(names, sts[i].id)) {
				gr_log_info("recover: removing orphan container %s", sts[i].id);
				gr_rt_delete(&ro, sts[i].id, true, NULL);
			}
			gr_rt_state_clear(&sts[i]);
		}
		free(sts);
	}
	char **ids = NULL;
	if (gr_layer_list(&c->img, NULL, &ids, NULL) == 0) {
		for (i = 0; ids[i]; i++)
			if (!known(names, ids[i])) {
				gr_log_info("recover: removing orphan layers of %s", ids[i]);
				gr_layer_umount_root(&c->img, ids[i], NULL, 1, NULL);
				gr_layer_delete(&c->img, ids[i], NULL);
			}
		gr_strv_free(ids);
	}
	DIR *dir = opendir(c->inst_dir);
	struct dirent *de;
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.' || known(names, de->d_name))
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", c->inst_dir, de->d_name);
		gr_log_info("recover: removing orphan folder %s", p);
		gr_rm_rf(p, NULL);
	}
	if (dir)
		closedir(dir);
	json_decref(names);
	return 0;
}
