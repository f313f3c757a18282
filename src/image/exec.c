/*
 * exec.c - running the external tools the image module drives (qemu-img, debootstrap,
 * busybox, dpkg-query).  No shell: argv is exec'd directly with stdin on /dev/null and
 * stdout+stderr on one pipe; output is split into lines ('\n' or '\r', so qemu-img -p
 * progress arrives line by line).  The child runs only async-signal-safe code before
 * exec, so this is safe in a threaded daemon.
 */
#include "image/image-internal.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TAIL_LINES 6

struct run_out {
	gr__line_fn fn;
	void *ud;
	char *tail[TAIL_LINES];
	size_t ntail;
	char *capture;
	size_t caplen, capmax;
};

static void on_line(struct run_out *o, const char *line)
{
	if (!*line)
		return;
	if (o->fn)
		o->fn(line, o->ud);
	free(o->tail[o->ntail % TAIL_LINES]);
	o->tail[o->ntail % TAIL_LINES] = xstrdup(line);
	o->ntail++;
}

static int run(char *const argv[], struct run_out *o, int capture_stdout, gr_error_t *err)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		return gr_error_sys(err, "cannot open /dev/null");
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		close(devnull);
		return gr_error_sys(err, "cannot create a pipe");
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(devnull);
		close(p[0]);
		close(p[1]);
		return gr_error_sys(err, "cannot fork for %s", argv[0]);
	}
	if (pid == 0) {
		dup2(devnull, 0);
		dup2(p[1], 1);
		dup2(capture_stdout ? devnull : p[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(devnull);
	close(p[1]);
	size_t cap = 4096, len = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (capture_stdout) {
			char chunk[8192];
			ssize_t r = read(p[0], chunk, sizeof chunk);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			if (o->caplen + (size_t)r <= o->capmax) {
				o->capture = xrealloc(o->capture, o->caplen + (size_t)r + 1);
				memcpy(o->capture + o->caplen, chunk, (size_t)r);
				o->caplen += (size_t)r;
				o->capture[o->caplen] = '\0';
			}
			continue;
		}
		if (len == cap) {
			/* an endless line: flush it as is */
			buf[len - 1] = '\0';
			on_line(o, buf);
			len = 0;
		}
		ssize_t r = read(p[0], buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		size_t start = 0;
		for (size_t i = 0; i < len; i++)
			if (buf[i] == '\n' || buf[i] == '\r') {
				buf[i] = '\0';
				on_line(o, buf + start);
				start = i + 1;
			}
		memmove(buf, buf + start, len - start);
		len -= start;
	}
	if (len && !capture_stdout) {
		buf = xrealloc(buf, len + 1);
		buf[len] = '\0';
		on_line(o, buf);
	}
	free(buf);
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return gr_error_sys(err, "cannot wait for %s", argv[0]);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	char detail[600] = "";
	size_t first = o->ntail > 3 ? o->ntail - 3 : 0;
	for (size_t i = first; i < o->ntail; i++) {
		size_t dl = strlen(detail);
		snprintf(detail + dl, sizeof detail - dl, "%s%s", dl ? " | " : ": ", o->tail[i % TAIL_LINES]);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return gr_error_set(err, ENOENT, "cannot run %s (not installed?)", argv[0]);
	if (WIFEXITED(status))
		return gr_error_set(err, EIO, "%s failed with exit status %d%s", argv[0], WEXITSTATUS(status),
				    detail);
	return gr_error_set(err, EIO, "%s killed by signal %d%s", argv[0], WTERMSIG(status), detail);
}

static void run_out_free(struct run_out *o)
{
	for (size_t i = 0; i < TAIL_LINES; i++)
		free(o->tail[i]);
	free(o->capture);
}

int gr__run(char *const argv[], gr__line_fn line_fn, void *ud, gr_error_t *err)
{
	struct run_out o = {.fn = line_fn, .ud = ud};
	int rc = run(argv, &o, 0, err);
	run_out_free(&o);
	return rc;
}

int gr__run_capture(char *const argv[], size_t max, char **out, gr_error_t *err)
{
	struct run_out o = {.capmax = max};
	int rc = run(argv, &o, 1, err);
	if (rc == 0) {
		*out = o.capture ? o.capture : xstrdup("");
		o.capture = NULL;
	}
	run_out_free(&o);
	return rc;
}
