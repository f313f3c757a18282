/*
 * gureum-guest-agent.c - the agent inside gureum's VM guests (built static, installed as
 * /sbin/gureum-guest-agent by the debian-vm recipe and started by the guest init before
 * the readiness line).
 *
 * It opens the virtio-serial port named org.gureum.agent.0 (found through
 * /sys/class/virtio-ports/<port>/name: the guest has no udev) and serves one session at
 * a time in the protocol of src/vm/agent_proto.h: HELLO -> READY, then EXEC (pipes, or a
 * pty with `tty`), STDIN/RESIZE/SIGNAL in, STDOUT/STDERR and EXIT/ERROR out; CPUS n
 * onlines or offlines vCPUs through sysfs.  The host may vanish at any time: a read of 0
 * (the host end closed) or a new HELLO ends the session and kills its process group;
 * bytes before a HELLO are skipped.  A second EXEC while one runs is answered "busy".
 * Nothing here trusts the host's bytes: a malformed frame ends the session with an
 * ERROR, never the agent.
 */
#include "vm/agent_proto.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static int port = -1;
static struct gr_vm_agent_dec dec;
static int synced;
/* the running process of the session */
static pid_t child = -1;
static int child_status;
static int fd_in = -1, fd_out = -1, fd_err = -1, fd_pty = -1;

static void logmsg(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "gureum-guest-agent: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

static int write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int send_frame(unsigned type, const void *p, size_t n)
{
	size_t len;
	uint8_t *f = gr_vm_agent_frame(type, p, n, &len);
	if (!f)
		return -1;
	int rc = write_all(port, f, len);
	free(f);
	return rc;
}

static void send_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	send_frame(GR_VMA_ERROR, msg, strlen(msg));
}

static void send_exit(int status)
{
	uint8_t b[4];
	gr_vm_agent_put_u32(b, (uint32_t)status);
	send_frame(GR_VMA_EXIT, b, 4);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void end_child(void)
{
	if (child > 0) {
		kill(-child, SIGHUP);
		kill(-child, SIGKILL);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	child = -1;
	close_fd(&fd_in);
	close_fd(&fd_out);
	close_fd(&fd_err);
	close_fd(&fd_pty);
}

static int find_port(char *dev, size_t len)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	struct dirent *de;
	int found = 0;
	while (d && !found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[512], name[128] = "";
		snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", de->d_name);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(name, sizeof name, f))
			name[strcspn(name, "\n")] = 0;
		fclose(f);
		if (!strcmp(name, GR_VM_AGENT_PORT)) {
			snprintf(dev, len, "/dev/%s", de->d_name);
			found = 1;
		}
	}
	if (d)
		closedir(d);
	return found;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- exec ---- */

static void set_env(char **env, int tty)
{
	clearenv();
	setenv("PATH", "/sbin:/bin:/usr/sbin:/usr/bin", 1);
	setenv("HOME", "/root", 1);
	if (tty)
		setenv("TERM", "xterm", 1);
	for (size_t i = 0; env && env[i]; i++)
		putenv(env[i]);
}

static void start_exec(const struct gr_vm_agent_exec *x)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1}, ep[2] = {-1, -1};
	int master = -1;
	char *slave = NULL;
	if (pipe2(ep, O_CLOEXEC) < 0)
		goto sys_fail;
	if (x->tty) {
		master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || !(slave = ptsname(master)))
			goto sys_fail;
		slave = strdup(slave);
		struct winsize ws = {.ws_row = (unsigned short)(x->rows ? x->rows : 24),
				     .ws_col = (unsigned short)(x->cols ? x->cols : 80)};
		ioctl(master, TIOCSWINSZ, &ws);
	} else if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0) {
		goto sys_fail;
	}
	pid_t pid = fork();
	if (pid < 0)
		goto sys_fail;
	if (pid == 0) {
		setsid();
		if (x->tty) {
			int s = open(slave, O_RDWR);
			if (s < 0 || ioctl(s, TIOCSCTTY, 0) < 0)
				goto child_fail;
			dup2(s, 0);
			dup2(s, 1);
			dup2(s, 2);
			if (s > 2)
				close(s);
		} else {
			dup2(in[0], 0);
			dup2(out[1], 1);
			dup2(er[1], 2);
		}
		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		if (chdir(x->cwd) < 0)
			goto child_fail;
		set_env(x->env, x->tty);
		execvp(x->argv[0], x->argv);
	child_fail:;
		int e = errno;
		if (write(ep[1], &e, sizeof e) < 0)
			_exit(126);
		_exit(127);
	}
	close(ep[1]);
	ep[1] = -1;
	int e = 0;
	ssize_t n;
	while ((n = read(ep[0], &e, sizeof e)) < 0 && errno == EINTR)
		;
	close(ep[0]);
	if (n == sizeof e) { /* the exec failed: report it, reap the child */
		waitpid(pid, NULL, 0);
		send_error("exec %s (cwd %s): %s", x->argv[0], x->cwd, strerror(e));
		close_fd(&master);
		for (int i = 0; i < 2; i++) {
			close_fd(&in[i]);
			close_fd(&out[i]);
			close_fd(&er[i]);
		}
		free(slave);
		return;
	}
	child = pid;
	if (x->tty) {
		fd_pty = master;
	} else {
		close(in[0]);
		close(out[1]);
		close(er[1]);
		fd_in = in[1];
		fd_out = out[0];
		fd_err = er[0];
	}
	free(slave);
	return;
sys_fail:
	send_error("cannot start %s: %s", x->argv[0], strerror(errno));
	close_fd(&master);
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&out[i]);
		close_fd(&er[i]);
		close_fd(&ep[i]);
	}
	free(slave);
}

/* Forward what a child fd has; 0 at EOF/EIO (then closes it). */
static int forward(int *fd, unsigned type)
{
	uint8_t buf[32768];
	ssize_t n = read(*fd, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0) {
		close_fd(fd);
		return 0;
	}
	send_frame(type, buf, (size_t)n);
	return 1;
}

/* The child exited: send what it left in its pipes or terminal, then EXIT. */
static void finish_child(void)
{
	int *fds[3] = {&fd_out, &fd_err, &fd_pty};
	unsigned types[3] = {GR_VMA_STDOUT, GR_VMA_STDERR, GR_VMA_STDOUT};
	/* a grandchild may keep a pipe open: wait for EOF only a short while */
	for (int round = 0; round < 20; round++) {
		struct pollfd pf[3];
		int any = 0;
		for (int i = 0; i < 3; i++) {
			pf[i] = (struct pollfd){*fds[i], POLLIN, 0};
			any |= *fds[i] >= 0;
		}
		if (!any || poll(pf, 3, 50) <= 0)
			break;
		for (int i = 0; i < 3; i++)
			if (*fds[i] >= 0 && pf[i].revents)
				forward(fds[i], types[i]);
	}
	int st = child_status;
	send_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	child = -1;
	end_child();
}

/* ---- vCPUs ---- */

static int cpus_online(void)
{
	int n = 0;
	for (int i = 0; i < 1024; i++) {
		char path[96], v[8] = "1";
		snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d", i);
		if (access(path, F_OK) < 0)
			break;
		snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/online", i);
		FILE *f = fopen(path, "re");
		if (f) { /* cpu0 has no online file: always online */
			if (!fgets(v, sizeof v, f))
				v[0] = '0';
			fclose(f);
		}
		n += v[0] == '1';
	}
	return n;
}

static void set_cpus(uint32_t want)
{
	int present = 0;
	while (present < 1024) {
		char path[96];
		snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d", present);
		if (access(path, F_OK) < 0)
			break;
		present++;
	}
	if (want < 1 || (int)want > present) {
		send_error("cpus: %u asked, this guest has 1..%d vCPUs", want, present);
		return;
	}
	for (int i = 1; i < present; i++) {
		char path[96];
		snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/online", i);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		const char *v = i < (int)want ? "1" : "0";
		if (write(fd, v, 1) < 0 && errno != EINVAL) {
			int e = errno;
			close(fd);
			send_error("cpus: cpu%d online=%s: %s", i, v, strerror(e));
			return;
		}
		close(fd);
	}
	send_exit(cpus_online());
}

/* ---- session ---- */

static void handle(unsigned type, const uint8_t *p, size_t len)
{
	switch (type) {
	case GR_VMA_HELLO: {
		end_child();
		uint8_t r[GR_VM_AGENT_NONCE_LEN + 4];
		memcpy(r, p + GR_VM_AGENT_MAGIC_LEN, GR_VM_AGENT_NONCE_LEN);
		gr_vm_agent_put_u32(r + GR_VM_AGENT_NONCE_LEN, GR_VM_AGENT_VERSION);
		send_frame(GR_VMA_READY, r, sizeof r);
		break;
	}
	case GR_VMA_EXEC: {
		if (child > 0) {
			send_error("busy: another exec is running in this guest");
			break;
		}
		struct gr_vm_agent_exec x;
		const char *why = NULL;
		if (gr_vm_agent_exec_decode(p, len, &x, &why) < 0) {
			send_error("bad EXEC request: %s", why);
			break;
		}
		start_exec(&x);
		gr_vm_agent_exec_clear(&x);
		break;
	}
	case GR_VMA_STDIN:
		if (fd_pty >= 0 && len)
			write_all(fd_pty, p, len);
		else if (fd_in >= 0 && len)
			write_all(fd_in, p, len);
		else if (!len)
			close_fd(&fd_in);
		break;
	case GR_VMA_RESIZE:
		if (len == 4 && fd_pty >= 0) {
			struct winsize ws = {.ws_col = (unsigned short)(p[0] << 8 | p[1]),
					     .ws_row = (unsigned short)(p[2] << 8 | p[3])};
			if (ws.ws_col && ws.ws_row)
				ioctl(fd_pty, TIOCSWINSZ, &ws);
		}
		break;
	case GR_VMA_SIGNAL:
		if (len == 1 && child > 0 && p[0] > 0 && p[0] < 65)
			kill(-child, p[0]);
		break;
	case GR_VMA_PING:
		send_frame(GR_VMA_PONG, p, len > 8 ? 8 : len);
		break;
	case GR_VMA_CPUS:
		if (len != 4)
			send_error("bad CPUS request: %zu bytes", len);
		else
			set_cpus(gr_vm_agent_get_u32(p));
		break;
	default:
		send_error("unexpected %s frame from the host", gr_vm_agent_type_name(type));
	}
}

/* Frames in the buffer; a malformed stream ends the session (resync on a HELLO). */
static void drain(void)
{
	static uint8_t hello_hdr[5 + GR_VM_AGENT_MAGIC_LEN];
	if (!hello_hdr[0] && !hello_hdr[3]) {
		gr_vm_agent_put_u32(hello_hdr, 1 + GR_VM_AGENT_MAGIC_LEN + GR_VM_AGENT_NONCE_LEN);
		hello_hdr[4] = GR_VMA_HELLO;
		memcpy(hello_hdr + 5, GR_VM_AGENT_MAGIC, GR_VM_AGENT_MAGIC_LEN);
	}
	for (;;) {
		if (!synced) {
			if (!gr_vm_agent_dec_sync(&dec, hello_hdr, sizeof hello_hdr))
				return;
			/* put the header back, so the HELLO frame is read whole */
			dec.off -= sizeof hello_hdr;
			synced = 1;
		}
		unsigned type;
		const uint8_t *p;
		size_t len;
		const char *why;
		int r = gr_vm_agent_dec_next(&dec, &type, &p, &len, &why);
		if (r == 0)
			return;
		if (r < 0 || (type == GR_VMA_HELLO && (len != GR_VM_AGENT_MAGIC_LEN + GR_VM_AGENT_NONCE_LEN ||
							 memcmp(p, GR_VM_AGENT_MAGIC, GR_VM_AGENT_MAGIC_LEN)))) {
			send_error("bad stream from the host: %s", r < 0 ? why : "HELLO without magic");
			end_child();
			dec.failed = 0;
			synced = 0;
			continue;
		}
		handle(type, p, len);
	}
}

static void on_sigchld(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = on_sigchld};
	sigaction(SIGCHLD, &sa, NULL);
	char dev[300];
	for (int i = 0; !find_port(dev, sizeof dev); i++) {
		if (i == 50)
			logmsg("waiting for the virtio-serial port %s", GR_VM_AGENT_PORT);
		sleep_ms(100);
	}
	port = open(dev, O_RDWR | O_CLOEXEC);
	if (port < 0) {
		logmsg("cannot open %s: %s", dev, strerror(errno));
		return 1;
	}
	logmsg("serving on %s (%s)", dev, GR_VM_AGENT_PORT);
	for (;;) {
		if (child > 0) {
			int st;
			pid_t w = waitpid(child, &st, WNOHANG);
			if (w == child) {
				child_status = st;
				finish_child();
				continue;
			}
		}
		struct pollfd pf[4] = {
			{port, POLLIN, 0}, {fd_out, POLLIN, 0}, {fd_err, POLLIN, 0}, {fd_pty, POLLIN, 0},
		};
		/* a short timeout: SIGCHLD may arrive just before poll */
		int n = poll(pf, 4, child > 0 ? 100 : -1);
		if (n < 0 && errno != EINTR)
			sleep_ms(100);
		if (n <= 0)
			continue;
		if (pf[0].revents & POLLIN) {
			uint8_t buf[65536];
			ssize_t r = read(port, buf, sizeof buf);
			if (r > 0) {
				if (gr_vm_agent_dec_feed(&dec, buf, (size_t)r) < 0) {
					gr_vm_agent_dec_clear(&dec);
					synced = 0;
				}
				drain();
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				/* the host closed its end: the session is over */
				end_child();
				gr_vm_agent_dec_clear(&dec);
				synced = 0;
				sleep_ms(100);
			}
		} else if (pf[0].revents & (POLLHUP | POLLERR)) {
			end_child();
			gr_vm_agent_dec_clear(&dec);
			synced = 0;
			sleep_ms(100);
		}
		if (fd_out >= 0 && pf[1].revents)
			forward(&fd_out, GR_VMA_STDOUT);
		if (fd_err >= 0 && pf[2].revents)
			forward(&fd_err, GR_VMA_STDERR);
		if (fd_pty >= 0 && pf[3].revents)
			forward(&fd_pty, GR_VMA_STDOUT); /* EIO: the terminal is closed; the exit follows */
	}
}
