/*
 * console-recv.c - a tiny --console-socket receiver for the runtime's tests.
 * usage: console-recv SOCKET OUTFILE [INPUT]
 * Listens on SOCKET, accepts one connection, receives the pty master over
 * SCM_RIGHTS, writes INPUT (if given) to it, then copies everything the
 * container prints to OUTFILE until the pty closes.  Prints "got-fd" to
 * OUTFILE first so a test can tell the fd arrived.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: console-recv SOCKET OUTFILE [INPUT]\n");
		return 2;
	}
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	/* bind under a temporary name and rename once listening: the test waits for
	 * the final name, which then always accepts connections */
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s.tmp", argv[1]);
	unlink(sa.sun_path);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 1) < 0 ||
	    rename(sa.sun_path, argv[1]) < 0) {
		perror("console-recv: listen");
		return 1;
	}
	int c = accept(ls, NULL, NULL);
	if (c < 0) {
		perror("console-recv: accept");
		return 1;
	}
	char name[64];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { name, sizeof name };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf };
	if (recvmsg(c, &m, 0) < 0) {
		perror("console-recv: recvmsg");
		return 1;
	}
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "console-recv: no fd received\n");
		return 1;
	}
	int master;
	memcpy(&master, CMSG_DATA(cm), sizeof master);
	int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0)
		return 1;
	if (write(out, "got-fd\n", 7) < 0)
		return 1;
	if (argc > 3 && write(master, argv[3], strlen(argv[3])) < 0)
		return 1;
	char buf[4096];
	for (;;) {
		ssize_t n = read(master, buf, sizeof buf);
		if (n <= 0)
			break; /* EIO once the last slave fd closes */
		if (write(out, buf, (size_t)n) < 0)
			return 1;
	}
	close(out);
	return 0;
}
