#!/usr/bin/env bash
# crash.sh - kill -9 of gureumd at random points while 100+ launches and
# deletes are in flight.  After every restart: each instance is either fully
# there (a resting state, its folder and layers, a live process when running)
# or fully gone (no record, folder, layer, mount or cgroup), and running
# containers are still running.  Seeded: GR_CRASH_SEED=n replays a run.
# The kill comes after a counted number of the daemon's steps (state changes
# and operations it logs), not after a sleep, and the run ends when 100
# operations are done, however fast or slow the machine is.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
SEED=${GR_CRASH_SEED:-$$}
RANDOM=$SEED
diag "seed $SEED"
start_daemon cr; ok $? "gureumd starts"
ensure_busybox
NAMES=8
OPS=$TD/ops
: >"$OPS"

worker() { # launches and deletes until killed
	local r=$1
	RANDOM=$r
	while :; do
		local k=$((RANDOM % NAMES))
		if [ $((RANDOM % 3)) -eq 0 ]; then
			"$G" create busybox cr-$k >/dev/null 2>&1 || "$G" delete --force cr-$k >/dev/null 2>&1
		else
			"$G" launch busybox cr-$k >/dev/null 2>&1 || "$G" delete --force cr-$k >/dev/null 2>&1
		fi
		echo x >>"$OPS"
	done
}

check_consistent() { # round
	local bad=0 list
	list=$(json_list) || { ok 1 "round $1: list answers"; return; }
	# every record at rest; running ones alive
	local lines
	lines=$(echo "$list" | python3 -c '
import sys, json
for i in json.load(sys.stdin):
    print(i["name"], i["state"], i.get("pid") or 0)')
	local names=""
	while read -r n s p; do
		[ -n "$n" ] || continue
		names="$names $n"
		case $s in
		running) if dead "$p"; then echo "# $n running but pid $p is dead"; bad=1; fi
			 grep -q " $TD/state/instances/$n/rootfs " /proc/self/mounts || { echo "# $n running without its root mount"; bad=1; } ;;
		stopped|defined)
			 grep -q " $TD/state/instances/$n/rootfs " /proc/self/mounts && { echo "# $n $s but still mounted"; bad=1; }
			 for d in /sys/fs/cgroup/*/"$CGP"/"$n"; do [ -d "$d" ] && { echo "# $n $s but has cgroup $d"; bad=1; }; done ;;
		*) echo "# $n left in transient state $s"; bad=1 ;;
		esac
		[ -d "$TD/state/layers/$n" ] || { echo "# $n has no layers"; bad=1; }
	done <<<"$lines"
	# nothing on the host that has no record
	for d in "$TD"/state/instances/* "$TD"/state/layers/*; do
		[ -e "$d" ] || continue
		case " $names " in *" $(basename "$d") "*) ;; *) echo "# orphan $d"; bad=1 ;; esac
	done
	for d in /sys/fs/cgroup/memory/"$CGP"/*/; do
		[ -d "$d" ] || continue
		case " $names " in *" $(basename "$d") "*) ;; *) echo "# orphan cgroup $d"; bad=1 ;; esac
	done
	for d in "$TD"/run/oci/*; do
		[ -e "$d" ] || continue
		case " $names " in *" $(basename "$d") "*) ;; *) echo "# orphan runtime state $d"; bad=1 ;; esac
	done
	ok $bad "round $1: every instance fully there or fully gone ($(echo $names | wc -w) instances, $(wc -l <"$OPS") ops so far)"
}

round=0
while [ "$(wc -l <"$OPS")" -lt 100 ] && [ $round -lt 500 ]; do
	round=$((round + 1))
	# running containers before the crash must survive it
	before=$(json_list | python3 -c '
import sys, json
def started(pid):  # field 22 of /proc/PID/stat: a recycled pid has another
    try:
        return open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "0"
print(" ".join("%s:%s:%s" % (i["name"], i["pid"], started(i["pid"]))
               for i in json.load(sys.stdin) if i["state"] == "running" and i.get("pid")))')
	target=$(($(steps) + 1 + RANDOM % 30))
	worker $((SEED + round)) &
	W=$!
	wait_steps "$target" || ok 1 "round $round: the daemon made no progress"
	stop_daemon KILL
	kill "$W" 2>/dev/null; wait "$W" 2>/dev/null
	sleep 0.1
	start_daemon cr || { ok 1 "round $round: daemon restarts"; break; }
	check_consistent $round
	# the ones that ran before the crash and were not touched since still run
	# (the pid with its start time: pids wrap at pid_max, and a pid the worker
	# freed may belong to another process by now)
	for np in $before; do
		IFS=: read -r n p t <<<"$np"
		dead "$p" && continue            # deleted or restarted by the worker
		[ "$(proc_start "$p")" = "$t" ] || continue   # a recycled pid
		[ "$(field "$n" pid)" = "$p" ] || { ok 1 "round $round: $n (pid $p) runs but is not recorded"; }
	done
done
[ "$(wc -l <"$OPS")" -ge 100 ]; ok $? "$(wc -l <"$OPS") launch/delete operations ran across $round crashes"
for n in $(json_list | python3 -c 'import sys,json; [print(i["name"]) for i in json.load(sys.stdin)]'); do
	"$G" delete --force "$n" >/dev/null 2>&1
done
[ "$(json_list)" = "[]" ]; ok $? "everything deletes after the crashes"
[ -z "$(leftovers)" ]; ok $? "no mounts or cgroups left: $(leftovers | head -3 | tr '\n' ' ')"
tap_done
