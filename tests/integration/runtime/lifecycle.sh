#!/usr/bin/env bash
# lifecycle.sh - gureum-oci create/start/state/kill/delete/run/list and the CLI's conventions.
. "$GR_SRC/tests/integration/runtime/lib/common.bash"
B=$WORK/b
mk_bundle "$B" '.process.args = ["sh", "-c", "echo pid=$$ host=$(hostname)"] | .hostname = "gr-test-host"'

out=$($OCI run -b "$B" gr-test-rt-lc1 2>&1); rc=$?
ok $rc "run exits 0"
echo "$out" | grep -q 'pid=1 host=gr-test-host'; ok $? "the program is pid 1 with the config's hostname ($out)"
[ ! -e "$STATE/gr-test-rt-lc1" ]; ok $? "run (not detached) deletes the container afterwards"

mk_bundle "$B" '.process.args = ["sh", "-c", "exit 7"]'
$OCI run -b "$B" gr-test-rt-lc2 >/dev/null 2>&1; ok $(( $? != 7 )) "run exits with the program's status (7)"
mk_bundle "$B" '.process.args = ["sh", "-c", "sh -c \"kill -9 \\$\\$\"; exit $?"]'
$OCI run -b "$B" gr-test-rt-lc2b >/dev/null 2>&1; ok $(( $? != 137 )) "a program killed by SIGKILL: status 128+9"

mk_bundle "$B" '.process.args = ["sleep", "1000"]'
$OCI create -b "$B" --pid-file "$WORK/pid" gr-test-rt-lc3 >"$WORK/out" 2>&1; ok $? "create"
st=$($OCI state gr-test-rt-lc3)
echo "$st" | jq -e '.status == "created" and .id == "gr-test-rt-lc3" and .ociVersion != null and (.pid > 0)' >/dev/null
ok $? "state after create: created with a pid ($st)"
$OCI delete gr-test-rt-lc3 >/dev/null 2>&1; ok $(( $? == 0 )) "delete of a created container fails without --force (spec)"
$OCI state gr-test-rt-lc3 | jq -e '.status == "created"' >/dev/null; ok $? "... and leaves it created"
[ "$(cat "$WORK/pid")" = "$(echo "$st" | jq .pid)" ]; ok $? "--pid-file holds the init's pid"
echo "$st" | jq -e --arg b "$B" '.bundle == $b' >/dev/null; ok $? "state.bundle is the absolute bundle path"
grep -q 'sleep' /proc/$(cat "$WORK/pid")/cmdline; ok $(( $? == 0 )) "before start the program has not been exec'd"
$OCI create -b "$B" gr-test-rt-lc3 >/dev/null 2>&1; ok $(( $? == 0 )) "creating an existing id fails"
run_ok "start" $OCI start gr-test-rt-lc3
$OCI state gr-test-rt-lc3 | jq -e '.status == "running"' >/dev/null; ok $? "state after start: running"
grep -q sleep /proc/$(cat "$WORK/pid")/cmdline; ok $? "after start the init is the program"
$OCI start gr-test-rt-lc3 >/dev/null 2>&1; ok $(( $? == 0 )) "starting twice fails"
$OCI list | grep -q 'gr-test-rt-lc3 .*running'; ok $? "list shows it running"
$OCI list -f json | jq -e 'map(.id) | index("gr-test-rt-lc3") != null' >/dev/null; ok $? "list --format json"
$OCI delete gr-test-rt-lc3 >/dev/null 2>&1; ok $(( $? == 0 )) "delete of a running container fails without --force"
$OCI state gr-test-rt-lc3 | jq -e '.status == "running"' >/dev/null; ok $? "... and leaves it running"
run_ok "kill TERM" $OCI kill gr-test-rt-lc3 TERM
sleep 0.2
$OCI state gr-test-rt-lc3 | jq -e '.status == "running"' >/dev/null; ok $? "pid 1 without a handler ignores TERM (kernel rule for namespace init)"
run_ok "kill KILL" $OCI kill gr-test-rt-lc3 9
wait_stopped gr-test-rt-lc3; ok $? "state after kill: stopped"
$OCI kill gr-test-rt-lc3 KILL >/dev/null 2>&1; ok $(( $? == 0 )) "kill of a stopped container fails"
run_ok "delete a stopped container" $OCI delete gr-test-rt-lc3
[ ! -e "$STATE/gr-test-rt-lc3" ] && [ "$(cg_count)" = 0 ]; ok $? "delete removed state dir and cgroups"
$OCI state gr-test-rt-lc3 >/dev/null 2>&1; ok $(( $? != 1 )) "state of a deleted container: exit 1"

$OCI create -b "$B" gr-test-rt-lc4 >"$WORK/out" 2>&1; ok $? "create another"
run_ok "start" $OCI start gr-test-rt-lc4
run_ok "delete --force a running container" $OCI delete --force gr-test-rt-lc4
[ ! -e "$STATE/gr-test-rt-lc4" ] && [ "$(cg_count)" = 0 ]; ok $? "--force left nothing behind"

$OCI run -d -b "$B" gr-test-rt-lc5 >"$WORK/out" 2>&1; ok $? "run --detach"
$OCI state gr-test-rt-lc5 | jq -e '.status == "running"' >/dev/null; ok $? "detached container runs"
run_ok "kill --all KILL" $OCI kill --all gr-test-rt-lc5 KILL
wait_stopped gr-test-rt-lc5; ok $? "kill --all stopped it"
run_ok "delete" $OCI delete gr-test-rt-lc5

# run forwards signals to the container: a TERM handler inside reports it
mk_bundle "$B" '.process.args = ["sh", "-c", "trap \"echo got-term; exit 3\" TERM; echo ready; while :; do sleep 0.05; done"]'
$OCI run -b "$B" gr-test-rt-sig >"$WORK/sig.out" 2>&1 &
runpid=$!
for i in $(seq 200); do grep -q ready "$WORK/sig.out" 2>/dev/null && break; sleep 0.05; done
kill -TERM $runpid
wait $runpid; rc=$?
[ $rc = 3 ] && grep -q got-term "$WORK/sig.out"; ok $? "run forwards SIGTERM to the container (rc $rc)"

for c in create start state kill delete run exec spec list; do
	$OCI $c --help | grep -q "usage: gureum-oci $c"; ok $? "$c --help"
done
$BIN --help >/dev/null; ok $? "--help"
$BIN frobnicate >/dev/null 2>&1; ok $(( $? != 2 )) "unknown command: exit 2"
$OCI kill >/dev/null 2>&1; ok $(( $? != 2 )) "missing id: exit 2"
$OCI kill x NOSUCHSIG >/dev/null 2>&1; ok $(( $? != 2 )) "bad signal: exit 2"
err=$($OCI state 'bad/id' 2>&1); ok $(( $? != 1 )) "bad id refused"
echo "$err" | grep -q "container id"; ok $? "and the message names the id ($err)"
$BIN --root "$STATE" --log "$WORK/log.json" --log-format json state nope >/dev/null 2>&1
jq -e '.level == "error"' "$WORK/log.json" >/dev/null; ok $? "--log --log-format json writes JSON lines"
tap_done
