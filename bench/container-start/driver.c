/*
 * driver.c - container start latency: create+start+wait+delete of /bin/true.
 *
 * usage: driver BUNDLE ROUNDS GUREUM_OCI [crun|runc|unshare]...
 * Each round runs every contender once, in turn (alternating, so drift on the
 * machine hits all alike):
 *   gureum-oci  the CLI: `gureum-oci --root R run -b BUNDLE ID` (one process does
 *               create, start, wait and delete, like `crun run`)
 *   gureum-lib  the same through the library (what gureumd does), timed per phase
 *   crun, runc  `X --root R run -b BUNDLE ID`
 *   unshare     `unshare -pfmuin true` (namespaces only, no rootfs/cgroup)
 * Prints min/median/p90 per contender, median per phase, and last
 * ratio_vs_crun_median=<gureum-oci median / crun median> (or vs runc if crun
 * could not run).
 */
#include "runtime/runtime.h"

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int spawn_wait(char *const argv[], const char *quiet)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
	pid_t pid;
	int r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r)
		return -1;
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct series {
	const char *name;
	double *v;
	int n, failed;
};

static double pct(struct series *s, double p)
{
	if (!s->n)
		return 0;
	qsort(s->v, (size_t)s->n, sizeof *s->v, cmp);
	int i = (int)(p * (s->n - 1) + 0.5);
	return s->v[i];
}

#define NPH 4
int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: driver BUNDLE ROUNDS GUREUM_OCI [crun|runc|unshare]...\n");
		return 2;
	}
	const char *bundle = argv[1], *oci = argv[3];
	int rounds = atoi(argv[2]);
	int nc = 2 + (argc - 4);
	struct series *s = calloc((size_t)nc, sizeof *s);
	struct series ph[NPH] = { { "create" }, { "start" }, { "wait" }, { "delete" } };
	for (int i = 0; i < NPH; i++)
		ph[i].v = calloc((size_t)rounds, sizeof(double));
	s[0].name = "gureum-oci";
	s[1].name = "gureum-lib";
	for (int c = 0; c < nc; c++) {
		if (c >= 2)
			s[c].name = argv[4 + c - 2];
		s[c].v = calloc((size_t)rounds, sizeof(double));
	}
	char root[] = "/run/gr-bench-cs";
	struct gr_rt_opts o = { .root = root };
	for (int r = 0; r < rounds; r++) {
		/* Rotate the order every round: a run leaves deferred kernel work
		 * (cgroup and namespace teardown) that the next contender would pay
		 * for, so each contender follows every other one equally often. */
		for (int k = 0; k < nc; k++) {
			int c = (k + r) % nc;
			char id[64];
			snprintf(id, sizeof id, "gr-bench-cs-%d-%d", c, r);
			double t0 = now_ms(), t1 = t0;
			int rc = 0;
			if (c == 0) {
				char *a[] = { (char *)oci, "--root", root, "run", "-b", (char *)bundle, id, NULL };
				rc = spawn_wait(a, NULL);
			} else if (c == 1) {
				gr_error_t err = { 0 };
				struct gr_rt_state st;
				double p[NPH + 1];
				p[0] = now_ms();
				rc = gr_rt_create(&o, id, bundle, NULL, &err);
				p[1] = now_ms();
				if (!rc && !(rc = gr_rt_state(&o, id, &st, &err))) {
					pid_t pid = st.pid;
					gr_rt_state_clear(&st);
					rc = gr_rt_start(&o, id, &err);
					p[2] = now_ms();
					int ws;
					waitpid(pid, &ws, 0);
					p[3] = now_ms();
					rc |= gr_rt_delete(&o, id, true, &err);
					p[4] = now_ms();
					for (int k = 0; k < NPH; k++)
						ph[k].v[ph[k].n++] = p[k + 1] - p[k];
				}
				if (rc)
					fprintf(stderr, "# gureum-lib: %s\n", err.msg);
			} else if (!strcmp(s[c].name, "unshare")) {
				char *a[] = { "unshare", "-pfmuin", "true", NULL };
				rc = spawn_wait(a, NULL);
			} else {
				char croot[64];
				snprintf(croot, sizeof croot, "/run/gr-bench-cs-%s", s[c].name);
				char *a[] = { (char *)s[c].name, "--root", croot, "run", "-b", (char *)bundle, id, NULL };
				rc = spawn_wait(a, s[c].failed ? "quiet" : NULL);
			}
			t1 = now_ms();
			if (rc == 0)
				s[c].v[s[c].n++] = t1 - t0;
			else
				s[c].failed++;
		}
	}
	for (int c = 0; c < nc; c++) {
		if (!s[c].n) {
			printf("%-11s could not run (%d failures)\n", s[c].name, s[c].failed);
			continue;
		}
		printf("%-11s min %6.2f ms  median %6.2f ms  p90 %6.2f ms  (n=%d, failed %d)\n", s[c].name,
		       pct(&s[c], 0), pct(&s[c], 0.5), pct(&s[c], 0.9), s[c].n, s[c].failed);
	}
	printf("gureum-lib phases (median):");
	for (int k = 0; k < NPH; k++)
		printf(" %s %.2f ms", ph[k].name, pct(&ph[k], 0.5));
	printf("\n");
	double mine = pct(&s[0], 0.5), ref = 0;
	const char *refname = "crun";
	for (int c = 2; c < nc; c++)
		if (!strcmp(s[c].name, "crun") && s[c].n)
			ref = pct(&s[c], 0.5);
	if (!ref)
		for (int c = 2; c < nc; c++)
			if (!strcmp(s[c].name, "runc") && s[c].n) {
				ref = pct(&s[c], 0.5);
				refname = "runc";
			}
	if (!ref || !mine) {
		printf("ratio_vs_crun_median=nan\n");
		return 1;
	}
	if (strcmp(refname, "crun"))
		printf("# crun could not run; the ratio is against %s\n", refname);
	printf("ratio_vs_crun_median=%.3f\n", mine / ref);
	return 0;
}
