#!/usr/bin/env bash
# badinput.sh - bad input never crashes the daemon or changes the store:
# malformed JSON, unknown fields, wrong types, huge bodies, invalid names,
# missing images and bad CLI flags get a 4xx (or exit 2) naming the problem.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
start_daemon bi; ok $? "gureumd starts"
ensure_busybox
run_ok "one good instance" "$G" launch busybox bi-good
before=$(api GET /v1/instances | head -n1)
api GET /v1/operations | head -n1 >"$TD/ops_before.json"

check() { # what expect_status body_regex method path [body]
	local what=$1 want=$2 re=$3; shift 3
	local out st body
	out=$(api "$@"); st=$(echo "$out" | tail -n1); body=$(echo "$out" | head -n -1)
	if [ "$st" = "$want" ] && echo "$body" | grep -Eq "$re" &&
	   echo "$body" | python3 -c 'import sys,json; e=json.load(sys.stdin)["error"]; assert e["code"] and e["message"]' 2>/dev/null; then
		ok 0 "$what -> $st"
	else
		ok 1 "$what -> $st (want $want /$re/): $body"
	fi
}
check "malformed JSON" 400 "invalid JSON" POST /v1/instances '{"name": "x", '
check "not an object" 400 "expected a JSON object" POST /v1/instances '[1,2]'
check "empty body" 400 "expected a JSON object" POST /v1/instances ''
check "unknown field" 400 "colour: unknown field" POST /v1/instances '{"name":"bi-x","image":"busybox","colour":"red"}'
check "wrong type: cpu" 400 "cpu:" POST /v1/instances '{"name":"bi-x","image":"busybox","cpu":"lots"}'
check "wrong type: memory" 400 "memory:" POST /v1/instances '{"name":"bi-x","image":"busybox","memory":true}'
check "bad size: memory" 400 "memory:" POST /v1/instances '{"name":"bi-x","image":"busybox","memory":"12Q"}'
check "wrong type: env" 400 "env" POST /v1/instances '{"name":"bi-x","image":"busybox","env":"A=B"}'
check "env entry without =" 400 'env\[0\]' POST /v1/instances '{"name":"bi-x","image":"busybox","env":["AB"]}'
check "bad restart policy" 400 "restart:" POST /v1/instances '{"name":"bi-x","image":"busybox","restart":"sometimes"}'
check "missing name" 400 "name: required" POST /v1/instances '{"image":"busybox"}'
check "invalid name (upper case)" 400 "name:" POST /v1/instances '{"name":"Bad_Name","image":"busybox"}'
check "invalid name (too long)" 400 "name:" POST /v1/instances "{\"name\":\"$(printf 'a%.0s' $(seq 1 80))\",\"image\":\"busybox\"}"
check "missing image" 404 "image: no image named" POST /v1/instances '{"name":"bi-x","image":"nosuchimage"}'
check "duplicate name" 409 "already exists" POST /v1/instances '{"name":"bi-good","image":"busybox"}'
check "duplicate JSON key" 400 "invalid JSON" POST /v1/instances '{"name":"bi-x","name":"bi-y","image":"busybox"}'
check "unknown action" 400 "action:" POST /v1/instances/bi-good/state '{"action":"explode"}'
check "bad timeout" 400 "timeout" POST /v1/instances/bi-good/state '{"action":"stop","timeout":"soon"}'
check "unknown instance" 404 "does not exist" GET /v1/instances/bi-nope
check "invalid name in path" 400 "name:" GET /v1/instances/BAD..name
check "unknown config key" 400 "unknown field" PATCH /v1/instances/bi-good/config '{"colour":"red"}'
check "exec without cmd" 400 "cmd" POST /v1/instances/bi-good/exec '{}'
check "exec cmd wrong type" 400 "cmd" POST /v1/instances/bi-good/exec '{"cmd":"ls"}'
check "unknown resource" 404 "no such resource" GET /v1/nothing
check "bad operation id" 404 "does not exist" GET /v1/operations/12345
check "image import without source" 400 "source" POST /v1/images '{"name":"img"}'
check "image import relative path" 400 "source" POST /v1/images '{"name":"img","source":"rel/path"}'
check "image build unknown recipe" 400 "recipe" POST /v1/images '{"recipe":"nonesuch"}'
head -c 3000000 /dev/zero | tr '\0' 'a' >"$TD/huge"
out=$(curl -s --unix-socket "$GUREUM_SOCKET" -X POST -H 'Content-Type: application/json' --data-binary @"$TD/huge" -w '\n%{http_code}' http://localhost/v1/instances)
[ "$(echo "$out" | tail -n1)" = 413 ]; ok $? "huge body -> 413"
printf '{"name":"bi-x","image":"busybox","env":[%s"A=B"]}' "$(for i in $(seq 1 2000); do printf '"K%d=V",' $i; done)" >"$TD/many"
out=$(curl -s --unix-socket "$GUREUM_SOCKET" -X POST --data-binary @"$TD/many" -w '\n%{http_code}' http://localhost/v1/instances)
[ "$(echo "$out" | tail -n1)" = 400 ]; ok $? "2001 env entries -> 400"
after=$(api GET /v1/instances | head -n1)
[ -n "$before" ] && [ "$before" = "$after" ]; ok $? "the instances are unchanged after all bad requests"
# an operation is recorded per lifecycle call the daemon takes up: of all
# these, only the duplicate create (a conflict, not a malformed request)
api GET /v1/operations | head -n1 >"$TD/ops_after.json"
python3 - "$TD/ops_before.json" "$TD/ops_after.json" <<'EOF2'
import json, sys
before = {o["id"] for o in json.load(open(sys.argv[1]))["operations"]}
new = [o for o in json.load(open(sys.argv[2]))["operations"] if o["id"] not in before]
print("# new operations: %s" % json.dumps(new))
assert len(new) == 1 and new[0]["target"] == "bi-good" and new[0]["status"] == "failure" \
    and new[0]["error"]["code"] == "EEXIST", new
EOF2
ok $? "no operation recorded for the malformed requests (only the refused duplicate create)"
[ ! -e "$TD/state/instances/bi-x" ] && [ ! -e "$TD/state/layers/bi-x" ]; ok $? "no folder or layer for rejected instances"
kill -0 "$DPID"; ok $? "the daemon is alive"

# the CLI: usage errors exit 2, failures exit 1
"$G" launch busybox 2>/dev/null; ok $([ $? -eq 2 ] && echo 0 || echo 1) "launch with one argument: exit 2"
"$G" launch busybox bi-y --cpu many 2>/dev/null; ok $([ $? -eq 2 ] && echo 0 || echo 1) "--cpu many: exit 2"
"$G" launch busybox bi-y --bogus 2>/dev/null; ok $([ $? -eq 2 ] && echo 0 || echo 1) "unknown flag: exit 2"
"$G" list --format xml 2>/dev/null; ok $([ $? -eq 2 ] && echo 0 || echo 1) "list --format xml: exit 2"
"$G" nosuchcommand 2>/dev/null; ok $([ $? -eq 2 ] && echo 0 || echo 1) "unknown command: exit 2"
msg=$("$G" launch busybox Bad_Name 2>&1); ok $([ $? -eq 1 ] && echo 0 || echo 1) "invalid name: exit 1"
echo "$msg" | grep -q "name:"; ok $? "and the message names the field: $msg"
msg=$("$G" launch nosuch bi-y 2>&1); echo "$msg" | grep -q "image"; ok $? "missing image named: $msg"
GUREUM_SOCKET=$TD/nowhere.sock "$G" list 2>/dev/null; ok $([ $? -eq 1 ] && echo 0 || echo 1) "no daemon: exit 1"
no_help=""
for c in launch create start stop restart delete list show exec console logs config image snapshot operation events sim version; do
	out=$("$G" "$c" --help 2>/dev/null) && printf '%s\n' "$out" | grep -q "^usage: gureum $c" || no_help="$no_help $c"
done
[ -z "$no_help" ]; ok $? "every command has --help (without:${no_help:- none})"
run_ok "cleanup" "$G" delete --force bi-good
tap_done
