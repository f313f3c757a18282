/*
 * error.h - the one error-handling rule of gureum (docs/ERRORS.md).
 *
 * A function that can fail returns a negative value and fills the caller's
 * gr_error_t: an errno-style code and a message that names what is wrong.
 * Callers add context on the way up with gr_error_prefix(); the API maps the
 * code to an HTTP status (gr_error_http_status()).  A gr_error_t needs no
 * cleanup: the message lives in a fixed buffer, so reporting an error never
 * allocates.  A NULL err is allowed and discards the message.
 */
#ifndef GR_UTIL_ERROR_H
#define GR_UTIL_ERROR_H

#include <stdarg.h>

#define GR_ERROR_MSG_MAX 1024

typedef struct gr_error {
	int code;                     /* errno value, 0 when no error */
	char msg[GR_ERROR_MSG_MAX];   /* human readable, names the field at fault */
} gr_error_t;

/* Set err (code = errno value) and return -1.  Always returns -1. */
int gr_error_set(gr_error_t *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like gr_error_set with code = errno and ": strerror(errno)" appended. */
int gr_error_sys(gr_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepend "context: " to the message; keeps the code.  Returns -1. */
int gr_error_prefix(gr_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void gr_error_clear(gr_error_t *err);
/* HTTP status for an error code: 400, 403, 404, 409, 413, 503 or 500. */
int gr_error_http_status(const gr_error_t *err);

#endif
