/*
 * test_ws.c - websocket framing: RFC 6455's handshake example, frames of
 * every length class, masking, partial input, bad frames.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "api/ws.h"
#include "tap.h"

static void roundtrip(size_t len, bool mask)
{
	uint8_t *data = malloc(len ? len : 1), *f, op = 0, *p = NULL;
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	size_t n = gr_ws_frame(GR_WS_BINARY, data, len, mask, &f);
	struct gr_ws_decoder d = { 0 };
	gr_error_t err;
	size_t plen = 0;
	/* feed in two halves: the first never makes a frame */
	gr_ws_feed(&d, f, n / 2);
	int r1 = gr_ws_next(&d, &op, &p, &plen, &err);
	gr_ws_feed(&d, f + n / 2, n - n / 2);
	int r2 = gr_ws_next(&d, &op, &p, &plen, &err);
	ok(r1 == 0 && r2 == 1 && op == GR_WS_BINARY && plen == len && !memcmp(p, data, len) && d.len == 0,
	   "%zu-byte %s frame round-trips (header+payload %zu)", len, mask ? "masked" : "plain", n);
	free(p);
	free(f);
	free(data);
	gr_ws_decoder_clear(&d);
}

int main(void)
{
	char *k = gr_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==");
	is_str(k, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "RFC 6455 handshake example");
	free(k);
	k = gr_ws_client_key();
	is_int(strlen(k), 24, "client key is 16 bytes in base64");
	free(k);
	size_t lens[] = { 0, 1, 125, 126, 127, 65535, 65536, 200000 };
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		roundtrip(lens[i], false);
		roundtrip(lens[i], true);
	}
	/* two frames in one read come out one by one */
	uint8_t *a, *b, op, *p;
	size_t na = gr_ws_frame(GR_WS_TEXT, "hello", 5, true, &a), nb = gr_ws_frame(GR_WS_CLOSE, "", 0, true, &b);
	struct gr_ws_decoder d = { 0 };
	gr_ws_feed(&d, a, na);
	gr_ws_feed(&d, b, nb);
	size_t plen;
	gr_error_t err;
	ok(gr_ws_next(&d, &op, &p, &plen, &err) == 1 && op == GR_WS_TEXT && !strcmp((char *)p, "hello"),
	   "first frame: text 'hello'");
	free(p);
	ok(gr_ws_next(&d, &op, &p, &plen, &err) == 1 && op == GR_WS_CLOSE && plen == 0, "second: close");
	free(p);
	ok(gr_ws_next(&d, &op, &p, &plen, &err) == 0, "then nothing");
	free(a);
	free(b);
	/* fragments and oversized frames are refused */
	uint8_t frag[] = { 0x01, 0x01, 'x' };
	gr_ws_feed(&d, frag, sizeof frag);
	ok(gr_ws_next(&d, &op, &p, &plen, &err) < 0 && err.code == EPROTO, "a fragment is a protocol error");
	gr_ws_decoder_clear(&d);
	uint8_t big[] = { 0x82, 0x7f, 0, 0, 0, 0, 0x10, 0, 0, 0 };
	gr_ws_feed(&d, big, sizeof big);
	ok(gr_ws_next(&d, &op, &p, &plen, &err) < 0 && err.code == EMSGSIZE, "a 256 MiB frame is refused");
	gr_ws_decoder_clear(&d);
	uint8_t reserved[] = { 0x83, 0x00 }, cont[] = { 0x80, 0x00 };
	gr_ws_feed(&d, reserved, sizeof reserved);
	ok(gr_ws_next(&d, &op, &p, &plen, &err) < 0 && err.code == EPROTO, "a reserved opcode is refused");
	gr_ws_decoder_clear(&d);
	gr_ws_feed(&d, cont, sizeof cont);
	ok(gr_ws_next(&d, &op, &p, &plen, &err) < 0 && err.code == EPROTO, "a continuation frame is refused");
	gr_ws_decoder_clear(&d);
	uint8_t longping[] = { 0x89, 0x7e, 0x00, 0x7e };
	gr_ws_feed(&d, longping, sizeof longping);
	ok(gr_ws_next(&d, &op, &p, &plen, &err) < 0 && err.code == EPROTO,
	   "a control frame over 125 bytes is refused");
	gr_ws_decoder_clear(&d);
	gr_ws_feed(&d, NULL, 0);
	ok(gr_ws_next(&d, &op, &p, &plen, &err) == 0 && d.buf == NULL, "feeding nothing is a no-op");
	return tap_done();
}
