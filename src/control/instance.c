/*
 * instance.c - the instance document: validating outside input (API bodies,
 * config changes) into it, and turning it into a driver spec.
 *
 * A document holds: name, type, class, backend, backend_reason (backend.c),
 * image, cpu, memory (bytes), pids, env (array
 * of "K=V"), cmd (array or null), ephemeral, restart (no|always|on-failure),
 * options (driver-specific object), plus the lifecycle fields the state
 * machine writes: state, op, pid, exit_code, restart_count, created, error.
 * Validation never touches the store; every message names the field.
 */
#include "control/control-internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "util/alloc.h"

int gr_name_valid(const char *field, const char *name, gr_error_t *err)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0)
		return gr_error_set(err, EINVAL, "%s: must not be empty", field);
	if (n > 63)
		return gr_error_set(err, EINVAL, "%s: '%.70s' is longer than 63 characters", field, name);
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		bool okc = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || (ch == '-' && i > 0);
		if (!okc)
			return gr_error_set(err, EINVAL,
					    "%s: '%.70s' may only hold a-z, 0-9 and '-' (not first)",
					    field, name);
	}
	if (name[n - 1] == '-')
		return gr_error_set(err, EINVAL, "%s: '%s' must not end with '-'", field, name);
	return 0;
}

int gr_parse_size(const char *field, const char *s, uint64_t *out, gr_error_t *err)
{
	if (!s || !isdigit((unsigned char)*s))
		return gr_error_set(err, EINVAL, "%s: '%s' is not a size (e.g. 512M, 2G)", field,
				    s ? s : "");
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return gr_error_set(err, EINVAL, "%s: '%s' is too large", field, s);
	unsigned shift = 0;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		case 'T': shift = 40; break;
		default:
			return gr_error_set(err, EINVAL, "%s: '%s' has an unknown unit (K, M, G, T)",
					    field, s);
		}
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
		if (*end)
			return gr_error_set(err, EINVAL, "%s: '%s' has trailing characters", field, s);
	}
	if (shift && v > (UINT64_MAX >> shift))
		return gr_error_set(err, EINVAL, "%s: '%s' is too large", field, s);
	*out = (uint64_t)v << shift;
	return 0;
}

static int check_strv(const char *field, json_t *v, bool env, gr_error_t *err)
{
	if (!json_is_array(v))
		return gr_error_set(err, EINVAL, "%s: expected an array of strings", field);
	if (json_array_size(v) > 1024)
		return gr_error_set(err, EINVAL, "%s: more than 1024 entries", field);
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return gr_error_set(err, EINVAL, "%s[%zu]: expected a string", field, i);
		const char *s = json_string_value(e);
		if (strlen(s) != json_string_length(e))
			return gr_error_set(err, EINVAL, "%s[%zu]: contains a NUL byte", field, i);
		if (env) {
			const char *eq = strchr(s, '=');
			if (!eq || eq == s)
				return gr_error_set(err, EINVAL, "%s[%zu]: expected KEY=VALUE", field, i);
		}
	}
	return 0;
}

/* Validate one settable field into doc (copying value). */
static int set_field(json_t *doc, const char *key, json_t *v, bool creating, gr_error_t *err)
{
	if (!strcmp(key, "cpu")) {
		if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1024)
			return gr_error_set(err, EINVAL, "cpu: expected a number of CPUs from 0 to 1024");
		json_object_set_new(doc, key, json_real(json_number_value(v)));
	} else if (!strcmp(key, "memory")) {
		uint64_t bytes;
		if (json_is_integer(v) && json_integer_value(v) >= 0)
			bytes = (uint64_t)json_integer_value(v);
		else if (json_is_string(v)) {
			if (gr_parse_size("memory", json_string_value(v), &bytes, err) < 0)
				return -1;
		} else
			return gr_error_set(err, EINVAL, "memory: expected a size (\"512M\") or bytes");
		if (bytes && bytes < (4u << 20))
			return gr_error_set(err, EINVAL, "memory: at least 4M (or 0 for no limit)");
		if (bytes > (uint64_t)INT64_MAX) /* stored as a JSON integer (signed 64 bits) */
			return gr_error_set(err, EINVAL, "memory: too large (at most 2^63-1 bytes)");
		json_object_set_new(doc, key, json_integer((json_int_t)bytes));
	} else if (!strcmp(key, "pids")) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 4194304)
			return gr_error_set(err, EINVAL, "pids: expected an integer from 0 to 4194304");
		json_object_set(doc, key, v);
	} else if (!strcmp(key, "env")) {
		if (check_strv("env", v, true, err) < 0)
			return -1;
		json_object_set_new(doc, key, json_deep_copy(v));
	} else if (!strcmp(key, "cmd") && creating) {
		if (!json_is_null(v)) {
			if (check_strv("cmd", v, false, err) < 0)
				return -1;
			if (json_array_size(v) == 0)
				return gr_error_set(err, EINVAL, "cmd: must not be empty");
		}
		json_object_set_new(doc, key, json_deep_copy(v));
	} else if (!strcmp(key, "ephemeral")) {
		if (!json_is_boolean(v))
			return gr_error_set(err, EINVAL, "ephemeral: expected true or false");
		json_object_set(doc, key, v);
	} else if (!strcmp(key, "restart")) {
		const char *s = json_string_value(v);
		if (!s || (strcmp(s, "no") && strcmp(s, "always") && strcmp(s, "on-failure")))
			return gr_error_set(err, EINVAL, "restart: expected \"no\", \"always\" or \"on-failure\"");
		json_object_set(doc, key, v);
	} else if (!strcmp(key, "options") && creating) {
		if (!json_is_object(v))
			return gr_error_set(err, EINVAL, "options: expected an object");
		json_object_set_new(doc, key, json_deep_copy(v));
	} else if (!creating && (!strcmp(key, "class") || !strcmp(key, "type") ||
				 !strcmp(key, "image") || !strcmp(key, "name"))) {
		return gr_error_set(err, EINVAL, "%s: fixed when the instance is created", key);
	} else {
		return gr_error_set(err, EINVAL, "%s: unknown field", key);
	}
	return 0;
}

int gr__inst_from_request(json_t *req, json_t **out, gr_error_t *err)
{
	if (!json_is_object(req))
		return gr_error_set(err, EINVAL, "body: expected a JSON object");
	json_t *name = json_object_get(req, "name");
	if (!name)
		return gr_error_set(err, EINVAL, "name: required");
	if (!json_is_string(name))
		return gr_error_set(err, EINVAL, "name: expected a string");
	if (gr_name_valid("name", json_string_value(name), err) < 0)
		return -1;
	json_t *image = json_object_get(req, "image");
	if (!image)
		return gr_error_set(err, EINVAL, "image: required");
	if (!json_is_string(image) || !gr_image_name_valid(json_string_value(image)))
		return gr_error_set(err, EINVAL, "image: expected an image name ([a-z0-9][a-z0-9._-]*)");
	json_t *type = json_object_get(req, "type");
	if (type && !json_is_string(type))
		return gr_error_set(err, EINVAL, "type: expected \"container\" or \"vm\"");
	json_t *cls = json_object_get(req, "class");
	if (cls && !json_is_string(cls))
		return gr_error_set(err, EINVAL, "class: expected \"critical\" or \"elastic\"");
	struct gr__backend b;
	if (gr__backend_choose(json_string_value(cls), json_string_value(type), &b, err) < 0)
		return -1;
	_cleanup_free_ char *backend = xasprintf("%s (%s)", b.type, b.reason);
	json_t *doc = json_pack("{s:O,s:O,s:s,s:s,s:s,s:s,s:f,s:i,s:i,s:[],s:n,s:b,s:s,s:{}}",
				"name", name, "image", image, "type", b.type, "class", b.cls,
				"backend_reason", b.reason, "backend", backend,
				"cpu", 0.0, "memory", 0, "pids", 0, "env", "cmd", "ephemeral", 0,
				"restart", "no", "options");
	const char *key;
	json_t *v;
	json_object_foreach(req, key, v) {
		if (!strcmp(key, "name") || !strcmp(key, "image") || !strcmp(key, "type") ||
		    !strcmp(key, "class"))
			continue;
		if (set_field(doc, key, v, true, err) < 0) {
			json_decref(doc);
			return -1;
		}
	}
	json_object_set_new(doc, "created", json_integer((json_int_t)time(NULL)));
	json_object_set_new(doc, "restart_count", json_integer(0));
	json_object_set_new(doc, "pid", json_integer(0));
	json_object_set_new(doc, "exit_code", json_null());
	*out = doc;
	return 0;
}

int gr__inst_apply_config(const json_t *doc, json_t *changes, json_t **merged, gr_error_t *err)
{
	if (!json_is_object(changes) || json_object_size(changes) == 0)
		return gr_error_set(err, EINVAL, "body: expected an object with at least one field");
	json_t *m = json_deep_copy(doc);
	const char *key;
	json_t *v;
	json_object_foreach(changes, key, v)
		if (set_field(m, key, v, false, err) < 0) {
			json_decref(m);
			return -1;
		}
	*merged = m;
	return 0;
}

const struct gr_driver_ops *gr__driver_of(const json_t *doc, gr_error_t *err)
{
	const char *type = json_string_value(json_object_get(doc, "type"));
	const struct gr_driver_ops *d = gr_driver_lookup(type ? type : "container");
	if (!d)
		gr_error_set(err, EOPNOTSUPP, "type: no '%s' driver in this build", type ? type : "?");
	return d;
}

static char **strv_of(const json_t *arr)
{
	if (!json_is_array(arr))
		return NULL;
	char **v = xcalloc(json_array_size(arr) + 1, sizeof *v);
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
		v[i] = xstrdup(json_string_value(e) ? json_string_value(e) : "");
	return v;
}

void gr__spec_from_doc(struct gr_control *c, const json_t *doc, struct gr__spec_holder *h)
{
	memset(h, 0, sizeof *h);
	const char *name = json_string_value(json_object_get(doc, "name"));
	const char *type = json_string_value(json_object_get(doc, "type"));
	const char *image = json_string_value(json_object_get(doc, "image"));
	h->name = xstrdup(name ? name : "_");
	h->type = xstrdup(type ? type : "container");
	h->image = xstrdup(image ? image : "");
	h->dir = xasprintf("%s/%s", c->inst_dir, h->name);
	h->env = strv_of(json_object_get(doc, "env"));
	h->cmd = strv_of(json_object_get(doc, "cmd"));
	json_t *opt = json_object_get(doc, "options");
	h->extra = opt ? json_dumps(opt, JSON_COMPACT) : NULL;
	h->spec = (struct gr_inst_spec){
		.name = h->name,
		.type = h->type,
		.image = h->image,
		.dir = h->dir,
		.cpu = json_number_value(json_object_get(doc, "cpu")),
		.memory = (uint64_t)json_integer_value(json_object_get(doc, "memory")),
		.pids = json_integer_value(json_object_get(doc, "pids")),
		.env = h->env,
		.cmd = h->cmd,
		.ephemeral = json_is_true(json_object_get(doc, "ephemeral")),
		.extra_json = h->extra,
	};
}

void gr__spec_clear(struct gr__spec_holder *h)
{
	free(h->dir);
	free(h->name);
	free(h->type);
	free(h->image);
	gr_strv_free(h->env);
	gr_strv_free(h->cmd);
	free(h->extra);
	memset(h, 0, sizeof *h);
}
