/*
 * cmd_config.c - `gureum config show|get|set`: an instance's settings.
 * show prints them (the instance document without its lifecycle fields),
 * get prints one (also env.K and options.K), set changes them through
 * PATCH /v1/instances/NAME/config: KEY=VALUE for memory, cpu, pids, restart,
 * ephemeral; --env K=V replaces or adds one variable (the list is read,
 * changed and written back whole, as the API takes it); --option K=V sends
 * {"options": {K: V}}, which the daemon merges key by key (null removes).
 * net.limit, net.limit.in and net.limit.out (network rate limits) go to
 * PUT /v1/instances/NAME/net-limit and are read from GET of the same.
 */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

static const char *usage_config =
	"usage: gureum config show NAME [--format yaml|json]\n"
	"       gureum config get NAME KEY [--format table|json|yaml]\n"
	"       gureum config set NAME [KEY=VALUE...] [--env K=V]... [--option K=V]...\n"
	"\n"
	"Settings: memory (e.g. 512M), cpu (CPUs), pids, restart (always|on-failure|no) and\n"
	"ephemeral (true|false) are set with KEY=VALUE; env and options with --env and\n"
	"--option; image, type, class and cmd are fixed when the instance is created.\n"
	"memory/cpu/pids apply at once to a running instance; the rest at its next start.\n"
	"  --env K=V      set variable K of the instance's environment: replaces K or adds\n"
	"                 it, the other variables stay (repeatable)\n"
	"  --option K=V   set key K of the driver options (VMs: machine, accel, cpus, hostname,\n"
	"                 ssh_keys, address, gateway, tap, mac, runas); VALUE is taken as JSON\n"
	"                 when it parses as JSON (2, true, [\"a\"]), else as a string; K=null\n"
	"                 removes the key (repeatable)\n"
	"net.limit=RATE sets the rate limit of each NIC both ways, net.limit.in=RATE towards\n"
	"the instance, net.limit.out=RATE from it (RATE: 10mbit, 500kbit, 1gbit; none or 0\n"
	"removes it; VMs: net.limit.in only); applied at once to a running instance and\n"
	"again at each start.  get net.limit prints in and out.\n"
	"get KEY also takes env.K (the value of variable K) and options.K; an unset one\n"
	"prints an empty line.  Arrays print one entry a line.\n";

static const char *const settings[] = { "image", "type", "class", "cpu", "memory", "pids", "env",
					 "cmd", "ephemeral", "privileged", "restart", "options", NULL };

static bool is_setting(const char *k)
{
	for (int i = 0; settings[i]; i++)
		if (!strcmp(settings[i], k))
			return true;
	return false;
}

static json_t *get_instance(const char *name)
{
	_cleanup_free_ char *path = xasprintf("/v1/instances/%s", name);
	json_t *doc = NULL;
	if (gr_cli_call("GET", path, NULL, &doc))
		return NULL;
	return doc;
}

static int cmd_show(const char *name, enum gr_cli_fmt fmt)
{
	json_t *doc = get_instance(name);
	if (!doc)
		return 1;
	json_t *out = json_object();
	for (int i = 0; settings[i]; i++) {
		json_t *v = json_object_get(doc, settings[i]);
		if (v)
			json_object_set(out, settings[i], v);
	}
	gr_cli_print(out, fmt);
	json_decref(out);
	json_decref(doc);
	return 0;
}

/* The value of variable k in an env array, or NULL. */
static json_t *env_value(json_t *env, const char *k)
{
	size_t n = strlen(k), i;
	json_t *e;
	json_array_foreach(env, i, e) {
		const char *s = json_string_value(e);
		if (s && !strncmp(s, k, n) && s[n] == '=')
			return json_string(s + n + 1);
	}
	return NULL;
}

static void print_value(json_t *v, enum gr_cli_fmt fmt)
{
	if (fmt != GR_FMT_TABLE) {
		gr_cli_print(v ? v : json_null(), fmt);
		return;
	}
	if (!v || json_is_null(v)) {
		printf("\n");
	} else if (json_is_string(v)) {
		printf("%s\n", json_string_value(v));
	} else if (json_is_array(v)) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			char *s = json_is_string(e) ? NULL : json_dumps(e, JSON_ENCODE_ANY | JSON_COMPACT);
			printf("%s\n", s ? s : json_string_value(e));
			free(s);
		}
	} else {
		char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		printf("%s\n", s);
		free(s);
	}
}

static bool is_net_limit(const char *k)
{
	return !strcmp(k, "net.limit") || !strcmp(k, "net.limit.in") || !strcmp(k, "net.limit.out");
}

static int cmd_get(const char *name, const char *key, enum gr_cli_fmt fmt)
{
	if (is_net_limit(key)) {
		_cleanup_free_ char *path = xasprintf("/v1/instances/%s/net-limit", name);
		json_t *doc = NULL;
		if (gr_cli_call("GET", path, NULL, &doc))
			return 1;
		if (!strcmp(key, "net.limit")) {
			json_object_del(doc, "instance");
			if (fmt == GR_FMT_TABLE)
				fmt = GR_FMT_YAML;
			gr_cli_print(doc, fmt);
		} else
			print_value(json_object_get(doc, key[10] == 'i' ? "in" : "out"), fmt);
		json_decref(doc);
		return 0;
	}
	const char *dot = strchr(key, '.');
	_cleanup_free_ char *top = dot ? xstrndup(key, (size_t)(dot - key)) : xstrdup(key);
	bool sub_ok = !dot || ((!strcmp(top, "env") || !strcmp(top, "options")) && dot[1]);
	if (!is_setting(top) || !sub_ok)
		return gr_cli_usage(usage_config, "config get: '%s' is not a setting (%s)", key,
				    "image, type, class, cpu, memory, pids, env, env.K, cmd, ephemeral, "
				    "privileged, restart, options, options.K");
	json_t *doc = get_instance(name);
	if (!doc)
		return 1;
	json_t *v = json_object_get(doc, top), *owned = NULL;
	if (dot && !strcmp(top, "env"))
		v = owned = env_value(v, dot + 1);
	else if (dot)
		v = json_object_get(v, dot + 1);
	print_value(v, fmt);
	json_decref(owned);
	json_decref(doc);
	return 0;
}

/* KEY=VALUE for a scalar setting: the JSON value the API takes. */
static json_t *scalar_value(const char *key, const char *v)
{
	char *end;
	if (!strcmp(key, "cpu")) {
		double d = strtod(v, &end);
		return *end || !*v ? json_string(v) : json_real(d);
	}
	if (!strcmp(key, "pids")) {
		long long n = strtoll(v, &end, 10);
		return *end || !*v ? json_string(v) : json_integer(n);
	}
	if (!strcmp(key, "ephemeral"))
		return !strcmp(v, "true") ? json_true() : !strcmp(v, "false") ? json_false() : json_string(v);
	return json_string(v);
}

/* env with K=V put in place of K's entry, or appended. */
static void env_put(json_t *env, const char *kv)
{
	size_t n = (size_t)(strchr(kv, '=') - kv), i;
	json_t *e;
	json_array_foreach(env, i, e) {
		const char *s = json_string_value(e);
		if (s && !strncmp(s, kv, n) && s[n] == '=') {
			json_array_set_new(env, i, json_string(kv));
			return;
		}
	}
	json_array_append_new(env, json_string(kv));
}

static int cmd_set(int argc, char **argv, const char *name)
{
	json_t *body = json_object(), *envs = json_array(), *opts = json_object(), *limits = json_object();
	_cleanup_free_ char *path = xasprintf("/v1/instances/%s/config", name);
	int rc = 2;
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i];
		bool is_env = !strcmp(a, "--env"), is_opt = !strcmp(a, "--option");
		if (is_env || is_opt) {
			if (i + 1 >= argc) {
				gr_cli_usage(usage_config, "%s needs K=V", a);
				goto out;
			}
			const char *kv = argv[++i], *eq = strchr(kv, '=');
			if (!eq || eq == kv) {
				gr_cli_usage(usage_config, "%s: '%s' is not KEY=VALUE", a, kv);
				goto out;
			}
			if (is_env) {
				json_array_append_new(envs, json_string(kv));
				continue;
			}
			_cleanup_free_ char *k = xstrndup(kv, (size_t)(eq - kv));
			json_t *v = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
			json_object_set_new(opts, k, v ? v : json_string(eq + 1));
			continue;
		}
		const char *eq = strchr(a, '=');
		if (a[0] == '-' || !eq || eq == a) {
			gr_cli_usage(usage_config, "config set: '%s' is not KEY=VALUE, --env K=V or --option K=V", a);
			goto out;
		}
		_cleanup_free_ char *key = xstrndup(a, (size_t)(eq - a));
		if (!strcmp(key, "env") || !strcmp(key, "options")) {
			gr_cli_usage(usage_config, "config set: %s is changed with --%s K=V", key,
				     !strcmp(key, "env") ? "env" : "option");
			goto out;
		}
		if (is_net_limit(key)) {
			json_object_set_new(limits, !strcmp(key, "net.limit") ? "limit" : key + 10, json_string(eq + 1));
			continue;
		}
		json_object_set_new(body, key, scalar_value(key, eq + 1));
	}
	if (json_object_size(limits)) {
		_cleanup_free_ char *lp = xasprintf("/v1/instances/%s/net-limit", name);
		rc = 1;
		if (gr_cli_call("PUT", lp, limits, NULL))
			goto out;
		rc = 0;
		if (!json_object_size(body) && !json_array_size(envs) && !json_object_size(opts))
			goto out;
	}
	if (!json_object_size(body) && !json_array_size(envs) && !json_object_size(opts)) {
		gr_cli_usage(usage_config, "config set: expected KEY=VALUE, --env K=V or --option K=V");
		goto out;
	}
	rc = 1;
	if (json_array_size(envs)) {
		/* the API takes the whole list: read it, change it, send it back */
		json_t *doc = get_instance(name);
		if (!doc)
			goto out;
		json_t *env = json_deep_copy(json_object_get(doc, "env"));
		json_decref(doc);
		if (!json_is_array(env)) {
			json_decref(env);
			env = json_array();
		}
		size_t i;
		json_t *e;
		json_array_foreach(envs, i, e)
			env_put(env, json_string_value(e));
		json_object_set_new(body, "env", env);
	}
	if (json_object_size(opts))
		json_object_set(body, "options", opts);
	rc = gr_cli_call("PATCH", path, body, NULL);
out:
	json_decref(limits);
	json_decref(opts);
	json_decref(envs);
	json_decref(body);
	return rc;
}

int gr_cmd_config(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_config))
		return 0;
	if (argc < 2)
		return gr_cli_usage(usage_config, "config: expected show, get or set");
	const char *sub = argv[1];
	bool is_show = !strcmp(sub, "show"), is_get = !strcmp(sub, "get"), is_set = !strcmp(sub, "set");
	if (!is_show && !is_get && !is_set)
		return gr_cli_usage(usage_config, "config: unknown subcommand '%s' (show, get or set)", sub);
	if (argc < 3 || argv[2][0] == '-')
		return gr_cli_usage(usage_config, "config %s: expected NAME", sub);
	const char *name = argv[2];
	if (!gr_cli_name_ok("name", name))
		return 2;
	if (is_set)
		return cmd_set(argc, argv, name);
	enum gr_cli_fmt fmt = is_show ? GR_FMT_YAML : GR_FMT_TABLE;
	const char *key = NULL;
	for (int i = 3; i < argc; i++) {
		int f = gr_cli_format_flag(argc, argv, &i, &fmt, usage_config);
		if (f < 0)
			return 2;
		if (f)
			continue;
		if (argv[i][0] == '-' || is_show || key)
			return gr_cli_usage(usage_config, "config %s: unexpected '%s'", sub, argv[i]);
		key = argv[i];
	}
	if (is_show)
		return cmd_show(name, fmt);
	if (!key)
		return gr_cli_usage(usage_config, "config get: expected NAME KEY");
	return cmd_get(name, key, fmt);
}
