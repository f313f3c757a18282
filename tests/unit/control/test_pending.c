/*
 * test_pending.c - pending instances (pending.c) on a real SQLite store shared
 * by two control handles in one process, with their membership and request
 * threads running: a queued record (state pending, no host, the reasons);
 * start of it refused (EBUSY: 409); a deposed leader's assignment changes
 * nothing (its txn compares the leader key); with no leader nobody assigns;
 * once a leader is back it assigns, the chosen host claims, cannot define it
 * (no image in this test's image store: nothing written) and gives it back,
 * so the leader tries the other host, which gives it back too: the record
 * ends pending, host null, refused_by naming both hosts once each and the
 * error kept; delete of a pending instance removes it.  Waits are bounded
 * polls.
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
	_cleanup_free_ char *cg = xasprintf("gr-test-pending-%s", name);
	struct gr_control_opts o = { .state_dir = state, .run_dir = run, .cgroup_prefix = cg,
				     .no_recover = true, .store_url = store, .host_name = name,
				     .host_ttl = 2, .version = "test" };
	struct gr_control *c = NULL;
	return gr_control_open(&o, &c, err) == 0 ? c : NULL;
}

/* p1's record as s has it (NULL when absent); *rev its mod_revision */
static json_t *record(struct gr_store *s, int64_t *rev)
{
	json_t *j = NULL;
	if (gr_store_get_json(s, GR_KEY_INSTANCES "p1", &j, rev, NULL) != 1)
		return NULL;
	return j;
}

static const char *str(json_t *o, const char *path1, const char *path2)
{
	json_t *v = json_object_get(o, path1);
	if (path2)
		v = json_object_get(v, path2);
	return json_is_string(v) ? json_string_value(v) : "";
}

int main(void)
{
	char tmpl[] = "/tmp/gr-test-pending.XXXXXX";
	char *dir = mkdtemp(tmpl);
	gr_error_t err = { 0 };
	_cleanup_free_ char *url = xasprintf("sqlite://%s/alpha/state/state.db", dir);
	struct gr_control *a = open_host(dir, "alpha", NULL, &err);
	if (!ok(a != NULL, "alpha opens a fresh store: %s", err.msg))
		return tap_done();
	struct gr_control *b = open_host(dir, "beta", url, &err);
	ok(b != NULL, "beta opens the same store: %s", err.msg);
	struct gr_store *s = NULL;
	ok(gr_store_open(url, NULL, &s, &err) == 0, "a third handle on the store");

	/* depose alpha behind its back, then queue and run its round at once:
	 * it may still believe it leads, but its write must fail */
	ok(gr_store_delete(s, GR_KEY_LEADER, NULL, &err) == 1 &&
		   gr_store_put(s, GR_KEY_LEADER, "{\"host\":\"other\"}", 16, 0, NULL, &err) == 0,
	   "the leader key replaced by another holder (no lease: nobody of ours leads)");
	json_t *req = json_pack("{s:s,s:s,s:s}", "name", "p1", "image", "busybox", "memory", "64M");
	json_t *out = NULL;
	ok(gr__pending_queue(a, req, true, "host alpha: no room; host beta: no room", &out, &err) == 0,
	   "queue p1: %s", err.msg);
	is_str(str(out, "state", NULL), "pending", "its document says pending");
	ok(json_is_null(json_object_get(out, "host")), "with no host");
	is_str(str(out, "pending", "reasons"), "host alpha: no room; host beta: no room",
	       "and the reasons per host");
	json_decref(out);
	bool believed = gr__is_leader(a);
	int64_t rev0 = 0, rev1 = 0;
	json_t *r0 = record(s, &rev0);
	gr__pending_round(a);
	json_t *r1 = record(s, &rev1);
	ok(r0 && r1 && rev0 == rev1 && json_is_null(json_object_get(r1, "host")),
	   "a deposed leader's round changes nothing (it %s it led)", believed ? "still believed" : "no longer believed");
	json_decref(r0);
	json_decref(r1);

	/* with nobody leading, nothing is assigned */
	for (int i = 0; i < 50 && (gr__is_leader(a) || gr__is_leader(b)); i++)
		usleep(100 * 1000);
	ok(!gr__is_leader(a) && !gr__is_leader(b), "neither alpha nor beta leads now");
	gr__pending_round(a);
	gr__pending_round(b);
	r1 = record(s, &rev1);
	ok(r1 && rev1 == rev0 && json_is_null(json_object_get(r1, "host")), "no leader: p1 stays unassigned");
	json_decref(r1);

	/* start and stop of a pending instance: a clear 409 */
	gr_control_tick(a); /* the other handle's writes: seen by tick on SQLite */
	gr_control_tick(b);
	ok(gr_control_instance_action(b, "p1", "start", NULL, NULL, &err) < 0 && err.code == EBUSY &&
		   strstr(err.msg, "pending"),
	   "start of p1 refused: %s", err.msg);
	ok(gr_control_instance_action(a, "p1", "stop", NULL, NULL, &err) < 0 && err.code == EBUSY,
	   "stop of p1 refused: %s", err.msg);

	/* a leader again: it assigns, each host claims and gives it back */
	gr_store_delete(s, GR_KEY_LEADER, NULL, NULL);
	bool both = false;
	json_t *rb = NULL;
	for (int i = 0; i < 300 && !both; i++) {
		json_t *r = record(s, NULL);
		rb = json_object_get(json_object_get(r, "pending"), "refused_by");
		both = json_array_size(rb) == 2 && json_is_null(json_object_get(r, "host"));
		if (both) {
			ok(strcmp(json_string_value(json_array_get(rb, 0)),
				  json_string_value(json_array_get(rb, 1))) != 0,
			   "refused_by names alpha and beta once each");
			ok(strstr(str(r, "pending", "last_error"), "no image named 'busybox'") != NULL,
			   "the error is kept: %s", str(r, "pending", "last_error"));
			is_str(str(r, "state", NULL), "pending", "p1 is still pending");
		}
		json_decref(r);
		if (!both) {
			usleep(100 * 1000);
			gr_control_tick(a);
			gr_control_tick(b);
		}
	}
	ok(both, "the leader assigned p1 to each host in turn; each gave it back");

	err = (gr_error_t){ 0 };
	ok(gr_control_instance_delete(b, "p1", false, &err) == 0, "delete of pending p1 %s", err.msg);
	r1 = record(s, NULL);
	ok(r1 == NULL, "p1's record is gone");
	json_decref(r1);

	json_decref(req);
	gr_store_close(s);
	gr_control_close(b);
	gr_control_close(a);
	gr_rm_rf(dir, NULL);
	return tap_done();
}
