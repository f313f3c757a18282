#!/usr/bin/env bash
# restart.sh - gureumd survives its own restart: stopping or killing the
# daemon leaves containers running; the next daemon reattaches to them,
# records the ones that died meanwhile as stopped and applies their restart
# policy; it can still stop and delete what it reattached to.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
start_daemon rs; ok $? "gureumd starts"
ensure_busybox
run_ok "launch keep (no restart policy)" "$G" launch busybox rs-keep
run_ok "launch dies (no restart policy)" "$G" launch busybox rs-dies
run_ok "launch back (restart always)" "$G" launch busybox rs-back --restart always
run_ok "create idle (defined only)" "$G" create busybox rs-idle
keep=$(field rs-keep pid); dies=$(field rs-dies pid); back=$(field rs-back pid)

"$GUREUMD" --state-dir "$TD/state" --run-dir "$TD/run2" 2>"$TD/err2"
ok $([ $? -eq 1 ] && echo 0 || echo 1) "a second gureumd on the same state folder is refused"
grep -q "another gureumd" "$TD/err2"; ok $? "saying why: $(head -n1 "$TD/err2")"
stop_daemon TERM
kill -0 "$keep" && kill -0 "$dies" && kill -0 "$back"; ok $? "SIGTERM to gureumd leaves the containers running"
start_daemon rs; ok $? "gureumd starts again"
[ "$(field rs-keep state)" = running ] && [ "$(field rs-keep pid)" = "$keep" ]; ok $? "keep reattached with the same pid"
out=$("$G" exec rs-keep -- echo alive); ok $([ "$out" = alive ] && echo 0 || echo 1) "exec works after reattach"

stop_daemon KILL
kill -0 "$keep"; ok $? "kill -9 of gureumd leaves the containers running"
kill -9 "$dies" "$back"
sleep 0.3
start_daemon rs; ok $? "gureumd starts after kill -9"
[ "$(field rs-keep state)" = running ] && [ "$(field rs-keep pid)" = "$keep" ]; ok $? "keep still running, same pid"
[ "$(field rs-dies state)" = stopped ]; ok $? "a container that died meanwhile is recorded stopped"
wait_state rs-back running; ok $? "restart=always brings back the one that died"
[ "$(field rs-back pid)" != "$back" ] && [ "$(field rs-back restart_count)" -ge 1 ]; ok $? "with a new pid and restart_count $(field rs-back restart_count)"
[ "$(field rs-idle state)" = defined ]; ok $? "a defined instance stays defined"
run_ok "a reattached container stops" "$G" stop rs-keep
dead "$keep"; ok $? "and its process is gone"
run_ok "exits after reattach are noticed: start dies" "$G" start rs-dies
stop_daemon KILL
start_daemon rs
p=$(field rs-dies pid); kill -9 "$p"
wait_state rs-dies stopped; ok $? "a reattached container that exits is recorded stopped"
run_ok "delete everything" "$G" delete --force rs-keep rs-dies rs-back rs-idle
[ -z "$(leftovers)" ]; ok $? "no mounts or cgroups left"
tap_done
