#!/usr/bin/env bash
# placement.sh - launches through one daemon are placed across the pool and
# calls for an instance go to the daemon of the host holding it (request
# records in the store): a busybox image on all 3 hosts; a bad policy name
# refused; 9 launches through h1 with least-instances -> 3 per host;
# round-robin -> 2 more per host; --target; stop/start/delete of an instance
# on h2 sent to h1 and h3 act on h2 (its process, its cgroup); exec through
# h1 of h2's instance refused naming h2; h3 SIGKILLed -> a stop of its
# instance refused naming the offline host, nothing changed; an image the
# target lacks refused naming both.
# The daemons run without peer listeners (GR_CLUSTER_PEER=0): this is the request-record
# fallback, unchanged; tests/cluster/forward.sh covers the calls forwarded over the peer
# channel (where exec and snapshots of another host's instance work).
export GR_CLUSTER_PEER=0
. "$(dirname "$0")/lib.sh"
need_root_and_bins
cluster_start 3; ok $? "etcd and 3 daemons (own network namespaces: $NETNS_ON)"
ifield() { # I NAME KEY
	gh "$1" show "$2" --format json 2>/dev/null | python3 -c "import sys,json; v=json.load(sys.stdin).get('$3'); print('' if v is None else v)"
}
# counts I PREFIX: "n1 n2 n3" instances named PREFIX* per host, as hI lists them
counts() {
	gh "$1" list --format json 2>/dev/null | python3 -c "
import sys,json
c={'h1':0,'h2':0,'h3':0}
for i in json.load(sys.stdin):
    if i['name'].startswith('$2') and i['state']=='running': c[i.get('host') or '-']=c.get(i.get('host') or '-',0)+1
print(c['h1'],c['h2'],c['h3'])"
}
for i in 1 2 3; do run_ok "image build busybox on h$i" gh "$i" image build busybox; done

! gh 1 cluster set placement.policy=nope 2>"$TD/err" && grep -q "no policy named 'nope' (valid: .*least-instances" "$TD/err"
ok $? "a bad policy name is refused, listing the valid ones: $(cat "$TD/err")"
run_ok "cluster init on h1" gh 1 cluster init
gh 2 cluster show >"$TD/show" 2>&1 && grep -q "placement.policy: least-instances" "$TD/show"
ok $? "cluster show: the default policy is least-instances"

bad=0
for i in $(seq 1 9); do gh 1 launch busybox li$i >/dev/null 2>"$TD/err" || { bad=1; diag "li$i: $(cat "$TD/err")"; }; done
[ $bad = 0 ]; ok $? "9 launches through h1"
[ "$(counts 1 li)" = "3 3 3" ]; ok $? "least-instances: 3 on each host ($(counts 1 li))"
[ "$(counts 3 li)" = "3 3 3" ]; ok $? "h3 lists the same spread"

run_ok "cluster set placement.policy=round-robin (through h2)" gh 2 cluster set placement.policy=round-robin
gh 1 cluster show | grep -q "placement.policy: round-robin"; ok $? "cluster show on h1: round-robin"
bad=0
for i in $(seq 1 6); do gh 1 launch busybox rr$i >/dev/null 2>"$TD/err" || { bad=1; diag "rr$i: $(cat "$TD/err")"; }; done
[ $bad = 0 ] && [ "$(counts 1 rr)" = "2 2 2" ]; ok $? "round-robin: 6 launches -> 2 on each host ($(counts 1 rr))"

run_ok "launch --target h3 through h1" gh 1 launch busybox t3 --target h3
[ "$(ifield 1 t3 host)" = h3 ] && [ "$(ifield 3 t3 state)" = running ]; ok $? "t3 runs on h3"
! gh 1 launch busybox tx --target h9 2>"$TD/err" && grep -q "no host named 'h9'" "$TD/err"
ok $? "--target of an unknown host refused: $(cat "$TD/err")"
! gh 1 show tx >/dev/null 2>&1; ok $? "and nothing was created"
! gh 1 launch nosuch ty --target h2 2>"$TD/err" && grep -q "host h2: image: no image named 'nosuch'" "$TD/err"
ok $? "an image the target lacks: refused naming host and image: $(cat "$TD/err")"
! gh 2 show ty >/dev/null 2>&1; ok $? "and nothing was created"

# an instance on h2, driven through h1 and h3
w=$(gh 1 list --format json | python3 -c "import sys,json; print(next(i['name'] for i in json.load(sys.stdin) if i.get('host')=='h2' and i['name'].startswith('li')))")
pid=$(ifield 2 "$w" pid)
grep -q "$(hcgp 2)" "/proc/$pid/cgroup"; ok $? "$w runs on h2 (pid $pid in h2's cgroups)"
run_ok "stop $w through h1" gh 1 stop "$w"
[ "$(ifield 2 "$w" state)" = stopped ] && ! kill -0 "$pid" 2>/dev/null; ok $? "$w is stopped on h2 and its process is gone"
grep -q "request from h1: action $w" "$TD/h2/daemon.log"; ok $? "h2 ran h1's request"
run_ok "start $w through h3" gh 3 start "$w"
pid2=$(ifield 2 "$w" pid)
[ "$(ifield 2 "$w" state)" = running ] && [ "$(ifield 2 "$w" host)" = h2 ] && grep -q "$(hcgp 2)" "/proc/$pid2/cgroup"
ok $? "$w runs again on h2 (pid $pid2 in h2's cgroups)"
! gh 1 exec "$w" -- true 2>"$TD/err" && grep -q "host h2" "$TD/err"; ok $? "exec through h1 refused naming h2: $(cat "$TD/err")"
run_ok "exec through h2 works" gh 2 exec "$w" -- true
run_ok "delete --force $w through h3" gh 3 delete --force "$w"
! gh 2 show "$w" >/dev/null 2>&1 && ! kill -0 "$pid2" 2>/dev/null; ok $? "$w is gone on h2, its process too"
left=$(GUREUM_SOCKET=$(hsock 1) "$GUREUM" list --format json >/dev/null; ls "$TD/h2/state/instances" 2>/dev/null | grep -cx "$w")
[ "$left" = 0 ]; ok $? "h2's folder of $w is gone"

# defined on h2 (create --target) and started through h1: it starts on h2;
# a config change through h3 is made by h2 (live, on the running container)
run_ok "create --target h2 through h3" gh 3 create busybox d2 --target h2
[ "$(ifield 1 d2 state)" = defined ] && [ "$(ifield 1 d2 host)" = h2 ] && [ -d "$TD/h2/state/instances/d2" ]
ok $? "d2 is defined on h2 (its folder there)"
run_ok "start d2 through h1" gh 1 start d2
dpid=$(ifield 2 d2 pid)
[ "$(ifield 1 d2 host)" = h2 ] && [ -n "$dpid" ] && grep -q "$(hcgp 2)" "/proc/$dpid/cgroup"; ok $? "d2 runs on h2 (pid $dpid)"
run_ok "config set d2 memory=96M through h3" gh 3 config set d2 memory=96M
[ "$(gh 2 config get d2 memory)" = 100663296 ] || [ "$(gh 2 config get d2 memory)" = 96M ]; ok $? "h2 has d2's new memory: $(gh 2 config get d2 memory)"
! gh 1 snapshot create d2 s1 2>"$TD/err" && grep -q "host h2" "$TD/err"; ok $? "snapshot through h1 refused naming h2: $(cat "$TD/err")"
run_ok "delete --force d2 through h1" gh 1 delete --force d2
! kill -0 "$dpid" 2>/dev/null && [ ! -d "$TD/h2/state/instances/d2" ]; ok $? "d2's process and folder on h2 are gone"
grep -q "request from h3: create d2" "$TD/h2/daemon.log" && grep -q "request from h3: config d2" "$TD/h2/daemon.log"
ok $? "h2's log names the requests it ran for h3"

# an owner host dies: a call for its instance is refused at once, nothing changes
v=t3
vpid=$(ifield 3 "$v" pid)
host_kill 3
offline() { [ "$(hfield 1 h3 state)" = offline ]; }
wait_for 100 offline; ok $? "h1 sees h3 offline"
! gh 1 stop "$v" 2>"$TD/err" && grep -q "instance '$v' is on host h3, which is offline" "$TD/err" && grep -q "nothing was changed" "$TD/err"
ok $? "stop of h3's instance refused naming the offline host: $(cat "$TD/err")"
[ "$(ifield 1 "$v" state)" = running ] && kill -0 "$vpid"; ok $? "$v still recorded running, its process alive"
! gh 1 launch busybox tz --target h3 2>"$TD/err" && grep -q "h3, which is offline" "$TD/err"; ok $? "--target of the offline host refused: $(cat "$TD/err")"
bad=0
for i in 1 2; do gh 1 launch busybox after$i >/dev/null 2>&1 || bad=1; [ "$(ifield 1 after$i host)" != h3 ] || bad=1; done
[ $bad = 0 ]; ok $? "launches avoid the offline host"
tap_done
