/*
 * dl.h - functions of a shared library bound on first use.
 *
 * The `gureum` CLI starts for every command, so it does not link the big
 * libraries only some commands need (libcurl for HTTPS to a remote daemon,
 * libarchive for trace archives): each pulls dozens of shared objects whose
 * loading costs more than the whole call.  Such a library is opened with
 * dlopen() the first time a caller needs it; callers keep the function
 * pointers (declared with typeof(the real prototype), so the compiler still
 * checks every call).
 */
#ifndef GR_UTIL_DL_H
#define GR_UTIL_DL_H

#include <stddef.h>
#include "util/error.h"

/* Open the library `soname` (e.g. "libcurl-gnutls.so.4") once and store the
 * address of names[i] in fns[i] for i < n.  Thread-safe; a later call for a
 * library already bound only copies the pointers again.  Fails (ENOENT)
 * naming the library and the Debian package that has it (`package`) when it
 * cannot be opened or lacks one of the names. */
int gr_dl_bind(const char *soname, const char *package, const char *const *names, void **fns,
	       size_t n, gr_error_t *err);

#endif
