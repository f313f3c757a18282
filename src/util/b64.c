/*
 * b64.c - base64 decoding (RFC 4648, both alphabets).
 */
#include "util/b64.h"
#include "util/alloc.h"

#include <stdint.h>
#include <stdlib.h>

static int value(unsigned char c, int flags)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-' || (c == '+' && !(flags & GR_B64_URL_CANONICAL)))
		return 62;
	if (c == '_' || (c == '/' && !(flags & GR_B64_URL_CANONICAL)))
		return 63;
	return -1;
}

int gr_b64_decode(const char *s, size_t n, int flags, char **out, size_t *len)
{
	if (!(flags & GR_B64_URL_CANONICAL))
		while (n && s[n - 1] == '=')
			n--;
	if (n % 4 == 1) /* a length base64 never has */
		return -1;
	char *buf = xmalloc(n / 4 * 3 + 3), *o = buf;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = value((unsigned char)s[i], flags);
		if (v < 0) {
			free(buf);
			return -1;
		}
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			*o++ = (char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if ((flags & GR_B64_URL_CANONICAL) && acc) { /* bits left over: a second spelling */
		free(buf);
		return -1;
	}
	*o = '\0';
	*out = buf;
	*len = (size_t)(o - buf);
	return 0;
}
