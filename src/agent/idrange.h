/*
 * idrange.h - subordinate ID ranges for unprivileged containers.
 *
 * Every unprivileged instance owns one range of host IDs (uids and gids
 * alike): container ID i is host ID start + i.  Ranges are `size` IDs wide,
 * aligned on base + k * size, and recorded in the pool folder as one symlink
 * per range, "<start>+<size>" -> "<owner>".  symlink(2) is atomic and fails
 * on an existing name, so a range exists whole or not at all after a crash,
 * two owners never get the same range (also across processes), and the
 * folder is the whole allocator state (no index to keep in step).  An
 * owner's range is kept until gr_idrange_release (instance deleted) or until
 * gr_idrange_sweep finds no record of the owner.  Entries of another
 * base/size (the daemon restarted with other settings) still block every
 * range they overlap.  Any thread (a process-wide mutex serializes changes).
 */
#ifndef GR_AGENT_IDRANGE_H
#define GR_AGENT_IDRANGE_H

#include <stdbool.h>
#include <stdint.h>
#include "util/error.h"

#define GR_IDRANGE_BASE 1000000u
#define GR_IDRANGE_SIZE 65536u

struct gr_idrange_pool {
	const char *dir;   /* the pool folder, made on demand (e.g. <state>/idranges) */
	uint32_t base;     /* first host ID handed out (0 = GR_IDRANGE_BASE) */
	uint32_t size;     /* IDs per range (0 = GR_IDRANGE_SIZE) */
};

/* The owner's range start: its existing range, or a new one (the lowest
 * free).  ENOSPC when every range is taken; EINVAL on a bad owner name. */
int gr_idrange_get(const struct gr_idrange_pool *p, const char *owner, uint32_t *start, gr_error_t *err);
/* The owner's existing range: 0 and *start, or ENOENT. */
int gr_idrange_find(const struct gr_idrange_pool *p, const char *owner, uint32_t *start, gr_error_t *err);
/* Free the owner's range(s); none is success. */
int gr_idrange_release(const struct gr_idrange_pool *p, const char *owner, gr_error_t *err);
/* Free every range whose owner known() does not know; returns how many. */
int gr_idrange_sweep(const struct gr_idrange_pool *p, bool (*known)(const char *owner, void *ud), void *ud);

#endif
