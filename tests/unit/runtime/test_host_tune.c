/* Unit tests for host_tune.c: recognising the cgroup2 mount in mountinfo and the
 * flags a favordynmods remount must keep. */
#include "tap.h"
#include "runtime/runtime.h"

#include <sys/mount.h>

int main(void)
{
	char t[256];
	unsigned long fl = 1234;
	int fav = -1;
	is_int(gr_rt_mountinfo_cgroup2("41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
				       t, sizeof t, &fl, &fav), 1, "hybrid cgroup2 mount found");
	is_str(t, "/sys/fs/cgroup/unified", "its target");
	is_int(fl, MS_RELATIME, "relatime kept, nothing else");
	is_int(fav, 0, "favordynmods not on");
	is_int(gr_rt_mountinfo_cgroup2("29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - "
				       "cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot,favordynmods",
				       t, sizeof t, &fl, &fav), 1, "pure v2 mount with optional fields found");
	is_int(fl, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME, "nosuid,nodev,noexec,relatime kept");
	is_int(fav, 1, "favordynmods seen among the super options");
	is_int(gr_rt_mountinfo_cgroup2("35 29 0:31 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory",
				       t, sizeof t, &fl, &fav), 0, "a v1 hierarchy is not cgroup2");
	is_int(gr_rt_mountinfo_cgroup2("garbage", t, sizeof t, &fl, &fav), 0, "garbage line ignored");
	is_int(gr_rt_mountinfo_cgroup2("41 31 0:38 / /x rw - cgroup2", t, sizeof t, &fl, &fav), 0,
	       "truncated line ignored");
	is_int(gr_rt_mountinfo_cgroup2("41 31 0:38 / /a/very/long/target rw - cgroup2 cgroup2 rw", t, 8, &fl, &fav),
	       0, "target longer than the buffer refused");
	return tap_done();
}
