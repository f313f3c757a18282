/*
 * api_ws_token.c - libFuzzer target for the web console's websocket token
 * (src/api/ui.c): the Sec-WebSocket-Protocol value comes from the client before
 * any token is checked.  The parser must never read out of bounds, must give a
 * token only beside "gureum.v1", and a token it gives is non-empty, NUL-free and
 * round-trips through base64url.
 */
#include "api/api-internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *list = malloc(size + 1);
	memcpy(list, data, size);
	list[size] = 0;
	char *tok = gr__api_ws_bearer(list);
	if (tok) {
		size_t n = strlen(tok);
		if (!n || !gr__api_ws_offers_protocol(list))
			abort();
		/* encode it again: the list must hold exactly that item */
		char *enc = malloc((n + 2) / 3 * 4 + 32), *o = enc;
		o += sprintf(o, "bearer.gureum.");
		for (size_t i = 0; i < n; i += 3) {
			uint32_t v = (uint32_t)(uint8_t)tok[i] << 16 |
				     (i + 1 < n ? (uint32_t)(uint8_t)tok[i + 1] << 8 : 0) |
				     (i + 2 < n ? (uint8_t)tok[i + 2] : 0);
			*o++ = b64url[v >> 18 & 63];
			*o++ = b64url[v >> 12 & 63];
			if (i + 1 < n)
				*o++ = b64url[v >> 6 & 63];
			if (i + 2 < n)
				*o++ = b64url[v & 63];
		}
		*o = 0;
		if (!strstr(list, enc))
			abort();
		free(enc);
		free(tok);
	}
	free(list);
	return 0;
}
