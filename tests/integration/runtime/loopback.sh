#!/usr/bin/env bash
# loopback.sh - a container with a network namespace of its own has lo up before its
# program runs (the kernel makes it down, and the default capabilities cannot raise it):
# 127.0.0.1 answers inside.  A container that joins an existing network namespace by path
# leaves that namespace's lo as it was.  All traffic stays on the containers' loopback.
. "$GR_SRC/tests/integration/runtime/lib/common.bash"
NS=gr-test-rt-lo-$$
lo_cleanup() {
	rt_cleanup
	ip netns del "$NS" 2>/dev/null
}
trap lo_cleanup EXIT
trap 'exit 130' INT TERM HUP
command -v ip >/dev/null || { skip "ip (iproute2) not installed"; tap_done; }

# a listener and a client on 127.0.0.1 inside one container; the client retries until the
# listener is up (bounded by a count, not a time)
# (the listener exits after its one connection: wait for it rather than kill it, or
# what it received may not be written yet)
talk='nc -l -p 5555 >/tmp/got & sent=0; for i in $(seq 200); do echo hello-lo | nc 127.0.0.1 5555 2>/dev/null && { sent=1; break; }; usleep 20000; done; [ $sent = 1 ] || kill %1 2>/dev/null; wait; cat /tmp/got'
mk_bundle "$WORK/new" ".process.args = [\"sh\", \"-c\", \"cat /sys/class/net/lo/flags; $talk\"]" || ok 1 bundle
out=$($OCI run -b "$WORK/new" gr-test-rt-lo-new 2>&1 </dev/null)
flags=$(echo "$out" | head -1)
[ $(( flags & 1 )) = 1 ]; ok $? "new network namespace: lo is up (flags $flags)"
echo "$out" | grep -qx hello-lo; ok $? "new network namespace: a connection to 127.0.0.1 works ($(echo "$out" | tail -n +2 | tr '\n' ' '))"

# the same in a user namespace (the network namespace then belongs to the new user namespace):
# the rootless default spec
mkdir -p "$WORK/user" && $OCI spec --rootless -b "$WORK/user" &&
	jq --arg root "$ROOTFS" '.process.terminal = false | .root.path = $root | .process.args = ["ip", "-o", "link", "show", "lo"]' \
		"$WORK/user/config.json" >"$WORK/user/c.json" && mv "$WORK/user/c.json" "$WORK/user/config.json" || ok 1 bundle
out=$($OCI run -b "$WORK/user" gr-test-rt-lo-user 2>&1 </dev/null)
echo "$out" | grep -q 'LOOPBACK,UP'; ok $? "new user and network namespaces: lo is up ($out)"

# joining an existing network namespace leaves its lo alone
ip netns add "$NS"; ok $? "network namespace $NS made (lo down)"
ip -n "$NS" -o link show lo | grep -q '<LOOPBACK>'; ok $? "its lo is down before"
mk_bundle "$WORK/join" ".process.args = [\"sh\", \"-c\", \"cat /sys/class/net/lo/flags; sleep 600\"]
	| .linux.namespaces |= map(if .type == \"network\" then .path = \"/run/netns/$NS\" else . end)" || ok 1 bundle
$OCI run -d -b "$WORK/join" gr-test-rt-lo-join >/dev/null 2>&1 </dev/null; ok $? "container joins $NS by path"
ip -n "$NS" -o link show lo | grep -q '<LOOPBACK>'; ok $? "lo of the joined namespace is still down"
$OCI delete --force gr-test-rt-lo-join; ok $? "deleted"
ip -n "$NS" link set lo up && ip -n "$NS" link set lo down && ip -n "$NS" link set lo up; ok $? "lo of $NS up"
$OCI run -d -b "$WORK/join" gr-test-rt-lo-join2 >/dev/null 2>&1 </dev/null; ok $? "container joins $NS again"
ip -n "$NS" -o link show lo | grep -q 'LOOPBACK,UP'; ok $? "lo of the joined namespace is still up"
$OCI delete --force gr-test-rt-lo-join2; ok $? "deleted"
tap_done
