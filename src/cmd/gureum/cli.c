/*
 * cli.c - helpers shared by the CLI's subcommands: help and usage texts,
 * error reporting with the exit-code rule (0 ok, 1 failed, 2 usage), the
 * request wrapper, output as table/json/yaml, operation waiting.
 *
 * Output rule: `--format json` prints the API's JSON untouched.  Everything
 * else is for people: tables, and show/yaml output of a gr_cli_humanize()d
 * copy, where every time (created, updated, time: epoch seconds in the API)
 * is RFC 3339 in local time and an instance's "host" is its "location".
 */
#include "commands.h"

#include <ctype.h>
#include <stdarg.h>
#include <strings.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/fs.h"

struct gr_client gr_cli;

bool gr_cli_wants_help(int argc, char **argv, const char *text)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(text, stdout);
			return true;
		}
	return false;
}

int gr_cli_usage(const char *text, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "gureum: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n%s", text);
	va_end(ap);
	return 2;
}

int gr_cli_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "gureum: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	return 1;
}

int gr_cli_format_flag(int argc, char **argv, int *i, enum gr_cli_fmt *fmt, const char *usage)
{
	const char *a = argv[*i], *v;
	if (!strcmp(a, "--format")) {
		if (*i + 1 >= argc) {
			gr_cli_usage(usage, "--format needs a value: table, json or yaml");
			return -1;
		}
		v = argv[++*i];
	} else if (!strncmp(a, "--format=", 9))
		v = a + 9;
	else
		return 0;
	if (gr_cli_parse_format(v, fmt) < 0) {
		gr_cli_usage(usage, "--format: '%s' is not table, json or yaml", v);
		return -1;
	}
	return 1;
}

int gr_cli_sub_args(int argc, char **argv, int first, enum gr_cli_fmt *fmt, bool no_operand,
		    const char *usage, const char *cmd, const char *sub, const char **operand)
{
	*operand = NULL;
	for (int i = first; i < argc; i++) {
		int f = fmt ? gr_cli_format_flag(argc, argv, &i, fmt, usage) : 0;
		if (f < 0)
			return 2;
		if (f)
			continue;
		if (argv[i][0] == '-' || *operand || no_operand)
			return gr_cli_usage(usage, "%s %s: unexpected '%s'", cmd, sub, argv[i]);
		*operand = argv[i];
	}
	return 0;
}

int gr_cli_list(const char *path, const char *key, enum gr_cli_fmt fmt, void (*table)(json_t *list))
{
	json_t *resp = NULL;
	if (gr_cli_call("GET", path, NULL, &resp))
		return 1;
	json_t *list = json_object_get(resp, key);
	if (fmt == GR_FMT_TABLE)
		table(list);
	else
		gr_cli_print(list, fmt);
	json_decref(resp);
	return 0;
}

int gr_cli_parse_format(const char *s, enum gr_cli_fmt *out)
{
	if (!strcmp(s, "table"))
		*out = GR_FMT_TABLE;
	else if (!strcmp(s, "json"))
		*out = GR_FMT_JSON;
	else if (!strcmp(s, "yaml"))
		*out = GR_FMT_YAML;
	else
		return -1;
	return 0;
}

bool gr_cli_name_ok(const char *what, const char *name)
{
	size_t n = strlen(name);
	bool ok = n > 0 && n <= 128;
	for (size_t i = 0; ok && i < n; i++) {
		char c = name[i];
		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		     c == '.' || c == '_' || c == '-';
	}
	if (!ok)
		fprintf(stderr, "gureum: %s: '%s' is not a valid name\n", what, name);
	return ok;
}

int gr_cli_call(const char *method, const char *path, json_t *body, json_t **resp)
{
	long status = 0;
	json_t *r = NULL;
	gr_error_t err;
	if (resp)
		*resp = NULL;
	if (gr_client_request(&gr_cli, method, path, body, &status, &r, &err) < 0)
		return gr_cli_fail("%s", err.msg);
	if (status < 200 || status > 299) {
		gr_cli_fail("%s", gr_client_error_message(r, status));
		json_decref(r);
		return 1;
	}
	if (resp)
		*resp = r;
	else
		json_decref(r);
	return 0;
}

const char *gr_cli_time(json_t *t, char *buf, size_t n)
{
	snprintf(buf, n, "-");
	if (!json_is_number(t) || json_number_value(t) <= 0 || json_number_value(t) > 1e15)
		return buf;
	time_t s = (time_t)json_number_value(t);
	struct tm tm;
	char zone[8];
	if (!localtime_r(&s, &tm) || !strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm) ||
	    strftime(zone, sizeof zone, "%z", &tm) != 5) {
		snprintf(buf, n, "-");
		return buf;
	}
	/* RFC 3339 wants the offset as +05:30, strftime gives +0530 */
	size_t len = strlen(buf);
	snprintf(buf + len, n - len, "%.3s:%.2s", zone, zone + 3);
	return buf;
}

static bool is_time_key(const char *k)
{
	return !strcmp(k, "created") || !strcmp(k, "updated") || !strcmp(k, "time");
}

json_t *gr_cli_humanize(json_t *j)
{
	if (json_is_object(j)) {
		json_t *o = json_object();
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) {
			char when[64];
			if (is_time_key(k) && json_is_number(v))
				json_object_set_new(o, k, json_string(gr_cli_time(v, when, sizeof when)));
			else /* an instance's host is where it runs, not what it is */
				json_object_set_new(o, strcmp(k, "host") ? k : "location", gr_cli_humanize(v));
		}
		return o;
	}
	if (json_is_array(j)) {
		json_t *a = json_array();
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v)
			json_array_append_new(a, gr_cli_humanize(v));
		return a;
	}
	return json_incref(j);
}

/* 2025-05-06T14:03:11+09:00, as gr_cli_time() writes it: a YAML timestamp, left plain */
static bool is_rfc3339(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd+dd:dd";
	if (strlen(s) != sizeof pat - 1)
		return false;
	for (size_t i = 0; pat[i]; i++) {
		bool okc = pat[i] == 'd' ? isdigit((unsigned char)s[i]) != 0
			 : pat[i] == '+' ? s[i] == '+' || s[i] == '-' : s[i] == pat[i];
		if (!okc)
			return false;
	}
	return true;
}

static int write_stdout(const char *p, size_t n, void *ud)
{
	return gr_write_all(1, p, n) == (ssize_t)n ? 0 : -1;
}

int gr_cli_stream(const char *path, gr_client_data_fn fn, void *ud)
{
	long status = 0;
	json_t *er = NULL;
	gr_error_t err;
	if (gr_client_stream(&gr_cli, "GET", path, NULL, fn ? fn : write_stdout, ud, &status, &er,
			     &err) < 0)
		return gr_cli_fail("%s", err.msg);
	int rc = 0;
	if (status < 200 || status > 299)
		rc = gr_cli_fail("%s", gr_client_error_message(er, status));
	json_decref(er);
	return rc;
}

static void yaml_scalar(json_t *j)
{
	if (json_is_string(j) && is_rfc3339(json_string_value(j))) {
		printf("%s", json_string_value(j));
	} else if (json_is_string(j)) {
		const char *s = json_string_value(j);
		/* quote what a YAML 1.1 reader would take for something else */
		static const char *const special[] = { "true", "false", "null", "yes", "no", "on", "off",
						       "y", "n", "~", NULL };
		bool plain = *s && !strpbrk(s, ":#{}[],&*!|>'\"%@`\n") && s[0] != ' ' && s[0] != '-' &&
			     !isdigit((unsigned char)s[0]) && s[0] != '.';
		for (int i = 0; plain && special[i]; i++)
			plain = strcasecmp(s, special[i]) != 0;
		if (plain)
			printf("%s", s);
		else {
			char *q = json_dumps(j, JSON_ENCODE_ANY);
			printf("%s", q);
			free(q);
		}
	} else {
		char *q = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
		printf("%s", q);
		free(q);
	}
}

static bool is_empty_container(json_t *j)
{
	return (json_is_object(j) && json_object_size(j) == 0) ||
	       (json_is_array(j) && json_array_size(j) == 0);
}

static void yaml(json_t *j, int indent, bool in_list)
{
	const char *k;
	json_t *v;
	size_t i;
	bool first = true;
	if (json_is_object(j)) {
		json_object_foreach(j, k, v) {
			if (!(first && in_list))
				printf("%*s", indent, "");
			first = false;
			printf("%s:", k);
			if ((json_is_object(v) || json_is_array(v)) && !is_empty_container(v)) {
				printf("\n");
				yaml(v, indent + 2, false);
			} else {
				printf(" ");
				yaml_scalar(v);
				printf("\n");
			}
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) {
			printf("%*s- ", indent, "");
			if ((json_is_object(v) || json_is_array(v)) && !is_empty_container(v))
				yaml(v, indent + 2, true);
			else {
				yaml_scalar(v);
				printf("\n");
			}
		}
	} else {
		yaml_scalar(j);
		printf("\n");
	}
}

void gr_cli_print(json_t *j, enum gr_cli_fmt fmt)
{
	if (fmt != GR_FMT_JSON) {
		json_t *h = gr_cli_humanize(j);
		yaml(h, 0, false);
		json_decref(h);
		return;
	}
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);
	printf("%s\n", s);
	free(s);
}

int gr_cli_wait_op(const char *id, bool quiet, json_t **final)
{
	_cleanup_free_ char *path = xasprintf("/v1/operations/%s?wait=1000", id);
	if (final)
		*final = NULL;
	for (;;) {
		json_t *op = NULL;
		if (gr_cli_call("GET", path, NULL, &op))
			return 1;
		const char *st = json_string_value(json_object_get(op, "status"));
		json_t *p = json_object_get(op, "progress");
		if (!quiet && p && isatty(2))
			fprintf(stderr, "\r%s: %lld files, %lld MiB   ",
				json_string_value(json_object_get(p, "phase")),
				(long long)json_integer_value(json_object_get(p, "files_done")),
				(long long)json_integer_value(json_object_get(p, "bytes_done")) >> 20);
		if (st && strcmp(st, "running")) {
			if (!quiet && isatty(2))
				fprintf(stderr, "\n");
			int rc = 0;
			if (strcmp(st, "success")) {
				const char *m = json_string_value(json_object_get(json_object_get(op, "error"),
										  "message"));
				rc = gr_cli_fail("%s", m ? m : st);
			}
			if (final)
				*final = op;
			else
				json_decref(op);
			return rc;
		}
		json_decref(op);
	}
}

int gr_cli_state_action(const char *name, const char *action, json_t *extra)
{
	json_t *body = extra ? extra : json_object();
	json_object_set_new(body, "action", json_string(action));
	_cleanup_free_ char *path = xasprintf("/v1/instances/%s/state", name);
	int rc = gr_cli_call("POST", path, body, NULL);
	json_decref(body);
	return rc;
}
