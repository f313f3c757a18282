/*
 * move.c - live move of a running VM to another host of the pool (docs/MIGRATION.md).
 *
 * Source (the instance's host; the API forwards the call there): gr_control_instance_move
 * checks everything that can be checked before anything starts (a running VM held here,
 * not ephemeral, without snapshots; the target a known, online pool host with a peer
 * channel, not this one, with room by the placer) and answers the running operation; a
 * worker thread then, under the instance's lock:
 *   1. journal  /gureum/moves/<name> = {"op","source","target","step","started"}
 *   2. prepare  the target (peer POST /v1/peer/moves/<name>/prepare) fetches the master if
 *               missing, defines the instance (empty overlay on the same master) and starts
 *               QEMU as a paused migration destination exporting its disk over NBD
 *   3. transfer the driver mirrors the instance's own layer and migrates the RAM; the source
 *               QEMU ends paused
 *   4. switch   the instance record's host (and pid) becomes the target's, by
 *               compare-and-swap: THE switch-over; before it the VM belongs to the source,
 *               after it to the target
 *   5. finish   the target resumes the guest and watches QEMU (peer .../finish); the source
 *               stops its paused QEMU and removes its copy; the journal record goes.
 * A failure before 4 rolls back: the source's guest runs on (migration and mirror
 * cancelled), the target's QEMU and overlay are removed (peer .../abort).
 *
 * Recovery (gr__move_recover, at daemon start, after the instance recovery): each journal
 * record naming this host is resolved by the instance record alone: host == target means
 * switched (the target resumes, the source removes its copy), else not (the source cancels
 * and runs the guest, the target removes its copy).  Each side marks itself done in the
 * record ("source_done"/"target_done") and the record is deleted once both are (or when the
 * peer call that does the other side's part succeeded).
 */
#include "control/control-internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/proc.h"

#define GR_KEY_MOVES "/gureum/moves/"

struct move_job {
	struct gr_control *c;
	char name[GR_INST_NAME_MAX];
	char target[GR_INST_HOST_MAX];
	uint64_t bandwidth;
	unsigned downtime_ms;
	struct gr__op op;
	double t0, last_progress;
};

/* ---- the journal record ---- */

static char *move_key(const char *name)
{
	return xasprintf(GR_KEY_MOVES "%s", name);
}

static int journal_put(struct gr_control *c, const struct move_job *j, const char *step, gr_error_t *err)
{
	_cleanup_free_ char *key = move_key(j->name);
	json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:f}", "name", j->name, "op", j->op.id, "source", c->hostname,
				"target", j->target, "step", step, "updated", gr_wall_s());
	int r = gr_store_put_json(c->store, key, doc, 0, NULL, err);
	json_decref(doc);
	if (r < 0)
		return gr_error_prefix(err, "journalling the move of '%s' (step %s)", j->name, step);
	gr_log_info("move %s: step %s", j->name, step);
	return 0;
}

static void journal_delete(struct gr_control *c, const char *name)
{
	_cleanup_free_ char *key = move_key(name);
	gr_error_t e;
	if (gr_store_delete(c->store, key, NULL, &e) < 0)
		gr_log_warn("move %s: removing the journal record: %s", name, e.msg);
}

static int mark_done(json_t **doc, void *ctx, gr_error_t *err)
{
	if (!*doc)
		return 1;
	json_object_set_new(*doc, ctx, json_true());
	if (json_is_true(json_object_get(*doc, "source_done")) && json_is_true(json_object_get(*doc, "target_done"))) {
		json_decref(*doc);
		*doc = NULL; /* both sides resolved: the record goes */
	}
	return 0;
}

/* This side is resolved; the other side's recovery finishes the record. */
static void journal_done(struct gr_control *c, const char *name)
{
	_cleanup_free_ char *key = move_key(name);
	gr_error_t e;
	if (gr_store_update_json(c->store, key, mark_done, "source_done", 5, NULL, &e) < 0)
		gr_log_warn("move %s: journal: %s", name, e.msg);
}

/* ---- peers ---- */

/* The "peer" object of host's record (new reference), or NULL with err. */
static json_t *peer_of(struct gr_control *c, const char *host, gr_error_t *err)
{
	_cleanup_free_ char *key = xasprintf("%s%s", GR_KEY_HOSTS, host);
	json_t *rec = NULL;
	int r = gr_store_get_json(c->store, key, &rec, NULL, err);
	if (r <= 0) {
		if (r == 0)
			gr_error_set(err, ENOENT, "target: no host named '%s' in the pool (see gureum host list)", host);
		return NULL;
	}
	json_t *peer = json_object_get(rec, "peer");
	if (!json_is_object(peer) || !json_string_value(json_object_get(peer, "address"))) {
		json_decref(rec);
		gr_error_set(err, EHOSTUNREACH, "target: host '%s' publishes no peer channel (started without "
				   "--peer-listen): a live move needs one", host);
		return NULL;
	}
	json_incref(peer);
	json_decref(rec);
	return peer;
}

static int peer_call(struct gr_control *c, const char *host, const char *name, const char *what, json_t *req,
		     json_t **out, gr_error_t *err)
{
	json_t *peer = peer_of(c, host, err);
	if (!peer) {
		json_decref(req);
		return -1;
	}
	_cleanup_free_ char *path = xasprintf("/v1/peer/moves/%s/%s", name, what);
	int r = c->peer_post(c->peer_ud, c->hostname, host, peer, path, req, out, err);
	json_decref(peer);
	json_decref(req);
	return r < 0 ? gr_error_prefix(err, "host %s (%s)", host, what) : 0;
}

/* The IPv4 of this host's peer address ("10.0.0.2:9443" -> "10.0.0.2"). */
static int peer_ip(struct gr_control *c, char *ip, size_t len, gr_error_t *err)
{
	const char *addr = json_string_value(json_object_get(c->peer, "address"));
	if (!addr)
		return gr_error_set(err, EHOSTUNREACH, "host %s has no peer address", c->hostname);
	snprintf(ip, len, "%s", addr);
	char *colon = strrchr(ip, ':');
	if (colon)
		*colon = 0;
	return 0;
}

/* A TCP port free on ip now (bound and released: the caller binds it right away). */
static int free_port(const char *ip, gr_error_t *err)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return gr_error_set(err, EINVAL, "peer address %s is not IPv4", ip);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	socklen_t sl = sizeof sa;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
		gr_error_sys(err, "finding a free port on %s", ip);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return ntohs(sa.sin_port);
}

/* ---- checks before anything starts ---- */

static int check_movable(struct gr_control *c, const struct gr_instance *in, const char *target, gr_error_t *err)
{
	if (in->backend != GR_BACKEND_VM)
		return gr_error_set(err, ENOTSUP, "instance '%s' is a container: only VMs move live (container moves "
				    "are not yet)", in->name);
	if (in->state != GR_ST_RUNNING)
		return gr_error_set(err, EINVAL, "instance '%s' is %s: only a running VM moves live", in->name,
				    gr__state_name(in->state));
	if (in->host[0] && strcmp(in->host, c->hostname))
		return gr_error_set(err, EREMOTE, "instance '%s' runs on host %s, not here", in->name, in->host);
	if (in->ephemeral)
		return gr_error_set(err, ENOTSUP, "instance '%s' is ephemeral: moving its run layer is not yet "
				    "supported", in->name);
	if (!strcmp(target, c->hostname) || !strcmp(target, in->host))
		return gr_error_set(err, EINVAL, "target: instance '%s' already runs on host %s", in->name, target);
	json_t *snaps = NULL;
	if (gr__snaprec_list(c, in->create_revision, in->name, &snaps, err) < 0)
		return -1;
	size_t ns = json_array_size(snaps);
	json_decref(snaps);
	if (ns)
		return gr_error_set(err, ENOTSUP, "instance '%s' has snapshots: they live in its disk layer, which a "
				    "move does not carry yet (delete them first)", in->name);
	if (!c->peer_post || !c->peer)
		return gr_error_set(err, EHOSTUNREACH, "this host has no peer channel (--peer-listen): a live move "
				    "needs one");
	json_t *peer = peer_of(c, target, err);
	if (!peer)
		return -1;
	json_decref(peer);
	bool online = false;
	double since = 0;
	int s = gr__host_state(c, target, &online, &since, err);
	if (s < 0)
		return -1;
	if (!online)
		return gr_error_set(err, EHOSTDOWN, "target: host '%s' is offline", target);
	/* room on the target, as the placer sees it (the instance counted there) */
	struct gr__place_host *hs = NULL;
	size_t n = 0;
	if (gr__hosts_for_placement(c, &hs, &n, err) < 0)
		return -1;
	const struct gr_sched_policy_ops *pol;
	char host[GR_INST_HOST_MAX];
	int r = gr__cluster_policy(c, &pol, err);
	if (r == 0)
		r = gr__index_choose(c, pol, target, hs, n, in, host, sizeof host, err);
	gr__place_hosts_free(hs, n);
	gr__index_retrack(c, in->name);
	if (r < 0)
		return gr_error_prefix(err, "target: host '%s' cannot take instance '%s'", target, in->name);
	return 0;
}

static int parse_req(json_t *req, struct move_job *j, gr_error_t *err)
{
	const char *key;
	json_t *v;
	json_object_foreach(req, key, v) {
		if (!strcmp(key, "target")) {
			if (!json_is_string(v) || gr_name_valid("target", json_string_value(v), err) < 0)
				return gr_error_set(err, EINVAL, "target: expected a host name");
			snprintf(j->target, sizeof j->target, "%s", json_string_value(v));
		} else if (!strcmp(key, "bandwidth")) {
			if (json_is_integer(v) && json_integer_value(v) > 0)
				j->bandwidth = (uint64_t)json_integer_value(v);
			else if (!json_is_string(v) || gr_parse_size("bandwidth", json_string_value(v), &j->bandwidth, err) < 0)
				return gr_error_set(err, EINVAL, "bandwidth: expected bytes per second (an integer or a "
						    "size like \"100M\")");
			if (j->bandwidth < (1u << 20))
				return gr_error_set(err, EINVAL, "bandwidth: at least 1M (bytes per second)");
		} else if (!strcmp(key, "max_downtime_ms")) {
			if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 60000)
				return gr_error_set(err, EINVAL, "max_downtime_ms: expected an integer 1..60000");
			j->downtime_ms = (unsigned)json_integer_value(v);
		} else {
			return gr_error_set(err, EINVAL, "%s: unknown field (target, bandwidth, max_downtime_ms)", key);
		}
	}
	if (!j->target[0])
		return gr_error_set(err, EINVAL, "target: required (the host to move to)");
	return 0;
}

/* ---- the source's worker ---- */

static void on_progress(const struct gr_move_progress *p, void *ud)
{
	struct move_job *j = ud;
	double now = gr_mono_s();
	if (now - j->last_progress < 0.5)
		return;
	j->last_progress = now;
	gr__op_progress(j->c, &j->op,
			json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "phase", p->phase, "bytes_done",
				  (json_int_t)p->transferred, "bytes_total", (json_int_t)p->total, "remaining",
				  (json_int_t)p->remaining, "dirty_rate", (json_int_t)p->dirty_rate,
				  "expected_downtime_ms", (json_int_t)p->expected_downtime_ms, "files_done",
				  (json_int_t)0, "elapsed_ms", (json_int_t)((now - j->t0) * 1000)));
}

/* The instance record after a failed move: op cleared, the error noted (best effort). */
static void record_back(struct gr_control *c, const char *name, const gr_error_t *why)
{
	struct gr_instance in;
	gr_error_t e;
	if (gr__inst_get(c, name, &in, &e) < 0)
		return;
	if (in.state == GR_ST_RUNNING && !strcmp(in.host, c->hostname) && !strcmp(in.op_kind, "move")) {
		in.op_id[0] = 0;
		in.op_kind[0] = 0;
		gr__inst_set_error(&in, "move failed: %s", why->msg);
		if (gr__inst_move(c, &in, GR_ST_RUNNING, &e) < 0)
			gr_log_warn("move %s: %s", name, e.msg);
	}
	gr__inst_clear(&in);
	gr__index_retrack(c, name);
}

/* Remove this host's copy of the instance (QEMU and files): after a switch-over on the
 * source, after a failed move on the target. */
static void drop_local(struct gr_control *c, const struct gr_instance *in)
{
	const struct gr_driver_ops *d = gr__driver(in);
	struct gr_inst_spec s;
	char dir[GR__DIR_MAX];
	gr__spec_of(c, in, &s, dir);
	gr_error_t e;
	if (d->stop(&c->agent, &s, 0, true, &e) < 0)
		gr_log_warn("move %s: stopping the local QEMU: %s", in->name, e.msg);
	if (d->delete(&c->agent, &s, true, &e) < 0)
		gr_log_warn("move %s: removing the local copy: %s", in->name, e.msg);
	gr_rm_rf(dir, NULL);
}

static int run_move(struct move_job *j, json_t **result, gr_error_t *err)
{
	struct gr_control *c = j->c;
	struct gr_instance in;
	if (gr__inst_get(c, j->name, &in, err) < 0)
		return -1;
	int r = -1;
	const struct gr_driver_ops *d = gr__driver(&in);
	struct gr_inst_spec s;
	char dir[GR__DIR_MAX];
	gr__spec_of(c, &in, &s, dir);
	json_t *prep = NULL;
	bool keep = false; /* the target's part is left to its recovery */
	if (check_movable(c, &in, j->target, err) < 0 || !d->move_send)
		goto out;
	if (journal_put(c, j, "prepare", err) < 0)
		goto out;
	snprintf(in.op_id, sizeof in.op_id, "%s", j->op.id);
	snprintf(in.op_kind, sizeof in.op_kind, "move");
	if (gr__inst_move(c, &in, GR_ST_RUNNING, err) < 0)
		goto out_journal;
	if (peer_call(c, j->target, j->name, "prepare", json_pack("{s:s}", "source", c->hostname), &prep, err) < 0)
		goto out_abort_peer;
	const char *addr = json_string_value(json_object_get(prep, "address"));
	int nbd_port = (int)json_integer_value(json_object_get(prep, "nbd_port"));
	int mig_port = (int)json_integer_value(json_object_get(prep, "mig_port"));
	pid_t dpid = (pid_t)json_integer_value(json_object_get(prep, "pid"));
	if (!addr || nbd_port <= 0 || mig_port <= 0 || dpid <= 0) {
		gr_error_set(err, EPROTO, "host %s answered the prepare without address, ports or pid", j->target);
		goto out_abort_peer;
	}
	if (journal_put(c, j, "transfer", err) < 0)
		goto out_abort_peer;
	struct gr_move_req m = { .host = addr, .nbd_port = nbd_port, .mig_port = mig_port, .bandwidth = j->bandwidth,
				 .downtime_ms = j->downtime_ms, .progress = on_progress, .ud = j };
	if (getenv("GR_MOVE_CRASH_AT") && !strcmp(getenv("GR_MOVE_CRASH_AT"), "transfer"))
		_exit(137); /* crash-test hook: the daemon dies with the transfer about to start */
	if (d->move_send(&c->agent, &s, &m, err) < 0)
		goto out_abort_peer;
	if (journal_put(c, j, "switch", err) < 0)
		goto out_abort_both;
	if (getenv("GR_MOVE_CRASH_AT") && !strcmp(getenv("GR_MOVE_CRASH_AT"), "switch"))
		_exit(137); /* crash-test hook: RAM and disk are on the target, the record not switched */
	snprintf(in.host, sizeof in.host, "%s", j->target);
	in.pid = dpid;
	in.op_id[0] = 0;
	in.op_kind[0] = 0;
	gr__inst_set_error(&in, NULL);
	if (gr__inst_move(c, &in, GR_ST_RUNNING, err) < 0) {
		gr_error_prefix(err, "switching the record to host %s", j->target);
		goto out_abort_both;
	}
	/* switched: from here on the VM is the target's, whatever happens */
	gr__event(c, "moved", j->name, "running", j->target);
	journal_put(c, j, "switched", NULL);
	if (getenv("GR_MOVE_CRASH_AT") && !strcmp(getenv("GR_MOVE_CRASH_AT"), "switched"))
		_exit(137); /* crash-test hook: switched, target not resumed, source copy still here */
	gr_error_t e;
	int resumed = -1;
	for (int t = 0; t < 3 && resumed < 0; t++)
		if ((resumed = peer_call(c, j->target, j->name, "finish", json_object(), NULL, &e)) < 0 && t < 2)
			sleep(1);
	if (resumed < 0)
		gr_log_warn("move %s: resuming on %s: %s (its recovery resumes it)", j->name, j->target, e.msg);
	struct gr_instance here;
	gr__inst_copy(&here, &in);
	snprintf(here.host, sizeof here.host, "%s", c->hostname);
	drop_local(c, &here);
	gr__inst_clear(&here);
	if (resumed == 0)
		journal_delete(c, j->name);
	else
		journal_done(c, j->name);
	double total = gr_mono_s() - j->t0;
	*result = json_pack("{s:s,s:s,s:s,s:I,s:f}", "instance", j->name, "source", c->hostname, "host", j->target,
			    "downtime_ms", (json_int_t)m.downtime_out_ms, "total_s", total);
	gr_log_info("move %s: on host %s after %.2f s (downtime %lld ms by QEMU)", j->name, j->target, total,
		    (long long)m.downtime_out_ms);
	r = 0;
	goto out;
out_abort_both:
	if (d->move_abort(&c->agent, &s, &e) < 0)
		gr_log_warn("move %s: resuming here: %s", j->name, e.msg);
out_abort_peer:
	if (peer_call(c, j->target, j->name, "abort", json_object(), NULL, &e) < 0) {
		gr_log_warn("move %s: removing the copy on %s: %s (its recovery removes it)", j->name, j->target, e.msg);
		keep = true;
	}
	record_back(c, j->name, err);
out_journal:
	if (keep)
		journal_done(c, j->name);
	else
		journal_delete(c, j->name);
out:
	json_decref(prep);
	gr__inst_clear(&in);
	return r;
}

static void *job_main(void *p)
{
	struct move_job *j = p;
	json_t *result = NULL;
	gr_error_t err = { 0 };
	gr__lock_name(j->c, j->name);
	int r = run_move(j, &result, &err);
	gr__unlock_name(j->c, j->name);
	if (r < 0)
		gr_log_warn("move %s to %s: %s", j->name, j->target, err.msg);
	gr__op_end(j->c, &j->op, r < 0 ? &err : NULL, result);
	free(j);
	return NULL;
}

int gr_control_instance_move(struct gr_control *c, const char *name, json_t *req, json_t **op, gr_error_t *err)
{
	if (gr_name_valid("instance", name, err) < 0)
		return -1;
	struct move_job *j = xcalloc(1, sizeof *j);
	j->c = c;
	snprintf(j->name, sizeof j->name, "%s", name);
	if (parse_req(req, j, err) < 0) {
		free(j);
		return -1;
	}
	/* bad input is refused here, before any operation exists */
	struct gr_instance in;
	if (gr__inst_get(c, name, &in, err) < 0) {
		free(j);
		return -1;
	}
	int r = check_movable(c, &in, j->target, err);
	gr__inst_clear(&in);
	if (r < 0 || gr__op_begin(c, "move", name, &j->op, err) < 0) {
		free(j);
		return -1;
	}
	j->t0 = gr_mono_s();
	char id[sizeof j->op.id];
	memcpy(id, j->op.id, sizeof id);
	gr__spawn(c, job_main, j);
	return gr_control_op_get(c, id, 0, op, err);
}

/* ---- the target's side (peer calls) ---- */

int gr_control_move_prepare(struct gr_control *c, const char *name, json_t *req, json_t **out, gr_error_t *err)
{
	const char *source = json_string_value(json_object_get(req, "source"));
	if (gr_name_valid("instance", name, err) < 0)
		return -1;
	if (!source)
		return gr_error_set(err, EINVAL, "source: required");
	gr__lock_name(c, name);
	struct gr_instance in;
	int r = -1;
	if (gr__inst_get(c, name, &in, err) < 0)
		goto unlock;
	if (in.backend != GR_BACKEND_VM || in.state != GR_ST_RUNNING || strcmp(in.host, source)) {
		gr_error_set(err, EINVAL, "instance '%s' is not a VM running on host %s", name, source);
		goto out;
	}
	char ip[64];
	if (peer_ip(c, ip, sizeof ip, err) < 0 || gr__distrib_ensure(c, in.image, err) < 0)
		goto out;
	const struct gr_driver_ops *d = gr__driver(&in);
	struct gr_inst_spec s;
	char dir[GR__DIR_MAX];
	gr__spec_of(c, &in, &s, dir);
	struct gr_drv_state st = { 0 };
	if (d->state(&c->agent, &s, &st, NULL) == 0 && st.status != GR_DRV_ABSENT)
		drop_local(c, &in); /* a copy left by an earlier attempt */
	if (d->define(&c->agent, &s, err) < 0)
		goto out;
	int nbd_port = free_port(ip, err), mig_port = nbd_port > 0 ? free_port(ip, err) : -1;
	pid_t pid = 0;
	if (mig_port == nbd_port)
		mig_port = free_port(ip, err);
	if (nbd_port < 0 || mig_port < 0 || d->move_listen(&c->agent, &s, ip, nbd_port, mig_port, &pid, err) < 0) {
		drop_local(c, &in);
		goto out;
	}
	gr_proc_disown(pid); /* -daemonize: not our child; the watch comes with finish */
	if (getenv("GR_MOVE_CRASH_AT") && !strcmp(getenv("GR_MOVE_CRASH_AT"), "prepared"))
		_exit(137); /* crash-test hook: the target dies with its paused QEMU listening */
	gr_log_info("move %s: destination from %s ready (QEMU %d, disk nbd %s:%d, RAM tcp %s:%d)", name, source,
		    (int)pid, ip, nbd_port, ip, mig_port);
	*out = json_pack("{s:s,s:i,s:i,s:i}", "address", ip, "nbd_port", nbd_port, "mig_port", mig_port, "pid",
			 (int)pid);
	r = 0;
out:
	gr__inst_clear(&in);
unlock:
	gr__unlock_name(c, name);
	return r < 0 ? gr_error_prefix(err, "preparing the move of '%s' on host %s", name, c->hostname) : 0;
}

/* The target after the switch-over: resume, watch.  Idempotent. */
static int resume_here(struct gr_control *c, struct gr_instance *in, gr_error_t *err)
{
	const struct gr_driver_ops *d = gr__driver(in);
	struct gr_inst_spec s;
	char dir[GR__DIR_MAX];
	gr__spec_of(c, in, &s, dir);
	if (d->move_resume(&c->agent, &s, err) < 0)
		return -1;
	if (in->pid > 0 && !gr__watch_has_pid(in->pid, c))
		gr__watch_add(c, in->name, in->pid);
	gr__event(c, "moved-in", in->name, "running", NULL);
	return 0;
}

int gr_control_move_finish(struct gr_control *c, const char *name, json_t *req, json_t **out, gr_error_t *err)
{
	if (gr_name_valid("instance", name, err) < 0)
		return -1;
	gr__lock_name(c, name);
	struct gr_instance in;
	int r = gr__inst_get(c, name, &in, err);
	if (r == 0) {
		if (strcmp(in.host, c->hostname))
			r = gr_error_set(err, EINVAL, "instance '%s' is recorded on host %s, not here", name, in.host);
		else
			r = resume_here(c, &in, err);
		gr__inst_clear(&in);
	}
	gr__unlock_name(c, name);
	if (r == 0 && out)
		*out = json_pack("{s:s,s:s}", "instance", name, "host", c->hostname);
	return r;
}

int gr_control_move_abort(struct gr_control *c, const char *name, json_t *req, json_t **out, gr_error_t *err)
{
	if (gr_name_valid("instance", name, err) < 0)
		return -1;
	gr__lock_name(c, name);
	struct gr_instance in;
	int r = gr__inst_get(c, name, &in, err);
	if (r == 0) {
		if (!strcmp(in.host, c->hostname))
			r = gr_error_set(err, EBUSY, "instance '%s' was switched over to this host already", name);
		else
			drop_local(c, &in);
		gr__inst_clear(&in);
	}
	gr__unlock_name(c, name);
	if (r == 0 && out)
		*out = json_pack("{s:s,s:b}", "instance", name, "removed", 1);
	return r;
}

/* ---- recovery ---- */

static void recover_one_move(struct gr_control *c, json_t *rec)
{
	const char *name = json_string_value(json_object_get(rec, "name"));
	const char *source = json_string_value(json_object_get(rec, "source"));
	const char *target = json_string_value(json_object_get(rec, "target"));
	if (!name || !source || !target)
		return;
	bool src = !strcmp(source, c->hostname), dst = !strcmp(target, c->hostname);
	if (!src && !dst)
		return;
	_cleanup_free_ char *key = move_key(name);
	gr_error_t e;
	struct gr_instance in;
	gr__lock_name(c, name);
	if (gr__inst_get(c, name, &in, &e) < 0) {
		/* the instance is gone: the sweep removes what is left of it */
		gr__unlock_name(c, name);
		gr_store_delete(c->store, key, NULL, NULL);
		return;
	}
	bool switched = !strcmp(in.host, target);
	bool other_done = false;
	gr_log_info("move %s (%s -> %s): interrupted at step %s, %s", name, source, target,
		    json_string_value(json_object_get(rec, "step")), switched ? "switched over: the target keeps it"
									     : "not switched: the source keeps it");
	const struct gr_driver_ops *d = gr__driver(&in);
	struct gr_inst_spec s;
	char dir[GR__DIR_MAX];
	gr__spec_of(c, &in, &s, dir);
	if (src && !switched) {
		struct gr_drv_state st = { 0 };
		if (d->state(&c->agent, &s, &st, NULL) == 0 && st.status == GR_DRV_RUNNING &&
		    d->move_abort(&c->agent, &s, &e) < 0)
			gr_log_warn("move %s: resuming here: %s", name, e.msg);
		record_back(c, name, &(gr_error_t){ .code = EINTR, .msg = "interrupted by a daemon restart" });
		other_done = json_is_true(json_object_get(rec, "target_done")) ||
			     peer_call(c, target, name, "abort", json_object(), NULL, &e) == 0;
	} else if (src && switched) {
		struct gr_instance here;
		gr__inst_copy(&here, &in);
		snprintf(here.host, sizeof here.host, "%s", c->hostname);
		drop_local(c, &here);
		gr__inst_clear(&here);
		other_done = json_is_true(json_object_get(rec, "target_done")) ||
			     peer_call(c, target, name, "finish", json_object(), NULL, &e) == 0;
	} else if (dst && !switched) {
		drop_local(c, &in);
	} else {
		if (resume_here(c, &in, &e) < 0)
			gr_log_warn("move %s: resuming here: %s", name, e.msg);
	}
	gr__inst_clear(&in);
	gr__unlock_name(c, name);
	if (other_done)
		gr_store_delete(c->store, key, NULL, NULL);
	else if (gr_store_update_json(c->store, key, mark_done, src ? "source_done" : "target_done", 5, NULL, &e) < 0)
		gr_log_warn("move %s: journal: %s", name, e.msg);
}

void gr__move_recover(struct gr_control *c)
{
	json_t *arr = NULL;
	gr_error_t e;
	if (gr_store_list_json(c->store, GR_KEY_MOVES, &arr, &e) < 0) {
		gr_log_warn("moves: reading the journal: %s", e.msg);
		return;
	}
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
		recover_one_move(c, json_object_get(v, "value"));
	json_decref(arr);
}
