/*
 * test_b64.c - gr_b64_decode: both alphabets and padding (GR_B64_ANY), the URL
 * alphabet with one spelling per value (GR_B64_URL_CANONICAL), and what is not base64.
 */
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "util/b64.h"

static const char *dec(const char *s, int flags, size_t *len)
{
	static char *last;
	free(last);
	last = NULL;
	if (gr_b64_decode(s, strlen(s), flags, &last, len) < 0)
		return NULL;
	return last;
}

int main(void)
{
	size_t n = 0;
	is_str(dec("aGVsbG8=", GR_B64_ANY, &n), "hello", "standard with padding");
	is_int((int)n, 5, "its length");
	is_str(dec("aGVsbG8", GR_B64_ANY, &n), "hello", "standard without padding");
	is_str(dec("", GR_B64_ANY, &n), "", "empty");
	is_str(dec("-_8=", GR_B64_ANY, &n) ? "ok" : NULL, "ok", "URL alphabet accepted by ANY");
	is_str(dec("+/8=", GR_B64_ANY, &n) ? "ok" : NULL, "ok", "standard alphabet");
	ok(dec("+/8", GR_B64_URL_CANONICAL, &n) == NULL, "CANONICAL refuses the standard alphabet");
	ok(dec("aGVsbG8=", GR_B64_URL_CANONICAL, &n) == NULL, "CANONICAL refuses padding");
	is_str(dec("aGVsbG8", GR_B64_URL_CANONICAL, &n), "hello", "CANONICAL decodes");
	ok(dec("aGVsbG9", GR_B64_URL_CANONICAL, &n) == NULL, "CANONICAL refuses stray bits (a second spelling)");
	ok(dec("a", GR_B64_ANY, &n) == NULL, "a length base64 never has");
	ok(dec("aG!s", GR_B64_ANY, &n) == NULL, "a character outside the alphabets");
	dec("", GR_B64_ANY, &n);
	return tap_done();
}
