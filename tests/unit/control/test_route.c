/*
 * test_route.c - calls routed to the owner host through request records
 * (route.c), on a real SQLite store shared by two control handles in one
 * process (alpha, beta): a config change of beta's instance sent to alpha is
 * made by beta (the record changes, the answer is beta's document); a bad
 * value is refused with beta's error code and message; exec through alpha is
 * refused naming beta; a request beta's previous run had claimed is answered
 * with an error and never run; with beta offline a call is refused at once
 * naming it, nothing is written under /gureum/requests/ and nothing changes.
 * gr_control_instance_owner (the API's forwarding question): beta without and
 * with a peer object in its record, held here, unknown, and beta offline.
 * No host work (a config of a defined instance only writes its record).
 * Waits are bounded polls.
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
	_cleanup_free_ char *cg = xasprintf("gr-test-route-%s", name);
	struct gr_control_opts o = { .state_dir = state, .run_dir = run, .cgroup_prefix = cg,
				     .no_recover = true, .store_url = store, .host_name = name,
				     .host_ttl = 2, .version = "test" };
	struct gr_control *c = NULL;
	return gr_control_open(&o, &c, err) == 0 ? c : NULL;
}

static uint64_t memory_of(struct gr_control *c, const char *name)
{
	gr_control_tick(c); /* the other handle's writes: seen by tick on SQLite */
	struct gr_instance in;
	if (gr__inst_get(c, name, &in, NULL) < 0)
		return 0;
	uint64_t m = in.memory;
	gr__inst_clear(&in);
	return m;
}

static size_t requests(struct gr_control *c)
{
	struct gr_kv_list l = { 0 };
	if (gr_store_list(c->store, GR_KEY_REQUESTS, 0, &l, NULL) < 0)
		return 999;
	size_t n = l.n;
	gr_kv_list_clear(&l);
	return n;
}

int main(void)
{
	char tmpl[] = "/tmp/gr-test-route.XXXXXX";
	char *dir = mkdtemp(tmpl);
	gr_error_t err = { 0 };
	_cleanup_free_ char *store = xasprintf("sqlite://%s/alpha/state/state.db", dir);
	struct gr_control *a = open_host(dir, "alpha", NULL, &err);
	if (!ok(a != NULL, "alpha: %s", err.msg))
		return tap_done();
	struct gr_control *b = open_host(dir, "beta", store, &err);
	if (!ok(b != NULL, "beta on the same store: %s", err.msg))
		return tap_done();

	/* a defined container held by beta */
	json_t *req = json_pack("{s:s,s:s}", "name", "web", "image", "busybox");
	struct gr_instance in;
	const char *cls, *type;
	ok(gr__inst_from_request(req, &in, &cls, &type, &err) == 0, "request parsed");
	json_decref(req);
	in.state = GR_ST_DEFINED;
	snprintf(in.host, sizeof in.host, "beta");
	ok(gr__inst_create(b, &in, &err) == 0, "beta records web: %s", err.msg);
	gr__inst_clear(&in);
	gr_control_tick(a);

	json_t *changes = json_pack("{s:s}", "memory", "64M"), *out = NULL;
	int r = gr_control_instance_config(a, "web", changes, &out, &err);
	json_decref(changes);
	ok(r == 0 && json_integer_value(json_object_get(out, "memory")) == 64 << 20 &&
		   !strcmp(json_string_value(json_object_get(out, "host")) ?: "", "beta"),
	   "config through alpha: made by beta, beta's document back (%s)", r < 0 ? err.msg : "ok");
	json_decref(out);
	out = NULL;
	ok(memory_of(b, "web") == 64 << 20 && memory_of(a, "web") == 64 << 20,
	   "both see the new memory");
	ok(requests(a) == 0, "the request record is gone after the answer");

	changes = json_pack("{s:s}", "memory", "12Q");
	r = gr_control_instance_config(a, "web", changes, &out, &err);
	json_decref(changes);
	ok(r < 0 && err.code == EINVAL && strstr(err.msg, "memory"),
	   "a bad value: beta's EINVAL and message (%s)", err.msg);

	json_t *xreq = json_pack("{s:[s]}", "cmd", "true");
	int status = 0;
	r = gr_control_instance_exec(a, "web", xreq, -1, -1, -1, &status, &err);
	json_decref(xreq);
	ok(r < 0 && err.code == EREMOTE && strstr(err.msg, "host beta"),
	   "exec through alpha refused naming beta (%s)", err.msg);

	/* who holds it, for the API's forwarding: beta, no peer channel yet; then with one */
	char owner[64];
	json_t *peer = NULL;
	r = gr_control_instance_owner(a, "web", owner, sizeof owner, &peer, &err);
	ok(r == 1 && !strcmp(owner, "beta") && !peer, "owner of web through alpha: beta, no peer (%d %s)", r,
	   r < 0 ? err.msg : owner);
	r = gr_control_instance_owner(b, "web", owner, sizeof owner, &peer, &err);
	ok(r == 0 && !owner[0] && !peer, "through beta: held here");
	r = gr_control_instance_owner(a, "nope", owner, sizeof owner, &peer, &err);
	ok(r < 0 && err.code == ENOENT, "an unknown instance: ENOENT (%s)", err.msg);
	json_t *brec = NULL;
	const char *bkey = GR_KEY_HOSTS "beta";
	ok(gr_store_get_json(a->store, bkey, &brec, NULL, &err) == 1, "beta's host record read");
	json_object_set_new(brec, "peer", json_pack("{s:s,s:s}", "address", "127.0.0.1:1", "pin", "sha256//x"));
	gr_store_put_json(a->store, bkey, brec, 0, NULL, &err);
	json_decref(brec);
	r = gr_control_instance_owner(a, "web", owner, sizeof owner, &peer, &err);
	ok(r == 1 && !strcmp(owner, "beta") &&
		   !strcmp(json_string_value(json_object_get(peer, "address")) ?: "", "127.0.0.1:1"),
	   "with a peer object in beta's record: beta and its peer (%d)", r);
	json_decref(peer);
	peer = NULL;

	/* a request beta's previous run claimed: answered with an error, not run */
	const char *key = GR_KEY_REQUESTS "beta/0000orphan";
	json_t *orphan = json_pack("{s:s,s:s,s:{s:{s:s}},s:s,s:f,s:s,s:s,s:f}", "op", "config",
				   "name", "web", "args", "changes", "memory", "128M", "from", "alpha",
				   "created", 1.0, "state", "claimed", "by", "beta", "run", 1.0);
	ok(gr_store_put_json(a->store, key, orphan, 0, NULL, &err) == 0, "an orphan claim is put");
	json_decref(orphan);
	json_t *doc = NULL;
	bool done = false;
	for (int i = 0; i < 100 && !done; i++) {
		if (gr_store_get_json(a->store, key, &doc, NULL, NULL) == 1)
			done = !strcmp(json_string_value(json_object_get(doc, "state")) ?: "", "done");
		if (!done) {
			json_decref(doc);
			doc = NULL;
			usleep(100 * 1000);
		}
	}
	ok(done && json_is_false(json_object_get(doc, "ok")) &&
		   strstr(json_string_value(json_object_get(doc, "message")) ?: "", "restarted"),
	   "beta answers it with an error: %s",
	   doc ? json_string_value(json_object_get(doc, "message")) : "no answer");
	json_decref(doc);
	ok(memory_of(b, "web") == 64 << 20, "and did not run it (memory unchanged)");
	gr_store_delete(a->store, key, NULL, NULL);

	/* beta offline: refused at once, nothing written, nothing changed */
	gr_control_close(b);
	brec = NULL;
	if (gr_store_get_json(a->store, bkey, &brec, NULL, NULL) == 1) { /* the close rewrote it */
		json_object_set_new(brec, "peer", json_pack("{s:s,s:s}", "address", "127.0.0.1:1", "pin", "sha256//x"));
		gr_store_put_json(a->store, bkey, brec, 0, NULL, NULL);
	}
	json_decref(brec);
	r = gr_control_instance_owner(a, "web", owner, sizeof owner, &peer, &err);
	ok(r < 0 && err.code == EHOSTDOWN && strstr(err.msg, "host beta, which is offline") && !peer,
	   "owner with a peer channel, offline: EHOSTDOWN naming it (%s)", r < 0 ? err.msg : "no error");
	changes = json_pack("{s:s}", "memory", "32M");
	r = gr_control_instance_config(a, "web", changes, NULL, &err);
	json_decref(changes);
	ok(r < 0 && err.code == EHOSTDOWN &&
		   strstr(err.msg, "instance 'web' is on host beta, which is offline") &&
		   strstr(err.msg, "nothing was changed"),
	   "beta offline: refused naming it (%s)", err.msg);
	r = gr_control_instance_action(a, "web", "start", NULL, NULL, &err);
	ok(r < 0 && err.code == EHOSTDOWN, "a start too (%s)", err.msg);
	ok(requests(a) == 0 && memory_of(a, "web") == 64 << 20, "no request written, memory unchanged");
	gr_control_close(a);
	gr_rm_rf(dir, NULL);
	return tap_done();
}
