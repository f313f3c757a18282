/*
 * test_sim_stats.c - the simulator's detectors, selectors' statistics, policy
 * names and trace parser, on small hand-computed cases.
 */
#include <math.h>
#include <string.h>
#include "sched/sim.h"
#include "tap.h"

static int near(double a, double b) { return fabs(a - b) < 1e-9; }

int main(void)
{
	/* medians, MAD, IQR (CloudSim quartile indices) */
	double odd[] = { 3, 1, 2 }, even[] = { 4, 1, 3, 2 };
	ok(near(gr_sim_median(odd, 3), 2), "median of 3,1,2 is 2");
	ok(near(gr_sim_median(even, 4), 2.5), "median of 4,1,3,2 is 2.5");
	double m[] = { 1, 1, 2, 2, 4, 6, 9 };
	ok(near(gr_sim_mad(m, 7), 1), "MAD of 1,1,2,2,4,6,9 is 1 (deviations 1,1,0,0,2,4,7)");
	double q[12];
	for (int i = 0; i < 12; i++)
		q[i] = 12 - i;
	ok(near(gr_sim_iqr(q, 12), 7), "IQR of 1..12: sorted[9] - sorted[2] = 10 - 3 = 7");
	double q7[] = { 7, 6, 5, 4, 3, 2, 1 };
	ok(near(gr_sim_iqr(q7, 7), 4), "IQR of 1..7: sorted[5] - sorted[1] = 6 - 2 = 4");
	ok(near(q[0], 12), "IQR leaves its input unsorted");

	/* least squares */
	double y[] = { 1, 3, 5, 7 }, a, b;
	ok(gr_sim_ols(y, 4, &a, &b) == 0 && near(a, -1) && near(b, 2), "OLS of 1,3,5,7 on x=1..4: y = -1 + 2x");
	ok(gr_sim_ols(y, 1, &a, &b) < 0, "OLS needs 2 points");

	/* adaptive thresholds */
	double h[30] = { 0 }, thr = 0;
	for (int i = 0; i < 12; i++)
		h[i] = (12 - i) / 20.0; /* most recent first: 0.6 .. 0.05 */
	ok(gr_sim_adaptive_threshold(GR_SIM_IQR, 1.5, h, 11, &thr) < 0, "IQR: 11 samples use the fallback");
	ok(gr_sim_adaptive_threshold(GR_SIM_IQR, 1.5, h, 30, &thr) == 0 && near(thr, 1 - 1.5 * 0.35),
	   "IQR: zero tail trimmed, 12 samples, 1 - 1.5*0.35 = %g", thr);
	ok(gr_sim_adaptive_threshold(GR_SIM_MAD, 2.5, h, 12, &thr) == 0 && near(thr, 1 - 2.5 * 0.15),
	   "MAD of 0.05..0.6 step 0.05 is 0.15: threshold %g", thr);

	/* LR: most recent first 0.55, 0.50, ... 0.10 is y = 0.05 + 0.05x; at x = 11: 0.6 * 1.2 */
	double lr[10], pred = 0;
	for (int i = 0; i < 10; i++)
		lr[i] = 0.55 - 0.05 * i;
	ok(gr_sim_lr_predict(lr, 9, 1.2, 1, &pred) < 0, "LR: 9 samples use the fallback");
	ok(gr_sim_lr_predict(lr, 10, 1.2, 1, &pred) == 0 && near(pred, 0.72), "LR predicts 0.72, got %g", pred);
	double flat[10] = { 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5 };
	ok(gr_sim_lr_predict(flat, 10, 2, 3, &pred) == 0 && near(pred, 1.0), "LR of a flat 0.5 times 2 is 1");

	/* MC's R^2 */
	double mc[] = { 1, 2, 3, 4, 5, /* row 1 = 2 * row 0 */ 2, 4, 6, 8, 10, /* noise */ 1, 0, 1, 0, 1 };
	ok(near(gr_sim_r2_against_others(mc, 2, 5, 0), 1), "R^2 of a row on its double is 1");
	ok(gr_sim_r2_against_others(mc, 3, 5, 2) < 0, "collinear predictors: not computable (fallback)");
	double mc2[] = { 1, 2, 3, 4, 5, 2, 1, 4, 3, 6, 1, 0, 0, 1, 1 };
	double r2 = gr_sim_r2_against_others(mc2, 3, 5, 2);
	ok(r2 >= 0 && r2 < 1, "R^2 of noise on the others in [0,1): %g", r2);
	ok(gr_sim_r2_against_others(mc, 3, 2, 0) < 0, "R^2 needs more samples than VMs");

	/* policy names */
	struct gr_sim_policy p;
	gr_error_t err;
	ok(gr_sim_policy_parse("thr-mmt-0.8", &p, &err) == 0 && p.kind == GR_SIM_MIGRATION &&
	   p.detector == GR_SIM_THR && p.selector == GR_SIM_MMT && near(p.param, 0.8), "thr-mmt-0.8");
	ok(gr_sim_policy_parse("IQR-MC", &p, &err) == 0 && p.detector == GR_SIM_IQR &&
	   p.selector == GR_SIM_MC && near(p.param, 1.5), "IQR-MC defaults to 1.5");
	ok(gr_sim_policy_parse("lrr-mu-1.2", &p, &err) == 0 && p.detector == GR_SIM_LRR, "lrr-mu-1.2");
	ok(gr_sim_policy_parse("npa", &p, &err) == 0 && p.kind == GR_SIM_NPA, "npa");
	ok(gr_sim_policy_parse("peak", &p, &err) == 0 && p.kind == GR_SIM_PEAK, "peak");
	ok(gr_sim_policy_parse("thr-xyz", &p, &err) < 0 && strstr(err.msg, "xyz"), "bad selector named: %s", err.msg);
	ok(gr_sim_policy_parse("foo", &p, &err) < 0 && strstr(err.msg, "foo"), "unknown policy named: %s", err.msg);
	ok(gr_sim_policy_parse("thr-mmt-1.5", &p, &err) < 0, "threshold above 1 refused");
	ok(gr_sim_policy_parse("mad-mmt-x", &p, &err) < 0 && strstr(err.msg, "'x'"), "bad parameter named: %s", err.msg);
	/* names print the parameter as given (canonical case), or the default */
	static const struct { const char *in, *want; } names[] = {
		{ "thr-mmt-1.0", "thr-mmt-1.0" }, { "THR-MMT-0.80", "thr-mmt-0.80" },
		{ "thr-mmt", "thr-mmt-0.8" },      { "IQR-MC", "iqr-mc-1.5" },
		{ "peak", "peak-0.85" },          { "peak-0.90", "peak-0.90" },
		{ "lr-mmt-1.20", "lr-mmt-1.20" },  { "NPA", "npa" },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const char *in = names[i].in, *want = names[i].want;
		if (gr_sim_policy_parse(in, &p, &err) < 0)
			ok(0, "parse %s: %s", in, err.msg);
		else
			is_str(p.name, want, "policy '%s' is named as given", in);
	}
	ok(gr_sim_policy_parse("thr-mmt-0.80000000000000000000000000000001", &p, &err) < 0 &&
		   strstr(err.msg, "39"),
	   "a policy name too long to print whole is refused: %s", err.msg);

	/* trace parser */
	float out[4];
	const char good[] = "10\n20\r\n 30 \n100\n\n";
	ok(gr_sim_trace_parse("t", good, strlen(good), 4, out, &err) == 0 && near(out[3], 1.0) &&
	   fabs(out[0] - 0.1) < 1e-6, "parses CRLF, spaces, trailing blank line");
	const char bad[] = "10\nabc\n30\n40\n";
	ok(gr_sim_trace_parse("f", bad, strlen(bad), 4, out, &err) < 0 && strstr(err.msg, "f:2"),
	   "non-numeric names file:line: %s", err.msg);
	const char shortt[] = "10\n20\n";
	ok(gr_sim_trace_parse("f", shortt, strlen(shortt), 4, out, &err) < 0 && strstr(err.msg, "only 2"),
	   "short file: %s", err.msg);
	const char longt[] = "1\n2\n3\n4\n5\n";
	ok(gr_sim_trace_parse("f", longt, strlen(longt), 4, out, &err) < 0 && strstr(err.msg, "f:5"),
	   "long file names the extra line: %s", err.msg);
	const char range[] = "1\n2\n-3\n4\n";
	ok(gr_sim_trace_parse("f", range, strlen(range), 4, out, &err) < 0 && strstr(err.msg, "f:3"),
	   "negative value: %s", err.msg);
	const char gap[] = "1\n\n3\n4\n";
	ok(gr_sim_trace_parse("f", gap, strlen(gap), 4, out, &err) < 0 && strstr(err.msg, "f:2"),
	   "blank line inside: %s", err.msg);
	return tap_done();
}
