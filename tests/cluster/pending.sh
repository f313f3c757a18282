#!/usr/bin/env bash
# pending.sh - launches queued while no host has room are placed by the
# leader, exactly once, also across the leader's death: busybox on 3 hosts;
# one container per host with --memory near the host's recorded capacity (a
# container's memory limit is only a limit: the scheduler counts it, the host
# does not spend it), so the policy refuses every host; a launch without
# --queue refused naming the reason per host, nothing recorded; 3 launches
# with --queue answered 202 "pending" with the reasons (show, list); start of
# a pending one refused (409), delete of one works; the leader's daemon
# SIGKILLed; the big containers of the survivors deleted -> a new leader is
# listed and each queued instance ends running on exactly one surviving host
# (one record, its pid alive in that host's cgroups, its cgroup on one host
# only, one claim in the logs); the killed daemon restarted -> nothing
# changes (same hosts and pids, no cgroup of them on the restarted host).
# Every wait is a bounded poll (tests/cluster/lib.sh).
. "$(dirname "$0")/lib.sh"
need_root_and_bins
cluster_start 3; ok $? "etcd and 3 daemons (own network namespaces: $NETNS_ON)"
for i in 1 2 3; do run_ok "image build busybox on h$i" gh "$i" image build busybox; done

ifield() { # I NAME KEY
	gh "$1" show "$2" --format json 2>/dev/null | python3 -c "import sys,json; v=json.load(sys.stdin).get('$3'); print('' if v is None else v)"
}
pfield() { # I NAME KEY: a field of the record's "pending" object
	gh "$1" show "$2" --format json 2>/dev/null | python3 -c "import sys,json; v=(json.load(sys.stdin).get('pending') or {}).get('$3'); print('' if v is None else v)"
}
# records I NAME: how many records named NAME host I lists
records() {
	gh "$1" list --format json 2>/dev/null | python3 -c "import sys,json; print(sum(i['name']=='$2' for i in json.load(sys.stdin)))"
}
# cg_hosts NAME: the hosts (h1..h3) under whose cgroup prefix a cgroup NAME exists
cg_hosts() {
	for r in $(cg_roots); do
		for d in "$r"/gr-test-c-$$-h*/"$1"; do [ -d "$d" ] && basename "$(dirname "$d")"; done
	done | sed 's/.*-//' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# fill every host: one container with nearly all of the host's memory
for i in 1 2 3; do
	mib=$(( $(hfield 1 "h$i" capacity | python3 -c "import sys,ast; print(ast.literal_eval(sys.stdin.read())['memory'])") >> 20 ))
	big=$(( mib - 128 ))
	run_ok "big$i (--memory ${big}M of h$i's $mib MiB) --target h$i" gh 1 launch busybox "big$i" --memory "${big}M" --target "h$i"
done
[ "$(ifield 2 big1 host) $(ifield 2 big2 host) $(ifield 2 big3 host)" = "h1 h2 h3" ]; ok $? "one big container on each host"

! gh 2 launch busybox nq --memory 256M 2>"$TD/err" && grep -q "h1: [0-9]* of [0-9]* MiB free (too little)" "$TD/err" &&
	grep -q "h2: [0-9]* of [0-9]* MiB free (too little)" "$TD/err" && grep -q "h3: [0-9]* of [0-9]* MiB free (too little)" "$TD/err"
ok $? "without --queue: refused naming each host: $(cat "$TD/err")"
[ "$(records 1 nq)" = 0 ]; ok $? "and nothing was recorded"
! gh 2 launch busybox nt --queue --target h1 2>"$TD/err" && grep -q "queue: not with target" "$TD/err"
ok $? "--queue with --target refused: $(cat "$TD/err")"

# queue 3 launches (one through the API, to see the status) and a create
run_ok "launch q1 --queue through h1" gh 1 launch busybox q1 --memory 256M --queue
run_ok "launch q2 --queue through h2" gh 2 launch busybox q2 --memory 256M --queue
code=$(curl -s -o "$TD/q3.json" -w '%{http_code}' --unix-socket "$(hsock 3)" -X POST \
	-H 'Content-Type: application/json' \
	-d '{"name":"q3","image":"busybox","memory":"256M","start":true,"queue":true}' http://localhost/v1/instances)
[ "$code" = 202 ] && python3 -c "import json; d=json.load(open('$TD/q3.json')); assert d['state']=='pending' and d['host'] is None and d['pending']['start']"
ok $? "POST /v1/instances with queue: 202, state pending, no host (HTTP $code)"
run_ok "create qd --queue through h3" gh 3 create busybox qd --memory 256M --queue
bad=0
for q in q1 q2 q3 qd; do
	[ "$(ifield 2 "$q" state)" = pending ] && [ -z "$(ifield 2 "$q" host)" ] && [ -n "$(pfield 2 "$q" reasons)" ] || bad=1
done
[ $bad = 0 ]; ok $? "q1 q2 q3 qd are pending with no host and the reasons: $(pfield 2 q1 reasons)"
gh 1 show q1 >"$TD/show" 2>&1 && grep -q "reasons:" "$TD/show"; ok $? "gureum show q1 says why it waits"
[ "$(gh 3 list | grep -cE '^q[123d] .*pending')" = 4 ]; ok $? "gureum list shows the 4 pending instances"
gh 3 list | sed 's/^/#   /'
for i in 1 2 3; do grep -q "h$i: [0-9]* of [0-9]* MiB free (too little)" <<<"$(pfield 2 q1 reasons)" || bad=1; done
[ $bad = 0 ]; ok $? "the reasons name each host's free memory"
! gh 2 start q1 2>"$TD/err" && grep -q "is pending" "$TD/err"; ok $? "start of pending q1 refused: $(cat "$TD/err")"
code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$(hsock 1)" -X POST -H 'Content-Type: application/json' \
	-d '{"action":"stop"}' http://localhost/v1/instances/q1/state)
[ "$code" = 409 ]; ok $? "stop of pending q1: HTTP 409"
run_ok "delete of pending qd through h1" gh 1 delete qd
# h2 lists from its index, fed by the store's watch: it sees the delete a moment later
wait_for 50 eval '[ "$(records 2 qd)" = 0 ]' && [ -z "$(cg_hosts qd)" ]; ok $? "qd is gone, nothing was made on any host"

# the leader dies while they wait; then room is made on the survivors
L=$(leader 1); Li=${L#h}
[ -n "$L" ]; ok $? "the leader is $L"
host_kill "$Li"
S=(); for i in 1 2 3; do [ "$i" != "$Li" ] && S+=("$i"); done
for i in "${S[@]}"; do run_ok "delete --force big$i through h$i" gh "$i" delete --force "big$i"; done
new_leader() { local l; l=$(leader "${S[0]}"); [ -n "$l" ] && [ "$l" != "$L" ]; }
wait_for 300 new_leader; ok $? "a new leader is listed: $(leader "${S[0]}")"
all_running() { local q; for q in q1 q2 q3; do [ "$(ifield "${S[0]}" "$q" state)" = running ] || return 1; done; }
wait_for 600 all_running; ok $? "q1 q2 q3 end running"
declare -A H P
bad=0
for q in q1 q2 q3; do
	H[$q]=$(ifield "${S[1]}" "$q" host); P[$q]=$(ifield "${S[1]}" "$q" pid)
	h=${H[$q]#h}
	if [ "$h" = "$Li" ] || [ -z "$h" ] || [ "$(records "${S[1]}" "$q")" != 1 ]; then bad=1; diag "$q: host ${H[$q]}, $(records "${S[1]}" "$q") records"; continue; fi
	kill -0 "${P[$q]}" 2>/dev/null && grep -q "$(hcgp "$h")" "/proc/${P[$q]}/cgroup" || { bad=1; diag "$q: pid ${P[$q]} not alive in h$h's cgroups"; }
	[ "$(cg_hosts "$q")" = "h$h" ] || { bad=1; diag "$q: cgroups on '$(cg_hosts "$q")'"; }
done
ok $bad "each runs on one surviving host, one record, its pid in that host's cgroups, its cgroup there only (q1 ${H[q1]} ${P[q1]}, q2 ${H[q2]} ${P[q2]}, q3 ${H[q3]} ${P[q3]})"
bad=0
for q in q1 q2 q3; do
	n=$(cat "$TD"/h*/daemon.log | grep -c "pending $q: assigned to this host")
	[ "$n" = 1 ] || { bad=1; diag "$q claimed $n times"; }
done
ok $bad "each was claimed once (the hosts' logs)"
grep -q "leader: pending q1 assigned to host" "$TD"/h*/daemon.log; ok $? "the leader's log names the assignment"

# the old leader comes back: nothing changes
host_start "$Li"; ok $? "$L restarted"
online() { [ "$(hfield "${S[0]}" "$L" state)" = online ]; }
wait_for 150 online; ok $? "$L online again"
[ "$(leader "$Li")" != "$L" ]; ok $? "$L does not lead again ($(leader "$Li"))"
left() { local q; for q in q1 q2 q3; do grep -q "recover $q: on host ${H[$q]}, left to it" "$TD/$L/daemon.log" || return 1; done; }
wait_for 100 left; ok $? "$L's recovery leaves q1 q2 q3 to their hosts"
bad=0
for q in q1 q2 q3; do
	h=${H[$q]#h}
	[ "$(ifield "$Li" "$q" host)" = "${H[$q]}" ] && [ "$(ifield "$Li" "$q" pid)" = "${P[$q]}" ] &&
		[ "$(ifield "$Li" "$q" state)" = running ] && kill -0 "${P[$q]}" 2>/dev/null &&
		[ "$(cg_hosts "$q")" = "h$h" ] && [ "$(records "$Li" "$q")" = 1 ] || { bad=1; diag "$q changed"; }
	n=$(cat "$TD"/h*/daemon.log | grep -c "pending $q: assigned to this host")
	[ "$n" = 1 ] || { bad=1; diag "$q claimed $n times"; }
done
ok $bad "after the restart: same hosts, same pids, one record and one cgroup each, no new claim"
[ "$(ifield "$Li" "big$Li" state)" = running ]; ok $? "$L's own big$Li is still running (reattached)"
tap_done
