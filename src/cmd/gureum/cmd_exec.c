/*
 * cmd_exec.c - `gureum exec NAME [-t] [--env K=V] [--cwd DIR] -- CMD...`: runs
 * CMD in the instance and exits with its status.  Without -t: one POST, stdin
 * (when not a terminal) sent along, output printed at the end.  With -t: a
 * websocket session (api/ws.h) with a terminal in the container; our terminal
 * goes raw, keys go in, output comes out as it is written, window size
 * changes follow; end of our stdin sends ^D.
 */
#include "commands.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include "api/ws.h"
#include "util/alloc.h"
#include "util/fs.h"

static volatile sig_atomic_t winch = 1;
static void on_winch(int sig)
{
	winch = 1;
}

static int exec_tty(const char *name, json_t *body)
{
	gr_error_t err;
	_cleanup_free_ char *path = xasprintf("/v1/instances/%s/exec", name);
	struct gr_client_ws *w = NULL;
	struct winsize ws = { 0 };
	if (isatty(1) && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col) {
		json_object_set_new(body, "cols", json_integer(ws.ws_col));
		json_object_set_new(body, "rows", json_integer(ws.ws_row));
	}
	json_object_del(body, "tty");
	if (gr_client_ws_open(&gr_cli, path, &w, &err) < 0)
		return gr_cli_fail("%s", err.msg);
	char *req = json_dumps(body, JSON_COMPACT);
	int rc = 1;
	if (gr_client_ws_send(w, GR_WS_TEXT, req, strlen(req), &err) < 0) {
		free(req);
		gr_client_ws_close(w);
		return gr_cli_fail("%s", err.msg);
	}
	free(req);
	struct termios saved;
	bool raw = isatty(0) && tcgetattr(0, &saved) == 0;
	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		tcsetattr(0, TCSANOW, &t);
	}
	signal(SIGWINCH, on_winch);
	bool in_open = true, done = false;
	while (!done) {
		if (winch && isatty(1) && ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col) {
			winch = 0;
			char msg[64];
			int n = snprintf(msg, sizeof msg, "{\"resize\":[%u,%u]}", ws.ws_col, ws.ws_row);
			gr_client_ws_send(w, GR_WS_TEXT, msg, (size_t)n, NULL);
		}
		uint8_t op, *p;
		size_t n;
		int r;
		while ((r = gr_client_ws_recv(w, &op, &p, &n, &err)) == 1) {
			if (op == GR_WS_BINARY) {
				gr_write_all(1, p, n);
			} else if (op == GR_WS_TEXT) {
				json_t *j = json_loads((char *)p, 0, NULL);
				json_t *code = json_object_get(j, "exit_code");
				if (json_is_integer(code)) {
					rc = (int)json_integer_value(code);
					rc = rc < 0 || rc > 255 ? 1 : rc;
				} else if (json_object_get(j, "error")) {
					if (raw)
						tcsetattr(0, TCSANOW, &saved), raw = false;
					gr_cli_fail("%s", gr_client_error_message(j, 0));
					rc = 1;
				}
				json_decref(j);
			} else if (op == GR_WS_CLOSE) {
				done = true;
			}
			free(p);
		}
		if (r < 0)
			done = true;
		if (done)
			break;
		struct pollfd pf[2] = { { .fd = gr_client_ws_fd(w), .events = POLLIN },
					{ .fd = in_open ? 0 : -1, .events = POLLIN } };
		if (poll(pf, 2, 1000) < 0 && errno != EINTR)
			break;
		if (pf[1].revents) {
			char buf[4096];
			ssize_t got = read(0, buf, sizeof buf);
			if (got > 0)
				gr_client_ws_send(w, GR_WS_BINARY, buf, (size_t)got, NULL);
			else if (got == 0 || errno != EINTR) {
				in_open = false; /* end of input: ^D to the terminal */
				gr_client_ws_send(w, GR_WS_BINARY, "\x04", 1, NULL);
			}
		}
	}
	if (raw)
		tcsetattr(0, TCSANOW, &saved);
	gr_client_ws_close(w);
	return rc;
}

static const char *usage_exec =
	"usage: gureum exec NAME [--env K=V] [--cwd DIR] [-t] -- CMD [ARG...]\n"
	"\nRun CMD inside the instance and exit with its status.  Standard input is\n"
	"passed when it is not a terminal.\n"
	"  -t, --tty    interactive: a terminal in the instance, container or VM (e.g. gureum exec -t web1 -- sh)\n";

int gr_cmd_exec(int argc, char **argv)
{
	if (gr_cli_wants_help(argc, argv, usage_exec))
		return 0;
	const char *name = NULL;
	_cleanup_free_ char *path = NULL;
	json_t *body = json_object(), *env = json_array();
	int i, rc = 2;
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--env") && i + 1 < argc) {
			if (!strchr(argv[i + 1], '=')) {
				gr_cli_usage(usage_exec, "--env: '%s' is not KEY=VALUE", argv[i + 1]);
				goto out;
			}
			json_array_append_new(env, json_string(argv[++i]));
		} else if (!strcmp(argv[i], "--cwd") && i + 1 < argc) {
			json_object_set_new(body, "cwd", json_string(argv[++i]));
		} else if (!strcmp(argv[i], "-t") || !strcmp(argv[i], "--tty") || !strcmp(argv[i], "-it")) {
			json_object_set_new(body, "tty", json_true());
		} else if (!strcmp(argv[i], "-i")) {
			/* stdin is always passed when it is not a terminal */
		} else if (argv[i][0] == '-' || name) {
			gr_cli_usage(usage_exec, "exec: unexpected '%s' (put the command after --)", argv[i]);
			goto out;
		} else
			name = argv[i];
	}
	if (!name || i + 1 >= argc) {
		gr_cli_usage(usage_exec, "exec: expected NAME -- CMD");
		goto out;
	}
	if (!gr_cli_name_ok("name", name))
		goto out;
	json_t *cmd = json_array();
	for (i++; i < argc; i++)
		json_array_append_new(cmd, json_string(argv[i]));
	json_object_set_new(body, "cmd", cmd);
	if (json_array_size(env))
		json_object_set(body, "env", env);
	if (json_is_true(json_object_get(body, "tty"))) {
		rc = exec_tty(name, body);
		goto out;
	}
	if (!isatty(0) && !json_is_true(json_object_get(body, "tty"))) {
		_cleanup_free_ char *in = NULL;
		size_t len = 0;
		gr_error_t err;
		if (gr_read_file("/dev/stdin", 512u << 10, &in, &len, &err) < 0) {
			rc = gr_cli_fail("stdin: %s", err.msg);
			goto out;
		}
		if (len)
			json_object_set_new(body, "stdin", json_stringn(in, len));
	}
	path = xasprintf("/v1/instances/%s/exec", name);
	json_t *resp = NULL;
	if (gr_cli_call("POST", path, body, &resp)) {
		rc = 1;
		goto out;
	}
	const char *o = json_string_value(json_object_get(resp, "stdout"));
	const char *e = json_string_value(json_object_get(resp, "stderr"));
	if (o)
		gr_write_all(1, o, json_string_length(json_object_get(resp, "stdout")));
	if (e)
		gr_write_all(2, e, json_string_length(json_object_get(resp, "stderr")));
	rc = (int)json_integer_value(json_object_get(resp, "exit_code"));
	if (rc < 0 || rc > 255)
		rc = 1;
	json_decref(resp);
out:
	json_decref(env);
	json_decref(body);
	return rc;
}
