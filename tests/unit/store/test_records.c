/* Unit tests for records.c: names and keys, JSON documents, read-modify-write,
 * and lifecycle transitions — including processes and threads racing on the
 * same transition, where exactly one may win.  On SQLite, then on etcd. */
#include "tap.h"
#include "store_test.h"
#include "store/records.h"

#include <errno.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_names(void)
{
	gr_error_t err = {0};
	is_int(gr_store_name_check("web-1.prod_2", "instance name", &err), 0, "valid name");
	is_int(gr_store_name_check("", "instance name", &err), -1, "empty refused");
	is_int(gr_store_name_check("a/b", "instance name", &err), -1, "slash refused");
	ok(strstr(err.msg, "instance name 'a/b'") && strstr(err.msg, "character 2"), "names field and position: %s", err.msg);
	is_int(gr_store_name_check("-x", "image name", &err), -1, "leading dash refused");
	is_int(gr_store_name_check("..", "image name", &err), -1, "dot-dot refused");
	char longname[GR_STORE_NAME_MAX + 2];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	is_int(gr_store_name_check(longname, "host name", &err), -1, "over-long refused");
	char *k = gr_store_key("/gureum/instances/", "web1", &err);
	is_str(k, "/gureum/instances/web1", "key built");
	free(k);
	ok(gr_store_key("/gureum/hosts/", "bad name", &err) == NULL, "bad name gives no key");
	is_int(err.code, EINVAL, "EINVAL");
}

static void test_json(struct gr_store *s)
{
	gr_error_t err = {0};
	json_t *doc = json_pack("{s:s, s:i, s:[s]}", "state", "defined", "cpu", 2, "disks", "root");
	int64_t rev = 0, mod = 0;
	is_int(gr_store_put_json(s, "/gureum/instances/j1", doc, 0, &rev, &err), 0, "put_json");
	json_decref(doc);
	json_t *back = NULL;
	is_int(gr_store_get_json(s, "/gureum/instances/j1", &back, &mod, &err), 1, "get_json");
	is_int(mod, rev, "mod_revision returned");
	is_int(json_integer_value(json_object_get(back, "cpu")), 2, "document round-trips");
	struct gr_kv kv;
	gr_store_get(s, "/gureum/instances/j1", &kv, &err);
	is_str(kv.value, "{\"cpu\":2,\"disks\":[\"root\"],\"state\":\"defined\"}", "stored compact with sorted keys");
	gr_kv_clear(&kv);
	json_object_set_new(back, "cpu", json_integer(4));
	is_int(gr_store_put_json_if(s, "/gureum/instances/j1", back, 0, mod - 1, NULL, &err), 0, "stale put_json_if loses");
	is_int(gr_store_put_json_if(s, "/gureum/instances/j1", back, 0, mod, NULL, &err), 1, "current put_json_if wins");
	json_decref(back);
	is_int(gr_store_get_json(s, "/gureum/instances/none", &back, NULL, &err), 0, "absent document");
	ok(back == NULL, "absent gives NULL");

	gr_store_put(s, "/gureum/instances/broken", "{not json", 9, 0, NULL, &err);
	is_int(gr_store_get_json(s, "/gureum/instances/broken", &back, NULL, &err), -1, "non-JSON value is an error");
	ok(err.code == EBADMSG && strstr(err.msg, "/gureum/instances/broken"), "names the key: %s", err.msg);
	json_t *arr = NULL;
	is_int(gr_store_list_json(s, "/gureum/instances/", &arr, &err), -1, "list_json fails on the broken record");
	gr_store_delete(s, "/gureum/instances/broken", NULL, &err);
	is_int(gr_store_list_json(s, "/gureum/instances/", &arr, &err), 0, "list_json");
	is_int(json_array_size(arr), 1, "one document");
	is_str(json_string_value(json_object_get(json_array_get(arr, 0), "key")), "/gureum/instances/j1", "with its key");
	json_decref(arr);
}

static int add_one(json_t **doc, void *ctx, gr_error_t *err)
{
	int *calls = ctx;
	(*calls)++;
	if (!*doc)
		*doc = json_pack("{s:i}", "n", 0);
	json_object_set_new(*doc, "n", json_integer(json_integer_value(json_object_get(*doc, "n")) + 1));
	return 0;
}

static int drop(json_t **doc, void *ctx, gr_error_t *err)
{
	json_decref(*doc);
	*doc = NULL;
	return 0;
}

static int refuse(json_t **doc, void *ctx, gr_error_t *err)
{
	return gr_error_set(err, EPERM, "refused by the callback");
}

static void test_update(struct gr_store *s)
{
	gr_error_t err = {0};
	int calls = 0;
	is_int(gr_store_update_json(s, "/u/n", add_one, &calls, 3, NULL, &err), 1, "update creates");
	is_int(gr_store_update_json(s, "/u/n", add_one, &calls, 3, NULL, &err), 1, "update modifies");
	json_t *d = NULL;
	gr_store_get_json(s, "/u/n", &d, NULL, &err);
	is_int(json_integer_value(json_object_get(d, "n")), 2, "n = 2");
	json_decref(d);
	is_int(gr_store_update_json(s, "/u/n", refuse, NULL, 3, NULL, &err), -1, "callback error propagates");
	is_int(err.code, EPERM, "with its code");
	is_int(gr_store_update_json(s, "/u/n", drop, NULL, 3, NULL, &err), 1, "NULL doc deletes");
	is_int(gr_store_get_json(s, "/u/n", &d, NULL, &err), 0, "deleted");
}

/* One compare-and-swap round on key: read its mod_revision, put if unchanged.
 * 1 won / 0 lost / -1 error. */
static int cas_once(struct gr_store *s, const char *key, int64_t seen)
{
	gr_error_t err = {0};
	json_t *doc = json_pack("{s:s}", "state", "starting");
	int r = gr_store_put_json_if(s, key, doc, 0, seen, NULL, &err);
	json_decref(doc);
	return r;
}

static int64_t mod_rev(struct gr_store *s, const char *key)
{
	json_t *d = NULL;
	int64_t rev = 0;
	gr_store_get_json(s, key, &d, &rev, NULL);
	json_decref(d);
	return rev;
}

static void put_stopped(struct gr_store *s, const char *key)
{
	json_t *doc = json_pack("{s:s}", "state", "stopped");
	gr_store_put_json(s, key, doc, 0, NULL, NULL);
	json_decref(doc);
}

/* Processes race a compare-and-swap on one record (what the daemon's state
 * machine builds on); every round exactly one must win. */
static void test_race_processes(void)
{
	enum { PROCS = 4, ROUNDS = 15 };
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	gr_store_open(st_url("race", "?synchronous=normal"), NULL, &s, &err);
	int bad_rounds = 0;
	for (int r = 0; r < ROUNDS; r++) {
		char key[64];
		snprintf(key, sizeof key, "/gureum/instances/race%d", r);
		put_stopped(s, key);
		int64_t seen = mod_rev(s, key);
		int gate[2];
		if (pipe(gate) < 0)
			return;
		fflush(stdout);
		pid_t pids[PROCS];
		for (int p = 0; p < PROCS; p++) {
			pids[p] = fork();
			if (pids[p] == 0) {
				struct gr_store *cs = NULL;
				close(gate[1]);
				if (gr_store_open(st_url("race", "?synchronous=normal&busy_timeout=20000"), NULL, &cs, &err) < 0)
					_exit(3);
				char c;
				if (read(gate[0], &c, 1) != 0)
					_exit(4);
				int won = cas_once(cs, key, seen);
				gr_store_close(cs);
				_exit(won == 1 ? 10 : won == 0 ? 11 : 12);
			}
		}
		close(gate[0]);
		close(gate[1]);
		int wins = 0, losses = 0;
		for (int p = 0; p < PROCS; p++) {
			int status = 0;
			waitpid(pids[p], &status, 0);
			if (WIFEXITED(status) && WEXITSTATUS(status) == 10)
				wins++;
			else if (WIFEXITED(status) && WEXITSTATUS(status) == 11)
				losses++;
		}
		if (wins != 1 || losses != PROCS - 1)
			bad_rounds++;
	}
	is_int(bad_rounds, 0, "%d rounds x %d processes: exactly one winner each time", ROUNDS, PROCS);
	gr_store_close(s);
}

struct racer { struct gr_store *s; const char *key; int64_t seen; int won; pthread_barrier_t *bar; };

static void *race_thread(void *arg)
{
	struct racer *r = arg;
	pthread_barrier_wait(r->bar);
	r->won = cas_once(r->s, r->key, r->seen);
	return NULL;
}

/* Threads sharing one handle (the daemon's worker threads). */
static void test_race_threads(struct gr_store *s)
{
	enum { THREADS = 8 };
	put_stopped(s, "/gureum/instances/tr");
	int64_t seen = mod_rev(s, "/gureum/instances/tr");
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, THREADS);
	pthread_t th[THREADS];
	struct racer rs[THREADS];
	for (int i = 0; i < THREADS; i++) {
		rs[i] = (struct racer){ s, "/gureum/instances/tr", seen, -2, &bar };
		pthread_create(&th[i], NULL, race_thread, &rs[i]);
	}
	int wins = 0, losses = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		wins += rs[i].won == 1;
		losses += rs[i].won == 0;
	}
	pthread_barrier_destroy(&bar);
	ok(wins == 1 && losses == THREADS - 1, "%d threads on one handle: one winner (%d), the rest lose (%d)",
	   THREADS, wins, losses);
}

static void run_all(void)
{
	gr_error_t err = {0};
	struct gr_store *s = NULL;
	if (!ok(gr_store_open(st_url("records", "?synchronous=normal"), NULL, &s, &err) == 0, "open: %s", err.msg))
		return;
	test_json(s);
	test_update(s);
	test_race_threads(s);
	gr_store_close(s);
	test_race_processes();
}

int main(void)
{
	st_dir(); /* before any fork */
	test_names();
	st_backend(ST_SQLITE);
	run_all();
	if (ok(st_backend(ST_ETCD), "a private 3-member etcd cluster is up"))
		run_all();
	return tap_done();
}
