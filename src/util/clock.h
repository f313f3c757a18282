/*
 * clock.h - the two clocks as seconds in a double: wall time for what is
 * stored or shown (records' "created", "offline_since"), monotonic time for
 * deadlines and durations (never jumps with the wall clock).
 */
#ifndef GR_UTIL_CLOCK_H
#define GR_UTIL_CLOCK_H

#include <time.h>

static inline double gr_wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline double gr_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
