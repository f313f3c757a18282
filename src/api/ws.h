/*
 * ws.h - websocket (RFC 6455) framing for interactive exec, used by the
 * server and the CLI.  Protocol on GET /v1/instances/NAME/exec (Upgrade):
 *   client -> server: first a text frame with the exec request JSON
 *                     ({"cmd":[..],"env":[..],"cwd","cols","rows"}), then
 *                     binary frames = terminal input, text frames =
 *                     {"resize":[cols,rows]}, close = hang up;
 *   server -> client: binary frames = terminal output, then one text frame
 *                     {"exit_code":N} or {"error":{"code","message"}}, close.
 */
#ifndef GR_API_WS_H
#define GR_API_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

#define GR_WS_TEXT 0x1
#define GR_WS_BINARY 0x2
#define GR_WS_CLOSE 0x8
#define GR_WS_PING 0x9
#define GR_WS_PONG 0xa
#define GR_WS_MAX_PAYLOAD (1u << 20)

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key (malloc'd; NULL on failure).
 * In ws_accept.c, the server's side: it needs GnuTLS's SHA-1, which the CLI
 * (ws.c's other user) does not load. */
char *gr_ws_accept_key(const char *client_key);
/* Base64 (RFC 4648, padded) of n bytes (malloc'd). */
char *gr__ws_base64(const uint8_t *in, size_t n);
/* A fresh random Sec-WebSocket-Key (malloc'd). */
char *gr_ws_client_key(void);
/* One whole frame (FIN set) in *out (malloc'd); returns its length. */
size_t gr_ws_frame(uint8_t opcode, const void *data, size_t len, bool mask, uint8_t **out);

struct gr_ws_decoder {
	uint8_t *buf;
	size_t len, cap;
};
void gr_ws_feed(struct gr_ws_decoder *d, const void *data, size_t len);
/* 1: a frame was taken (*payload malloc'd, NUL-terminated) / 0: need more bytes /
 * -1: protocol error (EPROTO, EMSGSIZE). */
int gr_ws_next(struct gr_ws_decoder *d, uint8_t *opcode, uint8_t **payload, size_t *plen,
	       gr_error_t *err);
void gr_ws_decoder_clear(struct gr_ws_decoder *d);

#endif
