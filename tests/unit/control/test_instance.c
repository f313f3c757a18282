/*
 * test_instance.c - validation of outside input into instance documents:
 * names, sizes, create requests and config changes (no store, no host).
 */
#include <errno.h>
#include <string.h>
#include "control/control-internal.h"
#include "tap.h"

static int create(const char *json, json_t **doc, gr_error_t *err)
{
	json_t *req = json_loads(json, 0, NULL);
	if (!req)
		return gr_error_set(err, EINVAL, "test: bad JSON in the test itself");
	int r = gr__inst_from_request(req, doc, err);
	json_decref(req);
	return r;
}

static void bad(const char *json, const char *field)
{
	json_t *doc = NULL;
	gr_error_t err = { 0 };
	int r = create(json, &doc, &err);
	ok(r < 0 && err.code == EINVAL && strncmp(err.msg, field, strlen(field)) == 0,
	   "rejects %s: %s", json, err.msg);
	json_decref(doc);
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

	json_t *doc = NULL;
	ok(create("{\"name\":\"web1\",\"image\":\"busybox\",\"memory\":\"64M\",\"cpu\":0.5,"
		  "\"env\":[\"A=B\"],\"restart\":\"always\",\"ephemeral\":true}", &doc, &err) == 0,
	   "a full request is accepted");
	is_int(json_integer_value(json_object_get(doc, "memory")), 64 << 20, "memory in bytes");
	is_str(json_string_value(json_object_get(doc, "type")), "container", "type defaults to container");
	is_str(json_string_value(json_object_get(doc, "restart")), "always", "restart kept");
	ok(json_is_true(json_object_get(doc, "ephemeral")), "ephemeral kept");
	ok(json_object_get(doc, "state") == NULL, "no state before the state machine sets one");

	struct gr_control c = { .inst_dir = "/x/instances" };
	struct gr__spec_holder h;
	gr__spec_from_doc(&c, doc, &h);
	json_decref(doc);
	is_str(h.spec.name, "web1", "spec name (copied; doc released)");
	is_str(h.spec.dir, "/x/instances/web1", "spec dir");
	ok(h.spec.memory == 64u << 20 && h.spec.cpu == 0.5 && h.spec.ephemeral, "spec limits");
	is_str(h.spec.env[0], "A=B", "spec env");
	ok(h.spec.cmd == NULL, "no cmd: the driver's default");
	gr__spec_clear(&h);

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
	bad("{\"name\":\"web1\",\"image\":\"busybox\",\"colour\":\"red\"}", "colour: unknown field");

	ok(create("{\"name\":\"web1\",\"image\":\"busybox\"}", &doc, &err) == 0, "minimal request");
	json_t *ch = json_pack("{s:s,s:f}", "memory", "128M", "cpu", 2.0), *m = NULL;
	ok(gr__inst_apply_config(doc, ch, &m, &err) == 0, "config change accepted");
	is_int(json_integer_value(json_object_get(m, "memory")), 128 << 20, "memory changed");
	is_int(json_integer_value(json_object_get(doc, "memory")), 0, "original untouched");
	json_decref(m);
	json_decref(ch);
	ch = json_pack("{s:[s]}", "cmd", "ls");
	ok(gr__inst_apply_config(doc, ch, &m, &err) < 0 && strstr(err.msg, "cmd"), "cmd cannot change: %s", err.msg);
	json_decref(ch);
	ch = json_object();
	ok(gr__inst_apply_config(doc, ch, &m, &err) < 0, "empty change refused");
	json_decref(ch);
	json_decref(doc);
	return tap_done();
}
