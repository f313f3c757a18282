/* placeholder replaced below */
#include "sched/sim-internal.h"
int sim_peak_initial(struct gr_sim *s) { return sim_cloudsim_initial(s); }
void sim_peak_optimize(struct gr_sim *s) { (void)s; }
void sim_peak_free(struct gr_sim *s) { (void)s; }
