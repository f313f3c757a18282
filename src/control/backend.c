/*
 * backend.c - the workload class and the backend it implies (seed 004).
 *
 * An instance has a class: "critical" (wants strong isolation: a VM by
 * default) or "elastic" (wants speed, density and live resizing: a container
 * by default).  An explicit type ("vm"/"container", the CLI's --vm and
 * --container) overrides the class default, and a type alone implies the
 * class it would default from.  With neither, the image decides: a VM disk
 * boots as a VM (class critical), a root file system runs as a container
 * (class elastic).  The choice and the reason for it are recorded in the
 * instance ("class", "type", "backend_reason"), so `gureum show` says why.
 * The image must suit the backend: a rootfs image only serves containers, a
 * qcow2 disk only VMs; a contradiction is an error naming the image, its kind
 * and the way out.  Pure functions: no store, no host.
 */
#include "control/control-internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static enum gr_backend class_default(enum gr_inst_class cls)
{
	return cls == GR_CLASS_CRITICAL ? GR_BACKEND_VM : GR_BACKEND_CONTAINER;
}

static const char *class_why(enum gr_inst_class cls)
{
	return cls == GR_CLASS_CRITICAL ? "strong isolation" : "speed, density and live resizing";
}

static const char *type_word(enum gr_backend type)
{
	return type == GR_BACKEND_VM ? "a VM" : "a container";
}

static int check_image(const struct gr__backend *b, const char *image, const char *kind,
		       gr_error_t *err)
{
	bool vm = b->type == GR_BACKEND_VM;
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

int gr__backend_choose(const char *cls, const char *type, const char *image,
		       const char *image_kind, struct gr__backend *out, gr_error_t *err)
{
	memset(out, 0, sizeof *out);
	if (cls && strcmp(cls, "critical") && strcmp(cls, "elastic"))
		return gr_error_set(err, EINVAL, "class: expected \"critical\" or \"elastic\", not '%.40s'",
				    cls);
	if (type && strcmp(type, "vm") && strcmp(type, "container"))
		return gr_error_set(err, EINVAL, "type: expected \"container\" or \"vm\"");
	enum gr_inst_class c = cls && !strcmp(cls, "critical") ? GR_CLASS_CRITICAL : GR_CLASS_ELASTIC;
	enum gr_backend t = type && !strcmp(type, "vm") ? GR_BACKEND_VM : GR_BACKEND_CONTAINER;
	out->type_given = type != NULL;
	out->class_given = cls != NULL;
	if (!cls && !type) {
		bool disk = image_kind && !strcmp(image_kind, GR_IMAGE_KIND_QCOW2);
		out->from_image = true;
		out->type = disk ? GR_BACKEND_VM : GR_BACKEND_CONTAINER;
		out->cls = disk ? GR_CLASS_CRITICAL : GR_CLASS_ELASTIC;
		if (disk)
			snprintf(out->reason, sizeof out->reason,
				 "no class given: image '%s' is a VM disk, so a VM, class critical", image);
		else
			snprintf(out->reason, sizeof out->reason,
				 "no class given: elastic, so speed, density and live resizing by default");
	} else if (!type) {
		out->cls = c;
		out->type = class_default(c);
		snprintf(out->reason, sizeof out->reason, "class %s: %s by default", gr__class_name(c),
			 class_why(c));
	} else if (!cls) {
		out->type = t;
		out->cls = t == GR_BACKEND_VM ? GR_CLASS_CRITICAL : GR_CLASS_ELASTIC;
		snprintf(out->reason, sizeof out->reason, "--%s given; class %s assumed",
			 gr__backend_name(t), gr__class_name(out->cls));
	} else {
		out->cls = c;
		out->type = t;
		enum gr_backend def = class_default(c);
		snprintf(out->reason, sizeof out->reason, "--%s given; class %s %s %s%s",
			 gr__backend_name(t), gr__class_name(c),
			 def != t ? "would default to" : "defaults to", type_word(def),
			 def != t ? "" : " too");
	}
	return check_image(out, image, image_kind, err);
}
