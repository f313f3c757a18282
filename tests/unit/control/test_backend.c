/*
 * test_backend.c - the workload class -> backend decision (backend.c) and the
 * image-kind check, and how create requests record them (no store, no host).
 */
#include <errno.h>
#include <string.h>
#include "control/control-internal.h"
#include "tap.h"

static void choose(const char *cls, const char *type, const char *want_cls, const char *want_type,
		   const char *reason_part)
{
	struct gr__backend b;
	gr_error_t err = { 0 };
	int r = gr__backend_choose(cls, type, &b, &err);
	ok(r == 0 && !strcmp(b.cls, want_cls) && !strcmp(b.type, want_type) &&
	   strstr(b.reason, reason_part) != NULL,
	   "class %s, type %s -> %s/%s: %s", cls ? cls : "-", type ? type : "-", want_cls, want_type,
	   r == 0 ? b.reason : err.msg);
}

static void image(const char *cls, const char *type, const char *kind, int want_ok,
		  const char *msg_part)
{
	struct gr__backend b;
	gr_error_t err = { 0 };
	int r = gr__backend_choose(cls, type, &b, &err);
	if (r == 0)
		r = gr__backend_check_image(&b, "img", kind, &err);
	if (want_ok)
		ok(r == 0, "%s image serves %s/%s", kind, cls ? cls : "-", type ? type : "-");
	else
		ok(r < 0 && err.code == EINVAL && !strncmp(err.msg, "image: 'img' is ", 16) &&
		   strstr(err.msg, msg_part) != NULL,
		   "%s image refused for %s/%s: %s", kind ? kind : "(null)", cls ? cls : "-",
		   type ? type : "-", err.msg);
}

static json_t *doc_of(const char *json)
{
	json_t *req = json_loads(json, 0, NULL), *doc = NULL;
	gr_error_t err = { 0 };
	if (gr__inst_from_request(req, &doc, &err) < 0)
		diag("%s: %s", json, err.msg);
	json_decref(req);
	return doc;
}

int main(void)
{
	choose(NULL, NULL, "elastic", "container", "no class given: elastic");
	choose("critical", NULL, "critical", "vm", "class critical: strong isolation by default");
	choose("elastic", NULL, "elastic", "container", "class elastic: speed, density");
	choose(NULL, "vm", "critical", "vm", "--vm given; class critical assumed");
	choose(NULL, "container", "elastic", "container", "--container given");
	choose("critical", "container", "critical", "container",
	       "--container given; class critical would default to a VM");
	choose("elastic", "vm", "elastic", "vm", "--vm given; class elastic would default to a container");
	choose("critical", "vm", "critical", "vm", "defaults to a VM too");

	struct gr__backend b;
	gr_error_t err = { 0 };
	ok(gr__backend_choose("gold", NULL, &b, &err) < 0 && err.code == EINVAL &&
	   !strncmp(err.msg, "class:", 6), "unknown class refused naming the field: %s", err.msg);
	ok(gr__backend_choose(NULL, "lxc", &b, &err) < 0 && err.code == EINVAL &&
	   !strncmp(err.msg, "type:", 5), "unknown type refused naming the field: %s", err.msg);

	image(NULL, NULL, "rootfs", 1, "");
	image("critical", NULL, "qcow2", 1, "");
	image(NULL, "vm", "qcow2", 1, "");
	image("critical", NULL, "rootfs", 0, "a rootfs image");
	image("critical", NULL, "rootfs", 0, "give --container");
	image(NULL, "vm", "rootfs", 0, "cannot serve a VM");
	image(NULL, NULL, "qcow2", 0, "a qcow2 image (a VM disk)");
	image("critical", "container", "qcow2", 0, "cannot serve a container");
	image(NULL, NULL, NULL, 0, "unknown kind");

	json_t *d = doc_of("{\"name\":\"a\",\"image\":\"i\",\"class\":\"critical\"}");
	ok(d && !strcmp(json_string_value(json_object_get(d, "type")), "vm") &&
	   !strcmp(json_string_value(json_object_get(d, "class")), "critical") &&
	   !strcmp(json_string_value(json_object_get(d, "backend")),
		   "vm (class critical: strong isolation by default)"),
	   "the document records class, type and backend: %s",
	   d ? json_string_value(json_object_get(d, "backend")) : "(none)");
	json_decref(d);
	d = doc_of("{\"name\":\"a\",\"image\":\"i\",\"class\":\"critical\",\"type\":\"container\"}");
	ok(d && !strcmp(json_string_value(json_object_get(d, "backend")),
			"container (--container given; class critical would default to a VM)") &&
	   strstr(json_string_value(json_object_get(d, "backend_reason")), "would default") != NULL,
	   "an override is recorded with the class default it overrode");
	json_decref(d);
	d = doc_of("{\"name\":\"a\",\"image\":\"i\"}");
	ok(d && !strcmp(json_string_value(json_object_get(d, "class")), "elastic") &&
	   !strcmp(json_string_value(json_object_get(d, "type")), "container"),
	   "no class, no type: elastic container");
	json_t *merged = NULL;
	json_t *ch = json_pack("{s:s}", "class", "critical");
	ok(d && gr__inst_apply_config(d, ch, &merged, &err) < 0 && !strncmp(err.msg, "class:", 6),
	   "class cannot be changed by config: %s", err.msg);
	json_decref(ch);
	json_decref(merged);
	json_decref(d);
	json_t *req = json_pack("{s:s,s:s,s:i}", "name", "a", "image", "i", "class", 1);
	json_t *dd = NULL;
	ok(gr__inst_from_request(req, &dd, &err) < 0 && !strncmp(err.msg, "class:", 6),
	   "a non-string class is refused: %s", err.msg);
	json_decref(req);
	return tap_done();
}
