/*
 * agent_proto.h - the wire protocol between gureumd and gureum-guest-agent, the small
 * static program that runs inside gureum's VM guests and serves exec (and vCPU
 * onlining) over a virtio-serial port named GR_VM_AGENT_PORT.
 *
 * Pure and self-contained (libc only, no allocation through util): the host side
 * (src/vm/agent.c) and the guest agent (src/guest/gureum-guest-agent.c) compile the same
 * file.  Everything received is outside input: the decoders check every length and
 * fail with a message naming what is wrong; they never read past the buffer.
 *
 * A frame is   u32 length (big-endian, of what follows) | u8 type | payload[length-1]
 * with 1 <= length <= GR_VM_AGENT_FRAME_MAX.  A session: the host connects to QEMU's end
 * of the port and sends HELLO {magic, nonce}; the agent answers READY {nonce, version}.
 * Bytes before that READY (a previous session's leftovers) are skipped by searching for
 * the exact READY frame, and the agent likewise skips anything before a HELLO, so either
 * side may vanish mid-frame and the next session still starts clean.  Then EXEC
 * {flags, cols, rows, argv, env, cwd}; STDIN data (empty = end of input), RESIZE,
 * SIGNAL from the host; STDOUT/STDERR data and finally EXIT {status} or ERROR {text}
 * from the agent.  CPUS {n} asks the agent to keep n vCPUs online; it answers EXIT
 * {the number now online} or ERROR.  PING -> PONG while a session is quiet: an agent that
 * died (and was respawned without the session) never answers, so the host gives up.  One session at a time: a HELLO ends the previous
 * session (its process is killed), an EXEC while one runs gets ERROR "busy".
 */
#ifndef GR_VM_AGENT_PROTO_H
#define GR_VM_AGENT_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define GR_VM_AGENT_PORT "org.gureum.agent.0"
#define GR_VM_AGENT_VERSION 1
#define GR_VM_AGENT_FRAME_MAX (1u << 20)  /* length field cap: 1 MiB */
#define GR_VM_AGENT_MAGIC "GUREUM-AGENT-V1\n" /* 16 bytes in HELLO */
#define GR_VM_AGENT_MAGIC_LEN 16
#define GR_VM_AGENT_NONCE_LEN 8
#define GR_VM_AGENT_ARGS_MAX 4096         /* argv + env entries */

enum gr_vm_agent_type {
	GR_VMA_HELLO = 1,  /* h->g: magic[16] nonce[8] */
	GR_VMA_READY = 2,  /* g->h: nonce[8] u32 version */
	GR_VMA_EXEC = 3,   /* h->g: see struct gr_vm_agent_exec */
	GR_VMA_STDIN = 4,  /* h->g: bytes; empty = EOF */
	GR_VMA_RESIZE = 5, /* h->g: u16 cols u16 rows */
	GR_VMA_SIGNAL = 6, /* h->g: u8 signal number */
	GR_VMA_STDOUT = 7, /* g->h: bytes (the terminal's output with a tty) */
	GR_VMA_STDERR = 8, /* g->h: bytes */
	GR_VMA_EXIT = 9,   /* g->h: i32 status (exit code, or 128 + signal) */
	GR_VMA_ERROR = 10, /* g->h: UTF-8 text */
	GR_VMA_CPUS = 11,  /* h->g: u32 vCPUs to keep online */
	GR_VMA_PING = 12,  /* h->g: up to 8 bytes; a session's agent answers PONG with them */
	GR_VMA_PONG = 13,  /* g->h */
};
const char *gr_vm_agent_type_name(unsigned type);

/* Incremental decoder: feed bytes, take whole frames out. */
struct gr_vm_agent_dec {
	uint8_t *buf;
	size_t off, len, cap;   /* bytes [off, len) are not consumed yet */
	int failed;
};
/* Append bytes (grows the buffer; -1 when out of memory or past 2 frames' worth). */
int gr_vm_agent_dec_feed(struct gr_vm_agent_dec *d, const void *p, size_t n);
/* 1 = a frame: *type and *payload (points into the decoder, valid until the next
 * feed/next call) and *len; 0 = need more bytes; -1 = malformed stream (*why names it;
 * the decoder stays failed). */
int gr_vm_agent_dec_next(struct gr_vm_agent_dec *d, unsigned *type, const uint8_t **payload, size_t *len,
			 const char **why);
/* Drop everything buffered up to and including the first occurrence of the exact bytes
 * pat (a READY or HELLO frame); 1 = found, 0 = not yet (keeps the last len(pat)-1 bytes). */
int gr_vm_agent_dec_sync(struct gr_vm_agent_dec *d, const void *pat, size_t patlen);
void gr_vm_agent_dec_clear(struct gr_vm_agent_dec *d);

/* A frame (malloc'd, *out_len bytes); NULL when payload is too large or no memory. */
uint8_t *gr_vm_agent_frame(unsigned type, const void *payload, size_t len, size_t *out_len);

/* The EXEC payload:
 *   u8 flags (1 = tty) | u16 cols | u16 rows | u32 argc | u32 envc |
 *   argc strings | envc strings | cwd string, each string u32 length + bytes (no NUL). */
struct gr_vm_agent_exec {
	int tty;
	unsigned cols, rows;
	char **argv;  /* NULL-terminated, at least one */
	char **env;   /* "K=V", NULL-terminated, may be empty */
	char *cwd;    /* never NULL after decode ("/" when empty) */
};
uint8_t *gr_vm_agent_exec_encode(const struct gr_vm_agent_exec *x, size_t *len);
/* Decode into x (malloc'd strings; free with gr_vm_agent_exec_clear).  -1 with *why on
 * any inconsistency: truncated, lengths past the end, trailing bytes, NUL inside a
 * string, no argv, env entry without '=', too many entries. */
int gr_vm_agent_exec_decode(const uint8_t *p, size_t len, struct gr_vm_agent_exec *x, const char **why);
void gr_vm_agent_exec_clear(struct gr_vm_agent_exec *x);

/* Fixed-size payload helpers. */
void gr_vm_agent_put_u32(uint8_t *p, uint32_t v);
uint32_t gr_vm_agent_get_u32(const uint8_t *p);

#endif
