#!/usr/bin/env bash
# create_dies.sh - a create that fails late, or whose caller dies, leaves no init behind:
# the init exits when its sync socket closes before create has saved the state (the
# parent's 'd'), and a failing create removes the cgroup and the state folder.
. "$GR_SRC/tests/integration/runtime/lib/common.bash"
M=gr-test-rt-late-$$       # container ids start with it: the init's command line carries it
procs() { pgrep -f -- "$M" | grep -vx "$$" || true; }
dies_cleanup() {
	for p in $(procs); do kill -KILL "$p" 2>/dev/null; done
	for d in /sys/fs/cgroup/*/gureum/"$M"-*; do [ -d "$d" ] && rmdir "$d"; done
	rt_cleanup
}
trap dies_cleanup EXIT
# until no process carries the marker (status decides; at most ~10 s)
wait_gone() { local i; for i in $(seq 200); do [ -z "$(procs)" ] && return 0; sleep 0.05; done; return 1; }
cgs() { ls -d /sys/fs/cgroup/*/gureum/"$M"-* 2>/dev/null | wc -l; }

late_fail() { # what, id, jq filter, [extra create args]
	local what=$1 id=$M-$2
	mk_bundle "$WORK/$2" "$3" || { ok 1 "$what: bundle"; return; }
	$OCI create -b "$WORK/$2" ${4:+"$4"} "$id" >"$WORK/$2.out" 2>&1 </dev/null
	ok $(( $? != 1 )) "$what: create fails ($(tail -1 "$WORK/$2.out"))"
	wait_gone; ok $? "$what: no process of the container is left"
	[ "$(cgs)" = 0 ]; ok $? "$what: no cgroup is left"
	[ ! -e "$STATE/$id" ]; ok $? "$what: no state folder is left"
}
late_fail "createRuntime hook exits 1" hook '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "exit 1"]}]'
late_fail "bad sysctl" sysctl '.linux.sysctl = {"kernel.no_such_knob_gr": "1"}'
late_fail "pid file not writable (after the init is ready)" pidfile '.' "--pid-file=$WORK/no/such/dir/pid"

# the caller itself dies (SIGKILL from its prestart hook) while the init waits for it
id=$M-dies
mk_bundle "$WORK/dies" '.hooks.prestart = [{"path": "/bin/sh", "args": ["sh", "-c", "cat >/dev/null; kill -KILL $PPID"]}]' || ok 1 bundle
{ $OCI create -b "$WORK/dies" "$id" >"$WORK/dies.out" 2>&1 </dev/null; rc=$?; } 2>/dev/null
[ $rc = 137 ]; ok $? "create was killed by its hook (exit $rc)"
wait_gone; ok $? "its init exited on its own (sync socket closed without 'd')"
$OCI state "$id" >/dev/null 2>&1; ok $(( $? == 0 )) "no container '$id' is listed"
tap_done
