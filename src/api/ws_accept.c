/*
 * ws_accept.c - the server's half of the websocket handshake: the
 * Sec-WebSocket-Accept value (RFC 6455 4.2.2), SHA-1 through GnuTLS.  Kept
 * apart from ws.c so the CLI, which links ws.c for framing, loads no TLS
 * library.
 */
#include "api/ws.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>
#include "util/alloc.h"

char *gr_ws_accept_key(const char *client_key)
{
	_cleanup_free_ char *cat = xasprintf("%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", client_key);
	uint8_t digest[20];
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, cat, strlen(cat), digest) < 0)
		return NULL;
	return gr__ws_base64(digest, sizeof digest);
}

