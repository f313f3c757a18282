/*
 * control_request.c - libFuzzer target for instance-create bodies (POST
 * /v1/instances comes from outside) and config changes (PATCH .../config):
 * gr__inst_from_request either refuses with EINVAL and a message naming a
 * field, or returns an instance whose every field is valid (name rule,
 * limits in range); the class/type choice either refuses naming its field or
 * agrees with the image kind; the same body as config changes on that
 * instance is refused the same way or keeps what is fixed at creation; the
 * instance's record decodes back to the same text (the codec round trip);
 * the instance always turns into a driver view.  Pure: no store, no host.
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

static void check_inst(const struct gr_instance *in)
{
	gr_error_t err = { 0 };
	if (gr_name_valid("name", in->name, &err) < 0)
		abort();
	if (in->memory && (in->memory < (4u << 20) || in->memory > (uint64_t)INT64_MAX))
		abort();
	if (in->cpu < 0 || in->cpu > 1024)
		abort();
	if (in->cmd && !in->cmd[0])
		abort();
	if (!in->env || !json_is_object(in->options))
		abort();
}

static void round_trip(const struct gr_instance *in)
{
	size_t len;
	char *text = gr__inst_encode(in, &len);
	struct gr_instance back;
	gr_error_t err = { 0 };
	if (gr__inst_decode(text, len, &back, &err) < 0)
		abort();
	char *again = gr__inst_encode(&back, NULL);
	if (strcmp(text, again))
		abort();
	free(again);
	free(text);
	gr__inst_clear(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *req = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	if (!req)
		return 0;
	struct gr_instance in;
	const char *cls = NULL, *type = NULL;
	gr_error_t err = { 0 };
	if (gr__inst_from_request(req, &in, &cls, &type, &err) < 0) {
		refused(&err);
		json_decref(req);
		return 0;
	}
	check_inst(&in);
	struct gr__backend b;
	const char *kind = size % 2 ? GR_IMAGE_KIND_QCOW2 : GR_IMAGE_KIND_ROOTFS;
	if (gr__backend_choose(cls, type, in.image, kind, &b, &err) < 0) {
		refused(&err);
	} else {
		if ((b.type == GR_BACKEND_VM) != !strcmp(kind, GR_IMAGE_KIND_QCOW2))
			abort(); /* the image must suit the backend */
		in.backend = b.type;
		in.cls = b.cls;
	}
	round_trip(&in);

	struct gr_instance merged;
	gr_error_t e2 = { 0 };
	if (gr__inst_apply_config(&in, req, &merged, &e2) < 0) {
		refused(&e2);
	} else {
		check_inst(&merged);
		if (strcmp(in.name, merged.name) || in.backend != merged.backend ||
		    strcmp(in.image, merged.image))
			abort(); /* config never changes what is fixed at creation */
		round_trip(&merged);
		gr__inst_clear(&merged);
	}

	struct gr_control c;
	memset(&c, 0, sizeof c);
	c.inst_dir = (char *)"/nonexistent/instances";
	struct gr_inst_spec s;
	char dir[GR__DIR_MAX];
	gr__spec_of(&c, &in, &s, dir);
	if (strcmp(s.name, in.name) || s.backend != in.backend)
		abort();
	gr__inst_clear(&in);
	json_decref(req);
	return 0;
}
