/*
 * test_index.c - the instance records and the in-memory index (index.c) on a
 * real SQLite store: records written once and read from memory, threads
 * racing one transition (exactly one wins), the transition table enforced
 * before any write, another writer's changes arriving through the change
 * feed (put, delete, a compacted feed re-listed), a stale copy losing its
 * compare-and-swap and getting the current record, and admission through the
 * placer (a request that never fits, a host that is full for now).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include "control/control-internal.h"
#include "tap.h"
#include "util/alloc.h"
#include "util/fs.h"

static struct gr_control *c;

static void make(const char *name, enum gr_inst_state st, uint64_t memory)
{
	json_t *req = json_pack("{s:s,s:s,s:I}", "name", name, "image", "busybox", "memory",
				(json_int_t)memory);
	struct gr_instance in;
	const char *cls, *type;
	gr_error_t err;
	if (gr__inst_from_request(req, &in, &cls, &type, &err) < 0) {
		diag("%s: %s", name, err.msg);
		json_decref(req);
		return;
	}
	json_decref(req);
	in.state = st;
	if (gr__inst_create(c, &in, &err) < 0)
		diag("create %s: %s", name, err.msg);
	gr__inst_clear(&in);
}

static enum gr_inst_state state_of(const char *name)
{
	struct gr_instance in;
	if (gr__inst_get(c, name, &in, NULL) < 0)
		return GR_ST__COUNT;
	enum gr_inst_state st = in.state;
	gr__inst_clear(&in);
	return st;
}

struct racer {
	pthread_barrier_t *bar;
	int result;
	int code;
};

static void *race(void *p)
{
	struct racer *r = p;
	struct gr_instance in;
	gr_error_t err = { 0 };
	gr__inst_get(c, "race", &in, &err);
	pthread_barrier_wait(r->bar);
	r->result = gr__inst_move(c, &in, GR_ST_STARTING, &err);
	r->code = err.code;
	gr__inst_clear(&in);
	return NULL;
}

/* Another daemon's write: a second handle on the same store file. */
static void other_put(struct gr_store *o, const char *name, enum gr_inst_state st)
{
	struct gr_instance in;
	gr__inst_get(c, name, &in, NULL);
	in.state = st;
	size_t len;
	char *text = gr__inst_encode(&in, &len);
	char key[128];
	snprintf(key, sizeof key, "%s%s", GR_KEY_INSTANCES, name);
	gr_store_put(o, key, text, len, 0, NULL, NULL);
	free(text);
	gr__inst_clear(&in);
}

int main(void)
{
	char tmpl[] = "/tmp/gr-test-index.XXXXXX";
	char *dir = mkdtemp(tmpl);
	gr_error_t err = { 0 };
	char *state = xasprintf("%s/state", dir), *run = xasprintf("%s/run", dir);
	struct gr_control_opts o = { .state_dir = state, .run_dir = run, .cgroup_prefix = "gr-test-index",
				     .no_recover = true };
	if (!ok(gr_control_open(&o, &c, &err) == 0, "control opens on a fresh store: %s", err.msg))
		return tap_done();

	/* written once, read from memory */
	unsigned long long d0 = gr__inst_decodes;
	make("web1", GR_ST_DEFINED, 0);
	make("web2", GR_ST_STOPPED, 0);
	is_int(state_of("web1"), GR_ST_DEFINED, "a new record is in the index at once");
	struct gr_instance w1;
	gr__inst_get(c, "web1", &w1, NULL);
	ok(w1.create_revision > 0 && w1.create_revision == w1.mod_revision,
	   "... with the revision that created it (snapshot records hang on it)");
	gr__inst_clear(&w1);
	for (int i = 0; i < 100; i++)
		state_of("web2");
	is_int(gr__inst_decodes - d0, 0, "creating and reading 100 times parsed no record");
	char *text;
	size_t len;
	gr__index_list_text(c, &text, &len);
	ok(strstr(text, "\"name\":\"web1\"") && strstr(text, "\"name\":\"web2\"") &&
	   strstr(text, "web1") < strstr(text, "web2"), "the listing holds both, sorted");
	free(text);
	struct gr_instance in;
	gr__inst_get(c, "web1", &in, &err);
	ok(gr__inst_create(c, &in, &err) < 0 && err.code == EEXIST, "a second record of a name: %s", err.msg);
	gr__inst_clear(&in);
	d0 = gr__inst_decodes;
	gr__index_feed(c);
	is_int(gr__inst_decodes - d0, 0, "the feed brings our own writes back without parsing them");
	in.state = GR_ST_DEFINED;
	ok(gr__inst_get(c, "nope", &in, &err) < 0 && err.code == ENOENT && strstr(err.msg, "nope"),
	   "an unknown name is ENOENT naming it");

	/* the transition table before any write */
	gr__inst_get(c, "web2", &in, &err);
	int64_t rev = in.mod_revision;
	ok(gr__inst_move(c, &in, GR_ST_RUNNING, &err) < 0 && err.code == EBUSY &&
	   strstr(err.msg, "cannot become running"), "stopped -> running is refused: %s", err.msg);
	is_int(in.state, GR_ST_STOPPED, "... the copy keeps its state");
	gr__inst_clear(&in);
	gr__inst_get(c, "web2", &in, &err);
	is_int(in.mod_revision, rev, "... and nothing was written");
	gr__inst_clear(&in);

	/* eight threads, one transition: exactly one wins */
	make("race", GR_ST_STOPPED, 0);
	enum { N = 8 };
	pthread_barrier_t bar;
	pthread_barrier_init(&bar, NULL, N);
	pthread_t th[N];
	struct racer rs[N];
	for (int i = 0; i < N; i++) {
		rs[i] = (struct racer){ &bar, -2, 0 };
		pthread_create(&th[i], NULL, race, &rs[i]);
	}
	int wins = 0, busy = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		wins += rs[i].result == 0;
		busy += rs[i].result < 0 && rs[i].code == EBUSY;
	}
	ok(wins == 1 && busy == N - 1, "%d threads move one instance: one wins (%d), the others get EBUSY (%d)",
	   N, wins, busy);
	is_int(state_of("race"), GR_ST_STARTING, "the record says starting");

	/* another writer: its changes come through the feed */
	struct gr_store *other = NULL;
	char *url = xasprintf("sqlite://%s/state.db", state);
	ok(gr_store_open(url, NULL, &other, &err) == 0, "a second writer opens the store: %s", err.msg);
	gr__inst_get(c, "web1", &in, &err); /* a copy that will go stale */
	other_put(other, "web1", GR_ST_STOPPED);
	is_int(state_of("web1"), GR_ST_DEFINED, "before the feed runs, the index has the old record");
	d0 = gr__inst_decodes;
	gr__index_feed(c);
	is_int(state_of("web1"), GR_ST_STOPPED, "after it, the other writer's change");
	is_int(gr__inst_decodes - d0, 1, "... decoded once");
	ok(gr__inst_move(c, &in, GR_ST_STARTING, &err) < 0 && err.code == EBUSY,
	   "a stale copy loses its compare-and-swap: %s", err.msg);
	is_int(in.state, GR_ST_STOPPED, "... and holds the current record afterwards");
	ok(gr__inst_move(c, &in, GR_ST_STARTING, &err) == 0, "which then moves: %s", err.msg);
	gr__inst_clear(&in);
	char key[128];
	snprintf(key, sizeof key, "%sweb2", GR_KEY_INSTANCES);
	gr_store_delete(other, key, NULL, NULL);
	gr__index_feed(c);
	is_int(state_of("web2"), GR_ST__COUNT, "a delete by the other writer removes it from the index");

	/* a feed compacted past the index's position: re-listed */
	other_put(other, "race", GR_ST_RUNNING);
	make("late", GR_ST_DEFINED, 0);
	int64_t now = 0;
	gr_store_revision(other, &now, NULL);
	snprintf(key, sizeof key, "%slate", GR_KEY_INSTANCES);
	gr_store_delete(other, key, NULL, NULL);
	gr_store_revision(other, &now, NULL);
	gr_store_compact(other, now, NULL);
	gr__index_feed(c);
	ok(state_of("race") == GR_ST_RUNNING && state_of("late") == GR_ST__COUNT,
	   "after a compaction the index re-lists and catches both changes");
	gr_store_close(other);
	free(url);

	/* admission */
	struct sysinfo si;
	sysinfo(&si);
	uint64_t host_mem = (uint64_t)si.totalram * si.mem_unit;
	struct gr_instance big = { 0 };
	snprintf(big.name, sizeof big.name, "big");
	big.memory = host_mem * 2;
	ok(gr__index_check_fits(c, &big, &err) < 0 && err.code == EINVAL &&
	   !strncmp(err.msg, "memory:", 7) && strstr(err.msg, "the largest"),
	   "twice the host's memory can never fit: %s", err.msg);
	big.memory = host_mem / 10 * 6;
	ok(gr__index_check_fits(c, &big, &err) == 0, "60%% of it fits an idle host");
	make("hog", GR_ST_DEFINED, host_mem / 10 * 6);
	gr__inst_get(c, "hog", &in, &err);
	char host[GR_INST_HOST_MAX];
	ok(gr__index_place(c, &in, host, sizeof host, &err) == 0, "the hog is placed (%s)", host);
	ok(gr__inst_move(c, &in, GR_ST_STARTING, &err) == 0 && gr__inst_move(c, &in, GR_ST_RUNNING, &err) == 0,
	   "and runs");
	gr__inst_clear(&in);
	snprintf(big.name, sizeof big.name, "big2");
	ok(gr__index_place(c, &big, host, sizeof host, &err) < 0 && err.code == EAGAIN &&
	   strstr(err.msg, "no room"), "another 60%% finds no room now: %s", err.msg);
	gr__inst_get(c, "hog", &in, &err);
	ok(gr__inst_move(c, &in, GR_ST_STOPPED, &err) == 0, "the hog stops");
	gr__inst_clear(&in);
	ok(gr__index_place(c, &big, host, sizeof host, &err) == 0, "then there is room: %s", err.msg);

	gr_control_close(c);
	gr_rm_rf(dir, NULL);
	free(state);
	free(run);
	return tap_done();
}
