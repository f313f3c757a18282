#!/usr/bin/env bash
# spread.sh - launches through one host are spread as the pool's policy
# promises, on the real test bed (3-member etcd, 3 daemons in network
# namespaces, equal capacity: one machine).  Each policy is set through
# `gureum cluster set placement.policy=P` (through h2; the launches go through
# h1) and its instances are deleted (through their own host) before the next:
#   least-instances, round-robin: 30 launches -> 10/10/10 (the count of the
#     host with the fewest / turns);
#   shortest-queue, global, diffusive, local: 6 launches -> 2/2/2 (with equal
#     hosts and equal requests: load is allocation (utilisation 1 until
#     measured), so the least loaded / round-robin arrival keeps them even);
#   best-fit: 4 launches -> all 4 on one host (it packs);
#   static: 4 launches -> a stable hash of the name; deleted and launched
#     again, each name lands on the same host;
#   pabfd: refused (the hosts have no power curve), naming the reason; nothing
#     is created.
# Only 30 for the first two keeps the test near 3 minutes on a loaded 2-core
# machine (~95 launches, one after the other: a launch returns once the
# instance runs; as many deletes, the three hosts' at once).  For every
# instance: running, on exactly one host (its record's host, its process in
# that host's cgroups, its folder in that host's state folder and no other).
. "$(dirname "$0")/lib.sh"
need_root_and_bins
cluster_start 3; ok $? "etcd and 3 daemons (own network namespaces: $NETNS_ON)"
for i in 1 2 3; do run_ok "image build busybox on h$i" gh "$i" image build busybox; done

# counts I PREFIX: "n1 n2 n3" running instances named PREFIX* per host, as hI lists them
counts() {
	gh "$1" list --format json 2>/dev/null | python3 -c "
import sys,json
c={'h1':0,'h2':0,'h3':0}
for i in json.load(sys.stdin):
    if i['name'].startswith('$2') and i['state']=='running': c[i.get('host') or '-']=c.get(i.get('host') or '-',0)+1
print(c['h1'],c['h2'],c['h3'])"
}
# hosts_of PREFIX: "name host" lines of PREFIX*, as h3 lists them
hosts_of() {
	gh 3 list --format json 2>/dev/null | python3 -c "
import sys,json
for i in sorted(json.load(sys.stdin), key=lambda i: i['name']):
    if i['name'].startswith('$1'): print(i['name'], i.get('host') or '-', i.get('pid') or 0)"
}
# one_host PREFIX: every PREFIX* instance runs on exactly one host
one_host() {
	local bad=0 name host pid j n
	while read -r name host pid; do
		n=0
		for j in 1 2 3; do [ -d "$TD/h$j/state/instances/$name" ] && n=$((n + 1)); done
		if [ "$n" != 1 ] || [ ! -d "$TD/h${host#h}/state/instances/$name" ] || [ "$pid" = 0 ] ||
			! grep -q "$(hcgp "${host#h}")/" "/proc/$pid/cgroup" 2>/dev/null; then
			bad=1; diag "$name: host $host, pid $pid, in $n state folders"
		fi
	done < <(hosts_of "$1")
	return $bad
}
# launch_n PREFIX N: N launches through h1
launch_n() {
	local bad=0 i
	for i in $(seq 1 "$2"); do
		gh 1 launch busybox "$1$i" >/dev/null 2>"$TD/err" || { bad=1; diag "$1$i: $(cat "$TD/err")"; }
	done
	return $bad
}
# delete_all PREFIX: delete each through its own host (the three hosts at
# once, each its own one after the other); none left
delete_all() {
	local j p=() rc=0
	hosts_of "$1" >"$TD/del"
	for j in 1 2 3; do
		(awk -v h="h$j" '$2 == h {print $1}' "$TD/del" | while read -r n; do
			gh "$j" delete --force "$n" >/dev/null || exit 1; done) & p+=($!)
	done
	for j in "${p[@]}"; do wait "$j" || rc=1; done
	[ $rc = 0 ] || return 1
	# h3 lists from its index, fed by the store's change feed: deletes made
	# through h1 and h2 reach it shortly after their calls return (bounded wait)
	for j in $(seq 1 50); do [ -z "$(hosts_of "$1")" ] && return 0; sleep 0.2; done
	return 1
}
# spread POLICY PREFIX N WANT: set, launch, check the spread, one host each, delete
spread() {
	local pol=$1 pre=$2 n=$3 want=$4 got
	run_ok "placement.policy=$pol (through h2)" gh 2 cluster set placement.policy="$pol"
	launch_n "$pre" "$n"; ok $? "$pol: $n launches through h1"
	got=$(counts 1 "$pre")
	if [ "$want" = packed ]; then
		echo "$got" | grep -Eq "^(0 0 $n|0 $n 0|$n 0 0)$"
	else
		[ "$got" = "$want" ]
	fi
	ok $? "$pol: spread h1 h2 h3 = $got (want $want)"
	[ "$(counts 3 "$pre")" = "$got" ]; ok $? "$pol: h3 lists the same spread"
	one_host "$pre"; ok $? "$pol: each instance runs on exactly one host"
}

spread least-instances li 30 "10 10 10"; delete_all li; ok $? "least-instances: deleted"
spread round-robin rr 30 "10 10 10"; delete_all rr; ok $? "round-robin: deleted"
spread shortest-queue sq 6 "2 2 2"; delete_all sq; ok $? "shortest-queue: deleted"
spread global gl 6 "2 2 2"; delete_all gl; ok $? "global: deleted"
spread diffusive di 6 "2 2 2"; delete_all di; ok $? "diffusive: deleted"
spread local lo 6 "2 2 2"; delete_all lo; ok $? "local: deleted"
spread best-fit bf 4 packed; delete_all bf; ok $? "best-fit: deleted"

run_ok "placement.policy=static" gh 2 cluster set placement.policy=static
launch_n st 4; ok $? "static: 4 launches through h1"
first=$(hosts_of st | cut -d' ' -f1,2)
one_host st; ok $? "static: each instance runs on exactly one host"
delete_all st; ok $? "static: deleted"
launch_n st 4; ok $? "static: the same 4 names launched again"
again=$(hosts_of st | cut -d' ' -f1,2)
[ -n "$first" ] && [ "$first" = "$again" ]; ok $? "static: each name on the same host again ($(echo $again))"
delete_all st; ok $? "static: deleted"

run_ok "placement.policy=pabfd" gh 2 cluster set placement.policy=pabfd
! gh 1 launch busybox pa1 2>"$TD/err" && grep -q "no room to start 'pa1'" "$TD/err"
ok $? "pabfd: refused with the reason: $(cat "$TD/err")"
! gh 2 show pa1 >/dev/null 2>&1; ok $? "pabfd: nothing was created"
tap_done
