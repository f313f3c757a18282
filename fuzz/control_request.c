/*
 * control_request.c - libFuzzer target for instance-create bodies (POST
 * /v1/instances comes from outside) and config changes (PATCH .../config):
 * gr__inst_from_request either refuses with EINVAL and a message naming a
 * field, or returns a document whose every field is valid (name rule, type
 * and class consistent with the recorded backend, limits in range); the same
 * body as config changes on that document is refused the same way or keeps
 * what is fixed at creation; the document always turns into a driver spec.
 * Pure: no store, no host.
 */
#include "control/control-internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void refused(const gr_error_t *err)
{
	/* a refusal is bad input and names its field ("field: ...") */
	if (err->code != EINVAL || !err->msg[0] || !strchr(err->msg, ':'))
		abort();
}

static void check_doc(const json_t *doc)
{
	gr_error_t err = { 0 };
	const char *name = json_string_value(json_object_get(doc, "name"));
	const char *type = json_string_value(json_object_get(doc, "type"));
	const char *cls = json_string_value(json_object_get(doc, "class"));
	const char *backend = json_string_value(json_object_get(doc, "backend"));
	if (!name || gr_name_valid("name", name, &err) < 0)
		abort();
	if (!type || (strcmp(type, "vm") && strcmp(type, "container")))
		abort();
	if (!cls || (strcmp(cls, "critical") && strcmp(cls, "elastic")))
		abort();
	if (!backend || strncmp(backend, type, strlen(type)) || backend[strlen(type)] != ' ')
		abort();
	json_int_t mem = json_integer_value(json_object_get(doc, "memory"));
	if (mem < 0 || (mem && mem < (4 << 20)))
		abort();
	double cpu = json_number_value(json_object_get(doc, "cpu"));
	if (cpu < 0 || cpu > 1024)
		abort();
	json_t *cmd = json_object_get(doc, "cmd");
	if (!json_is_null(cmd) && (!json_is_array(cmd) || !json_array_size(cmd)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *req = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	if (!req)
		return 0;
	json_t *doc = NULL;
	gr_error_t err = { 0 };
	if (gr__inst_from_request(req, &doc, &err) < 0) {
		refused(&err);
		json_decref(req);
		return 0;
	}
	check_doc(doc);

	json_t *merged = NULL;
	gr_error_t e2 = { 0 };
	if (gr__inst_apply_config(doc, req, &merged, &e2) < 0) {
		refused(&e2);
	} else {
		check_doc(merged);
		if (!json_equal(json_object_get(doc, "name"), json_object_get(merged, "name")) ||
		    !json_equal(json_object_get(doc, "type"), json_object_get(merged, "type")))
			abort(); /* config never changes what is fixed at creation */
		json_decref(merged);
	}

	struct gr_control c;
	memset(&c, 0, sizeof c);
	c.inst_dir = (char *)"/nonexistent/instances";
	struct gr__spec_holder h;
	gr__spec_from_doc(&c, doc, &h);
	if (strcmp(h.spec.name, json_string_value(json_object_get(doc, "name"))) ||
	    strcmp(h.spec.type, json_string_value(json_object_get(doc, "type"))))
		abort();
	gr__spec_clear(&h);
	json_decref(doc);
	json_decref(req);
	return 0;
}
