#!/usr/bin/env bash
# lxcfs.sh - limits are visible inside containers: gureumd runs lxcfs
# (mounted under its state folder) and binds its /proc and cpu/online files
# into each container, and pins a CPU-limited container to ceil(cpu) CPUs,
# so under --memory 64M --cpu 0.5 /proc/meminfo says 64M and nproc,
# /proc/cpuinfo and /sys/devices/system/cpu/online say 1 CPU.  lxcfs is
# adopted across a daemon restart, stopped with the daemon when nothing
# runs; a host without lxcfs still starts containers, with a warning.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
if ! command -v lxcfs >/dev/null; then skip "lxcfs not installed (make deps)"; tap_done; fi
start_daemon lxcfs; ok $? "gureumd starts"
ensure_busybox
MNT=$TD/state/lxcfs
grep -q " $MNT fuse.lxcfs " /proc/self/mounts; ok $? "lxcfs is mounted at <state>/lxcfs"
lxpid=$(cat "$TD/state/lxcfs.pid" 2>/dev/null)
[ -n "$lxpid" ] && [ "$(cat /proc/$lxpid/comm)" = lxcfs ]; ok $? "its pid file names a running lxcfs ($lxpid)"
host_cpus=$(nproc)

run_ok "launch with 64M and 0.5 CPU" "$G" launch busybox lx-small --memory 64M --cpu 0.5
memtotal=$("$G" exec lx-small -- awk '/^MemTotal:/{print $2}' /proc/meminfo)
[ "$memtotal" = 65536 ]; ok $? "MemTotal is 64M: $memtotal kB"
# (procps free reads /proc/meminfo; busybox's free asks sysinfo(2), which lxcfs cannot change)
avail=$("$G" exec lx-small -- awk '/^MemAvailable:/{print $2}' /proc/meminfo)
[ "$avail" -le 65536 ]; ok $? "MemAvailable is within the limit: $avail kB"
[ "$("$G" exec lx-small -- nproc)" = 1 ]; ok $? "nproc says 1 (host: $host_cpus)"
online=$("$G" exec lx-small -- cat /sys/devices/system/cpu/online)
[ "$online" = 0 ]; ok $? "/sys/devices/system/cpu/online says one CPU (got: $online)"
[ "$("$G" exec lx-small -- grep -c ^processor /proc/cpuinfo)" = 1 ]; ok $? "/proc/cpuinfo lists 1 processor"
[ "$("$G" exec lx-small -- grep -c '^cpu[0-9]' /proc/stat)" = 1 ]; ok $? "/proc/stat has 1 cpu line"
up=$("$G" exec lx-small -- cut -d. -f1 /proc/uptime); hup=$(cut -d. -f1 /proc/uptime)
[ "$up" -lt "$hup" ]; ok $? "/proc/uptime is the container's ($up s), not the host's ($hup s)"
"$G" exec lx-small -- grep -q " /proc/meminfo fuse.lxcfs " /proc/self/mounts; ok $? "/proc/meminfo is the lxcfs file"

run_ok "launch without limits" "$G" launch busybox lx-free
[ "$("$G" exec lx-free -- awk '/^MemTotal:/{print $2}' /proc/meminfo)" = "$(awk '/^MemTotal:/{print $2}' /proc/meminfo)" ]; ok $? "no limit: the host's MemTotal"
[ "$("$G" exec lx-free -- nproc)" = "$host_cpus" ]; ok $? "no limit: every CPU"
run_ok "a privileged container gets the files too" "$G" launch busybox lx-priv --privileged --memory 32M
[ "$("$G" exec lx-priv -- awk '/^MemTotal:/{print $2}' /proc/meminfo)" = 32768 ]; ok $? "privileged: MemTotal 32M"

run_ok "config set memory=128M live" "$G" config set lx-small memory=128M
[ "$("$G" exec lx-small -- awk '/^MemTotal:/{print $2}' /proc/meminfo)" = 131072 ]; ok $? "MemTotal follows the live change"
if [ "$host_cpus" -ge 2 ]; then
	run_ok "config set cpu=$host_cpus live" "$G" config set lx-small cpu=$host_cpus
	[ "$("$G" exec lx-small -- nproc)" = "$host_cpus" ]; ok $? "nproc follows: the pin is lifted"
fi

# daemon restart: lxcfs is adopted, containers keep reading through it
stop_daemon
grep -q " $MNT fuse.lxcfs " /proc/self/mounts; ok $? "lxcfs stays while containers run and the daemon is down"
start_daemon lxcfs; ok $? "daemon restarted"
[ "$(cat "$TD/state/lxcfs.pid")" = "$lxpid" ]; ok $? "the same lxcfs is adopted"
[ "$("$G" exec lx-priv -- awk '/^MemTotal:/{print $2}' /proc/meminfo)" = 32768 ]; ok $? "containers read through it after the restart"

# lxcfs dies: the daemon's tick starts another; new containers get live files
kill -9 "$lxpid"
newpid=""
for _ in $(seq 1 100); do # bounded wait for the 1 s tick
	newpid=$(cat "$TD/state/lxcfs.pid" 2>/dev/null)
	[ -n "$newpid" ] && [ "$newpid" != "$lxpid" ] && grep -q " $MNT fuse.lxcfs " /proc/self/mounts && break
	sleep 0.1
done
[ -n "$newpid" ] && [ "$newpid" != "$lxpid" ] && [ "$(cat /proc/$newpid/comm 2>/dev/null)" = lxcfs ]; ok $? "a killed lxcfs is replaced (pid $lxpid -> $newpid)"
grep -q "lxcfs (pid $lxpid) exited" "$TD/daemon.log"; ok $? "the daemon logs that it died"
run_ok "launch after the restart of lxcfs" "$G" launch busybox lx-new --memory 48M
[ "$("$G" exec lx-new -- awk '/^MemTotal:/{print $2}' /proc/meminfo)" = 49152 ]; ok $? "the new container reads MemTotal 48M"
lxpid=$newpid

# everything deleted, daemon stopped: lxcfs and its mount are gone
for n in lx-small lx-free lx-priv lx-new; do "$G" delete --force $n >/dev/null; done
stop_daemon
! grep -q " $MNT " /proc/self/mounts; ok $? "the fuse mount is gone with the daemon"
dead "$lxpid"; ok $? "lxcfs has exited"

# a host without lxcfs: containers start, the log says why limits are not visible
start_daemon lxcfs --lxcfs /nonexistent/lxcfs; ok $? "gureumd starts without lxcfs"
grep -q "lxcfs" "$TD/daemon.log" && grep -i "warn" "$TD/daemon.log" | grep -q "lxcfs"; ok $? "a warning is logged"
run_ok "a container still starts" "$G" launch busybox lx-none --memory 64M
[ "$("$G" exec lx-none -- awk '/^MemTotal:/{print $2}' /proc/meminfo)" = "$(awk '/^MemTotal:/{print $2}' /proc/meminfo)" ]; ok $? "it sees the host's /proc/meminfo"
grep "lx-none" "$TD/daemon.log" | grep -q "lxcfs is not running"; ok $? "its start logs the warning"
"$G" delete --force lx-none >/dev/null
[ -z "$(leftovers)" ]; ok $? "no leftover mounts or cgroups"
tap_done
