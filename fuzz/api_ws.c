/*
 * api_ws.c - libFuzzer target for the websocket frame decoder (src/api/ws.c):
 * the bytes of an exec or console session come from the client.  The input
 * is fed in pieces (sizes from its first byte) as a socket would deliver it;
 * the decoder must never read out of bounds, must take a frame only once it
 * is whole, must refuse with EPROTO/EMSGSIZE and a message, and every frame it
 * takes must survive a round trip through gr_ws_frame (masked and not).
 */
#include "api/ws.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void roundtrip(uint8_t op, const uint8_t *p, size_t n, bool mask)
{
	uint8_t *f = NULL;
	size_t fl = gr_ws_frame(op, p, n, mask, &f);
	struct gr_ws_decoder d = { 0 };
	gr_error_t err = { 0 };
	uint8_t op2 = 0, *p2 = NULL;
	size_t n2 = 0;
	/* one byte short is never a frame */
	gr_ws_feed(&d, f, fl - 1);
	if (gr_ws_next(&d, &op2, &p2, &n2, &err) != 0)
		abort();
	gr_ws_feed(&d, f + fl - 1, 1);
	if (gr_ws_next(&d, &op2, &p2, &n2, &err) != 1 || op2 != op || n2 != n ||
	    (n && memcmp(p2, p, n)) || d.len != 0)
		abort();
	free(p2);
	free(f);
	gr_ws_decoder_clear(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = (size_t)(data[0] & 0x3f) + 1; /* 1..64 bytes per read */
	data++;
	size--;
	struct gr_ws_decoder d = { 0 };
	size_t fed = 0, taken = 0;
	for (;;) {
		uint8_t op = 0, *p = NULL;
		size_t n = 0;
		gr_error_t err = { 0 };
		int r = gr_ws_next(&d, &op, &p, &n, &err);
		if (r < 0) {
			if ((err.code != EPROTO && err.code != EMSGSIZE) || !err.msg[0])
				abort();
			break;
		}
		if (r == 1) {
			if (!p || p[n] != 0 || n > GR_WS_MAX_PAYLOAD)
				abort();
			taken += n;
			if (taken > fed)
				abort(); /* a payload can't be longer than what came in */
			roundtrip(op, p, n, false);
			roundtrip(op, p, n, true);
			free(p);
			continue;
		}
		if (fed == size)
			break;
		size_t k = size - fed < step ? size - fed : step;
		gr_ws_feed(&d, data + fed, k);
		fed += k;
	}
	gr_ws_decoder_clear(&d);
	return 0;
}
