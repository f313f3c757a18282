/*
 * cmd_console.c - `gureum console NAME`.  For an instance whose driver has a
 * console input (a VM's serial port) this is an interactive websocket session:
 * our terminal goes raw, keys go to the console, Ctrl-] leaves.  Otherwise
 * (containers) it follows the console output read-only until the instance
 * stops or Ctrl-C; `gureum exec -t NAME -- sh` gives a shell.
 */
#include "commands.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include "api/ws.h"
#include "util/alloc.h"
#include "util/fs.h"

static const char *usage_console =
	"usage: gureum console NAME\n"
	"\nAttach to the instance's console.  VMs: interactive (the serial port), Ctrl-] leaves.\n"
	"Containers: their output, read-only, until they stop (a shell: gureum exec -t NAME -- sh).\n";

static int interactive(const char *name)
{
	gr_error_t err;
	_cleanup_free_ char *path = xasprintf("/v1/instances/%s/console", name);
	struct gr_client_ws *w = NULL;
	if (gr_client_ws_open(&gr_cli, path, &w, &err) < 0)
		return gr_cli_fail("%s", err.msg);
	struct termios saved;
	bool raw = isatty(0) && tcgetattr(0, &saved) == 0;
	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		tcsetattr(0, TCSANOW, &t);
		fprintf(stderr, "(console of %s; Ctrl-] leaves)\r\n", name);
	}
	int rc = 0;
	bool in_open = true;
	for (;;) {
		uint8_t op, *p;
		size_t n;
		int r;
		bool done = false;
		while ((r = gr_client_ws_recv(w, &op, &p, &n, &err)) == 1) {
			if (op == GR_WS_BINARY)
				gr_write_all(1, p, n);
			else if (op == GR_WS_TEXT) {
				json_t *j = json_loads((char *)p, 0, NULL);
				if (json_object_get(j, "error")) {
					if (raw)
						tcsetattr(0, TCSANOW, &saved), raw = false;
					rc = gr_cli_fail("%s", gr_client_error_message(j, 0));
				}
				json_decref(j);
			} else if (op == GR_WS_CLOSE)
				done = true;
			free(p);
		}
		if (r < 0 || done)
			break;
		struct pollfd pf[2] = { { .fd = gr_client_ws_fd(w), .events = POLLIN },
					{ .fd = in_open ? 0 : -1, .events = POLLIN } };
		if (poll(pf, 2, 1000) < 0 && errno != EINTR)
			break;
		if (pf[1].revents) {
			char buf[4096];
			ssize_t got = read(0, buf, sizeof buf);
			if (got <= 0) {
				in_open = false;
				if (!raw)
					break; /* piped input ended: leave */
				continue;
			}
			char *esc = memchr(buf, 0x1d, (size_t)got);
			if (esc)
				got = esc - buf;
			if (got > 0)
				gr_client_ws_send(w, GR_WS_BINARY, buf, (size_t)got, NULL);
			if (esc)
				break;
		}
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	gr_client_ws_close(w);
	return rc;
}

int gr_cmd_console(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_console))
		return 0;
	if (argc != 2 || argv[1][0] == '-')
		return gr_cli_usage(usage_console, "console: expected NAME");
	if (!gr_cli_name_ok("name", argv[1]))
		return 2;
	_cleanup_free_ char *ipath = xasprintf("/v1/instances/%s", argv[1]);
	json_t *inst = NULL;
	if (gr_cli_call("GET", ipath, NULL, &inst))
		return 1;
	const char *type = json_string_value(json_object_get(inst, "type"));
	const char *st = json_string_value(json_object_get(inst, "state"));
	bool ws = type && !strcmp(type, "vm") && st && !strcmp(st, "running");
	json_decref(inst);
	if (ws)
		return interactive(argv[1]);
	_cleanup_free_ char *path = xasprintf("/v1/instances/%s/console", argv[1]);
	return gr_cli_stream(path, NULL, NULL);
}
