#!/usr/bin/env bash
# cgroups.sh - limits land in the right hierarchy (v1, v2 or hybrid, per controller),
# are visible inside, an OOM kill is detected and reported, and delete removes the cgroups.
. "$GR_SRC/tests/integration/runtime/lib/common.bash"
B=$WORK/b
mk_bundle "$B" '.process.args = ["sleep", "1000"] | .linux.cgroupsPath = "/gr-test-rt/cg1"
	| .linux.resources.memory = {"limit": 67108864, "reservation": 33554432}
	| .linux.resources.pids = {"limit": 42}
	| .linux.resources.cpu = {"shares": 512, "quota": 50000, "period": 100000}'
$OCI create -b "$B" gr-test-rt-cg1 >"$WORK/out" 2>&1; ok $? "create with memory, pids and cpu limits"
$OCI start gr-test-rt-cg1
# find each controller's file wherever it lives (v1 hierarchy or cgroup2)
host_file() { # v1name v2name
	local f
	for f in /sys/fs/cgroup/*/gr-test-rt/cg1/$1 /sys/fs/cgroup/gr-test-rt/cg1/$2 /sys/fs/cgroup/unified/gr-test-rt/cg1/$2; do
		[ -f "$f" ] && { echo "$f"; return; }
	done
}
host_file_at() { # leaf v1name v2name
	local f
	for f in /sys/fs/cgroup/*/gr-test-rt/$1/$2 /sys/fs/cgroup/gr-test-rt/$1/$3 /sys/fs/cgroup/unified/gr-test-rt/$1/$3; do
		[ -f "$f" ] && { echo "$f"; return; }
	done
}
f=$(host_file memory.limit_in_bytes memory.max)
[ -n "$f" ] && [ "$(cat "$f")" = 67108864 ]; ok $? "memory limit on the host ($f)"
f=$(host_file pids.max pids.max)
[ -n "$f" ] && [ "$(cat "$f")" = 42 ]; ok $? "pids limit on the host ($f)"
f=$(host_file cpu.cfs_quota_us cpu.max)
[ -n "$f" ] && grep -q 50000 "$f"; ok $? "cpu quota on the host ($f)"
pid=$($OCI state gr-test-rt-cg1 | jq .pid)
grep -q 'gr-test-rt/cg1' /proc/$pid/cgroup; ok $? "the init is in the cgroup"
[ -d /sys/fs/cgroup/unified/gr-test-rt/cg1 ] || [ ! -d /sys/fs/cgroup/unified ]
ok $? "hybrid: a leaf is made in cgroup2 too"
grep -q '^0::/gr-test-rt/cg1$' /proc/$pid/cgroup || [ ! -d /sys/fs/cgroup/unified ]
ok $? "hybrid: the init joined the cgroup2 leaf"
inside=$($OCI exec gr-test-rt-cg1 sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max')
[ "$inside" = 67108864 ]; ok $? "memory limit visible inside ($inside)"
$OCI delete --force gr-test-rt-cg1
[ -z "$(ls -d /sys/fs/cgroup/*/gr-test-rt/cg1 /sys/fs/cgroup/gr-test-rt/cg1 2>/dev/null)" ]; ok $? "delete removed the cgroup in every hierarchy"

# a relative cgroupsPath goes under /gureum; parents made for it are removed by delete
mk_bundle "$B" '.process.args = ["true"] | .linux.cgroupsPath = "gr-test-rt-rel/a/ctr"'
$OCI create -b "$B" gr-test-rt-rel >"$WORK/out" 2>&1
[ -d /sys/fs/cgroup/memory/gureum/gr-test-rt-rel/a/ctr ] || [ ! -d /sys/fs/cgroup/memory ]; ok $? "relative cgroupsPath is placed under /gureum"
$OCI delete --force gr-test-rt-rel
[ -z "$(ls -d /sys/fs/cgroup/*/gureum/gr-test-rt-rel /sys/fs/cgroup/gureum/gr-test-rt-rel 2>/dev/null)" ]; ok $? "delete removed the leaf and the parents it had made"

# OOM: 32 MiB without swap, a process that wants 128 MiB
mk_bundle "$B" '.process.args = ["sh", "-c", "dd if=/dev/zero of=/dev/null bs=128M count=1; echo dd-status=$?"]
	| .linux.cgroupsPath = "/gr-test-rt/oom"
	| .linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
$OCI create -b "$B" gr-test-rt-oom >"$WORK/oom.out" 2>&1; ok $? "create a memory hog"
$OCI start gr-test-rt-oom
wait_stopped gr-test-rt-oom; ok $? "the hog stopped"
st=$($OCI state gr-test-rt-oom)
echo "$st" | jq -e '.annotations["org.gureum.oom-kills"] | tonumber >= 1' >/dev/null
ok $? "state reports the OOM kill in annotations ($st)"
grep -q 'dd-status=137' "$WORK/oom.out"; ok $? "the hog was SIGKILLed ($(tr '\n' ' ' <"$WORK/oom.out"))"
run_ok "delete" $OCI delete gr-test-rt-oom

# the same container without the limit is not OOM-killed
mk_bundle "$B" '.process.args = ["sh", "-c", "dd if=/dev/zero of=/dev/null bs=16M count=1 2>/dev/null; echo dd-status=$?"] | .linux.cgroupsPath = "/gr-test-rt/nooom"'
out=$($OCI run -b "$B" gr-test-rt-nooom 2>&1)
echo "$out" | grep -q 'dd-status=0'; ok $? "without a limit it completes ($out)"

# device rules: deny all but the defaults; mknod of an arbitrary device fails
mk_bundle "$B" '.process.args = ["sh", "-c", "head -c1 /dev/zero | wc -c; mknod /dev/sda b 8 0 2>&1 && head -c1 /dev/sda 2>&1"] | .linux.cgroupsPath = "/gr-test-rt/dev"'
out=$($OCI run -b "$B" gr-test-rt-dev 2>&1 | tr '\n' ' ')
echo "$out" | grep -q '^1 '; ok $? "allowed device usable ($out)"
echo "$out" | grep -q 'not permitted'; ok $? "device cgroup denies block device 8:0 ($out)"

# hugepage limits, wherever hugetlb lives (cgroup2 on the stock hybrid layout, v1 once moved)
if [ -d /sys/kernel/mm/hugepages/hugepages-2048kB ] && grep -q hugetlb /proc/cgroups; then
	mk_bundle "$B" '.process.args = ["sleep", "1000"] | .linux.cgroupsPath = "/gr-test-rt/huge" | .linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]'
	$OCI create -b "$B" gr-test-rt-huge >"$WORK/huge.out" 2>&1; ok $? "create with a 2MB hugepage limit ($(cat "$WORK/huge.out"))"
	f=$(host_file_at huge hugetlb.2MB.limit_in_bytes hugetlb.2MB.max)
	[ -n "$f" ] && [ "$(cat "$f")" = 4194304 ]; ok $? "hugepage limit on the host ($f)"
	$OCI delete --force gr-test-rt-huge
else
	skip "no 2MB hugepages or hugetlb controller on this kernel"
fi

# update a live container
mk_bundle "$B" '.process.args = ["sleep", "1000"] | .linux.cgroupsPath = "/gr-test-rt/cgbad" | .linux.resources.cpu = {"cpus": "7"}'
$OCI create -b "$B" gr-test-rt-cgbad >"$WORK/bad.out" 2>&1; ok $(( $? == 0 )) "an impossible cpuset is refused"
grep -q 'cpuset.cpus' "$WORK/bad.out"; ok $? "the error names the cgroup file ($(cat "$WORK/bad.out"))"
[ -z "$(ls -d /sys/fs/cgroup/*/gr-test-rt/cgbad 2>/dev/null)" ]; ok $? "and no cgroup is left"
for d in /sys/fs/cgroup/*/gr-test-rt /sys/fs/cgroup/gr-test-rt; do [ -d "$d" ] && rmdir "$d"; done
tap_done
