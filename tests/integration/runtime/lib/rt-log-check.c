/*
 * rt-log-check.c - the runtime library in-process, as gureumd uses it, with the
 * process's log (util/log.h) sent to a file: a container whose poststart and
 * poststop hooks fail is run and deleted.  The caller checks that the warnings
 * went to the log and nothing to this process's stderr (in gureumd, stderr ends
 * up in an instance's console.log).
 * usage: rt-log-check ROOT BUNDLE LOGFILE ; prints TAP lines on stdout.
 */
#include "runtime/runtime.h"
#include "util/log.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	ok(gr_log_open(argv[3], 1, GR_LOG_INFO) == 0, "log to %s", argv[3]);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct gr_rt_opts o = { .root = argv[1], .stdio = { null, null, null } };
	gr_error_t err = { 0 };
	const char *id = "gr-test-rt-logcheck";
	ok(gr_rt_create(&o, id, argv[2], NULL, &err) == 0, "create (%s)", err.msg);
	struct gr_rt_state st;
	pid_t pid = gr_rt_state(&o, id, &st, &err) == 0 ? st.pid : -1;
	if (pid > 0)
		gr_rt_state_clear(&st);
	ok(gr_rt_start(&o, id, &err) == 0, "start succeeds although a poststart hook fails (%s)", err.msg);
	ok(pid > 0 && waitpid(pid, NULL, 0) == pid, "the program ended");
	ok(gr_rt_delete(&o, id, false, &err) == 0, "delete succeeds although a poststop hook fails (%s)", err.msg);
	return tap_done();
}
