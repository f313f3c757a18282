/*
 * test_backend.c - the workload class -> backend decision (backend.c) and the
 * image-kind check, and how create requests record them (no store, no host).
 */
#include <errno.h>
#include <string.h>
#include "control/control-internal.h"
#include "tap.h"

/* kind: the image's; the choice must suit it */
static void choose_k(const char *cls, const char *type, const char *kind, const char *want_cls,
		     const char *want_type, const char *reason_part)
{
	struct gr__backend b;
	gr_error_t err = { 0 };
	int r = gr__backend_choose(cls, type, "img", kind, &b, &err);
	ok(r == 0 && !strcmp(gr__class_name(b.cls), want_cls) &&
	   !strcmp(gr__backend_name(b.type), want_type) && strstr(b.reason, reason_part) != NULL,
	   "class %s, type %s, %s image -> %s/%s: %s", cls ? cls : "-", type ? type : "-", kind, want_cls,
	   want_type, r == 0 ? b.reason : err.msg);
}

static void choose(const char *cls, const char *type, const char *want_cls, const char *want_type,
		   const char *reason_part)
{
	choose_k(cls, type, !strcmp(want_type, "vm") ? "qcow2" : "rootfs", want_cls, want_type,
		 reason_part);
}

static void image(const char *cls, const char *type, const char *kind, int want_ok,
		  const char *msg_part)
{
	struct gr__backend b;
	gr_error_t err = { 0 };
	int r = gr__backend_choose(cls, type, "img", kind, &b, &err);
	if (want_ok)
		ok(r == 0, "%s image serves %s/%s", kind, cls ? cls : "-", type ? type : "-");
	else
		ok(r < 0 && err.code == EINVAL && !strncmp(err.msg, "image: 'img' is ", 16) &&
		   strstr(err.msg, msg_part) != NULL,
		   "%s image refused for %s/%s: %s", kind ? kind : "(null)", cls ? cls : "-",
		   type ? type : "-", err.msg);
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
	ok(gr__backend_choose("gold", NULL, "img", "rootfs", &b, &err) < 0 && err.code == EINVAL &&
	   !strncmp(err.msg, "class:", 6), "unknown class refused naming the field: %s", err.msg);
	ok(gr__backend_choose(NULL, "lxc", "img", "rootfs", &b, &err) < 0 && err.code == EINVAL &&
	   !strncmp(err.msg, "type:", 5), "unknown type refused naming the field: %s", err.msg);

	image(NULL, NULL, "rootfs", 1, "");
	image("critical", NULL, "qcow2", 1, "");
	image(NULL, "vm", "qcow2", 1, "");
	image("critical", NULL, "rootfs", 0, "a rootfs image");
	image("critical", NULL, "rootfs", 0, "give --container");
	image(NULL, "vm", "rootfs", 0, "cannot serve a VM");
	/* no class, no type: the image decides */
	choose_k(NULL, NULL, "qcow2", "critical", "vm", "image 'img' is a VM disk");
	choose_k(NULL, NULL, "rootfs", "elastic", "container", "no class given: elastic");
	image("elastic", NULL, "qcow2", 0, "a qcow2 image (a VM disk)");
	image("critical", "container", "qcow2", 0, "cannot serve a container");
	image(NULL, NULL, NULL, 0, "unknown kind");

	return tap_done();
}
