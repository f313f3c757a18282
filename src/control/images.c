/*
 * images.c - the image module in the daemon: list, show, delete, and
 * import/build as operations whose work runs on a worker thread (one per
 * image name at a time, under the name lock "image:<name>"), progress going
 * to the operation record and the event stream.
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
	if (r == 0) {
		gr__event(c, "image-deleted", name, NULL, NULL);
		gr__distrib_deleted(c, name);
	}
	return r;
}

struct image_job {
	struct gr_control *c;
	struct gr__op op;
	char *name, *source;  /* source NULL: build recipe `name` */
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
	gr__op_progress(j->c, &j->op, pj);
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
		gr__distrib_published(c, j->name);
		gr__op_end(c, &j->op, NULL, gr_image_info_to_json(&info));
		gr__event(c, "image-ready", j->name, NULL, j->source ? "import" : "build");
	} else {
		gr__op_end(c, &j->op, &err, NULL);
	}
	gr_image_info_clear(&info);
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
	if (gr__op_begin(c, build ? "image-build" : "image-import", name, &j->op, err) < 0) {
		free(j);
		return -1;
	}
	j->name = xstrdup(name);
	j->source = source ? xstrdup(source) : NULL;
	char id[sizeof j->op.id];
	memcpy(id, j->op.id, sizeof id);
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
