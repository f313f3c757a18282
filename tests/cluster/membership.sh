#!/usr/bin/env bash
# membership.sh - three gureumd on one 3-member etcd: every host online and
# exactly one leader, seen alike from each daemon; SIGKILL a non-leader ->
# offline once its lease lapses, and the leader marks it (offline_since); SIGKILL
# the leader -> another host takes the leader key; restart both -> online
# again; a daemon with the name of an online host refuses to start with a
# clear error.  Every wait is a bounded poll (tests/cluster/lib.sh).
. "$(dirname "$0")/lib.sh"
need_root_and_bins
cluster_start 3; ok $? "etcd (3 members) and 3 daemons started on $STORE (own network namespaces: $NETNS_ON)"

if [ "$NETNS_ON" = 1 ]; then
	nss=$(for i in 1 2 3; do readlink "/proc/${HPID[$i]}/ns/net"; done; readlink /proc/self/ns/net)
	[ "$(echo "$nss" | sort -u | wc -l)" = 4 ]; ok $? "each daemon in a network namespace of its own, etcd behind the test's bridge"
fi

online_count() { # I: hosts online as host I sees them
	gh "$1" host list --format json 2>/dev/null |
		python3 -c "import sys,json; print(sum(h['state']=='online' for h in json.load(sys.stdin)))" 2>/dev/null
}
all_online() { [ "$(online_count "$1")" = "${2:-3}" ]; }
one_leader() { local l; l=$(leader "$1"); [ -n "$l" ] && [ "$(echo "$l" | wc -w)" = 1 ]; }

wait_for 150 all_online 1; ok $? "3 hosts online"
wait_for 150 one_leader 1; ok $? "one leader: $(leader 1)"
L=$(leader 1)
same=0; for i in 1 2 3; do [ "$(leader "$i")" = "$L" ] && all_online "$i" || same=1; done
ok $same "each daemon shows the same 3 hosts and the same leader ($L)"
out=$(gh 1 host list); echo "$out" | sed 's/^/#   /'
[ "$(echo "$out" | grep -Ec '^h[0-9] +online +\* ')" = 1 ] && [ "$(echo "$out" | grep -Ec '^h[0-9] +online ')" = 3 ]
ok $? "host list: 3 rows online, the leader marked *"
gh 2 host show "$L" | grep -q '^leader: true'; ok $? "host show $L: leader: true"
out=$(curl -s --unix-socket "$(hsock 3)" -w '\n%{http_code}' http://localhost/v1/hosts)
[ "$(echo "$out" | tail -n1)" = 200 ] && echo "$out" | head -n -1 | python3 -c "import sys,json; d=json.load(sys.stdin)['hosts']; assert sorted(h['name'] for h in d)==['h1','h2','h3'] and all(h['lease']['ttl']>=$HOST_TTL and h['capacity']['cores']>=1 for h in d)"
ok $? "GET /v1/hosts: 3 hosts with lease and capacity"

# a non-leader dies
Li=${L#h}
N=$(( Li % 3 + 1 )); O=$(( N % 3 + 1 )); [ "$O" = "$Li" ] && O=$(( O % 3 + 1 ))
host_kill "$N"
offline() { [ "$(hfield "$1" "h$2" state)" = offline ]; }
marked() { [ -n "$(hfield "$1" "h$2" offline_since)" ]; }
wait_for 300 offline "$Li" "$N"; ok $? "h$N (SIGKILL) offline after its lease lapsed"
wait_for 100 marked "$Li" "$N"; ok $? "the leader recorded h$N offline_since"
[ "$(hfield "$O" "h$N" state)" = offline ] && [ "$(online_count "$O")" = 2 ]; ok $? "h$O sees h$N offline, 2 online"
[ "$(leader "$O")" = "$L" ]; ok $? "leader unchanged ($L)"

# the leader dies
host_kill "$Li"
new_leader() { local l; l=$(leader "$O"); [ -n "$l" ] && [ "$l" != "$L" ]; }
wait_for 300 new_leader; ok $? "another host took the leader key: $(leader "$O")"
[ "$(leader "$O")" = "h$O" ]; ok $? "the survivor h$O leads"
wait_for 300 offline "$O" "$Li"; ok $? "old leader $L offline"
wait_for 100 marked "$O" "$Li"; ok $? "the new leader recorded $L offline_since"

# both come back
host_start "$N"; ok $? "h$N restarted"
host_start "$Li"; ok $? "$L restarted"
wait_for 150 all_online "$N"; ok $? "3 hosts online again"
[ -z "$(hfield "$N" "h$N" offline_since)" ]; ok $? "h$N's record has no offline_since any more"
[ "$(leader "$Li")" = "h$O" ]; ok $? "the leader stays h$O (no flapping on a rejoin)"

# a duplicate name while the first is online
host_ns 9
err=$(in_ns "$(hns 9)" setpriv --pdeathsig KILL "$GUREUMD" --state-dir "$TD/dup/state" --run-dir "$TD/dup/run" \
	--cgroup-prefix "gr-test-c-$$-hdup" --store "$STORE" --host-name "h$O" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$err" | grep -q "host name 'h$O' is already online"; ok $? "duplicate name h$O refused: $err"
[ ! -S "$TD/dup/run/gureum.sock" ]; ok $? "the duplicate serves nothing"
all_online "$O" && [ "$(leader "$N")" = "h$O" ]; ok $? "h$O still online and leader"

# a clean stop: offline at once (lease revoked) and leadership handed over
host_kill "$O" TERM
wait_for 100 offline "$N" "$O"; ok $? "h$O offline after a clean stop"
wait_for 300 one_leader "$N"; ok $? "a new leader after the clean stop: $(leader "$N")"
tap_done
