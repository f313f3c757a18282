/*
 * records.c - typed helpers over the generic store: record names and keys,
 * JSON documents as values, read-modify-write guarded by compare-and-swap on
 * mod_revision.  Holds no state of its own; the store's
 * thread-safety applies.  Values are written compact with sorted keys, so equal
 * documents are equal bytes (useful for GR_CMP_VALUE).
 */
#include "store/records.h"
#include "util/alloc.h"

#include <errno.h>
#include <string.h>


int gr_store_name_check(const char *name, const char *what, gr_error_t *err)
{
	if (!name || !*name)
		return gr_error_set(err, EINVAL, "%s is empty", what);
	size_t n = strnlen(name, GR_STORE_NAME_MAX + 1);
	if (n > GR_STORE_NAME_MAX)
		return gr_error_set(err, EINVAL, "%s '%.32s...' is longer than %d characters", what, name,
				    GR_STORE_NAME_MAX);
	if (name[0] == '.' || name[0] == '-')
		return gr_error_set(err, EINVAL, "%s '%s' may not start with '%c'", what, name, name[0]);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return gr_error_set(err, EINVAL, "%s '%s': character %zu ('%c') is not one of "
					    "[A-Za-z0-9_.-]", what, name, i + 1, c >= 32 && c < 127 ? c : '?');
	}
	return 0;
}

char *gr_store_key(const char *prefix, const char *name, gr_error_t *err)
{
	if (gr_store_name_check(name, "record name", err) < 0)
		return NULL;
	return xasprintf("%s%s", prefix, name);
}

/* 1 found (*doc, *meta filled) / 0 absent / -1. */
static int get_doc(struct gr_store *s, const char *key, json_t **doc, struct gr_kv *meta,
		   gr_error_t *err)
{
	*doc = NULL;
	int r = gr_store_get(s, key, meta, err);
	if (r <= 0)
		return r;
	json_error_t jerr;
	*doc = json_loadb(meta->value, meta->value_len, JSON_DECODE_ANY, &jerr);
	if (!*doc) {
		gr_error_set(err, EBADMSG, "%s: stored value is not JSON: %s (at byte %d)", key, jerr.text,
			     jerr.position);
		gr_kv_clear(meta);
		return -1;
	}
	return 1;
}

int gr_store_get_json(struct gr_store *s, const char *key, json_t **doc, int64_t *mod_revision,
		      gr_error_t *err)
{
	struct gr_kv kv = {0};
	int r = get_doc(s, key, doc, &kv, err);
	if (mod_revision)
		*mod_revision = r > 0 ? kv.mod_revision : 0;
	gr_kv_clear(&kv);
	return r;
}

static char *encode(const char *key, const json_t *doc, gr_error_t *err)
{
	if (!doc) {
		gr_error_set(err, EINVAL, "%s: no document to write", key ? key : "");
		return NULL;
	}
	char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!text)
		gr_error_set(err, EINVAL, "%s: document cannot be encoded as JSON", key ? key : "");
	return text;
}

int gr_store_put_json(struct gr_store *s, const char *key, const json_t *doc, int64_t lease,
		      int64_t *rev, gr_error_t *err)
{
	_cleanup_free_ char *text = encode(key, doc, err);
	if (!text)
		return -1;
	return gr_store_put(s, key, text, strlen(text), lease, rev, err);
}

int gr_store_put_json_if(struct gr_store *s, const char *key, const json_t *doc, int64_t lease,
			 int64_t mod_revision, int64_t *rev, gr_error_t *err)
{
	_cleanup_free_ char *text = encode(key, doc, err);
	if (!text)
		return -1;
	return gr_store_put_if(s, key, text, strlen(text), lease, mod_revision, rev, err);
}

int gr_store_list_json(struct gr_store *s, const char *prefix, json_t **array, gr_error_t *err)
{
	*array = NULL;
	struct gr_kv_list l = {0};
	if (gr_store_list(s, prefix, 0, &l, err) < 0)
		return -1;
	json_t *a = json_array();
	for (size_t i = 0; i < l.n; i++) {
		json_error_t jerr;
		json_t *v = json_loadb(l.kvs[i].value, l.kvs[i].value_len, JSON_DECODE_ANY, &jerr);
		if (!v) {
			gr_error_set(err, EBADMSG, "%s: stored value is not JSON: %s", l.kvs[i].key, jerr.text);
			json_decref(a);
			gr_kv_list_clear(&l);
			return -1;
		}
		json_array_append_new(a, json_pack("{s:s, s:I, s:o}", "key", l.kvs[i].key, "mod_revision",
						   (json_int_t)l.kvs[i].mod_revision, "value", v));
	}
	gr_kv_list_clear(&l);
	*array = a;
	return 0;
}

int gr_store_update_json(struct gr_store *s, const char *key, gr_store_update_fn fn, void *ctx,
			 int tries, int64_t *rev, gr_error_t *err)
{
	if (tries < 1)
		tries = 1;
	for (int t = 0; t < tries; t++) {
		struct gr_kv meta = {0};
		json_t *doc = NULL;
		int found = get_doc(s, key, &doc, &meta, err);
		if (found < 0)
			return -1;
		int64_t mod = found ? meta.mod_revision : 0, lease = found ? meta.lease : 0;
		gr_kv_clear(&meta);
		int r = fn(&doc, ctx, err);
		if (r != 0) {
			json_decref(doc);
			return r < 0 ? -1 : 0;
		}
		if (!doc) {
			if (!found)
				return 0;
			r = gr_store_delete_if(s, key, mod, rev, err);
		} else {
			r = gr_store_put_json_if(s, key, doc, lease, mod, rev, err);
			json_decref(doc);
		}
		if (r != 0)
			return r;
		/* Lost the race: someone wrote in between; read again. */
	}
	return gr_error_set(err, EAGAIN, "%s: changed concurrently %d times in a row; retry", key, tries);
}

