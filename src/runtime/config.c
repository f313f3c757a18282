/*
 * config.c - gr_oci_config_parse(): OCI runtime-spec 1.x config.json -> struct
 * gr_oci_config.  Owns the shared parsing helpers (JSON path tracking, typed
 * getters, the uint64 pre-pass), the top-level fields, annotations, and
 * freeing.  mounts and hooks are in config_mounts.c, process in
 * config_process.c, linux in config_linux.c, linux.seccomp in
 * config_seccomp.c.
 *
 * Invariants: the first problem found is reported as "<json path>: <what>"
 * with code EINVAL and nothing is returned; unknown members are ignored (the
 * spec requires it); every array in the result is allocated zeroed with its
 * count set before it is filled, so gr_oci_config_free() can release a
 * half-built config on any error path.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/config-internal.h"
#include "util/alloc.h"
#include "util/fs.h"

#define U64_MARKER "\0u64:"
#define U64_MARKER_LEN 5
#define CONFIG_MAX_BYTES (16u << 20)

/* ---- path and error helpers ---- */

static size_t path_append(struct gr__pctx *c, const char *s)
{
	size_t old = c->len, n = strlen(s);
	if (c->len + n >= GR__PATH_MAX - 4) {   /* keep room for "..." */
		if (c->len < GR__PATH_MAX - 4) {
			memcpy(c->path + c->len, "...", 4);
			c->len += 3;
		}
		return old;
	}
	memcpy(c->path + c->len, s, n + 1);
	c->len += n;
	return old;
}

size_t gr__path_key(struct gr__pctx *c, const char *key)
{
	size_t old = c->len;
	bool plain = *key != '\0';
	for (const char *p = key; *p; p++)
		if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9') && *p != '_')
			plain = false;
	if (plain) {
		if (c->len)
			path_append(c, ".");
		path_append(c, key);
		return old;
	}
	/* keys that are not identifiers ("net.ipv4.ip_forward", "") are quoted */
	path_append(c, "[\"");
	path_append(c, key);
	path_append(c, "\"]");
	return old;
}

size_t gr__path_idx(struct gr__pctx *c, size_t i)
{
	char b[32];
	snprintf(b, sizeof(b), "[%zu]", i);
	size_t old = c->len;
	path_append(c, b);
	return old;
}

static int vfail(struct gr__pctx *c, const char *fmt, va_list ap)
{
	char msg[GR_ERROR_MSG_MAX];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	return gr_error_set(c->err, EINVAL, "%s: %s", c->len ? c->path : "(root)", msg);
}

int gr__fail(struct gr__pctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(c, fmt, ap);
	va_end(ap);
	return -1;
}

int gr__fail_at(struct gr__pctx *c, const char *key, const char *fmt, ...)
{
	size_t old = gr__path_key(c, key);
	va_list ap;
	va_start(ap, fmt);
	vfail(c, fmt, ap);
	va_end(ap);
	gr__path_pop(c, old);
	return -1;
}

static bool is_u64_marker(const json_t *v)
{
	return json_is_string(v) && json_string_length(v) > U64_MARKER_LEN &&
	       !memcmp(json_string_value(v), U64_MARKER, U64_MARKER_LEN);
}

const char *gr__json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return is_u64_marker(v) ? "an integer" : "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a fractional number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "an unknown value";
}

json_t *gr__get(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_null(v) ? NULL : v;
}

/* ---- value-level getters (value at the current path) ---- */

int gr__val_str(struct gr__pctx *c, json_t *v, char **out)
{
	if (!json_is_string(v) || is_u64_marker(v))
		return gr__fail(c, "expected a string, got %s", gr__json_kind(v));
	const char *s = json_string_value(v);
	if (strlen(s) != json_string_length(v))
		return gr__fail(c, "string contains a NUL character");
	*out = xstrdup(s);
	return 0;
}

int gr__val_u64(struct gr__pctx *c, json_t *v, uint64_t max, uint64_t *out)
{
	uint64_t x;
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i < 0)
			return gr__fail(c, "must not be negative, got %" JSON_INTEGER_FORMAT, i);
		x = (uint64_t)i;
	} else if (is_u64_marker(v)) {
		const char *digits = json_string_value(v) + U64_MARKER_LEN;
		char *end;
		errno = 0;
		x = strtoull(digits, &end, 10);
		if (errno || *end || end == digits || strspn(digits, "0123456789") != strlen(digits))
			return gr__fail(c, "expected a non-negative integer, got a string");
	} else {
		return gr__fail(c, "expected a non-negative integer, got %s", gr__json_kind(v));
	}
	if (x > max)
		return gr__fail(c, "%" PRIu64 " is out of range (at most %" PRIu64 ")", x, max);
	*out = x;
	return 0;
}

int gr__val_i64(struct gr__pctx *c, json_t *v, int64_t min, int64_t max, int64_t *out)
{
	if (is_u64_marker(v))
		return gr__fail(c, "%s is out of range (at most %" PRId64 ")",
				json_string_value(v) + U64_MARKER_LEN, max);
	if (!json_is_integer(v))
		return gr__fail(c, "expected an integer, got %s", gr__json_kind(v));
	int64_t x = json_integer_value(v);
	if (x < min && min == 0)
		return gr__fail(c, "must not be negative, got %" PRId64, x);
	if (x < min || x > max)
		return gr__fail(c, "%" PRId64 " is out of range (%" PRId64 "..%" PRId64 ")", x, min,
				max);
	*out = x;
	return 0;
}

int gr__check_path_abs(struct gr__pctx *c, const char *p)
{
	if (p[0] != '/')
		return gr__fail(c, "\"%s\" is not an absolute path", p);
	return 0;
}

/* ---- member getters ---- */

static int member_type(struct gr__pctx *c, json_t *obj, const char *key, bool req,
		       json_type want, const char *what, json_t **out)
{
	json_t *v = gr__get(obj, key);
	if (!v) {
		if (req)
			return gr__fail_at(c, key, "required %s is missing", what);
		return 0;
	}
	if (json_typeof(v) != want)
		return gr__fail_at(c, key, "expected %s, got %s", what, gr__json_kind(v));
	*out = v;
	return 0;
}

int gr__req_obj(struct gr__pctx *c, json_t *obj, const char *key, json_t **out)
{
	return member_type(c, obj, key, true, JSON_OBJECT, "an object", out);
}

int gr__opt_obj(struct gr__pctx *c, json_t *obj, const char *key, json_t **out)
{
	return member_type(c, obj, key, false, JSON_OBJECT, "an object", out);
}

int gr__opt_array(struct gr__pctx *c, json_t *obj, const char *key, json_t **out)
{
	return member_type(c, obj, key, false, JSON_ARRAY, "an array", out);
}

int gr__req_array(struct gr__pctx *c, json_t *obj, const char *key, json_t **out)
{
	return member_type(c, obj, key, true, JSON_ARRAY, "an array", out);
}

static int member_str(struct gr__pctx *c, json_t *obj, const char *key, bool req, char **out)
{
	json_t *v = gr__get(obj, key);
	if (!v)
		return req ? gr__fail_at(c, key, "required string is missing") : 0;
	char *s;
	size_t old = gr__path_key(c, key);
	int r = gr__val_str(c, v, &s);
	gr__path_pop(c, old);
	if (r < 0)
		return r;
	free(*out);
	*out = s;
	return 0;
}

int gr__req_str(struct gr__pctx *c, json_t *obj, const char *key, char **out)
{
	return member_str(c, obj, key, true, out);
}

int gr__opt_str(struct gr__pctx *c, json_t *obj, const char *key, char **out)
{
	return member_str(c, obj, key, false, out);
}

int gr__opt_bool(struct gr__pctx *c, json_t *obj, const char *key, bool *out, bool *has)
{
	json_t *v = gr__get(obj, key);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return gr__fail_at(c, key, "expected a boolean, got %s", gr__json_kind(v));
	*out = json_is_true(v);
	if (has)
		*has = true;
	return 0;
}

static int member_u64(struct gr__pctx *c, json_t *obj, const char *key, bool req, uint64_t max,
		      uint64_t *out, bool *has)
{
	json_t *v = gr__get(obj, key);
	if (!v)
		return req ? gr__fail_at(c, key, "required integer is missing") : 0;
	size_t old = gr__path_key(c, key);
	int r = gr__val_u64(c, v, max, out);
	gr__path_pop(c, old);
	if (r == 0 && has)
		*has = true;
	return r;
}

int gr__req_u64(struct gr__pctx *c, json_t *obj, const char *key, uint64_t max, uint64_t *out)
{
	return member_u64(c, obj, key, true, max, out, NULL);
}

int gr__opt_u64(struct gr__pctx *c, json_t *obj, const char *key, uint64_t max, uint64_t *out,
		bool *has)
{
	return member_u64(c, obj, key, false, max, out, has);
}

static int member_i64(struct gr__pctx *c, json_t *obj, const char *key, bool req, int64_t min,
		      int64_t max, int64_t *out, bool *has)
{
	json_t *v = gr__get(obj, key);
	if (!v)
		return req ? gr__fail_at(c, key, "required integer is missing") : 0;
	size_t old = gr__path_key(c, key);
	int r = gr__val_i64(c, v, min, max, out);
	gr__path_pop(c, old);
	if (r == 0 && has)
		*has = true;
	return r;
}

int gr__req_i64(struct gr__pctx *c, json_t *obj, const char *key, int64_t min, int64_t max,
		int64_t *out)
{
	return member_i64(c, obj, key, true, min, max, out, NULL);
}

int gr__opt_i64(struct gr__pctx *c, json_t *obj, const char *key, int64_t min, int64_t max,
		int64_t *out, bool *has)
{
	return member_i64(c, obj, key, false, min, max, out, has);
}

int gr__opt_strv(struct gr__pctx *c, json_t *obj, const char *key, bool abs_paths, char ***out)
{
	json_t *arr = NULL;
	if (gr__opt_array(c, obj, key, &arr) < 0)
		return -1;
	if (!arr)
		return 0;
	size_t n = json_array_size(arr), old = gr__path_key(c, key);
	char **v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		size_t o2 = gr__path_idx(c, i);
		if (gr__val_str(c, json_array_get(arr, i), &v[i]) < 0 ||
		    (abs_paths && gr__check_path_abs(c, v[i]) < 0) ||
		    (abs_paths && gr__has_dotdot(v[i]) &&
		     gr__fail(c, "\"%s\" contains a \"..\" component", v[i]) < 0)) {
			gr_strv_free(v);
			return -1;
		}
		gr__path_pop(c, o2);
	}
	gr__path_pop(c, old);
	gr_strv_free(*out);
	*out = v;
	return 0;
}

void gr__kv_free(struct gr_oci_kv *kv, size_t n)
{
	for (size_t i = 0; kv && i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

int gr__opt_kv(struct gr__pctx *c, json_t *obj, const char *key, struct gr_oci_kv **out,
	       size_t *n)
{
	json_t *o = NULL;
	if (gr__opt_obj(c, obj, key, &o) < 0)
		return -1;
	if (!o)
		return 0;
	size_t cnt = json_object_size(o), i = 0, old = gr__path_key(c, key);
	struct gr_oci_kv *kv = xcalloc(cnt ? cnt : 1, sizeof(*kv));
	const char *k;
	size_t klen;
	json_t *v;
	json_object_keylen_foreach(o, k, klen, v) {
		size_t o2 = gr__path_key(c, k);
		if (!*k || strlen(k) != klen) {
			gr__fail(c, *k ? "key contains a NUL character" : "empty key");
			gr__kv_free(kv, i);
			return -1;
		}
		if (!json_is_string(v) || is_u64_marker(v)) {
			gr__fail(c, "expected a string, got %s", gr__json_kind(v));
			gr__kv_free(kv, i);
			return -1;
		}
		if (gr__val_str(c, v, &kv[i].value) < 0) {
			gr__kv_free(kv, i);
			return -1;
		}
		kv[i].key = xstrdup(k);
		i++;
		gr__path_pop(c, o2);
	}
	gr__path_pop(c, old);
	gr__kv_free(*out, *n);
	*out = kv;
	*n = i;
	return 0;
}

/* ---- uint64 pre-pass ----
 * jansson stores integers as long long and rejects larger literals.  Integer
 * literals in (INT64_MAX, UINT64_MAX] outside strings are rewritten into
 * "\u0000u64:<digits>" strings; gr__val_u64() turns them back into numbers.
 * Returns NULL when nothing needed rewriting. */
static char *rewrite_big_ints(const char *in, size_t len, size_t *outlen)
{
	char *out = NULL;
	size_t o = 0, cap = 0, copied = 0;
	bool in_str = false;
	for (size_t i = 0; i < len; i++) {
		char ch = in[i];
		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = false;
			continue;
		}
		if (ch == '"') {
			in_str = true;
			continue;
		}
		if (!(ch >= '0' && ch <= '9') && ch != '-')
			continue;
		size_t s = i;
		while (i < len && in[i] && strchr("0123456789.eE+-", in[i]))
			i++;
		size_t tl = i - s;
		i--;   /* the loop's i++ moves past the token */
		if (tl < 19 || tl > 20 || in[s] == '0')
			continue;
		bool digits = true;
		for (size_t k = s; k < s + tl; k++)
			digits = digits && in[k] >= '0' && in[k] <= '9';
		if (!digits)
			continue;
		char buf[24];
		memcpy(buf, in + s, tl);
		buf[tl] = '\0';
		errno = 0;
		unsigned long long x = strtoull(buf, NULL, 10);
		if (errno || x <= (unsigned long long)INT64_MAX)
			continue;
		size_t need = o + (s - copied) + tl + 16;
		if (need > cap) {
			cap = need * 2 + (len - s);
			out = xrealloc(out, cap);
		}
		memcpy(out + o, in + copied, s - copied);
		o += s - copied;
		o += (size_t)sprintf(out + o, "\"\\u0000u64:%s\"", buf);
		copied = s + tl;
	}
	if (!out)
		return NULL;
	out = xrealloc(out, o + (len - copied) + 1);
	memcpy(out + o, in + copied, len - copied);
	o += len - copied;
	out[o] = '\0';
	*outlen = o;
	return out;
}

/* Parse text into a JSON value with the rules every config parser here uses. */
static json_t *load_json(const char *json, size_t len, gr_error_t *err)
{
	size_t n = 0;
	_cleanup_free_ char *rewritten = rewrite_big_ints(json, len, &n);
	json_error_t jerr;
	json_t *root = json_loadb(rewritten ? rewritten : json, rewritten ? n : len,
				  JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!root)
		gr_error_set(err, EINVAL, "(json) line %d, column %d: %s", jerr.line, jerr.column,
			     jerr.text);
	return root;
}

bool gr__has_dotdot(const char *p)
{
	for (const char *s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == '\0'))
			return true;
	return false;
}

/* ---- top level ---- */

static int check_version(struct gr__pctx *c, const char *v)
{
	/* 1.<minor>[.<patch>][-suffix] */
	const char *p = v;
	if (strncmp(p, "1.", 2) || !(p[2] >= '0' && p[2] <= '9'))
		return gr__fail_at(c, "ociVersion", "unsupported version \"%s\" (need 1.x)", v);
	return 0;
}

static const char *const optional_names[] = {
	"linux.resources.memory.kernel", "linux.resources.memory.kernelTCP",
	"linux.resources.network.classID", "linux.resources.network.priorities",
	"process.apparmorProfile", "process.selinuxLabel", "linux.mountLabel",
};

const char *gr_oci_optional_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof optional_names / sizeof optional_names[0]; i++)
		if (bit == 1u << i)
			return optional_names[i];
	return "?";
}

/* annotations["org.gureum.ignore-unsupported"]: the fields the host may leave unapplied. */
static int parse_ignore_unsupported(struct gr__pctx *c, struct gr_oci_config *cfg)
{
	const char *list = NULL;
	for (size_t i = 0; i < cfg->n_annotations; i++)
		if (!strcmp(cfg->annotations[i].key, GR_OCI_IGNORE_UNSUPPORTED))
			list = cfg->annotations[i].value;
	for (const char *p = list; p && *p;) {
		p += strspn(p, ", \t\n");
		size_t n = strcspn(p, ", \t\n");
		if (!n)
			break;
		unsigned bit = 0;
		if (n == strlen("linux.resources.network") && !strncmp(p, "linux.resources.network", n))
			bit = GR_OPT_NET_CLASSID | GR_OPT_NET_PRIORITIES;
		for (size_t k = 0; !bit && k < sizeof optional_names / sizeof optional_names[0]; k++)
			if (strlen(optional_names[k]) == n && !strncmp(p, optional_names[k], n))
				bit = 1u << k;
		if (!bit) {
			gr__path_key(c, "annotations");
			return gr__fail_at(c, GR_OCI_IGNORE_UNSUPPORTED,
					   "unknown field \"%.*s\" (known: linux.resources.memory.kernel, "
					   "linux.resources.memory.kernelTCP, linux.resources.network[.classID|"
					   ".priorities], process.apparmorProfile, process.selinuxLabel, "
					   "linux.mountLabel)", (int)n, p);
		}
		cfg->ignore_unsupported |= bit;
		p += n;
	}
	return 0;
}

static bool ns_created(const struct gr_oci_config *cfg, enum gr_ns_type t)
{
	return gr_oci_config_ns(cfg, t) != NULL;
}

static int parse_config(struct gr__pctx *c, json_t *root, struct gr_oci_config *cfg)
{
	json_t *obj = NULL;
	if (!json_is_object(root))
		return gr__fail(c, "expected an object, got %s", gr__json_kind(root));
	if (gr__req_str(c, root, "ociVersion", &cfg->oci_version) < 0 ||
	    check_version(c, cfg->oci_version) < 0)
		return -1;
	if (gr__req_obj(c, root, "root", &obj) < 0)
		return -1;
	size_t old = gr__path_key(c, "root");
	if (gr__req_str(c, obj, "path", &cfg->root_path) < 0 ||
	    gr__opt_bool(c, obj, "readonly", &cfg->root_readonly, NULL) < 0)
		return -1;
	if (!*cfg->root_path)
		return gr__fail_at(c, "path", "must not be empty");
	gr__path_pop(c, old);

	obj = NULL;
	if (gr__opt_obj(c, root, "process", &obj) < 0)
		return -1;
	if (obj) {
		old = gr__path_key(c, "process");
		if (gr__parse_process(c, obj, &cfg->process) < 0)
			return -1;
		gr__path_pop(c, old);
	}
	if (gr__opt_str(c, root, "hostname", &cfg->hostname) < 0 ||
	    gr__opt_str(c, root, "domainname", &cfg->domainname) < 0)
		return -1;
	if (cfg->hostname && strlen(cfg->hostname) > 64)
		return gr__fail_at(c, "hostname", "longer than 64 bytes");
	if (cfg->domainname && strlen(cfg->domainname) > 64)
		return gr__fail_at(c, "domainname", "longer than 64 bytes");
	if (gr__parse_mounts(c, root, cfg) < 0 || gr__parse_hooks(c, root, cfg) < 0 ||
	    gr__opt_kv(c, root, "annotations", &cfg->annotations, &cfg->n_annotations) < 0 ||
	    parse_ignore_unsupported(c, cfg) < 0)
		return -1;

	obj = NULL;
	if (gr__opt_obj(c, root, "linux", &obj) < 0)
		return -1;
	if (obj) {
		old = gr__path_key(c, "linux");
		if (gr__parse_linux(c, obj, cfg) < 0)
			return -1;
		gr__path_pop(c, old);
	}
	cfg->resources.ignore_unsupported = cfg->ignore_unsupported;
	/* Setting the host or domain name needs a UTS namespace of the container's own. */
	if (cfg->hostname && *cfg->hostname && !ns_created(cfg, GR_NS_UTS))
		return gr__fail_at(c, "hostname", "set, but linux.namespaces has no uts namespace");
	if (cfg->domainname && *cfg->domainname && !ns_created(cfg, GR_NS_UTS))
		return gr__fail_at(c, "domainname", "set, but linux.namespaces has no uts namespace");
	return 0;
}

/* The document's JSON and a parse context whose errors go to err (or to
 * local when err is NULL); NULL (err set) when it is not JSON. */
static json_t *parse_begin(const char *json, size_t len, gr_error_t *err, gr_error_t *local,
			   struct gr__pctx *c)
{
	if (!err)
		err = local;
	gr_error_clear(err);
	*c = (struct gr__pctx){ .err = err };
	return load_json(json, len, err);
}

int gr_oci_config_parse(const char *json, size_t len, struct gr_oci_config **out, gr_error_t *err)
{
	gr_error_t local;
	struct gr__pctx c;
	json_t *root = parse_begin(json, len, err, &local, &c);
	if (!root)
		return -1;
	struct gr_oci_config *cfg = xcalloc(1, sizeof(*cfg));
	int r = parse_config(&c, root, cfg);
	json_decref(root);
	if (r < 0) {
		gr_oci_config_free(cfg);
		return -1;
	}
	*out = cfg;
	return 0;
}

int gr_oci_config_load(const char *bundle, struct gr_oci_config **out, gr_error_t *err)
{
	_cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (gr_read_file(path, CONFIG_MAX_BYTES, &text, &len, err) < 0)
		return -1;
	if (gr_oci_config_parse(text, len, out, err) < 0)
		return gr_error_prefix(err, "%s", path);
	return 0;
}

int gr_oci_process_parse(const char *json, size_t len, struct gr_oci_process **out, gr_error_t *err)
{
	gr_error_t local;
	struct gr__pctx c;
	json_t *root = parse_begin(json, len, err, &local, &c);
	if (!root)
		return -1;
	int r;
	if (!json_is_object(root))
		r = gr__fail(&c, "expected an object, got %s", gr__json_kind(root));
	else
		r = gr__parse_process(&c, root, out);
	json_decref(root);
	return r;
}

const struct gr_oci_namespace *gr_oci_config_ns(const struct gr_oci_config *cfg, enum gr_ns_type t)
{
	for (size_t i = 0; cfg && i < cfg->n_namespaces; i++)
		if (cfg->namespaces[i].type == t)
			return &cfg->namespaces[i];
	return NULL;
}

void gr_oci_config_free(struct gr_oci_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->oci_version);
	gr_oci_process_free(cfg->process);
	free(cfg->root_path);
	free(cfg->hostname);
	free(cfg->domainname);
	for (size_t i = 0; cfg->mounts && i < cfg->n_mounts; i++)
		gr__mount_clear(&cfg->mounts[i]);
	free(cfg->mounts);
	for (int k = 0; k < GR_HOOK_NKINDS; k++) {
		for (size_t i = 0; cfg->hooks[k] && i < cfg->n_hooks[k]; i++)
			gr__hook_clear(&cfg->hooks[k][i]);
		free(cfg->hooks[k]);
	}
	gr__kv_free(cfg->annotations, cfg->n_annotations);
	for (size_t i = 0; cfg->namespaces && i < cfg->n_namespaces; i++)
		free(cfg->namespaces[i].path);
	free(cfg->namespaces);
	free(cfg->uid_mappings);
	free(cfg->gid_mappings);
	for (size_t i = 0; cfg->devices && i < cfg->n_devices; i++)
		free(cfg->devices[i].path);
	free(cfg->devices);
	free(cfg->cgroups_path);
	gr__resources_clear(&cfg->resources);
	gr__seccomp_free(cfg->seccomp);
	gr__kv_free(cfg->sysctl, cfg->n_sysctl);
	gr_strv_free(cfg->masked_paths);
	gr_strv_free(cfg->readonly_paths);
	free(cfg->mount_label);
	free(cfg);
}
