/*
 * tap.h - a tiny TAP producer for unit tests.  Every test binary prints
 * "ok N - what" / "not ok N - what" lines and "1..N" at the end; tests/run.sh
 * counts them.  Use:
 *     ok(cond, "what %d", x);  is_int(a, b, "what");  is_str(a, b, "what");
 *     skip("why");  return tap_done();
 */
#ifndef GR_TESTS_TAP_H
#define GR_TESTS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap__n, tap__failed;

static inline int tap__report(int pass, const char *file, int line, const char *fmt, va_list ap)
{
	tap__n++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap__n);
	vprintf(fmt, ap);
	printf("\n");
	if (!pass) {
		tap__failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

static inline __attribute__((format(printf, 4, 5))) int tap_ok(int pass, const char *file, int line,
							      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tap__report(pass, file, line, fmt, ap);
	va_end(ap);
	return pass;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...)                                                              \
	({                                                                                  \
		long long g__ = (long long)(got), w__ = (long long)(want);                  \
		int p__ = tap_ok(g__ == w__, __FILE__, __LINE__, __VA_ARGS__);              \
		if (!p__)                                                                   \
			printf("#   got %lld, want %lld\n", g__, w__);                          \
		p__;                                                                        \
	})
#define is_str(got, want, ...)                                                              \
	({                                                                                  \
		const char *g__ = (got), *w__ = (want);                                     \
		int p__ = tap_ok(g__ && w__ && !strcmp(g__, w__), __FILE__, __LINE__,       \
				 __VA_ARGS__);                                              \
		if (!p__)                                                                   \
			printf("#   got '%s', want '%s'\n", g__ ? g__ : "(null)",             \
			       w__ ? w__ : "(null)");                                       \
		p__;                                                                        \
	})
#define skip(...)                                                                           \
	do {                                                                                \
		tap__n++;                                                                   \
		printf("ok %d # SKIP ", tap__n);                                            \
		printf(__VA_ARGS__);                                                        \
		printf("\n");                                                               \
	} while (0)
#define diag(...)                                                                           \
	do {                                                                                \
		printf("# ");                                                               \
		printf(__VA_ARGS__);                                                        \
		printf("\n");                                                               \
	} while (0)

static inline int tap_done(void)
{
	printf("1..%d\n", tap__n);
	return tap__failed ? 1 : 0;
}

#endif
