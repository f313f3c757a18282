/*
 * test_notify.c - gr_notify on real datagram sockets: no $NOTIFY_SOCKET is a
 * no-op, a path socket and an abstract socket receive the message as sent, a
 * relative or missing socket is an error.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "tap.h"
#include "util/notify.h"

static int bound(const char *name, int abstract)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	memcpy(sa.sun_path + (abstract ? 1 : 0), name, len);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (abstract ? 1 : 0));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, salen) < 0)
		return -1;
	return fd;
}

static void received(int fd, const char *want, const char *what)
{
	char buf[256] = "";
	ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
	if (n > 0)
		buf[n] = 0;
	is_str(buf, want, "%s", what);
}

int main(void)
{
	unsetenv("NOTIFY_SOCKET");
	is_int(gr_notify("READY=1"), 0, "no NOTIFY_SOCKET: nothing sent");

	char dir[] = "/tmp/gr-notify-XXXXXX";
	ok(mkdtemp(dir) != NULL, "scratch folder");
	char path[128];
	snprintf(path, sizeof path, "%s/notify.sock", dir);
	int fd = bound(path, 0);
	ok(fd >= 0, "path socket bound");
	setenv("NOTIFY_SOCKET", path, 1);
	is_int(gr_notify("READY=1\nSTATUS=serving"), 1, "sent to a path socket");
	received(fd, "READY=1\nSTATUS=serving", "path socket got the message");

	char abs_name[64], env[80];
	snprintf(abs_name, sizeof abs_name, "gr-notify-test-%d", (int)getpid());
	int afd = bound(abs_name, 1);
	ok(afd >= 0, "abstract socket bound");
	snprintf(env, sizeof env, "@%s", abs_name);
	setenv("NOTIFY_SOCKET", env, 1);
	is_int(gr_notify("STOPPING=1"), 1, "sent to an abstract socket");
	received(afd, "STOPPING=1", "abstract socket got the message");

	setenv("NOTIFY_SOCKET", "relative.sock", 1);
	ok(gr_notify("READY=1") < 0 && errno == EINVAL, "a relative socket name is refused");
	snprintf(path, sizeof path, "%s/absent.sock", dir);
	setenv("NOTIFY_SOCKET", path, 1);
	ok(gr_notify("READY=1") < 0 && errno == ENOENT, "a missing socket is an error (ENOENT)");

	close(fd);
	close(afd);
	snprintf(path, sizeof path, "%s/notify.sock", dir);
	unlink(path);
	rmdir(dir);
	return tap_done();
}
