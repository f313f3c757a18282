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
 * Host work: the driver's snapshot ops (a VM's memory or disk snapshots, a
 * container's layer copies, which need the root unmounted: defined or
 * stopped).
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

static int check_rest_state(const char *inst, enum gr_inst_state state, gr_error_t *err)
{
	if (gr__state_resting(state))
		return 0;
	return gr_error_set(err, EBUSY, "instance '%s' is %s; try again when it is defined, stopped or running",
			    inst, gr__state_name(state));
}

int gr__snapshot_plan_create(const char *inst, enum gr_backend type, enum gr_inst_state state,
			     bool ephemeral, const struct gr__snap_req *rq, enum gr__snap_plan *plan,
			     bool *memory, gr_error_t *err)
{
	if (check_rest_state(inst, state, err) < 0)
		return -1;
	bool running = state == GR_ST_RUNNING, vm = type == GR_BACKEND_VM;
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

int gr__snapshot_plan_restore(const char *inst, enum gr_backend type, enum gr_inst_state state,
			      bool ephemeral, bool snap_memory, const struct gr__snap_req *rq,
			      enum gr__snap_plan *plan, gr_error_t *err)
{
	if (check_rest_state(inst, state, err) < 0)
		return -1;
	bool running = state == GR_ST_RUNNING, vm = type == GR_BACKEND_VM;
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

/* ---- listing ---- */

int gr_control_snapshot_list(struct gr_control *c, const char *inst, json_t **out, gr_error_t *err)
{
	struct gr_instance in;
	if (gr__inst_get(c, inst, &in, err) < 0)
		return -1;
	json_t *list = NULL;
	int r = gr__snaprec_list(c, in.create_revision, inst, &list, err);
	gr__inst_clear(&in);
	if (r < 0)
		return -1;
	*out = json_pack("{s:o}", "snapshots", list);
	return 0;
}

int gr_control_snapshot_get(struct gr_control *c, const char *inst, const char *snap, json_t **out,
			    gr_error_t *err)
{
	struct gr_instance in;
	if (gr__snapshot_name_check("snapshot", snap, err) < 0 || gr__inst_get(c, inst, &in, err) < 0)
		return -1;
	int r = gr__snaprec_need(c, in.create_revision, inst, snap, out, err);
	gr__inst_clear(&in);
	return r;
}

/* ---- host work ---- */

enum snap_verb { SNAP_CREATE, SNAP_RESTORE, SNAP_DELETE };

static int host_op(struct gr_control *c, const struct gr_instance *in, enum snap_verb verb,
		   const char *snap, gr_error_t *err)
{
	const struct gr_driver_ops *d = gr__driver(in);
	int (*op)(const struct gr_agent *, const struct gr_inst_spec *, const char *, gr_error_t *) =
		verb == SNAP_CREATE ? d->snapshot_create
		: verb == SNAP_RESTORE ? d->snapshot_restore : d->snapshot_delete;
	if (!op)
		return gr_error_set(err, EOPNOTSUPP, "%s instances have no snapshots in this build", d->name);
	struct gr_inst_spec s;
	char dir[GR__DIR_MAX];
	gr__spec_of(c, in, &s, dir);
	return op(&c->agent, &s, snap, err);
}

struct snap_job {
	struct gr_control *c;
	struct gr__op op;
	char *inst, *snap;
	bool restore;
	struct gr__snap_req rq;    /* rq.name points at snap */
};

static void job_free(struct snap_job *j)
{
	free(j->inst);
	free(j->snap);
	free(j);
}

/* The plan for j on the instance as it is now (and, for a restore, the
 * record it restores). */
static int plan_of(struct snap_job *j, const struct gr_instance *in, json_t **rec,
		   enum gr__snap_plan *plan, bool *memory, gr_error_t *err)
{
	struct gr_control *c = j->c;
	if (j->restore) {
		if (gr__snaprec_need(c, in->create_revision, j->inst, j->snap, rec, err) < 0)
			return -1;
		return gr__snapshot_plan_restore(j->inst, in->backend, in->state, in->ephemeral,
						 json_is_true(json_object_get(*rec, "memory")), &j->rq,
						 plan, err);
	}
	int found = gr__snaprec_get(c, in->create_revision, j->inst, j->snap, rec, err);
	if (found < 0)
		return -1;
	if (found)
		return gr_error_set(err, EEXIST, "name: instance '%s' already has a snapshot '%s'",
				    j->inst, j->snap);
	return gr__snapshot_plan_create(j->inst, in->backend, in->state, in->ephemeral, &j->rq, plan,
					memory, err);
}

/* Under the name lock: re-read everything (the instance may have changed
 * since the request was checked), do the work, write or keep the record. */
static int run_snapshot_job(struct snap_job *j, json_t **result, gr_error_t *err)
{
	struct gr_control *c = j->c;
	struct gr_instance in;
	json_t *rec = NULL;
	enum gr__snap_plan plan = GR_SNAP_AT_REST;
	bool memory = false;
	int r = -1;
	if (gr__inst_get(c, j->inst, &in, err) < 0)
		return -1;
	enum gr_inst_state was = in.state;
	if (plan_of(j, &in, &rec, &plan, &memory, err) < 0)
		goto out;
	if (plan == GR_SNAP_STOP_CYCLE && gr__stop_locked(c, j->inst, STOP_TIMEOUT_S, false, err) < 0) {
		gr_error_prefix(err, "stopping '%s' for the %s", j->inst, j->restore ? "restore" : "snapshot");
		goto out;
	}
	enum snap_verb verb = j->restore ? SNAP_RESTORE : SNAP_CREATE;
	r = host_op(c, &in, verb, j->snap, err);
	if (r < 0 && !j->restore && err->code == EEXIST) {
		/* no record but a host snapshot: an interrupted create left it */
		gr_log_warn("snapshot '%s' of '%s' exists on the host without a record; replacing it",
			    j->snap, j->inst);
		gr_error_t e2;
		if (host_op(c, &in, SNAP_DELETE, j->snap, &e2) == 0)
			r = host_op(c, &in, SNAP_CREATE, j->snap, err);
	}
	if (r == 0 && !j->restore) {
		rec = json_pack("{s:s,s:s,s:s,s:b,s:s,s:I,s:I,s:s}", "name", j->snap, "instance", j->inst,
				"type", gr__backend_name(in.backend), "memory", memory, "instance_state",
				gr__state_name(was), "created", (json_int_t)time(NULL), "instance_revision",
				(json_int_t)in.create_revision, "op", j->op.id);
		if (gr__snaprec_put(c, j->inst, j->snap, rec, err) < 0) {
			gr_error_t e2;
			host_op(c, &in, SNAP_DELETE, j->snap, &e2);
			r = -1;
		}
	}
	if (plan == GR_SNAP_STOP_CYCLE) {
		gr_error_t e3;
		if (gr__start_locked(c, j->inst, &e3) < 0) {
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
	json_decref(rec);
	gr__inst_clear(&in);
	return r;
}

static void *job_main(void *p)
{
	struct snap_job *j = p;
	struct gr_control *c = j->c;
	gr__lock_name(c, j->inst);
	gr_error_t err = { 0 };
	json_t *result = NULL;
	int r = run_snapshot_job(j, &result, &err);
	gr__unlock_name(c, j->inst);
	if (r == 0) {
		gr__op_end(c, &j->op, NULL, result);
		gr__event(c, j->restore ? "snapshot-restored" : "snapshot-created", j->inst, NULL, j->snap);
	} else {
		gr_log_warn("%s %s/%s: %s", j->restore ? "snapshot restore" : "snapshot create", j->inst,
			    j->snap, err.msg);
		gr__op_end(c, &j->op, &err, NULL);
	}
	job_free(j);
	return NULL;
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
	/* the checks a request gets at once (repeated under the lock) */
	struct gr_instance in;
	json_t *rec = NULL;
	enum gr__snap_plan plan;
	bool memory;
	int r = gr__inst_get(c, inst, &in, err);
	if (r == 0 && (r = gr__local_only(c, &in, "snapshots", err)) < 0)
		gr__inst_clear(&in);
	else if (r == 0) {
		r = plan_of(j, &in, &rec, &plan, &memory, err);
		gr__inst_clear(&in);
		json_decref(rec);
	}
	_cleanup_free_ char *target = xasprintf("%s/%s", inst, snap);
	if (r < 0 || gr__op_begin(c, restore ? "snapshot-restore" : "snapshot-create", target, &j->op,
				  err) < 0) {
		job_free(j);
		return -1;
	}
	char id[sizeof j->op.id];
	memcpy(id, j->op.id, sizeof id);
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
	return start_job(c, inst, snap, true, &rq, op, err);
}

int gr_control_snapshot_delete(struct gr_control *c, const char *inst, const char *snap,
			       gr_error_t *err)
{
	if (gr_name_valid("instance", inst, err) < 0 || gr__snapshot_name_check("snapshot", snap, err) < 0)
		return -1;
	struct gr_instance in;
	if (gr__inst_get(c, inst, &in, err) < 0)
		return -1;
	int lr = gr__local_only(c, &in, "snapshots", err);
	gr__inst_clear(&in);
	if (lr < 0)
		return -1;
	gr__lock_name(c, inst);
	_cleanup_free_ char *target = xasprintf("%s/%s", inst, snap);
	struct gr__op op;
	json_t *rec = NULL;
	int r = -1;
	if (gr__op_begin(c, "snapshot-delete", target, &op, err) < 0) {
		gr__unlock_name(c, inst);
		return -1;
	}
	if (gr__inst_get(c, inst, &in, err) < 0)
		goto out;
	if (gr__snaprec_need(c, in.create_revision, inst, snap, &rec, err) < 0)
		goto out_inst;
	gr_error_t e;
	r = host_op(c, &in, SNAP_DELETE, snap, &e);
	if (r < 0 && e.code == ENOENT) {
		gr_log_warn("snapshot '%s' of '%s' was already gone on the host (%s); dropping its record",
			    snap, inst, e.msg);
		r = 0;
	}
	if (r < 0)
		*err = e;
	else
		r = gr__snaprec_delete(c, inst, snap, err);
out_inst:
	gr__inst_clear(&in);
out:
	gr__op_end(c, &op, r < 0 ? err : NULL, NULL);
	gr__unlock_name(c, inst);
	if (r == 0)
		gr__event(c, "snapshot-deleted", inst, NULL, snap);
	json_decref(rec);
	return r;
}
