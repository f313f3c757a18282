#!/usr/bin/env bash
# isolation.sh - what a container sees: pid 1, mounts and /dev, masked and read-only
# paths, read-only root, capabilities, seccomp, user namespace mapping, sysctl.
. "$GR_SRC/tests/integration/runtime/lib/common.bash"
B=$WORK/b
runc_out() { # run the bundle, print its output
	$OCI run -b "$B" "$1" 2>&1
}

mk_bundle "$B" '.process.args = ["sh", "-c", "
	echo pid=$$
	grep -c . /proc/mounts >/dev/null && echo proc-mounted
	for d in null zero full random urandom tty ptmx fd stdin stdout stderr; do [ -e /dev/$d ] || echo missing-$d; done
	head -c 4 /dev/urandom | wc -c
	[ -c /dev/null ] && echo null-is-char
	[ -d /dev/pts ] && [ -d /dev/shm ] && echo pts-shm
	cat /proc/kcore 2>/dev/null | wc -c
	[ -z \"$(ls /sys/firmware)\" ] && echo firmware-masked
	echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null || echo proc-sys-ro
	touch /rootfile 2>/dev/null || echo root-ro
	touch /tmp/x && echo tmp-rw
	grep CapEff /proc/self/status
	grep CapBnd /proc/self/status
	grep NoNewPrivs /proc/self/status
	ls /sys/fs/cgroup
	ip link 2>/dev/null | grep -c \": \" 
	"]'
out=$(runc_out gr-test-rt-iso1)
diag "$(echo "$out" | tr '\n' ' ')"
echo "$out" | grep -q '^pid=1$'; ok $? "the program is pid 1"
echo "$out" | grep -q proc-mounted; ok $? "/proc is mounted"
! echo "$out" | grep -q missing-; ok $? "default devices and /dev symlinks exist"
echo "$out" | grep -qx 4; ok $? "/dev/urandom works"
echo "$out" | grep -q null-is-char; ok $? "/dev/null is a character device"
echo "$out" | grep -q pts-shm; ok $? "/dev/pts and /dev/shm mounted"
echo "$out" | grep -qx 0; ok $? "masked file /proc/kcore reads empty"
echo "$out" | grep -q firmware-masked; ok $? "masked folder /sys/firmware is empty"
echo "$out" | grep -q proc-sys-ro; ok $? "read-only path /proc/sys refuses writes"
echo "$out" | grep -q root-ro; ok $? "readonly root refuses writes"
echo "$out" | grep -q tmp-rw; ok $? "a tmpfs mount from the config is writable"
# the spec's 14 default capabilities = 0xa80425fb
echo "$out" | grep -q 'CapEff:.*00000000a80425fb'; ok $? "effective caps are the config's (CAP_SYS_ADMIN etc. dropped)"
echo "$out" | grep -q 'CapBnd:.*00000000a80425fb'; ok $? "bounding set dropped to the config's"
echo "$out" | grep -q 'NoNewPrivs:.*1'; ok $? "noNewPrivileges set"
echo "$out" | grep -q '^memory$'; ok $? "cgroup hierarchies visible under /sys/fs/cgroup"

# seccomp: deny mkdir with EPERM; the rest of the default allowlist stays
mk_bundle "$B" '.process.args = ["sh", "-c", "mkdir /tmp/d 2>&1; touch /tmp/f && echo touch-ok"]
	| .linux.seccomp.syscalls |= map(.names -= ["mkdir", "mkdirat"])'
out=$(runc_out gr-test-rt-iso2)
echo "$out" | grep -q 'Operation not permitted'; ok $? "seccomp: mkdir outside the allowlist fails with EPERM ($(echo $out))"
echo "$out" | grep -q touch-ok; ok $? "other syscalls still allowed"
mk_bundle "$B" '.process.args = ["sh", "-c", "mkdir /tmp/d && echo mkdir-ok"]'
out=$(runc_out gr-test-rt-iso3)
echo "$out" | grep -q mkdir-ok; ok $? "without the rule mkdir works ($out)"
mk_bundle "$B" '.process.args = ["sh", "-c", "sh -c \"true\" && echo exec-ok"] | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 1, "value": 15, "op": "SCMP_CMP_EQ"}]}]}'
$OCI run -b "$B" gr-test-rt-iso3b >/dev/null 2>&1; ok $? "seccomp rule with an argument condition loads"

# two conditions on one argument are alternatives (one rule each, as runc and crun do)
mk_bundle "$B" '.process.args = ["sh", "-c", "kill -0 $$ && echo kill0-ok; kill -USR1 $$ 2>&1; echo usr1-done"] | .linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "args": [{"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 12, "op": "SCMP_CMP_EQ"}]}]}'
out=$(runc_out gr-test-rt-iso3c)
echo "$out" | grep -q kill0-ok && echo "$out" | grep -q 'not permitted'; ok $? "seccomp: kill(USR1) denied, kill(0) allowed with two conditions on arg 1 ($(echo $out))"

# capabilities from the config: give CAP_SYS_ADMIN... and drop all
mk_bundle "$B" '.process.args = ["sh", "-c", "grep CapEff /proc/self/status; hostname foo 2>&1 || true"] | .process.capabilities = {"bounding": [], "effective": [], "permitted": [], "inheritable": [], "ambient": []}'
out=$(runc_out gr-test-rt-iso4)
echo "$out" | grep -q 'CapEff:.*0000000000000000'; ok $? "all capabilities dropped ($(echo $out))"

# user and groups
mk_bundle "$B" '.process.args = ["sh", "-c", "id -u; id -g; id -G; umask"] | .process.user = {"uid": 1000, "gid": 1001, "additionalGids": [5, 7], "umask": 63}'
out=$(runc_out gr-test-rt-iso5 | tr '\n' ' ')
[ "$out" = "1000 1001 1001 5 7 0077 " ]; ok $? "uid/gid/additionalGids/umask applied ($out)"

# user namespace: container root is host uid 100000
mk_bundle "$B" '.process.args = ["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; echo; ls -ln /bin/busybox"]
	| .linux.namespaces += [{"type": "user"}]
	| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
	| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
out=$(runc_out gr-test-rt-iso6)
echo "$out" | grep -Eq '^ +0 +100000 +65536$'; ok $? "uid_map inside is 0 100000 65536 ($(echo "$out" | tr '\n' ' '))"
echo "$out" | grep -qx 0; ok $? "the process is root inside the user namespace"
echo "$out" | grep -q ' 65534 \+65534 .*busybox'; ok $? "host-root files appear as nobody (unmapped)"

# sysctl and domainname
mk_bundle "$B" '.process.args = ["sh", "-c", "cat /proc/sys/net/ipv4/ip_forward; cat /proc/sys/kernel/domainname"] | .linux.sysctl = {"net.ipv4.ip_forward": "1"} | .domainname = "gr.example"'
out=$(runc_out gr-test-rt-iso7 | tr '\n' ' ')
[ "$out" = "1 gr.example " ]; ok $? "sysctl in the container's netns and domainname ($out)"
[ "$(cat /proc/sys/net/ipv4/ip_forward)" != "" ]; ok $? "host sysctl readable (unchanged by the container's)"

# bind mount with options, propagation
mkdir -p "$WORK/share" && echo hello >"$WORK/share/file"
mk_bundle "$B" '.process.args = ["sh", "-c", "cat /mnt/s/file; (echo x > /mnt/s/new) 2>/dev/null || echo bind-ro"] | .mounts += [{"destination": "/mnt/s", "type": "bind", "source": "'"$WORK/share"'", "options": ["rbind", "ro", "rprivate"]}]'
out=$(runc_out gr-test-rt-iso8 | tr '\n' ' ')
[ "$out" = "hello bind-ro " ]; ok $? "read-only bind mount of a host folder ($out)"
# time namespace (unshared by the init, entered by the program at exec)
mk_bundle "$B" '.process.args = ["sh", "-c", "readlink /proc/self/ns/time"] | .linux.namespaces += [{"type": "time"}]'
out=$(runc_out gr-test-rt-iso9)
[ -n "$out" ] && [ "$out" != "$(readlink /proc/self/ns/time)" ]; ok $? "the program runs in a new time namespace ($out)"
mk_bundle "$B" '.process.args = ["sleep", "1000"] | .linux.namespaces += [{"type": "time"}]'
$OCI run -d -b "$B" gr-test-rt-iso10 >"$WORK/out" 2>&1
pid=$($OCI state gr-test-rt-iso10 | jq .pid)
[ "$($OCI exec gr-test-rt-iso10 readlink /proc/self/ns/time)" = "$(readlink /proc/$pid/ns/time)" ]; ok $? "exec joins the time namespace"
$OCI delete -f gr-test-rt-iso10
[ "$(cg_count)" = 0 ]; ok $? "no cgroup left behind"
tap_done
