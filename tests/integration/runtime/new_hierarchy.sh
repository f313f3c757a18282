#!/usr/bin/env bash
# new_hierarchy.sh - a cgroup hierarchy mounted (or unmounted) on the host while containers
# run: exec, kill --all, state and delete use the hierarchies the container was created in
# (recorded in its state), skip one mounted since and cope with one unmounted since.  As the
# conformance run and the container-start benchmark do, a controller no v1 hierarchy carries
# (hugetlb on the stock hybrid layout, else net_cls or net_prio) becomes a new v1 hierarchy;
# the host's layout is put back at the end, also on failure.
. "$GR_SRC/tests/integration/runtime/lib/common.bash"
M=/run/gr-test-rt-newhier-$$
newhier_cleanup() {
	rt_cleanup
	# cgroups the runtime could not remove while the hierarchy was unmounted (checked below)
	if grep -q " $M .* - cgroup " /proc/self/mountinfo; then
		find "$M" -mindepth 1 -depth -type d -path "*gr-test-rt-*" -exec rmdir {} \; 2>/dev/null
		rmdir "$M/gureum" 2>/dev/null
	fi
	cgv1_restore || echo "# the host's cgroup layout could not be fully restored"
}
trap newhier_cleanup EXIT
trap 'exit 130' INT TERM HUP

cands=()
grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null && cands+=(hugetlb)
cands+=(net_cls net_prio)
ctrl=$(cgv1_free "${cands[@]}") || { skip "no controller is free for a new v1 hierarchy (${cands[*]} are all on v1)"; tap_done; }
found_hier=$(awk -v c="$ctrl" '$1 == c {print $2}' /proc/cgroups)
diag "controller moved to a new v1 hierarchy: $ctrl"

# no cgroup namespace: /proc/self/cgroup inside then shows the host's paths
mk_bundle "$WORK/b" '.process.args = ["sleep", "600"] | del(.linux.namespaces[] | select(.type == "cgroup"))' || ok 1 bundle
A=gr-test-rt-newhier-a-$$ B=gr-test-rt-newhier-b-$$ C=gr-test-rt-newhier-c-$$
$OCI run -d -b "$WORK/b" "$A" >/dev/null 2>&1 </dev/null; ok $? "container A runs (created before the mount)"
cgv1_mount "$ctrl" "$M"; ok $? "$ctrl mounted as a new v1 hierarchy at $M while A runs" || tap_done

out=$($OCI exec "$A" sh -c 'echo in-a' 2>&1); [ "$out" = in-a ]; ok $? "exec into A after the mount (got: $out)"
out=$($OCI exec "$A" cat /proc/self/cgroup 2>&1)
echo "$out" | grep -q ":memory:/gureum/$A\$" && echo "$out" | grep -q ":$ctrl:/\$"; ok $? "the exec'd process is in A's cgroups, at the root of the new hierarchy"
[ ! -e "$M/gureum/$A" ]; ok $? "no cgroup for A appeared in the new hierarchy"
$OCI state "$A" | grep -q '"status":"running"'; ok $? "state of A"

$OCI run -d -b "$WORK/b" "$B" >/dev/null 2>&1 </dev/null; ok $? "container B created after the mount"
[ -d "$M/gureum/$B" ]; ok $? "B has a cgroup in the new hierarchy"
out=$($OCI exec "$B" cat /proc/self/cgroup 2>&1)
echo "$out" | grep -q ":$ctrl:/gureum/$B\$"; ok $? "exec into B joins B's cgroup in the new hierarchy"

$OCI kill --all "$A" KILL; ok $? "kill --all A"
wait_stopped "$A"; ok $? "A stopped"
$OCI delete "$A"; ok $? "delete A"
$OCI kill "$B" KILL && wait_stopped "$B" && $OCI delete "$B"; ok $? "kill and delete B"
[ ! -e "$M/gureum/$B" ] && [ ! -e "$M/gureum" ]; ok $? "B's cgroup (and the parent its create made) removed from the new hierarchy"

# a hierarchy that goes away while a container created in it runs
$OCI run -d -b "$WORK/b" "$C" >/dev/null 2>&1 </dev/null; ok $? "container C created while $ctrl is mounted"
umount "$M"; ok $? "$ctrl unmounted while C runs (the kernel keeps the hierarchy: C's cgroup is in it)"
out=$($OCI exec "$C" sh -c 'echo in-c' 2>&1); [ "$out" = in-c ]; ok $? "exec into C after the unmount (got: $out)"
$OCI kill --all "$C" KILL && wait_stopped "$C"; ok $? "kill --all C"
$OCI delete "$C" 2>"$WORK/del.err"; ok $? "delete C copes with the missing hierarchy"
grep -q "$ctrl" "$WORK/del.err"; ok $? "delete C warns that its $ctrl cgroup stays until the hierarchy is mounted again"
[ ! -d "$STATE/$C" ]; ok $? "C's state folder is gone"
mount -t cgroup -o "$ctrl" none "$M"; ok $? "$ctrl mounted again to remove what C left"
[ -d "$M/gureum/$C" ] && rmdir "$M/gureum/$C" "$M/gureum"; ok $? "C's cgroup was still there, and is removed"

cgv1_restore; ok $? "the host's cgroup layout is restored"
[ "$(awk -v c="$ctrl" '$1 == c {print $2}' /proc/cgroups)" = "$found_hier" ] &&
	! grep -q " $M " /proc/self/mountinfo; ok $? "$ctrl is back where it was (hierarchy $found_hier), $M unmounted"
tap_done
