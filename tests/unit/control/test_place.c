/*
 * test_place.c - the placer (place.c) over a pool of hosts: the pool policy
 * spreads (least-instances, round-robin), a target pins, an offline host
 * takes nothing, a start is admitted on this host only, instances counted on
 * the host their record names; and policy names (cluster.c's parse).  Pure:
 * no store, no host work.
 */
#include <errno.h>
#include <string.h>
#include "control/control-internal.h"
#include "sched/sched.h"
#include "tap.h"

static struct gr_instance inst(const char *name, const char *host, enum gr_inst_state st)
{
	struct gr_instance in;
	memset(&in, 0, sizeof in);
	snprintf(in.name, sizeof in.name, "%s", name);
	snprintf(in.host, sizeof in.host, "%s", host);
	in.state = st;
	in.memory = 64 << 20;
	in.cpu = 0.5;
	return in;
}

/* choose for name with policy, then record it running there (as the feed would) */
static int launch(struct gr__placer *p, const struct gr_sched_policy_ops *pol, const char *target,
		  const char *name, char *host)
{
	struct gr_instance in = inst(name, "", GR_ST_DEFINING);
	gr_error_t err = { 0 };
	if (gr__placer_choose(p, pol, target, &in, host, GR_INST_HOST_MAX, &err) < 0) {
		diag("%s: %s", name, err.msg);
		return -1;
	}
	struct gr_instance run = inst(name, host, GR_ST_RUNNING);
	gr__placer_track(p, name, &run);
	return 0;
}

int main(void)
{
	gr_error_t err = { 0 };
	struct gr__placer *p = gr__placer_new("h1", &err);
	ok(p != NULL, "placer for h1");
	struct gr__place_host hosts[] = {
		{ .name = "h1", .online = true, .cores = 2, .mem_mib = 4096 },
		{ .name = "h2", .online = true, .cores = 2, .mem_mib = 4096 },
		{ .name = "h3", .online = true, .cores = 2, .mem_mib = 4096 },
	};
	gr__placer_hosts(p, hosts, 3);

	const struct gr_sched_policy_ops *li = NULL, *rr = NULL;
	ok(gr__cluster_policy_parse("least-instances", &li, &err) == 0 && li, "least-instances known");
	ok(gr__cluster_policy_parse("round-robin", &rr, &err) == 0 && rr, "round-robin known");
	ok(gr__cluster_policy_parse("nope", &li, &err) < 0 && err.code == EINVAL &&
	   strstr(err.msg, "'nope'") && strstr(err.msg, "least-instances") &&
	   strstr(err.msg, "round-robin"), "unknown policy refused, naming it and the valid ones: %s",
	   err.msg);
	gr__cluster_policy_parse("least-instances", &li, &err);

	int count[3] = { 0 };
	char host[GR_INST_HOST_MAX], name[32];
	bool all = true;
	for (int i = 0; i < 9; i++) {
		snprintf(name, sizeof name, "li%d", i);
		all = all && launch(p, li, NULL, name, host) == 0;
		count[host[1] - '1']++;
	}
	ok(all && count[0] == 3 && count[1] == 3 && count[2] == 3,
	   "least-instances: 9 launches -> 3/3/3 (%d/%d/%d)", count[0], count[1], count[2]);

	memset(count, 0, sizeof count);
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof name, "rr%d", i);
		all = all && launch(p, rr, NULL, name, host) == 0;
		count[host[1] - '1']++;
	}
	ok(all && count[0] == 2 && count[1] == 2 && count[2] == 2,
	   "round-robin: 6 launches -> 2/2/2 (%d/%d/%d)", count[0], count[1], count[2]);

	ok(launch(p, li, "h3", "t1", host) == 0 && !strcmp(host, "h3"), "target h3 pins to h3");

	/* h2 offline: it takes nothing, by policy or by target */
	hosts[1].online = false;
	gr__placer_hosts(p, hosts, 3);
	all = true;
	for (int i = 0; i < 6; i++) {
		snprintf(name, sizeof name, "off%d", i);
		all = all && launch(p, li, NULL, name, host) == 0 && strcmp(host, "h2");
	}
	ok(all, "an offline host is never chosen");
	struct gr_instance x = inst("x2", "", GR_ST_DEFINING);
	ok(gr__placer_choose(p, li, "h2", &x, host, sizeof host, &err) < 0 && err.code == EAGAIN &&
	   strstr(err.msg, "h2"), "target on an offline host refused: %s", err.msg);

	/* a start is admitted on this host (h1), whatever the counts say */
	struct gr_instance s = inst("local1", "h1", GR_ST_DEFINED);
	ok(gr__placer_place(p, &s, host, sizeof host, &err) == 0 && !strcmp(host, "h1"),
	   "a start is admitted on this host");
	struct gr_instance big = inst("big", "h1", GR_ST_DEFINED);
	big.memory = (uint64_t)8192 << 20;
	ok(gr__placer_check(p, &big, &err) < 0 && err.code == EINVAL && strstr(err.msg, "memory"),
	   "bigger than any host: %s", err.msg);
	gr__placer_free(p);
	return tap_done();
}
