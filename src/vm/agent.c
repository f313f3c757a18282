/*
 * agent.c - the host side of the guest agent channel (protocol: agent_proto.h).
 *
 * QEMU exposes the guest's virtio-serial port org.gureum.agent.0 as the unix socket
 * <sock_dir>/agent.sock (argv.c).  A session here: wait for the guest's readiness line,
 * take <dir>/agent.lock (flock, non-blocking: a second session is EBUSY at once, never a
 * connection left waiting in QEMU's backlog), check through QMP that the guest opened
 * the port (no agent = a clear error within seconds), connect, HELLO with a random
 * nonce, skip every byte until the matching READY, then the request.  Everything the
 * guest sends is parsed as outside input: a malformed frame fails the call (EPROTO),
 * never the daemon.  The lock dies with the fd, so a crashed daemon leaves none behind.
 */
#include "vm/vm-internal.h"
#include "vm/agent_proto.h"
#include "util/alloc.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define READY_TIMEOUT_MS 10000
#define PORT_OPEN_TIMEOUT_MS 10000
#define BOOT_TIMEOUT_MS 120000
#define PING_IDLE_MS 5000      /* a quiet session is pinged after this */
#define PONG_TIMEOUT_MS 20000  /* and given up after this without any answer */

struct session {
	const struct gr_vm_spec *s;
	int lock;
	int fd;
	struct gr_vm_agent_dec dec;
};

static void session_close(struct session *ss)
{
	if (ss->fd >= 0)
		close(ss->fd);
	if (ss->lock >= 0)
		close(ss->lock);
	gr_vm_agent_dec_clear(&ss->dec);
	ss->fd = ss->lock = -1;
}

static int send_frame(struct session *ss, unsigned type, const void *p, size_t n, gr_error_t *err)
{
	size_t len;
	uint8_t *f = gr_vm_agent_frame(type, p, n, &len);
	if (!f)
		return gr_error_set(err, E2BIG, "VM '%s': %s frame too large for the agent channel", ss->s->name,
				    gr_vm_agent_type_name(type));
	ssize_t w = gr_write_all(ss->fd, f, len);
	free(f);
	if (w != (ssize_t)len)
		return gr_error_sys(err, "VM '%s': writing to the guest agent", ss->s->name);
	return 0;
}

/* Read what the socket has into the decoder: 0 ok, -1 closed or failed. */
static int fill(struct session *ss, gr_error_t *err)
{
	uint8_t buf[65536];
	ssize_t n = read(ss->fd, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return gr_error_set(err, ECONNRESET, "VM '%s': the guest agent channel closed (QEMU stopped?)",
				    ss->s->name);
	if (gr_vm_agent_dec_feed(&ss->dec, buf, (size_t)n) < 0)
		return gr_error_set(err, EPROTO, "VM '%s': the guest agent sends more than it may", ss->s->name);
	return 0;
}

static int session_open(const struct gr_vm_spec *s, struct session *ss, gr_error_t *err)
{
	memset(ss, 0, sizeof *ss);
	ss->s = s;
	ss->fd = ss->lock = -1;
	/* a booting guest: its agent starts just before the readiness line.  A guest whose
	 * agent holds its port open is past that (also one that booted on another host and
	 * arrived by live migration, whose console here never showed the line). */
	if (gr__vm_agent_port_open(s, 0, NULL) != 1 && gr_vm_wait_ready(s, BOOT_TIMEOUT_MS, NULL, err) < 0)
		return -1;
	_cleanup_free_ char *lockp = gr_vm_path(s, "agent.lock");
	ss->lock = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (ss->lock < 0)
		return gr_error_sys(err, "VM '%s': %s", s->name, lockp);
	if (flock(ss->lock, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		session_close(ss);
		if (e == EWOULDBLOCK)
			return gr_error_set(err, EBUSY, "VM '%s': the guest agent is busy with another session (one exec "
					    "or resize at a time); try again when it ends", s->name);
		errno = e;
		return gr_error_sys(err, "VM '%s': flock %s", s->name, lockp);
	}
	int open_ = gr__vm_agent_port_open(s, PORT_OPEN_TIMEOUT_MS, err);
	if (open_ <= 0) {
		session_close(ss);
		if (open_ == 0)
			return gr_error_set(err, ENOTCONN, "VM '%s' has no guest agent: gureum-guest-agent did not open the "
					    "virtio-serial port " GR_VM_AGENT_PORT " (an image built before the agent? "
					    "rebuild it with `gureum image build debian-vm`)", s->name);
		return -1;
	}
	_cleanup_free_ char *path = gr_vm_path(s, "agent.sock");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path) {
		session_close(ss);
		return gr_error_set(err, EINVAL, "socket path too long: %s", path);
	}
	strcpy(sa.sun_path, path);
	ss->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ss->fd < 0 || connect(ss->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		gr_error_sys(err, "VM '%s': cannot connect to the guest agent socket %s", s->name, path);
		session_close(ss);
		return -1;
	}
	uint8_t hello[GR_VM_AGENT_MAGIC_LEN + GR_VM_AGENT_NONCE_LEN];
	memcpy(hello, GR_VM_AGENT_MAGIC, GR_VM_AGENT_MAGIC_LEN);
	uint8_t *nonce = hello + GR_VM_AGENT_MAGIC_LEN;
	if (getrandom(nonce, GR_VM_AGENT_NONCE_LEN, 0) != GR_VM_AGENT_NONCE_LEN) {
		long long t = gr__vm_now_ms() ^ ((long long)getpid() << 32);
		memcpy(nonce, &t, GR_VM_AGENT_NONCE_LEN);
	}
	if (send_frame(ss, GR_VMA_HELLO, hello, sizeof hello, err) < 0) {
		session_close(ss);
		return -1;
	}
	/* the exact READY frame for this nonce and our version */
	uint8_t ready[5 + GR_VM_AGENT_NONCE_LEN + 4];
	gr_vm_agent_put_u32(ready, 1 + GR_VM_AGENT_NONCE_LEN + 4);
	ready[4] = GR_VMA_READY;
	memcpy(ready + 5, nonce, GR_VM_AGENT_NONCE_LEN);
	gr_vm_agent_put_u32(ready + 5 + GR_VM_AGENT_NONCE_LEN, GR_VM_AGENT_VERSION);
	long long deadline = gr__vm_now_ms() + READY_TIMEOUT_MS;
	while (!gr_vm_agent_dec_sync(&ss->dec, ready, sizeof ready)) {
		long long left = deadline - gr__vm_now_ms();
		struct pollfd pf = {ss->fd, POLLIN, 0};
		if (left <= 0 || poll(&pf, 1, (int)left) == 0) {
			session_close(ss);
			return gr_error_set(err, ETIMEDOUT, "VM '%s': the guest agent did not answer in %d ms (a "
					    "gureum-guest-agent of another protocol version?)", s->name, READY_TIMEOUT_MS);
		}
		if (fill(ss, err) < 0) {
			session_close(ss);
			return -1;
		}
	}
	return 0;
}

/* An ERROR frame's text as an error: "busy" -> EBUSY, a failed exec -> its errno kind. */
static int agent_error(struct session *ss, const uint8_t *p, size_t len, gr_error_t *err)
{
	char msg[600];
	size_t n = len < sizeof msg - 1 ? len : sizeof msg - 1;
	for (size_t i = 0; i < n; i++)
		msg[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	msg[n] = 0;
	int code = !strncmp(msg, "busy", 4) ? EBUSY : strstr(msg, "No such file") ? ENOENT
		 : strstr(msg, "Permission denied") ? EACCES : EIO;
	return gr_error_set(err, code, "VM '%s': guest agent: %s", ss->s->name, msg);
}

static int bad_frame(struct session *ss, const char *why, gr_error_t *err)
{
	return gr_error_set(err, EPROTO, "VM '%s': bad frame from the guest agent: %s", ss->s->name, why);
}

/* ---- tty: a host pty whose master goes to the caller's console socket ---- */

static int send_fd(const char *sock_path, int fd, gr_error_t *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(sock_path) >= sizeof sa.sun_path)
		return gr_error_set(err, EINVAL, "console socket path too long: %s", sock_path);
	strcpy(sa.sun_path, sock_path);
	_cleanup_close_ int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof sa) < 0)
		return gr_error_sys(err, "console socket %s", sock_path);
	char byte = 0;
	struct iovec iov = {&byte, 1};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof u);
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	if (sendmsg(c, &msg, MSG_NOSIGNAL) < 0)
		return gr_error_sys(err, "sending the terminal to %s", sock_path);
	return 0;
}

/* The slave side (raw) for us, the master sent to the console socket. */
static int host_pty(const struct gr_vm_exec *x, int *slave, gr_error_t *err)
{
	_cleanup_close_ int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0)
		return gr_error_sys(err, "posix_openpt");
	char name[128];
	if (ptsname_r(m, name, sizeof name) != 0)
		return gr_error_sys(err, "ptsname");
	int s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		return gr_error_sys(err, "open %s", name);
	struct termios t;
	if (tcgetattr(s, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(s, TCSANOW, &t);
	}
	struct winsize ws = {.ws_row = (unsigned short)(x->rows ? x->rows : 24),
			     .ws_col = (unsigned short)(x->cols ? x->cols : 80)};
	ioctl(m, TIOCSWINSZ, &ws);
	if (send_fd(x->console_socket, m, err) < 0) {
		close(s);
		return -1;
	}
	*slave = s;
	return 0;
}

static int send_resize(struct session *ss, unsigned cols, unsigned rows, gr_error_t *err)
{
	uint8_t b[4] = {(uint8_t)(cols >> 8), (uint8_t)cols, (uint8_t)(rows >> 8), (uint8_t)rows};
	return send_frame(ss, GR_VMA_RESIZE, b, 4, err);
}

/* ---- exec ---- */

static int pump(struct session *ss, const struct gr_vm_exec *x, int slave, int *exit_status, gr_error_t *err)
{
	int in = slave >= 0 ? slave : x->fd_in;
	int in_open = in >= 0;
	struct winsize last = {0};
	if (slave >= 0)
		ioctl(slave, TIOCGWINSZ, &last);
	if (!in_open && send_frame(ss, GR_VMA_STDIN, NULL, 0, err) < 0)
		return -1;
	long long last_rx = gr__vm_now_ms(), ping_at = 0;
	for (;;) {
		unsigned type;
		const uint8_t *p;
		size_t len;
		const char *why;
		int r;
		while ((r = gr_vm_agent_dec_next(&ss->dec, &type, &p, &len, &why)) == 1) {
			switch (type) {
			case GR_VMA_STDOUT:
			case GR_VMA_STDERR: {
				int fd = slave >= 0 ? slave : type == GR_VMA_STDOUT ? x->fd_out : x->fd_err;
				if (fd >= 0 && len)
					gr_write_all(fd, p, len);
				break;
			}
			case GR_VMA_EXIT:
				if (len != 4)
					return bad_frame(ss, "EXIT payload is not 4 bytes", err);
				*exit_status = (int)gr_vm_agent_get_u32(p);
				if (*exit_status < 0 || *exit_status > 255)
					return bad_frame(ss, "EXIT status outside 0..255", err);
				return 0;
			case GR_VMA_ERROR:
				return agent_error(ss, p, len, err);
			case GR_VMA_READY:
			case GR_VMA_PONG:
				break; /* a repeated answer to our HELLO; liveness */
			default:
				return bad_frame(ss, "unexpected frame type from the guest", err);
			}
		}
		if (r < 0)
			return bad_frame(ss, why, err);
		struct pollfd pf[2] = {{ss->fd, POLLIN, 0}, {in_open ? in : -1, POLLIN, 0}};
		int n = poll(pf, 2, slave >= 0 ? 250 : 1000);
		if (n < 0 && errno != EINTR)
			return gr_error_sys(err, "poll");
		/* the guest's agent may die and respawn without our session: QEMU keeps our
		 * socket open, so only an unanswered PING tells */
		long long now = gr__vm_now_ms();
		if (n > 0 && pf[0].revents) {
			last_rx = now;
			ping_at = 0;
		} else if (ping_at && now - ping_at > PONG_TIMEOUT_MS) {
			return gr_error_set(err, ETIMEDOUT, "VM '%s': the guest agent stopped answering (gureum-guest-agent "
					    "restarted or hung?); the command's fate in the guest is unknown", ss->s->name);
		} else if (!ping_at && now - last_rx > PING_IDLE_MS) {
			if (send_frame(ss, GR_VMA_PING, "gureum", 6, err) < 0)
				return -1;
			ping_at = now;
		}
		if (slave >= 0) { /* the caller resized the terminal (TIOCSWINSZ on its master) */
			struct winsize ws;
			if (ioctl(slave, TIOCGWINSZ, &ws) == 0 && (ws.ws_col != last.ws_col || ws.ws_row != last.ws_row)) {
				last = ws;
				if (send_resize(ss, ws.ws_col, ws.ws_row, err) < 0)
					return -1;
			}
		}
		if (n <= 0)
			continue;
		if (pf[0].revents && fill(ss, err) < 0)
			return -1;
		if (in_open && pf[1].revents) {
			uint8_t buf[32768];
			ssize_t got = read(in, buf, sizeof buf);
			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (got <= 0) {
				in_open = 0;
				if (slave >= 0) {
					/* the caller closed the terminal: hang up (closing the channel
					 * ends the session; the agent kills the process group) */
					*exit_status = 128 + SIGHUP;
					return 0;
				}
				if (send_frame(ss, GR_VMA_STDIN, NULL, 0, err) < 0)
					return -1;
			} else if (send_frame(ss, GR_VMA_STDIN, buf, (size_t)got, err) < 0) {
				return -1;
			}
		}
	}
}

int gr_vm_agent_exec(const struct gr_vm_spec *s, const struct gr_vm_exec *x, int *exit_status, gr_error_t *err)
{
	if (!x->cmd || !x->cmd[0])
		return gr_error_set(err, EINVAL, "cmd: required");
	struct gr_vm_agent_exec req = {
		.tty = x->console_socket != NULL, .cols = x->cols, .rows = x->rows, .argv = x->cmd,
		.env = x->env, .cwd = (char *)(x->cwd ? x->cwd : "/"),
	};
	size_t plen;
	uint8_t *payload = gr_vm_agent_exec_encode(&req, &plen);
	if (!payload)
		return gr_error_set(err, E2BIG, "cmd: the command and its environment exceed 1 MiB");
	struct session ss;
	int rc = -1, slave = -1;
	if (session_open(s, &ss, err) < 0)
		goto out;
	if (x->console_socket && host_pty(x, &slave, err) < 0)
		goto out;
	if (send_frame(&ss, GR_VMA_EXEC, payload, plen, err) < 0)
		goto out;
	rc = pump(&ss, x, slave, exit_status, err);
out:
	free(payload);
	if (slave >= 0)
		close(slave);
	session_close(&ss);
	return rc;
}

int gr_vm_agent_set_cpus(const struct gr_vm_spec *s, unsigned n, int *online, gr_error_t *err)
{
	struct session ss;
	if (session_open(s, &ss, err) < 0)
		return -1;
	uint8_t b[4];
	gr_vm_agent_put_u32(b, n);
	int rc = send_frame(&ss, GR_VMA_CPUS, b, 4, err);
	long long deadline = gr__vm_now_ms() + 30000;
	while (rc == 0) {
		unsigned type;
		const uint8_t *p;
		size_t len;
		const char *why;
		int r = gr_vm_agent_dec_next(&ss.dec, &type, &p, &len, &why);
		if (r < 0) {
			rc = bad_frame(&ss, why, err);
		} else if (r == 1 && type == GR_VMA_EXIT && len == 4) {
			int got = (int)gr_vm_agent_get_u32(p);
			if (online)
				*online = got;
			if (got != (int)n)
				rc = gr_error_set(err, EIO, "VM '%s': %d vCPUs online after asking for %u", s->name, got, n);
			break;
		} else if (r == 1 && type == GR_VMA_ERROR) {
			rc = agent_error(&ss, p, len, err);
		} else if (r == 1 && type != GR_VMA_READY) {
			rc = bad_frame(&ss, "unexpected answer to CPUS", err);
		} else if (r == 0) {
			long long left = deadline - gr__vm_now_ms();
			struct pollfd pf = {ss.fd, POLLIN, 0};
			if (left <= 0 || poll(&pf, 1, (int)left) == 0)
				rc = gr_error_set(err, ETIMEDOUT, "VM '%s': the guest agent did not change the vCPUs in 30 s",
						  s->name);
			else
				rc = fill(&ss, err);
		}
	}
	session_close(&ss);
	return rc;
}
