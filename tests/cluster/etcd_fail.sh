#!/usr/bin/env bash
# etcd_fail.sh - an etcd member SIGKILLed and restarted while launches, stops
# and deletes go on through all three hosts: nothing lost, nothing doubled.
# A worker per host runs, through that host's CLI, launch / (every 2nd) stop
# / (every 3rd) delete of its own names (8 rounds) and writes down each
# result.  Three times during the run a member is SIGKILLed: first m0, the
# first endpoint of every daemon's URL (the one they use), then m1 (where
# they failed over to), then whichever member is etcd's leader (writes in
# flight get no answer until the election: the daemon cannot tell whether
# they were applied and must resolve that itself).  While a member is down
# every daemon must still write to the store (a `cluster set` through each)
# and calls go on; each member is restarted on its data; the daemons' logs
# name the fail-over away from m0 and m1.
# Afterwards (every host lists the same, nothing left in a passing state such
# as starting or defining), for each name: the CLI's successes decide what
# must be - a launched (and not deleted) name exists once, in the state of its
# last successful call (running / stopped), its folder on one host only, and,
# if running, its cgroup on that host only, holding its recorded pid (alive)
# and nothing but that process's descendants; a deleted name is gone (record,
# folder, cgroup).  A call that failed may or may not have taken effect, but
# what exists must be consistent in the same way.  Costs about 1.5-3 minutes
# on the loaded 2-core machine.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
cluster_start 3; ok $? "etcd and 3 daemons (own network namespaces: $NETNS_ON)"
for i in 1 2 3; do run_ok "image build busybox on h$i" gh "$i" image build busybox; done
K=${GR_ETCD_FAIL_ROUNDS:-8}

worker() { # I: K rounds through hI; results in $TD/w$I
	local i=$1 k n out=$TD/w$1
	for k in $(seq 1 "$K"); do
		n=ef$i-$k
		if gh "$i" launch busybox "$n" >/dev/null 2>>"$out.err"; then echo "ok launch $n" >>"$out"; else echo "fail launch $n" >>"$out"; continue; fi
		if [ $((k % 2)) = 1 ]; then
			if gh "$i" stop "$n" >/dev/null 2>>"$out.err"; then echo "ok stop $n" >>"$out"; else echo "fail stop $n" >>"$out"; fi
		fi
		if [ $((k % 3)) = 0 ]; then
			if gh "$i" delete --force "$n" >/dev/null 2>>"$out.err"; then echo "ok delete $n" >>"$out"; else echo "fail delete $n" >>"$out"; fi
		fi
	done
	echo done >>"$out"
}
done_ops() { cat "$TD"/w? 2>/dev/null | grep -c '^ok '; }
all_done() { [ "$(cat "$TD"/w? 2>/dev/null | grep -c '^done$')" = 3 ]; }
writes_ok() { # every daemon writes to the store (a pool setting)
	local i bad=0
	for i in 1 2 3; do gh "$i" cluster set placement.policy=least-instances >/dev/null 2>"$TD/err" || { bad=1; diag "h$i: $(cat "$TD/err")"; }; done
	return $bad
}
etcd_leader() { # the index of etcd's leader member, as the members say
	local eps="" i
	for i in 0 1 2; do eps+="${eps:+,}$ETCD_IP:${ETCD_CPORT[$i]}"; done
	in_ns "$SW" env ETCDCTL_API=3 etcdctl --endpoints="$eps" --command-timeout=5s endpoint status -w json 2>/dev/null |
		python3 -c "
import sys,json
for k, st in enumerate(json.load(sys.stdin)):
    if st['Status']['header']['member_id'] == st['Status']['leader']: print('$ETCD_IP:${ETCD_CPORT[0]} $ETCD_IP:${ETCD_CPORT[1]} $ETCD_IP:${ETCD_CPORT[2]}'.split().index(st['Endpoint'])); break"
}
kill_member() { # M: SIGKILL etcd member M, check the daemons still write, restart it
	local m=$1 at
	kill -9 "${ETCD_PID[$m]}"; wait "${ETCD_PID[$m]}" 2>/dev/null
	! etcd_ready "$m"; ok $? "etcd member m$m ($ETCD_IP:${ETCD_CPORT[$m]}) SIGKILLed"
	wait_for 150 writes_ok; ok $? "with m$m down, every daemon still writes to the store"
	at=$(done_ops); wait_for 300 eval '[ "$(done_ops)" -ge $((at + 2)) ] || all_done'
	ok $? "with m$m down, calls go on ($(done_ops) done)"
	etcd_spawn "$m" existing
	wait_for 450 etcd_ready "$m"; ok $? "m$m restarted on its data"
}

wpids=()
for i in 1 2 3; do worker "$i" & wpids+=($!); done
wait_for 600 eval '[ "$(done_ops)" -ge 3 ]'; ok $? "the workers are under way ($(done_ops) calls done)"
kill_member 0
at=$(done_ops); wait_for 300 eval '[ "$(done_ops)" -ge $((at + 2)) ] || all_done' # a few calls with all 3 up
kill_member 1
# third: whichever member is etcd's leader now (writes in flight get no answer
# until the election: the case where the outcome of a write is unknown)
at=$(done_ops); wait_for 300 eval '[ "$(done_ops)" -ge $((at + 2)) ] || all_done'
L=$(etcd_leader); [ -n "$L" ]; ok $? "etcd's leader is m${L:-?}"
kill_member "${L:-2}"
wait_for 1500 all_done; ok $? "the workers finished (bounded wait)"
wait "${wpids[@]}"

cat "$TD"/w? | grep -c '^ok ' | { read -r n; diag "calls that succeeded: $n"; }
fails=$(cat "$TD"/w? | grep '^fail ' | tr '\n' ';')
diag "calls that failed: ${fails:-none}"
[ -s "$TD/w1.err" ] || [ -s "$TD/w2.err" ] || [ -s "$TD/w3.err" ] && cat "$TD"/w?.err | sed 's/^/#   /'

for m in 0 1; do
	grep -q "etcd: endpoint failed over from $ETCD_IP:${ETCD_CPORT[$m]} to" "$TD"/h?/daemon.log
	ok $? "a daemon's log names the fail-over away from m$m"
done

# every name any worker tried, with what its successful calls say it must be
want() { # NAME: running | stopped | gone | unknown (a call failed)
	local f=$TD/w${1:2:1}
	if grep -q "^fail .* $1\$" "$f"; then echo unknown; return; fi
	if grep -q "^ok delete $1\$" "$f"; then echo gone
	elif grep -q "^ok stop $1\$" "$f"; then echo stopped
	else echo running; fi
}
names=$(cat "$TD"/w? | awk '$1 == "ok" || $1 == "fail" {print $3}' | sort -u)
# snap I: "name state host pid" of every ef* instance as hI lists it
snap() {
	gh "$1" list --format json 2>/dev/null | python3 -c "
import sys,json
for i in sorted(json.load(sys.stdin), key=lambda i: i['name']):
    if i['name'].startswith('ef'): print(i['name'], i['state'], i.get('host') or '-', i.get('pid') or 0)"
}
# listed NAME: "state host pid" as h1 lists it ("" when absent)
listed() { awk -v n="$1" '$1 == n {print $2, $3, $4}' "$TD/snap1"; }
settled() { # the three hosts list the same states for every name, none in between
	local i
	for i in 1 2 3; do snap "$i" >"$TD/snap$i" || return 1; done
	cmp -s "$TD/snap1" "$TD/snap2" && cmp -s "$TD/snap1" "$TD/snap3" &&
		! awk '{print $2}' "$TD/snap1" | grep -Eq 'defining|starting|stopping|deleting'
}
wait_for 60 settled; ok $? "h1, h2 and h3 list the same instances with the same state, none in a passing state"
sed "s/^/#   /" "$TD/snap1"

# pids_on J NAME: the pids in NAME's cgroups on hJ, over every hierarchy
pids_on() {
	local r
	for r in $(cg_roots); do cat "$r/$(hcgp "$1")/$2/cgroup.procs" 2>/dev/null; done | sort -u | tr '\n' ' ' | sed 's/ $//'
}
# one_tree PID PIDS...: PID is among PIDS and each other is its descendant
# (the container's init and what it started: one instance, not two)
one_tree() {
	local top=$1 p q k seen=0; shift
	for p in "$@"; do
		[ "$p" = "$top" ] && { seen=1; continue; }
		q=$p
		for k in 1 2 3 4 5 6 7 8; do
			q=$(awk '/^PPid:/ {print $2}' "/proc/$q/status" 2>/dev/null)
			[ -z "$q" ] || [ "$q" = "$top" ] || [ "$q" -le 1 ] && break
		done
		[ "$q" = "$top" ] || return 1
	done
	[ "$seen" = 1 ]
}
bad=0
for n in $names; do
	w=$(want "$n"); l=$(listed "$n")
	st=""; host=""; pid=""; read -r st host pid <<<"$l"
	nf=0; fh=""; np=0; ph=""; procs=""
	for j in 1 2 3; do
		[ -d "$TD/h$j/state/instances/$n" ] && { nf=$((nf + 1)); fh="h$j"; }
		p=$(pids_on "$j" "$n"); [ -n "$p" ] && { np=$((np + 1)); ph="h$j"; procs=$p; }
	done
	what="$n: want $w, listed '$l', folders on $nf host(s) ($fh), cgroups with processes on $np host(s) ($ph: $procs)"
	case "$w:$st" in
	gone: | unknown:) [ "$nf" = 0 ] && [ "$np" = 0 ] || { bad=1; diag "$what"; } ;;
	running:running | unknown:running)
		# shellcheck disable=SC2086
		[ "$nf" = 1 ] && [ "$fh" = "$host" ] && [ "$np" = 1 ] && [ "$ph" = "$host" ] && one_tree "$pid" $procs &&
			kill -0 "$pid" 2>/dev/null || { bad=1; diag "$what"; } ;;
	stopped:stopped | unknown:stopped | unknown:defined)
		[ "$nf" = 1 ] && [ "$fh" = "$host" ] && [ "$np" = 0 ] || { bad=1; diag "$what"; } ;;
	*) bad=1; diag "$what" ;;
	esac
done
ok $bad "every name as the CLI's answers say: once, in its state, one host, its process tree (if running) alone in its cgroup"
n_unknown=0; for n in $names; do [ "$(want "$n")" = unknown ] && n_unknown=$((n_unknown + 1)); done
diag "names with a failed call (outcome left to the store): $n_unknown of $(echo $names | wc -w)"

alive=0
for i in 1 2 3; do kill -0 "${HPID[$i]}" 2>/dev/null || alive=1; done
ok $alive "every daemon is still running"
tap_done
