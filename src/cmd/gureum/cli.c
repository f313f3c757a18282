/*
 * cli.c - helpers shared by the CLI's subcommands: help and usage texts,
 * error reporting with the exit-code rule (0 ok, 1 failed, 2 usage), the
 * request wrapper, output as table/json/yaml, operation waiting.
 */
#include "commands.h"

#include <ctype.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "util/alloc.h"

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

static void yaml_scalar(json_t *j)
{
	if (json_is_string(j)) {
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
	if (fmt == GR_FMT_YAML) {
		yaml(j, 0, false);
		return;
	}
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);
	printf("%s\n", s);
	free(s);
}

int gr_cli_wait_op(const char *id, bool quiet)
{
	_cleanup_free_ char *path = xasprintf("/v1/operations/%s?wait=1000", id);
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
			if (strcmp(st, "success"))
				rc = gr_cli_fail("%s", json_string_value(json_object_get(
							       json_object_get(op, "error"), "message")));
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
