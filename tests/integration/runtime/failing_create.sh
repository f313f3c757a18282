#!/usr/bin/env bash
# failing_create.sh - bad input leaves nothing behind: after each failing create,
# no cgroup, no mount, no state folder and no process of the container remain.
. "$GR_SRC/tests/integration/runtime/lib/common.bash"
B=$WORK/b
ID=gr-test-rt-bad-$$ # unique: the same tests may run in other checkouts at the same time
snapshot() { # cgroups, host mounts under our paths, state dirs, processes started from this bundle
	echo "cg=$(find /sys/fs/cgroup -maxdepth 4 -type d -name "$ID" 2>/dev/null | wc -l) mounts=$(grep -c -e "$WORK" -e "$ID" /proc/self/mountinfo) state=$(ls "$STATE" | wc -l) procs=$(pgrep -fc "$ID" || true)"
}
expect_fail() { # what, jq filter
	local what=$1
	mk_bundle "$B" "$2" || { ok 1 "$what: bundle"; return; }
	local before after msg
	before=$(snapshot)
	# into a file, not $(...): should create wrongly succeed, its init would hold the pipe
	$OCI create -b "$B" "$ID" >"$WORK/msg" 2>&1 </dev/null; local rc=$?
	after=$(snapshot)
	msg=$(cat "$WORK/msg")
	$OCI delete --force "$ID" >/dev/null 2>&1
	ok $(( rc != 1 )) "$what: create fails with exit 1"
	echo "$msg" | grep -q "gureum-oci: .*$3"; ok $? "$what: the error says '$3' ($msg)"
	[ "$before" = "$after" ]; ok $? "$what: nothing left behind ($before -> $after)"
}
expect_fail "missing program" '.process.args = ["/no/such/program"]' 'process.args\[0\]'
expect_fail "bad mount source" '.mounts += [{"destination": "/x", "type": "bind", "source": "/no/such/dir", "options": ["bind"]}]' '/no/such/dir'
expect_fail "unknown fs type" '.mounts += [{"destination": "/x", "type": "nosuchfs", "source": "none"}]' 'mounts\['
expect_fail "impossible cgroup value" '.linux.resources.memory = {"limit": 4096, "swap": 1}' 'memory'
expect_fail "failing prestart hook" '.hooks.prestart = [{"path": "/bin/false"}]' 'prestart'
expect_fail "failing createContainer hook" '.hooks.createContainer = [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]' 'createContainer.*status 3'
expect_fail "hook timeout" '.hooks.createRuntime = [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]' 'timed out'
expect_fail "missing rootfs" '.root.path = "/no/such/rootfs"' 'root.path'
expect_fail "no mount namespace, missing program" '.linux.namespaces |= map(select(.type != "mount")) | .process.args = ["/no/such/program"]' 'process.args\[0\]'
expect_fail "joining a missing namespace" '.linux.namespaces += [{"type": "user", "path": "/proc/999999999/ns/user"}]' 'namespaces'
expect_fail "bad sysctl" '.linux.sysctl = {"kernel.no_such_knob": "1"}' 'sysctl'
expect_fail "terminal without console socket" '.process.terminal = true' 'console-socket'
expect_fail "unmapped user namespace root" '.linux.namespaces += [{"type": "user"}] | .linux.uidMappings = [{"containerID": 1, "hostID": 100000, "size": 10}] | .linux.gidMappings = [{"containerID": 1, "hostID": 100000, "size": 10}]' 'container root is not mapped\|uidMappings'
expect_fail "bad config" '.process.args = 5' 'process.args'
[ "$(ls "$STATE" | wc -l)" = 0 ]; ok $? "state root is empty"
tap_done
