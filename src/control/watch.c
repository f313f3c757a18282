/*
 * watch.c - the main process of every running instance, watched through a
 * pidfd in c->epfd: readable when the process ends, whether it is our child,
 * a child re-parented to us as subreaper, or a process a previous daemon
 * started.  The loop hands the readable fd to gr__watch_take(), which drops
 * the watch and reaps the process when it is our child (its exit status is
 * only known then).  A name has at most one watch per pid.  A process that is
 * gone before its watch starts gets a readable eventfd instead of a pidfd,
 * so its exit is followed up the same way (status unknown).
 */
#include "control/control-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util/alloc.h"
#include "util/log.h"

void gr__watch_add(struct gr_control *c, const char *name, pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0) {
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	} else {
		/* gone already: a readable eventfd stands in for it, so the loop
		 * follows the exit up like any other (status unknown) */
		gr_log_warn("watching %s (pid %d): %s", name, (int)pid, strerror(errno));
		fd = eventfd(1, EFD_CLOEXEC);
		if (fd < 0) {
			gr_log_error("watching %s: eventfd: %s", name, strerror(errno));
			return;
		}
	}
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n_watches; i++)
		if (c->watches[i].pid == pid && !strcmp(c->watches[i].name, name)) {
			pthread_mutex_unlock(&c->lock);
			close(fd);
			return;
		}
	c->watches = xrealloc(c->watches, (c->n_watches + 1) * sizeof *c->watches);
	c->watches[c->n_watches++] = (struct gr__watch){ xstrdup(name), pid, fd };
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev);
	pthread_mutex_unlock(&c->lock);
}

bool gr__watch_take(struct gr_control *c, int fd, struct gr__exited *out)
{
	bool found = false;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n_watches; i++) {
		if (c->watches[i].pidfd != fd)
			continue;
		struct gr__watch w = c->watches[i];
		c->watches[i] = c->watches[--c->n_watches];
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, w.pidfd, NULL);
		siginfo_t si = { 0 };
		int status = -1;
		if (waitid(P_PIDFD, (id_t)w.pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid)
			status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
		close(w.pidfd);
		*out = (struct gr__exited){ w.name, w.pid, status };
		found = true;
		break;
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

char **gr__watch_names(struct gr_control *c)
{
	pthread_mutex_lock(&c->lock);
	size_t n = c->n_watches;
	char **names = xcalloc(n + 1, sizeof *names);
	for (size_t i = 0; i < n; i++)
		names[i] = xstrdup(c->watches[i].name);
	pthread_mutex_unlock(&c->lock);
	return names;
}

bool gr__watch_has_pid(pid_t pid, void *ud)
{
	struct gr_control *c = ud;
	bool found = false;
	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->n_watches && !found; i++)
		found = c->watches[i].pid == pid;
	pthread_mutex_unlock(&c->lock);
	return found;
}
