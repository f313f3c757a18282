/*
 * b64.h - base64 decoding, shared by etcd's JSON gateway (standard alphabet with
 * padding) and the browser's websocket token (URL alphabet, one spelling per value).
 */
#ifndef GR_UTIL_B64_H
#define GR_UTIL_B64_H

#include <stddef.h>

enum {
	GR_B64_ANY = 0,           /* standard or URL alphabet, trailing '=' ignored */
	GR_B64_URL_CANONICAL = 1, /* URL alphabet only, no padding, no stray bits */
};

/* Decodes s[0..n).  0 with *out (malloc'd, NUL-terminated) and *len, -1 when it is not
 * base64 under FLAGS. */
int gr_b64_decode(const char *s, size_t n, int flags, char **out, size_t *len);

#endif
