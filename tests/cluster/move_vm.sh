#!/usr/bin/env bash
# move_vm.sh - live move of a running VM between hosts of a pool (docs/MIGRATION.md):
# three daemons in their own network namespaces on a private etcd; the debian-vm master is
# built on h1 only (h2 fetches it for the move's prepare step).  A file and a 4 MiB random
# blob written inside the guest (through the guest agent) survive h1 -> h2 and the way back
# (through h1's API, forwarded to h2); the record names the new host and pid, that QEMU
# runs in the new host's cgroup, and the old host keeps no QEMU, folder, layer, cgroup or
# journal record.  Bad input is refused before anything starts (unknown host, same host,
# offline target, unknown instance, a stopped VM, bad fields) and changes nothing.  Crash
# points (GR_MOVE_CRASH_AT makes the source daemon die): with RAM and disk copied but the
# record not switched -> after the restart the VM runs on the source only; with the record
# switched but the target not resumed -> it runs on the target only.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
command -v qemu-system-x86_64 >/dev/null || { skip "needs qemu-system-x86"; tap_done; }
cluster_start 3; ok $? "etcd and 3 daemons with peer listeners (own network namespaces: $NETNS_ON)"
etcdctl_() { in_ns "$SW" env ETCDCTL_API=3 etcdctl --endpoints="$ETCD_IP:${ETCD_CPORT[0]}" "$@"; }
ifield() { # I NAME KEY
	gh "$1" show "$2" --format json 2>/dev/null | python3 -c "import sys,json; v=json.load(sys.stdin).get('$3'); print('' if v is None else v)"
}
qemus_of() { # I: QEMU processes whose command line names host I's folder
	local p
	for p in $(pgrep -f "qemu-system.*$TD/h$1/" 2>/dev/null); do
		[ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] || echo "$p"
	done
}
no_copy_on() { # I NAME: nothing of NAME is left on host I
	local i=$1 n=$2 left=""
	[ -z "$(qemus_of "$i")" ] || left="$left qemu:$(qemus_of "$i" | tr '\n' ' ')"
	[ -e "$TD/h$i/state/instances/$n" ] && left="$left folder"
	[ -e "$TD/h$i/state/layers/$n" ] && left="$left layer"
	[ -e "$TD/h$i/run/vm/$n" ] && left="$left sockets"
	for r in $(cg_roots); do [ -d "$r/$(hcgp "$i")/$n" ] && left="$left cgroup:$r"; done
	[ -z "$left" ] || { echo "# h$i still has:$left"; return 1; }
}
runs_on() { # I NAME: the record says host I, running, and its pid is a QEMU in I's cgroup
	local i=$1 n=$2 pid
	[ "$(ifield "${VIA:-1}" "$n" host)" = "h$i" ] && [ "$(ifield "${VIA:-1}" "$n" state)" = running ] || return 1
	pid=$(ifield "${VIA:-1}" "$n" pid)
	[ -n "$pid" ] && grep -q "$(hcgp "$i")/$n" "/proc/$pid/cgroup" 2>/dev/null &&
		tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "qemu-system.*$TD/h$i/"
}
journal_empty() { [ -z "$(etcdctl_ get --prefix /gureum/moves/ --keys-only 2>/dev/null)" ]; }
guest_data() { gh "$1" exec "$2" -- sh -c 'cat /root/moved.txt; md5sum /root/blob | cut -d" " -f1' 2>&1; }

run_ok "image build debian-vm on h1 only" gh 1 image build debian-vm
! gh 2 image show debian-vm >/dev/null 2>&1; ok $? "h2 does not hold debian-vm"
gh 1 launch debian-vm v1 --vm --memory 128M --network none --target h1 >/dev/null 2>"$TD/err"
ok $? "launch VM v1 on h1: $(cat "$TD/err")"
gh 1 exec v1 -- sh -c 'echo payload-$$-kept > /root/moved.txt; dd if=/dev/urandom of=/root/blob bs=1M count=4 2>/dev/null; sync' >"$TD/err" 2>&1
ok $? "a file and a 4 MiB random blob written in the guest: $(cat "$TD/err")"
before=$(guest_data 1 v1)
[ -n "$before" ] && echo "$before" | grep -q payload; ok $? "guest data read back: $(echo "$before" | tr '\n' ' ')"
runs_on 1 v1; ok $? "v1 runs on h1"

# ---- bad input: refused before anything starts ----
bad() { # DESCRIPTION EXPECTED-TEXT ARGS...
	local d=$1 want=$2; shift 2
	local ops0; ops0=$(etcdctl_ get --prefix /gureum/ops/ --keys-only | grep -c .)
	! gh 1 move "$@" >"$TD/out" 2>"$TD/err" && grep -q -- "$want" "$TD/err" &&
		[ "$(etcdctl_ get --prefix /gureum/ops/ --keys-only | grep -c .)" = "$ops0" ]
	ok $? "$d: refused, no operation started ($(head -c 200 "$TD/err"))"
}
bad "unknown host" "no host named 'nosuch'" v1 --target nosuch
bad "same host" "already runs on host h1" v1 --target h1
bad "unknown instance" "does not exist\|no instance" ghost --target h2
bad "bad bandwidth" "bandwidth" v1 --target h2 --bandwidth lots
gh 1 move v1 >/dev/null 2>"$TD/err"; [ $? = 2 ] && grep -q -- "--target HOST is required" "$TD/err"; ok $? "no --target: usage error"
gh 1 move --help | grep -q "usage: gureum move NAME --target HOST"; ok $? "move --help"
host_kill 3
wait_for 150 sh -c "GUREUM_SOCKET=$(hsock 1) $GUREUM host list 2>/dev/null | grep -qE '^h3 +offline'"
ok $? "h3 is seen offline"
bad "offline target" "host 'h3' is offline" v1 --target h3
runs_on 1 v1 && journal_empty && no_copy_on 2 v1; ok $? "after the refusals: v1 still runs on h1, nothing on h2, no journal"

# ---- h1 -> h2 ----
gh 1 move v1 --target h2 --json >"$TD/op.json" 2>"$TD/err"; r=$?
ok $r "move v1 h1 -> h2: $(tail -c 300 "$TD/err")"
[ $r = 0 ] || { tail -n 30 "$TD/h1/daemon.log" | sed 's/^/#   h1: /'; tail -n 30 "$TD/h2/daemon.log" | sed 's/^/#   h2: /'; }
python3 -c "import sys,json; d=json.load(open('$TD/op.json')); r=d['result']; assert d['status']=='success' and r['host']=='h2'; print('# downtime_ms', r['downtime_ms'], 'total_s', round(r['total_s'],2))" 2>&1
ok $? "the operation ended with success, result host h2"
runs_on 2 v1; ok $? "v1 runs on h2 (pid $(ifield 1 v1 pid), h2's cgroup)"
after=$(guest_data 2 v1)
[ "$after" = "$before" ]; ok $? "file and blob intact on h2: $(echo "$after" | tr '\n' ' ')"
no_copy_on 1 v1; ok $? "h1 keeps no QEMU, folder, layer, sockets or cgroup of v1"
journal_empty; ok $? "the move's journal record is gone"
gh 2 image show debian-vm >/dev/null 2>&1; ok $? "h2 fetched the master for the move"
grep -q "move v1: step transfer" "$TD/h1/daemon.log" && grep -q "move v1: destination from h1 ready" "$TD/h2/daemon.log"
ok $? "both daemons' logs name the steps"

# ---- back h2 -> h1, asked through h1 (forwarded to the owner h2) ----
gh 1 move v1 --target h1 >"$TD/out" 2>"$TD/err"; ok $? "move v1 back to h1 through h1's API: $(cat "$TD/out" "$TD/err" | tr '\n' ' ')"
runs_on 1 v1 && [ "$(guest_data 1 v1)" = "$before" ] && no_copy_on 2 v1 && journal_empty
ok $? "v1 runs on h1 again with its data, nothing left on h2"
gh 1 exec v1 -- sh -c 'echo second-$$ >> /root/moved.txt; sync' && before=$(guest_data 1 v1)

# ---- crash points of the source daemon ----
crash_move() { # STEP: h1 restarted with the hook, the move fails, h1 restarted without it
	host_kill 1 TERM
	GR_MOVE_CRASH_AT=$1 host_start 1 || return 1
	gh 1 move v1 --target h2 >/dev/null 2>&1 # the daemon dies at STEP
	for _ in $(seq 1 100); do kill -0 "${HPID[1]}" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "${HPID[1]}" 2>/dev/null || return 1
	wait "${HPID[1]}" 2>/dev/null; HPID[1]=""
	host_start 1
}
crash_move switch; ok $? "h1 died with RAM and disk on h2, record not switched; restarted"
wait_for 100 journal_empty; ok $? "the journal record is resolved"
runs_on 1 v1 && [ "$(ifield 1 v1 state)" = running ]; ok $? "v1 runs on h1 (the source), as recorded"
[ "$(guest_data 1 v1)" = "$before" ]; ok $? "its data intact, the guest answers"
wait_for 100 no_copy_on 2 v1; ok $? "h2's copy (QEMU, overlay, folder) is gone"
crash_move switched; ok $? "h1 died with the record switched, h2 not resumed; restarted"
wait_for 100 journal_empty; ok $? "the journal record is resolved"
runs_on 2 v1; ok $? "v1 runs on h2 (the target), as recorded"
[ "$(guest_data 2 v1)" = "$before" ]; ok $? "its data intact, the guest answers on h2"
no_copy_on 1 v1; ok $? "h1's copy is gone"

# ---- the target daemon dies with its QEMU listening (before it answered); v1 is on h2 ----
host_kill 1 TERM
GR_MOVE_CRASH_AT=prepared host_start 1; ok $? "h1 restarted with the crash hook"
! gh 2 move v1 --target h1 >/dev/null 2>"$TD/err"; ok $? "the move h2 -> h1 fails: $(head -c 200 "$TD/err")"
for _ in $(seq 1 100); do kill -0 "${HPID[1]}" 2>/dev/null || break; sleep 0.1; done
wait "${HPID[1]}" 2>/dev/null; HPID[1]=""
VIA=2 runs_on 2 v1; ok $? "v1 still runs on h2 (as h2 sees it)"
[ -n "$(qemus_of 1)" ]; ok $? "h1's paused destination QEMU is left while h1 is down"
host_start 1; ok $? "h1 restarted"
wait_for 100 journal_empty; ok $? "the journal record is resolved by h1's recovery"
wait_for 100 no_copy_on 1 v1; ok $? "h1's leftover copy (QEMU, overlay, folder) is gone"
[ "$(guest_data 2 v1)" = "$before" ]; ok $? "v1's data intact on h2"

# ---- the target's QEMU is killed during the transfer (h2 -> h1) ----
gh 1 move v1 --target h1 --bandwidth 1M >"$TD/out" 2>"$TD/err" &
mv_pid=$!
n0=$(grep -c "move v1: destination from h2 ready" "$TD/h1/daemon.log")
wait_for 300 sh -c "[ \$(grep -c 'move v1: destination from h2 ready' '$TD/h1/daemon.log') -gt $n0 ]"
ok $? "the destination QEMU on h1 is ready (the transfer starts)"
sleep 0.5
pkill -9 -f "qemu-system.*$TD/h1/"
wait $mv_pid; r=$?
[ $r != 0 ]; ok $? "the move fails: $(head -c 300 "$TD/err")"
runs_on 2 v1 && [ "$(guest_data 2 v1)" = "$before" ]; ok $? "v1 runs on h2 with its data"
wait_for 50 no_copy_on 1 v1 && journal_empty; ok $? "nothing left on h1, no journal record"
[ -z "$(ifield 1 v1 op)" ]; ok $? "the record has no operation under way ($(ifield 1 v1 op))"

# ---- a VM that is not running ----
gh 1 stop --force v1 >/dev/null 2>&1
bad "a stopped VM" "only a running VM moves" v1 --target h3
run_ok "delete v1" gh 1 delete --force v1
no_copy_on 1 v1 && no_copy_on 2 v1; ok $? "nothing of v1 on h1 or h2"
tap_done
