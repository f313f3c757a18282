/*
 * terminal.c - process.terminal: a pty whose master goes to --console-socket.
 *
 * The runtime connects to the console socket before cloning (the path is on
 * the host); the child opens /dev/ptmx inside the container (so the slave lives
 * in the container's devpts), sends the master over the socket with SCM_RIGHTS
 * (as runc and crun do), and makes the slave its controlling terminal and stdio.
 * The child side does not allocate.
 */
#include "runtime/runtime-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

int gr__console_connect(const char *path, gr_error_t *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path)
		return gr_error_set(err, ENAMETOOLONG, "--console-socket: path too long: %s", path);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return gr_error_sys(err, "--console-socket: socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		gr_error_sys(err, "--console-socket: cannot connect to %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

static int send_fd(int sock, int fd)
{
	char name[] = "/dev/ptmx";
	struct iovec iov = { name, sizeof name - 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof u.buf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	ssize_t r;
	do
		r = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : 0;
}

int gr__setup_terminal(int sockfd, const struct gr_oci_process *p, gr_error_t *err)
{
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return gr_error_sys(err, "process.terminal: cannot open /dev/ptmx (is devpts mounted?)");
	if (unlockpt(master) < 0) {
		close(master);
		return gr_error_sys(err, "process.terminal: unlockpt");
	}
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (slave < 0) {
		char name[64];
		if (ptsname_r(master, name, sizeof name) != 0 ||
		    (slave = open(name, O_RDWR | O_NOCTTY)) < 0) {
			close(master);
			return gr_error_sys(err, "process.terminal: cannot open the pty slave");
		}
	}
	if (p->console_width || p->console_height) {
		struct winsize ws = { .ws_row = (unsigned short)p->console_height,
				      .ws_col = (unsigned short)p->console_width };
		ioctl(slave, TIOCSWINSZ, &ws);
	}
	if (send_fd(sockfd, master) < 0) {
		close(master);
		close(slave);
		return gr_error_sys(err, "--console-socket: cannot send the pty master");
	}
	close(master);
	close(sockfd);
	if (setsid() < 0 && errno != EPERM) {
		close(slave);
		return gr_error_sys(err, "setsid");
	}
	if (ioctl(slave, TIOCSCTTY, 0) < 0) {
		close(slave);
		return gr_error_sys(err, "process.terminal: TIOCSCTTY");
	}
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return gr_error_sys(err, "dup2 pty");
	if (slave > 2)
		close(slave);
	return 0;
}
