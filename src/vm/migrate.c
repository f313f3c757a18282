/*
 * migrate.c - live migration of a running VM between two hosts, with its own disk layer
 * (shared-nothing), over QMP (docs/MIGRATION.md).
 *
 * Destination (gr_vm_migrate_listen): a QEMU started with spec.incoming = "defer" and the
 * same device model as the source; `stop` while in "inmigrate" clears QEMU's autostart, so
 * the guest stays paused after the RAM arrived until gr_vm_migrate_resume (the store's
 * switch-over comes in between); QEMU's own NBD server exports node "root" (the empty
 * overlay over the same master) writable as export "root"; migrate-incoming listens.
 * Source (gr_vm_migrate_send): the NBD export becomes node "gr-mig-target"; blockdev-mirror
 * of node "root" with sync "top" (only the instance's own layer: the master is never
 * copied) in copy-mode "write-blocking" (once ready, every guest write reaches both sides
 * before it completes, so the disks are equal when the RAM migration ends); then migrate
 * (auto-converge, max-bandwidth, downtime-limit) and query-migrate until "completed"; then
 * block-job-cancel of the ready mirror (QEMU's documented way to end a mirror without
 * pivoting to the target) and blockdev-del of the target node.  The source QEMU is then
 * paused ("postmigrate") and only the caller's switch-over decides which side runs.
 * Any failure before "completed" is rolled back on the source (migrate_cancel,
 * block-job-cancel, blockdev-del, cont): the guest goes on where it was.
 *
 * One QMP connection is held per call (QEMU serves one client at a time; the caller holds
 * the instance's lock).  Transport is plain TCP between the hosts: TLS is not yet.
 */
#include "vm/vm-internal.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MIG_JOB "gr-mig"
#define MIG_NODE "gr-mig-target"
#define CMD_MS 10000

int gr_vm_migrate_listen(const struct gr_vm_spec *s, const char *ip, int nbd_port, int mig_port, gr_error_t *err)
{
	struct gr_qmp_conn *c = NULL;
	if (gr__vm_connect_running(s, &c, err) < 0)
		return -1;
	char nport[16], uri[96];
	snprintf(nport, sizeof nport, "%d", nbd_port);
	snprintf(uri, sizeof uri, "tcp:%s:%d", ip, mig_port);
	int rc = gr_qmp_exec(c, "stop", NULL, CMD_MS, NULL, err);
	if (rc == 0)
		rc = gr_qmp_exec(c, "nbd-server-start",
				 json_pack("{s:{s:s,s:{s:s,s:s}}}", "addr", "type", "inet", "data", "host", ip, "port", nport),
				 CMD_MS,
				 NULL, err);
	if (rc == 0)
		rc = gr_qmp_exec(c, "block-export-add",
				 json_pack("{s:s,s:s,s:s,s:s,s:b}", "type", "nbd", "id", MIG_NODE, "node-name", "root",
					   "name", "root", "writable", 1),
				 CMD_MS, NULL, err);
	if (rc == 0)
		rc = gr_qmp_exec(c, "migrate-set-capabilities",
				 json_pack("{s:[{s:s,s:b}]}", "capabilities", "capability", "auto-converge", "state", 1),
				 CMD_MS, NULL, err);
	if (rc == 0)
		rc = gr_qmp_exec(c, "migrate-incoming", json_pack("{s:s}", "uri", uri), CMD_MS, NULL, err);
	gr_qmp_close(c);
	return rc < 0 ? gr_error_prefix(err, "VM '%s': preparing the incoming migration", s->name) : 0;
}

int gr_vm_migrate_resume(const struct gr_vm_spec *s, gr_error_t *err)
{
	struct gr_qmp_conn *c = NULL;
	if (gr__vm_connect_running(s, &c, err) < 0)
		return -1;
	gr_error_t e;
	/* the server is gone already after a resume that was interrupted: fine */
	gr_qmp_exec(c, "nbd-server-stop", NULL, CMD_MS, NULL, &e);
	char status[32] = "";
	int rc = gr_qmp_query_status(c, status, sizeof status, NULL, err);
	if (rc == 0 && !strcmp(status, "inmigrate"))
		rc = gr_error_set(err, EAGAIN, "VM '%s': the incoming migration has not completed", s->name);
	if (rc == 0 && strcmp(status, "running"))
		rc = gr_qmp_cont(c, err);
	gr_qmp_close(c);
	return rc < 0 ? gr_error_prefix(err, "VM '%s': resuming after the migration", s->name) : 0;
}

/* The mirror job's entry in query-block-jobs (new reference), or NULL when absent. */
static int find_job(struct gr_qmp_conn *c, json_t **job, gr_error_t *err)
{
	json_t *ret = NULL, *v;
	size_t i;
	*job = NULL;
	if (gr_qmp_exec(c, "query-block-jobs", NULL, CMD_MS, &ret, err) < 0)
		return -1;
	if (!json_is_array(ret)) {
		json_decref(ret);
		return gr_error_set(err, EPROTO, "QMP query-block-jobs: reply is not an array");
	}
	json_array_foreach(ret, i, v) {
		const char *d = json_string_value(json_object_get(v, "device"));
		if (d && !strcmp(d, MIG_JOB))
			*job = json_incref(v);
	}
	json_decref(ret);
	return 0;
}

/* End the mirror without pivoting, wait until it is gone, drop the target node. */
static void mirror_end(struct gr_qmp_conn *c)
{
	gr_error_t e;
	json_t *job = NULL;
	if (find_job(c, &job, &e) == 0 && job) {
		gr_qmp_exec(c, "block-job-cancel", json_pack("{s:s,s:b}", "device", MIG_JOB, "force", 1), CMD_MS,
			    NULL, &e);
		for (int i = 0; i < 300; i++) {
			json_decref(job);
			job = NULL;
			if (find_job(c, &job, &e) < 0 || !job)
				break;
			const char *st = json_string_value(json_object_get(job, "status"));
			if (st && (!strcmp(st, "concluded") || !strcmp(st, "aborting")))
				gr_qmp_exec(c, "job-dismiss", json_pack("{s:s}", "id", MIG_JOB), CMD_MS, NULL, &e);
			usleep(20000);
		}
		json_decref(job);
	}
	gr_qmp_exec(c, "blockdev-del", json_pack("{s:s}", "node-name", MIG_NODE), CMD_MS, NULL, &e);
}

static void rollback(struct gr_qmp_conn *c)
{
	gr_error_t e;
	gr_qmp_exec(c, "migrate_cancel", NULL, CMD_MS, NULL, &e);
	for (int i = 0; i < 100; i++) { /* cancelling is asynchronous */
		json_t *ret = NULL;
		if (gr_qmp_exec(c, "query-migrate", NULL, CMD_MS, &ret, &e) < 0)
			break;
		const char *st = json_string_value(json_object_get(ret, "status"));
		int busy = st && (!strcmp(st, "cancelling") || !strcmp(st, "active") || !strcmp(st, "device") ||
				  !strcmp(st, "setup") || !strcmp(st, "pre-switchover"));
		json_decref(ret);
		if (!busy)
			break;
		usleep(20000);
	}
	mirror_end(c);
	char status[32] = "";
	if (gr_qmp_query_status(c, status, sizeof status, NULL, &e) == 0 && strcmp(status, "running"))
		gr_qmp_cont(c, &e);
}

int gr_vm_migrate_abort(const struct gr_vm_spec *s, gr_error_t *err)
{
	struct gr_qmp_conn *c = NULL;
	if (gr__vm_connect_running(s, &c, err) < 0)
		return -1;
	rollback(c);
	gr_qmp_close(c);
	return 0;
}

static void report(gr_vm_migrate_progress_fn fn, void *ud, const char *phase, json_t *ram, json_t *q)
{
	if (!fn)
		return;
	struct gr_vm_migrate_progress p = {
		.phase = phase,
		.transferred = (uint64_t)json_integer_value(json_object_get(ram, "transferred")),
		.remaining = (uint64_t)json_integer_value(json_object_get(ram, "remaining")),
		.total = (uint64_t)json_integer_value(json_object_get(ram, "total")),
		.dirty_rate = (uint64_t)json_integer_value(json_object_get(ram, "dirty-pages-rate")),
		.expected_downtime_ms = json_integer_value(json_object_get(q, "expected-downtime")),
	};
	fn(&p, ud);
}

static int mirror(struct gr_qmp_conn *c, const struct gr_vm_migrate_out *o, gr_vm_migrate_progress_fn fn, void *ud,
		  long long deadline, gr_error_t *err)
{
	char nport[16];
	snprintf(nport, sizeof nport, "%d", o->nbd_port);
	if (gr_qmp_exec(c, "blockdev-add",
			json_pack("{s:s,s:s,s:{s:s,s:s,s:s},s:s}", "driver", "nbd", "node-name", MIG_NODE, "server",
				  "type", "inet", "host", o->host, "port", nport, "export", "root"),
			CMD_MS, NULL, err) < 0)
		return gr_error_prefix(err, "connecting to the destination's disk export %s:%d", o->host, o->nbd_port);
	if (gr_qmp_exec(c, "blockdev-mirror",
			json_pack("{s:s,s:s,s:s,s:s,s:s}", "job-id", MIG_JOB, "device", "root", "target", MIG_NODE,
				  "sync", "top", "copy-mode", "write-blocking"),
			CMD_MS, NULL, err) < 0)
		return -1;
	for (;;) {
		json_t *job = NULL;
		if (find_job(c, &job, err) < 0)
			return -1;
		if (!job)
			return gr_error_set(err, EIO, "the disk mirror to the destination ended before it was in sync");
		int ready = json_is_true(json_object_get(job, "ready"));
		const char *st = json_string_value(json_object_get(job, "status"));
		if (fn) {
			struct gr_vm_migrate_progress p = {
				.phase = "disk",
				.transferred = (uint64_t)json_integer_value(json_object_get(job, "offset")),
				.total = (uint64_t)json_integer_value(json_object_get(job, "len")),
			};
			p.remaining = p.total > p.transferred ? p.total - p.transferred : 0;
			fn(&p, ud);
		}
		int failed = st && (!strcmp(st, "concluded") || !strcmp(st, "aborting") || !strcmp(st, "null"));
		if (failed)
			gr_error_set(err, EIO, "the disk mirror to the destination failed (job %s)", st);
		json_decref(job);
		if (ready)
			return 0;
		if (failed)
			return -1;
		if (gr__vm_now_ms() > deadline)
			return gr_error_set(err, ETIMEDOUT, "the disk mirror did not get in sync in time");
		usleep(100000);
	}
}

static int migrate_ram(struct gr_qmp_conn *c, const struct gr_vm_migrate_out *o, gr_vm_migrate_progress_fn fn,
		       void *ud, long long deadline, int64_t *downtime_ms, gr_error_t *err)
{
	if (gr_qmp_exec(c, "migrate-set-capabilities",
			json_pack("{s:[{s:s,s:b}]}", "capabilities", "capability", "auto-converge", "state", 1), CMD_MS,
			NULL, err) < 0)
		return -1;
	json_t *params = json_pack("{s:I}", "downtime-limit", (json_int_t)(o->downtime_ms ? o->downtime_ms : 300));
	if (o->bandwidth)
		json_object_set_new(params, "max-bandwidth", json_integer((json_int_t)o->bandwidth));
	if (gr_qmp_exec(c, "migrate-set-parameters", params, CMD_MS, NULL, err) < 0)
		return -1;
	char uri[96];
	snprintf(uri, sizeof uri, "tcp:%s:%d", o->host, o->mig_port);
	if (gr_qmp_exec(c, "migrate", json_pack("{s:s}", "uri", uri), CMD_MS, NULL, err) < 0)
		return -1;
	for (;;) {
		json_t *q = NULL;
		if (gr_qmp_exec(c, "query-migrate", NULL, CMD_MS, &q, err) < 0)
			return -1;
		const char *st = json_string_value(json_object_get(q, "status"));
		if (!st) {
			json_decref(q);
			return gr_error_set(err, EPROTO, "QMP query-migrate: reply lacks \"status\"");
		}
		report(fn, ud, "ram", json_object_get(q, "ram"), q);
		if (!strcmp(st, "completed")) {
			if (downtime_ms)
				*downtime_ms = json_integer_value(json_object_get(q, "downtime"));
			json_decref(q);
			return 0;
		}
		if (!strcmp(st, "failed") || !strcmp(st, "cancelled")) {
			const char *why = json_string_value(json_object_get(q, "error-desc"));
			gr_error_set(err, EIO, "the RAM migration %s: %s", st, why ? why : "no reason given");
			json_decref(q);
			return -1;
		}
		json_decref(q);
		if (gr__vm_now_ms() > deadline)
			return gr_error_set(err, ETIMEDOUT, "the RAM migration did not complete in time");
		usleep(50000);
	}
}

int gr_vm_migrate_send(const struct gr_vm_spec *s, const struct gr_vm_migrate_out *o, gr_vm_migrate_progress_fn fn,
		       void *ud, int64_t *downtime_ms, gr_error_t *err)
{
	if (!o->host || !*o->host || o->nbd_port <= 0 || o->mig_port <= 0)
		return gr_error_set(err, EINVAL, "VM '%s': migration target address missing", s->name);
	/* reading every page for the transfer makes all of QEMU's RAM (max_memory, the
	 * ballooned-out part included) resident here, as on the target: room for it */
	uint64_t ram = s->max_memory_mb > s->memory_mb ? s->max_memory_mb : s->memory_mb ? s->memory_mb : 256;
	if (gr_vm_cgroup_set_memory(gr__vm_cg_parent(s), s->name, (ram + 512) << 20, err) < 0)
		return gr_error_prefix(err, "VM '%s': memory limit for the migration", s->name);
	struct gr_qmp_conn *c = NULL;
	if (gr__vm_connect_running(s, &c, err) < 0)
		return -1;
	long long deadline = gr__vm_now_ms() + (o->timeout_ms > 0 ? o->timeout_ms : 600000);
	int rc = mirror(c, o, fn, ud, deadline, err);
	if (rc == 0)
		rc = migrate_ram(c, o, fn, ud, deadline, downtime_ms, err);
	if (rc == 0)
		mirror_end(c);
	else
		rollback(c);
	gr_qmp_close(c);
	return rc < 0 ? gr_error_prefix(err, "VM '%s': live migration to %s", s->name, o->host) : 0;
}
