#!/usr/bin/env bash
# lsm.sh - process.apparmorProfile, process.selinuxLabel and linux.mountLabel are applied
# where the host has the security module enabled and refused otherwise (error naming the
# field, nothing left behind, the program never run), unless the annotation
# org.gureum.ignore-unsupported lists the field (then a warning).  AppArmor's "unconfined"
# asks for nothing.  Also for exec: a process the container was not created with.
. "$GR_SRC/tests/integration/runtime/lib/common.bash"
ID=gr-test-rt-lsm-$$
aa_on=0; [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] && aa_on=1
se_on=0; [ -e /sys/fs/selinux/enforce ] && se_on=1
diag "AppArmor enabled: $aa_on, SELinux enabled: $se_on"
bind_work=".mounts += [{\"destination\": \"$WORK\", \"type\": \"bind\", \"source\": \"$WORK\", \"options\": [\"rbind\"]}]"

# refused WHAT FILTER TEXT: create fails with TEXT in the error, leaves nothing, runs nothing
refused() {
	mk_bundle "$WORK/b" ".process.args = [\"sh\", \"-c\", \"echo ran > $WORK/ran\"] | $bind_work | $2" ||
		{ ok 1 "$1: bundle"; return; }
	rm -f "$WORK/ran"
	$OCI create -b "$WORK/b" "$ID" >"$WORK/out" 2>&1 </dev/null; local rc=$?
	[ $rc = 0 ] && $OCI start "$ID" >/dev/null 2>&1 && wait_stopped "$ID"
	local cg=$(find /sys/fs/cgroup -maxdepth 4 -type d -name "$ID" | wc -l) st=$(ls "$STATE" | wc -l)
	$OCI delete --force "$ID" >/dev/null 2>&1
	[ $rc = 1 ] && grep -qF "$3" "$WORK/out"; ok $? "$1: create fails: $(cat "$WORK/out")"
	[ "$cg" = 0 ] && [ "$st" = 0 ] && [ ! -e "$WORK/ran" ]; ok $? "$1: nothing left behind, the program never ran"
}
# opted_out WHAT FILTER FIELD: runs with the field listed in the annotation, and warns
opted_out() {
	mk_bundle "$WORK/b" ".process.args = [\"true\"] | $2
		| .annotations[\"org.gureum.ignore-unsupported\"] = \"$3\"" || { ok 1 "$1: bundle"; return; }
	$OCI run -b "$WORK/b" "$ID" >"$WORK/out" 2>&1 </dev/null; ok $? "$1 listed in the annotation: the container runs"
	grep -q "warning: $3: not applied" "$WORK/out"; ok $? "$1: a warning says it is not applied ($(cat "$WORK/out"))"
	$OCI delete --force "$ID" >/dev/null 2>&1
}

if [ $aa_on = 0 ]; then
	refused "apparmorProfile without AppArmor" '.process.apparmorProfile = "gr-test-profile"' \
		'process.apparmorProfile: AppArmor is not enabled on this host (profile "gr-test-profile")'
	opted_out "apparmorProfile" '.process.apparmorProfile = "gr-test-profile"' process.apparmorProfile
	mk_bundle "$WORK/b" '.process.args = ["true"] | .process.apparmorProfile = "unconfined"'
	$OCI run -b "$WORK/b" "$ID" >/dev/null 2>&1 </dev/null; ok $? "apparmorProfile \"unconfined\" asks for nothing: runs"
	$OCI delete --force "$ID" >/dev/null 2>&1
	# exec with a profile the container was not created with
	mk_bundle "$WORK/b" '.process.args = ["sleep", "600"]'
	$OCI run -d -b "$WORK/b" "$ID" >/dev/null 2>&1 </dev/null; ok $? "a container for exec"
	jq '.process | .apparmorProfile = "gr-test-profile" | .args = ["true"]' "$WORK/b/config.json" >"$WORK/p.json"
	$OCI exec --process "$WORK/p.json" "$ID" >"$WORK/out" 2>&1
	[ $? = 1 ] && grep -q "process.apparmorProfile: AppArmor is not enabled" "$WORK/out"
	ok $? "exec with an apparmorProfile is refused too ($(cat "$WORK/out"))"
	$OCI delete --force "$ID" >/dev/null 2>&1
elif ! command -v apparmor_parser >/dev/null; then
	skip "AppArmor is enabled but apparmor_parser is missing: cannot load a test profile"
else
	prof=gr-test-rt-lsm-$$
	printf 'profile %s flags=(attach_disconnected) {\n  file,\n  capability,\n  network,\n  mount,\n  umount,\n  signal,\n  ptrace,\n  pivot_root,\n}\n' "$prof" |
		apparmor_parser -r; ok $? "test profile $prof loaded"
	mk_bundle "$WORK/b" ".process.args = [\"cat\", \"/proc/self/attr/current\"] | .process.apparmorProfile = \"$prof\""
	out=$($OCI run -b "$WORK/b" "$ID" 2>&1 </dev/null)
	echo "$out" | grep -q "^$prof"; ok $? "the program runs confined by $prof ($out)"
	$OCI delete --force "$ID" >/dev/null 2>&1
	echo "profile $prof {}" | apparmor_parser -R >/dev/null 2>&1
fi

if [ $se_on = 0 ]; then
	refused "selinuxLabel without SELinux" '.process.selinuxLabel = "system_u:system_r:container_t:s0"' \
		'process.selinuxLabel: SELinux is not enabled on this host'
	refused "mountLabel without SELinux" '.linux.mountLabel = "system_u:object_r:container_file_t:s0"' \
		'linux.mountLabel: SELinux is not enabled on this host'
	opted_out "mountLabel" '.linux.mountLabel = "system_u:object_r:container_file_t:s0"' linux.mountLabel
	opted_out "selinuxLabel" '.process.selinuxLabel = "system_u:system_r:container_t:s0"' process.selinuxLabel
else
	skip "SELinux is enabled here: applying labels needs a policy with container types, not set up by this test"
fi
tap_done
