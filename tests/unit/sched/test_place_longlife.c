/*
 * test_place_longlife.c - one snapshot kept for a long life, as the daemon
 * keeps it: instances added and removed by name at any time (placed by a
 * policy or recorded where they run), hosts resized, relabelled and moved
 * between states in place, and 200,000 placements with fresh names, groups
 * and labels that leave the snapshot's tables, maps and scratch at the size
 * the live cluster needs (no growth with the number of decisions).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "sched/sched-internal.h"
#include "tap.h"

static gr_error_t err;

static struct gr_sched_snapshot *cluster(int n)
{
	struct gr_sched_snapshot *s = gr_sched_snapshot_new(5);
	for (int i = 0; i < n; i++) {
		char name[16], zone[16];
		snprintf(name, sizeof(name), "n%03d", i);
		snprintf(zone, sizeof(zone), "zone=%c", 'a' + i % 3);
		const char *labels[] = { zone };
		struct gr_sched_host h = { .name = name, .cores = 16, .mips_per_core = 2000,
					   .mem_mib = 65536, .labels = labels, .n_labels = 1 };
		if (gr_sched_add_host(s, &h, &err) < 0)
			ok(0, "add_host %s: %s", name, err.msg);
	}
	return s;
}

static int place(struct gr_sched_snapshot *s, const char *policy, const struct gr_sched_request *r)
{
	struct gr_sched_decision d;
	if (gr_sched_place(s, gr_sched_policy_by_name(policy), r, &d, &err) < 0)
		return -2;
	if (d.host < 0)
		return -1;
	return gr_sched_apply(s, r, &d, &err) < 0 ? -2 : d.host;
}

static void churn(void)
{
	struct gr_sched_snapshot *s = cluster(100);
	const char *labels[1];
	char names[1000][24], group[24], label[24];
	size_t group_slots = 0, label_slots = 0, inst_cap = 0, map_cap = 0, marks_cap = 0;
	int failures = 0;
	for (int i = 0; i < 200000; i++) {
		int slot = i % 1000;
		if (i >= 1000) { /* the instance placed 1,000 decisions ago stops */
			int idx = gr_sched_instance_find(s, names[slot]);
			if (idx < 0 || gr_sched_remove(s, idx, &err) < 0)
				failures++;
		}
		snprintf(names[slot], sizeof(names[slot]), "vm-%d", i);
		snprintf(group, sizeof(group), "tenant-%d", i / 3); /* groups of 3, spread */
		struct gr_sched_rule spread = { GR_SCHED_ANTI_AFFINITY, GR_SCHED_TARGET_GROUP, group };
		double util = (i % 10) / 10.0;
		struct gr_sched_request r = { .name = names[slot], .group = group, .vcpus = 1,
					      .mips_per_vcpu = 500, .mem_mib = 512, .rules = &spread,
					      .n_rules = 1, .util = &util, .n_util = 1 };
		if (i % 10 == 0) { /* a label that only this instance asks for: recorded, not placed */
			snprintf(label, sizeof(label), "build=%d", i);
			labels[0] = label;
			r.labels = labels;
			r.n_labels = 1;
			if (gr_sched_add_instance(s, &r, i % 100, &err) < 0)
				failures++;
		} else if (place(s, "best-fit", &r) < 0) {
			failures++;
		}
		if (i == 10000) { /* sizes after warming up */
			group_slots = s->n_groups;
			label_slots = s->names->n_label;
			inst_cap = s->instances_cap;
			map_cap = s->names->instances.cap + s->names->groups.cap + s->names->labels.cap;
			marks_cap = s->scratch->cap;
		}
	}
	is_int(failures, 0, "200,000 placements and removals by name, none refused");
	is_int(s->n_live, 1000, "1,000 instances live at the end");
	ok(s->n_groups <= group_slots && s->n_groups <= 1000 && s->n_groups - s->n_free_groups <= 334,
	   "group slots stay at %zu (%zu in use) after 66,667 distinct groups", s->n_groups,
	   s->n_groups - s->n_free_groups);
	ok(s->names->n_label <= label_slots && s->names->n_label <= 3 + 100,
	   "label slots stay at %u after 20,000 distinct labels (3 host labels + live ones)",
	   s->names->n_label);
	ok(s->instances_cap == inst_cap && s->instances_cap <= 2048, "instance slots stay at %zu",
	   s->instances_cap);
	size_t maps = s->names->instances.cap + s->names->groups.cap + s->names->labels.cap;
	ok(maps <= map_cap && maps <= 3 * 4096, "name maps stay at %zu entries (%zu after warm-up)", maps,
	   map_cap);
	ok(s->scratch->cap == marks_cap, "scratch stays at %zu hosts", s->scratch->cap);
	gr_sched_snapshot_free(s);
}

int main(void)
{
	churn();

	/* record instances where they run: no filter, the observed state wins */
	struct gr_sched_snapshot *s = cluster(3);
	struct gr_sched_request big = { .name = "big", .vcpus = 16, .mips_per_vcpu = 2000, .mem_mib = 60000 };
	struct gr_sched_request more = { .name = "more", .vcpus = 4, .mips_per_vcpu = 2000, .mem_mib = 8192 };
	ok(gr_sched_add_instance(s, &big, 0, &err) >= 0 && gr_sched_add_instance(s, &more, 0, &err) >= 0,
	   "two running instances recorded on n000 although together they overfill it");
	ok(s->hosts[0].mem_alloc == 68192 && s->hosts[0].n_instances == 2, "n000 counts both (68192 MiB)");
	ok(gr_sched_add_instance(s, &more, 1, &err) < 0 && err.code == EEXIST,
	   "recording a placed name again: EEXIST (%s)", err.msg);
	struct gr_sched_request anon = { .vcpus = 1, .mips_per_vcpu = 100, .mem_mib = 1 };
	ok(gr_sched_add_instance(s, &anon, 7, &err) < 0 && err.code == ENOENT, "no host 7: ENOENT (%s)",
	   err.msg);
	struct gr_sched_request bad = { .name = "bad", .vcpus = 0, .mips_per_vcpu = 100, .mem_mib = 1 };
	ok(gr_sched_add_instance(s, &bad, 1, &err) < 0 && err.code == EINVAL && strstr(err.msg, "vcpus"),
	   "a bad request is refused naming the field (%s)", err.msg);

	/* a live resize on the same host: unplace, record again; history kept */
	int more_i = gr_sched_instance_find(s, "more");
	gr_sched_util_push(s, more_i, 0.5);
	gr_sched_util_push(s, more_i, 0.25);
	more.mem_mib = 4096;
	ok(gr_sched_unplace(s, more_i, &err) == 0 && gr_sched_add_instance(s, &more, 0, &err) == more_i &&
		   s->instances[more_i].mem_mib == 4096 && s->instances[more_i].n_util == 2 &&
		   s->hosts[0].mem_alloc == 64096,
	   "resized in place: same record, 4096 MiB, its 2 samples kept, n000 at 64096 MiB");

	/* an unplaced record placed again by a policy takes the new request */
	ok(gr_sched_unplace(s, more_i, &err) == 0, "host gone: unplaced");
	more.mem_mib = 2048;
	ok(place(s, "least-instances", &more) == 1 && s->instances[more_i].mem_mib == 2048 &&
		   s->instances[more_i].n_util == 2,
	   "placed again under its name: n001, 2048 MiB, history kept");

	/* remove by name; the name, its group and its labels are free again */
	const char *ssd[] = { "disk=nvme" };
	struct gr_sched_request g1 = { .name = "g1", .group = "web", .vcpus = 1, .mips_per_vcpu = 100,
				       .mem_mib = 64, .labels = ssd, .n_labels = 1 };
	ok(gr_sched_add_instance(s, &g1, 2, &err) >= 0 && gr__map_get(&s->names->groups, "web") >= 0 &&
		   gr__label_find(s, "disk=nvme") >= 0,
	   "g1 recorded with group web and label disk=nvme");
	int g1_i = gr_sched_instance_find(s, "g1");
	ok(gr_sched_remove(s, g1_i, &err) == 0 && gr_sched_instance_find(s, "g1") < 0 &&
		   gr__map_get(&s->names->groups, "web") < 0 && gr__label_find(s, "disk=nvme") < 0,
	   "removed by name: name, group and label gone");
	ok(gr_sched_add_instance(s, &g1, 2, &err) >= 0, "the name can be used again");

	/* a host resized in place keeps its instances; new work sees the new size */
	struct gr_sched_host c = s->hosts[0];
	c.mem_mib = 32768;
	ok(gr_sched_update_host(s, 0, &c, &err) == 0 && s->hosts[0].n_instances == 1 &&
		   s->hosts[0].mem_cap == 32768 && s->hosts[0].mem_alloc == 60000,
	   "n000 shrunk to 32 GiB below its 60000 MiB in use: the instance stays");
	struct gr_sched_request pin = { .name = "pin", .vcpus = 1, .mips_per_vcpu = 100, .mem_mib = 64,
					.pinned_host = "n000" };
	struct gr_sched_decision d;
	ok(gr_sched_place(s, gr_sched_policy_by_name("static"), &pin, &d, &err) == 0 && d.host < 0 &&
		   strstr(d.reason, "too small"),
	   "nothing new fits the shrunk host: %s", d.reason);
	c.mem_mib = 131072;
	c.cores = 32;
	ok(gr_sched_update_host(s, 0, &c, &err) == 0 && place(s, "static", &pin) == 0,
	   "grown to 32 cores and 128 GiB: it takes new work again");
	c.cores = 0;
	ok(gr_sched_update_host(s, 0, &c, &err) < 0 && err.code == EINVAL && s->hosts[0].cores == 32,
	   "a bad update is refused and changes nothing (%s)", err.msg);
	c.cores = 32;
	c.name = "other";
	ok(gr_sched_update_host(s, 0, &c, &err) < 0 && strstr(err.msg, "other"), "renaming refused (%s)",
	   err.msg);

	/* relabelled in place: filters and the label index follow */
	const char *gpu[] = { "gpu=a100", "zone=b" };
	struct gr_sched_host c2 = s->hosts[2];
	c2.labels = gpu;
	c2.n_labels = 2;
	c2.name = NULL;
	struct gr_sched_request want = { .name = "train", .vcpus = 1, .mips_per_vcpu = 100, .mem_mib = 64,
					 .labels = gpu, .n_labels = 1 };
	ok(place(s, "best-fit", &want) == -1, "no host has gpu=a100 yet");
	ok(gr_sched_update_host(s, 2, &c2, &err) == 0 && place(s, "best-fit", &want) == 2,
	   "n002 relabelled gpu=a100: the request lands there");
	const char *zc[] = { "zone=c" };
	c2.labels = zc;
	c2.n_labels = 1;
	struct gr_sched_request want2 = want;
	want2.name = "train2";
	ok(gr_sched_update_host(s, 2, &c2, &err) == 0 && place(s, "best-fit", &want2) == -1 &&
		   gr__label_find(s, "gpu=a100") >= 0,
	   "label removed from n002: nothing carries it (the running instance still asks for it)");

	/* state changes take effect on the next decision */
	ok(gr_sched_set_host_state(s, 1, GR_SCHED_HOST_DRAINING, &err) == 0 &&
		   gr_sched_set_host_state(s, 2, GR_SCHED_HOST_DOWN, &err) == 0,
	   "n001 draining, n002 down");
	struct gr_sched_request any = { .name = "any", .vcpus = 1, .mips_per_vcpu = 100, .mem_mib = 64 };
	is_int(place(s, "least-instances", &any), 0, "only n000 takes new work");

	/* the utilisation window may shrink during the snapshot's life */
	int any_i = gr_sched_instance_find(s, "any");
	for (int k = 0; k < 64; k++)
		gr_sched_util_push(s, any_i, 0.5);
	s->params.util_window = 8;
	gr_sched_util_push(s, any_i, 0.25);
	ok(s->instances[any_i].n_util == 8 && s->instances[any_i].util_now == 0.25,
	   "window shrunk to 8: 8 samples kept, the last one current");
	gr_sched_snapshot_free(s);
	return tap_done();
}
