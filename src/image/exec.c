/*
 * exec.c - the image module's two ways of running a tool (qemu-img,
 * debootstrap, busybox, dpkg-query), over util's process runner
 * (util/proc.h: no shell, async-signal-safe child, output tail in the error):
 * output as lines ('\n' or '\r', so qemu-img -p progress arrives line by
 * line), or stdout captured.  stdin is /dev/null.
 */
#include "image/image-internal.h"
#include "util/proc.h"

int gr__run(char *const argv[], gr__line_fn line_fn, void *ud, gr_error_t *err)
{
	struct gr_proc p = { .argv = argv, .fd_in = GR_PROC_NULL, .fd_out = GR_PROC_PIPE,
			     .fd_err = GR_PROC_PIPE, .on_line = line_fn, .ud = ud };
	return gr_proc_run(&p, err);
}

int gr__run_capture(char *const argv[], size_t max, char **out, gr_error_t *err)
{
	struct gr_proc p = { .argv = argv, .fd_in = GR_PROC_NULL, .fd_out = GR_PROC_PIPE,
			     .fd_err = GR_PROC_PIPE, .capture = out, .capture_max = max ? max : 1 };
	return gr_proc_run(&p, err);
}
