/* error.c - gr_error_t helpers; see error.h for the rule. */
#include "util/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int gr_error_set(gr_error_t *err, int code, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	err->code = code ? code : EIO;
	return -1;
}

int gr_error_sys(gr_error_t *err, const char *fmt, ...)
{
	int saved = errno;
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof err->msg)
		snprintf(err->msg + n, sizeof err->msg - n, ": %s", strerror(saved));
	err->code = saved ? saved : EIO;
	errno = saved;
	return -1;
}

int gr_error_prefix(gr_error_t *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	char prefix[GR_ERROR_MSG_MAX], old[GR_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
	if (!err->code)
		err->code = EIO;
	return -1;
}

void gr_error_clear(gr_error_t *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

int gr_error_http_status(const gr_error_t *err)
{
	switch (err ? err->code : 0) {
	case EINVAL: case E2BIG: case ENAMETOOLONG: case EDOM: case ERANGE: case EBADMSG:
		return 400;
	case EPERM: case EACCES:
		return 403;
	case ENOENT: case ESRCH:
		return 404;
	case EEXIST: case EBUSY: case ENOTEMPTY: case EALREADY: case EREMOTE:
		return 409;
	case EMSGSIZE: case EFBIG:
		return 413;
	case EAGAIN: case ETIMEDOUT: case ECONNREFUSED: case EHOSTDOWN:
		return 503;
	case ENOSYS:
		return 501;
	default:
		return 500;
	}
}
