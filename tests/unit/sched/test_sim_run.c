/*
 * test_sim_run.c - whole simulator runs: a regression on the small fixture
 * (8 VMs, 6 hosts), properties every policy must keep, bad trace files and
 * archives, the PlanetLab days shipped in data/planetlab (VM counts and
 * statistics as MANIFEST.txt gives them), and one published day reproduced
 * within 10 % (energy and migrations) and beaten by the peak policy.  A run
 * or a load that fails is a failed test, never a skipped one.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sched/sim.h"
#include "tap.h"

static const char *src(void)
{
	const char *s = getenv("GR_SRC");
	return s ? s : ".";
}

/* Run one policy; a failure is reported as a failed test (with the error). */
static int run(const struct gr_sim_trace *t, size_t hosts, const char *pol, uint64_t seed,
	       struct gr_sim_result *r)
{
	struct gr_sim_config c;
	struct gr_sim_policy p;
	gr_error_t err = { 0 };
	gr_sim_config_default(&c);
	c.n_hosts = hosts;
	c.seed = seed;
	memset(r, 0, sizeof *r);
	if (gr_sim_policy_parse(pol, &p, &err) < 0 || gr_sim_run(t, &c, &p, r, &err) < 0) {
		ok(0, "run %s on %zu hosts: %s", pol, hosts, err.msg);
		return -1;
	}
	return 0;
}

static int load(const char *path, struct gr_sim_trace *t)
{
	gr_error_t err = { 0 };
	if (gr_sim_trace_load(path, 288, t, &err) < 0) {
		ok(0, "load %s: %s", path, err.msg);
		return -1;
	}
	return 0;
}

static void bad_trace(const char *name, const char *want)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/tests/fixtures/sched/bad/%s", src(), name);
	struct gr_sim_trace t;
	gr_error_t err = { 0 };
	int rc = gr_sim_trace_load(dir, 288, &t, &err);
	ok(rc < 0 && strstr(err.msg, want), "bad trace %s: error names '%s': %s", name, want, err.msg);
	if (rc == 0)
		gr_sim_trace_free(&t);
}

/* The shipped days match MANIFEST.txt: VM count, mean and standard deviation
 * of the CPU percentages (to the 2 decimals it gives). */
static void shipped_days(void)
{
	char path[512];
	snprintf(path, sizeof path, "%s/data/planetlab/MANIFEST.txt", src());
	FILE *f = fopen(path, "r");
	ok(f != NULL, "%s is in the tree", path);
	if (!f)
		return;
	char line[512];
	int days = 0;
	while (fgets(line, sizeof line, f)) {
		char day[16];
		unsigned vms;
		unsigned long bytes;
		double mean, sd;
		if (sscanf(line, "%15s %u %lu %lf %lf", day, &vms, &bytes, &mean, &sd) != 5 ||
		    strncmp(day, "2011", 4))
			continue;
		days++;
		char arch[600];
		snprintf(arch, sizeof arch, "%s/data/planetlab/%s.tar.xz", src(), day);
		struct gr_sim_trace t;
		if (load(arch, &t) < 0)
			continue;
		double sum = 0, sq = 0, n = 0;
		for (size_t i = 0; i < t.n_vms; i++)
			for (size_t k = 0; k < t.n_samples; k++) {
				double v = 100.0 * t.util[i * (t.n_samples + 1) + k];
				sum += v;
				sq += v * v;
				n++;
			}
		double m = sum / n, s = sqrt(sq / n - m * m);
		ok(t.n_vms == vms && fabs(m - mean) <= 0.005 + 1e-9 && fabs(s - sd) <= 0.005 + 1e-9,
		   "%s.tar.xz: %zu VMs (manifest %u), mean %.3f %% (%.2f), sd %.3f %% (%.2f)", day, t.n_vms,
		   vms, m, mean, s, sd);
		gr_sim_trace_free(&t);
	}
	fclose(f);
	is_int(days, 3, "MANIFEST.txt lists the three shipped days");
}

int main(void)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/tests/fixtures/sched/small", src());
	struct gr_sim_trace t;
	if (load(dir, &t) < 0)
		return tap_done();
	is_int(t.n_vms, 8, "fixture has 8 VMs");

	/* NPA: every host at full power for 287 intervals of 300 s */
	struct gr_sim_result r, r2;
	if (run(&t, 6, "npa", 1, &r) == 0) {
		double want = (3 * 117.0 + 3 * 135.0) * 287 * 300 / 3.6e6;
		ok(fabs(r.energy_kwh - want) < 1e-6, "NPA energy %.6f kWh = %.6f", r.energy_kwh, want);
		gr_sim_result_free(&r);
	}

	/* regression: figures of this fixture (change only with the model) */
	static const struct { const char *pol; double kwh; unsigned mig; } reg[] = {
		{ "thr-mmt-0.8", 3.6029, 26 }, { "lr-mmt-1.2", 3.4315, 23 },
		{ "peak", 3.1373, 7 },         { "dvfs", 7.2122, 0 },
	};
	for (size_t i = 0; i < sizeof reg / sizeof reg[0]; i++) {
		if (run(&t, 6, reg[i].pol, 1, &r) < 0)
			continue;
		ok(fabs(r.energy_kwh - reg[i].kwh) < 1e-3, "%s energy %.4f kWh (want %.4f)", reg[i].pol,
		   r.energy_kwh, reg[i].kwh);
		is_int(r.migrations, reg[i].mig, "%s migrations", reg[i].pol);
		gr_sim_result_free(&r);
	}

	/* the same fixture as a tar.xz archive gives the same trace and results */
	snprintf(dir, sizeof dir, "%s/tests/fixtures/sched/small.tar.xz", src());
	struct gr_sim_trace ta;
	if (load(dir, &ta) == 0) {
		bool same = ta.n_vms == t.n_vms && ta.n_samples == t.n_samples &&
			    !memcmp(ta.util, t.util, t.n_vms * (t.n_samples + 1) * sizeof *t.util);
		for (size_t i = 0; same && i < t.n_vms; i++)
			same = !strcmp(ta.names[i], t.names[i]);
		ok(same, "small.tar.xz holds the same 8 VMs, names and samples as the folder");
		if (run(&ta, 6, "thr-mmt-0.8", 1, &r) == 0) {
			ok(fabs(r.energy_kwh - 3.6029) < 1e-3 && r.migrations == 26,
			   "thr-mmt-0.8 on the archive: %.4f kWh, %llu migrations", r.energy_kwh,
			   (unsigned long long)r.migrations);
			gr_sim_result_free(&r);
		}
		gr_sim_trace_free(&ta);
	}

	/* properties of every policy */
	static const char *const all[] = { "dvfs",        "thr-mmt-0.8", "thr-rs-0.8", "thr-mc-0.8",
					   "thr-mu-0.8",  "iqr-mmt-1.5", "iqr-mc-1.5", "mad-mu-2.5",
					   "mad-rs-2.5",  "lr-mmt-1.2",  "lrr-mc-1.2", "peak",
					   "peak-0.7",    "thr-mmt-1.0" };
	struct gr_sim_result npa;
	if (run(&t, 6, "npa", 1, &npa) < 0)
		npa.energy_kwh = NAN; /* every energy comparison below fails */
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		if (run(&t, 6, all[i], 42, &r) < 0)
			continue;
		if (run(&t, 6, all[i], 42, &r2) < 0) {
			gr_sim_result_free(&r);
			continue;
		}
		ok(r.max_target_load <= 1 + 1e-9, "%s: no migration target over capacity (max %.3f)", all[i],
		   r.max_target_load);
		ok(r.energy_kwh == r2.energy_kwh && r.migrations == r2.migrations && r.slatah == r2.slatah &&
		   r.pdm == r2.pdm, "%s: same seed, same result", all[i]);
		ok(r.energy_kwh > 0 && r.energy_kwh < npa.energy_kwh, "%s: 0 < energy %.3f < NPA", all[i],
		   r.energy_kwh);
		ok(r.slatah >= 0 && r.slatah <= 1 && r.pdm >= 0 && r.pdm <= 1 &&
		   fabs(r.esv - r.energy_kwh * r.slatah * r.pdm) < 1e-12,
		   "%s: SLATAH, PDM in [0,1], ESV = E x SLATAH x PDM", all[i]);
		is_int(r.vms_not_created, 0, "%s: every VM fits at t = 0 on 6 hosts", all[i]);
		gr_sim_result_free(&r);
		gr_sim_result_free(&r2);
	}
	gr_sim_result_free(&npa);
	/* the peak policy ends below the static threshold on both energy and migrations */
	struct gr_sim_result thr, pk;
	if (run(&t, 6, "thr-mmt-0.8", 1, &thr) == 0) {
		if (run(&t, 6, "peak", 1, &pk) == 0) {
			ok(pk.energy_kwh < thr.energy_kwh && pk.migrations < thr.migrations,
			   "peak: %.3f kWh / %llu migrations below thr-mmt-0.8 %.3f / %llu", pk.energy_kwh,
			   (unsigned long long)pk.migrations, thr.energy_kwh, (unsigned long long)thr.migrations);
			gr_sim_result_free(&pk);
		}
		gr_sim_result_free(&thr);
	}
	/* too few hosts: the VMs no host can take are counted, not hidden */
	if (run(&t, 2, "thr-mmt-0.8", 1, &r) == 0) {
		ok(r.vms_not_created > 0 && r.vms_not_created < t.n_vms, "2 hosts: %zu of 8 VMs never created",
		   r.vms_not_created);
		gr_sim_result_free(&r);
	}
	/* subsets and shifts are valid traces too */
	gr_error_t err = { 0 };
	ok(gr_sim_trace_slice(&t, 2, 4, &err) == 0 && t.n_vms == 4, "slice keeps 4 VMs");
	ok(gr_sim_trace_slice(&t, 3, 4, &err) < 0, "slice outside the trace refused: %s", err.msg);
	gr_sim_trace_shift(&t, 100);
	if (run(&t, 4, "iqr-mmt-1.5", 1, &r) == 0) {
		ok(r.n_vms == 4 && r.energy_kwh > 0, "shifted subset runs: 4 VMs, %.3f kWh", r.energy_kwh);
		gr_sim_result_free(&r);
	}
	gr_sim_trace_free(&t);

	/* bad trace files and archives name the file (and member) and the line */
	bad_trace("nonnumeric", "vm0:6");
	bad_trace("range", "vm0:8");
	bad_trace("short", "only 100 samples");
	bad_trace("missing-folder", "missing-folder");
	bad_trace("nonnumeric.tar.gz", "nonnumeric.tar.gz:nonnumeric/vm0:6");
	bad_trace("two-days.tar.gz", "more than one folder");
	bad_trace("truncated.tar.xz", "truncated.tar.xz: damaged");
	bad_trace("not-an-archive.tar.xz", "not-an-archive.tar.xz");

	/* the shipped PlanetLab days */
	shipped_days();

	/* a published day (one run each: plain and ASan stay fast) */
	snprintf(dir, sizeof dir, "%s/data/planetlab/20110303.tar.xz", src());
	if (load(dir, &t) == 0) {
		is_int(t.n_vms, 1052, "20110303: 1052 VMs");
		if (run(&t, 800, "thr-mmt-0.8", 1, &r) == 0) {
			ok(fabs(r.energy_kwh / 198.1 - 1) < 0.10 && fabs((double)r.migrations / 27728 - 1) < 0.10,
			   "20110303 thr-mmt-0.8: %.1f kWh, %llu migrations within 10 %% of 198.1 / 27728",
			   r.energy_kwh, (unsigned long long)r.migrations);
			gr_sim_result_free(&r);
		}
		if (run(&t, 800, "peak", 1, &r) == 0) {
			ok(r.energy_kwh < 167.8 && r.esv < 0.5 * 0.00662,
			   "20110303 peak: %.1f kWh < 167.8, ESV %.6f < half of 0.00662", r.energy_kwh, r.esv);
			gr_sim_result_free(&r);
		}
		gr_sim_trace_free(&t);
	}
	return tap_done();
}
