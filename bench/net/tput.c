/*
 * tput.c - the TCP throughput tool of bench/net: one connection, one way.
 *
 *   tput recv PORT             accept one connection on PORT, read to EOF, close
 *   tput send ADDR PORT SECS   connect, write 128 KiB blocks for SECS seconds,
 *                              shut the write side, wait for the receiver's
 *                              close (everything was read) and print Gbit/s
 *                              (bytes * 8 / the whole time, close included)
 *
 * Built by bench/net/run.sh; no dependency but libc.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BLOCK (128 * 1024)

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int recv_main(int port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 1) < 0) {
		perror("tput recv: listen");
		return 1;
	}
	int c = accept(s, NULL, NULL);
	if (c < 0) {
		perror("tput recv: accept");
		return 1;
	}
	static char buf[BLOCK];
	ssize_t n;
	while ((n = read(c, buf, sizeof buf)) > 0)
		;
	close(c);
	close(s);
	return n < 0;
}

static int send_main(const char *addr, int port, double secs)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		fprintf(stderr, "tput send: '%s' is not an IPv4 address\n", addr);
		return 2;
	}
	int s = -1;
	for (int tries = 0; tries < 50; tries++) { /* the receiver may be starting */
		s = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(s, (struct sockaddr *)&a, sizeof a) == 0)
			break;
		close(s);
		s = -1;
		usleep(100000);
	}
	if (s < 0) {
		perror("tput send: connect");
		return 1;
	}
	static char buf[BLOCK];
	memset(buf, 0x5a, sizeof buf);
	double t0 = now(), end = t0 + secs;
	unsigned long long bytes = 0;
	while (now() < end) {
		ssize_t n = write(s, buf, sizeof buf);
		if (n <= 0) {
			perror("tput send: write");
			return 1;
		}
		bytes += (unsigned long long)n;
	}
	shutdown(s, SHUT_WR);
	while (read(s, buf, sizeof buf) > 0)
		;
	double t = now() - t0;
	close(s);
	printf("%.3f\n", (double)bytes * 8 / t / 1e9);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "recv"))
		return recv_main(atoi(argv[2]));
	if (argc == 5 && !strcmp(argv[1], "send"))
		return send_main(argv[2], atoi(argv[3]), atof(argv[4]));
	fprintf(stderr, "usage: tput recv PORT | tput send ADDR PORT SECS\n");
	return 2;
}
