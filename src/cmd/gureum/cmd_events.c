/*
 * cmd_events.c - `gureum events [--after N] [--no-follow] [--format F]`:
 * state changes, streamed until Ctrl-C.  json (the default) prints the API's
 * JSON lines as they come (blank lines are keep-alives); table prints one
 * row per event with its time in local time, yaml one document per event.
 */
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

static const char *usage_events =
	"usage: gureum events [--after SEQ] [--no-follow] [--format json|table|yaml]\n"
	"\nPrint state changes as they happen (--no-follow: those kept so far, then end).\n"
	"  --format json    the API's JSON lines (default; blank lines are keep-alives)\n"
	"  --format table   TIME (local, RFC 3339), SEQ, KIND, NAME, STATE, DETAIL\n"
	"  --format yaml    one YAML document per event\n";

struct lines {
	enum gr_cli_fmt fmt;
	bool header;
	char *buf;
	size_t len;
};

static void print_header(struct lines *l)
{
	if (l->fmt == GR_FMT_TABLE && !l->header)
		printf("%-25s %-6s %-16s %-24s %-10s %s\n", "TIME", "SEQ", "KIND", "NAME", "STATE", "DETAIL");
	l->header = true;
}

static void print_event(struct lines *l, json_t *ev)
{
	if (l->fmt == GR_FMT_JSON) {
		char *s = json_dumps(ev, JSON_COMPACT);
		puts(s);
		free(s);
	} else if (l->fmt == GR_FMT_YAML) {
		printf("---\n");
		gr_cli_print(ev, GR_FMT_YAML);
	} else {
		print_header(l);
		char when[64];
		const char *st = json_string_value(json_object_get(ev, "state"));
		const char *detail = json_string_value(json_object_get(ev, "detail"));
		printf("%-25s %-6lld %-16s %-24s %-10s %s\n",
		       gr_cli_time(json_object_get(ev, "time"), when, sizeof when),
		       (long long)json_integer_value(json_object_get(ev, "seq")),
		       json_string_value(json_object_get(ev, "kind")),
		       json_string_value(json_object_get(ev, "name")), st ? st : "-", detail ? detail : "-");
	}
	fflush(stdout);
}

/* The stream's bytes: whole lines become events; blank lines are keep-alives. */
static int on_bytes(const char *p, size_t n, void *ud)
{
	struct lines *l = ud;
	l->buf = xrealloc(l->buf, l->len + n + 1);
	memcpy(l->buf + l->len, p, n);
	l->len += n;
	char *start = l->buf, *nl;
	while ((nl = memchr(start, '\n', l->len - (size_t)(start - l->buf)))) {
		json_t *ev = json_loadb(start, (size_t)(nl - start), 0, NULL);
		if (ev)
			print_event(l, ev);
		json_decref(ev);
		start = nl + 1;
	}
	l->len -= (size_t)(start - l->buf);
	memmove(l->buf, start, l->len);
	return 0;
}

int gr_cmd_events(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_events))
		return 0;
	unsigned long long after = 0;
	bool follow = true;
	enum gr_cli_fmt fmt = GR_FMT_JSON;
	for (int i = 1; i < argc; i++) {
		char *end;
		int f = gr_cli_format_flag(argc, argv, &i, &fmt, usage_events);
		if (f < 0)
			return 2;
		if (f)
			continue;
		if (!strcmp(argv[i], "--after") && i + 1 < argc) {
			after = strtoull(argv[++i], &end, 10);
			if (*end || !*argv[i])
				return gr_cli_usage(usage_events, "--after: '%s' is not a number", argv[i]);
		} else if (!strcmp(argv[i], "--no-follow"))
			follow = false;
		else
			return gr_cli_usage(usage_events, "events: unexpected '%s'", argv[i]);
	}
	struct lines l = { .fmt = fmt };
	if (!follow) {
		_cleanup_free_ char *path = xasprintf("/v1/events?after=%llu&follow=0", after);
		json_t *resp = NULL;
		if (gr_cli_call("GET", path, NULL, &resp))
			return 1;
		size_t i;
		json_t *ev;
		print_header(&l);
		json_array_foreach(resp, i, ev)
			print_event(&l, ev);
		json_decref(resp);
		return 0;
	}
	_cleanup_free_ char *path = xasprintf("/v1/events?after=%llu", after);
	if (fmt == GR_FMT_JSON)
		return gr_cli_stream(path, NULL, NULL);
	int rc = gr_cli_stream(path, on_bytes, &l);
	free(l.buf);
	return rc;
}
