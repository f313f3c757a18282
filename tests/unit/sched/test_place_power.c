/*
 * test_place_power.c - power curves (interpolation, validation, built-ins)
 * and the seeded PRNG (determinism, bounds).
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "sched/sched.h"
#include "tap.h"

int main(void)
{
	gr_error_t err;
	const struct gr_sched_power_model *g4 = gr_sched_power_by_name("hp-ml110-g4");
	const struct gr_sched_power_model *g5 = gr_sched_power_by_name("hp-ml110-g5");
	ok(g4 && g5 && gr_sched_power_by_name("linear-250"), "built-in curves exist");
	ok(!gr_sched_power_by_name("nope") && !gr_sched_power_by_name(NULL), "unknown curve -> NULL");
	ok(gr_sched_power_at(g4, 0) == 86 && gr_sched_power_at(g4, 1) == 117, "g4 end points 86 W / 117 W");
	ok(fabs(gr_sched_power_at(g4, 0.05) - 87.7) < 1e-9, "g4 at 5 %% interpolates to 87.7 W");
	ok(fabs(gr_sched_power_at(g5, 0.55) - 118.5) < 1e-9, "g5 at 55 %% interpolates to 118.5 W");
	ok(gr_sched_power_at(g5, -1) == 93.7 && gr_sched_power_at(g5, 2) == 135 && gr_sched_power_at(g5, NAN) == 93.7,
	   "out-of-range utilisation is clamped");
	double prev = 0;
	int mono = 1;
	for (int i = 0; i <= 1000; i++) {
		double w = gr_sched_power_at(g5, i / 1000.0);
		mono &= w >= prev;
		prev = w;
	}
	ok(mono, "interpolation is non-decreasing");
	is_int(gr_sched_power_check(g4, &err), 0, "built-in curve passes the check");
	struct gr_sched_power_model bad = *g4;
	bad.watts[5] = 50;
	ok(gr_sched_power_check(&bad, &err) < 0 && strstr(err.msg, "watts[5]"), "decreasing curve refused: %s",
	   err.msg);
	bad.watts[5] = NAN;
	ok(gr_sched_power_check(&bad, &err) < 0 && err.code == EINVAL, "NaN refused");

	/* a host with a bad curve is refused */
	struct gr_sched_snapshot *s = gr_sched_snapshot_new(1);
	bad = *g4;
	bad.watts[10] = 1;
	struct gr_sched_host h = { .name = "pw", .cores = 1, .mips_per_core = 1, .mem_mib = 1, .power = &bad };
	ok(gr_sched_add_host(s, &h, &err) < 0 && strstr(err.msg, "host pw"), "host with a bad curve refused: %s",
	   err.msg);
	gr_sched_snapshot_free(s);

	/* PRNG */
	struct gr_sched_rng a, b;
	gr_sched_rng_seed(&a, 12345);
	gr_sched_rng_seed(&b, 12345);
	int same = 1, inrange = 1, dbl = 1;
	unsigned hist[10] = { 0 };
	for (int i = 0; i < 100000; i++) {
		uint64_t x = gr_sched_rng_next(&a), y = gr_sched_rng_next(&b);
		same &= x == y;
		uint64_t k = gr_sched_rng_below(&a, 10);
		inrange &= k < 10;
		hist[k < 10 ? k : 0]++;
		double d = gr_sched_rng_double(&b);
		dbl &= d >= 0 && d < 1;
	}
	ok(same, "same seed -> same stream");
	ok(inrange && dbl, "bounded draws stay in range");
	int flat = 1;
	for (int i = 0; i < 10; i++)
		flat &= hist[i] > 9000 && hist[i] < 11000;
	ok(flat, "rng_below(10) is roughly uniform");
	gr_sched_rng_seed(&b, 12346);
	gr_sched_rng_seed(&a, 12345);
	ok(gr_sched_rng_next(&a) != gr_sched_rng_next(&b), "different seed -> different stream");
	is_int(gr_sched_rng_below(&a, 1), 0, "below(1) is 0");
	return tap_done();
}
