#!/usr/bin/env bash
# capabilities.sh - what the kernel would refuse when the program starts fails `create`
# (as with crun and runc), with an error naming the field, nothing left behind and the
# program never run: a capability set outside what the runtime holds (the runtime runs with
# CAP_SYS_TIME dropped from its bounding set, so the refusal does not depend on the host),
# effective outside permitted, ambient outside inheritable, a user the user namespace does
# not map, an rlimit above the hard limit without CAP_SYS_RESOURCE.
. "$GR_SRC/tests/integration/runtime/lib/common.bash"
command -v setpriv >/dev/null || { skip "setpriv (util-linux) not installed"; tap_done; }
ID=gr-test-rt-caps-$$
# the runtime without CAP_SYS_TIME and CAP_SYS_RESOURCE (root's permitted set follows the bounding set)
NOCAP="setpriv --bounding-set -sys_time,-sys_resource $OCI"
caps='["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID"]'
leftovers() {
	echo "cg=$(find /sys/fs/cgroup -maxdepth 4 -type d -name "$ID" 2>/dev/null | wc -l) state=$(ls "$STATE" | wc -l) procs=$(pgrep -fc "$ID" || true)"
}

# refused WHAT FILTER EXPECTED-TEXT [RUNTIME]: create fails naming the problem, leaves nothing
refused() {
	local what=$1 rt=${4:-$NOCAP}
	mk_bundle "$WORK/b" ".process.args = [\"sh\", \"-c\", \"touch /tmp/ran; echo ran > $WORK/ran\"] | $2" ||
		{ ok 1 "$what: bundle"; return; }
	rm -f "$WORK/ran"
	local before=$(leftovers)
	$rt create -b "$WORK/b" "$ID" >"$WORK/out" 2>&1 </dev/null; local rc=$?
	local after=$(leftovers)
	[ $rc = 0 ] && $OCI start "$ID" >/dev/null 2>&1 && wait_stopped "$ID"
	$OCI delete --force "$ID" >/dev/null 2>&1
	[ $rc = 1 ]; ok $? "$what: create fails ($(cat "$WORK/out"))"
	grep -qF "$3" "$WORK/out"; ok $? "$what: the error says '$3'"
	[ "$before" = "$after" ]; ok $? "$what: nothing left behind ($before -> $after)"
	[ ! -e "$WORK/ran" ]; ok $? "$what: the program never ran"
}

# the bundle's rootfs must see $WORK/ran: bind it in
bind_work=".mounts += [{\"destination\": \"$WORK\", \"type\": \"bind\", \"source\": \"$WORK\", \"options\": [\"rbind\"]}]"

refused "permitted beyond the runtime's" "$bind_work | .process.capabilities.permitted = $caps + [\"CAP_SYS_TIME\"]
	| .process.capabilities.effective = $caps | .process.capabilities.bounding = $caps" \
	"process.capabilities.permitted: CAP_SYS_TIME is not in the runtime's permitted set"
refused "effective beyond permitted" "$bind_work | .process.capabilities.permitted = $caps
	| .process.capabilities.effective = $caps + [\"CAP_NET_ADMIN\"]" \
	"process.capabilities.effective: CAP_NET_ADMIN is not in process.capabilities.permitted"
refused "ambient beyond inheritable" "$bind_work | .process.capabilities.permitted = $caps
	| .process.capabilities.effective = $caps | .process.capabilities.inheritable = []
	| .process.capabilities.ambient = [\"CAP_KILL\"]" \
	"process.capabilities.ambient: raising CAP_KILL"
hard=$(ulimit -Hn)
refused "rlimit above the hard limit" "$bind_work | .process.rlimits = [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": $((hard * 2))}]" \
	"process.rlimits[0]: setrlimit"
uid=$(stat -c %u "$ROOTFS")
refused "a user the user namespace does not map" "$bind_work | .process.user.uid = 1000
	| .linux.namespaces += [{\"type\": \"user\"}]
	| .linux.uidMappings = [{\"containerID\": 0, \"hostID\": $uid, \"size\": 1}]
	| .linux.gidMappings = [{\"containerID\": 0, \"hostID\": 0, \"size\": 1}]
	| .mounts |= map(select(.type != \"devpts\" and .type != \"mqueue\" and .type != \"sysfs\" and .type != \"cgroup\"))
	| .linux.resources = {} | .linux.maskedPaths = [] | .linux.readonlyPaths = []" \
	"process.user.uid: setresuid(1000)" "$OCI"

# what the runtime holds still works, in create and in exec
mk_bundle "$WORK/ok" ".process.args = [\"sleep\", \"600\"] | .process.capabilities.permitted = $caps
	| .process.capabilities.effective = $caps | .process.capabilities.bounding = $caps" || ok 1 bundle
$NOCAP run -d -b "$WORK/ok" "$ID" >/dev/null 2>&1 </dev/null; ok $? "capabilities the runtime holds: the container runs"
grep -q '^CapEff:.*00000000000000e1$' <($OCI exec "$ID" cat /proc/self/status); ok $? "exec gets the same effective set"
$OCI delete --force "$ID"; ok $? "deleted"
tap_done
