#!/usr/bin/env bash
# instances.sh - instance records are pool-wide, recovery is per host: a
# container launched on h1 is listed by h2; h2 killed with SIGKILL and
# restarted leaves it alone (it is h1's: h1 has a host record), so it keeps
# running with the same pid and its record stays `running`; h1 (holding web1
# running and web2 stopped) SIGKILLed -> offline as h2 sees it, and h2 still
# lists both on h1 with their last state (web1's process lives on); h1's own
# restart reattaches web1.  Deleted at the end (the teardown also kills what is left
# through the cgroups).
. "$(dirname "$0")/lib.sh"
need_root_and_bins
cluster_start 2; ok $? "etcd and 2 daemons (own network namespaces: $NETNS_ON)"
ifield() { # I NAME KEY
	gh "$1" show "$2" --format json 2>/dev/null | python3 -c "import sys,json; v=json.load(sys.stdin).get('$3'); print('' if v is None else v)"
}
run_ok "image build busybox on h1" gh 1 image build busybox
run_ok "launch web1 on h1" gh 1 launch busybox web1
pid=$(ifield 1 web1 pid)
[ "$(ifield 1 web1 state)" = running ] && [ "$(ifield 1 web1 host)" = h1 ] && kill -0 "$pid"; ok $? "web1 running on h1 (pid $pid)"
listed() { gh 2 list --format json 2>/dev/null | grep -q '"web1"'; }
wait_for 100 listed; ok $? "h2 lists web1 (records are pool-wide)"

host_kill 2
host_start 2; ok $? "h2 restarted after SIGKILL"
grep -q "recover web1: on host h1, left to it" "$TD/h2/daemon.log"; ok $? "h2's recovery left h1's instance alone"
[ "$(ifield 2 web1 state)" = running ] && [ "$(ifield 2 web1 pid)" = "$pid" ] && kill -0 "$pid"; ok $? "web1 still running, same pid, as h2 sees it"

# the owner dies: offline for the others, who keep listing its instances
# with their last state (a stopped one too)
run_ok "launch web2 on h1" gh 1 launch busybox web2 --target h1
run_ok "stop web2 on h1" gh 1 stop web2
host_kill 1
offline() { [ "$(hfield 2 h1 state)" = offline ]; }
wait_for 300 offline; ok $? "h1 (SIGKILL) offline as h2 sees it"
states() { gh 2 list --format json 2>/dev/null | python3 -c "
import sys,json
print(' '.join(i['name']+':'+i['state']+':'+(i.get('host') or '-') for i in sorted(json.load(sys.stdin), key=lambda i: i['name'])))"; }
[ "$(states)" = "web1:running:h1 web2:stopped:h1" ]; ok $? "h2 lists h1's instances with their last state: $(states)"
[ "$(ifield 2 web1 pid)" = "$pid" ] && kill -0 "$pid"; ok $? "web1 keeps running without its daemon (pid $pid)"
gh 2 list | grep -E '^web1 ' | grep -q ' h1 *$'; ok $? "gureum list (table) shows web1 on h1"
host_start 1; ok $? "h1 restarted after SIGKILL"
wait_for 150 eval '[ "$(hfield 2 h1 state)" = online ]'; ok $? "h1 online again"
[ "$(ifield 1 web1 state)" = running ] && [ "$(ifield 1 web1 pid)" = "$pid" ]; ok $? "h1 reattached web1 (same pid)"
run_ok "delete web1 on h1" gh 1 delete --force web1
run_ok "delete web2 on h1" gh 1 delete web2
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$pid" 2>/dev/null; ok $? "web1's process is gone"
tap_done
