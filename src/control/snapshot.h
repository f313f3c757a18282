/*
 * snapshot.h - instance snapshots through the control layer (snapshot.c):
 * records in the store, host work through the driver (VMs) or the image
 * module's layer snapshots (containers), long work as operations.
 *
 * A snapshot record lives at /gureum/snapshots/<instance>/<snap>:
 *   {"name","instance","type","memory":bool,"instance_state","created",
 *    "instance_revision","op"}
 * It is written after the host snapshot exists and removed after the host
 * snapshot is gone, so the records are the truth
 * for `list` (they survive a daemon restart) and a failed create leaves no
 * record.  "instance_revision" (the store revision that created the
 * instance's record) ties a snapshot record to one life of the instance: a
 * record left over from a deleted instance of the same name is stale and
 * dropped when seen.
 *
 * Kinds (docs/API.md "Snapshots" tells the whole story):
 *   VM, running      memory + disk (QMP snapshot-save/load jobs), live
 *   VM, at rest      disk only (internal qcow2 snapshot of the user layer)
 *   container        files only: a copy of the user layer's upper dir, taken
 *                    and restored while the root is unmounted; a running
 *                    container is stopped for the work and started again
 *                    only when the request says "stop": true.
 *
 * Threads: like control.h, any thread; the host work runs under the
 * instance's name lock, so it never overlaps a lifecycle step of the same
 * instance.  json_t results are new references owned by the caller.
 */
#ifndef GR_CONTROL_SNAPSHOT_H
#define GR_CONTROL_SNAPSHOT_H

#include <jansson.h>
#include <stdbool.h>
#include "control/instance.h"
#include "util/error.h"

struct gr_control;

/* {"snapshots": [record, ...]} sorted by name; ENOENT for an unknown instance. */
int gr_control_snapshot_list(struct gr_control *c, const char *inst, json_t **out, gr_error_t *err);
/* One record; ENOENT naming the instance or the snapshot. */
int gr_control_snapshot_get(struct gr_control *c, const char *inst, const char *snap, json_t **out,
			    gr_error_t *err);
/* req: {"name": "...", "memory": bool (optional), "stop": bool (optional)}.
 * Checks what it can at once (EINVAL bad field, ENOENT no instance, EEXIST
 * snapshot exists, EBUSY wrong state), then does the work on a worker thread;
 * *op is the running operation (poll GET /v1/operations/<id>), its result
 * the record. */
int gr_control_snapshot_create(struct gr_control *c, const char *inst, json_t *req, json_t **op,
			       gr_error_t *err);
/* req: {"stop": bool} or NULL/empty.  Same checks and operation as create;
 * the result is the record. */
int gr_control_snapshot_restore(struct gr_control *c, const char *inst, const char *snap, json_t *req,
				json_t **op, gr_error_t *err);
/* Removes the host snapshot (already gone on the host is fine) and the record. */
int gr_control_snapshot_delete(struct gr_control *c, const char *inst, const char *snap,
			       gr_error_t *err);
/* ---- pure parts, exposed for unit tests ---- */

struct gr__snap_req {
	const char *name;   /* borrowed from the request; NULL when absent */
	int memory;         /* -1 not given, 0, 1 */
	bool stop;
};
/* creating: {"name","memory","stop"}; else (restore): {"stop"}.  EINVAL names the field. */
int gr__snapshot_req_parse(json_t *req, bool creating, struct gr__snap_req *out, gr_error_t *err);
/* Snapshot name rule: [a-z0-9][a-z0-9._-]{0,62} (the image module's). */
int gr__snapshot_name_check(const char *field, const char *snap, gr_error_t *err);

enum gr__snap_plan {
	GR_SNAP_LIVE,       /* driver on the running instance (VM memory snapshot / load) */
	GR_SNAP_AT_REST,    /* the instance is defined/stopped: disk or layer snapshot */
	GR_SNAP_STOP_CYCLE, /* stop, snapshot/restore at rest, start again */
};
/* What a create does, given the instance's backend and state; *memory gets
 * whether the snapshot holds memory.  EINVAL (field "memory") or EBUSY
 * (state) with a message saying what to do instead. */
int gr__snapshot_plan_create(const char *inst, enum gr_backend type, enum gr_inst_state state,
			     bool ephemeral, const struct gr__snap_req *rq, enum gr__snap_plan *plan,
			     bool *memory, gr_error_t *err);
/* What a restore does, given whether the snapshot holds memory. */
int gr__snapshot_plan_restore(const char *inst, enum gr_backend type, enum gr_inst_state state,
			      bool ephemeral, bool snap_memory, const struct gr__snap_req *rq,
			      enum gr__snap_plan *plan, gr_error_t *err);

#endif
