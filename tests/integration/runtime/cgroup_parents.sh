#!/usr/bin/env bash
# cgroup_parents.sh - delete removes only the cgroup levels its create made, counted per
# hierarchy: a parent that existed beforehand in one hierarchy (pids) is kept there, while
# the same parent made by create in the other hierarchies goes (runtime.md, Delete).
. "$GR_SRC/tests/integration/runtime/lib/common.bash"
P=gr-test-rt-par-$$
parent_cleanup() {
	rt_cleanup
	for d in /sys/fs/cgroup/*/"$P"/ctr /sys/fs/cgroup/*/"$P"; do [ -d "$d" ] && rmdir "$d"; done
}
trap parent_cleanup EXIT
mkdir /sys/fs/cgroup/pids/$P; ok $? "pre-existing parent made in the pids hierarchy only"
mk_bundle "$WORK/b" ".linux.cgroupsPath = \"/$P/ctr\" | .process.args = [\"sleep\", \"600\"]" || ok 1 bundle
$OCI create -b "$WORK/b" gr-test-rt-par >/dev/null 2>&1 </dev/null; ok $? "create with cgroupsPath /$P/ctr"
[ -d /sys/fs/cgroup/pids/$P/ctr ] && [ -d /sys/fs/cgroup/memory/$P/ctr ]; ok $? "leaf exists in pids and memory"
$OCI kill gr-test-rt-par KILL; ok $? "kill"
wait_stopped gr-test-rt-par; ok $? "stopped"
$OCI delete gr-test-rt-par; ok $? "delete"
[ ! -d /sys/fs/cgroup/pids/$P/ctr ] && [ ! -d /sys/fs/cgroup/memory/$P/ctr ]; ok $? "leaf removed everywhere"
[ -d /sys/fs/cgroup/pids/$P ]; ok $? "pre-existing pids parent kept"
[ ! -d /sys/fs/cgroup/memory/$P ] && [ ! -d /sys/fs/cgroup/cpu/$P ]; ok $? "parent made by create removed in memory and cpu"
tap_done
