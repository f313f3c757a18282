/*
 * lifecycle.c - the instance state machine (control.h has the picture).
 *
 * Rule: the store records the state an instance is about to enter (with the
 * operation doing it in "op") before the host work starts, and the end state
 * after it finished; each step is a compare-and-swap on the previous state
 * (gr_store_transition), so two actors can never both start an instance.
 * Host work that fails is rolled back by the driver; the record then goes
 * back to a resting state (defined/stopped) with "error" set, or away
 * entirely for a failed define.  Resting states: defined, running, stopped.
 */
#include "control/control-internal.h"
#include "control/snapshot.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include "util/alloc.h"
#include "util/fs.h"
#include "util/log.h"

int gr__get_doc(struct gr_control *c, const char *name, json_t **doc, gr_error_t *err)
{
	if (gr_name_valid("name", name, err) < 0)
		return -1;
	_cleanup_free_ char *key = gr__inst_key(name);
	int r = gr_store_get_json(c->store, key, doc, NULL, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return gr_error_set(err, ENOENT, "instance '%s' does not exist", name);
	return 0;
}

/* from -> to (from NULL: create), merging patch (stolen, may be NULL). */
int gr__transition(struct gr_control *c, const char *name, const char *from, const char *to,
		   json_t *patch, gr_error_t *err)
{
	_cleanup_free_ char *key = gr__inst_key(name);
	_cleanup_free_ char *cur = NULL;
	if (!patch)
		patch = json_object();
	if (to && !json_object_get(patch, "op"))
		json_object_set_new(patch, "op", json_null());
	json_object_set_new(patch, "updated", json_integer((json_int_t)time(NULL)));
	int r = gr_store_transition(c->store, key, from, to, patch, NULL, &cur, err);
	json_decref(patch);
	if (r < 0)
		return gr_error_prefix(err, "instance '%s': %s -> %s", name, from ? from : "(new)", to);
	if (r == 0) {
		if (!from)
			return gr_error_set(err, EEXIST, "instance '%s' already exists", name);
		return gr_error_set(err, EBUSY, "instance '%s' is %s, not %s", name,
				    cur ? cur : "gone", from);
	}
	gr__event(c, "state", name, to, NULL);
	return 0;
}

static json_t *op_patch(const char *op_id, const char *kind)
{
	return json_pack("{s:{s:s,s:s}}", "op", "id", op_id, "kind", kind);
}

int gr_control_instance_create(struct gr_control *c, json_t *req, bool start, json_t **out,
			       gr_error_t *err)
{
	json_t *doc = NULL;
	if (gr__inst_from_request(req, &doc, err) < 0)
		return -1;
	const char *name = json_string_value(json_object_get(doc, "name"));
	const char *image = json_string_value(json_object_get(doc, "image"));
	const struct gr_driver_ops *d = gr__driver_of(doc, err);
	struct gr_image_info info = { 0 };
	if (!d || gr_image_get(&c->img, image, &info, err) < 0) {
		if (err && err->code == ENOENT)
			gr_error_set(err, ENOENT, "image: no image named '%s' (see 'gureum image list')",
				     image);
		json_decref(doc);
		return -1;
	}
	struct gr__backend b;
	json_t *jt = json_object_get(req, "type"), *jc = json_object_get(req, "class");
	int br = gr__backend_choose(json_string_value(jc), json_string_value(jt), &b, err);
	if (br == 0)
		br = gr__backend_check_image(&b, image, info.kind, err);
	gr_image_info_clear(&info);
	if (br < 0) {
		json_decref(doc);
		return -1;
	}
	_cleanup_free_ char *nm = xstrdup(name);
	gr__lock_name(c, nm);
	_cleanup_free_ char *op = gr__op_begin(c, start ? "launch" : "create", nm);
	struct gr__spec_holder h;
	gr__spec_from_doc(c, doc, &h);
	json_t *patch = json_deep_copy(doc);
	json_object_del(patch, "state");
	json_t *opj = op_patch(op, "define");
	json_object_update(patch, opj);
	json_decref(opj);
	int r = gr__transition(c, nm, NULL, "defining", patch, err);
	if (r < 0)
		goto out;
	if (gr_mkdir_p(h.dir, 0700, err) < 0 || d->define(&c->agent, &h.spec, err) < 0) {
		gr_error_t e2;
		d->delete(&c->agent, &h.spec, true, &e2);
		gr_rm_rf(h.dir, NULL);
		_cleanup_free_ char *key = gr__inst_key(nm);
		gr_store_delete(c->store, key, NULL, NULL);
		gr__event(c, "deleted", nm, NULL, err ? err->msg : NULL);
		r = -1;
		goto out;
	}
	if ((r = gr__transition(c, nm, "defining", "defined", NULL, err)) < 0)
		goto out;
	if (start && (r = gr__start_locked(c, nm, NULL, err)) < 0) {
		/* as Incus does: the instance stays, at rest, and the error says so */
		json_t *kept = NULL;
		gr_error_t e2;
		if (gr__get_doc(c, nm, &kept, &e2) == 0) {
			const char *st = json_string_value(json_object_get(kept, "state"));
			gr_error_prefix(err, "instance '%s' was created but did not start; it is kept, "
					"stopped (state %s)", nm, st ? st : "?");
			if (out)
				*out = kept;
			else
				json_decref(kept);
		}
	}
out:
	gr__op_end(c, op, r < 0 ? err : NULL, NULL);
	gr__spec_clear(&h);
	gr__unlock_name(c, nm);
	json_decref(doc);
	if (r == 0 && out)
		r = gr_control_instance_get(c, nm, out, err);
	return r;
}

int gr__start_locked(struct gr_control *c, const char *name, json_t **out, gr_error_t *err)
{
	json_t *doc = NULL;
	if (gr__get_doc(c, name, &doc, err) < 0)
		return -1;
	const char *st = json_string_value(json_object_get(doc, "state"));
	if (!st || (strcmp(st, "defined") && strcmp(st, "stopped"))) {
		int code = st && !strcmp(st, "running") ? EEXIST : EBUSY;
		gr_error_set(err, code, "instance '%s' is %s; only a defined or stopped instance starts",
			     name, st ? st : "?");
		json_decref(doc);
		return -1;
	}
	const struct gr_driver_ops *d = gr__driver_of(doc, err);
	_cleanup_free_ char *host = NULL;
	if (!d || gr__place(c, doc, &host, err) < 0) {
		json_decref(doc);
		return -1;
	}
	_cleanup_free_ char *from = xstrdup(st);
	struct gr__spec_holder h;
	gr__spec_from_doc(c, doc, &h);
	json_decref(doc);
	int r = gr__transition(c, name, from, "starting", json_pack("{s:{s:s}}", "op", "kind", "start"),
			       err);
	if (r < 0)
		goto out;
	pid_t pid = 0;
	if (d->start(&c->agent, &h.spec, &pid, err) < 0) {
		gr_error_t e2;
		d->cleanup(&c->agent, &h.spec, &e2);
		gr__transition(c, name, "starting", "stopped",
			       json_pack("{s:s,s:i}", "error", err->msg, "pid", 0), NULL);
		r = -1;
		goto out;
	}
	r = gr__transition(c, name, "starting", "running",
			   json_pack("{s:i,s:n,s:s}", "pid", (int)pid, "error", "host", host), err);
	if (r == 0)
		gr__watch_add(c, name, pid);
out:
	gr__spec_clear(&h);
	return r;
}

int gr__stop_locked(struct gr_control *c, const char *name, int timeout_s, bool force,
		    gr_error_t *err)
{
	json_t *doc = NULL;
	if (gr__get_doc(c, name, &doc, err) < 0)
		return -1;
	const char *st = json_string_value(json_object_get(doc, "state"));
	if (st && (!strcmp(st, "stopped") || !strcmp(st, "defined"))) {
		/* already at rest; the write still cancels a restart the policy has
		 * pending (recover.c restarts only an unchanged record) */
		_cleanup_free_ char *rest = xstrdup(st);
		json_decref(doc);
		return gr__transition(c, name, rest, rest, NULL, err);
	}
	if (!st || (strcmp(st, "running") && strcmp(st, "stopping"))) {
		gr_error_set(err, EBUSY, "instance '%s' is %s and cannot be stopped now", name,
			     st ? st : "?");
		json_decref(doc);
		return -1;
	}
	const struct gr_driver_ops *d = gr__driver_of(doc, err);
	struct gr__spec_holder h;
	gr__spec_from_doc(c, doc, &h);
	bool was_running = !strcmp(st, "running");
	json_decref(doc);
	int r = -1;
	if (!d)
		goto out;
	if (was_running &&
	    gr__transition(c, name, "running", "stopping", json_pack("{s:{s:s}}", "op", "kind", "stop"),
			   err) < 0)
		goto out;
	/* the pid watch stays: it reaps the process; the exit job then finds
	 * the instance no longer "running" and leaves it alone */
	if (d->stop(&c->agent, &h.spec, timeout_s, force, err) < 0) {
		struct gr_drv_state ds = { 0 };
		gr_error_t e2;
		if (d->state(&c->agent, &h.spec, &ds, &e2) == 0 && ds.status == GR_DRV_RUNNING) {
			gr__transition(c, name, "stopping", "running", json_pack("{s:i}", "pid", (int)ds.pid),
				       NULL);
			goto out;
		}
		gr_log_warn("stop %s: %s (the instance is no longer running)", name, err->msg);
	}
	r = gr__transition(c, name, "stopping", "stopped", json_pack("{s:i}", "pid", 0), err);
out:
	gr__spec_clear(&h);
	return r;
}

int gr_control_instance_action(struct gr_control *c, const char *name, const char *action,
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
	gr__lock_name(c, name);
	_cleanup_free_ char *op = gr__op_begin(c, action, name);
	int r = 0;
	if (kill) {
		json_t *doc = NULL;
		if ((r = gr__get_doc(c, name, &doc, err)) == 0) {
			const struct gr_driver_ops *d = gr__driver_of(doc, err);
			struct gr__spec_holder h;
			gr__spec_from_doc(c, doc, &h);
			r = d ? d->kill(&c->agent, &h.spec, sig, err) : -1;
			gr__spec_clear(&h);
			json_decref(doc);
		}
	}
	if (stop || restart)
		r = gr__stop_locked(c, name, timeout, force, err);
	if (r == 0 && (start || restart))
		r = gr__start_locked(c, name, NULL, err);
	gr__op_end(c, op, r < 0 ? err : NULL, NULL);
	gr__unlock_name(c, name);
	if (r == 0 && out)
		r = gr_control_instance_get(c, name, out, err);
	return r;
}

int gr_control_instance_delete(struct gr_control *c, const char *name, bool force, gr_error_t *err)
{
	json_t *doc = NULL;
	if (gr__get_doc(c, name, &doc, err) < 0)
		return -1;
	json_decref(doc);
	gr__lock_name(c, name);
	_cleanup_free_ char *op = gr__op_begin(c, "delete", name);
	_cleanup_free_ char *state = NULL;
	int r = -1;
	if (gr__get_doc(c, name, &doc, err) < 0)
		goto out;
	const char *st = json_string_value(json_object_get(doc, "state"));
	state = xstrdup(st ? st : "?");
	json_decref(doc);
	doc = NULL;
	if (!strcmp(state, "running") || !strcmp(state, "stopping")) {
		if (!force) {
			gr_error_set(err, EBUSY, "instance '%s' is %s (stop it first, or use --force)",
				     name, state);
			goto out;
		}
		if (gr__stop_locked(c, name, 0, true, err) < 0)
			goto out;
		free(state);
		state = xstrdup("stopped");
	}
	if (strcmp(state, "deleting") &&
	    gr__transition(c, name, state, "deleting", json_pack("{s:{s:s}}", "op", "kind", "delete"),
			   err) < 0)
		goto out;
	if (gr__get_doc(c, name, &doc, err) < 0)
		goto out;
	const struct gr_driver_ops *d = gr__driver_of(doc, err);
	struct gr__spec_holder h;
	gr__spec_from_doc(c, doc, &h);
	r = d ? d->delete(&c->agent, &h.spec, true, err) : -1;
	if (r == 0)
		r = gr_rm_rf(h.dir, err);
	gr__spec_clear(&h);
	if (r == 0) {
		_cleanup_free_ char *key = gr__inst_key(name);
		r = gr_store_delete(c->store, key, NULL, err) < 0 ? -1 : 0;
		if (r == 0) {
			/* the snapshots lived in the layers just removed: drop their
			 * records, so a new instance of this name starts with none */
			gr_error_t e2;
			if (gr_control_snapshot_forget(c, name, &e2) < 0)
				gr_log_warn("delete %s: snapshot records: %s", name, e2.msg);
			gr__event(c, "deleted", name, NULL, NULL);
		}
	}
out:
	json_decref(doc);
	gr__op_end(c, op, r < 0 ? err : NULL, NULL);
	gr__unlock_name(c, name);
	return r;
}

int gr_control_instance_list(struct gr_control *c, json_t **out, gr_error_t *err)
{
	return gr__list_values(c, GR_KEY_INSTANCES, "instances", out, err);
}

int gr_control_instance_list_text(struct gr_control *c, char **out, size_t *len, gr_error_t *err)
{
	struct gr_kv_list l = { 0 };
	if (gr_store_list(c->store, GR_KEY_INSTANCES, 0, &l, err) < 0)
		return -1;
	size_t n = sizeof "{\"instances\":[]}\n"; /* with the NUL stpcpy writes */
	for (size_t i = 0; i < l.n; i++)
		n += l.kvs[i].value_len + 1;
	char *t = xmalloc(n), *p = t;
	p = stpcpy(p, "{\"instances\":[");
	for (size_t i = 0; i < l.n; i++) {
		if (i)
			*p++ = ',';
		memcpy(p, l.kvs[i].value, l.kvs[i].value_len);
		p += l.kvs[i].value_len;
	}
	p = stpcpy(p, "]}\n");
	gr_kv_list_clear(&l);
	*out = t;
	*len = (size_t)(p - t);
	return 0;
}

int gr_control_instance_get(struct gr_control *c, const char *name, json_t **out, gr_error_t *err)
{
	return gr__get_doc(c, name, out, err);
}

int gr_control_instance_config(struct gr_control *c, const char *name, json_t *changes,
			       json_t **out, gr_error_t *err)
{
	if (gr_name_valid("name", name, err) < 0)
		return -1;
	gr__lock_name(c, name);
	json_t *doc = NULL, *merged = NULL;
	int r = -1;
	if (gr__get_doc(c, name, &doc, err) < 0 || gr__inst_apply_config(doc, changes, &merged, err) < 0)
		goto out;
	const char *st = json_string_value(json_object_get(doc, "state"));
	if (st && !strcmp(st, "running")) {
		const struct gr_driver_ops *d = gr__driver_of(doc, err);
		if (!d)
			goto out;
		if (!d->update) {
			gr_error_set(err, EOPNOTSUPP, "%s instances cannot be changed while running",
				     d->name);
			goto out;
		}
		struct gr__spec_holder ho, hn;
		gr__spec_from_doc(c, doc, &ho);
		gr__spec_from_doc(c, merged, &hn);
		r = d->update(&c->agent, &ho.spec, &hn.spec, err);
		gr__spec_clear(&ho);
		gr__spec_clear(&hn);
		if (r < 0)
			goto out;
	} else if (!st || (strcmp(st, "defined") && strcmp(st, "stopped"))) {
		gr_error_set(err, EBUSY, "instance '%s' is %s; try again when it is at rest", name,
			     st ? st : "?");
		goto out;
	}
	/* same state, new fields: a CAS on the state we read */
	json_t *patch = json_deep_copy(changes);
	const char *k;
	json_t *v;
	json_object_foreach(patch, k, v)
		json_object_set(patch, k, json_object_get(merged, k));
	r = gr__transition(c, name, st, st, patch, err);
	if (r == 0)
		gr__event(c, "config", name, st, NULL);
out:
	json_decref(doc);
	json_decref(merged);
	gr__unlock_name(c, name);
	if (r == 0 && out)
		r = gr_control_instance_get(c, name, out, err);
	return r;
}

static int exec_common(struct gr_control *c, const char *name, json_t *req, int fd_in, int fd_out,
		       int fd_err, const char *console_socket, int *exit_status, gr_error_t *err)
{
	json_t *doc = NULL;
	if (gr__get_doc(c, name, &doc, err) < 0)
		return -1;
	int r = -1;
	struct gr__spec_holder h;
	gr__spec_from_doc(c, doc, &h);
	_cleanup_strv_ char **cmd = NULL, **env = NULL;
	const char *cwd = NULL;
	bool tty = console_socket != NULL;
	unsigned cols = 0, rows = 0;
	const char *key;
	json_t *v;
	const struct gr_driver_ops *d = gr__driver_of(doc, err);
	if (!d)
		goto out;
	const char *st = json_string_value(json_object_get(doc, "state"));
	if (!st || strcmp(st, "running")) {
		gr_error_set(err, EBUSY, "instance '%s' is %s, not running", name, st ? st : "?");
		goto out;
	}
	json_object_foreach(req, key, v) {
		if (!strcmp(key, "cmd") || !strcmp(key, "env")) {
			if (!json_is_array(v) || (!strcmp(key, "cmd") && !json_array_size(v))) {
				gr_error_set(err, EINVAL, "%s: expected a non-empty array of strings", key);
				goto out;
			}
			char **sv = xcalloc(json_array_size(v) + 1, sizeof *sv);
			size_t i;
			json_t *e;
			json_array_foreach(v, i, e) {
				if (!json_is_string(e) || (!strcmp(key, "env") && !strchr(json_string_value(e), '='))) {
					gr_strv_free(sv);
					gr_error_set(err, EINVAL, "%s[%zu]: expected a%s string", key, i,
						     !strcmp(key, "env") ? " KEY=VALUE" : "");
					goto out;
				}
				sv[i] = xstrdup(json_string_value(e));
			}
			if (!strcmp(key, "cmd"))
				cmd = sv;
			else
				env = sv;
		} else if (!strcmp(key, "cwd") && json_is_string(v) && json_string_value(v)[0] == '/') {
			cwd = json_string_value(v);
		} else if (!strcmp(key, "tty") && json_is_boolean(v)) {
			if (json_is_true(v) && !console_socket) {
				gr_error_set(err, EINVAL, "tty: a terminal needs the websocket form of exec "
					     "(GET with Upgrade: websocket)");
				goto out;
			}
		} else if ((!strcmp(key, "cols") || !strcmp(key, "rows")) && json_is_integer(v) &&
			   json_integer_value(v) > 0 && json_integer_value(v) < 10000) {
			*(key[0] == 'c' ? &cols : &rows) = (unsigned)json_integer_value(v);
		} else {
			gr_error_set(err, EINVAL, "%s: unknown field or bad value", key);
			goto out;
		}
	}
	if (!cmd) {
		gr_error_set(err, EINVAL, "cmd: required");
		goto out;
	}
	if (!d->exec) {
		gr_error_set(err, EOPNOTSUPP, "%s instances have no exec", d->name);
		goto out;
	}
	/* the instance's own environment first, the request's on top */
	size_t ni = gr_strv_len(h.spec.env), nr = gr_strv_len(env);
	char **all = xcalloc(ni + nr + 1, sizeof *all);
	for (size_t i = 0; i < ni; i++)
		all[i] = xstrdup(h.spec.env[i]);
	for (size_t i = 0; i < nr; i++)
		all[ni + i] = xstrdup(env[i]);
	gr_strv_free(env);
	env = all;
	struct gr_exec_req er = { .cmd = cmd, .env = env, .cwd = cwd, .tty = tty, .fd_in = fd_in,
				  .fd_out = fd_out, .fd_err = fd_err, .console_socket = console_socket,
				  .cols = cols, .rows = rows };
	r = d->exec(&c->agent, &h.spec, &er, exit_status, err);
out:
	gr__spec_clear(&h);
	json_decref(doc);
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
	json_t *doc = NULL;
	if (gr__get_doc(c, name, &doc, err) < 0)
		return -1;
	struct gr__spec_holder h;
	gr__spec_from_doc(c, doc, &h);
	const struct gr_driver_ops *d = gr__driver_of(doc, NULL);
	char *in = NULL;
	int r = 0;
	*out_path = NULL;
	if (d && d->console)
		r = d->console(&c->agent, &h.spec, out_path, &in, err);
	else
		*out_path = gr_inst_log_path(&h.spec);
	const char *st = json_string_value(json_object_get(doc, "state"));
	if (r == 0 && in && (!st || strcmp(st, "running"))) {
		free(in); /* a console input only exists while the instance runs */
		in = NULL;
	}
	if (in_path)
		*in_path = in;
	else
		free(in);
	gr__spec_clear(&h);
	json_decref(doc);
	return r;
}

int gr_control_instance_log_path(struct gr_control *c, const char *name, char **out,
				 gr_error_t *err)
{
	return gr_control_instance_console(c, name, out, NULL, err);
}
