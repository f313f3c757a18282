#!/usr/bin/env bash
# optional_fields.sh - config fields a host may be unable to apply are applied where it can
# and refused (error naming the field, nothing left behind) where it cannot, unless the
# annotation org.gureum.ignore-unsupported lists them: linux.resources.memory.kernel and
# kernelTCP (v1 memory.kmem[.tcp].limit_in_bytes), linux.resources.network (net_cls /
# net_prio: refused while no v1 hierarchy carries them, then applied on a v1 mount this test
# makes and takes away again; the host's layout is restored, also on failure).
. "$GR_SRC/tests/integration/runtime/lib/common.bash"
M=/run/gr-test-rt-optional-$$
ID=gr-test-rt-opt-$$
optional_cleanup() {
	rt_cleanup
	rmdir /sys/fs/cgroup/memory/gr-test-rt-kmem-$$ 2>/dev/null
	cgv1_restore || echo "# the host's cgroup layout could not be fully restored"
}
trap optional_cleanup EXIT
trap 'exit 130' INT TERM HUP
memdir=$(awk '$0 ~ / - cgroup / && $NF ~ /(^|,)memory(,|$)/ {print $5; exit}' /proc/self/mountinfo)
cg_left() { find /sys/fs/cgroup "$M" -maxdepth 4 -type d -name "$ID" 2>/dev/null | wc -l; }

# create_with WHAT FILTER: create (stderr kept in $WORK/err), 0 when it succeeded
create_with() {
	mk_bundle "$WORK/b" ".process.args = [\"sleep\", \"600\"] | $2" || return 2
	$OCI create -b "$WORK/b" "$ID" >/dev/null 2>"$WORK/err" </dev/null
}
gone() { $OCI delete --force "$ID" >/dev/null 2>&1; [ "$(cg_left)" = 0 ] && [ ! -e "$STATE/$ID" ]; }

# ---- memory.kernelTCP and memory.kernel (cgroup v1 memory) ----
if [ -z "$memdir" ]; then
	skip "no cgroup v1 memory hierarchy: kernel memory limits are refused on cgroup v2 (unit test test_cgroup_apply)"
else
	create_with kerneltcp '.linux.resources.memory = {"limit": 104857600, "kernelTCP": 50593792}'
	ok $? "create with memory.kernelTCP ($(cat "$WORK/err"))"
	v=$(cat "$memdir/gureum/$ID/memory.kmem.tcp.limit_in_bytes" 2>&1)
	[ "$v" = 50593792 ]; ok $? "memory.kmem.tcp.limit_in_bytes is set ($v)"
	gone; ok $? "deleted"

	# does this kernel enforce memory.kmem.limit_in_bytes? (newer kernels accept writes and ignore them)
	probe=/sys/fs/cgroup/memory/gr-test-rt-kmem-$$
	enforced=0
	if mkdir "$probe" 2>/dev/null; then
		echo 50593792 >"$probe/memory.kmem.limit_in_bytes" 2>/dev/null &&
			[ "$(cat "$probe/memory.kmem.limit_in_bytes")" = 50593792 ] && enforced=1
		rmdir "$probe"
	fi
	diag "this kernel enforces memory.kmem.limit_in_bytes: $enforced"
	create_with kernel '.linux.resources.memory = {"limit": 104857600, "kernel": 50593792}'; rc=$?
	if [ $enforced = 1 ]; then
		[ $rc = 0 ] && [ "$(cat "$memdir/gureum/$ID/memory.kmem.limit_in_bytes")" = 50593792 ]
		ok $? "memory.kernel applied ($(cat "$WORK/err"))"
	else
		[ $rc = 1 ] && grep -q "linux.resources.memory.kernel: this kernel accepts memory.kmem.limit_in_bytes but does not enforce it" "$WORK/err"
		ok $? "memory.kernel refused, naming the field ($(cat "$WORK/err"))"
	fi
	gone; ok $? "nothing left behind"
	create_with kernel-ignored '.linux.resources.memory = {"limit": 104857600, "kernel": 50593792}
		| .annotations["org.gureum.ignore-unsupported"] = "linux.resources.memory.kernel"'
	ok $? "memory.kernel with the opt-out annotation: create succeeds"
	[ $enforced = 1 ] || grep -q "warning: linux.resources.memory.kernel: not applied" "$WORK/err"
	ok $? "and warns that it is not applied ($(cat "$WORK/err"))"
	gone; ok $? "deleted"
	create_with kernel-unlimited '.linux.resources.memory = {"kernel": -1}'; ok $? "memory.kernel -1 (no limit) is fine"
	gone; ok $? "deleted"
fi

# ---- linux.resources.network ----
net='.linux.resources.network = {"classID": 1048577, "priorities": [{"name": "lo", "priority": 7}]}'
carrier=$(awk '$0 ~ / - cgroup / && $NF ~ /net_(cls|prio)/ {print $5}' /proc/self/mountinfo)
if [ -n "$carrier" ]; then
	skip "the host already has a net_cls/net_prio hierarchy ($carrier): the refusal cannot be shown"
else
	create_with network "$net"; rc=$?
	[ $rc = 1 ] && grep -q "linux.resources.network.classID: no cgroup v1 net_cls hierarchy is mounted" "$WORK/err"
	ok $? "network refused without net_cls/net_prio ($(cat "$WORK/err"))"
	gone; ok $? "nothing left behind"
	create_with network-ignored "$net | .annotations[\"org.gureum.ignore-unsupported\"] = \"linux.resources.network\""
	ok $? "network with the opt-out annotation: create succeeds"
	grep -q "warning: linux.resources.network.priorities: not applied" "$WORK/err"; ok $? "and warns ($(cat "$WORK/err"))"
	gone; ok $? "deleted"
fi
if ctrl=$(cgv1_free net_cls) && cgv1_free net_prio >/dev/null; then
	cgv1_mount net_cls,net_prio "$M"; ok $? "net_cls,net_prio mounted as a v1 hierarchy at $M"
	create_with network "$net"; ok $? "create with classID and priorities ($(cat "$WORK/err"))"
	v=$(cat "$M/gureum/$ID/net_cls.classid" 2>&1); [ "$v" = 1048577 ]; ok $? "net_cls.classid is set ($v)"
	grep -qx "lo 7" "$M/gureum/$ID/net_prio.ifpriomap"; ok $? "net_prio.ifpriomap has lo 7"
	gone; ok $? "deleted, nothing left in the new hierarchy"
	cgv1_restore; ok $? "the host's cgroup layout is restored"
	[ "$(awk '$1 == "net_cls" || $1 == "net_prio" {print $2}' /proc/cgroups | sort -u)" = 0 ]
	ok $? "net_cls and net_prio are on no v1 hierarchy again"
else
	skip "net_cls/net_prio are already on a v1 hierarchy: the applied path ran above or in the conformance suite"
fi
tap_done
