/*
 * snaprec.c - snapshot records in the store, /gureum/snapshots/<instance>/<snap>
 * (snapshot.h has the record's shape).
 *
 * A record belongs to one life of its instance: "instance_revision" is the
 * store revision that created the instance's record, so a record left over
 * from a deleted instance of the same name is stale, and dropped when seen.
 */
#include "control/control-internal.h"
#include "control/snapshot.h"

#include <errno.h>
#include <string.h>
#include "util/alloc.h"

static char *snap_key(const char *inst, const char *snap)
{
	return xasprintf("%s%s/%s", GR_KEY_SNAPSHOTS, inst, snap);
}

static bool record_current(const json_t *rec, int64_t irev)
{
	json_t *a = json_object_get(rec, "instance_revision");
	return json_is_integer(a) && json_integer_value(a) == irev;
}

int gr__snaprec_get(struct gr_control *c, int64_t irev, const char *inst, const char *snap,
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

int gr__snaprec_need(struct gr_control *c, int64_t irev, const char *inst, const char *snap,
		     json_t **rec, gr_error_t *err)
{
	int r = gr__snaprec_get(c, irev, inst, snap, rec, err);
	if (r < 0)
		return -1;
	if (r == 0)
		return gr_error_set(err, ENOENT, "instance '%s' has no snapshot '%s'", inst, snap);
	return 0;
}

int gr__snaprec_put(struct gr_control *c, const char *inst, const char *snap, const json_t *rec,
		    gr_error_t *err)
{
	_cleanup_free_ char *key = snap_key(inst, snap);
	return gr_store_put_json(c->store, key, rec, 0, NULL, err) < 0 ? -1 : 0;
}

int gr__snaprec_delete(struct gr_control *c, const char *inst, const char *snap, gr_error_t *err)
{
	_cleanup_free_ char *key = snap_key(inst, snap);
	return gr_store_delete(c->store, key, NULL, err) < 0 ? -1 : 0;
}

int gr__snaprec_forget(struct gr_control *c, const char *inst, gr_error_t *err)
{
	_cleanup_free_ char *prefix = xasprintf("%s%s/", GR_KEY_SNAPSHOTS, inst);
	return gr_store_delete_prefix(c->store, prefix, NULL, NULL, err) < 0 ? -1 : 0;
}

int gr__snaprec_list(struct gr_control *c, int64_t irev, const char *inst, json_t **out,
		     gr_error_t *err)
{
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
	*out = list;
	return 0;
}
