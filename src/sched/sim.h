/*
 * sim.h - the trace-replay simulator of dynamic VM consolidation
 * (`gureum sim`, docs/SCHEDULER.md "Simulator").
 *
 * It replays PlanetLab CPU traces (one VM per file, one integer percentage
 * per line, 5-minute steps) on a data centre of hosts with SPECpower curves,
 * with the model of CloudSim 3.0.3 as used by Beloglazov & Buyya (CCPE 2012):
 * 300 s consolidation interval, live migration = RAM / (BW / 2), 10 %
 * degradation of a migrating VM, host overload detectors THR/IQR/MAD/LR/LRR,
 * VM selectors MMT/RS/MC/MU, under-load evacuation and PABFD placement, and
 * our own peak-aware policy ("peak", consolidate_peak.c).
 *
 * Everything here is pure computation on memory: the trace loader is the only
 * part that reads files.  A run is deterministic for a given trace, config,
 * policy and seed.  Not thread-safe per run; separate runs may go in parallel.
 */
#ifndef GR_SCHED_SIM_H
#define GR_SCHED_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "util/error.h"

/* ---- traces ------------------------------------------------------------- */

/* A day of traces: n_vms series of n_samples CPU fractions (0..1), VM i's
 * samples at util[i * (n_samples + 1) .. +n_samples] (one extra copy of the
 * last sample so interpolation past the last step is defined). */
struct gr_sim_trace {
	char *dir;          /* owned: the folder or archive it came from (for messages) */
	size_t n_vms;
	size_t n_samples;
	char **names;       /* owned: file names, sorted */
	float *util;        /* owned */
};

/* Load every regular file of dir (sorted by name) as one VM; dir may also be
 * a tar archive (xz, gzip, zstd, ... compressed) whose files all sit in one
 * folder, read without extracting (data/planetlab/<day>.tar.xz).  Each file
 * must hold exactly n_samples integer (or decimal) percentages 0..100, one
 * per line.  On error err names the file ("archive:member" inside an
 * archive) and line.  0 on success. */
int gr_sim_trace_load(const char *dir, size_t n_samples, struct gr_sim_trace *t, gr_error_t *err);
/* Parse one trace file's text into out[0..n_samples-1] (fractions).  path is
 * only used in messages. */
int gr_sim_trace_parse(const char *path, const char *text, size_t len, size_t n_samples,
		       float *out, gr_error_t *err);
/* Keep only VMs [first, first+count) (subsets for validation runs). */
int gr_sim_trace_slice(struct gr_sim_trace *t, size_t first, size_t count, gr_error_t *err);
/* Rotate every series left by shift samples (the day starts later). */
void gr_sim_trace_shift(struct gr_sim_trace *t, size_t shift);
/* Shuffle the VM order (which file gets which VM type) with a seeded PRNG. */
void gr_sim_trace_shuffle(struct gr_sim_trace *t, uint64_t seed);
void gr_sim_trace_free(struct gr_sim_trace *t);

/* ---- configuration ------------------------------------------------------ */

#define GR_SIM_MAX_TYPES 4

struct gr_sim_host_type {
	double mips_per_pe;
	int pes;
	double ram_mb, bw;
	const char *power; /* gr_sched_power_by_name() name */
};
struct gr_sim_vm_type {
	double mips, ram_mb, bw;
};

struct gr_sim_config {
	size_t n_hosts;                  /* hosts alternate types: host i has type i % n_host_types */
	struct gr_sim_host_type host_types[GR_SIM_MAX_TYPES];
	size_t n_host_types;
	struct gr_sim_vm_type vm_types[GR_SIM_MAX_TYPES]; /* VM i: type i / ceil(n / n_vm_types) */
	size_t n_vm_types;
	double interval;                 /* seconds between samples and decisions */
	size_t history;                  /* utilisation samples a detector sees */
	double fallback_thr;             /* THR used by IQR/MAD/LR until enough history */
	double degradation;              /* fraction of MIPS lost while migrating (0.1) */
	uint64_t seed;                   /* RS selector and our policy's tie breaking */
	double time_offset;              /* events at k * interval + offset (CloudSim: 0.1 s) */
	int idle_vm_ends;                /* CloudSim: a VM asking 0 MIPS at an event ends */
};

/* The PlanetLab setup of PARAMS.md: 800 hosts (HP ML110 G4/G5), 4 VM types. */
void gr_sim_config_default(struct gr_sim_config *c);

/* ---- policies ----------------------------------------------------------- */

enum gr_sim_kind { GR_SIM_NPA = 0, GR_SIM_DVFS, GR_SIM_MIGRATION, GR_SIM_PEAK };
enum gr_sim_detector { GR_SIM_THR = 0, GR_SIM_IQR, GR_SIM_MAD, GR_SIM_LR, GR_SIM_LRR };
enum gr_sim_selector { GR_SIM_MMT = 0, GR_SIM_RS, GR_SIM_MC, GR_SIM_MU };

struct gr_sim_policy {
	enum gr_sim_kind kind;
	enum gr_sim_detector detector;   /* GR_SIM_MIGRATION */
	enum gr_sim_selector selector;   /* GR_SIM_MIGRATION */
	double param;                    /* THR threshold or safety parameter; peak: target load */
	char name[48];                   /* lower case, parameter as given or the default:
					    "thr-mmt-1.0", "thr-mmt-0.8" for "thr-mmt", "peak-0.85" */
};

/* Parse "npa", "dvfs", "<det>-<sel>[-<param>]" (det: thr iqr mad lr lrr;
 * sel: mmt rs mc mu; defaults thr 0.8, iqr 1.5, mad 2.5, lr/lrr 1.2) or
 * "peak[-<target>]".  Case-insensitive.  err names the part at fault. */
int gr_sim_policy_parse(const char *s, struct gr_sim_policy *p, gr_error_t *err);

/* ---- results ------------------------------------------------------------ */

struct gr_sim_result {
	char policy[48];
	char trace[256];
	size_t n_vms, n_hosts, n_steps;
	size_t vms_not_created;  /* VMs no host could take at t = 0 (CloudSim drops them) */
	double energy_kwh;
	double slatah;           /* fraction of active host time at 100 % (allocated < requested) */
	double slatah_migration; /* part of slatah on hosts receiving a migration */
	double pdm;              /* fraction of requested MIPS lost to migrations */
	double slav;             /* slatah * pdm */
	double esv;              /* energy_kwh * slav (the table's ESV) */
	double sla_overall;      /* fraction of requested MIPS not allocated, all causes */
	uint64_t migrations;
	uint64_t shutdowns;
	double mean_active_hosts;
	double wall_s;           /* wall-clock seconds of the run */
	double max_target_load;  /* highest demand/capacity of a migration target, plan applied */
	/* per step (n_steps entries, owned): active hosts after the decision and
	 * energy (kWh) of the interval ending at that step */
	double *active_hosts;
	double *step_energy_kwh;
};
void gr_sim_result_free(struct gr_sim_result *r);

/* Run one policy over one trace.  r is filled (free with
 * gr_sim_result_free).  Fails only on a bad config (err names the field). */
int gr_sim_run(const struct gr_sim_trace *t, const struct gr_sim_config *c,
	       const struct gr_sim_policy *p, struct gr_sim_result *r, gr_error_t *err);

/* ---- statistics used by the detectors (exported for tests) -------------- */

double gr_sim_median(const double *x, size_t n);          /* n > 0 */
double gr_sim_mad(const double *x, size_t n);             /* median absolute deviation */
double gr_sim_iqr(const double *x, size_t n);             /* CloudSim quartile indices */
/* Least squares y = a + b x with x = 1..n; 0 ok, < 0 if n < 2. */
int gr_sim_ols(const double *y, size_t n, double *a, double *b);
/* Upper threshold an adaptive detector derives from a utilisation history
 * (most recent first, zero tail ignored): 1 - s*IQR or 1 - s*MAD into *thr.
 * Returns -1 when fewer than 12 samples remain ("use the fallback"). */
int gr_sim_adaptive_threshold(enum gr_sim_detector d, double s, const double *hist, size_t n,
			      double *thr);
/* LR/LRR: least squares over the 10 most recent samples (hist most recent
 * first), extrapolated steps_ahead beyond them, times s, into *pred.
 * Returns -1 when fewer than 10 samples remain. */
int gr_sim_lr_predict(const double *hist, size_t n, double s, double steps_ahead, double *pred);
/* R^2 of regressing row i of m (rows x cols, row-major) on the other rows
 * with an intercept; < 0 when not computable (cols <= rows or singular). */
double gr_sim_r2_against_others(const double *m, size_t rows, size_t cols, size_t i);

/* ---- output ------------------------------------------------------------- */

enum gr_sim_format { GR_SIM_TABLE = 0, GR_SIM_CSV, GR_SIM_JSON };
void gr_sim_print(FILE *f, enum gr_sim_format fmt, const struct gr_sim_result *r, size_t n);
/* SVG with two panels (active hosts, energy per interval) over the day, one
 * line per result; results of several traces are drawn per trace. */
int gr_sim_plot_svg(const char *path, const struct gr_sim_result *r, size_t n, gr_error_t *err);

#endif
