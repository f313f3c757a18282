/*
 * ops.c - the operation journal (/gureum/ops/<id>).
 *
 * Every lifecycle call, snapshot and image import/build is an operation:
 * {"id","kind","target","status":"running|success|failure","error",
 *  "progress",...,"created","updated"}.  The record is written before the
 * work it announces (a call whose journal entry cannot be written does
 * nothing and fails); its owner keeps the document in memory (struct
 * gr__op), so progress and the end are written without reading it back.
 * Lifecycle operations run on the request's thread and end before the
 * answer; long work runs on a worker thread and the answer is the running
 * operation, which clients poll (GET /v1/operations/<id>?wait=ms).  At
 * start, operations a previous daemon left "running" are marked failed
 * ("interrupted").  Progress is written at most every 500 ms by the callers.
 */
#include "control/control-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/log.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *op_key(const char *id)
{
	return xasprintf("%s%s", GR_KEY_OPS, id);
}

void gr__ops_changed(struct gr_control *c)
{
	pthread_mutex_lock(&c->lock);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static int op_write(struct gr_control *c, struct gr__op *op, gr_error_t *err)
{
	_cleanup_free_ char *key = op_key(op->id);
	json_object_set_new(op->doc, "updated", json_real(now()));
	int r = gr_store_put_json(c->store, key, op->doc, 0, NULL, err);
	gr__ops_changed(c);
	return r;
}

int gr__op_begin(struct gr_control *c, const char *kind, const char *target, struct gr__op *op,
		 gr_error_t *err)
{
	static atomic_ullong counter;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(op->id, sizeof op->id, "%lld%06ld-%llu", (long long)ts.tv_sec, ts.tv_nsec / 1000,
		 (unsigned long long)atomic_fetch_add(&counter, 1));
	op->doc = json_pack("{s:s,s:s,s:s,s:s,s:f,s:s}", "id", op->id, "kind", kind, "target", target,
			    "status", "running", "created", now(), "host", c->hostname);
	if (op_write(c, op, err) < 0) {
		json_decref(op->doc);
		op->doc = NULL;
		return gr_error_prefix(err, "recording the %s operation on %s", kind, target);
	}
	gr_log_debug("operation %s: %s %s", op->id, kind, target);
	return 0;
}

void gr__op_progress(struct gr_control *c, struct gr__op *op, json_t *progress)
{
	/* also on the event stream, so a client can follow it without polling */
	char detail[160];
	snprintf(detail, sizeof detail, "%s: %s %lld files, %lld bytes", op->id,
		 json_string_value(json_object_get(progress, "phase")),
		 (long long)json_integer_value(json_object_get(progress, "files_done")),
		 (long long)json_integer_value(json_object_get(progress, "bytes_done")));
	gr__event(c, "progress", op->id, NULL, detail);
	json_object_set_new(op->doc, "progress", progress);
	gr_error_t err;
	if (op_write(c, op, &err) < 0)
		gr_log_warn("progress of operation %s: %s", op->id, err.msg);
}

void gr__op_end(struct gr_control *c, struct gr__op *op, const gr_error_t *err, json_t *result)
{
	if (!op->doc) {
		json_decref(result);
		return;
	}
	json_object_set_new(op->doc, "status", json_string(err ? "failure" : "success"));
	if (err)
		json_object_set_new(op->doc, "error",
				    json_pack("{s:s,s:s}", "code",
					      strerrorname_np(err->code) ? strerrorname_np(err->code) : "EIO",
					      "message", err->msg));
	if (result)
		json_object_set_new(op->doc, "result", result);
	gr_error_t e;
	/* the work is done either way; a record left "running" is marked
	 * interrupted at the next start */
	if (op_write(c, op, &e) < 0)
		gr_log_warn("ending operation %s: %s", op->id, e.msg);
	json_decref(op->doc);
	op->doc = NULL;
}

static int interrupt(json_t **doc, void *ctx, gr_error_t *err)
{
	const char *st = json_string_value(json_object_get(*doc, "status"));
	const char *host = json_string_value(json_object_get(*doc, "host"));
	if (!*doc || !st || strcmp(st, "running"))
		return 1;
	if (host && strcmp(host, ctx)) /* another host's (a shared store): not ours to end */
		return 1;
	json_object_set_new(*doc, "status", json_string("failure"));
	json_object_set_new(*doc, "error", json_pack("{s:s,s:s}", "code", "EINTR", "message",
						     "interrupted by a daemon restart; the instance "
						     "was recovered"));
	return 0;
}

int gr__ops_recover(struct gr_control *c, gr_error_t *err)
{
	json_t *arr = NULL;
	if (gr_store_list_json(c->store, GR_KEY_OPS, &arr, err) < 0)
		return -1;
	size_t i, n = json_array_size(arr);
	json_t *e;
	json_array_foreach(arr, i, e) {
		const char *key = json_string_value(json_object_get(e, "key"));
		const char *st = json_string_value(json_object_get(json_object_get(e, "value"), "status"));
		/* keep the journal bounded: the newest 2000 finished operations */
		if (st && strcmp(st, "running") && n - i > 2000) {
			gr_store_delete(c->store, key, NULL, NULL);
			continue;
		}
		if (st && !strcmp(st, "running") &&
		    gr_store_update_json(c->store, key, interrupt, c->hostname, 5, NULL, err) < 0) {
			json_decref(arr);
			return -1;
		}
	}
	json_decref(arr);
	return 0;
}

int gr_control_op_get(struct gr_control *c, const char *id, int wait_ms, json_t **out,
		      gr_error_t *err)
{
	if (!*id || strlen(id) > 64 || strchr(id, '/'))
		return gr_error_set(err, EINVAL, "operation id: '%.64s' is not valid", id);
	_cleanup_free_ char *key = op_key(id);
	struct timespec until = gr__deadline_ms(wait_ms);
	for (;;) {
		json_t *doc = NULL;
		int r = gr_store_get_json(c->store, key, &doc, NULL, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return gr_error_set(err, ENOENT, "operation '%s' does not exist", id);
		const char *st = json_string_value(json_object_get(doc, "status"));
		if (wait_ms <= 0 || !st || strcmp(st, "running") || atomic_load(&c->closing)) {
			*out = doc;
			return 0;
		}
		json_decref(doc);
		pthread_mutex_lock(&c->lock);
		int w = pthread_cond_timedwait(&c->cond, &c->lock, &until);
		pthread_mutex_unlock(&c->lock);
		if (w == ETIMEDOUT)
			wait_ms = 0;
	}
}

int gr_control_op_list(struct gr_control *c, json_t **out, gr_error_t *err)
{
	json_t *arr = NULL;
	if (gr_store_list_json(c->store, GR_KEY_OPS, &arr, err) < 0)
		return -1;
	json_t *list = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
		json_array_append(list, json_object_get(e, "value"));
	json_decref(arr);
	*out = json_pack("{s:o}", "operations", list);
	return 0;
}
