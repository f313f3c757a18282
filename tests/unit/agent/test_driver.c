/*
 * test_driver.c - the driver table: lookup by type and the container
 * driver's fixed parts (no host work).
 */
#include <stdlib.h>
#include <string.h>
#include "agent/driver.h"
#include "tap.h"

int main(void)
{
	const struct gr_driver_ops *d = gr_driver_lookup("container");
	ok(d == &gr_driver_container, "container driver found");
	ok(gr_driver_lookup(NULL) == &gr_driver_container, "no type means container");
	ok(gr_driver_lookup("jail") == NULL, "unknown type has no driver");
	ok(gr_driver_lookup("vm") == &gr_driver_vm, "vm driver found");
	is_str(d->name, "container", "name");
	ok(d->define && d->start && d->stop && d->kill && d->cleanup && d->delete && d->state,
	   "every mandatory op is set");
	ok(d->exec && d->update && d->stats && d->console, "exec, update, stats, console are set");
	struct gr_inst_spec s = { .name = "x", .dir = "/var/lib/gureum/instances/x" };
	char *p = gr_inst_log_path(&s);
	is_str(p, "/var/lib/gureum/instances/x/console.log", "log path");
	free(p);
	return tap_done();
}
