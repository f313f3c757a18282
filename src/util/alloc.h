/*
 * alloc.h - allocation that aborts on out-of-memory, and scope-bound cleanup.
 *
 * x*alloc never return NULL: running out of memory aborts the process (the
 * store is the exception; it reports SQLITE_NOMEM itself).  The _cleanup_*
 * attributes release memory, fds, FILE*s when a variable leaves scope;
 * TAKE_PTR / TAKE_FD move ownership out of such a variable.
 */
#ifndef GR_UTIL_ALLOC_H
#define GR_UTIL_ALLOC_H

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void *xmalloc(size_t n) __attribute__((malloc, returns_nonnull));
void *xcalloc(size_t n, size_t size) __attribute__((malloc, returns_nonnull));
void *xrealloc(void *p, size_t n) __attribute__((returns_nonnull));
char *xstrdup(const char *s) __attribute__((returns_nonnull));
char *xstrndup(const char *s, size_t n) __attribute__((returns_nonnull));
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2), returns_nonnull));
/* s (malloc'd, freed here) followed by the formatted text: builds text piece by piece. */
char *xappendf(char *s, const char *fmt, ...) __attribute__((format(printf, 2, 3), returns_nonnull));

static inline void gr__freep(void *p) { free(*(void **)p); }
static inline void gr__closep(int *fd) { if (*fd >= 0) close(*fd); }
static inline void gr__fclosep(FILE **f) { if (*f) fclose(*f); }
void gr__strvfreep(char ***v);

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(gr__freep)
#define _cleanup_close_ _cleanup_(gr__closep)
#define _cleanup_fclose_ _cleanup_(gr__fclosep)
#define _cleanup_strv_ _cleanup_(gr__strvfreep)

#define TAKE_PTR(p) ({ __typeof__(p) gr__tmp = (p); (p) = NULL; gr__tmp; })
#define TAKE_FD(fd) ({ int gr__fd = (fd); (fd) = -1; gr__fd; })

/* NULL-terminated string vectors. */
size_t gr_strv_len(char *const *v);
void gr_strv_free(char **v);
char **gr_strv_dup(char *const *v);

#endif
