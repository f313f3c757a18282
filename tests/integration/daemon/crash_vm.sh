#!/usr/bin/env bash
# crash_vm.sh - kill -9 of gureumd while VMs are launched, stopped, started,
# snapshotted and deleted.  After every restart each VM runs exactly once or
# not at all: a running record has its QEMU (the recorded pid, the only
# process in its cgroup); a stopped or defined one has no QEMU and no cgroup;
# no QEMU of this daemon runs without a record, no folder, layer or cgroup is
# left without one, and gureumd has no <defunct> children.  The kill comes
# after a counted number of the daemon's logged steps, and the run ends after
# a counted number of operations (not after a time).  GR_CRASH_SEED=n replays.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
SEED=${GR_CRASH_SEED:-$$}
RANDOM=$SEED
diag "seed $SEED"
OPS_WANTED=${GR_CRASH_VM_OPS:-24}
start_daemon crvm; ok $? "gureumd starts"
out=$("$G" image build debian-vm 2>&1); ok $? "debian-vm image builds" || diag "$out"
NAMES=3
OPS=$TD/ops
: >"$OPS"

worker() { # VM operations until killed
	local r=$1 k n
	RANDOM=$r
	while :; do
		k=$((RANDOM % NAMES)); n=vm-$k
		case $((RANDOM % 6)) in
		0|1) "$G" launch debian-vm "$n" --vm --memory 128M >/dev/null 2>&1 ;;
		2) "$G" stop --force "$n" >/dev/null 2>&1 ;;
		3) "$G" start "$n" >/dev/null 2>&1 ;;
		4) "$G" snapshot create "$n" "s$RANDOM" --stop >/dev/null 2>&1 ;;
		5) "$G" delete --force "$n" >/dev/null 2>&1 ;;
		esac
		echo x >>"$OPS"
	done
}

# QEMU processes of this daemon: "pid name" (by the instance folder in their command line)
qemus() {
	local p
	for p in $(pgrep -f "qemu-system.*$TD/" 2>/dev/null); do
		[ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = Z ] && continue
		tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | grep -o "$TD/[a-z]*/instances/[^/]*" | head -1 |
			sed "s|.*/||; s|^|$p |"
	done
}

cg_pids() { cat /sys/fs/cgroup/memory/"$CGP"/"$1"/cgroup.procs 2>/dev/null | sort -u | tr '\n' ' '; }

defunct_children() { ps -o pid=,stat=,comm= --ppid "$DPID" 2>/dev/null | awk '$2 ~ /^Z/'; }

check_consistent() { # round
	local bad=0 list lines names="" n s p
	list=$(json_list) || { ok 1 "round $1: list answers"; return; }
	lines=$(echo "$list" | python3 -c '
import sys, json
for i in json.load(sys.stdin):
    print(i["name"], i["state"], i.get("pid") or 0)')
	local q; q=$(qemus)
	while read -r n s p; do
		[ -n "$n" ] || continue
		names="$names $n"
		local mine; mine=$(echo "$q" | awk -v n="$n" '$2 == n {print $1}' | tr '\n' ' ')
		case $s in
		running)
			dead "$p" && { echo "# $n running but pid $p is dead"; bad=1; }
			[ "$mine" = "$p " ] || { echo "# $n running as pid $p, QEMUs of it: [$mine]"; bad=1; }
			[ "$(cg_pids "$n")" = "$p " ] || { echo "# $n: cgroup holds [$(cg_pids "$n")], not $p"; bad=1; } ;;
		stopped|defined)
			[ -z "$mine" ] || { echo "# $n $s but QEMU runs: $mine"; bad=1; }
			for d in /sys/fs/cgroup/*/"$CGP"/"$n"; do [ -d "$d" ] && { echo "# $n $s but has cgroup $d"; bad=1; }; done ;;
		*) echo "# $n left in transient state $s"; bad=1 ;;
		esac
		[ -d "$TD/state/layers/$n" ] || { echo "# $n has no layers"; bad=1; }
	done <<<"$lines"
	while read -r p n; do
		[ -n "$p" ] || continue
		case " $names " in *" $n "*) ;; *) echo "# QEMU $p of $n runs without a record"; bad=1 ;; esac
	done <<<"$q"
	for d in "$TD"/state/instances/* "$TD"/state/layers/* /sys/fs/cgroup/memory/"$CGP"/*/ /sys/fs/cgroup/cpu/"$CGP"/*/; do
		[ -d "$d" ] || continue
		case " $names " in *" $(basename "$d") "*) ;; *) echo "# orphan $d"; bad=1 ;; esac
	done
	# a zombie child is reaped when the daemon notices it; one that stays is a leak
	local i z
	for i in $(seq 1 50); do z=$(defunct_children); [ -z "$z" ] && break; sleep 0.1; done
	[ -z "$z" ] || { echo "# defunct children of gureumd: $z"; bad=1; }
	ok $bad "round $1: every VM runs exactly once or not at all ($(echo $names | wc -w) VMs, $(wc -l <"$OPS") ops so far)"
}

round=0
while [ "$(wc -l <"$OPS")" -lt "$OPS_WANTED" ] && [ $round -lt 200 ]; do
	round=$((round + 1))
	target=$(($(steps) + 1 + RANDOM % 12))
	worker $((SEED + round)) &
	W=$!
	wait_steps "$target" || ok 1 "round $round: the daemon made no progress"
	stop_daemon KILL
	kill "$W" 2>/dev/null; wait "$W" 2>/dev/null
	sleep 0.1
	start_daemon crvm || { ok 1 "round $round: daemon restarts"; break; }
	check_consistent $round
done
[ "$(wc -l <"$OPS")" -ge "$OPS_WANTED" ]; ok $? "$(wc -l <"$OPS") VM operations ran across $round crashes"
# what is left works: every VM starts and stops, then deletes
for n in $(json_list | python3 -c 'import sys,json; [print(i["name"]) for i in json.load(sys.stdin)]'); do
	"$G" start "$n" >/dev/null 2>&1
	st=$(field "$n" state)
	[ "$st" = running ]; ok $? "$n starts after the crashes (state $st)"
	"$G" delete --force "$n" >/dev/null 2>&1; ok $? "$n deletes"
done
[ "$(json_list)" = "[]" ]; ok $? "everything deletes after the crashes"
[ -z "$(qemus)" ]; ok $? "no QEMU left: $(qemus | head -3 | tr '\n' ' ')"
[ -z "$(leftovers)" ]; ok $? "no mounts or cgroups left: $(leftovers | head -3 | tr '\n' ' ')"
z=$(defunct_children); [ -z "$z" ]; ok $? "gureumd has no defunct children: $z"
tap_done
