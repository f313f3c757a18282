/*
 * test_instance.c - the typed instance: validation of outside input (names,
 * sizes, create requests, config changes), the codec's round trip and its
 * refusal of bad records, the transition table, and the driver's view (no
 * store, no host).
 */
#include <errno.h>
#include <string.h>
#include "control/control-internal.h"
#include "tap.h"

static int create(const char *json, struct gr_instance *in, gr_error_t *err)
{
	json_t *req = json_loads(json, 0, NULL);
	if (!req)
		return gr_error_set(err, EINVAL, "test: bad JSON in the test itself");
	const char *cls, *type;
	int r = gr__inst_from_request(req, in, &cls, &type, err);
	json_decref(req);
	return r;
}

static void bad(const char *json, const char *field)
{
	struct gr_instance in;
	gr_error_t err = { 0 };
	int r = create(json, &in, &err);
	ok(r < 0 && err.code == EINVAL && strncmp(err.msg, field, strlen(field)) == 0,
	   "rejects %s: %s", json, err.msg);
	if (r == 0)
		gr__inst_clear(&in);
}

static void bad_record(const char *json, const char *field)
{
	struct gr_instance in;
	gr_error_t err = { 0 };
	int r = gr__inst_decode(json, strlen(json), &in, &err);
	ok(r < 0 && err.code == EBADMSG && strstr(err.msg, field), "bad record %s: %s", json, err.msg);
	if (r == 0)
		gr__inst_clear(&in);
}

int main(void)
{
	gr_error_t err;
	ok(gr_name_valid("name", "web1", &err) == 0, "web1 is a valid name");
	ok(gr_name_valid("name", "a-b-9", &err) == 0, "a-b-9 is a valid name");
	ok(gr_name_valid("name", "", &err) < 0, "empty name is invalid");
	ok(gr_name_valid("name", "-a", &err) < 0, "leading '-' is invalid");
	ok(gr_name_valid("name", "a-", &err) < 0, "trailing '-' is invalid");
	ok(gr_name_valid("name", "Web", &err) < 0 && strstr(err.msg, "name:"), "upper case is invalid and named");
	ok(gr_name_valid("name", "a/b", &err) < 0, "slash is invalid");
	ok(gr_name_valid("name", "a.b", &err) < 0, "dot is invalid");
	char longname[80];
	memset(longname, 'a', 79);
	longname[79] = 0;
	ok(gr_name_valid("name", longname, &err) < 0, "79 characters is too long");

	uint64_t v;
	ok(gr_parse_size("memory", "512M", &v, &err) == 0 && v == 512ull << 20, "512M");
	ok(gr_parse_size("memory", "2G", &v, &err) == 0 && v == 2ull << 30, "2G");
	ok(gr_parse_size("memory", "2GiB", &v, &err) == 0 && v == 2ull << 30, "2GiB");
	ok(gr_parse_size("memory", "1048576", &v, &err) == 0 && v == 1048576, "plain bytes");
	ok(gr_parse_size("memory", "12Q", &v, &err) < 0 && strstr(err.msg, "memory"), "unknown unit named");
	ok(gr_parse_size("memory", "-1", &v, &err) < 0, "negative");
	ok(gr_parse_size("memory", "99999999999999999999", &v, &err) < 0, "overflow");
	ok(gr_parse_size("memory", "20000000000T", &v, &err) < 0, "overflow after the unit");

	struct gr_instance in;
	ok(create("{\"name\":\"web1\",\"image\":\"busybox\",\"memory\":\"64M\",\"cpu\":0.5,"
		  "\"env\":[\"A=B\"],\"restart\":\"always\",\"ephemeral\":true,\"options\":{\"k\":[1]}}",
		  &in, &err) == 0,
	   "a full request is accepted");
	is_int(in.memory, 64 << 20, "memory in bytes");
	is_int(in.backend, GR_BACKEND_CONTAINER, "backend not chosen yet (the image decides later)");
	is_int(in.restart, GR_RESTART_ALWAYS, "restart kept");
	ok(in.ephemeral, "ephemeral kept");
	is_int(in.state, GR_ST_DEFINING, "no state of its own before the state machine sets one");
	ok(in.exit_code == -1 && in.cmd == NULL && in.env && !strcmp(in.env[0], "A=B"), "defaults");
	ok(!in.privileged, "unprivileged unless asked");

	/* the codec: encode, decode, encode gives the same text */
	in.state = GR_ST_RUNNING;
	in.pid = 1234;
	in.backend = GR_BACKEND_VM;
	in.cls = GR_CLASS_CRITICAL;
	snprintf(in.backend_reason, sizeof in.backend_reason, "class critical: strong isolation");
	snprintf(in.host, sizeof in.host, "node1");
	gr__inst_set_error(&in, "it said %d", 42);
	size_t len;
	char *text = gr__inst_encode(&in, &len);
	struct gr_instance back;
	unsigned long long before = gr__inst_decodes;
	ok(gr__inst_decode(text, len, &back, &err) == 0, "the record decodes: %s", text);
	is_int(gr__inst_decodes - before, 1, "decodes are counted");
	char *again = gr__inst_encode(&back, NULL);
	is_str(again, text, "encode(decode(x)) == x");
	ok(back.pid == 1234 && back.state == GR_ST_RUNNING && back.backend == GR_BACKEND_VM &&
	   back.cls == GR_CLASS_CRITICAL && !strcmp(back.error, "it said 42") &&
	   !strcmp(back.host, "node1") && back.memory == 64u << 20, "fields survive the round trip");
	ok(strstr(text, "\"backend\":\"vm (class critical: strong isolation)\"") != NULL,
	   "the backend line is written for readers");
	free(again);
	free(text);
	gr__inst_clear(&back);

	/* the driver's view */
	struct gr_control c = { .inst_dir = "/x/instances" };
	struct gr_inst_spec sp;
	char dir[GR__DIR_MAX];
	gr__spec_of(&c, &in, &sp, dir);
	is_str(sp.name, "web1", "spec name");
	is_str(sp.dir, "/x/instances/web1", "spec dir");
	ok(sp.memory == 64u << 20 && sp.cpu == 0.5 && sp.ephemeral, "spec limits");
	ok(!sp.privileged, "spec: unprivileged");
	is_str(sp.env[0], "A=B", "spec env");
	ok(sp.cmd == NULL, "no cmd: the driver's default");
	ok(json_is_array(json_object_get(sp.options, "k")), "options handed over as parsed");
	gr__inst_clear(&in);

	/* privileged: in the record; a record from before the field ran privileged */
	struct gr_instance pr;
	ok(gr__inst_decode("{\"name\":\"a\",\"image\":\"i\",\"state\":\"running\"}", 42, &pr, &err) == 0 &&
	   pr.privileged, "a record without 'privileged' reads as privileged (made before the field)");
	gr__inst_clear(&pr);
	ok(gr__inst_decode("{\"name\":\"a\",\"image\":\"i\",\"state\":\"running\",\"privileged\":false}", 61,
			   &pr, &err) == 0 && !pr.privileged, "privileged:false is kept");
	gr__inst_clear(&pr);
	ok(create("{\"name\":\"p1\",\"image\":\"busybox\",\"privileged\":true}", &pr, &err) == 0 &&
	   pr.privileged, "privileged:true requested");
	char *ptext = gr__inst_encode(&pr, NULL);
	ok(strstr(ptext, "\"privileged\":true") != NULL, "and recorded");
	free(ptext);
	json_t *pch = json_pack("{s:b}", "privileged", 0);
	struct gr_instance pm;
	ok(gr__inst_apply_config(&pr, pch, &pm, &err) < 0 && strstr(err.msg, "privileged: fixed"),
	   "privileged cannot change: %s", err.msg);
	json_decref(pch);
	gr__inst_clear(&pr);

	bad_record("[]", "not a JSON object");
	bad_record("{\"name\":\"a\",\"image\":\"i\",\"type\":\"container\"}", "state");
	bad_record("{\"name\":\"a\",\"image\":\"i\",\"type\":\"jail\",\"state\":\"running\"}", "type");
	bad_record("{\"name\":\"A\",\"image\":\"i\",\"state\":\"running\"}", "name");
	bad_record("{\"name\":\"a\",\"image\":\"i\",\"state\":\"running\",\"env\":[1]}", "env");
	bad_record("{\"name\":\"a\",\"image\":\"i\",\"state\":\"sleeping\"}", "state");

	/* the transition table */
	ok(gr__state_may(GR_ST_DEFINING, GR_ST_DEFINED) && gr__state_may(GR_ST_DEFINING, GR_ST_STARTING),
	   "defining -> defined | starting");
	ok(gr__state_may(GR_ST_STOPPED, GR_ST_STARTING) && gr__state_may(GR_ST_DEFINED, GR_ST_STARTING),
	   "defined | stopped -> starting");
	ok(!gr__state_may(GR_ST_RUNNING, GR_ST_STARTING), "running cannot start again");
	ok(!gr__state_may(GR_ST_RUNNING, GR_ST_DELETING), "running cannot be deleted without a stop");
	ok(!gr__state_may(GR_ST_DELETING, GR_ST_DEFINED), "deleting never comes back");
	ok(gr__state_may(GR_ST_STOPPING, GR_ST_RUNNING), "a failed stop leaves it running");
	ok(!gr__state_may(GR_ST_STARTING, GR_ST_STARTING), "starting is no resting state");
	int allowed = 0;
	for (int f = 0; f < GR_ST__COUNT; f++)
		for (int t = 0; t < GR_ST__COUNT; t++)
			allowed += gr__state_may(f, t);
	ok(gr__state_may(GR_ST_PENDING, GR_ST_DEFINING) && !gr__state_may(GR_ST_PENDING, GR_ST_STARTING) &&
		   !gr__state_may(GR_ST_PENDING, GR_ST_PENDING),
	   "pending -> defining only (the claim; the leader's assignment is no move)");
	is_int(allowed, 17, "exactly the 17 moves of the table are allowed");
	for (int st = 0; st < GR_ST__COUNT; st++)
		is_int(gr__state_parse(gr__state_name(st)), st, "state %s round-trips", gr__state_name(st));

	bad("{\"image\":\"busybox\"}", "name: required");
	bad("{\"name\":5,\"image\":\"busybox\"}", "name:");
	bad("{\"name\":\"x\",\"image\":\"i\",\"memory\":\"12222222222222M\"}", "memory:"); /* fuzz: > INT64_MAX */
	bad("{\"name\":\"web1\"}", "image: required");
	bad("{\"name\":\"web1\",\"image\":\"../etc\"}", "image:");
	bad("{\"name\":\"web1\",\"image\":\"busybox\",\"type\":\"jail\"}", "type:");
	bad("{\"name\":\"web1\",\"image\":\"busybox\",\"cpu\":-1}", "cpu:");
	bad("{\"name\":\"web1\",\"image\":\"busybox\",\"cpu\":\"2\"}", "cpu:");
	bad("{\"name\":\"web1\",\"image\":\"busybox\",\"memory\":\"1K\"}", "memory:");
	bad("{\"name\":\"web1\",\"image\":\"busybox\",\"memory\":[1]}", "memory:");
	bad("{\"name\":\"web1\",\"image\":\"busybox\",\"pids\":1.5}", "pids:");
	bad("{\"name\":\"web1\",\"image\":\"busybox\",\"env\":[\"=x\"]}", "env[0]:");
	bad("{\"name\":\"web1\",\"image\":\"busybox\",\"env\":[1]}", "env[0]:");
	bad("{\"name\":\"web1\",\"image\":\"busybox\",\"cmd\":[]}", "cmd:");
	bad("{\"name\":\"web1\",\"image\":\"busybox\",\"ephemeral\":\"yes\"}", "ephemeral:");
	bad("{\"name\":\"web1\",\"image\":\"busybox\",\"restart\":\"maybe\"}", "restart:");
	bad("{\"name\":\"web1\",\"image\":\"busybox\",\"privileged\":1}", "privileged:");
	bad("{\"name\":\"web1\",\"image\":\"busybox\",\"colour\":\"red\"}", "colour: unknown field");

	ok(create("{\"name\":\"web1\",\"image\":\"busybox\",\"options\":{\"a\":1,\"b\":2}}", &in,
		  &err) == 0, "minimal request");
	struct gr_instance m;
	json_t *ch = json_pack("{s:s,s:f,s:{s:n,s:i}}", "memory", "128M", "cpu", 2.0, "options", "a", "c", 3);
	ok(gr__inst_apply_config(&in, ch, &m, &err) == 0, "config change accepted: %s", err.msg);
	is_int(m.memory, 128 << 20, "memory changed");
	is_int(in.memory, 0, "original untouched");
	ok(!json_object_get(m.options, "a") && json_integer_value(json_object_get(m.options, "b")) == 2 &&
	   json_integer_value(json_object_get(m.options, "c")) == 3,
	   "options merged key by key, null removes a key");
	gr__inst_clear(&m);
	json_decref(ch);
	ch = json_pack("{s:[s]}", "cmd", "ls");
	ok(gr__inst_apply_config(&in, ch, &m, &err) < 0 && strstr(err.msg, "cmd"), "cmd cannot change: %s", err.msg);
	json_decref(ch);
	ch = json_object();
	ok(gr__inst_apply_config(&in, ch, &m, &err) < 0, "empty change refused");
	json_decref(ch);
	gr__inst_clear(&in);
	return tap_done();
}
