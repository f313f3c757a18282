/*
 * test_sim_run.c - whole simulator runs: a regression on the small fixture
 * (8 VMs, 6 hosts), properties every policy must keep, bad trace files, and,
 * when the PlanetLab data is present, one published day reproduced within
 * 10 % (energy and migrations) and beaten by the peak policy.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sched/sim.h"
#include "tap.h"

static const char *src(void)
{
	const char *s = getenv("GR_SRC");
	return s ? s : ".";
}

static int run(const struct gr_sim_trace *t, size_t hosts, const char *pol, uint64_t seed,
	       struct gr_sim_result *r)
{
	struct gr_sim_config c;
	struct gr_sim_policy p;
	gr_error_t err;
	gr_sim_config_default(&c);
	c.n_hosts = hosts;
	c.seed = seed;
	if (gr_sim_policy_parse(pol, &p, &err) < 0 || gr_sim_run(t, &c, &p, r, &err) < 0) {
		diag("%s: %s", pol, err.msg);
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

int main(void)
{
	char dir[512];
	snprintf(dir, sizeof dir, "%s/tests/fixtures/sched/small", src());
	struct gr_sim_trace t;
	gr_error_t err;
	if (gr_sim_trace_load(dir, 288, &t, &err) < 0) {
		ok(0, "load %s: %s", dir, err.msg);
		return tap_done();
	}
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
		if (run(&t, 6, reg[i].pol, 1, &r) < 0) {
			ok(0, "run %s", reg[i].pol);
			continue;
		}
		ok(fabs(r.energy_kwh - reg[i].kwh) < 1e-3, "%s energy %.4f kWh (want %.4f)", reg[i].pol,
		   r.energy_kwh, reg[i].kwh);
		is_int(r.migrations, reg[i].mig, "%s migrations", reg[i].pol);
		gr_sim_result_free(&r);
	}

	/* properties of every policy */
	static const char *const all[] = { "dvfs",        "thr-mmt-0.8", "thr-rs-0.8", "thr-mc-0.8",
					   "thr-mu-0.8",  "iqr-mmt-1.5", "iqr-mc-1.5", "mad-mu-2.5",
					   "mad-rs-2.5",  "lr-mmt-1.2",  "lrr-mc-1.2", "peak",
					   "peak-0.7",    "thr-mmt-1.0" };
	struct gr_sim_result npa;
	run(&t, 6, "npa", 1, &npa);
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		if (run(&t, 6, all[i], 42, &r) < 0 || run(&t, 6, all[i], 42, &r2) < 0) {
			ok(0, "run %s", all[i]);
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
		gr_sim_result_free(&r);
		gr_sim_result_free(&r2);
	}
	gr_sim_result_free(&npa);
	/* the peak policy ends below the static threshold on both energy and migrations */
	struct gr_sim_result thr, pk;
	if (run(&t, 6, "thr-mmt-0.8", 1, &thr) == 0 && run(&t, 6, "peak", 1, &pk) == 0) {
		ok(pk.energy_kwh < thr.energy_kwh && pk.migrations < thr.migrations,
		   "peak: %.3f kWh / %llu migrations below thr-mmt-0.8 %.3f / %llu", pk.energy_kwh,
		   (unsigned long long)pk.migrations, thr.energy_kwh, (unsigned long long)thr.migrations);
		gr_sim_result_free(&thr);
		gr_sim_result_free(&pk);
	}
	/* subsets and shifts are valid traces too */
	ok(gr_sim_trace_slice(&t, 2, 4, &err) == 0 && t.n_vms == 4, "slice keeps 4 VMs");
	ok(gr_sim_trace_slice(&t, 3, 4, &err) < 0, "slice outside the trace refused: %s", err.msg);
	gr_sim_trace_shift(&t, 100);
	ok(run(&t, 4, "iqr-mmt-1.5", 1, &r) == 0, "shifted subset runs");
	gr_sim_result_free(&r);
	gr_sim_trace_free(&t);

	/* bad trace files name the file and the line */
	bad_trace("nonnumeric", "vm0:6");
	bad_trace("range", "vm0:8");
	bad_trace("short", "only 100 samples");
	bad_trace("missing-folder", "missing-folder");

	/* a published day, when the data is here (one run each: plain and ASan stay fast) */
	const char *day = "/work/shared/data/planetlab/20110303";
	if (access(day, R_OK) == 0 && gr_sim_trace_load(day, 288, &t, &err) == 0) {
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
	} else {
		skip("PlanetLab day %s not present on this machine", day);
	}
	return tap_done();
}
