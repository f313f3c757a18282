/*
 * test_peer.c - the peer channel's identity and client (api/peer.h): the key and
 * certificate are made once (key mode 0600) and loaded again unchanged; the fingerprint is
 * the certificate's SHA-256.  The client, against `openssl s_server -www` on loopback
 * holding identity A: A's pin is served (200 body written), B's pin is refused with EACCES
 * naming the host, a record without an address is refused naming the host, a closed port
 * is EIO naming it.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "api/peer.h"
#include "tap.h"

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		abort();
	close(fd);
	return ntohs(sa.sin_port);
}

static bool can_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	bool ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

int main(void)
{
	if (system("command -v openssl >/dev/null") != 0) {
		skip("needs openssl");
		return tap_done();
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	char dir[] = "/tmp/gr-test-peer.XXXXXX", dir_b[64];
	if (!mkdtemp(dir))
		abort();
	snprintf(dir_b, sizeof dir_b, "%s/b", dir);
	gr_error_t err = { 0 };
	struct gr_peer_identity a, again, b;
	ok(gr_peer_identity_load(dir, &a, &err) == 0, "identity made (%s)", err.msg);
	struct stat st;
	ok(stat(a.key_file, &st) == 0 && (st.st_mode & 0777) == 0600, "key mode 0600");
	ok(strlen(a.fingerprint) == 71 && !strncmp(a.pin, "sha256//", 8), "fingerprint %s, pin %s", a.fingerprint,
	   a.pin);
	char cmd[1024], want[200] = "";
	snprintf(cmd, sizeof cmd, "openssl x509 -in %s -outform DER | sha256sum | cut -c1-64", a.cert_file);
	FILE *f = popen(cmd, "r");
	if (f && fgets(want, sizeof want, f))
		want[strcspn(want, "\n")] = 0;
	if (f)
		pclose(f);
	ok(!strcmp(a.fingerprint + 7, want), "the fingerprint is the certificate's sha256 (%s)", want);
	ok(gr_peer_identity_load(dir, &again, &err) == 0 && !strcmp(again.fingerprint, a.fingerprint) &&
	   !strcmp(again.pin, a.pin), "loaded again: the same identity");
	gr_peer_identity_clear(&again);
	ok(gr_peer_identity_load(dir_b, &b, &err) == 0 && strcmp(b.pin, a.pin), "a second identity, another pin");

	int port = free_port();
	char accept[32];
	snprintf(accept, sizeof accept, "127.0.0.1:%d", port);
	pid_t srv = fork();
	if (srv == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept", accept, "-cert", a.cert_file,
		       "-key", a.key_file, (char *)NULL);
		_exit(127);
	}
	bool up = false;
	for (int i = 0; i < 200 && !up; i++) {
		up = can_connect(port);
		if (!up)
			usleep(50000);
	}
	ok(up, "openssl s_server with identity A on %s", accept);

	json_t *rec_a = gr_peer_identity_record(&a, accept), *rec_b = gr_peer_identity_record(&b, accept);
	char out[] = "/tmp/gr-test-peer-out.XXXXXX";
	int fd = mkstemp(out);
	ok(gr_peer_get(&b, "hA", rec_a, "/", fd, &err) == 0, "A's pin: served (%s)", err.msg);
	ok(lseek(fd, 0, SEEK_END) > 0, "the body was written");
	ftruncate(fd, 0);
	ok(gr_peer_get(&a, "hA", rec_b, "/", fd, &err) < 0 && err.code == EACCES && strstr(err.msg, "host hA"),
	   "B's pin for A's server: refused (%s)", err.msg);
	ok(lseek(fd, 0, SEEK_END) == 0, "nothing written");
	json_t *noaddr = json_pack("{s:s}", "pin", a.pin);
	ok(gr_peer_get(&a, "hX", noaddr, "/", fd, &err) < 0 && strstr(err.msg, "host hX"),
	   "no peer address: refused naming the host (%s)", err.msg);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	ok(gr_peer_get(&b, "hA", rec_a, "/", fd, &err) < 0 && err.code == EIO && strstr(err.msg, "host hA"),
	   "server gone: EIO naming the host (%s)", err.msg);
	close(fd);
	unlink(out);
	json_decref(noaddr);
	json_decref(rec_a);
	json_decref(rec_b);
	gr_peer_identity_clear(&a);
	gr_peer_identity_clear(&b);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		diag("cannot remove %s", dir);
	return tap_done();
}
