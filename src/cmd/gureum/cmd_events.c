/*
 * cmd_events.c - `gureum events [--after N] [--no-follow]`: state changes as
 * JSON lines, streamed until Ctrl-C.
 */
#include "commands.h"

#include <stdlib.h>
#include <string.h>
#include "util/alloc.h"

static const char *usage_events =
	"usage: gureum events [--after SEQ] [--no-follow]\n"
	"\nPrint state changes as JSON lines (blank lines are keep-alives).\n";

int gr_cli_stream_text(const char *path);

int gr_cmd_events(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_events))
		return 0;
	unsigned long long after = 0;
	bool follow = true;
	for (int i = 1; i < argc; i++) {
		char *end;
		if (!strcmp(argv[i], "--after") && i + 1 < argc) {
			after = strtoull(argv[++i], &end, 10);
			if (*end)
				return gr_cli_usage(usage_events, "--after: '%s' is not a number", argv[i]);
		} else if (!strcmp(argv[i], "--no-follow"))
			follow = false;
		else
			return gr_cli_usage(usage_events, "events: unexpected '%s'", argv[i]);
	}
	if (!follow) {
		_cleanup_free_ char *path = xasprintf("/v1/events?after=%llu&follow=0", after);
		json_t *resp = NULL;
		if (gr_cli_call("GET", path, NULL, &resp))
			return 1;
		size_t i;
		json_t *ev;
		json_array_foreach(resp, i, ev) {
			char *s = json_dumps(ev, JSON_COMPACT);
			puts(s);
			free(s);
		}
		json_decref(resp);
		return 0;
	}
	_cleanup_free_ char *path = xasprintf("/v1/events?after=%llu", after);
	return gr_cli_stream_text(path);
}
