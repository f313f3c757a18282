/*
 * history.h - a fixed-size round-robin metric history (the idea of RRD): per
 * instance and per host, CPU (CPUs busy: the CPU-time counter's rate) and memory
 * (bytes), in two rings of slots aligned on wall-clock time:
 *   hour: 360 slots of 10 s,   day: 288 slots of 300 s.
 * A slot holds the sums and counts of the samples that fell in it (its value is
 * their mean); a slot whose time is not the one asked for is empty (null). One
 * file per series, of a fixed size, under <state>/history/{instance,host}/NAME,
 * rewritten whole (temp file + rename) at each sample. Pure functions but load
 * and save; history.c, docs/API.md "Metric history".
 */
#ifndef GR_CONTROL_HISTORY_H
#define GR_CONTROL_HISTORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include "util/error.h"

#define GR_HIST_HOUR_STEP 10
#define GR_HIST_HOUR_N 360
#define GR_HIST_DAY_STEP 300
#define GR_HIST_DAY_N 288
#define GR_HIST_MAGIC "GRHIST1\n"

struct gr_hist_slot {
	int64_t t;                  /* the slot's start (epoch s, a multiple of the step); 0 empty */
	double cpu_sum, mem_sum;
	uint32_t cpu_n, mem_n;
};

struct gr_hist {
	char magic[8];              /* GR_HIST_MAGIC */
	int64_t last_ns;            /* wall time of the last sample, 0 = none */
	uint64_t last_cpu_ns;       /* the CPU-time counter then */
	struct gr_hist_slot hour[GR_HIST_HOUR_N];
	struct gr_hist_slot day[GR_HIST_DAY_N];
};

void gr_hist_init(struct gr_hist *h);
/* One sample at now_ns (wall clock): cpu_ns a cumulative CPU-time counter (the
 * rate since the previous sample is recorded; none for the first sample, after
 * the counter went back, e.g. a restart, or after a gap of over 10 minutes);
 * mem in bytes, < 0 = unknown. */
void gr_hist_put(struct gr_hist *h, int64_t now_ns, uint64_t cpu_ns, double mem);
/* {"range","step","time":[..],"cpu":[..|null],"memory":[..|null]}: every slot of
 * the range ending at now_s, oldest first. */
json_t *gr_hist_series(const struct gr_hist *h, bool day, int64_t now_s);
/* 0 loaded, 1 no file yet (h initialised), -1 unreadable or not a history file
 * (err names the file and what is wrong). */
int gr_hist_load(const char *path, struct gr_hist *h, gr_error_t *err);
int gr_hist_save(const char *path, const struct gr_hist *h, gr_error_t *err);

#endif
