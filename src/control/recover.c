/*
 * recover.c - surviving the daemon's own restart, and following up the
 * instances that exit while it runs.
 *
 * Exits: the loop sees a watched process end (watch.c) and calls
 * gr__exit_seen(); a worker cleans up, records "stopped" with the exit
 * status and applies the restart policy (always, or on-failure with a
 * non-zero or unknown status), after a back-off of 0.1 s doubling to 10 s
 * taken without the instance lock; any write to the record in between (a
 * stop, delete, config change or start) cancels that restart.
 *
 * Recovery at open, before the API serves: each record in a transient state
 * is finished or rolled back through the instance's driver — defining and
 * deleting: the host leftovers are removed and the record with them;
 * starting or running: reattached when the driver finds the instance on the
 * host (by every handle it keeps), else cleaned up and recorded stopped with
 * an error that says the daemon restart interrupted it; stopping: finished.
 * At rest with host leftovers: cleaned.  Then every driver sweeps what
 * belongs to no record (gr_agent_sweep).
 */
#include "control/control-internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"

/* Start name again for its restart policy (caller holds the name lock);
 * only when the record was not written since it was recorded stopped
 * (revision rev), so a stop, delete, config change or start in between wins. */
static void restart_locked(struct gr_control *c, const char *name, int64_t rev)
{
	struct gr_instance in;
	gr_error_t err;
	if (gr__inst_get(c, name, &in, &err) < 0)
		return;
	bool unchanged = in.mod_revision == rev;
	gr__inst_clear(&in);
	if (!unchanged || atomic_load(&c->closing))
		return;
	if (gr__start_locked(c, name, &err) < 0)
		gr_log_warn("restart policy: starting %s: %s", name, err.msg);
	else
		gr__event(c, "restarted", name, "running", NULL);
}

/* The instance left "running" behind our back (pid: the process that
 * ended, 0 = any).  Returns 1 when the policy wants a restart (*rev set). */
static int died(struct gr_control *c, const char *name, pid_t pid, int status, const char *why,
		int64_t *rev)
{
	struct gr_instance in;
	gr_error_t err;
	if (gr__inst_get(c, name, &in, &err) < 0)
		return 0;
	int r = 0;
	if ((in.state == GR_ST_RUNNING || in.state == GR_ST_STARTING) && (!pid || in.pid == pid))
		r = gr__settle_stopped(c, &in, status, why, rev);
	/* else someone else moved it (stop, delete, a newer start) */
	gr__inst_clear(&in);
	return r;
}

struct exit_job {
	struct gr_control *c;
	char *name;
	pid_t pid;
	int status;   /* -1 unknown */
};

static void *exit_worker(void *p)
{
	struct exit_job *j = p;
	int64_t rev = 0;
	gr__lock_name(j->c, j->name);
	int again = died(j->c, j->name, j->pid, j->status, NULL, &rev);
	gr__unlock_name(j->c, j->name);
	if (again) {
		struct gr_instance in;
		long count = 1;
		if (gr__inst_get(j->c, j->name, &in, NULL) == 0) {
			count = (long)in.restart_count;
			gr__inst_clear(&in);
		}
		/* back off without holding the lock: 0.1 s, doubling, at most 10 s,
		 * so a crash loop costs little and stop/delete are not held up */
		long ms = 100L << (count > 8 ? 7 : count < 1 ? 0 : count - 1);
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

void gr__exit_seen(struct gr_control *c, const char *name, pid_t pid, int status)
{
	struct exit_job *j = xmalloc(sizeof *j);
	*j = (struct exit_job){ c, xstrdup(name), pid, status };
	gr__spawn(c, exit_worker, j);
}

/* ---- recovery ---- */

static void recover_one(struct gr_control *c, const char *name)
{
	struct gr_instance in;
	gr_error_t err;
	if (gr__inst_get(c, name, &in, &err) < 0)
		return;
	if (in.state == GR_ST_PENDING) {
		/* queued: nothing on any host yet; the leader places it and the
		 * chosen host claims it (pending.c), also after this restart */
		gr_log_info("recover %s: pending%s%s, left to the pool's placement", name,
			    in.host[0] ? ", assigned to host " : "", in.host);
		gr__inst_clear(&in);
		return;
	}
	if (in.host[0] && strcmp(in.host, c->hostname)) {
		/* another pool member's instance (a shared store): its daemon
		 * recovers it.  A name with no host record (this machine renamed)
		 * is still ours. */
		_cleanup_free_ char *hkey = xasprintf("%s%s", GR_KEY_HOSTS, in.host);
		if (gr_store_get(c->store, hkey, NULL, NULL) != 0) {
			gr_log_info("recover %s: on host %s, left to it", name, in.host);
			gr__inst_clear(&in);
			return;
		}
	}
	const struct gr_driver_ops *d = gr__driver(&in);
	struct gr_inst_spec s;
	char dir[GR__DIR_MAX];
	gr__spec_of(c, &in, &s, dir);
	pid_t pid = 0;
	struct gr_drv_state ds = { 0 };
	if (in.state == GR_ST_STARTING || in.state == GR_ST_RUNNING) {
		if (d->reattach(&c->agent, &s, &pid, &err) < 0) {
			gr_log_warn("recover %s: %s", name, err.msg);
			pid = 0;
		}
		ds.status = pid > 0 ? GR_DRV_RUNNING : GR_DRV_STOPPED;
	} else if (d->state(&c->agent, &s, &ds, &err) < 0) {
		ds.status = GR_DRV_ABSENT;
	}
	gr_log_info("recover %s: recorded %s, host %s", name, gr__state_name(in.state),
		    ds.status == GR_DRV_RUNNING ? "running" : ds.status == GR_DRV_ABSENT ? "absent" : "stopped");
	switch (in.state) {
	case GR_ST_DEFINING:
	case GR_ST_DELETING:
		if (d->delete(&c->agent, &s, true, &err) < 0) {
			gr_log_warn("recover %s: delete: %s", name, err.msg);
			break;
		}
		gr_rm_rf(dir, NULL);
		if (gr__inst_remove(c, &in, &err) < 0)
			gr_log_warn("recover %s: %s", name, err.msg);
		else if (gr__snaprec_forget(c, name, &err) < 0)
			gr_log_warn("recover %s: snapshot records: %s", name, err.msg);
		break;
	case GR_ST_STARTING:
	case GR_ST_RUNNING:
		if (pid > 0) {
			if (in.state == GR_ST_STARTING || in.pid != pid) {
				in.pid = pid;
				gr__inst_set_error(&in, NULL);
				if (gr__inst_move(c, &in, GR_ST_RUNNING, &err) < 0)
					gr_log_warn("recover %s: %s", name, err.msg);
			}
			gr__watch_add(c, name, pid);
		} else {
			int64_t rev = 0;
			const char *why = in.state == GR_ST_STARTING
				? "interrupted by a daemon restart while starting; it did not come up"
				: "stopped while the daemon was down (exit status unknown)";
			if (gr__settle_stopped(c, &in, -1, why, &rev) > 0) {
				gr__inst_clear(&in);
				restart_locked(c, name, rev);
				return;
			}
		}
		break;
	case GR_ST_STOPPING:
		if (d->stop(&c->agent, &s, 0, true, &err) < 0)
			gr_log_warn("recover %s: stop: %s", name, err.msg);
		in.pid = 0;
		if (gr__inst_move(c, &in, GR_ST_STOPPED, &err) < 0)
			gr_log_warn("recover %s: %s", name, err.msg);
		break;
	default:
		/* at rest (defined/stopped): whatever the host still holds of it goes
		 * (cleanup is idempotent; a crash may have left parts the driver's
		 * state does not show, such as a mount made but not yet recorded) */
		if (d->cleanup(&c->agent, &s, &err) < 0)
			gr_log_warn("recover %s: cleanup: %s", name, err.msg);
		break;
	}
	gr__inst_clear(&in);
}

int gr__recover(struct gr_control *c, gr_error_t *err)
{
	char **names = gr__index_names(c);
	for (size_t i = 0; names[i]; i++) {
		gr__lock_name(c, names[i]);
		recover_one(c, names[i]);
		gr__unlock_name(c, names[i]);
	}
	gr_strv_free(names);
	/* runtime objects, processes, layers, folders and cgroups of no record */
	gr_agent_sweep(&c->agent, gr__index_known, c);
	/* addresses taken by a create cut short before its record was written */
	gr__net_sweep(c);
	return 0;
}
