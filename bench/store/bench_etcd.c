/*
 * bench_etcd.c - the etcd column of bench/store: put, get and txn latency
 * (p50, p99) through our client (libgr_store's etcd back-end) against etcd's
 * own CLI, etcdctl, on the same private 3-member cluster on 127.0.0.1 (started
 * with tests/unit/store/etcd_cluster.h), measured side by side: rounds of our
 * calls and etcdctl runs alternate, so both see the same machine load.
 *
 * etcdctl pays a process start and a gRPC dial per call, and etcd 3.4's
 * etcdctl has no mode that reads many commands (its txn reads one transaction
 * from stdin).  So its start-up floor is measured too (`etcdctl version`: the
 * same process start and flag parsing, no network), and etcdctl minus that
 * floor is reported next to the plain ratio, as the closest honest stand-in
 * for "etcdctl without the process start".
 *
 * The txn is the shape the daemon uses for every lifecycle step: one compare
 * (our put_if: mod_revision equal; etcdctl: version greater than 0) and one put.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "etcd_cluster.h"
#include "store/store.h"
#include "util/proc.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	int i = (int)(p * (n - 1) + 0.5);
	return v[i];
}

static void die(const char *what, const gr_error_t *err)
{
	fprintf(stderr, "bench etcd: %s: %s\n", what, err ? err->msg : "");
	exit(1);
}

/* One etcdctl run (input on stdin, may be NULL); its wall time in ms. */
static double etcdctl(struct st_etcd *c, char *const *args, const char *input)
{
	char eps[128];
	snprintf(eps, sizeof eps, "--endpoints=http://127.0.0.1:%d", c->m[0].client_port);
	char *argv[16] = { "/usr/bin/etcdctl", eps };
	int n = 2;
	for (int i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	char *env[] = { "ETCDCTL_API=3", "PATH=/usr/bin:/bin", NULL };
	gr_error_t err = {0};
	struct gr_proc p = { .argv = argv, .envp = env, .fd_in = GR_PROC_NULL, .fd_out = GR_PROC_PIPE,
			     .fd_err = GR_PROC_PIPE, .input = input, .input_len = input ? strlen(input) : 0,
			     .timeout_ms = 60000 };
	double t0 = now_ms();
	if (gr_proc_run(&p, &err) < 0)
		die("etcdctl", &err);
	return now_ms() - t0;
}

static const char doc[] = "{\"cpu\":2,\"image\":\"debian-base\",\"memory\":2147483648,"
			  "\"host\":\"host1\",\"state\":\"running\",\"class\":\"elastic\"}";

int gr_bench_etcd(const char *dir, double *txn_p50, double *ratio)
{
	enum { ROUNDS = 10, OURS = 60, CTL = 10 };
	static double put[ROUNDS * OURS], get[ROUNDS * OURS], txn[ROUNDS * OURS];
	static double cput[ROUNDS * CTL], cget[ROUNDS * CTL], ctxn[ROUNDS * CTL], cver[ROUNDS * CTL];
	struct st_etcd c;
	if (st_etcd_start(&c, dir, "etcd", false) < 0)
		die("starting a 3-member etcd cluster on 127.0.0.1 (is etcd-server installed? make deps)", NULL);
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	/* Our client on the same single endpoint etcdctl talks to. */
	if (gr_store_open(st_etcd_url(&c, 1u, NULL), NULL, &s, &err) < 0)
		die("open", &err);
	int64_t mod = 0;
	for (int i = 0; i < 20; i++) /* warm up: connection, leader, bbolt pages */
		if (gr_store_put(s, "/bench/warm", doc, sizeof doc - 1, 0, &mod, &err) < 0)
			die("put", &err);
	gr_store_put(s, "/bench/cas", doc, sizeof doc - 1, 0, &mod, &err);
	etcdctl(&c, (char *[]){ "put", "/bench/ctl-cas", "x", NULL }, NULL);
	char txn_in[256];
	snprintf(txn_in, sizeof txn_in, "version(\"/bench/ctl-cas\") > \"0\"\n\nput /bench/ctl-cas %s\n\n\n", "v");
	int k = 0, kc = 0;
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < OURS; i++, k++) {
			char key[64];
			snprintf(key, sizeof key, "/bench/put/%05d", k);
			double t0 = now_ms();
			if (gr_store_put(s, key, doc, sizeof doc - 1, 0, NULL, &err) < 0)
				die("put", &err);
			put[k] = now_ms() - t0;
			t0 = now_ms();
			if (gr_store_get(s, key, NULL, &err) != 1)
				die("get", &err);
			get[k] = now_ms() - t0;
			t0 = now_ms();
			int64_t next;
			if (gr_store_put_if(s, "/bench/cas", doc, sizeof doc - 1, 0, mod, &next, &err) != 1)
				die("put_if", &err);
			txn[k] = now_ms() - t0;
			mod = next;
		}
		for (int i = 0; i < CTL; i++, kc++) {
			char key[64];
			snprintf(key, sizeof key, "/bench/ctl/%05d", kc);
			cput[kc] = etcdctl(&c, (char *[]){ "put", key, (char *)doc, NULL }, NULL);
			cget[kc] = etcdctl(&c, (char *[]){ "get", key, NULL }, NULL);
			ctxn[kc] = etcdctl(&c, (char *[]){ "txn", "--interactive=false", NULL }, txn_in);
			cver[kc] = etcdctl(&c, (char *[]){ "version", NULL }, NULL);
		}
	}
	gr_store_close(s);
	st_etcd_stop(&c);
	int n = ROUNDS * OURS, nc = ROUNDS * CTL;
	double put50 = pct(put, n, .5), put99 = pct(put, n, .99), get50 = pct(get, n, .5), get99 = pct(get, n, .99);
	double txn50 = pct(txn, n, .5), txn99 = pct(txn, n, .99);
	double cput50 = pct(cput, nc, .5), cget50 = pct(cget, nc, .5), ctxn50 = pct(ctxn, nc, .5);
	double ctxn99 = pct(ctxn, nc, .99), cver50 = pct(cver, nc, .5);
	printf("etcd: 3 members on 127.0.0.1, %d calls each through our client, %d etcdctl runs each, "
	       "alternating in %d rounds\n", n, nc, ROUNDS);
	printf("etcd_put_p50_ms=%.2f etcd_put_p99_ms=%.2f etcdctl_put_p50_ms=%.2f\n", put50, put99, cput50);
	printf("etcd_get_p50_ms=%.2f etcd_get_p99_ms=%.2f etcdctl_get_p50_ms=%.2f\n", get50, get99, cget50);
	printf("etcd_txn_p50_ms=%.2f etcd_txn_p99_ms=%.2f etcdctl_txn_p50_ms=%.2f etcdctl_txn_p99_ms=%.2f\n", txn50,
	       txn99, ctxn50, ctxn99);
	double floor = cver50, ctxn_net = ctxn50 - floor;
	printf("etcdctl_startup_p50_ms=%.2f (etcdctl version: process start, no request; etcdctl 3.4 has no "
	       "batch mode)\n", floor);
	printf("etcdctl_txn_minus_startup_ms=%.2f ratio_vs_etcdctl_minus_startup=%.2f\n", ctxn_net,
	       ctxn_net > 0 ? txn50 / ctxn_net : 0);
	*txn_p50 = txn50;
	*ratio = txn50 / ctxn50;
	return 0;
}
