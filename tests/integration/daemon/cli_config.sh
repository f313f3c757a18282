#!/usr/bin/env bash
# cli_config.sh - `gureum config show|get|set`: show prints an instance's
# settings, get one of them (also options.KEY and env.KEY), set changes them:
# KEY=VALUE, --env K=V (replaces or adds one variable, the others kept in
# order) and --option K=V (one key of the driver options, merged by the daemon
# key by key; null removes it; the driver checks the result: a VM, defined
# from a real debian-vm image, takes its options, a container none).  The API
# merges "options" the same way.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
start_daemon cfg; ok $? "gureumd starts"
ensure_busybox
C=cfg-c
V=cfg-v
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
assert set(c) == {"image","type","class","cpu","memory","pids","env","cmd","ephemeral","privileged","restart","options"}, c
assert c["env"] == ["A=1","B=2"] and c["memory"] == 67108864, c'
ok $? "config show --format json: exactly the settings"

run_ok "config set --env B=3 --env C=4" "$G" config set $C --env B=3 --env C=4
[ "$(doc 'd["env"]')" = '["A=1", "B=3", "C=4"]' ]; ok $? "env: B replaced in place, C added, A kept ($(doc 'd["env"]'))"
run_ok "config set --env with = in the value" "$G" config set $C --env 'A=x=y'
[ "$(doc 'd["env"]')" = '["A=x=y", "B=3", "C=4"]' ]; ok $? "env: A=x=y"

# options belong to the driver: a VM (defined from a real debian-vm image, not started)
# takes its known options; a container takes none
run_ok "image build debian-vm" "$G" image build debian-vm
run_ok "create a VM (not started)" "$G" create debian-vm $V --vm
vdoc() { "$G" show $V --format json | python3 -c "import sys,json; d=json.load(sys.stdin); print(json.dumps($1, sort_keys=True))"; }
run_ok "config set --option hostname=box --option cpus=2" "$G" config set $V --option hostname=box --option cpus=2
[ "$(vdoc 'd["options"]')" = '{"cpus": 2, "hostname": "box"}' ]; ok $? "options: a string and a number ($(vdoc 'd["options"]'))"
run_ok "config set --option machine=q35 with KEY=VALUE" "$G" config set $V --option machine=q35 restart=always
[ "$(vdoc 'd["options"]')" = '{"cpus": 2, "hostname": "box", "machine": "q35"}' ]; ok $? "options merged key by key"
[ "$(vdoc 'd["restart"]')" = '"always"' ]; ok $? "and the KEY=VALUE change applied in the same call"
[ "$("$G" config get $V options.cpus)" = 2 ]; ok $? "config get options.cpus"
run_ok "config set --option cpus=null removes it" "$G" config set $V --option cpus=null
[ "$(vdoc 'd["options"]')" = '{"hostname": "box", "machine": "q35"}' ]; ok $? "options: cpus removed"
run_ok "config set --option ssh_keys=[...] (JSON)" "$G" config set $V --option 'ssh_keys=["ssh-ed25519 AAAA k"]'
[ "$(vdoc 'd["options"]["ssh_keys"]')" = '["ssh-ed25519 AAAA k"]' ]; ok $? "options: a JSON array"
before=$(vdoc 'd')
"$G" config set $V --option colour=red >/dev/null 2>"$TD/err"; rc=$?
[ $rc -eq 1 ] && grep -q "options.colour" "$TD/err"; ok $? "an unknown VM option: exit 1 naming it ($(cat "$TD/err"))"
"$G" config set $V --option cpus=two >/dev/null 2>"$TD/err"; rc=$?
[ $rc -eq 1 ] && grep -q "options.cpus" "$TD/err"; ok $? "a bad value: exit 1 naming it ($(cat "$TD/err"))"
[ "$(vdoc 'd')" = "$before" ]; ok $? "refused options left the VM as it was"
before=$(doc 'd')
"$G" config set $C --option hostname=x >/dev/null 2>"$TD/err"; rc=$?
[ $rc -eq 1 ] && grep -q "options.hostname" "$TD/err"; ok $? "a container takes no options: exit 1 ($(cat "$TD/err"))"
[ "$(doc 'd')" = "$before" ]; ok $? "and stays as it was"

# usage errors
"$G" config set $C --env NOEQUALS >/dev/null 2>&1; ok $([ $? -eq 2 ] && echo 0 || echo 1) "--env without =: exit 2"
"$G" config set $C --option =v >/dev/null 2>&1; ok $([ $? -eq 2 ] && echo 0 || echo 1) "--option without a key: exit 2"
"$G" config set $C >/dev/null 2>&1; ok $([ $? -eq 2 ] && echo 0 || echo 1) "config set without a change: exit 2"
"$G" config set $C --env >/dev/null 2>&1; ok $([ $? -eq 2 ] && echo 0 || echo 1) "--env without a value: exit 2"
"$G" config frob $C >/dev/null 2>&1; ok $([ $? -eq 2 ] && echo 0 || echo 1) "config frob: exit 2"

# the API: options merged, null removes, bad shapes refused naming the field
out=$(api PATCH /v1/instances/$V/config '{"options": {"tap": "tap9", "machine": null}}')
[ "$(echo "$out" | tail -n1)" = 200 ]; ok $? "PATCH options -> 200"
[ "$(vdoc 'd["options"]')" = '{"hostname": "box", "ssh_keys": ["ssh-ed25519 AAAA k"], "tap": "tap9"}' ]; ok $? "API: merged, machine removed ($(vdoc 'd["options"]'))"
before=$(vdoc 'd')
out=$(api PATCH /v1/instances/$V/config '{"options": "tap=tap0"}')
[ "$(echo "$out" | tail -n1)" = 400 ] && echo "$out" | grep -q '"options: expected an object'; ok $? "options not an object -> 400: $(echo "$out" | head -n1)"
out=$(api PATCH /v1/instances/$V/config '{"options": {"": 1}}')
[ "$(echo "$out" | tail -n1)" = 400 ] && echo "$out" | grep -q 'options'; ok $? "an empty option name -> 400: $(echo "$out" | head -n1)"
out=$(api PATCH /v1/instances/$V/config '{"options": {"tap": "tap1"}, "colour": "red"}')
[ "$(echo "$out" | tail -n1)" = 400 ]; ok $? "a bad field beside options -> 400, nothing applied"
[ "$(vdoc 'd')" = "$before" ]; ok $? "refused changes left the instance as it was"

# a running container: --env is recorded for its next start, --option refused
run_ok "start the container" "$G" start $C
run_ok "config set --env on a running container" "$G" config set $C --env D=5
[ "$(doc 'd["env"]')" = '["A=x=y", "B=3", "C=4", "D=5"]' ]; ok $? "recorded"
"$G" config set $C --option hostname=x >/dev/null 2>&1; ok $([ $? -eq 1 ] && echo 0 || echo 1) "--option on a running container: exit 1"
[ "$(field $C state)" = running ]; ok $? "still running"
run_ok "cleanup" "$G" delete --force $C $V
tap_done
