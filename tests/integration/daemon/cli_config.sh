#!/usr/bin/env bash
# cli_config.sh - `gureum config show|get|set`: show prints an instance's
# settings, get one of them (also options.KEY and env.KEY), set changes them:
# KEY=VALUE, --env K=V (replaces or adds one variable, the others kept in
# order) and --option K=V (one key of the driver options, merged by the daemon
# key by key; null removes it).  The API merges "options" the same way.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
start_daemon cfg; ok $? "gureumd starts"
ensure_busybox
C=cfg-c
run_ok "create an instance with env" "$G" create busybox $C --env A=1 --env B=2 --memory 64M

# json NAME: the instance document's field (python expression on d)
doc() { "$G" show $C --format json | python3 -c "import sys,json; d=json.load(sys.stdin); print(json.dumps($1, sort_keys=True))"; }

[ "$("$G" config get $C memory)" = 67108864 ]; ok $? "config get memory"
[ "$("$G" config get $C restart)" = no ]; ok $? "config get restart (a string, printed bare)"
[ "$("$G" config get $C env)" = "A=1
B=2" ]; ok $? "config get env: one variable a line"
[ "$("$G" config get $C env.B)" = 2 ]; ok $? "config get env.B"
[ "$("$G" config get $C env.NOPE)" = "" ]; ok $? "config get of an unset variable: empty"
"$G" config get $C env --format json | python3 -c 'import sys,json; assert json.load(sys.stdin) == ["A=1","B=2"]'; ok $? "config get env --format json"
"$G" config get $C memory --format json | python3 -c 'import sys,json; assert json.load(sys.stdin) == 67108864'; ok $? "config get memory --format json"
"$G" config get $C colour >/dev/null 2>"$TD/err"; rc=$?
[ $rc -eq 2 ] && grep -q "colour" "$TD/err"; ok $? "config get of an unknown key: exit 2 naming it ($(cat "$TD/err" | head -n1))"
"$G" config get nosuch memory >/dev/null 2>&1; ok $([ $? -eq 1 ] && echo 0 || echo 1) "config get of a missing instance: exit 1"

"$G" config show $C >"$TD/show"; ok $? "config show"
grep -qx "memory: 67108864" "$TD/show" && grep -qx "restart: \"no\"" "$TD/show" && grep -qx -- "  - A=1" "$TD/show" ; ok $? "config show: yaml with the settings"
! grep -Eq "^(state|pid|op|error|created|updated):" "$TD/show"; ok $? "config show: settings only, no lifecycle fields"
"$G" config show $C --format json | python3 -c '
import json,sys
c = json.load(sys.stdin)
assert set(c) == {"image","type","class","cpu","memory","pids","env","cmd","ephemeral","restart","options"}, c
assert c["env"] == ["A=1","B=2"] and c["memory"] == 67108864, c'
ok $? "config show --format json: exactly the settings"

run_ok "config set --env B=3 --env C=4" "$G" config set $C --env B=3 --env C=4
[ "$(doc 'd["env"]')" = '["A=1", "B=3", "C=4"]' ]; ok $? "env: B replaced in place, C added, A kept ($(doc 'd["env"]'))"
run_ok "config set --env with = in the value" "$G" config set $C --env 'A=x=y'
[ "$(doc 'd["env"]')" = '["A=x=y", "B=3", "C=4"]' ]; ok $? "env: A=x=y"

run_ok "config set --option hostname=box --option cpus=2" "$G" config set $C --option hostname=box --option cpus=2
[ "$(doc 'd["options"]')" = '{"cpus": 2, "hostname": "box"}' ]; ok $? "options: a string and a number ($(doc 'd["options"]'))"
run_ok "config set --option machine=q35 with KEY=VALUE" "$G" config set $C --option machine=q35 restart=always
[ "$(doc 'd["options"]')" = '{"cpus": 2, "hostname": "box", "machine": "q35"}' ]; ok $? "options merged key by key"
[ "$(doc 'd["restart"]')" = '"always"' ]; ok $? "and the KEY=VALUE change applied in the same call"
[ "$("$G" config get $C options.cpus)" = 2 ]; ok $? "config get options.cpus"
run_ok "config set --option cpus=null removes it" "$G" config set $C --option cpus=null
[ "$(doc 'd["options"]')" = '{"hostname": "box", "machine": "q35"}' ]; ok $? "options: cpus removed"
run_ok "config set --option ssh_keys=[...] (JSON)" "$G" config set $C --option 'ssh_keys=["ssh-ed25519 AAAA k"]'
[ "$(doc 'd["options"]["ssh_keys"]')" = '["ssh-ed25519 AAAA k"]' ]; ok $? "options: a JSON array"

# usage errors
"$G" config set $C --env NOEQUALS >/dev/null 2>&1; ok $([ $? -eq 2 ] && echo 0 || echo 1) "--env without =: exit 2"
"$G" config set $C --option =v >/dev/null 2>&1; ok $([ $? -eq 2 ] && echo 0 || echo 1) "--option without a key: exit 2"
"$G" config set $C >/dev/null 2>&1; ok $([ $? -eq 2 ] && echo 0 || echo 1) "config set without a change: exit 2"
"$G" config set $C --env >/dev/null 2>&1; ok $([ $? -eq 2 ] && echo 0 || echo 1) "--env without a value: exit 2"
"$G" config frob $C >/dev/null 2>&1; ok $([ $? -eq 2 ] && echo 0 || echo 1) "config frob: exit 2"

# the API: options merged, null removes, bad shapes refused naming the field
out=$(api PATCH /v1/instances/$C/config '{"options": {"tap": "tap9", "machine": null}}')
[ "$(echo "$out" | tail -n1)" = 200 ]; ok $? "PATCH options -> 200"
[ "$(doc 'd["options"]')" = '{"hostname": "box", "ssh_keys": ["ssh-ed25519 AAAA k"], "tap": "tap9"}' ]; ok $? "API: merged, machine removed ($(doc 'd["options"]'))"
before=$(doc 'd')
out=$(api PATCH /v1/instances/$C/config '{"options": "tap=tap0"}')
[ "$(echo "$out" | tail -n1)" = 400 ] && echo "$out" | grep -q '"options: expected an object'; ok $? "options not an object -> 400: $(echo "$out" | head -n1)"
out=$(api PATCH /v1/instances/$C/config '{"options": {"": 1}}')
[ "$(echo "$out" | tail -n1)" = 400 ] && echo "$out" | grep -q 'options: '; ok $? "an empty option name -> 400: $(echo "$out" | head -n1)"
out=$(api PATCH /v1/instances/$C/config '{"options": {"tap": "tap1"}, "colour": "red"}')
[ "$(echo "$out" | tail -n1)" = 400 ]; ok $? "a bad field beside options -> 400, nothing applied"
[ "$(doc 'd')" = "$before" ]; ok $? "refused changes left the instance as it was"

# a running container takes option changes (recorded for its next start)
run_ok "start it" "$G" start $C
run_ok "config set --option on a running container" "$G" config set $C --option hostname=other
[ "$(doc 'd["options"]["hostname"]')" = '"other"' ]; ok $? "recorded"
[ "$(field $C state)" = running ]; ok $? "still running"
run_ok "cleanup" "$G" delete --force $C
tap_done
