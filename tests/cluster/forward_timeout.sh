#!/usr/bin/env bash
# forward_timeout.sh - a forwarded call has an overall bound: with GUREUM_FORWARD_TIMEOUT=4 in
# the daemons' environment, a stop through h1 of an instance on h2 that ignores SIGTERM (h2
# waits out the stop's 12 s grace before killing it) is answered by h1 after 4 s with an
# error naming h2, the bound and "outcome unknown"; h1 logs the abandoned call and keeps
# serving; the stop itself still completes on h2 (the instance ends stopped, once). A
# forwarded call answered within the bound (show, start) is unaffected.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
export GUREUM_FORWARD_TIMEOUT=4
cluster_start 2; ok $? "etcd and 2 daemons with peer listeners, GUREUM_FORWARD_TIMEOUT=4"
ifield() { # I NAME KEY
	gh "$1" show "$2" --format json 2>/dev/null | python3 -c "import sys,json; v=json.load(sys.stdin).get('$3'); print('' if v is None else v)"
}
run_ok "image build busybox on h2" gh 2 image build busybox
gh 2 launch busybox slow -- sh -c 'trap "" TERM; echo armed; while :; do sleep 0.2; done' >/dev/null 2>"$TD/err"
ok $? "launch on h2 an instance that ignores SIGTERM: $(cat "$TD/err")"
# bounded wait until its shell has set the trap (a SIGTERM before that would end it)
for _ in $(seq 1 300); do gh 2 logs slow 2>/dev/null | grep -q armed && break; sleep 0.1; done
gh 2 logs slow 2>/dev/null | grep -q armed; ok $? "its shell ignores SIGTERM now (logged 'armed')"
[ "$(ifield 1 slow host)" = h2 ] && [ "$(ifield 1 slow state)" = running ]
ok $? "show through h1 (forwarded, answered in time): on h2, running"

gh 1 stop --timeout 12 slow >"$TD/stop.out" 2>&1; rc=$?
msg=$(cat "$TD/stop.out")
[ "$rc" != 0 ] && grep -q "host h2" <<<"$msg" && grep -q "within 4 s" <<<"$msg" &&
	grep -q "outcome is unknown" <<<"$msg"
ok $? "stop through h1 with a 12 s grace: refused after the 4 s bound, naming h2 (exit $rc: $msg)"
grep -q "forward: POST /v1/instances/slow/state to host h2: no answer within 4 s, abandoned" "$TD/h1/daemon.log"
ok $? "h1's log names the abandoned call"
run_ok "h1 keeps serving (list)" gh 1 list

# the stop went through on h2: bounded wait for the instance to end stopped
st=""
for _ in $(seq 1 300); do
	st=$(ifield 2 slow state)
	[ "$st" = stopped ] && break
	sleep 0.1
done
[ "$st" = stopped ]; ok $? "the stop completed on h2 (state $st)"
grep -q "peer: POST /v1/instances/slow/state forwarded by h1" "$TD/h2/daemon.log"
ok $? "h2's log: the stop was forwarded by h1 (once)"
[ "$(grep -c "peer: POST /v1/instances/slow/state forwarded by h1" "$TD/h2/daemon.log")" = 1 ]
ok $? "sent once, never retried"
run_ok "start through h1 (forwarded, answered in time)" gh 1 start slow
run_ok "delete --force through h1" gh 1 delete --force slow
tap_done
