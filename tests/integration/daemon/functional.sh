#!/usr/bin/env bash
# functional.sh - the container lifecycle through the real daemon and CLI:
# launch/list/show/exec/stop/start/restart/delete, ephemeral vs persistent
# writes, live memory/cpu change, logs, restart policy, metrics, events.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
start_daemon fn; ok $? "gureumd starts on a private socket"
run_ok "busybox image builds" "$G" image build busybox
run_ok "gureum --help" "$G" --help
"$G" launch --help | grep -q -- '--restart'; ok $? "launch --help lists --restart"
"$G" launch >/dev/null 2>&1; ok $([ $? -eq 2 ] && echo 0 || echo 1) "launch without arguments is a usage error (exit 2)"

run_ok "launch web1 with limits" "$G" launch busybox fn-web1 --memory 64M --cpu 0.5 --pids 100 --env FOO=bar
[ "$(field fn-web1 state)" = running ]; ok $? "web1 is running"
"$G" list | grep -q '^fn-web1 .*running'; ok $? "list shows web1 running"
"$G" list --format json | python3 -c 'import sys,json; l=json.load(sys.stdin); assert l[0]["name"]=="fn-web1"'; ok $? "list --format json parses"
if python3 -c 'import yaml' 2>/dev/null; then
	"$G" list --format yaml | python3 -c 'import sys,yaml; l=yaml.safe_load(sys.stdin); i=l[0]; assert i["name"]=="fn-web1" and i["restart"]=="no" and i["env"]==["FOO=bar"] and i["memory"]==67108864, i'
	ok $? "list --format yaml parses as YAML with the same values"
else
	"$G" list --format yaml | grep -q 'name: fn-web1'; ok $? "list --format yaml"
fi
[ "$(field fn-web1 memory)" = 67108864 ]; ok $? "show: memory recorded in bytes"

out=$("$G" exec fn-web1 -- sh -c 'echo $FOO; hostname'); ok $([ "$out" = "bar
fn-web1" ] && echo 0 || echo 1) "exec sees env and hostname (got: $(echo $out))"
"$G" exec fn-web1 -- sh -c 'exit 7'; ok $([ $? -eq 7 ] && echo 0 || echo 1) "exec exit status is passed through"
out=$(echo piped | "$G" exec fn-web1 -- cat); ok $([ "$out" = piped ] && echo 0 || echo 1) "exec passes stdin"
out=$(printf 'echo hello-$((1+2)); tty\nexit 5\n' | timeout 20 "$G" exec -t fn-web1 -- sh); rc=$?
[ $rc -eq 5 ]; ok $? "exec -t: the shell's exit status comes back (got $rc)"
echo "$out" | grep -q hello-3; ok $? "exec -t: input reaches the shell, output comes back"
echo "$out" | grep -q '^/dev/pts/'; ok $? "exec -t: the process has a terminal"
[ "$(timeout 20 "$G" exec -t fn-web1 -- stty size </dev/null | tr -d '\r')" = "24 80" ]; ok $? "exec -t: default terminal size 80x24"
pid=$(field fn-web1 pid)
cg=$(awk -F: '$2=="memory"{print $3}' /proc/$pid/cgroup)
[ "$(cat /sys/fs/cgroup/memory$cg/memory.limit_in_bytes)" = 67108864 ]; ok $? "memory limit applied in the cgroup ($cg)"

run_ok "config set memory/cpu live" "$G" config set fn-web1 memory=96M cpu=1
[ "$(cat /sys/fs/cgroup/memory$cg/memory.limit_in_bytes)" = 100663296 ]; ok $? "new memory limit is live"
[ "$(cat /sys/fs/cgroup/cpu$cg/cpu.cfs_quota_us)" = 100000 ]; ok $? "new cpu quota is live"
[ "$(field fn-web1 pid)" = "$pid" ]; ok $? "the container was not restarted by config set"
"$G" config set fn-web1 memory=lots 2>"$TD/err"; ok $([ $? -eq 1 ] && echo 0 || echo 1) "config set rejects a bad size"
grep -q memory "$TD/err"; ok $? "the error names the field"

# persistent keeps writes, ephemeral drops them
"$G" exec fn-web1 -- sh -c 'echo kept > /data.txt'
run_ok "stop web1" "$G" stop fn-web1
[ "$(field fn-web1 state)" = stopped ]; ok $? "web1 is stopped"
dead "$pid"; ok $? "its process is gone"
run_ok "start web1" "$G" start fn-web1
[ "$("$G" exec fn-web1 -- cat /data.txt)" = kept ]; ok $? "persistent instance keeps its writes"
run_ok "launch an ephemeral instance" "$G" launch busybox fn-eph --ephemeral
"$G" exec fn-eph -- sh -c 'echo gone > /data.txt'
run_ok "restart ephemeral" "$G" restart fn-eph
"$G" exec fn-eph -- test -e /data.txt; ok $([ $? -eq 1 ] && echo 0 || echo 1) "ephemeral instance dropped its writes"

# logs
run_ok "launch a talker" "$G" launch busybox fn-talk -- sh -c 'echo to-stdout; echo to-stderr >&2'
wait_state fn-talk stopped; ok $? "talker exits and is recorded stopped"
[ "$(field fn-talk exit_code)" = 0 ]; ok $? "its exit code 0 is recorded"
out=$("$G" logs fn-talk); echo "$out" | grep -q to-stdout && echo "$out" | grep -q to-stderr; ok $? "logs has stdout and stderr"

# restart policy
run_ok "launch a failing instance with --restart on-failure" "$G" launch busybox fn-crash --restart on-failure -- sh -c 'sleep 0.3; exit 3'
for _ in $(seq 1 100); do [ "$(field fn-crash restart_count)" -ge 2 ] 2>/dev/null && break; sleep 0.1; done
[ "$(field fn-crash restart_count)" -ge 2 ]; ok $? "on-failure restarts it (restart_count=$(field fn-crash restart_count))"
run_ok "stop it" "$G" stop --force fn-crash
run_ok "launch a clean exit with --restart on-failure" "$G" launch busybox fn-clean --restart on-failure -- true
wait_state fn-clean stopped; ok $? "clean exit stays stopped"
sleep 0.5
[ "$(field fn-clean restart_count)" = 0 ]; ok $? "and is not restarted"
pid=$(field fn-web1 pid)
run_ok "config set restart=always" "$G" config set fn-web1 restart=always
kill -9 "$pid"
for _ in $(seq 1 100); do p2=$(field fn-web1 pid); [ -n "$p2" ] && [ "$p2" != 0 ] && [ "$p2" != "$pid" ] && break; sleep 0.1; done
[ "$(field fn-web1 state)" = running ] && [ "$p2" != "$pid" ]; ok $? "always: a killed container comes back"

# a crash loop backs off, and a stop ends it for good
run_ok "launch a crash loop (restart always)" "$G" launch busybox fn-loop --restart always -- false
for _ in $(seq 1 100); do [ "$(field fn-loop restart_count)" -ge 3 ] 2>/dev/null && break; sleep 0.1; done
[ "$(field fn-loop restart_count)" -ge 3 ]; ok $? "it is restarted again and again (restart_count $(field fn-loop restart_count))"
run_ok "stop it" "$G" stop fn-loop
c1=$(field fn-loop restart_count)
sleep 2
[ "$(field fn-loop state)" = stopped ] && [ "$(field fn-loop restart_count)" = "$c1" ]; ok $? "after stop no pending restart fires"
run_ok "delete it" "$G" delete fn-loop

# admission: more memory than the host has can never fit: refused up front
"$G" launch busybox fn-huge --memory 100000G 2>"$TD/err"; ok $([ $? -eq 1 ] && echo 0 || echo 1) "a launch that can never fit is refused"
grep -q "memory: .* more than any host has (the largest: [0-9]* MiB)" "$TD/err"; ok $? "naming the field and the host's capacity: $(cat "$TD/err")"
"$G" show fn-huge >/dev/null 2>&1; [ $? -eq 1 ]; ok $? "nothing was recorded"
[ -n "$(field fn-web1 host)" ]; ok $? "a running instance records its host ($(field fn-web1 host))"

# metrics and events
m=$(curl -s --unix-socket "$GUREUM_SOCKET" http://localhost/metrics)
echo "$m" | grep -q 'gureum_instances{state="running"}'; ok $? "metrics: instances by state"
echo "$m" | grep -q 'gureum_instance_memory_bytes{name="fn-web1"}'; ok $? "metrics: per-instance memory"
echo "$m" | grep -q 'gureum_instance_cpu_seconds_total{name="fn-web1"}'; ok $? "metrics: per-instance cpu"
echo "$m" | grep -q 'gureum_api_request_duration_seconds_count'; ok $? "metrics: API latency"
"$G" events --no-follow | grep -q '"name":"fn-web1"'; ok $? "events list state changes"

# delete
"$G" delete fn-web1 2>"$TD/err"; ok $([ $? -eq 1 ] && echo 0 || echo 1) "delete of a running instance needs --force"
grep -q -- --force "$TD/err"; ok $? "and says so"
run_ok "delete --force" "$G" delete --force fn-web1 fn-eph fn-talk fn-crash fn-clean
"$G" show fn-web1 >/dev/null 2>&1; ok $([ $? -eq 1 ] && echo 0 || echo 1) "deleted instance is gone"
[ -z "$(leftovers)" ]; ok $? "no mounts or cgroups left ($(leftovers | head -3 | tr '\n' ' '))"
[ ! -e "$TD/state/instances/fn-web1" ] && [ ! -e "$TD/state/layers/fn-web1" ]; ok $? "instance folder and layers removed"
tap_done
