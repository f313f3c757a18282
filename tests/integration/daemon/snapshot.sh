#!/usr/bin/env bash
# snapshot.sh - snapshots through the daemon (gureum snapshot, /v1/.../snapshots):
# a container's file comes back as it was after a restore (taken and restored
# with --stop while running, and at rest); running containers without --stop
# are refused with a hint; bad names/fields are 400 naming the field, unknown
# instance/snapshot 404, an existing snapshot 409; a failed create leaves no
# record; the list survives a daemon restart; deleting the instance drops its
# snapshots (a new instance of the same name starts with none).
# VMs (debian-vm guest, exec over the serial console; GR_TEST_VM=0 skips):
# a memory snapshot restored live and a disk-only one restored with --stop
# both bring back a file's content.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
C=gr-test-snap-c
daemon_failed() { sed 's/^/#   /' "$TD/daemon.err" | tail -n 20; tap_done; }
start_daemon snap; rc=$?; ok $rc "gureumd starts"; [ $rc -eq 0 ] || daemon_failed
ensure_busybox
run_ok "launch $C" "$G" launch busybox "$C"
run_ok "write a file" "$G" exec "$C" -- sh -c 'echo one > /data.txt'

snapnames() { "$G" snapshot list "$1" --format json | python3 -c "import sys,json; print(' '.join(s['name'] for s in json.load(sys.stdin)))"; }

out=$("$G" snapshot create "$C" s1 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q -- "--stop"; ok $? "create on a running container is refused with a hint ($out)"
run_ok "snapshot create --stop" "$G" snapshot create "$C" s1 --stop
[ "$(field "$C" state)" = running ]; ok $? "the container runs again after the snapshot"
run_ok "change the file, add another" "$G" exec "$C" -- sh -c 'echo two > /data.txt; echo x > /extra.txt'
out=$("$G" snapshot restore "$C" s1 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q -- "--stop"; ok $? "restore on a running container is refused with a hint"
run_ok "snapshot restore --stop" "$G" snapshot restore "$C" s1 --stop
out=$("$G" exec "$C" -- cat /data.txt 2>&1); [ "$out" = one ]; ok $? "restore brings back the file's content ($out)"
"$G" exec "$C" -- test -e /extra.txt >/dev/null 2>&1; [ $? -ne 0 ]; ok $? "a file made after the snapshot is gone"

run_ok "stop" "$G" stop "$C"
run_ok "snapshot create at rest" "$G" snapshot create "$C" s2
run_ok "start" "$G" start "$C"
run_ok "change the file again" "$G" exec "$C" -- sh -c 'echo three > /data.txt'
run_ok "stop again" "$G" stop "$C"
run_ok "restore at rest" "$G" snapshot restore "$C" s2
run_ok "start again" "$G" start "$C"
out=$("$G" exec "$C" -- cat /data.txt 2>&1); [ "$out" = one ]; ok $? "restore at rest brings the file back ($out)"
[ "$(snapnames "$C")" = "s1 s2" ]; ok $? "list shows s1 s2 ($(snapnames "$C"))"
"$G" snapshot list "$C" | grep -q "^s1 .*files"; ok $? "table output names the kind"
"$G" snapshot list "$C" --format yaml | grep -q "name: s2"; ok $? "yaml output"
"$G" snapshot show "$C" s1 --format json | grep -q '"instance_state": "running"'; ok $? "show: s1 was taken while running"

# errors: API status codes and fields
r=$(api POST "/v1/instances/$C/snapshots" '{"name":"Bad Name"}')
[ "$(echo "$r" | tail -1)" = 400 ] && echo "$r" | grep -q '"name: '; ok $? "bad snapshot name -> 400 naming the field"
r=$(api POST "/v1/instances/$C/snapshots" '{}')
[ "$(echo "$r" | tail -1)" = 400 ] && echo "$r" | grep -q 'name: required'; ok $? "missing name -> 400"
r=$(api POST "/v1/instances/$C/snapshots" '{"name":"s3","memory":true}')
[ "$(echo "$r" | tail -1)" = 400 ] && echo "$r" | grep -q '"memory: '; ok $? "memory on a container -> 400 naming memory"
r=$(api POST "/v1/instances/$C/snapshots" '{"name":"s3","colour":1}')
[ "$(echo "$r" | tail -1)" = 400 ] && echo "$r" | grep -q 'colour: unknown field'; ok $? "unknown field -> 400"
r=$(api POST "/v1/instances/$C/snapshots" '{"name":"s1","stop":true}')
[ "$(echo "$r" | tail -1)" = 409 ]; ok $? "existing snapshot -> 409"
r=$(api POST "/v1/instances/gr-test-snap-none/snapshots" '{"name":"s1"}')
[ "$(echo "$r" | tail -1)" = 404 ] && echo "$r" | grep -q "gr-test-snap-none"; ok $? "unknown instance -> 404 naming it"
r=$(api GET "/v1/instances/gr-test-snap-none/snapshots")
[ "$(echo "$r" | tail -1)" = 404 ]; ok $? "list of an unknown instance -> 404"
r=$(api POST "/v1/instances/$C/snapshots/nope/restore" '{"stop":true}')
[ "$(echo "$r" | tail -1)" = 404 ] && echo "$r" | grep -q "no snapshot 'nope'"; ok $? "restore of an unknown snapshot -> 404"
r=$(api DELETE "/v1/instances/$C/snapshots/nope")
[ "$(echo "$r" | tail -1)" = 404 ]; ok $? "delete of an unknown snapshot -> 404"
r=$(api DELETE "/v1/instances/$C/snapshots/BAD%20x")
[ "$(echo "$r" | tail -1)" = 400 ] && echo "$r" | grep -q '"snapshot: '; ok $? "bad snapshot name in the path -> 400 naming snapshot"
"$G" snapshot create gr-test-snap-none s1 >/dev/null 2>&1; [ $? -eq 1 ]; ok $? "CLI: unknown instance exits 1"
"$G" snapshot create "$C" >/dev/null 2>&1; [ $? -eq 2 ]; ok $? "CLI: missing SNAP is a usage error (2)"
"$G" snapshot --help | grep -q "snapshot restore"; ok $? "CLI: --help"

# a create that fails on the host leaves no record
run_ok "stop for the failure test" "$G" stop "$C"
snapdir=$TD/state/layers/$C/snapshots
[ -d "$snapdir/s1" ] && [ -d "$snapdir/s2" ]; ok $? "s1 and s2 are on the host ($snapdir)"
if chattr +i "$snapdir" 2>/dev/null; then
	"$G" snapshot create "$C" s-fail >/dev/null 2>&1; rc=$?
	chattr -i "$snapdir"
	[ $rc -eq 1 ]; ok $? "create fails when the host cannot write the snapshot"
	[ "$(snapnames "$C")" = "s1 s2" ]; ok $? "and leaves no record ($(snapnames "$C"))"
else
	skip "cannot make $snapdir immutable (chattr) to force a host failure"
fi

# two creates of one name racing: the name lock lets exactly one through
"$G" snapshot create "$C" race >/dev/null 2>&1 & p1=$!
"$G" snapshot create "$C" race >/dev/null 2>&1 & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
[ $((r1 + r2)) -eq 1 ]; ok $? "two racing creates of one name: exactly one succeeds (exit codes $r1 $r2)"
run_ok "delete race" "$G" snapshot delete "$C" race

# a host snapshot without a record (left by a create a daemon crash cut
# short) is replaced by the next create of that name
mkdir -p "$snapdir/orphan/upper" && echo stale > "$snapdir/orphan/upper/data.txt"
run_ok "create over an orphaned host snapshot" "$G" snapshot create "$C" orphan
[ "$(cat "$snapdir/orphan/upper/data.txt" 2>&1)" = one ]; ok $? "the orphan was replaced by a fresh copy of the layer"
run_ok "delete it" "$G" snapshot delete "$C" orphan

# records survive a daemon restart
stop_daemon TERM
start_daemon snap; rc=$?; ok $rc "gureumd starts again"; [ $rc -eq 0 ] || daemon_failed
[ "$(snapnames "$C")" = "s1 s2" ]; ok $? "list after restart shows s1 s2"
run_ok "delete s2" "$G" snapshot delete "$C" s2
[ "$(snapnames "$C")" = "s1" ]; ok $? "list after delete shows s1"
[ ! -e "$snapdir/s2" ] && [ -d "$snapdir/s1" ]; ok $? "s2 is gone on the host, s1 is kept"
"$G" snapshot delete "$C" s2 >/dev/null 2>&1; [ $? -eq 1 ]; ok $? "deleting it again fails"

# a new instance of the same name starts without the old snapshots
run_ok "delete the instance" "$G" delete --force "$C"
r=$(api GET "/v1/instances/$C/snapshots"); [ "$(echo "$r" | tail -1)" = 404 ]; ok $? "its snapshot list is 404"
n=$(sqlite3 "file:$TD/state/state.db?mode=ro" "SELECT count(*) FROM kv WHERE key LIKE '/gureum/snapshots/$C/%'" 2>&1)
[ "$n" = 0 ]; ok $? "its snapshot records are dropped from the store (left: $n)"
run_ok "create it again" "$G" create busybox "$C"
[ -z "$(snapnames "$C")" ]; ok $? "the new instance has no snapshots"
run_ok "delete it" "$G" delete --force "$C"

vm_ready() { # NAME: wait for the guest's ready line after the last boot
	local log=$TD/state/instances/$1/console.log n=$2
	for _ in $(seq 1 900); do
		[ "$(grep -c "gureum-guest: ready" "$log" 2>/dev/null)" -ge "$n" ] && return 0
		sleep 0.1
	done
	return 1
}
vm_cat() { "$G" exec "$1" -- cat /root/data.txt 2>&1 | tr -d '\r'; }

V=gr-test-snap-vm
if [ "${GR_TEST_VM:-1}" = 0 ]; then
	skip "VM snapshots: GR_TEST_VM=0"
elif ! command -v qemu-system-x86_64 >/dev/null; then
	skip "VM snapshots: qemu-system-x86_64 is not installed"
else
	out=$("$G" image build debian-vm 2>&1); rc=$?
	if [ $rc -ne 0 ] && echo "$out" | grep -q "no build recipe"; then
		skip "VM snapshots: no debian-vm recipe in this build ($out)"
		[ -z "$(leftovers)" ]; ok $? "no mounts or cgroups left"
		tap_done
	fi
	ok $rc "image build debian-vm"
	[ $rc -eq 0 ] || { printf '%s\n' "$out" | sed 's/^/#   /'; tap_done; }
	run_ok "launch a VM" "$G" launch debian-vm "$V" --vm --cpu 1 --memory 256M || tap_done
	vm_ready "$V" 1; rc=$?; ok $rc "guest ready"; [ $rc -eq 0 ] || tap_done
	run_ok "VM: write a file" "$G" exec "$V" -- sh -c 'echo one > /root/data.txt; sync'
	run_ok "VM: memory snapshot of the running VM" "$G" snapshot create "$V" m1
	"$G" snapshot show "$V" m1 --format json | grep -q '"memory": true'; ok $? "VM: the snapshot holds memory"
	run_ok "VM: change the file" "$G" exec "$V" -- sh -c 'echo two > /root/data.txt; sync'
	run_ok "VM: live restore" "$G" snapshot restore "$V" m1
	[ "$(field "$V" state)" = running ]; ok $? "VM: still running after the live restore"
	out=$(vm_cat "$V"); [ "$out" = one ]; ok $? "VM: the file is back ($out)"
	out=$("$G" snapshot create "$V" d1 --no-memory 2>&1); [ $? -eq 1 ] && echo "$out" | grep -q "memory:"
	ok $? "VM: --no-memory while running is refused naming memory"
	run_ok "VM: stop" "$G" stop "$V"
	run_ok "VM: disk-only snapshot of the stopped VM" "$G" snapshot create "$V" d1
	"$G" snapshot show "$V" d1 --format json | grep -q '"memory": false'; ok $? "VM: d1 is disk-only"
	run_ok "VM: start" "$G" start "$V"
	vm_ready "$V" 2; ok $? "VM: guest ready again"
	run_ok "VM: change the file again" "$G" exec "$V" -- sh -c 'echo three > /root/data.txt; sync'
	out=$("$G" snapshot restore "$V" d1 2>&1); [ $? -eq 1 ] && echo "$out" | grep -q "disk-only"
	ok $? "VM: a disk-only restore into the running VM is refused ($out)"
	run_ok "VM: restore d1 with --stop" "$G" snapshot restore "$V" d1 --stop
	vm_ready "$V" 3; ok $? "VM: guest ready after the restore"
	out=$(vm_cat "$V"); [ "$out" = one ]; ok $? "VM: the disk-only restore brings the file back ($out)"
	[ "$(snapnames "$V")" = "d1 m1" ]; ok $? "VM: list shows d1 m1"
	run_ok "VM: delete m1 (running)" "$G" snapshot delete "$V" m1
	[ "$(snapnames "$V")" = "d1" ]; ok $? "VM: list shows d1"
	run_ok "VM: delete" "$G" delete --force "$V"
fi
[ -z "$(leftovers)" ]; ok $? "no mounts or cgroups left"
tap_done
