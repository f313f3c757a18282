/*
 * snapshot.c - instance snapshots: request checks, the plan (live, at rest,
 * or stop-snapshot-start), host work, records, operations (snapshot.h has
 * the record shape and the kinds).
 *
 * Invariants:
 *  - a record exists only while its host snapshot does: create writes it
 *    after the host work succeeded (and removes the host snapshot again when
 *    the write fails); delete removes it after the host snapshot is gone.
 *  - host work and record changes of one instance run under its name lock,
 *    so two creates of one name cannot both succeed and no lifecycle step
 *    runs meanwhile.
 *  - a host snapshot without a record is the leftover of a create a daemon
 *    crash interrupted: a create of that name replaces it.
 * Host work: the driver's snapshot ops when it has them (VMs); for
 * containers (no driver ops) the image module's layer snapshots, which need
 * the root unmounted (instance defined or stopped).
 */
#include "control/snapshot.h"
#include "control/control-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "util/alloc.h"
#include "util/log.h"

#define STOP_TIMEOUT_S 10

/* ---- pure parts ---- */

int gr__snapshot_name_check(const char *field, const char *snap, gr_error_t *err)
{
	if (!snap || !*snap)
		return gr_error_set(err, EINVAL, "%s: must not be empty", field);
	if (!gr_image_name_valid(snap))
		return gr_error_set(err, EINVAL,
				    "%s: '%.70s' is not a valid snapshot name ([a-z0-9][a-z0-9._-]{0,62})",
				    field, snap);
	return 0;
}

int gr__snapshot_req_parse(json_t *req, bool creating, struct gr__snap_req *out, gr_error_t *err)
{
	*out = (struct gr__snap_req){ .memory = -1 };
	if (req && !json_is_object(req))
		return gr_error_set(err, EINVAL, "body: expected a JSON object");
	const char *key;
	json_t *v;
	json_object_foreach(req, key, v) {
		if (creating && !strcmp(key, "name")) {
			if (!json_is_string(v))
				return gr_error_set(err, EINVAL, "name: expected a string");
			out->name = json_string_value(v);
		} else if (creating && !strcmp(key, "memory")) {
			if (!json_is_boolean(v))
				return gr_error_set(err, EINVAL, "memory: expected true or false");
			out->memory = json_is_true(v);
		} else if (!strcmp(key, "stop")) {
			if (!json_is_boolean(v))
				return gr_error_set(err, EINVAL, "stop: expected true or false");
			out->stop = json_is_true(v);
		} else {
			return gr_error_set(err, EINVAL, "%s: unknown field", key);
		}
	}
	if (creating && !out->name)
		return gr_error_set(err, EINVAL, "name: required");
	if (creating)
		return gr__snapshot_name_check("name", out->name, err);
	return 0;
}

static int check_rest_state(const char *inst, const char *state, gr_error_t *err)
{
	if (state && (!strcmp(state, "defined") || !strcmp(state, "stopped") || !strcmp(state, "running")))
		return 0;
	return gr_error_set(err, EBUSY, "instance '%s' is %s; try again when it is defined, stopped or running",
			    inst, state ? state : "?");
}

int gr__snapshot_plan_create(const char *inst, const char *type, const char *state, bool ephemeral,
			     const struct gr__snap_req *rq, enum gr__snap_plan *plan, bool *memory,
			     gr_error_t *err)
{
	if (check_rest_state(inst, state, err) < 0)
		return -1;
	bool running = !strcmp(state, "running"), vm = type && !strcmp(type, "vm");
	*memory = false;
	if (!vm) {
		if (rq->memory == 1)
			return gr_error_set(err, EINVAL, "memory: a container snapshot holds files only, "
					    "no memory state");
		if (!running) {
			*plan = GR_SNAP_AT_REST;
			return 0;
		}
		if (!rq->stop)
			return gr_error_set(err, EBUSY, "instance '%s' is running: a container snapshot is "
					    "taken of its stopped layer; stop it first, or ask for stop "
					    "(--stop) to stop it for the snapshot and start it again", inst);
		*plan = GR_SNAP_STOP_CYCLE;
		return 0;
	}
	if (!running) {
		if (rq->memory == 1)
			return gr_error_set(err, EINVAL, "memory: VM '%s' is not running, so it has no memory "
					    "state; a stopped VM gets a disk-only snapshot", inst);
		*plan = GR_SNAP_AT_REST;
		return 0;
	}
	if (rq->memory != 1 && rq->stop) {
		*plan = GR_SNAP_STOP_CYCLE;
		return 0;
	}
	if (rq->memory == 0)
		return gr_error_set(err, EINVAL, "memory: a running VM's snapshot holds its memory; for a "
				    "disk-only one stop the VM first, or ask for stop (--stop)");
	if (ephemeral)
		return gr_error_set(err, EBUSY, "instance '%s' is an ephemeral VM: a live snapshot would land "
				    "in its run layer and vanish at stop; stop it first (or ask for stop, "
				    "--stop) for a disk snapshot of its user layer", inst);
	*plan = GR_SNAP_LIVE;
	*memory = true;
	return 0;
}

int gr__snapshot_plan_restore(const char *inst, const char *type, const char *state, bool ephemeral,
			      bool snap_memory, const struct gr__snap_req *rq, enum gr__snap_plan *plan,
			      gr_error_t *err)
{
	if (check_rest_state(inst, state, err) < 0)
		return -1;
	bool running = !strcmp(state, "running"), vm = type && !strcmp(type, "vm");
	if (!running) {
		*plan = GR_SNAP_AT_REST;
		return 0;
	}
	if (vm && snap_memory && !ephemeral) {
		*plan = GR_SNAP_LIVE;
		return 0;
	}
	if (rq->stop) {
		*plan = GR_SNAP_STOP_CYCLE;
		return 0;
	}
	const char *snap = rq->name ? rq->name : "?";
	if (!vm)
		return gr_error_set(err, EBUSY, "instance '%s' is running: a container is restored while "
				    "stopped; stop it first, or ask for stop (--stop) to stop it for the "
				    "restore and start it again", inst);
	if (ephemeral)
		return gr_error_set(err, EBUSY, "instance '%s' is an ephemeral VM running on its run layer; "
				    "stop it first, or ask for stop (--stop), to restore '%s' into its "
				    "user layer", inst, snap);
	return gr_error_set(err, EBUSY, "snapshot '%s' of VM '%s' is disk-only and the VM is running; stop "
			    "it first, or ask for stop (--stop)", snap, inst);
}

/* ---- records ---- */

static char *snap_key(const char *inst, const char *snap)
{
	return xasprintf("%s%s/%s", GR_KEY_SNAPSHOTS, inst, snap);
}

/* The instance document and the store revision that created its record: a
 * snapshot record belongs to that life of the instance only. */
static int load_inst(struct gr_control *c, const char *inst, json_t **doc, int64_t *irev,
		     gr_error_t *err)
{
	if (gr__get_doc(c, inst, doc, err) < 0)
		return -1;
	_cleanup_free_ char *key = gr__inst_key(inst);
	struct gr_kv kv = { 0 };
	int r = gr_store_get(c->store, key, &kv, err);
	if (r <= 0) {
		json_decref(*doc);
		*doc = NULL;
		return r < 0 ? -1 : gr_error_set(err, ENOENT, "instance '%s' does not exist", inst);
	}
	*irev = kv.create_revision;
	gr_kv_clear(&kv);
	return 0;
}

static bool record_current(const json_t *rec, int64_t irev)
{
	json_t *a = json_object_get(rec, "instance_revision");
	return json_is_integer(a) && json_integer_value(a) == irev;
}

/* 1 found (*rec a new reference) / 0 none or stale (a stale one is dropped) / -1. */
static int record_get(struct gr_control *c, int64_t irev, const char *inst, const char *snap,
		      json_t **rec, gr_error_t *err)
{
	_cleanup_free_ char *key = snap_key(inst, snap);
	json_t *r = NULL;
	int found = gr_store_get_json(c->store, key, &r, NULL, err);
	if (found <= 0)
		return found;
	if (!record_current(r, irev)) {
		json_decref(r);
		gr_store_delete(c->store, key, NULL, NULL);
		return 0;
	}
	*rec = r;
	return 1;
}

static int record_need(struct gr_control *c, int64_t irev, const char *inst, const char *snap,
		       json_t **rec, gr_error_t *err)
{
	int r = record_get(c, irev, inst, snap, rec, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return gr_error_set(err, ENOENT, "instance '%s' has no snapshot '%s'", inst, snap);
	return 0;
}

int gr_control_snapshot_forget(struct gr_control *c, const char *inst, gr_error_t *err)
{
	_cleanup_free_ char *prefix = xasprintf("%s%s/", GR_KEY_SNAPSHOTS, inst);
	return gr_store_delete_prefix(c->store, prefix, NULL, NULL, err) < 0 ? -1 : 0;
}

int gr_control_snapshot_list(struct gr_control *c, const char *inst, json_t **out, gr_error_t *err)
{
	json_t *doc = NULL;
	int64_t irev = 0;
	if (gr_name_valid("instance", inst, err) < 0 || load_inst(c, inst, &doc, &irev, err) < 0)
		return -1;
	json_decref(doc);
	_cleanup_free_ char *prefix = xasprintf("%s%s/", GR_KEY_SNAPSHOTS, inst);
	json_t *arr = NULL;
	if (gr_store_list_json(c->store, prefix, &arr, err) < 0)
		return -1;
	json_t *list = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e) {
		json_t *rec = json_object_get(e, "value");
		if (record_current(rec, irev))
			json_array_append(list, rec);
		else
			gr_store_delete(c->store, json_string_value(json_object_get(e, "key")), NULL, NULL);
	}
	json_decref(arr);
	*out = json_pack("{s:o}", "snapshots", list);
	return 0;
}

int gr_control_snapshot_get(struct gr_control *c, const char *inst, const char *snap, json_t **out,
			    gr_error_t *err)
{
	json_t *doc = NULL;
	int64_t irev = 0;
	if (gr_name_valid("instance", inst, err) < 0 || gr__snapshot_name_check("snapshot", snap, err) < 0 ||
	    load_inst(c, inst, &doc, &irev, err) < 0)
		return -1;
	int r = record_need(c, irev, inst, snap, out, err);
	json_decref(doc);
	return r;
}

/* ---- host work ---- */

static bool is_container(const struct gr_driver_ops *d)
{
	return !strcmp(d->name, "container");
}

static int host_op(struct gr_control *c, const struct gr_driver_ops *d, const struct gr_inst_spec *s,
		   char verb, const char *snap, gr_error_t *err)
{
	int (*op)(const struct gr_agent *, const struct gr_inst_spec *, const char *, gr_error_t *) =
		verb == 'c' ? d->snapshot_create : verb == 'r' ? d->snapshot_restore : d->snapshot_delete;
	if (op)
		return op(&c->agent, s, snap, err);
	if (!is_container(d))
		return gr_error_set(err, EOPNOTSUPP, "%s instances have no snapshots in this build", d->name);
	if (verb == 'c')
		return gr_layer_snapshot_create(&c->img, s->name, snap, err);
	if (verb == 'r')
		return gr_layer_snapshot_restore(&c->img, s->name, snap, err);
	return gr_layer_snapshot_delete(&c->img, s->name, snap, err);
}

struct snap_job {
	struct gr_control *c;
	char *op, *inst, *snap;
	bool restore;
	struct gr__snap_req rq;    /* rq.name points at snap */
};

static void job_free(struct snap_job *j)
{
	free(j->op);
	free(j->inst);
	free(j->snap);
	free(j);
}

/* Under the name lock: re-read everything (the instance may have changed
 * since the request was checked), do the work, write or keep the record. */
static int do_job(struct snap_job *j, json_t **result, gr_error_t *err)
{
	struct gr_control *c = j->c;
	json_t *doc = NULL, *rec = NULL;
	char *was = NULL;
	struct gr__spec_holder h = { 0 };
	enum gr__snap_plan plan = GR_SNAP_AT_REST;
	bool memory = false;
	int r = -1;
	int64_t irev = 0;
	if (load_inst(c, j->inst, &doc, &irev, err) < 0)
		return -1;
	const struct gr_driver_ops *d = gr__driver_of(doc, err);
	if (!d)
		goto out;
	const char *type = json_string_value(json_object_get(doc, "type"));
	const char *state = json_string_value(json_object_get(doc, "state"));
	bool eph = json_is_true(json_object_get(doc, "ephemeral"));
	if (j->restore) {
		if (record_need(c, irev, j->inst, j->snap, &rec, err) < 0 ||
		    gr__snapshot_plan_restore(j->inst, type, state, eph,
					      json_is_true(json_object_get(rec, "memory")), &j->rq, &plan,
					      err) < 0)
			goto out;
	} else {
		int found = record_get(c, irev, j->inst, j->snap, &rec, err);
		if (found < 0)
			goto out;
		if (found) {
			gr_error_set(err, EEXIST, "instance '%s' already has a snapshot '%s'", j->inst, j->snap);
			goto out;
		}
		if (gr__snapshot_plan_create(j->inst, type, state, eph, &j->rq, &plan, &memory, err) < 0)
			goto out;
	}
	was = xstrdup(state);
	if (plan == GR_SNAP_STOP_CYCLE && gr__stop_locked(c, j->inst, STOP_TIMEOUT_S, false, err) < 0) {
		gr_error_prefix(err, "stopping '%s' for the %s", j->inst, j->restore ? "restore" : "snapshot");
		goto out;
	}
	gr__spec_from_doc(c, doc, &h);
	r = host_op(c, d, &h.spec, j->restore ? 'r' : 'c', j->snap, err);
	if (r < 0 && !j->restore && err->code == EEXIST) {
		/* no record but a host snapshot: an interrupted create left it */
		gr_log_warn("snapshot '%s' of '%s' exists on the host without a record; replacing it",
			    j->snap, j->inst);
		gr_error_t e2;
		if (host_op(c, d, &h.spec, 'd', j->snap, &e2) == 0)
			r = host_op(c, d, &h.spec, 'c', j->snap, err);
	}
	if (r == 0 && !j->restore) {
		_cleanup_free_ char *key = snap_key(j->inst, j->snap);
		rec = json_pack("{s:s,s:s,s:s,s:b,s:s,s:I,s:I,s:s}", "name", j->snap, "instance", j->inst,
				"type", type ? type : "container", "memory", memory, "instance_state", was,
				"created", (json_int_t)time(NULL), "instance_revision", (json_int_t)irev,
				"op", j->op);
		if (gr_store_put_json(c->store, key, rec, 0, NULL, err) < 0) {
			gr_error_t e2;
			host_op(c, d, &h.spec, 'd', j->snap, &e2);
			r = -1;
		}
	}
	if (plan == GR_SNAP_STOP_CYCLE) {
		gr_error_t e3;
		if (gr__start_locked(c, j->inst, NULL, &e3) < 0) {
			if (r == 0) { /* the snapshot itself is fine: its record stays */
				*err = e3;
				gr_error_prefix(err, "%s '%s' done, but starting '%s' again failed",
						j->restore ? "restore of" : "snapshot", j->snap, j->inst);
			} else {
				gr_log_warn("starting '%s' again after the failed %s: %s", j->inst,
					    j->restore ? "restore" : "snapshot", e3.msg);
			}
			r = -1;
		}
	}
out:
	if (r == 0)
		*result = json_incref(rec);
	gr__spec_clear(&h);
	free(was);
	json_decref(rec);
	json_decref(doc);
	return r;
}

static void *job_main(void *p)
{
	struct snap_job *j = p;
	struct gr_control *c = j->c;
	gr__lock_name(c, j->inst);
	gr_error_t err = { 0 };
	json_t *result = NULL;
	int r = do_job(j, &result, &err);
	gr__unlock_name(c, j->inst);
	if (r == 0) {
		gr__op_end(c, j->op, NULL, result);
		gr__event(c, j->restore ? "snapshot-restored" : "snapshot-created", j->inst, NULL, j->snap);
	} else {
		gr_log_warn("%s %s/%s: %s", j->restore ? "snapshot restore" : "snapshot create", j->inst,
			    j->snap, err.msg);
		gr__op_end(c, j->op, &err, NULL);
	}
	job_free(j);
	return NULL;
}

/* The checks a request gets at once (they are repeated under the lock). */
static int precheck(struct gr_control *c, const char *inst, const char *snap, bool restore,
		    struct gr__snap_req *rq, gr_error_t *err)
{
	json_t *doc = NULL, *rec = NULL;
	int64_t irev = 0;
	if (load_inst(c, inst, &doc, &irev, err) < 0)
		return -1;
	int r = -1;
	const char *type = json_string_value(json_object_get(doc, "type"));
	const char *state = json_string_value(json_object_get(doc, "state"));
	bool eph = json_is_true(json_object_get(doc, "ephemeral"));
	enum gr__snap_plan plan;
	bool memory;
	if (!gr__driver_of(doc, err))
		goto out;
	if (restore) {
		if (record_need(c, irev, inst, snap, &rec, err) < 0 ||
		    gr__snapshot_plan_restore(inst, type, state, eph, json_is_true(json_object_get(rec, "memory")),
					      rq, &plan, err) < 0)
			goto out;
	} else {
		int found = record_get(c, irev, inst, snap, &rec, err);
		if (found < 0)
			goto out;
		if (found) {
			gr_error_set(err, EEXIST, "name: instance '%s' already has a snapshot '%s'", inst, snap);
			goto out;
		}
		if (gr__snapshot_plan_create(inst, type, state, eph, rq, &plan, &memory, err) < 0)
			goto out;
	}
	r = 0;
out:
	json_decref(rec);
	json_decref(doc);
	return r;
}

static int start_job(struct gr_control *c, const char *inst, const char *snap, bool restore,
		     const struct gr__snap_req *rq, json_t **op, gr_error_t *err)
{
	struct snap_job *j = xcalloc(1, sizeof *j);
	j->c = c;
	j->inst = xstrdup(inst);
	j->snap = xstrdup(snap);
	j->restore = restore;
	j->rq = *rq;
	j->rq.name = j->snap;
	_cleanup_free_ char *target = xasprintf("%s/%s", inst, snap);
	j->op = gr__op_begin(c, restore ? "snapshot-restore" : "snapshot-create", target);
	_cleanup_free_ char *id = xstrdup(j->op);
	gr__spawn(c, job_main, j);
	return gr_control_op_get(c, id, 0, op, err);
}

int gr_control_snapshot_create(struct gr_control *c, const char *inst, json_t *req, json_t **op,
			       gr_error_t *err)
{
	struct gr__snap_req rq;
	if (gr_name_valid("instance", inst, err) < 0 || gr__snapshot_req_parse(req, true, &rq, err) < 0)
		return -1;
	_cleanup_free_ char *snap = xstrdup(rq.name);
	rq.name = snap;
	if (precheck(c, inst, snap, false, &rq, err) < 0)
		return -1;
	return start_job(c, inst, snap, false, &rq, op, err);
}

int gr_control_snapshot_restore(struct gr_control *c, const char *inst, const char *snap, json_t *req,
				json_t **op, gr_error_t *err)
{
	struct gr__snap_req rq;
	if (gr_name_valid("instance", inst, err) < 0 || gr__snapshot_name_check("snapshot", snap, err) < 0 ||
	    gr__snapshot_req_parse(req, false, &rq, err) < 0)
		return -1;
	rq.name = snap;
	if (precheck(c, inst, snap, true, &rq, err) < 0)
		return -1;
	return start_job(c, inst, snap, true, &rq, op, err);
}

int gr_control_snapshot_delete(struct gr_control *c, const char *inst, const char *snap,
			       gr_error_t *err)
{
	if (gr_name_valid("instance", inst, err) < 0 || gr__snapshot_name_check("snapshot", snap, err) < 0)
		return -1;
	json_t *doc = NULL, *rec = NULL;
	if (gr__get_doc(c, inst, &doc, err) < 0)
		return -1;
	json_decref(doc);
	doc = NULL;
	gr__lock_name(c, inst);
	_cleanup_free_ char *target = xasprintf("%s/%s", inst, snap);
	_cleanup_free_ char *op = gr__op_begin(c, "snapshot-delete", target);
	int r = -1;
	int64_t irev = 0;
	const struct gr_driver_ops *d;
	if (load_inst(c, inst, &doc, &irev, err) < 0 || !(d = gr__driver_of(doc, err)) ||
	    record_need(c, irev, inst, snap, &rec, err) < 0)
		goto out;
	struct gr__spec_holder h;
	gr__spec_from_doc(c, doc, &h);
	gr_error_t e;
	r = host_op(c, d, &h.spec, 'd', snap, &e);
	gr__spec_clear(&h);
	if (r < 0 && e.code == ENOENT) {
		gr_log_warn("snapshot '%s' of '%s' was already gone on the host (%s); dropping its record",
			    snap, inst, e.msg);
		r = 0;
	}
	if (r < 0) {
		*err = e;
		goto out;
	}
	{
		_cleanup_free_ char *key = snap_key(inst, snap);
		if (gr_store_delete(c->store, key, NULL, err) < 0)
			r = -1;
	}
out:
	gr__op_end(c, op, r < 0 ? err : NULL, NULL);
	gr__unlock_name(c, inst);
	if (r == 0)
		gr__event(c, "snapshot-deleted", inst, NULL, snap);
	json_decref(rec);
	json_decref(doc);
	return r;
}
