/*
 * test_snapshot.c - the pure parts of snapshot.c: request parsing (every
 * error names its field), the snapshot name rule, and the plans for create
 * and restore by instance type, state, ephemeral and request (no store, no
 * host).
 */
#include <errno.h>
#include <string.h>
#include "control/snapshot.h"
#include "tap.h"

/* rq borrows from the request: keep the last one alive until the next call */
static json_t *last_req;

static int parse(const char *json, bool creating, struct gr__snap_req *rq, gr_error_t *err)
{
	json_decref(last_req);
	last_req = json_loads(json, 0, NULL);
	if (!last_req)
		return gr_error_set(err, EINVAL, "test: bad JSON in the test itself");
	return gr__snapshot_req_parse(last_req, creating, rq, err);
}

static void bad(const char *json, bool creating, const char *field)
{
	struct gr__snap_req rq;
	gr_error_t err = { 0 };
	int r = parse(json, creating, &rq, &err);
	ok(r < 0 && err.code == EINVAL && !strncmp(err.msg, field, strlen(field)), "rejects %s: %s", json,
	   err.msg);
}

static int plan_c(const char *type, const char *state, bool eph, int memory, bool stop,
		  enum gr__snap_plan *p, bool *mem, gr_error_t *err)
{
	struct gr__snap_req rq = { .name = "s", .memory = memory, .stop = stop };
	return gr__snapshot_plan_create("i", gr_driver_lookup(type)->backend, gr__state_parse(state), eph,
					&rq, p, mem, err);
}

static int plan_r(const char *type, const char *state, bool eph, bool snap_mem, bool stop,
		  enum gr__snap_plan *p, gr_error_t *err)
{
	struct gr__snap_req rq = { .name = "s", .memory = -1, .stop = stop };
	return gr__snapshot_plan_restore("i", gr_driver_lookup(type)->backend, gr__state_parse(state), eph,
					 snap_mem, &rq, p, err);
}

int main(void)
{
	gr_error_t err = { 0 };
	struct gr__snap_req rq;
	ok(parse("{\"name\":\"s1\"}", true, &rq, &err) == 0 && !strcmp(rq.name, "s1") && rq.memory == -1 &&
	   !rq.stop, "a minimal create request");
	ok(parse("{\"name\":\"pre-upgrade.1\",\"memory\":false,\"stop\":true}", true, &rq, &err) == 0 &&
	   rq.memory == 0 && rq.stop, "memory and stop are read");
	ok(parse("{}", false, &rq, &err) == 0 && !rq.stop, "an empty restore request");
	ok(gr__snapshot_req_parse(NULL, false, &rq, &err) == 0, "no body on restore");
	bad("{}", true, "name: required");
	bad("{\"name\":5}", true, "name:");
	bad("{\"name\":\"\"}", true, "name:");
	bad("{\"name\":\"Upper\"}", true, "name:");
	bad("{\"name\":\"a/b\"}", true, "name:");
	bad("{\"name\":\".hidden\"}", true, "name:");
	bad("{\"name\":\"s\",\"memory\":\"yes\"}", true, "memory:");
	bad("{\"name\":\"s\",\"stop\":1}", true, "stop:");
	bad("{\"name\":\"s\",\"colour\":1}", true, "colour: unknown field");
	bad("{\"name\":\"s\"}", false, "name: unknown field");
	bad("{\"memory\":true}", false, "memory: unknown field");
	char longname[80];
	memset(longname, 'a', 64);
	longname[64] = 0;
	ok(gr__snapshot_name_check("snapshot", longname, &err) < 0 && !strncmp(err.msg, "snapshot:", 9),
	   "64 characters is too long, field named");
	longname[63] = 0;
	ok(gr__snapshot_name_check("snapshot", longname, &err) == 0, "63 characters is fine");

	enum gr__snap_plan p;
	bool mem;
	/* containers */
	ok(plan_c("container", "stopped", false, -1, false, &p, &mem, &err) == 0 && p == GR_SNAP_AT_REST &&
	   !mem, "stopped container: at rest, files only");
	ok(plan_c("container", "defined", false, -1, false, &p, &mem, &err) == 0 && p == GR_SNAP_AT_REST,
	   "defined container: at rest");
	ok(plan_c("container", "running", false, -1, false, &p, &mem, &err) < 0 && err.code == EBUSY &&
	   strstr(err.msg, "--stop"), "running container without stop: EBUSY with a hint");
	ok(plan_c("container", "running", false, -1, true, &p, &mem, &err) == 0 && p == GR_SNAP_STOP_CYCLE,
	   "running container with stop: stop cycle");
	ok(plan_c("container", "stopped", false, 1, false, &p, &mem, &err) < 0 && err.code == EINVAL &&
	   !strncmp(err.msg, "memory:", 7), "container memory snapshot: EINVAL naming memory");
	ok(plan_c("container", "starting", false, -1, true, &p, &mem, &err) < 0 && err.code == EBUSY,
	   "a starting instance: EBUSY");
	/* VMs */
	ok(plan_c("vm", "running", false, -1, false, &p, &mem, &err) == 0 && p == GR_SNAP_LIVE && mem,
	   "running VM: live memory snapshot");
	ok(plan_c("vm", "running", false, 1, true, &p, &mem, &err) == 0 && p == GR_SNAP_LIVE && mem,
	   "running VM, memory asked: live even with stop");
	ok(plan_c("vm", "running", false, 0, false, &p, &mem, &err) < 0 && err.code == EINVAL &&
	   !strncmp(err.msg, "memory:", 7), "running VM, no memory, no stop: EINVAL naming memory");
	ok(plan_c("vm", "running", false, 0, true, &p, &mem, &err) == 0 && p == GR_SNAP_STOP_CYCLE && !mem,
	   "running VM, no memory, stop: disk snapshot in a stop cycle");
	ok(plan_c("vm", "stopped", false, -1, false, &p, &mem, &err) == 0 && p == GR_SNAP_AT_REST && !mem,
	   "stopped VM: disk only");
	ok(plan_c("vm", "stopped", false, 1, false, &p, &mem, &err) < 0 && !strncmp(err.msg, "memory:", 7),
	   "stopped VM, memory asked: EINVAL");
	ok(plan_c("vm", "running", true, -1, false, &p, &mem, &err) < 0 && err.code == EBUSY,
	   "running ephemeral VM: no live snapshot (it would vanish with the run layer)");
	ok(plan_c("vm", "running", true, -1, true, &p, &mem, &err) == 0 && p == GR_SNAP_STOP_CYCLE,
	   "running ephemeral VM with stop: stop cycle");
	/* restore */
	ok(plan_r("container", "stopped", false, false, false, &p, &err) == 0 && p == GR_SNAP_AT_REST,
	   "restore a stopped container: at rest");
	ok(plan_r("container", "running", false, false, false, &p, &err) < 0 && err.code == EBUSY &&
	   strstr(err.msg, "--stop"), "restore a running container without stop: EBUSY with a hint");
	ok(plan_r("container", "running", false, false, true, &p, &err) == 0 && p == GR_SNAP_STOP_CYCLE,
	   "restore a running container with stop: stop cycle");
	ok(plan_r("vm", "running", false, true, false, &p, &err) == 0 && p == GR_SNAP_LIVE,
	   "memory snapshot into a running VM: live");
	ok(plan_r("vm", "running", false, false, false, &p, &err) < 0 && err.code == EBUSY &&
	   strstr(err.msg, "disk-only"), "disk-only snapshot into a running VM: EBUSY, says disk-only");
	ok(plan_r("vm", "running", false, false, true, &p, &err) == 0 && p == GR_SNAP_STOP_CYCLE,
	   "disk-only snapshot into a running VM with stop: stop cycle");
	ok(plan_r("vm", "stopped", false, true, false, &p, &err) == 0 && p == GR_SNAP_AT_REST,
	   "memory snapshot into a stopped VM: its disk state");
	ok(plan_r("vm", "running", true, true, false, &p, &err) < 0 && err.code == EBUSY,
	   "running ephemeral VM: EBUSY");
	ok(plan_r("vm", "deleting", false, true, true, &p, &err) < 0 && err.code == EBUSY,
	   "a deleting instance: EBUSY");
	json_decref(last_req);
	return tap_done();
}
