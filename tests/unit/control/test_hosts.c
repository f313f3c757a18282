/*
 * test_hosts.c - membership (hosts.c) on a real SQLite store shared by two
 * control handles in one process: registration and the host list, a name
 * online elsewhere refused (EEXIST), exactly one leader, the leader-guarded
 * transaction (applied for the leader, refused for a non-leader and for a
 * deposed leader that still believes it leads), a clean close making a host
 * offline at once while its record stays, and the leader's round recording
 * offline_since.  Waits are bounded polls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "control/control-internal.h"
#include "tap.h"
#include "util/alloc.h"
#include "util/fs.h"

static struct gr_control *open_host(const char *dir, const char *name, const char *store, gr_error_t *err)
{
	_cleanup_free_ char *state = xasprintf("%s/%s/state", dir, name);
	_cleanup_free_ char *run = xasprintf("%s/%s/run", dir, name);
	_cleanup_free_ char *cg = xasprintf("gr-test-hosts-%s", name);
	struct gr_control_opts o = { .state_dir = state, .run_dir = run, .cgroup_prefix = cg,
				     .no_recover = true, .store_url = store, .host_name = name,
				     .host_ttl = 2, .version = "test" };
	struct gr_control *c = NULL;
	return gr_control_open(&o, &c, err) == 0 ? c : NULL;
}

/* host `name` as c lists it: state and whether offline_since is set */
static const char *state_of(struct gr_control *c, const char *name, bool *leader, bool *marked)
{
	static char st[16];
	json_t *h = NULL;
	st[0] = '\0';
	if (gr_control_host_get(c, name, &h, NULL) < 0)
		return "absent";
	snprintf(st, sizeof st, "%s", json_string_value(json_object_get(h, "state")));
	if (leader)
		*leader = json_is_true(json_object_get(h, "leader"));
	if (marked)
		*marked = json_is_number(json_object_get(h, "offline_since"));
	json_decref(h);
	return st;
}

int main(void)
{
	char tmpl[] = "/tmp/gr-test-hosts.XXXXXX";
	char *dir = mkdtemp(tmpl);
	gr_error_t err = { 0 };
	_cleanup_free_ char *store = xasprintf("sqlite://%s/alpha/state/state.db", dir);
	struct gr_control *a = open_host(dir, "alpha", NULL, &err);
	if (!ok(a != NULL, "alpha registers on a fresh store: %s", err.msg))
		return tap_done();
	bool leader = false, marked = false;
	is_str(state_of(a, "alpha", &leader, NULL), "online", "alpha online");
	ok(leader && gr__is_leader(a), "a lone daemon leads before it serves");

	struct gr_control *b = open_host(dir, "beta", store, &err);
	ok(b != NULL, "beta registers on the same store: %s", err.msg);
	is_str(state_of(a, "beta", &leader, NULL), "online", "alpha sees beta online");
	ok(!leader && !gr__is_leader(b), "beta is not the leader");
	json_t *list = NULL;
	ok(gr_control_host_list(b, &list, &err) == 0 &&
		   json_array_size(json_object_get(list, "hosts")) == 2,
	   "beta lists 2 hosts");
	json_decref(list);

	gr_error_t e2 = { 0 };
	struct gr_control *dup = NULL;
	_cleanup_free_ char *st3 = xasprintf("%s/dup/state", dir), *run3 = xasprintf("%s/dup/run", dir);
	struct gr_control_opts o3 = { .state_dir = st3, .run_dir = run3, .cgroup_prefix = "gr-test-hosts-dup",
				      .no_recover = true, .store_url = store, .host_name = "alpha",
				      .host_ttl = 2 };
	ok(gr_control_open(&o3, &dup, &e2) < 0 && e2.code == EEXIST &&
		   strstr(e2.msg, "host name 'alpha' is already online"),
	   "the name alpha from another state folder: EEXIST (%s)", e2.msg);
	gr_control_close(dup);

	/* the leader's guarded write */
	const char *k = "/gureum/test/leader-write";
	struct gr_store_op put = { .type = GR_OP_PUT, .key = k, .value = "x", .value_len = 1 };
	is_int(gr__leader_txn(a, NULL, 0, &put, 1, &err), 1, "the leader's write applies");
	is_int(gr__leader_txn(b, NULL, 0, &put, 1, &err), 0, "a non-leader's write is refused");
	/* depose alpha behind its back: someone else's leader key */
	struct gr_store *s = NULL;
	ok(gr_store_open(store, NULL, &s, &err) == 0, "a third handle on the store");
	int64_t rev0 = 0, rev1 = 0;
	gr_store_revision(s, &rev0, NULL);
	ok(gr_store_delete(s, GR_KEY_LEADER, NULL, &err) == 1 &&
		   gr_store_put(s, GR_KEY_LEADER, "{\"host\":\"other\"}", 16, 0, NULL, &err) == 0,
	   "the leader key replaced by another holder");
	is_int(gr__leader_txn(a, NULL, 0, &put, 1, &err), 0,
	       "the deposed leader's write fails (it still believed it led: %d)", gr__is_leader(a));
	struct gr_kv kv = { 0 };
	ok(gr_store_get(s, k, &kv, NULL) == 1 && kv.mod_revision < rev0 + 1, "the key kept the leader's write only");
	gr_kv_clear(&kv);
	gr_store_delete(s, GR_KEY_LEADER, NULL, NULL);
	gr_store_revision(s, &rev1, NULL);

	/* both campaign again (their threads): one wins, and its writes apply */
	bool again = false;
	for (int i = 0; i < 100 && !again; i++) {
		struct gr_control *l = gr__is_leader(a) ? a : gr__is_leader(b) ? b : NULL;
		again = l && gr__is_leader(a) != gr__is_leader(b) && gr__leader_txn(l, NULL, 0, &put, 1, NULL) == 1;
		if (!again)
			usleep(100 * 1000);
	}
	ok(again, "one of alpha and beta leads again once the key is free (%s)", gr__is_leader(a) ? "alpha" : "beta");
	gr_control_close(b);
	is_str(state_of(a, "beta", NULL, NULL), "offline", "beta offline at once after a clean close");
	for (int i = 0; i < 100 && !marked; i++) {
		state_of(a, "beta", NULL, &marked);
		if (!marked)
			usleep(100 * 1000);
	}
	ok(marked, "the leader recorded beta's offline_since; the record stays");

	gr_store_close(s);
	gr_control_close(a);
	gr_rm_rf(dir, NULL);
	return tap_done();
}
