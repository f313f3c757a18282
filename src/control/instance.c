/*
 * instance.c - the typed instance (instance.h): names of states and enums,
 * the transition table, validation of outside input (create bodies, config
 * changes) and the one JSON codec of the record.
 *
 * The record's JSON shape (docs/API.md "Instances"): name, image, type,
 * class, backend ("TYPE (REASON)"), backend_reason, cpu, memory (bytes),
 * pids, env, cmd (array or null), ephemeral, privileged, restart, options, state, op
 * ({"id","kind"} or null), pid, exit_code (or null), restart_count, created,
 * updated, host (or null), error (or null), pending (or null: the queued
 * request of a pending instance, pending.c).  Decoding is strict on what the
 * state machine relies on (name, state, type) and names the bad field.
 * Validation never touches the store; every message names the field.
 */
#include "control/control-internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "util/alloc.h"

_Atomic unsigned long long gr__inst_decodes;

static const char *const state_names[GR_ST__COUNT] = {
	[GR_ST_DEFINING] = "defining", [GR_ST_DEFINED] = "defined", [GR_ST_STARTING] = "starting",
	[GR_ST_RUNNING] = "running",   [GR_ST_STOPPING] = "stopping", [GR_ST_STOPPED] = "stopped",
	[GR_ST_DELETING] = "deleting", [GR_ST_PENDING] = "pending",
};

const char *gr__state_name(enum gr_inst_state st)
{
	return (unsigned)st < GR_ST__COUNT ? state_names[st] : "?";
}

int gr__state_parse(const char *s)
{
	for (int i = 0; s && i < GR_ST__COUNT; i++)
		if (!strcmp(s, state_names[i]))
			return i;
	return -1;
}

const char *gr__class_name(enum gr_inst_class c)
{
	return c == GR_CLASS_CRITICAL ? "critical" : "elastic";
}

const char *gr__backend_name(enum gr_backend b)
{
	const struct gr_driver_ops *d = gr_driver_of(b);
	return d ? d->name : "?";
}

const char *gr__restart_name(enum gr_restart_policy p)
{
	return p == GR_RESTART_ALWAYS ? "always" : p == GR_RESTART_ON_FAILURE ? "on-failure" : "no";
}

/*
 * The transition table, the only place a state change is allowed.
 *   defining -> defined              define done
 *   defining -> starting             a launch goes on to start right away
 *   defined|stopped -> starting      start
 *   starting -> running | stopped    started / failed (rolled back)
 *   running -> stopping | stopped    stop / died
 *   stopping -> stopped | running    stopped / stop failed, it still runs
 *   defined|stopped -> deleting      delete (a running one is stopped first)
 *   resting -> itself                config changes, restart bookkeeping
 *   pending -> defining              the chosen host claims a queued instance
 *                                    (pending.c; the leader's assignment
 *                                    rewrites a pending record, no move)
 * (defining, deleting and pending end with the record's removal, not a
 * transition.)
 */
bool gr__state_may(enum gr_inst_state from, enum gr_inst_state to)
{
	static const unsigned allowed[GR_ST__COUNT] = {
#define B(s) (1u << (s))
		[GR_ST_DEFINING] = B(GR_ST_DEFINED) | B(GR_ST_STARTING),
		[GR_ST_DEFINED] = B(GR_ST_DEFINED) | B(GR_ST_STARTING) | B(GR_ST_DELETING),
		[GR_ST_STARTING] = B(GR_ST_RUNNING) | B(GR_ST_STOPPED),
		[GR_ST_RUNNING] = B(GR_ST_RUNNING) | B(GR_ST_STOPPING) | B(GR_ST_STOPPED),
		[GR_ST_STOPPING] = B(GR_ST_STOPPED) | B(GR_ST_RUNNING),
		[GR_ST_STOPPED] = B(GR_ST_STOPPED) | B(GR_ST_STARTING) | B(GR_ST_DELETING),
		[GR_ST_DELETING] = B(GR_ST_DELETING),
		[GR_ST_PENDING] = B(GR_ST_DEFINING),
#undef B
	};
	return (unsigned)from < GR_ST__COUNT && (unsigned)to < GR_ST__COUNT &&
	       (allowed[from] & (1u << to));
}

void gr__inst_clear(struct gr_instance *in)
{
	gr_strv_free(in->env);
	gr_strv_free(in->cmd);
	json_decref(in->options);
	free(in->error);
	json_decref(in->pending);
	memset(in, 0, sizeof *in);
}

void gr__inst_copy(struct gr_instance *dst, const struct gr_instance *src)
{
	*dst = *src;
	dst->env = src->env ? gr_strv_dup(src->env) : NULL;
	dst->cmd = src->cmd ? gr_strv_dup(src->cmd) : NULL;
	dst->options = src->options ? json_deep_copy(src->options) : json_object();
	dst->error = src->error ? xstrdup(src->error) : NULL;
	dst->pending = src->pending ? json_deep_copy(src->pending) : NULL;
}

void gr__inst_set_error(struct gr_instance *in, const char *fmt, ...)
{
	free(in->error);
	in->error = NULL;
	if (!fmt)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&in->error, fmt, ap) < 0)
		abort();
	va_end(ap);
}

/* ---- names and sizes ---- */

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

/* ---- validation of outside input ---- */

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

static char **strv_of(const json_t *arr)
{
	char **v = xcalloc(json_array_size(arr) + 1, sizeof *v);
	size_t i;
	json_t *e;
	json_array_foreach(arr, i, e)
		v[i] = xstrdup(json_string_value(e) ? json_string_value(e) : "");
	return v;
}

/* "nics": [{"network": NAME, "ip": "a.b.c.d" (optional)}]: the shape only;
 * network.c checks the networks and takes the addresses. */
static int set_nics(struct gr_instance *in, json_t *v, gr_error_t *err)
{
	if (!json_is_array(v) || json_array_size(v) > GR_NET_NICS_MAX)
		return gr_error_set(err, EINVAL, "nics: expected an array of at most %d {\"network\", "
				    "\"ip\"} objects", GR_NET_NICS_MAX);
	memset(in->nics, 0, sizeof in->nics);
	in->n_nics = 0;
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		struct gr_net_nic *n = &in->nics[i];
		if (!json_is_object(e))
			return gr_error_set(err, EINVAL, "nics[%zu]: expected an object", i);
		const char *k;
		json_t *f;
		json_object_foreach(e, k, f)
			if (strcmp(k, "network") && strcmp(k, "ip"))
				return gr_error_set(err, EINVAL, "nics[%zu].%s: unknown field (network, ip)",
						    i, k);
		const char *net = json_string_value(json_object_get(e, "network"));
		if (!net)
			return gr_error_set(err, EINVAL, "nics[%zu].network: required (a network name)", i);
		char field[32];
		snprintf(field, sizeof field, "nics[%zu].network", i);
		if (gr_name_valid(field, net, err) < 0)
			return -1;
		snprintf(n->network, sizeof n->network, "%s", net);
		json_t *ip = json_object_get(e, "ip");
		if (ip && !json_is_null(ip)) {
			if (!json_is_string(ip))
				return gr_error_set(err, EINVAL, "ip: expected an IPv4 address string");
			if (gr_net_ip_parse("ip", json_string_value(ip), &n->ip, err) < 0)
				return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(in->nics[j].network, net))
				return gr_error_set(err, EINVAL, "nics[%zu].network: '%s' is given twice", i,
						    net);
		in->n_nics = (unsigned)i + 1;
	}
	return 0;
}

static json_t *nics_json(const struct gr_instance *in)
{
	json_t *a = json_array();
	for (unsigned i = 0; i < in->n_nics; i++) {
		const struct gr_net_nic *n = &in->nics[i];
		char ip[GR_NET_IP_MAX], sub[GR_NET_CIDR_MAX], eth[16];
		snprintf(eth, sizeof eth, "eth%u", i);
		json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "network", n->network,
						   "name", eth, "bridge", n->bridge, "mac", n->mac, "ip",
						   gr_net_ip_format(n->ip, ip), "subnet",
						   gr_net_cidr_format(&n->subnet, sub)));
	}
	return a;
}

static int nics_from(const json_t *v, struct gr_instance *out)
{
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v) || json_array_size(v) > GR_NET_NICS_MAX)
		return -1;
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e) {
		struct gr_net_nic *n = &out->nics[i];
		const char *net = json_string_value(json_object_get(e, "network"));
		const char *br = json_string_value(json_object_get(e, "bridge"));
		const char *mac = json_string_value(json_object_get(e, "mac"));
		const char *ip = json_string_value(json_object_get(e, "ip"));
		const char *sub = json_string_value(json_object_get(e, "subnet"));
		if (!net || !br || !mac || !ip || !sub || strlen(net) >= sizeof n->network ||
		    strlen(br) >= sizeof n->bridge || strlen(mac) >= sizeof n->mac ||
		    gr_net_ip_parse("ip", ip, &n->ip, NULL) < 0 ||
		    gr_net_cidr_parse("subnet", sub, &n->subnet, NULL) < 0)
			return -1;
		snprintf(n->network, sizeof n->network, "%s", net);
		snprintf(n->bridge, sizeof n->bridge, "%s", br);
		snprintf(n->mac, sizeof n->mac, "%s", mac);
		out->n_nics = (unsigned)i + 1;
	}
	return 0;
}

/* Validate one settable field into in. */
static int set_field(struct gr_instance *in, const char *key, json_t *v, bool creating,
		     gr_error_t *err)
{
	if (!strcmp(key, "cpu")) {
		if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 1024)
			return gr_error_set(err, EINVAL, "cpu: expected a number of CPUs from 0 to 1024");
		in->cpu = json_number_value(v);
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
		in->memory = bytes;
	} else if (!strcmp(key, "pids")) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 4194304)
			return gr_error_set(err, EINVAL, "pids: expected an integer from 0 to 4194304");
		in->pids = json_integer_value(v);
	} else if (!strcmp(key, "env")) {
		if (check_strv("env", v, true, err) < 0)
			return -1;
		gr_strv_free(in->env);
		in->env = strv_of(v);
	} else if (!strcmp(key, "cmd") && creating) {
		if (!json_is_null(v)) {
			if (check_strv("cmd", v, false, err) < 0)
				return -1;
			if (json_array_size(v) == 0)
				return gr_error_set(err, EINVAL, "cmd: must not be empty");
		}
		gr_strv_free(in->cmd);
		in->cmd = json_is_null(v) ? NULL : strv_of(v);
	} else if (!strcmp(key, "ephemeral")) {
		if (!json_is_boolean(v))
			return gr_error_set(err, EINVAL, "ephemeral: expected true or false");
		in->ephemeral = json_is_true(v);
	} else if (!strcmp(key, "privileged") && creating) {
		if (!json_is_boolean(v))
			return gr_error_set(err, EINVAL, "privileged: expected true or false");
		in->privileged = json_is_true(v);
	} else if (!strcmp(key, "nics") && creating) {
		return set_nics(in, v, err);
	} else if (!strcmp(key, "restart")) {
		const char *s = json_string_value(v);
		if (!s || (strcmp(s, "no") && strcmp(s, "always") && strcmp(s, "on-failure")))
			return gr_error_set(err, EINVAL, "restart: expected \"no\", \"always\" or \"on-failure\"");
		in->restart = !strcmp(s, "always") ? GR_RESTART_ALWAYS
			      : !strcmp(s, "on-failure") ? GR_RESTART_ON_FAILURE : GR_RESTART_NO;
	} else if (!strcmp(key, "options")) {
		if (!json_is_object(v))
			return gr_error_set(err, EINVAL, "options: expected an object");
		if (creating) {
			json_decref(in->options);
			in->options = json_deep_copy(v);
		} else {
			/* a change merges key by key; null removes a key */
			const char *k;
			json_t *o;
			json_object_foreach(v, k, o) {
				if (json_is_null(o))
					json_object_del(in->options, k);
				else
					json_object_set_new(in->options, k, json_deep_copy(o));
			}
		}
	} else if (!creating && (!strcmp(key, "class") || !strcmp(key, "type") ||
				 !strcmp(key, "image") || !strcmp(key, "name") || !strcmp(key, "cmd") ||
				 !strcmp(key, "privileged") || !strcmp(key, "nics"))) {
		return gr_error_set(err, EINVAL, "%s: fixed when the instance is created", key);
	} else {
		return gr_error_set(err, EINVAL, "%s: unknown field", key);
	}
	return 0;
}

int gr__inst_from_request(json_t *req, struct gr_instance *out, const char **cls,
			  const char **type, gr_error_t *err)
{
	memset(out, 0, sizeof *out);
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
	json_t *jt = json_object_get(req, "type");
	if (jt && (!json_is_string(jt) || !gr_driver_lookup(json_string_value(jt))))
		return gr_error_set(err, EINVAL, "type: expected \"container\" or \"vm\"");
	json_t *jc = json_object_get(req, "class");
	if (jc && (!json_is_string(jc) || (strcmp(json_string_value(jc), "critical") &&
					   strcmp(json_string_value(jc), "elastic"))))
		return gr_error_set(err, EINVAL, "class: expected \"critical\" or \"elastic\"");
	*cls = json_string_value(jc);
	*type = json_string_value(jt);
	snprintf(out->name, sizeof out->name, "%s", json_string_value(name));
	snprintf(out->image, sizeof out->image, "%s", json_string_value(image));
	out->env = xcalloc(1, sizeof *out->env);
	out->options = json_object();
	out->exit_code = -1;
	const char *key;
	json_t *v;
	json_object_foreach(req, key, v) {
		if (!strcmp(key, "name") || !strcmp(key, "image") || !strcmp(key, "type") ||
		    !strcmp(key, "class"))
			continue;
		if (set_field(out, key, v, true, err) < 0) {
			gr__inst_clear(out);
			return -1;
		}
	}
	out->created = out->updated = (int64_t)time(NULL);
	return 0;
}

int gr__inst_apply_config(const struct gr_instance *in, json_t *changes, struct gr_instance *out,
			  gr_error_t *err)
{
	if (!json_is_object(changes) || json_object_size(changes) == 0)
		return gr_error_set(err, EINVAL, "body: expected an object with at least one field");
	gr__inst_copy(out, in);
	const char *key;
	json_t *v;
	json_object_foreach(changes, key, v)
		if (set_field(out, key, v, false, err) < 0) {
			gr__inst_clear(out);
			return -1;
		}
	return 0;
}

/* ---- the codec ---- */

static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *gr__inst_to_json(const struct gr_instance *in)
{
	json_t *o = json_object();
	char backend[256];
	snprintf(backend, sizeof backend, "%s (%s)", gr__backend_name(in->backend), in->backend_reason);
	json_object_set_new(o, "name", json_string(in->name));
	json_object_set_new(o, "image", json_string(in->image));
	json_object_set_new(o, "type", json_string(gr__backend_name(in->backend)));
	json_object_set_new(o, "class", json_string(gr__class_name(in->cls)));
	json_object_set_new(o, "backend", json_string(backend));
	json_object_set_new(o, "backend_reason", json_string(in->backend_reason));
	json_object_set_new(o, "cpu", json_real(in->cpu));
	json_object_set_new(o, "memory", json_integer((json_int_t)in->memory));
	json_object_set_new(o, "pids", json_integer(in->pids));
	json_object_set_new(o, "env", strv_json(in->env));
	json_object_set_new(o, "cmd", in->cmd ? strv_json(in->cmd) : json_null());
	json_object_set_new(o, "ephemeral", json_boolean(in->ephemeral));
	json_object_set_new(o, "privileged", json_boolean(in->privileged));
	json_object_set_new(o, "restart", json_string(gr__restart_name(in->restart)));
	json_object_set_new(o, "options", in->options ? json_deep_copy(in->options) : json_object());
	json_object_set_new(o, "nics", nics_json(in));
	json_object_set_new(o, "state", json_string(gr__state_name(in->state)));
	json_object_set_new(o, "op", in->op_id[0] ? json_pack("{s:s,s:s}", "id", in->op_id, "kind",
							    in->op_kind)
					   : json_null());
	json_object_set_new(o, "pid", json_integer(in->pid));
	json_object_set_new(o, "exit_code", in->exit_code >= 0 ? json_integer(in->exit_code) : json_null());
	json_object_set_new(o, "restart_count", json_integer(in->restart_count));
	json_object_set_new(o, "created", json_integer(in->created));
	json_object_set_new(o, "updated", json_integer(in->updated));
	json_object_set_new(o, "host", in->host[0] ? json_string(in->host) : json_null());
	json_object_set_new(o, "error", in->error ? json_string(in->error) : json_null());
	json_object_set_new(o, "pending", in->state == GR_ST_PENDING && in->pending
					  ? json_deep_copy(in->pending) : json_null());
	return o;
}

char *gr__inst_encode(const struct gr_instance *in, size_t *len)
{
	json_t *o = gr__inst_to_json(in);
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		abort();
	if (len)
		*len = strlen(text);
	return text;
}

static int bad_field(gr_error_t *err, const char *name, const char *field)
{
	return gr_error_set(err, EBADMSG, "instance record %s: field '%s' is missing or malformed",
			    name ? name : "?", field);
}

static int copy_str(char *dst, size_t n, const json_t *v, bool nullable)
{
	if (nullable && (!v || json_is_null(v))) {
		dst[0] = '\0';
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) >= n)
		return -1;
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int strv_from(const json_t *v, char ***out, bool nullable)
{
	*out = NULL;
	if (nullable && (!v || json_is_null(v)))
		return 0;
	if (!json_is_array(v))
		return -1;
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e)
		if (!json_is_string(e))
			return -1;
	*out = strv_of(v);
	return 0;
}

int gr__inst_decode(const char *text, size_t len, struct gr_instance *out, gr_error_t *err)
{
	gr__inst_decodes++;
	memset(out, 0, sizeof *out);
	json_error_t je;
	json_t *o = json_loadb(text, len, 0, &je);
	if (!json_is_object(o)) {
		json_decref(o);
		return gr_error_set(err, EBADMSG, "instance record: not a JSON object: %s", je.text);
	}
	const char *name = json_string_value(json_object_get(o, "name"));
	int rc = -1;
	const char *type = json_string_value(json_object_get(o, "type"));
	const struct gr_driver_ops *d = gr_driver_lookup(type ? type : "container");
	int st = gr__state_parse(json_string_value(json_object_get(o, "state")));
	const char *cls = json_string_value(json_object_get(o, "class"));
	const char *restart = json_string_value(json_object_get(o, "restart"));
	json_t *op = json_object_get(o, "op");
	json_t *ec = json_object_get(o, "exit_code");
	if (copy_str(out->name, sizeof out->name, json_object_get(o, "name"), false) < 0 ||
	    gr_name_valid("name", out->name, NULL) < 0) {
		bad_field(err, name, "name");
		goto out;
	}
	if (copy_str(out->image, sizeof out->image, json_object_get(o, "image"), false) < 0) {
		bad_field(err, name, "image");
		goto out;
	}
	if (!d) {
		bad_field(err, name, "type");
		goto out;
	}
	if (st < 0) {
		bad_field(err, name, "state");
		goto out;
	}
	out->backend = d->backend;
	out->state = (enum gr_inst_state)st;
	out->cls = cls && !strcmp(cls, "critical") ? GR_CLASS_CRITICAL : GR_CLASS_ELASTIC;
	copy_str(out->backend_reason, sizeof out->backend_reason, json_object_get(o, "backend_reason"),
		 true);
	out->cpu = json_number_value(json_object_get(o, "cpu"));
	json_int_t mem = json_integer_value(json_object_get(o, "memory"));
	out->memory = mem > 0 ? (uint64_t)mem : 0;
	out->pids = json_integer_value(json_object_get(o, "pids"));
	if (strv_from(json_object_get(o, "env"), &out->env, true) < 0) {
		bad_field(err, name, "env");
		goto out;
	}
	if (!out->env)
		out->env = xcalloc(1, sizeof *out->env);
	if (strv_from(json_object_get(o, "cmd"), &out->cmd, true) < 0) {
		bad_field(err, name, "cmd");
		goto out;
	}
	out->ephemeral = json_is_true(json_object_get(o, "ephemeral"));
	/* records from before unprivileged containers ran privileged */
	json_t *priv = json_object_get(o, "privileged");
	out->privileged = priv ? json_is_true(priv) : true;
	out->restart = restart && !strcmp(restart, "always") ? GR_RESTART_ALWAYS
		       : restart && !strcmp(restart, "on-failure") ? GR_RESTART_ON_FAILURE : GR_RESTART_NO;
	if (nics_from(json_object_get(o, "nics"), out) < 0) {
		bad_field(err, name, "nics");
		goto out;
	}
	json_t *opts = json_object_get(o, "options");
	out->options = json_is_object(opts) ? json_incref(opts) : json_object();
	if (json_is_object(op)) {
		copy_str(out->op_id, sizeof out->op_id, json_object_get(op, "id"), true);
		copy_str(out->op_kind, sizeof out->op_kind, json_object_get(op, "kind"), true);
	}
	out->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
	out->exit_code = json_is_integer(ec) ? (int)json_integer_value(ec) : -1;
	out->restart_count = json_integer_value(json_object_get(o, "restart_count"));
	out->created = json_integer_value(json_object_get(o, "created"));
	out->updated = json_integer_value(json_object_get(o, "updated"));
	copy_str(out->host, sizeof out->host, json_object_get(o, "host"), true);
	const char *e = json_string_value(json_object_get(o, "error"));
	out->error = e ? xstrdup(e) : NULL;
	json_t *pend = json_object_get(o, "pending");
	if (out->state == GR_ST_PENDING) {
		if (!json_is_object(pend) || !json_is_object(json_object_get(pend, "request"))) {
			bad_field(err, name, "pending");
			goto out;
		}
		out->pending = json_incref(pend);
	}
	rc = 0;
out:
	json_decref(o);
	if (rc < 0)
		gr__inst_clear(out);
	return rc;
}
