/*
 * ws.c - the small part of RFC 6455 (websockets) gureum needs, shared by the
 * server (interactive exec) and the CLI: the handshake key, frame encoding
 * (client frames masked), and an incremental decoder that takes bytes as they
 * come and hands out whole frames.  Fragmented messages are refused (neither
 * side sends them); payloads above GR_WS_MAX_PAYLOAD are a protocol error.
 * Pure functions on caller-owned buffers: any thread.
 */
#include "api/ws.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "util/alloc.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *gr__ws_base64(const uint8_t *in, size_t n)
{
	char *out = xmalloc((n + 2) / 3 * 4 + 1), *o = out;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*o = 0;
	return out;
}

char *gr_ws_client_key(void)
{
	uint8_t nonce[16];
	if (getrandom(nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
		for (size_t i = 0; i < sizeof nonce; i++)
			nonce[i] = (uint8_t)rand();
	return gr__ws_base64(nonce, sizeof nonce);
}

size_t gr_ws_frame(uint8_t opcode, const void *data, size_t len, bool mask, uint8_t **out)
{
	uint8_t *f = xmalloc(len + 14);
	size_t h = 0;
	f[h++] = 0x80 | (opcode & 0x0f);
	uint8_t m = mask ? 0x80 : 0;
	if (len < 126) {
		f[h++] = m | (uint8_t)len;
	} else if (len <= 0xffff) {
		f[h++] = m | 126;
		f[h++] = (uint8_t)(len >> 8);
		f[h++] = (uint8_t)len;
	} else {
		f[h++] = m | 127;
		for (int i = 7; i >= 0; i--)
			f[h++] = (uint8_t)((uint64_t)len >> (8 * i));
	}
	uint8_t key[4] = { 0 };
	if (mask) {
		if (getrandom(key, 4, 0) != 4)
			key[0] = 0x5a;
		memcpy(f + h, key, 4);
		h += 4;
	}
	for (size_t i = 0; i < len; i++)
		f[h + i] = ((const uint8_t *)data)[i] ^ key[i & 3];
	*out = f;
	return h + len;
}

void gr_ws_feed(struct gr_ws_decoder *d, const void *data, size_t len)
{
	if (len == 0)
		return;
	if (d->len + len > d->cap) {
		d->cap = (d->len + len) * 2;
		d->buf = xrealloc(d->buf, d->cap);
	}
	memcpy(d->buf + d->len, data, len);
	d->len += len;
}

int gr_ws_next(struct gr_ws_decoder *d, uint8_t *opcode, uint8_t **payload, size_t *plen,
	       gr_error_t *err)
{
	if (d->len < 2)
		return 0;
	const uint8_t *b = d->buf;
	if (!(b[0] & 0x80) || (b[0] & 0x70))
		return gr_error_set(err, EPROTO, "websocket: fragmented frame or reserved bits set");
	uint8_t op = b[0] & 0x0f;
	if (op != GR_WS_TEXT && op != GR_WS_BINARY && op != GR_WS_CLOSE && op != GR_WS_PING &&
	    op != GR_WS_PONG)
		return gr_error_set(err, EPROTO, "websocket: unknown or continuation opcode 0x%x", op);
	bool masked = b[1] & 0x80;
	uint64_t n = b[1] & 0x7f;
	if ((op & 0x8) && n > 125)
		return gr_error_set(err, EPROTO, "websocket: control frame longer than 125 bytes");
	size_t h = 2;
	if (n == 126) {
		if (d->len < 4)
			return 0;
		n = (uint64_t)b[2] << 8 | b[3];
		h = 4;
	} else if (n == 127) {
		if (d->len < 10)
			return 0;
		n = 0;
		for (int i = 0; i < 8; i++)
			n = n << 8 | b[2 + i];
		h = 10;
	}
	if (n > GR_WS_MAX_PAYLOAD)
		return gr_error_set(err, EMSGSIZE, "websocket: frame of %llu bytes is too large",
				    (unsigned long long)n);
	uint8_t key[4] = { 0 };
	if (masked) {
		if (d->len < h + 4)
			return 0;
		memcpy(key, b + h, 4);
		h += 4;
	}
	if (d->len < h + n)
		return 0;
	uint8_t *p = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++)
		p[i] = b[h + i] ^ key[i & 3];
	p[n] = 0;
	*opcode = op;
	*payload = p;
	*plen = n;
	memmove(d->buf, d->buf + h + n, d->len - h - n);
	d->len -= h + n;
	return 1;
}

void gr_ws_decoder_clear(struct gr_ws_decoder *d)
{
	free(d->buf);
	memset(d, 0, sizeof *d);
}
