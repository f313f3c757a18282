/*
 * test_vm_agent.c - the guest agent protocol (src/vm/agent_proto.c): frames round-trip
 * whole and fed one byte at a time; malformed streams (length 0, over 1 MiB, unknown
 * type) fail the decoder for good with a reason; resync skips garbage and a previous
 * session's half frame up to the exact READY/HELLO; the EXEC payload round-trips and
 * every truncation, NUL byte, trailing byte, bad env entry and oversized count is
 * refused, never read past; and the QEMU argv carries the agent port, the balloon and
 * the resize ceilings.
 */
#include "tap.h"
#include "util/alloc.h"
#include "vm/agent_proto.h"
#include "vm/vm.h"

#include <stdlib.h>
#include <string.h>

static void test_frames(void)
{
	size_t n1, n2;
	uint8_t *f1 = gr_vm_agent_frame(GR_VMA_STDOUT, "hello", 5, &n1);
	uint8_t *f2 = gr_vm_agent_frame(GR_VMA_STDIN, NULL, 0, &n2);
	is_int(n1, 10, "frame = 4-byte length + type + payload");
	is_int(gr_vm_agent_get_u32(f1), 6, "length counts type + payload");
	struct gr_vm_agent_dec d = {0};
	unsigned type;
	const uint8_t *p;
	size_t len;
	const char *why = NULL;
	/* one byte at a time: nothing until the frame is whole */
	int early = 0;
	for (size_t i = 0; i + 1 < n1; i++) {
		gr_vm_agent_dec_feed(&d, f1 + i, 1);
		early |= gr_vm_agent_dec_next(&d, &type, &p, &len, &why) != 0;
	}
	ok(!early, "a partial frame yields nothing");
	gr_vm_agent_dec_feed(&d, f1 + n1 - 1, 1);
	gr_vm_agent_dec_feed(&d, f2, n2);
	ok(gr_vm_agent_dec_next(&d, &type, &p, &len, &why) == 1 && type == GR_VMA_STDOUT && len == 5 &&
		   !memcmp(p, "hello", 5),
	   "STDOUT frame decoded");
	ok(gr_vm_agent_dec_next(&d, &type, &p, &len, &why) == 1 && type == GR_VMA_STDIN && len == 0,
	   "empty STDIN (end of input) decoded");
	is_int(gr_vm_agent_dec_next(&d, &type, &p, &len, &why), 0, "then nothing");
	gr_vm_agent_dec_clear(&d);
	free(f1);
	free(f2);
	ok(gr_vm_agent_frame(GR_VMA_STDOUT, "", GR_VM_AGENT_FRAME_MAX, &n1) == NULL, "a payload over 1 MiB is refused");
	is_str(gr_vm_agent_type_name(GR_VMA_EXIT), "EXIT", "type names");
	is_str(gr_vm_agent_type_name(200), "?", "unknown type name");
	is_str(gr_vm_agent_type_name(GR_VMA_PONG), "PONG", "the last type has a name");
}

static void bad_stream(const uint8_t *bytes, size_t n, const char *want, const char *what)
{
	struct gr_vm_agent_dec d = {0};
	unsigned type;
	const uint8_t *p;
	size_t len;
	const char *why = NULL;
	gr_vm_agent_dec_feed(&d, bytes, n);
	int r = gr_vm_agent_dec_next(&d, &type, &p, &len, &why);
	ok(r == -1 && why && strstr(why, want), "%s: refused (%s)", what, why ? why : "no reason");
	ok(gr_vm_agent_dec_next(&d, &type, &p, &len, &why) == -1, "%s: the decoder stays failed", what);
	gr_vm_agent_dec_clear(&d);
}

static void test_malformed(void)
{
	bad_stream((const uint8_t *)"\0\0\0\0\x07", 5, "length 0", "zero length");
	bad_stream((const uint8_t *)"\0\x10\0\x01\x07", 5, "over 1 MiB", "length over the cap");
	bad_stream((const uint8_t *)"\0\0\0\x01\x0e", 5, "unknown frame type", "type 14");
	bad_stream((const uint8_t *)"\0\0\0\x01\x63", 5, "unknown frame type", "type 99");
	bad_stream((const uint8_t *)"\0\0\0\x01\0", 5, "unknown frame type", "type 0");
	/* the buffer refuses to grow past two frames' worth */
	struct gr_vm_agent_dec d = {0};
	static uint8_t big[1 << 20];
	int refused = 0;
	for (int i = 0; i < 4 && !refused; i++)
		refused = gr_vm_agent_dec_feed(&d, big, sizeof big) < 0;
	ok(refused, "a peer that never completes a frame cannot grow the buffer without bound");
	gr_vm_agent_dec_clear(&d);
}

static void test_sync(void)
{
	/* a READY for our nonce after garbage and a previous session's half frame */
	uint8_t ready[5 + 8 + 4];
	gr_vm_agent_put_u32(ready, 13);
	ready[4] = GR_VMA_READY;
	memcpy(ready + 5, "NONCE123", 8);
	gr_vm_agent_put_u32(ready + 13, GR_VM_AGENT_VERSION);
	size_t n;
	uint8_t *half = gr_vm_agent_frame(GR_VMA_STDOUT, "old session output", 18, &n);
	uint8_t *next = gr_vm_agent_frame(GR_VMA_EXIT, "\0\0\0\x05", 4, &n);
	struct gr_vm_agent_dec d = {0};
	gr_vm_agent_dec_feed(&d, "garbage", 7);
	gr_vm_agent_dec_feed(&d, half, 9); /* cut in the middle */
	is_int(gr_vm_agent_dec_sync(&d, ready, sizeof ready), 0, "no READY yet");
	gr_vm_agent_dec_feed(&d, ready, 6); /* the READY split across reads */
	is_int(gr_vm_agent_dec_sync(&d, ready, sizeof ready), 0, "half a READY is not enough");
	gr_vm_agent_dec_feed(&d, ready + 6, sizeof ready - 6);
	gr_vm_agent_dec_feed(&d, next, n);
	is_int(gr_vm_agent_dec_sync(&d, ready, sizeof ready), 1, "READY found past garbage and a half frame");
	unsigned type;
	const uint8_t *p;
	size_t len;
	const char *why;
	ok(gr_vm_agent_dec_next(&d, &type, &p, &len, &why) == 1 && type == GR_VMA_EXIT && gr_vm_agent_get_u32(p) == 5,
	   "frames after the READY decode normally");
	/* a READY with another nonce is skipped */
	struct gr_vm_agent_dec d2 = {0};
	uint8_t other[sizeof ready];
	memcpy(other, ready, sizeof ready);
	memcpy(other + 5, "OTHERNON", 8);
	gr_vm_agent_dec_feed(&d2, other, sizeof other);
	is_int(gr_vm_agent_dec_sync(&d2, ready, sizeof ready), 0, "a READY for another session's nonce is ignored");
	gr_vm_agent_dec_clear(&d);
	gr_vm_agent_dec_clear(&d2);
	free(half);
	free(next);
}

static void test_exec_payload(void)
{
	char *argv[] = {"sh", "-c", "echo 'a b'", NULL};
	char *env[] = {"A=1", "EMPTY=", NULL};
	struct gr_vm_agent_exec x = {.tty = 1, .cols = 132, .rows = 43, .argv = argv, .env = env, .cwd = "/tmp"};
	size_t len;
	uint8_t *p = gr_vm_agent_exec_encode(&x, &len);
	ok(p != NULL, "EXEC encoded");
	struct gr_vm_agent_exec y;
	const char *why = NULL;
	ok(gr_vm_agent_exec_decode(p, len, &y, &why) == 0, "EXEC decoded (%s)", why ? why : "ok");
	ok(y.tty == 1 && y.cols == 132 && y.rows == 43, "tty and size round-trip");
	ok(y.argv && !strcmp(y.argv[0], "sh") && !strcmp(y.argv[2], "echo 'a b'") && !y.argv[3], "argv round-trips");
	ok(y.env && !strcmp(y.env[1], "EMPTY=") && !y.env[2], "env round-trips");
	is_str(y.cwd, "/tmp", "cwd round-trips");
	gr_vm_agent_exec_clear(&y);
	/* every truncation is refused, none read past the end (ASan watches) */
	int all = 1;
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *t = xmalloc(cut ? cut : 1);
		memcpy(t, p, cut);
		if (gr_vm_agent_exec_decode(t, cut, &y, &why) == 0) {
			all = 0;
			gr_vm_agent_exec_clear(&y);
		}
		free(t);
	}
	ok(all, "every truncated EXEC is refused");
	/* trailing byte */
	uint8_t *t = xmalloc(len + 1);
	memcpy(t, p, len);
	t[len] = 'x';
	ok(gr_vm_agent_exec_decode(t, len + 1, &y, &why) < 0 && strstr(why, "trailing"), "trailing bytes refused");
	free(t);
	/* a NUL inside argv[0] ("sh" starts after 5 + 4 + 4 + 4 bytes) */
	t = xmalloc(len);
	memcpy(t, p, len);
	t[17] = 0;
	ok(gr_vm_agent_exec_decode(t, len, &y, &why) < 0 && strstr(why, "NUL"), "a NUL inside a string refused (%s)",
	   why);
	/* unknown flags */
	memcpy(t, p, len);
	t[0] = 0x83;
	ok(gr_vm_agent_exec_decode(t, len, &y, &why) < 0 && strstr(why, "flags"), "unknown flags refused");
	/* huge argc cannot make it allocate */
	memcpy(t, p, len);
	gr_vm_agent_put_u32(t + 5, 0x7fffffff);
	ok(gr_vm_agent_exec_decode(t, len, &y, &why) < 0 && strstr(why, "argc"), "a huge argc is refused up front");
	memcpy(t, p, len);
	gr_vm_agent_put_u32(t + 5, 0);
	ok(gr_vm_agent_exec_decode(t, len, &y, &why) < 0 && strstr(why, "empty argv"), "no argv refused");
	free(t);
	free(p);
	char *badenv[] = {"NOEQUALS", NULL};
	struct gr_vm_agent_exec z = {.argv = argv, .env = badenv};
	p = gr_vm_agent_exec_encode(&z, &len);
	ok(gr_vm_agent_exec_decode(p, len, &y, &why) < 0 && strstr(why, "KEY=VALUE"), "env without '=' refused");
	free(p);
	char *emptyarg[] = {"", NULL};
	struct gr_vm_agent_exec e = {.argv = emptyarg};
	p = gr_vm_agent_exec_encode(&e, &len);
	ok(gr_vm_agent_exec_decode(p, len, &y, &why) < 0 && strstr(why, "program name"), "empty program refused");
	free(p);
	struct gr_vm_agent_exec nocwd = {.argv = argv};
	p = gr_vm_agent_exec_encode(&nocwd, &len);
	ok(gr_vm_agent_exec_decode(p, len, &y, &why) == 0 && !strcmp(y.cwd, "/"), "no cwd = /");
	gr_vm_agent_exec_clear(&y);
	free(p);
}

static int has(char **v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return 1;
	return 0;
}

static int has_sub(char **v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strstr(v[i], s))
			return 1;
	return 0;
}

static void test_argv(void)
{
	struct gr_vm_host h = {.kvm = 0, .seccomp = 0, .tsc_khz = 0};
	struct gr_vm_config c = {
		.name = "a1", .kernel = "/k", .disk = "/d.qcow2", .qmp_sock = "/r/qmp.sock", .serial_sock = "/r/serial.sock",
		.cpus = 1, .memory_mb = 256, .max_cpus = 4, .max_memory_mb = 1024, .agent_sock = "/r/agent.sock",
		.balloon = 1, .sandbox = 0,
	};
	char **argv = NULL;
	gr_error_t err;
	ok(gr_vm_argv_build(&c, &h, &argv, &err) == 0, "argv with agent, balloon, ceilings");
	ok(has(argv, "4") && has(argv, "1024"), "QEMU gets the maximum vCPUs and RAM (-smp 4 -m 1024)");
	ok(has_sub(argv, " maxcpus=1"), "the kernel boots the launch vCPU count (maxcpus=1)");
	ok(has(argv, "virtio-balloon-device,id=balloon0"), "a balloon device");
	ok(has(argv, "virtio-serial-device,id=vser0") && has_sub(argv, "socket,id=agent,path=/r/agent.sock,server=on") &&
		   has(argv, "virtserialport,bus=vser0.0,chardev=agent,name=" GR_VM_AGENT_PORT),
	   "the agent's virtio-serial port on its socket");
	gr_strv_free(argv);
	c.max_cpus = 300;
	ok(gr_vm_argv_build(&c, &h, &argv, &err) < 0 && strstr(err.msg, "max_cpus"), "max_cpus over 255 refused");
	c.max_cpus = 0;
	c.max_memory_mb = 0;
	c.agent_sock = NULL;
	c.balloon = 0;
	ok(gr_vm_argv_build(&c, &h, &argv, &err) == 0 && !has_sub(argv, "maxcpus=") && !has_sub(argv, "vser0"),
	   "without them: no port, no maxcpus=");
	gr_strv_free(argv);
}

int main(void)
{
	test_frames();
	test_malformed();
	test_sync();
	test_exec_payload();
	test_argv();
	return tap_done();
}
