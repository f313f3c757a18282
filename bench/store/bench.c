/*
 * bench.c - store micro-benchmark: puts (synchronous=full, the default, and
 * normal), gets, prefix ranges and compare-and-swap on the SQLite back-end,
 * with a bare-SQLite baseline (one INSERT per transaction, same pragmas) to
 * show what the store's bookkeeping (revision, event row, lease check) costs.
 * Then the etcd column (bench_etcd.c): put/get/txn latency through our etcd
 * back-end against etcdctl on a private 3-member cluster.
 * Usage: bench <folder>.  Prints "name=value" lines, the figures last.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "store/store.h"

int gr_bench_etcd(const char *dir, double *txn_p50, double *ratio);

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char doc[] = "{\"cpu\":2,\"image\":\"debian-base\",\"memory\":2147483648,"
			  "\"host\":\"host1\",\"state\":\"running\",\"class\":\"elastic\"}";

static struct gr_store *open_or_die(const char *dir, const char *name, const char *query)
{
	char url[512];
	snprintf(url, sizeof url, "sqlite://%s/%s.db%s", dir, name, query);
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	if (gr_store_open(url, NULL, &s, &err) < 0) {
		fprintf(stderr, "bench: %s\n", err.msg);
		exit(1);
	}
	return s;
}

static double puts_per_s(struct gr_store *s, int n)
{
	gr_error_t err = {0};
	char key[64];
	double t0 = now_s();
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof key, "/gureum/instances/i%06d", i);
		if (gr_store_put(s, key, doc, sizeof doc - 1, 0, NULL, &err) < 0) {
			fprintf(stderr, "bench: %s\n", err.msg);
			exit(1);
		}
	}
	return n / (now_s() - t0);
}

static double raw_sqlite_per_s(const char *dir, const char *sync, int n)
{
	char path[512], key[64];
	snprintf(path, sizeof path, "%s/raw-%s.db", dir, sync);
	sqlite3 *db;
	sqlite3_stmt *st;
	sqlite3_open(path, &db);
	char pragmas[128];
	snprintf(pragmas, sizeof pragmas, "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;", sync);
	sqlite3_exec(db, pragmas, NULL, NULL, NULL);
	sqlite3_exec(db, "CREATE TABLE kv(key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID", NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO kv VALUES(?1, ?2)", -1, &st, NULL);
	double t0 = now_s();
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof key, "/gureum/instances/i%06d", i);
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, doc, sizeof doc - 1, SQLITE_STATIC);
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	double r = n / (now_s() - t0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: bench <folder>\n");
		return 2;
	}
	const char *dir = argv[1];
	gr_error_t err = {0};
	enum { N_FULL = 2000, N_NORMAL = 20000, N_GETS = 200000, N_RANGES = 2000, N_CAS = 10000 };

	struct gr_store *full = open_or_die(dir, "full", "");
	double put_full = puts_per_s(full, N_FULL);
	gr_store_close(full);
	double raw_full = raw_sqlite_per_s(dir, "FULL", N_FULL);

	struct gr_store *s = open_or_die(dir, "normal", "?synchronous=normal&history=0");
	double put_normal = puts_per_s(s, N_NORMAL);
	double raw_normal = raw_sqlite_per_s(dir, "NORMAL", N_NORMAL);

	char key[64];
	unsigned seed = 1;
	double t0 = now_s();
	for (int i = 0; i < N_GETS; i++) {
		snprintf(key, sizeof key, "/gureum/instances/i%06d", rand_r(&seed) % N_NORMAL);
		struct gr_kv kv;
		if (gr_store_get(s, key, &kv, &err) != 1) {
			fprintf(stderr, "bench: get %s failed: %s\n", key, err.msg);
			return 1;
		}
		gr_kv_clear(&kv);
	}
	double gets = N_GETS / (now_s() - t0);

	t0 = now_s();
	for (int i = 0; i < N_RANGES; i++) {
		snprintf(key, sizeof key, "/gureum/instances/i%04d", rand_r(&seed) % (N_NORMAL / 100));
		struct gr_kv_list l;
		if (gr_store_list(s, key, 0, &l, &err) < 0 || l.n != 100) {
			fprintf(stderr, "bench: range %s: %zu keys (%s)\n", key, l.n, err.msg);
			return 1;
		}
		gr_kv_list_clear(&l);
	}
	double ranges = N_RANGES / (now_s() - t0);

	gr_store_put(s, "/bench/counter", "0", 1, 0, NULL, &err);
	t0 = now_s();
	for (int i = 0; i < N_CAS; i++) {
		struct gr_kv kv;
		gr_store_get(s, "/bench/counter", &kv, &err);
		char next[32];
		snprintf(next, sizeof next, "%ld", atol(kv.value) + 1);
		if (gr_store_put_if(s, "/bench/counter", next, strlen(next), 0, kv.mod_revision, NULL, &err) != 1) {
			fprintf(stderr, "bench: CAS lost without contention: %s\n", err.msg);
			return 1;
		}
		gr_kv_clear(&kv);
	}
	double cas = N_CAS / (now_s() - t0);
	gr_store_close(s);

	printf("doc_bytes=%zu\n", sizeof doc - 1);
	printf("puts_per_s_sync_full=%.0f raw_sqlite_full=%.0f ratio=%.2f\n", put_full, raw_full, put_full / raw_full);
	printf("puts_per_s_sync_normal=%.0f raw_sqlite_normal=%.0f ratio=%.2f\n", put_normal, raw_normal,
	       put_normal / raw_normal);
	printf("gets_per_s=%.0f (random key of %d)\n", gets, N_NORMAL);
	printf("ranges_per_s=%.0f (100 keys each)\n", ranges);
	printf("cas_per_s=%.0f (get + put_if, sync=normal)\n", cas);
	fflush(stdout);
	double txn_p50 = 0, ratio = 0;
	gr_bench_etcd(dir, &txn_p50, &ratio);
	printf("store_puts_per_s=%.0f store_gets_per_s=%.0f etcd_txn_p50_ms=%.2f ratio_vs_etcdctl=%.2f\n", put_full,
	       gets, txn_p50, ratio);
	return 0;
}
