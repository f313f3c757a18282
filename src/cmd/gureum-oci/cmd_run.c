/*
 * cmd_run.c - `gureum-oci run [-b DIR] [-d] [--pid-file F] [--console-socket S] ID`.
 * In the foreground it forwards the usual terminating and job signals to the
 * container's init (as runc does), waits, deletes and exits with its status.
 */
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include "util/log.h"

static volatile pid_t init_pid;

static double ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void forward(int sig)
{
	if (init_pid > 0)
		kill(init_pid, sig);
}

static int run_foreground(const char *id, const char *bundle, gr_error_t *err)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	double t0 = ms_now();
	if (gr_rt_create(&gr_cli.opts, id, bundle, NULL, err) < 0)
		return -1;
	double t1 = ms_now();
	struct gr_rt_state st;
	if (gr_rt_state(&gr_cli.opts, id, &st, err) < 0)
		return -1;
	init_pid = st.pid;
	gr_rt_state_clear(&st);
	struct sigaction sa = { .sa_handler = forward, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	if (gr_rt_start(&gr_cli.opts, id, err) < 0) {
		gr_rt_delete(&gr_cli.opts, id, true, NULL);
		waitpid(init_pid, NULL, 0);
		return -1;
	}
	double t2 = ms_now();
	int status;
	while (waitpid(init_pid, &status, 0) < 0)
		if (errno != EINTR)
			return gr_error_sys(err, "waiting for container '%s'", id);
	double t3 = ms_now();
	if (gr_rt_delete(&gr_cli.opts, id, true, err) < 0)
		return -1;
	gr_log_debug("run %s: create %.2f ms, start %.2f ms, program %.2f ms, delete %.2f ms", id,
		     t1 - t0, t2 - t1, t3 - t2, ms_now() - t3);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int gr_cmd_run(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "bundle", required_argument, NULL, 'b' }, { "pid-file", required_argument, NULL, 'p' },
		{ "console-socket", required_argument, NULL, 'c' }, { "detach", no_argument, NULL, 'd' },
		{ "preserve-fds", required_argument, NULL, 'f' }, { "no-pivot", no_argument, NULL, 'n' },
		{ "no-new-keyring", no_argument, NULL, 'k' }, { "help", no_argument, NULL, 'h' }, { 0 },
	};
	const char *bundle = ".";
	bool detach = false;
	int c;
	while ((c = getopt_long(argc, argv, "+b:dh", lo, NULL)) != -1) {
		switch (c) {
		case 'b': bundle = optarg; break;
		case 'p': gr_cli.opts.pid_file = optarg; break;
		case 'c': gr_cli.opts.console_socket = optarg; break;
		case 'd': detach = true; break;
		case 'f': gr_cli.opts.preserve_fds = atoi(optarg); break;
		case 'k': gr_cli.opts.no_new_keyring = true; break;
		case 'n': break;
		case 'h':
			printf("usage: gureum-oci run [OPTIONS] ID\n\n"
			       "Create and start container ID; without --detach wait for it, delete it\n"
			       "and exit with its status (128+N when killed by signal N).\n\n"
			       "  -b, --bundle DIR          bundle folder (default .)\n"
			       "  -d, --detach              return once the program runs\n"
			       "      --pid-file FILE       write the container's init pid here\n"
			       "      --console-socket SOCK receive the pty master (process.terminal)\n");
			return 0;
		default: return gr_cli_usage("run", "bad option");
		}
	}
	if (optind != argc - 1)
		return gr_cli_usage("run", "expected exactly one container ID");
	gr_error_t err = { 0 };
	if (detach) {
		if (gr_rt_run(&gr_cli.opts, argv[optind], bundle, true, NULL, &err) < 0)
			return gr_cli_fail(&err);
		return 0;
	}
	int status = run_foreground(argv[optind], bundle, &err);
	return status < 0 ? gr_cli_fail(&err) : status;
}
