/*
 * power.c - host power curves: watts at 0..100 % CPU utilisation in 10 %
 * steps, linearly interpolated (CloudSim's PowerModelSpecPower, the model of
 * Beloglazov & Buyya 2012).  The built-in curves are the SPECpower figures
 * used by those experiments.  Pure functions, no state.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "sched/sched.h"

static const struct gr_sched_power_model builtin[] = {
	/* HP ProLiant ML110 G4 (Intel Xeon 3040, 2 x 1860 MHz, 4 GB) */
	{ "hp-ml110-g4", { 86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117 } },
	/* HP ProLiant ML110 G5 (Intel Xeon 3075, 2 x 2660 MHz, 4 GB) */
	{ "hp-ml110-g5", { 93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135 } },
	/* linear: 70 % of 250 W at idle, 250 W at full load */
	{ "linear-250", { 175, 182.5, 190, 197.5, 205, 212.5, 220, 227.5, 235, 242.5, 250 } },
};

double gr_sched_power_at(const struct gr_sched_power_model *m, double u)
{
	if (!(u > 0)) /* also NaN */
		return m->watts[0];
	if (u >= 1)
		return m->watts[GR_SCHED_POWER_STEPS - 1];
	double x = u * (GR_SCHED_POWER_STEPS - 1);
	int i = (int)x;
	if (i >= GR_SCHED_POWER_STEPS - 1)
		return m->watts[GR_SCHED_POWER_STEPS - 1];
	double f = x - i;
	return m->watts[i] + (m->watts[i + 1] - m->watts[i]) * f;
}

int gr_sched_power_check(const struct gr_sched_power_model *m, gr_error_t *err)
{
	for (int i = 0; i < GR_SCHED_POWER_STEPS; i++) {
		double w = m->watts[i];
		if (!isfinite(w) || w < 0)
			return gr_error_set(err, EINVAL, "power.watts[%d] (%d %%): %g is not a wattage",
					    i, i * 10, w);
		if (i > 0 && w < m->watts[i - 1])
			return gr_error_set(err, EINVAL,
					    "power.watts[%d] (%d %%): %g W is below the %d %% figure %g W",
					    i, i * 10, w, (i - 1) * 10, m->watts[i - 1]);
	}
	return 0;
}

const struct gr_sched_power_model *gr_sched_power_by_name(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (!strcmp(builtin[i].name, name))
			return &builtin[i];
	return NULL;
}
