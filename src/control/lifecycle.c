/*
 * lifecycle.c - the instance state machine (control.h has the picture;
 * instance.c holds the table of allowed moves).
 *
 * Rule: the store records the state an instance is about to enter (with the
 * operation doing it in "op") before the host work starts, and the end state
 * after it finished; each step is a compare-and-swap on the record as read
 * (gr__inst_move), so two actors can never both start an instance.  Host
 * work that fails is rolled back by the driver; the record then goes back to
 * a resting state (defined/stopped) with "error" set, or away entirely for a
 * failed define.  Resting states: defined, running, stopped.  Requests that
 * can never succeed (bad fields, an instance bigger than any host) are
 * refused before anything is written.
 *
 * Everything here works on struct gr_instance; JSON only at the edges (the
 * request bodies this file's public calls take, and the documents they
 * return).  The name lock (gr__lock_name) serializes the steps of one
 * instance; different instances proceed in parallel.
 */
#include "control/control-internal.h"
#include "control/snapshot.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"

static void set_op(struct gr_instance *in, const char *op_id, const char *kind)
{
	snprintf(in->op_id, sizeof in->op_id, "%s", op_id ? op_id : "");
	snprintf(in->op_kind, sizeof in->op_kind, "%s", kind);
}

/* Start in (read under the name lock; state defining, defined or stopped). */
static int start_inst(struct gr_control *c, struct gr_instance *in, const char *op_id,
		      gr_error_t *err)
{
	const struct gr_driver_ops *d = gr__driver(in);
	char host[GR_INST_HOST_MAX];
	if (gr__index_place(c, in, host, sizeof host, err) < 0) {
		if (in->state == GR_ST_DEFINING) {
			/* a launch the scheduler refused: the instance stays, defined */
			gr_error_t e2;
			if (gr__inst_move(c, in, GR_ST_DEFINED, &e2) < 0)
				gr_log_warn("%s: %s", in->name, e2.msg);
		}
		return -1;
	}
	snprintf(in->host, sizeof in->host, "%s", host);
	set_op(in, op_id, "start");
	if (gr__inst_move(c, in, GR_ST_STARTING, err) < 0)
		return -1;
	struct gr_inst_spec s;
	char dir[GR__DIR_MAX];
	gr__spec_of(c, in, &s, dir);
	pid_t pid = 0;
	if (d->start(&c->agent, &s, &pid, err) < 0) {
		gr_error_t e2;
		if (d->cleanup(&c->agent, &s, &e2) < 0)
			gr_log_warn("%s: cleanup after the failed start: %s", in->name, e2.msg);
		in->pid = 0;
		gr__inst_set_error(in, "%s", err->msg);
		if (gr__inst_move(c, in, GR_ST_STOPPED, &e2) < 0)
			gr_log_warn("%s: %s", in->name, e2.msg);
		return -1;
	}
	in->pid = pid;
	gr__inst_set_error(in, NULL);
	int r = gr__inst_move(c, in, GR_ST_RUNNING, err);
	if (r == 0) {
		gr__watch_add(c, in->name, pid);
	} else {
		/* the record does not say it runs (the store failed or the record
		 * changed): a process nobody watches and no record names must not
		 * live on, so it is stopped and the record told, as for a failed
		 * start */
		gr_error_t e2;
		if (d->stop(&c->agent, &s, 0, true, &e2) < 0)
			gr_log_warn("%s: stopping the process the record lost: %s", in->name, e2.msg);
		if (d->cleanup(&c->agent, &s, &e2) < 0)
			gr_log_warn("%s: cleanup after the failed start: %s", in->name, e2.msg);
		struct gr_instance now;
		if (gr__inst_get(c, in->name, &now, &e2) == 0) {
			if (now.state == GR_ST_STARTING) {
				now.pid = 0;
				gr__inst_set_error(&now, "%s", err->msg);
				if (gr__inst_move(c, &now, GR_ST_STOPPED, &e2) < 0)
					gr_log_warn("%s: %s", in->name, e2.msg);
			}
			gr__inst_clear(&now);
		}
	}
	gr_proc_disown(pid); /* the driver owned it until the watch (or nobody) */
	return r;
}

int gr__start_locked(struct gr_control *c, const char *name, gr_error_t *err)
{
	struct gr_instance in;
	if (gr__inst_get(c, name, &in, err) < 0)
		return -1;
	int r;
	if (in.state != GR_ST_DEFINED && in.state != GR_ST_STOPPED)
		r = gr_error_set(err, in.state == GR_ST_RUNNING ? EEXIST : EBUSY,
				 "instance '%s' is %s; only a defined or stopped instance starts", name,
				 gr__state_name(in.state));
	else
		r = start_inst(c, &in, NULL, err);
	gr__inst_clear(&in);
	return r;
}

int gr__stop_locked(struct gr_control *c, const char *name, int timeout_s, bool force,
		    gr_error_t *err)
{
	struct gr_instance in;
	if (gr__inst_get(c, name, &in, err) < 0)
		return -1;
	int r = -1;
	if (in.state == GR_ST_STOPPED || in.state == GR_ST_DEFINED) {
		/* already at rest; the write still cancels a restart the policy has
		 * pending (recover.c restarts only an unchanged record) */
		r = gr__inst_move(c, &in, in.state, err);
		goto out;
	}
	if (in.state != GR_ST_RUNNING && in.state != GR_ST_STOPPING) {
		gr_error_set(err, EBUSY, "instance '%s' is %s and cannot be stopped now", name,
			     gr__state_name(in.state));
		goto out;
	}
	const struct gr_driver_ops *d = gr__driver(&in);
	if (in.state == GR_ST_RUNNING) {
		set_op(&in, NULL, "stop");
		if (gr__inst_move(c, &in, GR_ST_STOPPING, err) < 0)
			goto out;
	}
	struct gr_inst_spec s;
	char dir[GR__DIR_MAX];
	gr__spec_of(c, &in, &s, dir);
	/* the pid watch stays: it reaps the process; the exit job then finds
	 * the instance no longer "running" and leaves it alone */
	if (d->stop(&c->agent, &s, timeout_s, force, err) < 0) {
		struct gr_drv_state ds = { 0 };
		gr_error_t e2;
		if (d->state(&c->agent, &s, &ds, &e2) == 0 && ds.status == GR_DRV_RUNNING) {
			in.pid = ds.pid;
			if (gr__inst_move(c, &in, GR_ST_RUNNING, &e2) < 0)
				gr_log_warn("%s: %s", name, e2.msg);
			goto out;
		}
		gr_log_warn("stop %s: %s (the instance is no longer running)", name, err->msg);
	}
	in.pid = 0;
	r = gr__inst_move(c, &in, GR_ST_STOPPED, err);
out:
	gr__inst_clear(&in);
	return r;
}

int gr__settle_stopped(struct gr_control *c, struct gr_instance *in, int status, const char *why,
		       int64_t *rev)
{
	const struct gr_driver_ops *d = gr__driver(in);
	struct gr_inst_spec s;
	char dir[GR__DIR_MAX];
	gr_error_t err;
	gr__spec_of(c, in, &s, dir);
	if (d->cleanup(&c->agent, &s, &err) < 0)
		gr_log_warn("cleanup of %s: %s", in->name, err.msg);
	bool again = in->restart == GR_RESTART_ALWAYS ||
		     (in->restart == GR_RESTART_ON_FAILURE && status != 0);
	in->pid = 0;
	in->exit_code = status;
	gr__inst_set_error(in, why ? "%s" : NULL, why);
	if (again)
		in->restart_count++;
	if (gr__inst_move(c, in, GR_ST_STOPPED, &err) < 0) {
		gr_log_warn("%s: %s", in->name, err.msg);
		return 0;
	}
	char detail[64];
	snprintf(detail, sizeof detail, "exit %d", status);
	gr__event(c, "exited", in->name, "stopped", detail);
	*rev = in->mod_revision;
	return again ? 1 : 0;
}

/* ---- create ---- */

/* Everything a create checks before anything is written. */
static int prepare(struct gr_control *c, json_t *req, struct gr_instance *in, gr_error_t *err)
{
	const char *cls = NULL, *type = NULL;
	if (gr__inst_from_request(req, in, &cls, &type, err) < 0)
		return -1;
	struct gr_image_info info = { 0 };
	if (gr_image_get(&c->img, in->image, &info, err) < 0) {
		if (err && err->code == ENOENT)
			gr_error_set(err, ENOENT, "image: no image named '%s' (see 'gureum image list')",
				     in->image);
		goto fail;
	}
	struct gr__backend b;
	int r = gr__backend_choose(cls, type, in->image, info.kind, &b, err);
	gr_image_info_clear(&info);
	if (r < 0)
		goto fail;
	in->backend = b.type;
	in->cls = b.cls;
	snprintf(in->backend_reason, sizeof in->backend_reason, "%s", b.reason);
	const struct gr_driver_ops *d = gr__driver(in);
	if (d->check_options && d->check_options(in->options, err) < 0)
		goto fail;
	/* what the back-end gives when no limit is asked for is what it has */
	if (in->cpu <= 0)
		in->cpu = d->default_cpu;
	if (!in->memory)
		in->memory = d->default_memory;
	if (gr__index_check_fits(c, in, err) < 0)
		goto fail;
	return 0;
fail:
	gr__inst_clear(in);
	return -1;
}

/* A create; replace_rev != 0: the record is the pending one at that
 * mod_revision (pending.c), replaced by the defining record in one
 * compare-and-swap, which is the claim: one host, once. */
static int create_common(struct gr_control *c, json_t *req, bool start, bool hold,
			 int64_t replace_rev, json_t **out, gr_error_t *err)
{
	struct gr_instance in;
	/* in a pool the master may be on other hosts only: fetch it first */
	if (hold && gr__distrib_ensure(c, json_string_value(json_object_get(req, "image")), err) < 0)
		return -1;
	if (prepare(c, req, &in, err) < 0)
		return -1;
	gr__net_default_nic(c, req, &in);
	/* in a pool its layers are made here: this host holds it from the
	 * start (alone, a defined instance has no host until it starts) */
	if (hold)
		snprintf(in.host, sizeof in.host, "%s", c->hostname);
	const struct gr_driver_ops *d = gr__driver(&in);
	char name[GR_INST_NAME_MAX];
	memcpy(name, in.name, sizeof name);
	gr__lock_name(c, name);
	struct gr__op op;
	int r = gr__op_begin(c, start ? "launch" : "create", name, &op, err);
	if (r < 0)
		goto unlock;
	in.state = GR_ST_DEFINING;
	set_op(&in, op.id, "define");
	/* addresses first: a crash before the record leaves keys of no record,
	 * which the start-up sweep releases */
	if ((r = gr__net_alloc(c, &in, err)) < 0)
		goto out;
	if ((r = replace_rev ? gr__inst_replace_pending(c, &in, replace_rev, err)
			     : gr__inst_create(c, &in, err)) < 0) {
		gr__net_release(c, &in);
		goto out;
	}
	struct gr_inst_spec s;
	char dir[GR__DIR_MAX];
	gr__spec_of(c, &in, &s, dir);
	if (gr_mkdir_p(dir, 0700, err) < 0 || d->define(&c->agent, &s, err) < 0) {
		gr_error_t e2;
		d->delete(&c->agent, &s, true, &e2);
		gr_rm_rf(dir, NULL);
		if (gr__inst_remove(c, &in, &e2) < 0)
			gr_log_warn("%s: %s", name, e2.msg);
		else
			gr__net_release(c, &in);
		r = -1;
		goto out;
	}
	if (!start) {
		r = gr__inst_move(c, &in, GR_ST_DEFINED, err);
		goto out;
	}
	/* a launch goes from defining straight to starting: one write less,
	 * and a crash in between leaves a defined layer recovery keeps */
	if ((r = start_inst(c, &in, op.id, err)) < 0) {
		/* as Incus does: the instance stays, at rest, and the error says so */
		struct gr_instance kept;
		gr_error_t e2;
		if (gr__inst_get(c, name, &kept, &e2) == 0) {
			if (kept.state == GR_ST_DEFINING) {
				/* the move to a resting state failed too: try once more */
				if (gr__inst_move(c, &kept, GR_ST_DEFINED, &e2) < 0)
					gr_log_warn("%s: %s", name, e2.msg);
			}
			gr_error_prefix(err, "instance '%s' was created but did not start; it is kept, "
					"%s (state %s)", name,
					kept.state == GR_ST_STOPPED ? "stopped" : "defined",
					gr__state_name(kept.state));
			if (out)
				*out = gr__inst_to_json(&kept);
			gr__inst_clear(&kept);
		}
	}
out:
	gr__op_end(c, &op, r < 0 ? err : NULL, NULL);
unlock:
	gr__unlock_name(c, name);
	gr__inst_clear(&in);
	if (r == 0 && out)
		r = gr_control_instance_get(c, name, out, err);
	return r;
}

int gr__instance_create(struct gr_control *c, json_t *req, bool start, bool hold, json_t **out,
			gr_error_t *err)
{
	return create_common(c, req, start, hold, 0, out, err);
}

int gr__instance_create_claim(struct gr_control *c, json_t *req, bool start, int64_t pending_rev,
			      json_t **out, gr_error_t *err)
{
	return create_common(c, req, start, true, pending_rev, out, err);
}

/* ---- actions ---- */

int gr__instance_action(struct gr_control *c, const char *name, const char *action,
			json_t *opts, json_t **out, gr_error_t *err)
{
	int timeout = 10, sig = SIGTERM;
	bool force = false;
	const char *key;
	json_t *v;
	if (gr_name_valid("name", name, err) < 0)
		return -1;
	json_object_foreach(opts, key, v) {
		if (!strcmp(key, "force") && json_is_boolean(v))
			force = json_is_true(v);
		else if (!strcmp(key, "timeout") && json_is_integer(v) && json_integer_value(v) >= 0 &&
			 json_integer_value(v) <= 3600)
			timeout = (int)json_integer_value(v);
		else if (!strcmp(key, "signal") && json_is_integer(v) && json_integer_value(v) > 0 &&
			 json_integer_value(v) < 65)
			sig = (int)json_integer_value(v);
		else if (!strcmp(key, "force") || !strcmp(key, "timeout") || !strcmp(key, "signal"))
			return gr_error_set(err, EINVAL, "%s: bad value (force: bool, timeout: 0..3600 s, "
					    "signal: 1..64)", key);
		else
			return gr_error_set(err, EINVAL, "%s: unknown field", key);
	}
	bool start = !strcmp(action, "start"), stop = !strcmp(action, "stop");
	bool restart = !strcmp(action, "restart"), kill = !strcmp(action, "kill");
	if (!start && !stop && !restart && !kill)
		return gr_error_set(err, EINVAL, "action: '%s' is not one of start, stop, restart, kill",
				    action);
	struct gr_instance in;
	if (gr__inst_get(c, name, &in, err) < 0)
		return -1;
	bool pending = in.state == GR_ST_PENDING;
	gr__inst_clear(&in);
	if (pending)
		return gr_error_set(err, EBUSY, "instance '%s' is pending (queued until a host has room); "
				    "it cannot %s before it is placed (delete it to cancel)", name, action);
	gr__lock_name(c, name);
	struct gr__op op;
	int r = gr__op_begin(c, action, name, &op, err);
	if (r == 0 && kill && (r = gr__inst_get(c, name, &in, err)) == 0) {
		struct gr_inst_spec s;
		char dir[GR__DIR_MAX];
		gr__spec_of(c, &in, &s, dir);
		r = gr__driver(&in)->kill(&c->agent, &s, sig, err);
		gr__inst_clear(&in);
	}
	if (r == 0 && (stop || restart))
		r = gr__stop_locked(c, name, timeout, force, err);
	if (r == 0 && (start || restart))
		r = gr__start_locked(c, name, err);
	if (op.doc)
		gr__op_end(c, &op, r < 0 ? err : NULL, NULL);
	gr__unlock_name(c, name);
	if (r == 0 && out)
		r = gr_control_instance_get(c, name, out, err);
	return r;
}

int gr__instance_delete(struct gr_control *c, const char *name, bool force, gr_error_t *err)
{
	struct gr_instance in;
	if (gr__inst_get(c, name, &in, err) < 0)
		return -1;
	gr__inst_clear(&in);
	gr__lock_name(c, name);
	struct gr__op op;
	int r = -1;
	if (gr__op_begin(c, "delete", name, &op, err) < 0) {
		gr__unlock_name(c, name);
		return -1;
	}
	if (gr__inst_get(c, name, &in, err) < 0)
		goto out;
	if (in.state == GR_ST_PENDING) {
		/* queued, never placed or not yet claimed: no host work to undo.
		 * The removal compares the record, so a claim that won meanwhile
		 * makes it fail (EBUSY) instead of leaving layers behind. */
		r = gr__inst_remove(c, &in, err);
		goto out_inst;
	}
	if (in.state == GR_ST_RUNNING || in.state == GR_ST_STOPPING) {
		if (!force) {
			gr_error_set(err, EBUSY, "instance '%s' is %s (stop it first, or use --force)",
				     name, gr__state_name(in.state));
			goto out_inst;
		}
		gr__inst_clear(&in);
		if (gr__stop_locked(c, name, 0, true, err) < 0 || gr__inst_get(c, name, &in, err) < 0)
			goto out;
	}
	if (in.state != GR_ST_DELETING) {
		set_op(&in, op.id, "delete");
		if (gr__inst_move(c, &in, GR_ST_DELETING, err) < 0)
			goto out_inst;
	}
	struct gr_inst_spec s;
	char dir[GR__DIR_MAX];
	gr__spec_of(c, &in, &s, dir);
	r = gr__driver(&in)->delete(&c->agent, &s, true, err);
	if (r == 0)
		r = gr_rm_rf(dir, err);
	if (r == 0)
		r = gr__inst_remove(c, &in, err);
	if (r == 0)
		gr__net_release(c, &in);
	if (r == 0) {
		/* the snapshots lived in the layers just removed: drop their
		 * records, so a new instance of this name starts with none */
		gr_error_t e2;
		if (gr__snaprec_forget(c, name, &e2) < 0)
			gr_log_warn("delete %s: snapshot records: %s", name, e2.msg);
	}
out_inst:
	gr__inst_clear(&in);
out:
	gr__op_end(c, &op, r < 0 ? err : NULL, NULL);
	gr__unlock_name(c, name);
	return r;
}

/* ---- reading ---- */

int gr_control_instance_list_text(struct gr_control *c, char **out, size_t *len, gr_error_t *err)
{
	gr__index_list_text(c, out, len);
	return 0;
}

int gr_control_instance_list(struct gr_control *c, json_t **out, gr_error_t *err)
{
	char *text;
	size_t len;
	gr__index_list_text(c, &text, &len);
	json_error_t je;
	*out = json_loadb(text, len, 0, &je);
	free(text);
	if (!*out)
		return gr_error_set(err, EIO, "instance list: %s", je.text);
	return 0;
}

int gr_control_instance_get(struct gr_control *c, const char *name, json_t **out, gr_error_t *err)
{
	struct gr_instance in;
	if (gr__inst_get(c, name, &in, err) < 0)
		return -1;
	json_t *o = gr__inst_to_json(&in);
	const struct gr_driver_ops *d = gr__driver(&in);
	/* usage is read on the host it runs on: not for another host's */
	if (in.state == GR_ST_RUNNING && d->stats && !gr__host_elsewhere(c, in.host)) {
		struct gr_inst_spec s;
		char dir[GR__DIR_MAX];
		struct gr_drv_stats st;
		gr__spec_of(c, &in, &s, dir);
		if (d->stats(&c->agent, &s, &st, NULL) == 0)
			json_object_set_new(o, "usage",
					    json_pack("{s:f,s:I,s:I,s:I}", "cpu_seconds",
						      (double)st.cpu_ns / 1e9, "memory_bytes",
						      (json_int_t)st.memory_bytes, "memory_limit",
						      (json_int_t)st.memory_limit, "pids",
						      (json_int_t)st.pids));
	}
	gr__inst_clear(&in);
	*out = o;
	return 0;
}

/* ---- config ---- */

int gr__instance_config(struct gr_control *c, const char *name, json_t *changes,
			json_t **out, gr_error_t *err)
{
	struct gr_instance in, merged;
	if (gr__inst_get(c, name, &in, err) < 0)
		return -1;
	gr__inst_clear(&in);
	gr__lock_name(c, name);
	memset(&merged, 0, sizeof merged);
	int r = -1;
	if (gr__inst_get(c, name, &in, err) < 0)
		goto unlock;
	if (gr__inst_apply_config(&in, changes, &merged, err) < 0)
		goto out;
	const struct gr_driver_ops *d = gr__driver(&in);
	if (d->check_options && d->check_options(merged.options, err) < 0)
		goto out;
	if (merged.cpu <= 0)
		merged.cpu = d->default_cpu;
	if (!merged.memory)
		merged.memory = d->default_memory;
	if (gr__index_check_fits(c, &merged, err) < 0)
		goto out;
	if (in.state == GR_ST_RUNNING) {
		if (!d->update) {
			gr_error_set(err, EOPNOTSUPP, "%s instances cannot be changed while running",
				     d->name);
			goto out;
		}
		struct gr_inst_spec so, sn;
		char dir_o[GR__DIR_MAX], dir_n[GR__DIR_MAX];
		gr__spec_of(c, &in, &so, dir_o);
		gr__spec_of(c, &merged, &sn, dir_n);
		if (d->update(&c->agent, &so, &sn, err) < 0)
			goto out;
	} else if (in.state != GR_ST_DEFINED && in.state != GR_ST_STOPPED) {
		gr_error_set(err, EBUSY, "instance '%s' is %s; try again when it is at rest", name,
			     gr__state_name(in.state));
		goto out;
	}
	/* same state, new fields: a compare-and-swap on the record we read */
	r = gr__inst_move(c, &merged, merged.state, err);
	if (r == 0)
		gr__event(c, "config", name, gr__state_name(merged.state), NULL);
out:
	gr__inst_clear(&in);
	gr__inst_clear(&merged);
unlock:
	gr__unlock_name(c, name);
	if (r == 0 && out)
		r = gr_control_instance_get(c, name, out, err);
	return r;
}

/* ---- exec and console ---- */

static int parse_exec(json_t *req, bool tty_ok, struct gr_exec_req *er, char ***cmd, char ***env,
		      gr_error_t *err)
{
	const char *key;
	json_t *v;
	json_object_foreach(req, key, v) {
		if (!strcmp(key, "cmd") || !strcmp(key, "env")) {
			bool is_cmd = !strcmp(key, "cmd");
			if (!json_is_array(v) || (is_cmd && !json_array_size(v)))
				return gr_error_set(err, EINVAL, "%s: expected a non-empty array of strings", key);
			char **sv = xcalloc(json_array_size(v) + 1, sizeof *sv);
			size_t i;
			json_t *e;
			json_array_foreach(v, i, e) {
				if (!json_is_string(e) || (!is_cmd && !strchr(json_string_value(e), '='))) {
					gr_strv_free(sv);
					return gr_error_set(err, EINVAL, "%s[%zu]: expected a%s string", key, i,
							    is_cmd ? "" : " KEY=VALUE");
				}
				sv[i] = xstrdup(json_string_value(e));
			}
			gr_strv_free(is_cmd ? *cmd : *env);
			*(is_cmd ? cmd : env) = sv;
		} else if (!strcmp(key, "cwd") && json_is_string(v) && json_string_value(v)[0] == '/') {
			er->cwd = json_string_value(v);
		} else if (!strcmp(key, "tty") && json_is_boolean(v)) {
			if (json_is_true(v) && !tty_ok)
				return gr_error_set(err, EINVAL, "tty: a terminal needs the websocket form of "
						    "exec (GET with Upgrade: websocket)");
		} else if ((!strcmp(key, "cols") || !strcmp(key, "rows")) && json_is_integer(v) &&
			   json_integer_value(v) > 0 && json_integer_value(v) < 10000) {
			*(key[0] == 'c' ? &er->cols : &er->rows) = (unsigned)json_integer_value(v);
		} else {
			return gr_error_set(err, EINVAL, "%s: unknown field or bad value", key);
		}
	}
	if (!*cmd)
		return gr_error_set(err, EINVAL, "cmd: required");
	return 0;
}

static int exec_common(struct gr_control *c, const char *name, json_t *req, int fd_in, int fd_out,
		       int fd_err, const char *console_socket, int *exit_status, gr_error_t *err)
{
	struct gr_instance in;
	if (gr__inst_get(c, name, &in, err) < 0)
		return -1;
	int r = -1;
	_cleanup_strv_ char **cmd = NULL, **env = NULL;
	struct gr_exec_req er = { .tty = console_socket != NULL, .fd_in = fd_in, .fd_out = fd_out,
				  .fd_err = fd_err, .console_socket = console_socket };
	const struct gr_driver_ops *d = gr__driver(&in);
	if (gr__local_only(c, &in, "exec, console and logs", err) < 0)
		goto out;
	if (in.state != GR_ST_RUNNING) {
		gr_error_set(err, EBUSY, "instance '%s' is %s, not running", name, gr__state_name(in.state));
		goto out;
	}
	if (parse_exec(req, console_socket != NULL, &er, &cmd, &env, err) < 0)
		goto out;
	if (!d->exec) {
		gr_error_set(err, EOPNOTSUPP, "%s instances have no exec", d->name);
		goto out;
	}
	/* the instance's own environment first, the request's on top */
	size_t ni = gr_strv_len(in.env), nr = gr_strv_len(env);
	char **all = xcalloc(ni + nr + 1, sizeof *all);
	for (size_t i = 0; i < ni; i++)
		all[i] = xstrdup(in.env[i]);
	for (size_t i = 0; i < nr; i++)
		all[ni + i] = xstrdup(env[i]);
	gr_strv_free(env);
	env = all;
	er.cmd = cmd;
	er.env = env;
	struct gr_inst_spec s;
	char dir[GR__DIR_MAX];
	gr__spec_of(c, &in, &s, dir);
	r = d->exec(&c->agent, &s, &er, exit_status, err);
out:
	gr__inst_clear(&in);
	return r;
}

int gr_control_instance_exec(struct gr_control *c, const char *name, json_t *req, int fd_in,
			     int fd_out, int fd_err, int *exit_status, gr_error_t *err)
{
	return exec_common(c, name, req, fd_in, fd_out, fd_err, NULL, exit_status, err);
}

int gr_control_instance_exec_tty(struct gr_control *c, const char *name, json_t *req,
				 const char *console_socket, int *exit_status, gr_error_t *err)
{
	return exec_common(c, name, req, -1, -1, -1, console_socket, exit_status, err);
}

const char *gr_control_run_dir(const struct gr_control *c)
{
	return c->run_dir;
}

int gr_control_instance_console(struct gr_control *c, const char *name, char **out_path,
				char **in_path, gr_error_t *err)
{
	struct gr_instance in;
	if (gr__inst_get(c, name, &in, err) < 0)
		return -1;
	if (gr__local_only(c, &in, "exec, console and logs", err) < 0) {
		gr__inst_clear(&in);
		return -1;
	}
	struct gr_inst_spec s;
	char dir[GR__DIR_MAX];
	gr__spec_of(c, &in, &s, dir);
	const struct gr_driver_ops *d = gr__driver(&in);
	char *inp = NULL;
	int r = 0;
	*out_path = NULL;
	if (d->console)
		r = d->console(&c->agent, &s, out_path, in_path ? &inp : NULL, err);
	else
		*out_path = gr_inst_log_path(&s);
	if (r == 0 && inp && in.state != GR_ST_RUNNING) {
		free(inp); /* a console input only exists while the instance runs */
		inp = NULL;
	}
	if (in_path)
		*in_path = inp;
	else
		free(inp);
	gr__inst_clear(&in);
	return r;
}

int gr_control_instance_log_path(struct gr_control *c, const char *name, char **out,
				 gr_error_t *err)
{
	return gr_control_instance_console(c, name, out, NULL, err);
}
