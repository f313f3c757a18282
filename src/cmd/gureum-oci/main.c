/*
 * main.c - `gureum-oci`, an OCI runtime CLI over src/runtime (runtime.h).
 * Global options (--root, --log, --log-format, --debug) come before the
 * subcommand, as with runc and crun; then a dispatch table.
 */
#include "commands.h"
#include "util/log.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gr_oci_cli gr_cli;
static int log_to_file;

static const struct gr_oci_command commands[] = {
	{ "create", gr_cmd_create, "create a container (its process waits for start)" },
	{ "start", gr_cmd_start, "run the user program of a created container" },
	{ "state", gr_cmd_state, "print a container's state as JSON" },
	{ "kill", gr_cmd_kill, "send a signal to a container's init (or all its processes)" },
	{ "delete", gr_cmd_delete, "remove a stopped container (--force: kill it first)" },
	{ "run", gr_cmd_run, "create + start (+ wait and delete unless --detach)" },
	{ "exec", gr_cmd_exec, "run another process in a running container" },
	{ "spec", gr_cmd_spec, "write a default config.json" },
	{ "list", gr_cmd_list, "list containers" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: gureum-oci [GLOBAL OPTIONS] COMMAND [OPTIONS] ...\n\n"
		   "global options:\n"
		   "  --root DIR          state folder (default " GR_RT_DEFAULT_ROOT ")\n"
		   "  --log FILE          log to FILE instead of stderr\n"
		   "  --log-format FMT    text (default) or json\n"
		   "  --debug             verbose log\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'gureum-oci COMMAND --help' describes a command.\n");
}

int gr_cli_fail(const gr_error_t *err)
{
	fprintf(stderr, "gureum-oci: %s\n", err->msg);
	if (log_to_file) /* containerd and friends read the error from --log */
		gr_log_error("%s", err->msg);
	return 1;
}

int gr_cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "gureum-oci %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'gureum-oci %s --help')\n", cmd);
	return 2;
}

int gr_cli_signal(const char *s)
{
	if (!s || !*s)
		return -1;
	char *end;
	long v = strtol(s, &end, 10);
	if (!*end)
		return v > 0 && v < NSIG ? (int)v : -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (int i = 1; i < NSIG; i++) {
		const char *n = sigabbrev_np(i);
		if (n && !strcasecmp(n, s))
			return i;
	}
	return -1;
}

int main(int argc, char **argv)
{
	const char *log_path = NULL;
	int json = 0, debug = 0, i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		const char *val = NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--version") || !strcmp(a, "-v")) {
			printf("gureum-oci version 0.1\nspec: 1.0.2\n");
			return 0;
		}
		if (!strcmp(a, "--debug")) {
			debug = 1;
			continue;
		}
		if (!strcmp(a, "--systemd-cgroup") || !strcmp(a, "--rootless"))
			continue; /* accepted for compatibility */
		const char *names[] = { "--root", "--log", "--log-format", "--criu" };
		int which = -1;
		for (int k = 0; k < 4; k++) {
			size_t n = strlen(names[k]);
			if (!strncmp(a, names[k], n) && (a[n] == '=' || a[n] == '\0')) {
				which = k;
				val = a[n] == '=' ? a + n + 1 : (i + 1 < argc ? argv[++i] : NULL);
				break;
			}
		}
		if (which < 0) {
			fprintf(stderr, "gureum-oci: unknown global option '%s'\n", a);
			usage(stderr);
			return 2;
		}
		if (!val) {
			fprintf(stderr, "gureum-oci: %s needs a value\n", names[which]);
			return 2;
		}
		if (which == 0)
			gr_cli.opts.root = val;
		else if (which == 1)
			log_path = val;
		else if (which == 2) {
			if (strcmp(val, "json") && strcmp(val, "text")) {
				fprintf(stderr, "gureum-oci: --log-format: expected text or json, got '%s'\n", val);
				return 2;
			}
			json = !strcmp(val, "json");
		}
	}
	log_to_file = log_path != NULL;
	if (gr_log_open(log_path, json, debug ? GR_LOG_DEBUG : GR_LOG_INFO) < 0) {
		fprintf(stderr, "gureum-oci: --log: cannot open %s\n", log_path);
		return 1;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
		if (!strcmp(argv[i], commands[c].name))
			return commands[c].run(argc - i, argv + i);
	fprintf(stderr, "gureum-oci: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
