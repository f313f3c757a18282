/*
 * driver.c - the driver table: every back-end's ops, found by backend or by
 * its JSON name.  Adding a back-end is one line in gr_drivers[].
 */
#include "agent/driver.h"

#include <string.h>
#include "util/alloc.h"

const struct gr_driver_ops *const gr_drivers[] = { &gr_driver_container, &gr_driver_vm, NULL };

const struct gr_driver_ops *gr_driver_of(enum gr_backend b)
{
	for (size_t i = 0; gr_drivers[i]; i++)
		if (gr_drivers[i]->backend == b)
			return gr_drivers[i];
	return NULL;
}

const struct gr_driver_ops *gr_driver_lookup(const char *type)
{
	if (!type)
		return &gr_driver_container;
	for (size_t i = 0; gr_drivers[i]; i++)
		if (!strcmp(gr_drivers[i]->name, type))
			return gr_drivers[i];
	return NULL;
}

char *gr_inst_log_path(const struct gr_inst_spec *s)
{
	return xasprintf("%s/console.log", s->dir);
}
