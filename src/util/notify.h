/*
 * notify.h - readiness and status for a service manager ($NOTIFY_SOCKET, the
 * datagram protocol of systemd's sd_notify), without linking libsystemd.
 */
#ifndef GR_UTIL_NOTIFY_H
#define GR_UTIL_NOTIFY_H

/* Sends STATE (e.g. "READY=1\nSTATUS=serving") to $NOTIFY_SOCKET (a path, or an
 * abstract socket when it starts with '@'). 1 sent, 0 no $NOTIFY_SOCKET (not run
 * by a service manager), -1 with errno when the socket could not be reached. */
int gr_notify(const char *state);

#endif
