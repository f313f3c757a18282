/*
 * control_snapshot.c - libFuzzer target for snapshot request bodies (POST
 * /v1/instances/NAME/snapshots and .../restore come from outside): whatever
 * gr__snapshot_req_parse accepts has a valid name (create), and every plan
 * over it is either an error that says why or a consistent plan (memory only
 * for a running VM taken live).
 */
#include "control/snapshot.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const enum gr_backend types[] = { GR_BACKEND_CONTAINER, GR_BACKEND_VM };
static const enum gr_inst_state states[] = { GR_ST_DEFINED, GR_ST_STARTING, GR_ST_RUNNING,
					     GR_ST_STOPPING, GR_ST_STOPPED, GR_ST_DELETING };

static void check_err(int r, const gr_error_t *err)
{
	if (r < 0 && (!err->msg[0] || (err->code != EINVAL && err->code != EBUSY)))
		abort(); /* a refusal must say why, as bad input or a conflict */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *o = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	if (!o)
		return 0;
	for (int creating = 0; creating < 2; creating++) {
		struct gr__snap_req rq;
		gr_error_t err = { 0 };
		int r = gr__snapshot_req_parse(o, creating, &rq, &err);
		if (r < 0) {
			if (!err.msg[0] || err.code != EINVAL)
				abort();
			continue;
		}
		if (creating && gr__snapshot_name_check("name", rq.name, &err) < 0)
			abort();
		if (!creating)
			rq.name = "s";
		for (size_t t = 0; t < 2; t++)
			for (size_t s = 0; s < sizeof states / sizeof *states; s++)
				for (int eph = 0; eph < 2; eph++) {
					enum gr__snap_plan plan;
					bool mem = false;
					gr_error_t e = { 0 };
					r = gr__snapshot_plan_create("i", types[t], states[s], eph, &rq, &plan, &mem, &e);
					check_err(r, &e);
					if (r == 0 && mem && (t != 1 || plan != GR_SNAP_LIVE))
						abort();
					r = gr__snapshot_plan_restore("i", types[t], states[s], eph, eph, &rq, &plan, &e);
					check_err(r, &e);
				}
	}
	json_decref(o);
	return 0;
}
