#!/usr/bin/env bash
# no_mount_ns.sh - a config without a mount namespace (or without any namespace) runs in
# the runtime's namespaces (config-linux.md: a type not listed is inherited): the init is
# chroot'ed into the rootfs, the host's / keeps its propagation, exec enters the same root,
# and delete (or a failing create) leaves no mount of the container in the host namespace.
. "$GR_SRC/tests/integration/runtime/lib/common.bash"
mounts_under() { awk -v r="$1" '$5 == r || index($5, r "/") == 1' /proc/self/mountinfo | wc -l; }
# the scratch folder becomes a shared mount: a runtime that changed propagation recursively
# from / (as it does inside its own mount namespace) would turn it into a slave
prop_of() { awk -v m="$1" '$5 == m { p = ""; for (i = 7; $i != "-"; i++) p = p $i " "; print p }' /proc/self/mountinfo | tail -1; }
nomnt_cleanup() { rt_cleanup_mounts; rt_cleanup; }
rt_cleanup_mounts() {
	for id in $(ls "$STATE" 2>/dev/null); do $OCI delete --force "$id" >/dev/null 2>&1; done
	while awk -v m="$WORK" '$5 == m' /proc/self/mountinfo | grep -q .; do umount -l "$WORK" || break; done
}
trap nomnt_cleanup EXIT
mount --bind "$WORK" "$WORK" && mount --make-shared "$WORK"; ok $? "scratch folder is a shared mount"
root_prop() { prop_of "$WORK"; }
prop0=$(root_prop)

check() { # name, id, jq filter
	local what=$1 id=$2
	mk_bundle "$WORK/$id" "$3 | .process.args = [\"sh\", \"-c\", \"echo in > /tmp/mark; exec sleep 600\"]" || { ok 1 "$what: bundle"; return; }
	local n0; n0=$(mounts_under "$ROOTFS")
	$OCI create -b "$WORK/$id" "$id" >"$WORK/$id.out" 2>&1 </dev/null; ok $? "$what: create ($(tail -1 "$WORK/$id.out"))"
	local pid; pid=$($OCI state "$id" | jq -r .pid)
	[ "$(readlink /proc/"$pid"/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ]; ok $? "$what: the init is in the runtime's mount namespace"
	[ "$(readlink /proc/"$pid"/root)" = "$ROOTFS" ]; ok $? "$what: the init's root is the rootfs ($(readlink /proc/"$pid"/root))"
	[ "$(mounts_under "$ROOTFS")" -gt "$n0" ]; ok $? "$what: its mounts are in the host namespace, under the rootfs"
	[ "$(root_prop)" = "$prop0" ]; ok $? "$what: host mounts keep their propagation ($prop0)"
	$OCI start "$id"; ok $? "$what: start"
	local i; for i in $(seq 100); do [ -e "/proc/$pid/root/tmp/mark" ] && break; sleep 0.05; done
	[ -e "/proc/$pid/root/tmp/mark" ]; ok $? "$what: the program runs in the rootfs (wrote /tmp/mark there)"
	$OCI exec "$id" sh -c "test -e /tmp/mark && test ! -e '$ROOTFS'"; ok $? "$what: exec runs in the container's root"
	$OCI kill "$id" KILL; wait_stopped "$id"; ok $? "$what: stopped"
	$OCI delete "$id"; ok $? "$what: delete"
	[ "$(mounts_under "$ROOTFS")" = "$n0" ]; ok $? "$what: no mount is left under the rootfs ($(mounts_under "$ROOTFS") vs $n0)"
	[ ! -e "$STATE/$id" ]; ok $? "$what: state folder removed"
}
check "no mount namespace" gr-test-rt-nomnt '.linux.namespaces |= map(select(.type != "mount"))'
check "no namespace at all" gr-test-rt-nons 'del(.hostname) | .linux.namespaces = []'

# a failing create without a mount namespace unmounts what its init mounted
mk_bundle "$WORK/bad" '.linux.namespaces |= map(select(.type != "mount")) | .process.args = ["/no/such/program"]' || ok 1 bundle
n0=$(mounts_under "$ROOTFS")
$OCI create -b "$WORK/bad" gr-test-rt-nomnt-bad >"$WORK/bad.out" 2>&1 </dev/null; ok $(( $? != 1 )) "failing create without a mount namespace fails"
[ "$(mounts_under "$ROOTFS")" = "$n0" ]; ok $? "and leaves no mount under the rootfs"
[ ! -e "$STATE/gr-test-rt-nomnt-bad" ]; ok $? "and no state folder"
tap_done
