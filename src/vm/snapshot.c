/*
 * snapshot.c - VM snapshots.  A running VM gets full snapshots (device + memory state +
 * disk) stored inside the qcow2 QEMU has open (node "root"), through the QMP jobs
 * snapshot-save/snapshot-load/snapshot-delete (QEMU >= 6.0: the monitor stays responsive
 * and failures come back structured from query-jobs); a QEMU without them gets HMP
 * savevm/loadvm/delvm.  The read-only seed disk is never part of a snapshot.  A stopped VM
 * gets disk-only snapshots of its user layer through the image module (qemu-img
 * snapshot).  Both kinds are internal qcow2 snapshots, so one list shows them; a full one
 * has vm_state_size > 0.  An ephemeral VM's running snapshots live in its run layer and
 * go away with it on stop.
 */
#include "vm/vm-internal.h"
#include "util/alloc.h"
#include "util/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SNAP_TIMEOUT_MS 120000

static int running(const struct gr_vm_spec *s, struct gr__vm_run *r)
{
	return gr__vm_run_read(s, r, NULL) == 0 && gr__vm_alive(r);
}

/* Run a snapshot-* job to its end: start it, wait for its JOB_STATUS_CHANGE "concluded",
 * read its error from query-jobs, dismiss it. */
static int run_job(struct gr_qmp_conn *q, const char *cmd, const char *snap, gr_error_t *err)
{
	char job[96];
	static unsigned seq;
	snprintf(job, sizeof job, "gr-%s-%d-%u", cmd, (int)getpid(), __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	json_t *args = json_pack("{s:s, s:s, s:[s]}", "job-id", job, "tag", snap, "devices", "root");
	if (strcmp(cmd, "snapshot-delete"))
		json_object_set_new(args, "vmstate", json_string("root"));
	if (gr_qmp_exec(q, cmd, args, 10000, NULL, err) < 0)
		return -1;
	long long deadline = gr__vm_now_ms() + SNAP_TIMEOUT_MS;
	for (;;) {
		long long left = deadline - gr__vm_now_ms();
		json_t *data = NULL;
		if (left <= 0 || gr_qmp_wait_event(q, "JOB_STATUS_CHANGE", (int)left, &data, err) < 0)
			return left <= 0 ? gr_error_set(err, ETIMEDOUT, "%s %s: the job did not end in time", cmd, snap) : -1;
		int done = !strcmp(json_string_value(json_object_get(data, "id")) ?: "", job) &&
			   !strcmp(json_string_value(json_object_get(data, "status")) ?: "", "concluded");
		json_decref(data);
		if (done)
			break;
	}
	json_t *jobs = NULL;
	if (gr_qmp_exec(q, "query-jobs", NULL, 5000, &jobs, err) < 0)
		return -1;
	char msg[512] = "";
	size_t i;
	json_t *j;
	json_array_foreach(jobs, i, j) {
		const char *id = json_string_value(json_object_get(j, "id"));
		const char *e = json_string_value(json_object_get(j, "error"));
		if (id && !strcmp(id, job) && e)
			snprintf(msg, sizeof msg, "%s", e);
	}
	json_decref(jobs);
	gr_qmp_exec(q, "job-dismiss", json_pack("{s:s}", "id", job), 5000, NULL, NULL);
	if (msg[0])
		return gr_error_set(err, EIO, "%s %s: %s", cmd, snap, msg);
	return 0;
}

/* verb: "save", "load" or "delete" */
static int snap_running(const struct gr_vm_spec *s, const char *verb, const char *snap, gr_error_t *err)
{
	_cleanup_free_ char *qmp = gr_vm_path(s, "qmp.sock");
	struct gr_qmp_conn *q = NULL;
	if (gr_qmp_connect(qmp, 5000, &q, err) < 0)
		return -1;
	_cleanup_free_ char *cmd = xasprintf("snapshot-%s", verb);
	gr_error_t e = {0};
	int rc = run_job(q, cmd, snap, &e);
	if (rc < 0 && e.code == ENOTSUP) { /* QEMU without snapshot jobs */
		static const char *const hmp[][2] = {{"save", "savevm"}, {"load", "loadvm"}, {"delete", "delvm"}};
		const char *h = "savevm";
		for (size_t i = 0; i < 3; i++)
			if (!strcmp(hmp[i][0], verb))
				h = hmp[i][1];
		_cleanup_free_ char *line = xasprintf("%s %s", h, snap);
		rc = gr_qmp_hmp(q, line, SNAP_TIMEOUT_MS, NULL, &e);
	}
	if (rc < 0 && err)
		*err = e;
	gr_qmp_close(q);
	return rc;
}

static int check(const struct gr_vm_spec *s, const char *snap, gr_error_t *err)
{
	if (!gr_vm_name_valid(snap))
		return gr_error_set(err, EINVAL, "snapshot name '%s' must match [a-z0-9][a-z0-9._-]{0,62}",
				    snap ? snap : "");
	_cleanup_free_ char *meta = gr_vm_path(s, "vm.json");
	if (access(meta, F_OK) < 0)
		return gr_error_set(err, ENOENT, "VM '%s' is not defined", s->name);
	return 0;
}

static int has_snapshot(const struct gr_vm_spec *s, const char *snap)
{
	json_t *list = NULL;
	if (gr_vm_snapshot_list(s, &list, NULL) < 0)
		return 0;
	int found = 0;
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e)
		found |= !strcmp(json_string_value(json_object_get(e, "name")), snap);
	json_decref(list);
	return found;
}

int gr_vm_snapshot_create(const struct gr_vm_spec *s, const char *snap, gr_error_t *err)
{
	if (check(s, snap, err) < 0)
		return -1;
	if (has_snapshot(s, snap))
		return gr_error_set(err, EEXIST, "VM '%s' already has a snapshot '%s'", s->name, snap);
	struct gr__vm_run r;
	int rc = running(s, &r) ? snap_running(s, "save", snap, err) : s->disks->snap_create(s->disks->ud, snap, err);
	return rc < 0 ? gr_error_prefix(err, "snapshot '%s' of VM '%s'", snap, s->name) : 0;
}

int gr_vm_snapshot_restore(const struct gr_vm_spec *s, const char *snap, gr_error_t *err)
{
	if (check(s, snap, err) < 0)
		return -1;
	if (!has_snapshot(s, snap))
		return gr_error_set(err, ENOENT, "VM '%s' has no snapshot '%s'", s->name, snap);
	struct gr__vm_run r;
	int rc = running(s, &r) ? snap_running(s, "load", snap, err) : s->disks->snap_restore(s->disks->ud, snap, err);
	return rc < 0 ? gr_error_prefix(err, "restoring snapshot '%s' of VM '%s'", snap, s->name) : 0;
}

int gr_vm_snapshot_delete(const struct gr_vm_spec *s, const char *snap, gr_error_t *err)
{
	if (check(s, snap, err) < 0)
		return -1;
	if (!has_snapshot(s, snap))
		return gr_error_set(err, ENOENT, "VM '%s' has no snapshot '%s'", s->name, snap);
	struct gr__vm_run r;
	int rc = running(s, &r) ? snap_running(s, "delete", snap, err) : s->disks->snap_delete(s->disks->ud, snap, err);
	return rc < 0 ? gr_error_prefix(err, "deleting snapshot '%s' of VM '%s'", snap, s->name) : 0;
}

/* `qemu-img info -U --output=json disk` (works while QEMU has the disk open). */
static int qemu_img_info(const char *disk, json_t **out, gr_error_t *err)
{
	char *argv[] = {"qemu-img", "info", "-U", "--output=json", "-f", "qcow2", (char *)disk, NULL};
	_cleanup_free_ char *text = NULL;
	struct gr_proc p = { .argv = argv, .fd_in = GR_PROC_NULL, .fd_out = GR_PROC_PIPE, .fd_err = GR_PROC_PIPE,
			     .capture = &text, .capture_max = 16 << 20 };
	if (gr_proc_run(&p, err) < 0)
		return -1;
	json_error_t je;
	json_t *o = json_loads(text ? text : "", 0, &je);
	if (!json_is_object(o)) {
		json_decref(o);
		return gr_error_set(err, EIO, "qemu-img info %s: not a JSON object (%s)", disk, je.text);
	}
	*out = o;
	return 0;
}

int gr_vm_snapshot_list(const struct gr_vm_spec *s, json_t **out, gr_error_t *err)
{
	struct gr__vm_run r;
	char *disk = NULL;
	if (running(s, &r) && r.disk[0]) {
		disk = xstrdup(r.disk);
	} else {
		if (s->disks->user_path(s->disks->ud, &disk, err) < 0)
			return gr_error_prefix(err, "VM '%s' snapshots", s->name);
		if (!disk)
			return gr_error_set(err, ENOENT, "VM '%s' has no disk", s->name);
	}
	json_t *info = NULL;
	int rc = qemu_img_info(disk, &info, err);
	free(disk);
	if (rc < 0)
		return -1;
	json_t *list = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(info, "snapshots"), i, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));
		if (!name)
			continue;
		json_array_append_new(list, json_pack("{s:s, s:I, s:I}", "name", name, "vm_state_size",
						      json_integer_value(json_object_get(e, "vm-state-size")), "date",
						      json_integer_value(json_object_get(e, "date-sec"))));
	}
	json_decref(info);
	*out = list;
	return 0;
}
