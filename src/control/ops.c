/*
 * ops.c - operation records (/gureum/ops/<id>) and the image calls.
 *
 * Every lifecycle call and every image import/build is an operation:
 * {"id","kind","target","status":"running|success|failure","error",
 *  "progress",...,"created","updated"}.  Lifecycle operations run on the
 * request's thread and end before the answer; image work runs on a worker
 * thread and the answer is the running operation, which clients poll
 * (GET /v1/operations/<id>?wait=ms).  At start, operations a previous daemon
 * left "running" are marked failed ("interrupted").  Progress is written at
 * most every 500 ms so a busy import does not flood the store.
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

char *gr__op_begin(struct gr_control *c, const char *kind, const char *target)
{
	static atomic_ullong counter;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char *id = xasprintf("%lld%06ld-%llu", (long long)ts.tv_sec, ts.tv_nsec / 1000,
			     (unsigned long long)atomic_fetch_add(&counter, 1));
	json_t *doc = json_pack("{s:s,s:s,s:s,s:s,s:f,s:f}", "id", id, "kind", kind, "target", target,
				"status", "running", "created", now(), "updated", now());
	_cleanup_free_ char *key = op_key(id);
	gr_error_t err;
	if (gr_store_put_json(c->store, key, doc, 0, NULL, &err) < 0)
		gr_log_warn("recording operation %s: %s", id, err.msg);
	json_decref(doc);
	return id;
}

static int set_fields(json_t **doc, void *ctx, gr_error_t *err)
{
	if (!*doc)
		return 1;
	json_object_update(*doc, ctx);
	return 0;
}

static void op_update(struct gr_control *c, const char *id, json_t *fields)
{
	_cleanup_free_ char *key = op_key(id);
	json_object_set_new(fields, "updated", json_real(now()));
	gr_error_t err;
	if (gr_store_update_json(c->store, key, set_fields, fields, 5, NULL, &err) < 0)
		gr_log_warn("updating operation %s: %s", id, err.msg);
	json_decref(fields);
	pthread_mutex_lock(&c->lock);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

void gr__op_progress(struct gr_control *c, const char *id, json_t *progress)
{
	/* also on the event stream, so a client can follow it without polling */
	char detail[160];
	snprintf(detail, sizeof detail, "%s: %s %lld files, %lld bytes", id,
		 json_string_value(json_object_get(progress, "phase")),
		 (long long)json_integer_value(json_object_get(progress, "files_done")),
		 (long long)json_integer_value(json_object_get(progress, "bytes_done")));
	gr__event(c, "progress", id, NULL, detail);
	op_update(c, id, json_pack("{s:o}", "progress", progress));
}

void gr__op_end(struct gr_control *c, const char *id, const gr_error_t *err, json_t *result)
{
	json_t *f = json_pack("{s:s}", "status", err ? "failure" : "success");
	if (err)
		json_object_set_new(f, "error", json_pack("{s:s,s:s}", "code",
							  strerrorname_np(err->code) ? strerrorname_np(err->code) : "EIO",
							  "message", err->msg));
	if (result)
		json_object_set_new(f, "result", result);
	op_update(c, id, f);
}

static int interrupt(json_t **doc, void *ctx, gr_error_t *err)
{
	const char *st = json_string_value(json_object_get(*doc, "status"));
	if (!*doc || !st || strcmp(st, "running"))
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
		    gr_store_update_json(c->store, key, interrupt, NULL, 5, NULL, err) < 0) {
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
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
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

int gr__list_values(struct gr_control *c, const char *prefix, const char *field, json_t **out,
		    gr_error_t *err)
{
	json_t *arr = NULL;
	if (gr_store_list_json(c->store, prefix, &arr, err) < 0)
		return -1;
	json_t *list = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
		json_array_append(list, json_object_get(e, "value"));
	json_decref(arr);
	*out = json_pack("{s:o}", field, list);
	return 0;
}

int gr_control_op_list(struct gr_control *c, json_t **out, gr_error_t *err)
{
	return gr__list_values(c, GR_KEY_OPS, "operations", out, err);
}

/* ---- images ---- */

int gr_control_image_list(struct gr_control *c, json_t **out, gr_error_t *err)
{
	struct gr_image_info *list = NULL;
	size_t n = 0;
	if (gr_image_list(&c->img, &list, &n, err) < 0)
		return -1;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, gr_image_info_to_json(&list[i]));
	gr_image_info_list_free(list, n);
	*out = json_pack("{s:o}", "images", arr);
	return 0;
}

int gr_control_image_get(struct gr_control *c, const char *name, json_t **out, gr_error_t *err)
{
	if (!gr_image_name_valid(name))
		return gr_error_set(err, EINVAL, "image name: '%.70s' is not valid", name);
	struct gr_image_info info = { 0 };
	if (gr_image_get(&c->img, name, &info, err) < 0)
		return -1;
	*out = gr_image_info_to_json(&info);
	gr_image_info_clear(&info);
	return 0;
}

int gr_control_image_delete(struct gr_control *c, const char *name, gr_error_t *err)
{
	if (!gr_image_name_valid(name))
		return gr_error_set(err, EINVAL, "image name: '%.70s' is not valid", name);
	_cleanup_free_ char *lock = xasprintf("image:%s", name);
	gr__lock_name(c, lock);
	int r = gr_image_delete(&c->img, name, err);
	gr__unlock_name(c, lock);
	if (r == 0)
		gr__event(c, "image-deleted", name, NULL, NULL);
	return r;
}

struct image_job {
	struct gr_control *c;
	char *op, *name, *source;  /* source NULL: build recipe `name` */
	double last;
};

static void progress(const struct gr_image_progress *p, void *ud)
{
	struct image_job *j = ud;
	double t = now();
	if (t - j->last < 0.5)
		return;
	j->last = t;
	json_t *pj = json_pack("{s:s,s:I,s:I,s:I,s:I}", "phase", p->phase ? p->phase : "",
			       "bytes_done", (json_int_t)p->bytes_done, "bytes_total",
			       (json_int_t)p->bytes_total, "files_done", (json_int_t)p->files_done,
			       "files_total", (json_int_t)p->files_total);
	if (p->message)
		json_object_set_new(pj, "message", json_string(p->message));
	gr__op_progress(j->c, j->op, pj);
}

static void *image_worker(void *p)
{
	struct image_job *j = p;
	struct gr_control *c = j->c;
	_cleanup_free_ char *lock = xasprintf("image:%s", j->name);
	gr__lock_name(c, lock);
	gr_error_t err;
	struct gr_image_info info = { 0 };
	int r = j->source ? gr_image_import(&c->img, j->name, j->source, progress, j, &info, &err)
			  : gr_image_build(&c->img, j->name, progress, j, &info, &err);
	gr__unlock_name(c, lock);
	if (r == 0) {
		gr__op_end(c, j->op, NULL, gr_image_info_to_json(&info));
		gr__event(c, "image-ready", j->name, NULL, j->source ? "import" : "build");
	} else {
		gr__op_end(c, j->op, &err, NULL);
	}
	gr_image_info_clear(&info);
	free(j->op);
	free(j->name);
	free(j->source);
	free(j);
	return NULL;
}

static int start_job(struct gr_control *c, json_t *req, bool build, json_t **op, gr_error_t *err)
{
	const char *key;
	json_t *v;
	const char *name = NULL, *source = NULL;
	json_object_foreach(req, key, v) {
		if (!strcmp(key, "name") && json_is_string(v))
			name = json_string_value(v);
		else if (!build && !strcmp(key, "source") && json_is_string(v))
			source = json_string_value(v);
		else if (build && !strcmp(key, "recipe") && json_is_string(v))
			name = name ? name : json_string_value(v);
		else if (!strcmp(key, "name") || !strcmp(key, "source") || !strcmp(key, "recipe"))
			return gr_error_set(err, EINVAL, "%s: expected a string", key);
		else
			return gr_error_set(err, EINVAL, "%s: unknown field", key);
	}
	if (build) {
		const char *recipe = json_string_value(json_object_get(req, "recipe"));
		bool found = false;
		for (const struct gr_image_recipe *r = gr_image_recipes(); r->name; r++)
			found |= !strcmp(r->name, recipe);
		if (!found)
			return gr_error_set(err, EINVAL, "recipe: no recipe named '%.64s'", recipe);
		if (name && strcmp(name, recipe))
			return gr_error_set(err, EINVAL, "name: a built image is named after its recipe ('%s')",
					    recipe);
		name = recipe;
	} else {
		if (!source)
			return gr_error_set(err, EINVAL, "source: required (a path on the daemon's host)");
		if (source[0] != '/')
			return gr_error_set(err, EINVAL, "source: '%.200s' is not an absolute path", source);
		if (access(source, R_OK) < 0)
			return gr_error_set(err, ENOENT, "source: cannot read '%.200s'", source);
	}
	if (!name)
		return gr_error_set(err, EINVAL, "name: required");
	if (!gr_image_name_valid(name))
		return gr_error_set(err, EINVAL, "name: '%.70s' is not a valid image name", name);
	struct gr_image_info info = { 0 };
	if (gr_image_get(&c->img, name, &info, NULL) == 0) {
		gr_image_info_clear(&info);
		return gr_error_set(err, EEXIST, "name: image '%s' already exists", name);
	}
	struct image_job *j = xcalloc(1, sizeof *j);
	j->c = c;
	j->name = xstrdup(name);
	j->source = source ? xstrdup(source) : NULL;
	j->op = gr__op_begin(c, build ? "image-build" : "image-import", name);
	_cleanup_free_ char *id = xstrdup(j->op);
	gr__spawn(c, image_worker, j);
	return gr_control_op_get(c, id, 0, op, err);
}

int gr_control_image_import(struct gr_control *c, json_t *req, json_t **op, gr_error_t *err)
{
	return start_job(c, req, false, op, err);
}

int gr_control_image_build(struct gr_control *c, json_t *req, json_t **op, gr_error_t *err)
{
	return start_job(c, req, true, op, err);
}
