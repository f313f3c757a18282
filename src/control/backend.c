/*
 * backend.c - the workload class and the backend it implies (seed 004).
 *
 * An instance has a class: "critical" (wants strong isolation: a VM by
 * default) or "elastic" (wants speed, density and live resizing: a container
 * by default).  An explicit type ("vm"/"container", the CLI's --vm and
 * --container) overrides the class default; with neither, the class is
 * elastic, and a type alone implies the class it would default from.  The
 * choice and the reason for it are recorded in the instance document
 * ("class", "type", "backend_reason", and "backend" = "TYPE (REASON)"), so
 * `gureum show` says why.  The image must suit the backend: a rootfs image
 * only serves containers, a qcow2 disk only VMs.  Pure functions: no store,
 * no host.
 */
#include "control/control-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *class_default(const char *cls)
{
	return !strcmp(cls, "critical") ? "vm" : "container";
}

static const char *class_why(const char *cls)
{
	return !strcmp(cls, "critical") ? "strong isolation" : "speed, density and live resizing";
}

static const char *type_word(const char *type)
{
	return !strcmp(type, "vm") ? "a VM" : "a container";
}

int gr__backend_choose(const char *cls, const char *type, struct gr__backend *out, gr_error_t *err)
{
	memset(out, 0, sizeof *out);
	if (cls && strcmp(cls, "critical") && strcmp(cls, "elastic"))
		return gr_error_set(err, EINVAL, "class: expected \"critical\" or \"elastic\", not '%.40s'",
				    cls);
	if (type && strcmp(type, "vm") && strcmp(type, "container"))
		return gr_error_set(err, EINVAL, "type: expected \"container\" or \"vm\"");
	if (!cls && !type) {
		out->cls = "elastic";
		out->type = "container";
		snprintf(out->reason, sizeof out->reason,
			 "no class given: elastic, so speed, density and live resizing by default");
	} else if (!type) {
		out->cls = !strcmp(cls, "critical") ? "critical" : "elastic";
		out->type = class_default(out->cls);
		snprintf(out->reason, sizeof out->reason, "class %s: %s by default", out->cls,
			 class_why(out->cls));
	} else if (!cls) {
		out->type = !strcmp(type, "vm") ? "vm" : "container";
		out->cls = !strcmp(out->type, "vm") ? "critical" : "elastic";
		snprintf(out->reason, sizeof out->reason, "--%s given; class %s assumed", out->type,
			 out->cls);
	} else {
		out->cls = !strcmp(cls, "critical") ? "critical" : "elastic";
		out->type = !strcmp(type, "vm") ? "vm" : "container";
		const char *def = class_default(out->cls);
		if (strcmp(def, out->type))
			snprintf(out->reason, sizeof out->reason,
				 "--%s given; class %s would default to %s", out->type, out->cls,
				 type_word(def));
		else
			snprintf(out->reason, sizeof out->reason,
				 "--%s given; class %s defaults to %s too", out->type, out->cls,
				 type_word(def));
	}
	out->type_given = type != NULL;
	out->class_given = cls != NULL;
	return 0;
}

int gr__backend_check_image(const struct gr__backend *b, const char *image, const char *kind,
			    gr_error_t *err)
{
	bool vm = !strcmp(b->type, "vm");
	const char *want = vm ? GR_IMAGE_KIND_QCOW2 : GR_IMAGE_KIND_ROOTFS;
	if (kind && !strcmp(kind, want))
		return 0;
	const char *what = !kind ? "of an unknown kind"
			   : !strcmp(kind, GR_IMAGE_KIND_ROOTFS) ? "a rootfs image (a container root file system)"
			   : !strcmp(kind, GR_IMAGE_KIND_QCOW2) ? "a qcow2 image (a VM disk)"
								: "of an unknown kind";
	const char *hint;
	if (b->type_given)
		hint = vm ? "launch it as a container, or use a qcow2 VM image"
			  : "launch it as a VM (--vm), or use a rootfs container image";
	else
		hint = vm ? "class critical defaults to a VM: give --container (type \"container\") "
			    "to run it as a container, or use a qcow2 VM image"
			  : "give --vm (type \"vm\") or class critical to boot it as a VM";
	return gr_error_set(err, EINVAL, "image: '%s' is %s, which cannot serve %s; %s", image, what,
			    type_word(b->type), hint);
}
