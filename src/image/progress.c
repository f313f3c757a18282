/*
 * progress.c - rate-limited progress reporting for long image operations.  The callback
 * runs on the calling thread, at most every 1/8 s unless forced (phase start/end).
 */
#include "image/image-internal.h"

#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void gr__progress_init(struct gr__progress *pr, gr_image_progress_fn fn, void *ud, const char *phase)
{
	memset(pr, 0, sizeof(*pr));
	pr->fn = fn;
	pr->ud = ud;
	pr->p.phase = phase;
}

void gr__progress_emit(struct gr__progress *pr, int force)
{
	if (!pr || !pr->fn)
		return;
	uint64_t t = now_ns();
	if (!force && t - pr->last_ns < 125000000ull)
		return;
	pr->last_ns = t;
	pr->fn(&pr->p, pr->ud);
}
