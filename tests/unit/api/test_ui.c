/*
 * test_ui.c - the web console's websocket token: the subprotocol list a browser sends
 * ("gureum.v1, bearer.gureum.<base64url>") gives the token back; lists without
 * "gureum.v1", bad base64url, empty tokens and NULs inside give none.
 */
#include <stdlib.h>
#include <string.h>
#include "api/api-internal.h"
#include "tap.h"

static void bearer_is(const char *list, const char *want, const char *what)
{
	char *got = gr__api_ws_bearer(list);
	ok(want ? got && !strcmp(got, want) : got == NULL, "%s: %s -> %s", what, list ? list : "(none)",
	   got ? got : "(no token)");
	free(got);
}

int main(void)
{
	/* "admin-0123456789abcdef" and "tök/+=x" (UTF-8) as the page encodes them */
	bearer_is("gureum.v1, bearer.gureum.YWRtaW4tMDEyMzQ1Njc4OWFiY2RlZg", "admin-0123456789abcdef",
		  "the browser's list");
	bearer_is("bearer.gureum.YWRtaW4tMDEyMzQ1Njc4OWFiY2RlZg,gureum.v1", "admin-0123456789abcdef",
		  "either order, no space");
	bearer_is("gureum.v1, bearer.gureum.dMO2ay8rPXg", "t\xc3\xb6k/+=x", "UTF-8 and base64url");
	bearer_is("bearer.gureum.YWRtaW4tMDEyMzQ1Njc4OWFiY2RlZg", NULL, "without gureum.v1");
	bearer_is("gureum.v1", NULL, "no bearer item");
	bearer_is(NULL, NULL, "no header");
	bearer_is("gureum.v1, bearer.gureum.", NULL, "empty token");
	bearer_is("gureum.v1, bearer.gureum.YWRt+W4", NULL, "'+' is not base64url");
	bearer_is("gureum.v1, bearer.gureum.YQ==", NULL, "padding is not sent");
	bearer_is("gureum.v1, bearer.gureum.YQBi", NULL, "a NUL inside");
	bearer_is("gureum.v1, bearer.gureum.Y", NULL, "a length base64 never has");
	bearer_is("gureum.v10, bearer.gureum.YWJj", NULL, "gureum.v10 is not gureum.v1");
	bearer_is("gureum.v1, bearer.gureum.YR", NULL, "bits left over (YR is not how 'a' is spelt)");
	bearer_is("gureum.v1, bearer.gureum.YQ", "a", "YQ is 'a'");
	ok(gr__api_ws_offers_protocol("chat, gureum.v1") && !gr__api_ws_offers_protocol("gureum.v1x") &&
	   !gr__api_ws_offers_protocol(NULL) && !gr__api_ws_offers_protocol(""),
	   "gureum.v1 is found as a whole item only");
	char big[5000] = "gureum.v1, bearer.gureum.";
	memset(big + strlen(big), 'A', sizeof big - strlen(big) - 1);
	big[sizeof big - 1] = 0;
	bearer_is(big, NULL, "a token of over 3 KiB");
	return tap_done();
}
