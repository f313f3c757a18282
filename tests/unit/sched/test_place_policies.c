/*
 * test_place_policies.c - known answers for every placement policy on small
 * hand-made snapshots, the filters (state, labels, affinity, anti-affinity,
 * capacity, cores) and the "not placed" reasons.
 */
#include <errno.h>
#include <string.h>
#include "sched/sched.h"
#include "tap.h"

static struct gr_sched_snapshot *s;
static gr_error_t err;

static int host(const char *name, uint32_t cores, uint64_t mem, enum gr_sched_host_state st)
{
	struct gr_sched_host h = { .name = name, .cores = cores, .mips_per_core = 1000,
				   .mem_mib = mem, .state = st };
	int i = gr_sched_add_host(s, &h, &err);
	if (i < 0)
		ok(0, "add_host %s: %s", name, err.msg);
	return i;
}

static struct gr_sched_request req(const char *name, uint32_t vcpus, uint64_t mem)
{
	return (struct gr_sched_request){ .name = name, .vcpus = vcpus, .mips_per_vcpu = 1000,
					  .mem_mib = mem };
}

/* Place with the policy and apply; returns the host name or "-" */
static const char *place(const char *policy, struct gr_sched_request r, struct gr_sched_decision *d)
{
	const struct gr_sched_policy_ops *p = gr_sched_policy_by_name(policy);
	if (gr_sched_place(s, p, &r, d, &err) < 0) {
		diag("place: %s", err.msg);
		return "error";
	}
	if (d->host < 0)
		return "-";
	if (gr_sched_apply(s, &r, d, &err) < 0) {
		diag("apply: %s", err.msg);
		return "apply-error";
	}
	return s->hosts[d->host].name;
}

static void fresh(void)
{
	gr_sched_snapshot_free(s);
	s = gr_sched_snapshot_new(1);
}

int main(void)
{
	struct gr_sched_decision d;

	/* registry */
	const char *names[] = { "static", "round-robin", "least-instances", "shortest-queue",
				"diffusive", "local", "global", "best-fit", "pabfd" };
	for (size_t i = 0; i < 9; i++) {
		const struct gr_sched_policy_ops *p = gr_sched_policy_by_name(names[i]);
		ok(p && !strcmp(p->name, names[i]) && p->place, "policy %s is registered", names[i]);
	}
	ok(!gr_sched_policy_by_name("nope"), "unknown policy name gives NULL");

	/* snapshot validation */
	fresh();
	struct gr_sched_host bad = { .name = "x", .cores = 0, .mips_per_core = 1000, .mem_mib = 1 };
	ok(gr_sched_add_host(s, &bad, &err) < 0 && strstr(err.msg, "cores"), "host with 0 cores refused: %s",
	   err.msg);
	bad.cores = 1;
	bad.cpu_overcommit = 0.5;
	ok(gr_sched_add_host(s, &bad, &err) < 0 && strstr(err.msg, "cpu_overcommit"),
	   "overcommit below 1 refused: %s", err.msg);
	is_int(host("a", 4, 8192, GR_SCHED_HOST_UP), 0, "first host index 0");
	struct gr_sched_host dup_host = { .name = "a", .cores = 4, .mips_per_core = 1000, .mem_mib = 8192 };
	ok(gr_sched_add_host(s, &dup_host, &err) < 0 && err.code == EEXIST, "duplicate host name refused");
	struct gr_sched_request r = req("v", 0, 10);
	ok(gr_sched_place(s, gr_sched_policy_by_name("best-fit"), &r, &d, &err) < 0 &&
		   strstr(err.msg, "vcpus"),
	   "request with 0 vcpus refused: %s", err.msg);

	/* round-robin: turns, skipping hosts that do not fit; cursor committed on apply */
	fresh();
	host("h0", 4, 4096, GR_SCHED_HOST_UP);
	host("h1", 4, 4096, GR_SCHED_HOST_MAINTENANCE);
	host("h2", 4, 4096, GR_SCHED_HOST_UP);
	host("h3", 1, 1024, GR_SCHED_HOST_UP);
	struct gr_sched_request rr = req(NULL, 2, 2048);
	const struct gr_sched_policy_ops *prr = gr_sched_policy_by_name("round-robin");
	gr_sched_place(s, prr, &rr, &d, &err);
	struct gr_sched_decision d2;
	gr_sched_place(s, prr, &rr, &d2, &err);
	is_int(d.host, d2.host, "round-robin: asking twice without applying gives the same host");
	is_str(place("round-robin", rr, &d), "h0", "round-robin turn 1 -> h0");
	is_str(place("round-robin", rr, &d), "h2", "round-robin turn 2 skips maintenance h1 -> h2");
	is_str(place("round-robin", rr, &d), "h0", "turn 3 skips too-small h3, wraps -> h0");
	is_str(place("round-robin", rr, &d), "h2", "turn 4 -> h2");
	is_str(place("round-robin", rr, &d), "-", "turn 5: everything full");
	is_str(d.reason, "no host has 2 x 1000 MIPS free (1 host in maintenance, 1 with too few or too slow cores, 2 too small in CPU)",
	       "reason names each filter and count");

	/* least-instances (VMQS) */
	fresh();
	host("a", 8, 16384, GR_SCHED_HOST_UP);
	host("b", 8, 16384, GR_SCHED_HOST_UP);
	host("c", 8, 16384, GR_SCHED_HOST_UP);
	is_str(place("least-instances", req("i1", 1, 1024), &d), "a", "least-instances: tie -> lowest index");
	is_str(place("least-instances", req("i2", 1, 1024), &d), "b", "least-instances: next emptiest");
	is_str(place("least-instances", req("i3", 4, 1024), &d), "c", "least-instances: c");
	is_str(place("least-instances", req("i4", 1, 1024), &d), "a", "least-instances: a (1 instance, load lower than c)");
	is_int(s->hosts[0].n_instances, 2, "aggregate n_instances updated on apply");
	ok(s->hosts[0].cpu_alloc == 2000 && s->hosts[0].mem_alloc == 2048, "cpu/mem aggregates updated on apply");

	/* shortest-queue uses measured load, not allocation */
	fresh();
	host("a", 4, 16384, GR_SCHED_HOST_UP);
	host("b", 4, 16384, GR_SCHED_HOST_UP);
	double busy = 0.9, idle = 0.05;
	struct gr_sched_request big_idle = req("big-idle", 4, 1024);
	big_idle.util = &idle;
	big_idle.n_util = 1;
	struct gr_sched_request small_busy = req("small-busy", 1, 1024);
	small_busy.util = &busy;
	small_busy.n_util = 1;
	is_str(place("best-fit", big_idle, &d), "a", "setup: big idle on a");
	is_str(place("best-fit", small_busy, &d), "b", "setup: small busy on b (a has no CPU left)");
	s->hosts[0].cpu_cap *= 2; /* allow overcommit on a so both fit */
	is_str(place("shortest-queue", req("q", 1, 512), &d), "a", "shortest-queue picks a (5 %% load) over b (22.5 %%)");
	ok(strstr(d.reason, "least loaded now"), "shortest-queue reason: %s", d.reason);

	/* best-fit packs */
	fresh();
	host("roomy", 16, 65536, GR_SCHED_HOST_UP);
	host("tight", 4, 8192, GR_SCHED_HOST_UP);
	is_str(place("best-fit", req("x", 2, 4096), &d), "tight", "best-fit picks the host left with least room");
	is_str(place("best-fit", req("y", 2, 4096), &d), "tight", "best-fit fills it");
	is_str(place("best-fit", req("z", 2, 4096), &d), "roomy", "then spills to the roomy host");

	/* static */
	fresh();
	host("p0", 4, 4096, GR_SCHED_HOST_UP);
	host("p1", 4, 4096, GR_SCHED_HOST_UP);
	struct gr_sched_request pin = req("pinned", 1, 1024);
	pin.pinned_host = "p1";
	is_str(place("static", pin, &d), "p1", "static: pinned host");
	ok(s->instances[gr_sched_instance_find(s, "pinned")].pinned, "static placement marks the instance pinned");
	pin.name = "pinned2";
	pin.pinned_host = "nope";
	ok(gr_sched_place(s, gr_sched_policy_by_name("static"), &pin, &d, &err) < 0 && err.code == ENOENT,
	   "static: unknown pinned host is an error: %s", err.msg);
	struct gr_sched_request anon = req(NULL, 1, 10);
	ok(gr_sched_place(s, gr_sched_policy_by_name("static"), &anon, &d, &err) < 0 && err.code == EINVAL,
	   "static: anonymous unpinned request is an error");
	struct gr_sched_request hashed = req("client-42", 1, 512);
	const char *first = place("static", hashed, &d);
	gr_sched_remove(s, gr_sched_instance_find(s, "client-42"), &err);
	is_str(place("static", hashed, &d), first, "static: the same name goes to the same host");
	pin.name = "huge";
	pin.pinned_host = "p0";
	pin.mem_mib = 8192;
	is_str(place("static", pin, &d), "-", "static: pinned host too small -> not placed");
	ok(strstr(d.reason, "p0") && strstr(d.reason, "too small in memory"), "reason: %s", d.reason);

	/* labels */
	fresh();
	const char *ssd[] = { "disk=ssd" };
	const char *gpu[] = { "gpu=yes" };
	struct gr_sched_host hl = { .name = "fast", .cores = 4, .mips_per_core = 1000, .mem_mib = 8192,
				    .labels = ssd, .n_labels = 1 };
	host("plain", 4, 8192, GR_SCHED_HOST_UP);
	gr_sched_add_host(s, &hl, &err);
	struct gr_sched_request lr = req("needs-ssd", 1, 1024);
	lr.labels = ssd;
	lr.n_labels = 1;
	is_str(place("least-instances", lr, &d), "fast", "labels: only the labelled host qualifies");
	lr.name = "needs-gpu";
	lr.labels = gpu;
	is_str(place("least-instances", lr, &d), "-", "labels: unknown label -> not placed");
	ok(strstr(d.reason, "label 'gpu=yes' is on no host"), "reason names the label: %s", d.reason);

	/* anti-affinity by group, affinity by instance name */
	fresh();
	host("n0", 8, 16384, GR_SCHED_HOST_UP);
	host("n1", 8, 16384, GR_SCHED_HOST_UP);
	host("n2", 8, 16384, GR_SCHED_HOST_UP);
	struct gr_sched_rule spread = { GR_SCHED_ANTI_AFFINITY, GR_SCHED_TARGET_GROUP, "db" };
	char nm[4][8] = { "db0", "db1", "db2", "db3" };
	int hosts_used = 0;
	for (int i = 0; i < 4; i++) {
		struct gr_sched_request g = req(nm[i], 1, 1024);
		g.group = "db";
		g.rules = &spread;
		g.n_rules = 1;
		const char *h = place("best-fit", g, &d);
		if (i < 3)
			hosts_used |= 1 << (h[1] - '0');
		else
			is_str(h, "-", "anti-affinity: a 4th member of a spread group on 3 hosts is not placed");
	}
	is_int(hosts_used, 7, "anti-affinity: best-fit still spreads the group over all 3 hosts");
	ok(strstr(d.reason, "3 hosts excluded by anti-affinity"), "reason: %s", d.reason);
	struct gr_sched_rule with_db1 = { GR_SCHED_AFFINITY, GR_SCHED_TARGET_INSTANCE, "db1" };
	struct gr_sched_request cache = req("cache", 1, 1024);
	cache.rules = &with_db1;
	cache.n_rules = 1;
	int db1_host = s->instances[gr_sched_instance_find(s, "db1")].host;
	place("least-instances", cache, &d);
	is_int(d.host, db1_host, "affinity: goes next to db1");
	struct gr_sched_rule self = { GR_SCHED_AFFINITY, GR_SCHED_TARGET_INSTANCE, "me" };
	struct gr_sched_request me = req("me", 1, 1);
	me.rules = &self;
	me.n_rules = 1;
	ok(gr_sched_place(s, gr_sched_policy_by_name("global"), &me, &d, &err) < 0, "a rule naming itself is refused: %s", err.msg);

	/* cores filter: a vCPU faster than a core */
	fresh();
	host("slow", 8, 8192, GR_SCHED_HOST_UP);
	struct gr_sched_request fast = req("fast", 1, 512);
	fast.mips_per_vcpu = 2500;
	is_str(place("global", fast, &d), "-", "a vCPU faster than any core is not placed");
	ok(strstr(d.reason, "too few or too slow cores"), "reason: %s", d.reason);

	/* overcommit */
	fresh();
	struct gr_sched_host oc = { .name = "oc", .cores = 2, .mips_per_core = 1000, .mem_mib = 4096,
				    .cpu_overcommit = 4 };
	gr_sched_add_host(s, &oc, &err);
	int placed = 0;
	for (int i = 0; i < 10; i++) {
		place("round-robin", req(NULL, 1, 256), &d);
		placed += d.host >= 0;
	}
	is_int(placed, 8, "cpu_overcommit 4 on 2 cores admits 8 single-vCPU instances");

	/* diffusive: arrival by turn, handed to a less-loaded neighbour */
	fresh();
	for (int i = 0; i < 5; i++) {
		char n[8];
		snprintf(n, sizeof(n), "d%d", i);
		host(n, 8, 16384, GR_SCHED_HOST_UP);
	}
	s->params.neighbour_radius = 1;
	is_str(place("diffusive", req("w0", 4, 1024), &d), "d0", "diffusive: arrival d0 keeps it (all empty)");
	is_int(d.arrival, 0, "diffusive: arrival recorded");
	s->rr_cursor = 0;
	is_str(place("diffusive", req("w1", 1, 1024), &d), "d1", "diffusive: arrival d0 busy -> neighbour d1");
	ok(strstr(d.reason, "handed to a less-loaded neighbour"), "reason: %s", d.reason);

	/* local: overload threshold, neighbours busy */
	fresh();
	for (int i = 0; i < 4; i++) {
		char n[8];
		snprintf(n, sizeof(n), "l%d", i);
		host(n, 4, 16384, GR_SCHED_HOST_UP);
	}
	s->params.neighbour_radius = 1; /* l0 knows l1 and l3 */
	s->params.overload = 0.6;
	is_str(place("local", req("a", 2, 1024), &d), "l0", "local: l0 keeps it (50 %%)");
	s->rr_cursor = 0;
	is_str(place("local", req("b", 2, 1024), &d), "l1", "local: l0 would be at 100 %% -> neighbour l1");
	s->rr_cursor = 0;
	place("local", req("c", 2, 1024), &d);
	ok(d.host == 3, "local: next offload goes to the other neighbour l3 (got %d)", d.host);
	s->rr_cursor = 0;
	is_str(place("local", req("e", 1, 1024), &d), "l0", "local: neighbours busy too -> kept overloaded");
	ok(strstr(d.reason, "neighbours are busy too"), "reason: %s", d.reason);
	s->rr_cursor = 0;
	is_str(place("local", req("f", 4, 1024), &d), "-", "local: no global view -> not placed though l2 is empty");
	ok(strstr(d.reason, "known to l0"), "reason: %s", d.reason);
	is_str(place("global", req("f", 4, 1024), &d), "l2", "global sees l2");

	/* pabfd: least power increase, decreasing batch order */
	fresh();
	struct gr_sched_host g4 = { .name = "g4", .cores = 2, .mips_per_core = 1860, .mem_mib = 4096,
				    .power = gr_sched_power_by_name("hp-ml110-g4") };
	struct gr_sched_host g5 = { .name = "g5", .cores = 2, .mips_per_core = 2660, .mem_mib = 4096,
				    .power = gr_sched_power_by_name("hp-ml110-g5") };
	struct gr_sched_host nop = { .name = "nopower", .cores = 2, .mips_per_core = 3000, .mem_mib = 4096 };
	gr_sched_add_host(s, &nop, &err);
	gr_sched_add_host(s, &g4, &err);
	gr_sched_add_host(s, &g5, &err);
	struct gr_sched_request pr = req("p", 1, 613);
	pr.mips_per_vcpu = 500;
	/* g4: 500/3720 -> +4.5 W; g5: 500/5320 -> +3.1 W */
	is_str(place("pabfd", pr, &d), "g5", "pabfd: the host whose power rises least");
	ok(d.rejected[GR_SCHED_REJ_POWER] == 1, "pabfd: host without a power curve rejected");
	struct gr_sched_request batch[3] = { req("s1", 1, 256), req("s2", 2, 256), req("s3", 1, 256) };
	batch[0].mips_per_vcpu = 100;
	batch[1].mips_per_vcpu = 1000;
	batch[2].mips_per_vcpu = 300;
	struct gr_sched_decision bd[3];
	is_int(gr_sched_place_all(s, gr_sched_policy_by_name("pabfd"), batch, 3, bd, &err), 3, "pabfd batch placed all 3");
	ok(s->instances[gr_sched_instance_find(s, "s2")].host >= 0 &&
		   gr_sched_instance_find(s, "s2") < gr_sched_instance_find(s, "s3") &&
		   gr_sched_instance_find(s, "s3") < gr_sched_instance_find(s, "s1"),
	   "pabfd batch applied in decreasing CPU order (s2, s3, s1)");

	/* maintenance and state changes */
	fresh();
	host("m0", 4, 4096, GR_SCHED_HOST_UP);
	host("m1", 4, 4096, GR_SCHED_HOST_UP);
	gr_sched_set_host_state(s, 0, GR_SCHED_HOST_MAINTENANCE, &err);
	is_str(place("least-instances", req("x", 1, 10), &d), "m1", "maintenance host skipped");
	gr_sched_set_host_state(s, 1, GR_SCHED_HOST_DRAINING, &err);
	is_str(place("least-instances", req("y", 1, 10), &d), "-", "draining host skipped");
	ok(strstr(d.reason, "1 host in maintenance, 1 draining"), "reason: %s", d.reason);
	is_int(gr_sched_host_state_parse("draining"), GR_SCHED_HOST_DRAINING, "state names parse");

	/* apply / remove / migrate keep aggregates exact */
	fresh();
	host("r0", 4, 4096, GR_SCHED_HOST_UP);
	host("r1", 4, 4096, GR_SCHED_HOST_UP);
	place("round-robin", req("k", 2, 1000), &d);
	int k = gr_sched_instance_find(s, "k");
	ok(gr_sched_migrate(s, k, 1, &err) == 0 && s->hosts[1].mem_alloc == 1000 && s->hosts[0].mem_alloc == 0,
	   "migrate moves the aggregates");
	struct gr_sched_request dup = req("k", 1, 1);
	ok(gr_sched_place(s, prr, &dup, &d, &err) < 0 && err.code == EEXIST, "placing an already placed name is refused");
	gr_sched_util_push(s, k, 0.5);
	ok(s->hosts[1].cpu_used == 1000, "util push updates cpu_used (2000 MIPS x 0.5)");
	ok(gr_sched_remove(s, k, &err) == 0 && s->hosts[1].n_instances == 0 && s->hosts[1].cpu_used == 0,
	   "remove clears the host");
	is_int(gr_sched_instance_find(s, "k"), -1, "removed name is gone");

	/* HA: host goes down, its instance is unplaced and placed again elsewhere */
	fresh();
	host("ha0", 4, 4096, GR_SCHED_HOST_UP);
	host("ha1", 4, 4096, GR_SCHED_HOST_UP);
	const char *zone[] = { "zone=x" };
	struct gr_sched_host hz = { .name = "ha2", .cores = 4, .mips_per_core = 1000, .mem_mib = 4096,
				    .labels = zone, .n_labels = 1 };
	gr_sched_add_host(s, &hz, &err);
	struct gr_sched_request web = req("web", 2, 1024);
	web.labels = zone;
	web.n_labels = 1;
	web.group = "front";
	double hist[] = { 0.2, 0.4 };
	web.util = hist;
	web.n_util = 2;
	is_str(place("least-instances", web, &d), "ha2", "setup: web on the zone=x host");
	int w = gr_sched_instance_find(s, "web");
	gr_sched_set_host_state(s, 2, GR_SCHED_HOST_DOWN, &err);
	is_int(gr_sched_unplace(s, w, &err), 0, "unplace");
	ok(s->hosts[2].n_instances == 0 && s->instances[w].host == -1 && s->instances[w].n_util == 2,
	   "unplace empties the host and keeps the record and its history");
	struct gr_sched_request again;
	const char *lbl[4];
	is_int(gr_sched_instance_request(s, w, &again, lbl, 4, &err), 0, "request from an instance");
	ok(again.n_labels == 1 && !strcmp(again.labels[0], "zone=x") && !strcmp(again.group, "front") &&
		   again.vcpus == 2 && again.n_util == 2,
	   "it carries labels, group, resources and history");
	is_str(place("least-instances", again, &d), "-", "the only zone=x host is down: not placed");
	ok(strstr(d.reason, "1 host down") && strstr(d.reason, "2 without the required labels"), "reason: %s",
	   d.reason);
	again.n_labels = 0;
	is_str(place("least-instances", again, &d), "ha0", "without the label it lands on ha0");
	is_int(gr_sched_instance_find(s, "web"), w, "the same instance record was placed");
	ok(s->hosts[0].cpu_used == 2000 * 0.4, "its utilisation history counts on the new host");

	gr_sched_snapshot_free(s);
	return tap_done();
}
