/*
 * etcd_json.c - the etcd back-end's wire format: request bodies for the etcd
 * 3.4 v3 JSON gateway and parsers for its replies.  Pure functions, no I/O.
 *
 * The gateway speaks protobuf's JSON mapping: bytes (keys, values) are base64,
 * int64 are decimal strings, fields at their default value (0, false, "", an
 * empty list) are left out.  Every reply is outside input: a parser accepts a
 * missing field as its default, and anything else that is not what the
 * mapping allows (not JSON, a number where an object belongs, bad base64, a
 * key with a NUL byte, a revision that is not an integer) is EPROTO with the
 * JSON path of the field.  Unknown fields are ignored (newer servers).
 * Revisions are shifted to ours (etcd-internal.h) on the way in and out.
 */
#include "store/etcd-internal.h"
#include "util/alloc.h"
#include "util/b64.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- base64 ---------------------------------------------------------------------------- */

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *gr__etcd_b64(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = xmalloc((len + 2) / 3 * 4 + 1), *o = out;
	size_t i = 0;
	for (; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = b64_chars[v >> 18];
		*o++ = b64_chars[(v >> 12) & 63];
		*o++ = b64_chars[(v >> 6) & 63];
		*o++ = b64_chars[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
		*o++ = b64_chars[v >> 18];
		*o++ = b64_chars[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64_chars[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

int gr__etcd_unb64(const char *s, size_t slen, char **out, size_t *len)
{
	return gr_b64_decode(s, slen, GR_B64_ANY, out, len);
}

char *gr__etcd_prefix_end(const char *prefix, size_t *len)
{
	size_t n = strlen(prefix);
	char *end = xstrdup(prefix);
	for (size_t i = n; i > 0; i--) {
		if ((unsigned char)end[i - 1] != 0xff) {
			end[i - 1]++;
			end[i] = '\0';
			*len = i;
			return end;
		}
	}
	end[0] = '\0';
	*len = 0;
	return end;
}

/* ---- requests ----------------------------------------------------------------------------- */

static json_t *b64_json(const void *data, size_t len)
{
	char *s = gr__etcd_b64(data, len);
	json_t *j = json_string(s);
	free(s);
	return j;
}

static json_t *int_json(int64_t v)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%" PRId64, v);
	return json_string(buf);
}

static char *dump(json_t *root)
{
	char *s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!s)
		abort(); /* out of memory, as xmalloc */
	return s;
}

/* key/range_end covering every key that starts with prefix ("" = all). */
static void set_prefix_range(json_t *o, const char *prefix)
{
	size_t end_len;
	char *end = gr__etcd_prefix_end(prefix, &end_len);
	if (!*prefix) {
		json_object_set_new(o, "key", b64_json("", 1));        /* "\0": the first key */
		json_object_set_new(o, "range_end", b64_json("", 1));  /* "\0": no upper bound */
	} else {
		json_object_set_new(o, "key", b64_json(prefix, strlen(prefix)));
		json_object_set_new(o, "range_end", b64_json(end_len ? end : "", end_len ? end_len : 1));
	}
	free(end);
}

char *gr__etcd_req_range(const char *prefix, const char *start_after, size_t limit, bool keys_only)
{
	json_t *o = json_object();
	if (!prefix)
		prefix = "";
	set_prefix_range(o, prefix);
	if (start_after && strcmp(start_after, prefix) >= 0) {
		/* The smallest key > start_after is start_after followed by a NUL byte. */
		size_t n = strlen(start_after);
		char *k = xmalloc(n + 1);
		memcpy(k, start_after, n);
		k[n] = '\0';
		json_object_set_new(o, "key", b64_json(k, n + 1));
		free(k);
	}
	if (limit)
		json_object_set_new(o, "limit", int_json((int64_t)limit));
	if (keys_only)
		json_object_set_new(o, "keys_only", json_true());
	return dump(o);
}

char *gr__etcd_req_get(const char *key)
{
	json_t *o = json_object();
	json_object_set_new(o, "key", b64_json(key, strlen(key)));
	return dump(o);
}

static const char *const cmp_target[] = { "VERSION", "CREATE", "MOD", "LEASE", "VALUE" };
static const char *const cmp_field[] = { "version", "create_revision", "mod_revision", "lease", "value" };
static const char *const cmp_result[] = { "EQUAL", "NOT_EQUAL", "LESS", "GREATER" };

static json_t *ops_json(const struct gr_store_op *ops, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct gr_store_op *op = &ops[i];
		json_t *r = json_object(), *w = json_object();
		if (op->type == GR_OP_PUT) {
			json_object_set_new(r, "key", b64_json(op->key, strlen(op->key)));
			json_object_set_new(r, "value", b64_json(op->value_len ? op->value : "", op->value_len));
			if (op->lease)
				json_object_set_new(r, "lease", int_json(op->lease));
			json_object_set_new(w, "request_put", r);
		} else {
			if (op->prefix)
				set_prefix_range(r, op->key);
			else
				json_object_set_new(r, "key", b64_json(op->key, strlen(op->key)));
			json_object_set_new(w, "request_delete_range", r);
		}
		json_array_append_new(a, w);
	}
	return a;
}

char *gr__etcd_req_txn(const struct gr_store_txn *t)
{
	json_t *o = json_object(), *cmps = json_array();
	for (size_t i = 0; i < t->n_cmps; i++) {
		const struct gr_store_cmp *c = &t->cmps[i];
		json_t *j = json_object();
		json_object_set_new(j, "key", b64_json(c->key, strlen(c->key)));
		json_object_set_new(j, "target", json_string(cmp_target[c->target]));
		json_object_set_new(j, "result", json_string(cmp_result[c->op]));
		if (c->target == GR_CMP_VALUE)
			json_object_set_new(j, "value", b64_json(c->value_len ? c->value : "", c->value_len));
		else if (c->target == GR_CMP_CREATE_REVISION || c->target == GR_CMP_MOD_REVISION)
			json_object_set_new(j, cmp_field[c->target], int_json(gr__etcd_rev_out(c->number)));
		else
			json_object_set_new(j, cmp_field[c->target], int_json(c->number));
		json_array_append_new(cmps, j);
	}
	json_object_set_new(o, "compare", cmps);
	json_object_set_new(o, "success", ops_json(t->success, t->n_success));
	json_object_set_new(o, "failure", ops_json(t->failure, t->n_failure));
	return dump(o);
}

char *gr__etcd_req_watch(int64_t start_rev)
{
	json_t *c = json_object();
	set_prefix_range(c, "");
	if (start_rev)
		json_object_set_new(c, "start_revision", int_json(start_rev));
	json_t *o = json_object();
	json_object_set_new(o, "create_request", c);
	return dump(o);
}

/* ---- reply helpers ------------------------------------------------------------------------- */

static int proto(gr_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int proto(gr_error_t *err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return gr_error_set(err, EPROTO, "malformed etcd reply: %s", msg);
}

static json_t *load(const char *body, size_t len, gr_error_t *err)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		proto(err, "not JSON (%s at byte %d)", je.text, je.position);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		proto(err, "expected a JSON object");
		return NULL;
	}
	return root;
}

/* An optional object member: NULL when absent, EPROTO when not an object. */
static int get_obj(json_t *o, const char *name, const char *path, json_t **out, gr_error_t *err)
{
	json_t *v = json_object_get(o, name);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return proto(err, "%s%s: expected an object", path, name);
	*out = v;
	return 0;
}

static int get_arr(json_t *o, const char *name, const char *path, json_t **out, gr_error_t *err)
{
	json_t *v = json_object_get(o, name);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return proto(err, "%s%s: expected an array", path, name);
	*out = v;
	return 0;
}

/* int64: a decimal string (protobuf JSON) or a JSON integer; absent = 0. */
static int get_int(json_t *o, const char *name, const char *path, int64_t *out, gr_error_t *err)
{
	json_t *v = json_object_get(o, name);
	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		errno = 0;
		long long n = strtoll(s, &end, 10);
		if (*s && !*end && errno == 0 && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9'))) {
			*out = n;
			return 0;
		}
		return proto(err, "%s%s: '%.40s' is not an int64", path, name, s);
	}
	return proto(err, "%s%s: expected an int64 string", path, name);
}

static int get_rev(json_t *o, const char *name, const char *path, int64_t *out, gr_error_t *err)
{
	if (get_int(o, name, path, out, err) < 0)
		return -1;
	if (*out < 0)
		return proto(err, "%s%s: negative revision %" PRId64, path, name, *out);
	*out = gr__etcd_rev_in(*out);
	return 0;
}

static int get_bool(json_t *o, const char *name, const char *path, bool *out, gr_error_t *err)
{
	json_t *v = json_object_get(o, name);
	*out = false;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return proto(err, "%s%s: expected true or false", path, name);
	*out = json_is_true(v);
	return 0;
}

/* bytes: base64; absent = empty.  *out NUL-terminated, malloc'd. */
static int get_bytes(json_t *o, const char *name, const char *path, char **out, size_t *len,
		     gr_error_t *err)
{
	json_t *v = json_object_get(o, name);
	*out = NULL;
	*len = 0;
	if (!v || json_is_null(v)) {
		*out = xstrdup("");
		return 0;
	}
	if (!json_is_string(v))
		return proto(err, "%s%s: expected a base64 string", path, name);
	if (gr__etcd_unb64(json_string_value(v), json_string_length(v), out, len) < 0)
		return proto(err, "%s%s: invalid base64", path, name);
	return 0;
}

static int header_rev(json_t *root, const char *path, int64_t *rev, gr_error_t *err)
{
	json_t *h;
	char p[64];
	if (get_obj(root, "header", path, &h, err) < 0)
		return -1;
	if (!h)
		return proto(err, "%sheader: missing", path);
	snprintf(p, sizeof p, "%sheader.", path);
	return get_rev(h, "revision", p, rev, err);
}

/* One mvccpb.KeyValue. */
static int parse_kv(json_t *j, const char *path, bool with_value, struct gr_kv *kv, gr_error_t *err)
{
	if (!json_is_object(j))
		return proto(err, "%s: expected an object", path);
	char p[64];
	snprintf(p, sizeof p, "%s.", path);
	size_t klen;
	if (get_bytes(j, "key", p, &kv->key, &klen, err) < 0)
		return -1;
	if (klen == 0)
		return proto(err, "%skey: empty", p);
	if (strlen(kv->key) != klen)
		return proto(err, "%skey: contains a NUL byte", p);
	if (with_value && get_bytes(j, "value", p, &kv->value, &kv->value_len, err) < 0)
		return -1;
	if (get_rev(j, "create_revision", p, &kv->create_revision, err) < 0 ||
	    get_rev(j, "mod_revision", p, &kv->mod_revision, err) < 0 ||
	    get_int(j, "version", p, &kv->version, err) < 0 || get_int(j, "lease", p, &kv->lease, err) < 0)
		return -1;
	if (kv->version < 0 || kv->lease < 0)
		return proto(err, "%s: negative version or lease", path);
	return 0;
}

/* ---- replies ------------------------------------------------------------------------------ */

int gr__etcd_parse_error(const char *body, size_t len, int *code, char *msg, size_t msg_size)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return 0;
	}
	json_t *e = json_object_get(root, "error"), *src = root;
	if (json_is_object(e)) /* a stream's error line */
		src = e;
	else if (!e)
		src = NULL;
	int found = 0;
	if (src) {
		json_t *c = json_object_get(src, "code");
		if (!json_is_integer(c))
			c = json_object_get(src, "grpc_code");
		json_t *m = json_object_get(src, "message");
		if (!json_is_string(m) && json_is_string(e))
			m = e;
		*code = json_is_integer(c) ? (int)json_integer_value(c) : GR__GRPC_UNKNOWN;
		snprintf(msg, msg_size, "%s", json_is_string(m) ? json_string_value(m) : "(no message)");
		found = 1;
	}
	json_decref(root);
	return found;
}

int gr__etcd_parse_header(const char *body, size_t len, int64_t *revision, gr_error_t *err)
{
	json_t *root = load(body, len, err);
	if (!root)
		return -1;
	int r = header_rev(root, "", revision, err);
	json_decref(root);
	return r;
}

int gr__etcd_parse_range(const char *body, size_t len, bool keys_only, struct gr_kv_list *out,
			 gr_error_t *err)
{
	memset(out, 0, sizeof *out);
	json_t *root = load(body, len, err), *kvs;
	if (!root)
		return -1;
	if (header_rev(root, "", &out->revision, err) < 0 || get_arr(root, "kvs", "", &kvs, err) < 0 ||
	    get_bool(root, "more", "", &out->more, err) < 0)
		goto fail;
	size_t n = kvs ? json_array_size(kvs) : 0;
	if (n)
		out->kvs = xcalloc(n, sizeof *out->kvs);
	for (size_t i = 0; i < n; i++) {
		char path[32];
		snprintf(path, sizeof path, "kvs[%zu]", i);
		out->n = i + 1;
		if (parse_kv(json_array_get(kvs, i), path, !keys_only, &out->kvs[i], err) < 0)
			goto fail;
		if (i && strcmp(out->kvs[i - 1].key, out->kvs[i].key) >= 0) {
			proto(err, "%s.key: not sorted after the key before it", path);
			goto fail;
		}
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	gr_kv_list_clear(out);
	return -1;
}

int gr__etcd_parse_txn(const char *body, size_t len, struct gr_store_txn_result *res,
		       gr_error_t *err)
{
	memset(res, 0, sizeof *res);
	json_t *root = load(body, len, err), *resps;
	if (!root)
		return -1;
	if (header_rev(root, "", &res->revision, err) < 0 ||
	    get_bool(root, "succeeded", "", &res->succeeded, err) < 0 ||
	    get_arr(root, "responses", "", &resps, err) < 0)
		goto fail;
	for (size_t i = 0; resps && i < json_array_size(resps); i++) {
		json_t *r = json_array_get(resps, i), *d;
		char path[96];
		snprintf(path, sizeof path, "responses[%zu].", i);
		if (!json_is_object(r)) {
			proto(err, "responses[%zu]: expected an object", i);
			goto fail;
		}
		if (get_obj(r, "response_delete_range", path, &d, err) < 0)
			goto fail;
		if (d) {
			int64_t n;
			strcat(path, "response_delete_range.");
			if (get_int(d, "deleted", path, &n, err) < 0)
				goto fail;
			if (n < 0) {
				proto(err, "%sdeleted: negative", path);
				goto fail;
			}
			res->deleted += n;
		}
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	memset(res, 0, sizeof *res);
	return -1;
}

int gr__etcd_parse_grant(const char *body, size_t len, int64_t *id, int64_t *ttl, gr_error_t *err)
{
	json_t *root = load(body, len, err);
	if (!root)
		return -1;
	int r = -1;
	json_t *e = json_object_get(root, "error");
	if (get_int(root, "ID", "", id, err) < 0 || get_int(root, "TTL", "", ttl, err) < 0)
		goto out;
	if (json_is_string(e) && json_string_length(e)) {
		gr_error_set(err, EIO, "etcd refused the lease: %s", json_string_value(e));
		goto out;
	}
	if (*id <= 0 || *ttl <= 0) {
		proto(err, "lease grant: ID %" PRId64 " / TTL %" PRId64 " not positive", *id, *ttl);
		goto out;
	}
	r = 0;
out:
	json_decref(root);
	return r;
}

int gr__etcd_parse_lease(const char *body, size_t len, bool stream, int64_t *ttl, int64_t *granted,
			 gr_error_t *err)
{
	json_t *root = load(body, len, err), *o = root;
	if (!root)
		return -1;
	int r = -1;
	const char *path = "";
	if (stream) {
		path = "result.";
		if (get_obj(root, "result", "", &o, err) < 0)
			goto out;
		if (!o) {
			proto(err, "result: missing");
			goto out;
		}
	}
	if (get_int(o, "TTL", path, ttl, err) < 0 || get_int(o, "grantedTTL", path, granted, err) < 0)
		goto out;
	r = 0;
out:
	json_decref(root);
	return r;
}

int gr__etcd_parse_auth(const char *body, size_t len, char **token, gr_error_t *err)
{
	json_t *root = load(body, len, err);
	if (!root)
		return -1;
	json_t *t = json_object_get(root, "token");
	int r = 0;
	if (!json_is_string(t) || !json_string_length(t) || strpbrk(json_string_value(t), "\r\n"))
		r = proto(err, "token: expected a non-empty one-line string");
	else
		*token = xstrdup(json_string_value(t));
	json_decref(root);
	return r;
}

void gr__etcd_watch_msg_clear(struct gr__etcd_watch_msg *m)
{
	for (size_t i = 0; i < m->n; i++)
		gr_kv_clear(&m->events[i].kv);
	free(m->events);
	memset(m, 0, sizeof *m);
}

int gr__etcd_parse_watch(const char *line, size_t len, struct gr__etcd_watch_msg *m, gr_error_t *err)
{
	memset(m, 0, sizeof *m);
	json_t *root = load(line, len, err), *res, *evs;
	if (!root)
		return -1;
	if (get_obj(root, "result", "", &res, err) < 0)
		goto fail;
	if (!res) {
		proto(err, "result: missing");
		goto fail;
	}
	json_t *reason = json_object_get(res, "cancel_reason");
	if (header_rev(res, "result.", &m->revision, err) < 0 ||
	    get_bool(res, "created", "result.", &m->created, err) < 0 ||
	    get_bool(res, "canceled", "result.", &m->canceled, err) < 0 ||
	    get_int(res, "compact_revision", "result.", &m->compact_revision, err) < 0 ||
	    get_arr(res, "events", "result.", &evs, err) < 0)
		goto fail;
	if (m->compact_revision < 0) {
		proto(err, "result.compact_revision: negative");
		goto fail;
	}
	if (reason && !json_is_string(reason)) {
		proto(err, "result.cancel_reason: expected a string");
		goto fail;
	}
	snprintf(m->reason, sizeof m->reason, "%s", reason ? json_string_value(reason) : "");
	size_t n = evs ? json_array_size(evs) : 0;
	if (n)
		m->events = xcalloc(n, sizeof *m->events);
	for (size_t i = 0; i < n; i++) {
		json_t *ev = json_array_get(evs, i), *kv, *type;
		char path[96];
		snprintf(path, sizeof path, "result.events[%zu].", i);
		if (!json_is_object(ev)) {
			proto(err, "result.events[%zu]: expected an object", i);
			goto fail;
		}
		type = json_object_get(ev, "type");
		struct gr_store_event *e = &m->events[i];
		m->n = i + 1;
		if (!type || (json_is_string(type) && !strcmp(json_string_value(type), "PUT")) ||
		    (json_is_integer(type) && json_integer_value(type) == 0)) {
			e->type = GR_EV_PUT;
		} else if ((json_is_string(type) && !strcmp(json_string_value(type), "DELETE")) ||
			   (json_is_integer(type) && json_integer_value(type) == 1)) {
			e->type = GR_EV_DELETE;
		} else {
			proto(err, "%stype: not PUT or DELETE", path);
			goto fail;
		}
		if (get_obj(ev, "kv", path, &kv, err) < 0)
			goto fail;
		if (!kv) {
			proto(err, "%skv: missing", path);
			goto fail;
		}
		strcat(path, "kv");
		if (parse_kv(kv, path, true, &e->kv, err) < 0)
			goto fail;
		if (e->kv.mod_revision <= 0 || (i && e->kv.mod_revision < m->events[i - 1].kv.mod_revision)) {
			proto(err, "%s.mod_revision: %" PRId64 " out of order", path, e->kv.mod_revision);
			goto fail;
		}
		if (e->type == GR_EV_DELETE) { /* as the interface describes DELETE events */
			e->kv.create_revision = e->kv.version = e->kv.lease = 0;
			e->kv.value_len = 0;
			e->kv.value[0] = '\0';
		}
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	gr__etcd_watch_msg_clear(m);
	return -1;
}
