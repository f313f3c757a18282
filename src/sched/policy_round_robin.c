/*
 * policy_round_robin.c - "round-robin" (seed 003): hosts take turns.  The
 * cursor lives in the snapshot (rr_cursor); a decision names the host after
 * the chosen one as cursor_after and gr_sched_apply() commits it, so asking
 * twice without applying gives the same answer.  Hosts that fail a filter are
 * skipped in turn order.
 */
#include "sched/sched-internal.h"

static int rr_place(const struct gr_sched_snapshot *s, const struct gr_sched_request *req,
		    struct gr_sched_decision *d, gr_error_t *err)
{
	struct gr__fit f;
	gr__fit_request(s, req, &f);
	size_t n = s->n_hosts;
	size_t start = s->rr_cursor % n;
	for (size_t k = 0; k < n; k++) {
		size_t h = start + k;
		if (h >= n)
			h -= n;
		d->considered++;
		int why = gr__fit_host(s, &f, (int)h);
		if (why >= 0) {
			d->rejected[why]++;
			continue;
		}
		d->set_cursor = true;
		d->cursor_after = (uint32_t)((h + 1) % n);
		gr__decision_placed(d, s, (int)h, (double)k, "round-robin turn (%zu skipped)", k);
		return 0;
	}
	gr__decision_not_placed(d, &f, NULL);
	return 0;
}

const struct gr_sched_policy_ops gr__policy_round_robin = {
	.name = "round-robin",
	.summary = "hosts take turns; the cursor is part of the snapshot",
	.place = rr_place,
};
