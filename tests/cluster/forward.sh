#!/usr/bin/env bash
# forward.sh - the API of any host serves every instance: calls through h1 for an
# instance h2 holds are forwarded over the peer channel (mutual TLS) and acted on by h2.
# exec (plain and with a terminal: a websocket relayed both ways), logs and logs --follow
# (bounded) through h1 give what they give through h2; stop/start/config/snapshot/delete
# through h1 act on h2 (its log names each forwarded call) and no request record is ever
# written (an etcdctl watch on /gureum/requests/ sees nothing); a launch through h1 placed
# on h2 (--target) is forwarded as a create there; a call on h2's peer port with a
# certificate of no pool host is 403; h2 killed -> a call through h1 is 503 naming h2 and
# nothing changed.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
cluster_start 2; ok $? "etcd and 2 daemons with peer listeners (own network namespaces: $NETNS_ON)"
ifield() { # I NAME KEY
	gh "$1" show "$2" --format json 2>/dev/null | python3 -c "import sys,json; v=json.load(sys.stdin).get('$3'); print('' if v is None else v)"
}
etcdctl_() { in_ns "$SW" env ETCDCTL_API=3 etcdctl --endpoints="$ETCD_IP:${ETCD_CPORT[0]}" "$@"; }
run_ok "image build busybox on h2" gh 2 image build busybox

# every write under /gureum/requests/ from now on
# (started as the program itself, so $! is etcdctl's pid; killed at exit in any case)
wpre=($(ns_pre "$SW"))
"${wpre[@]}" env ETCDCTL_API=3 etcdctl --endpoints="$ETCD_IP:${ETCD_CPORT[0]}" \
	watch --prefix /gureum/requests/ >"$TD/requests.watch" 2>&1 &
WATCH=$!
trap 'st=$?; kill "$WATCH" 2>/dev/null; (exit $st); cluster_cleanup' EXIT
sleep 0.5

gh 1 launch busybox w2 --target h2 -- sh -c 'echo hello-from-w2; i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.3; done' >/dev/null 2>"$TD/err"
ok $? "launch --target h2 through h1: $(cat "$TD/err")"
pid=$(ifield 2 w2 pid)
[ "$(ifield 1 w2 host)" = h2 ] && [ -n "$pid" ] && grep -q "$(hcgp 2)" "/proc/$pid/cgroup"; ok $? "w2 runs on h2 (pid $pid)"
grep -q "peer: POST /v1/instances forwarded by h1" "$TD/h2/daemon.log"; ok $? "h2's log: the create was forwarded by h1"

# exec, plain
o1=$(gh 1 exec w2 -- sh -c 'echo out; echo err >&2; hostname; exit 3' 2>"$TD/e1"); r1=$?
o2=$(gh 2 exec w2 -- sh -c 'echo out; echo err >&2; hostname; exit 3' 2>"$TD/e2"); r2=$?
[ "$r1" = 3 ] && [ "$r2" = 3 ] && [ "$o1" = "$o2" ] && [ -n "$o1" ] && cmp -s "$TD/e1" "$TD/e2"
ok $? "exec through h1 = through h2 (exit $r1/$r2, stdout '$o1' / '$o2')"
echo piped-in | gh 1 exec w2 -- cat >"$TD/cat.out" 2>&1
[ "$(cat "$TD/cat.out")" = piped-in ]; ok $? "exec through h1 passes stdin: $(cat "$TD/cat.out")"
grep -q "peer: POST /v1/instances/w2/exec forwarded by h1" "$TD/h2/daemon.log"; ok $? "h2's log: the exec was forwarded by h1"

# exec with a terminal: a websocket through h1's API and the peer channel
GUREUM_SOCKET=$(hsock 1) timeout 60 script -qec "$GUREUM exec -t w2 -- sh -c 'echo tty-ok; exit 5'" /dev/null \
	</dev/null >"$TD/tty.out" 2>&1; tr=$?
grep -q tty-ok "$TD/tty.out" && [ "$tr" = 5 ]; ok $? "exec -t through h1 (websocket relayed): exit $tr, $(tr -d '\r' <"$TD/tty.out" | head -c 200)"

# logs, and logs --follow bounded by timeout
gh 1 logs w2 >"$TD/l1" 2>&1; gh 2 logs w2 >"$TD/l2" 2>&1
head -1 "$TD/l1" | grep -q hello-from-w2 && [ "$(head -3 "$TD/l1")" = "$(head -3 "$TD/l2")" ]
ok $? "logs through h1 = through h2 (first lines: $(head -3 "$TD/l1" | tr '\n' '|'))"
GUREUM_SOCKET=$(hsock 1) timeout 3 "$GUREUM" logs -f w2 >"$TD/lf" 2>&1
n1=$(grep -c '^tick' "$TD/lf"); last=$(grep '^tick' "$TD/l1" | tail -1 | awk '{print $2}')
lastf=$(grep '^tick' "$TD/lf" | tail -1 | awk '{print $2}')
[ "$n1" -gt 0 ] && [ -n "$last" ] && [ "${lastf:-0}" -gt "$last" ]
ok $? "logs --follow through h1 streams new lines (to tick $lastf, the plain read ended at tick $last)"

# actions, config, snapshots, through h1
run_ok "config set w2 memory=96M through h1" gh 1 config set w2 memory=96M
m=$(gh 2 config get w2 memory); [ "$m" = 100663296 ] || [ "$m" = 96M ]; ok $? "h2 has w2's new memory: $m"
run_ok "stop w2 through h1" gh 1 stop w2
[ "$(ifield 2 w2 state)" = stopped ] && ! kill -0 "$pid" 2>/dev/null; ok $? "w2 stopped on h2, its process gone"
run_ok "snapshot create w2 s1 through h1" gh 1 snapshot create w2 s1
gh 1 snapshot list w2 2>&1 | grep -q s1; ok $? "snapshot list through h1 shows s1"
run_ok "start w2 through h1" gh 1 start w2
pid2=$(ifield 2 w2 pid)
[ "$(ifield 2 w2 state)" = running ] && grep -q "$(hcgp 2)" "/proc/$pid2/cgroup"; ok $? "w2 runs again on h2 (pid $pid2)"
grep -q "peer: PUT /v1/instances/w2/state forwarded by h1\|peer: POST /v1/instances/w2/state forwarded by h1" "$TD/h2/daemon.log"
ok $? "h2's log: the actions were forwarded by h1"
! grep -q "request from h1" "$TD/h2/daemon.log"; ok $? "h2 ran no request record for h1"

# a client certificate of no pool host, on h2's peer port
in_ns "" openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=gureum-peer -days 1 \
	-keyout "$TD/rogue.key" -out "$TD/rogue.crt" >/dev/null 2>&1
code=$(in_ns "$SW" curl -sk -o "$TD/body" -w '%{http_code}' --max-time 20 --cert "$TD/rogue.crt" --key "$TD/rogue.key" \
	-H "X-Gureum-Forwarded: h1" -X POST -d '{"action":"stop"}' "https://$(hpeer 2)/v1/instances/w2/state")
[ "$code" = 403 ] && [ "$(ifield 2 w2 state)" = running ]; ok $? "a forwarded call with a foreign certificate: $code, w2 still running ($(cat "$TD/body"))"
code=$(in_ns "$SW" curl -sk -o "$TD/body" -w '%{http_code}' --max-time 20 "https://$(hpeer 2)/v1/instances/w2")
[ "$code" = 403 ]; ok $? "no certificate: $code"

# a forwarded call for an instance the receiver does not hold
run_ok "launch w1 on h1" gh 1 launch busybox w1 --target h1
c2=(--cert "$TD/h2/state/peer.crt" --key "$TD/h2/state/peer.key")
code=$(in_ns "$SW" curl -sk -o "$TD/body" -w '%{http_code}' --max-time 20 "${c2[@]}" -H "X-Gureum-Forwarded: h1" \
	-X PUT -d '{"action":"stop"}' "https://$(hpeer 1)/v1/instances/w2/state")
[ "$code" = 409 ] && grep -q "not held by host h1" "$TD/body" && [ "$(ifield 2 w2 state)" = running ]
ok $? "a call forwarded to a host that does not hold the instance: $code, not forwarded again ($(cat "$TD/body"))"

kill "$WATCH" 2>/dev/null; wait "$WATCH" 2>/dev/null
[ ! -s "$TD/requests.watch" ]; ok $? "no request record was written ($(head -c 200 "$TD/requests.watch"))"

run_ok "delete --force w1 through h1" gh 1 delete --force w1

# the owner dies: 503 naming it, nothing changed
host_kill 2
offline() { [ "$(hfield 1 h2 state)" = offline ]; }
wait_for 150 offline; ok $? "h1 sees h2 offline"
! gh 1 stop w2 2>"$TD/err" && grep -q "host h2, which is offline" "$TD/err" && grep -q "nothing was changed" "$TD/err"
ok $? "stop of h2's instance through h1 refused naming h2: $(cat "$TD/err")"
! gh 1 logs w2 >/dev/null 2>"$TD/err" && grep -q "h2" "$TD/err"; ok $? "logs of h2's instance refused naming h2: $(cat "$TD/err")"
[ "$(ifield 1 w2 state)" = running ] && kill -0 "$pid2"; ok $? "show through h1: w2 still recorded running (the record), its process alive"
host_start 2; ok $? "h2 restarted"
wait_for 150 eval '[ "$(hfield 1 h2 state)" = online ]'; ok $? "h2 online again"
run_ok "delete --force w2 through h1" gh 1 delete --force w2
for _ in $(seq 1 50); do kill -0 "$pid2" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$pid2" 2>/dev/null && [ ! -d "$TD/h2/state/instances/w2" ]; ok $? "w2's process and folder on h2 are gone"
tap_done
