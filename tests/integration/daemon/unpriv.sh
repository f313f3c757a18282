#!/usr/bin/env bash
# unpriv.sh - containers are unprivileged by default: each gets a user
# namespace with its own host ID range (recorded under <state>/idranges),
# container root is not host root, two instances get disjoint ranges,
# --privileged gives the identity map, and a deleted instance's range comes
# back.  exec, console, stop/start, restart, snapshots and a daemon restart
# keep working for unprivileged instances; without idmapped mounts a shifted
# copy of the master is used.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
BASE=1200000 # its own base: ranges of other test daemons never matter here
start_daemon unpriv --idmap-base $BASE; ok $? "gureumd starts (--idmap-base $BASE)"
ensure_busybox

# uid_map of a running instance as "inside outside count"
umap() { "$G" exec "$1" -- cat /proc/self/uid_map | awk '{print $1, $2, $3}'; }

run_ok "launch a default (unprivileged) container" "$G" launch busybox up-a
[ "$(field up-a privileged)" = False ]; ok $? "show: privileged false"
"$G" show up-a | grep -q '^privileged: false'; ok $? "gureum show prints privileged: false"
map_a=$(umap up-a)
[ "$map_a" = "0 $BASE 65536" ]; ok $? "uid_map is 0 -> $BASE, 65536 IDs (got: $map_a)"
[ "$("$G" exec up-a -- cat /proc/self/gid_map | awk '{print $1, $2, $3}')" = "0 $BASE 65536" ]; ok $? "gid_map is the same range"
[ "$("$G" exec up-a -- id -u)" = 0 ]; ok $? "the process is root inside"
pid=$(field up-a pid)
[ "$(awk '/^Uid:/{print $2}' /proc/$pid/status)" = $BASE ]; ok $? "its main process runs as host uid $BASE"

# a file created by container root belongs to the mapped host uid
"$G" exec up-a -- sh -c 'echo x > /made-by-root; mkdir -p /home/u; chown 1000:1000 /home/u'
root=$TD/state/instances/up-a/rootfs
[ "$(stat -c %u:%g "$root/made-by-root")" = "$BASE:$BASE" ]; ok $? "a file made by container root is owned by host $BASE ($(stat -c %u:%g "$root/made-by-root"))"
[ "$(stat -c %u "$root/home/u")" = $((BASE + 1000)) ]; ok $? "container uid 1000 is host $((BASE + 1000))"
[ "$(stat -c %u "$TD/state/layers/up-a/user/upper/made-by-root")" = $BASE ]; ok $? "the user layer on disk holds host IDs"
[ "$("$G" exec up-a -- stat -c %u:%g /bin/busybox)" = 0:0 ]; ok $? "image files are root's inside (idmapped master)"
[ "$(stat -c %u /$TD/state/images/busybox/rootfs/bin/busybox)" = 0 ]; ok $? "the master on disk is unchanged"
# root inside is not root outside
"$G" exec up-a -- sh -c 'echo 1 > /proc/sys/kernel/sysrq' 2>/dev/null; ok $([ $? -ne 0 ] && echo 0 || echo 1) "container root cannot write host sysctls"
"$G" exec up-a -- sh -c "echo \$\$ > /sys/fs/cgroup/memory/cgroup.procs" 2>/dev/null; ok $([ $? -ne 0 ] && echo 0 || echo 1) "container root cannot write the cgroup tree"

run_ok "launch a second one" "$G" launch busybox up-b
map_b=$(umap up-b)
[ "$map_b" = "0 $((BASE + 65536)) 65536" ]; ok $? "the second gets the next range (got: $map_b)"
ls "$TD/state/idranges" | sort | tr '\n' ' ' | grep -q "^$BASE+65536 $((BASE + 65536))+65536 $"; ok $? "both ranges are recorded ($(ls "$TD/state/idranges" | tr '\n' ' '))"

run_ok "launch --privileged" "$G" launch busybox up-p --privileged
[ "$(field up-p privileged)" = True ]; ok $? "show: privileged true"
[ "$(umap up-p)" = "0 0 4294967295" ]; ok $? "a privileged container has the identity map"
[ ! -e "$TD/state/idranges/$((BASE + 131072))+65536" ]; ok $? "and no range"
"$G" config set up-a privileged=true 2>"$TD/err"; ok $([ $? -ne 0 ] && echo 0 || echo 1) "privileged is fixed at creation"

# lifecycle of an unprivileged instance
out=$(printf 'id -u\nexit 3\n' | timeout 20 "$G" exec -t up-a -- sh); rc=$?
[ $rc -eq 3 ]; ok $? "exec -t works (exit $rc)"
run_ok "stop" "$G" stop up-a
run_ok "snapshot create" "$G" snapshot create up-a s1
"$G" start up-a >/dev/null && "$G" exec up-a -- rm /made-by-root
run_ok "snapshot restore --stop" "$G" snapshot restore up-a s1 --stop
[ "$(field up-a state)" = stopped ] || "$G" stop up-a >/dev/null 2>&1
run_ok "start again" "$G" start up-a
[ "$("$G" exec up-a -- cat /made-by-root)" = x ]; ok $? "the snapshot brought the file back"
[ "$(umap up-a)" = "0 $BASE 65536" ]; ok $? "same range after stop/start"
run_ok "restart" "$G" restart up-a
[ "$("$G" exec up-a -- id -u)" = 0 ]; ok $? "exec after restart"
"$G" launch busybox up-talk -- sh -c 'echo hello-from-$(id -u)' >/dev/null
wait_state up-talk stopped
"$G" logs up-talk | grep -q hello-from-0; ok $? "console output of an unprivileged container"

# daemon restart: running unprivileged instances are found again
stop_daemon
start_daemon unpriv --idmap-base $BASE; ok $? "daemon restarted"
[ "$(field up-b state)" = running ]; ok $? "up-b still running after the restart"
[ "$(umap up-b)" = "0 $((BASE + 65536)) 65536" ]; ok $? "exec into it, same range"

# delete frees the range; the next instance reuses the lowest free one
run_ok "delete up-a" "$G" delete --force up-a
[ ! -e "$TD/state/idranges/$BASE+65536" ]; ok $? "its range is freed"
run_ok "launch up-c" "$G" launch busybox up-c
[ "$(umap up-c)" = "0 $BASE 65536" ]; ok $? "the freed range is handed out again"
for n in up-b up-c up-p up-talk; do "$G" delete --force $n >/dev/null; done
[ -z "$(ls "$TD/state/idranges")" ]; ok $? "no range left after every delete"
[ -z "$(leftovers)" ]; ok $? "no leftover mounts or cgroups"

# without idmapped mounts (GUREUM_NO_IDMAP=1 stands for a kernel or file system that
# refuses them): the master is used through a shifted copy per instance
stop_daemon
GUREUM_NO_IDMAP=1 start_daemon unpriv --idmap-base $BASE; ok $? "daemon restarted with GUREUM_NO_IDMAP=1"
run_ok "launch without idmapped mounts" "$G" launch busybox up-copy
[ "$(umap up-copy)" = "0 $BASE 65536" ]; ok $? "it is unprivileged all the same"
[ "$("$G" exec up-copy -- stat -c %u:%g /bin/busybox)" = 0:0 ]; ok $? "image files are root's inside"
[ "$(stat -c %u "$TD/state/layers/up-copy/lower-shifted/bin/busybox")" = $BASE ]; ok $? "through a shifted copy of the master (<layer>/lower-shifted)"
"$G" exec up-copy -- sh -c 'echo y > /etc/copied-up' && [ "$(stat -c %u "$TD/state/layers/up-copy/user/upper/etc/copied-up")" = $BASE ]; ok $? "writes land in the user layer with host IDs"
run_ok "restart it (the copy is reused)" "$G" restart up-copy
[ "$("$G" exec up-copy -- cat /etc/copied-up)" = y ]; ok $? "its writes are kept"
run_ok "delete it" "$G" delete --force up-copy
[ ! -e "$TD/state/layers/up-copy" ] && [ -z "$(ls "$TD/state/idranges")" ]; ok $? "layers (with the copy) and range are gone"
[ -z "$(leftovers)" ]; ok $? "no leftover mounts or cgroups"
tap_done
