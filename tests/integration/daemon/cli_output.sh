#!/usr/bin/env bash
# cli_output.sh - what the CLI prints.  Human output (tables, show/yaml) gives
# every time the same way, RFC 3339 in local time (checked under a TZ with a
# half-hour offset), and the instance's host as "location"; `--format json` is
# exactly the API's JSON (epoch seconds, "host") for every command that prints
# data; `operation list` is a real table with one row per operation.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
start_daemon out; ok $? "gureumd starts"
ensure_busybox
export TZ=XST-5:30 # the CLI's local time: UTC+05:30 (the daemon started before: it only sends epochs)
HOST=$(hostname)
rfc() { date -d "@${1%.*}" +%Y-%m-%dT%H:%M:%S%:z; }
# get PATH PYEXPR: a value from the API's JSON answer (d)
get() { api GET "$1" | head -n -1 | python3 -c "import sys,json; d=json.load(sys.stdin); print($2)"; }
# same_json LABEL API_PATH PYEXPR CMD...: the command's output parses as JSON equal to PYEXPR of the API answer
same_json() {
	local label=$1 path=$2 expr=$3; shift 3
	api GET "$path" | head -n -1 >"$TD/api.json"
	"$@" >"$TD/cli.json" 2>"$TD/cli.err"
	python3 - "$TD/api.json" "$TD/cli.json" "$expr" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
want = eval(sys.argv[3])
got = json.load(open(sys.argv[2]))
if got != want:
    print("# want %s\n# got  %s" % (json.dumps(want)[:400], json.dumps(got)[:400]))
    sys.exit(1)
EOF
	ok $? "$label --format json is the API's JSON"
}
EPOCH_RE='(^|[^0-9a-f])1[0-9]{9}([^0-9]|$)'

# ---- an instance: show, list ----
run_ok "launch a container" "$G" launch busybox out-c
run_ok "create another (defined, no location yet)" "$G" create busybox out-d
created=$(get /v1/instances/out-c 'd["created"]'); updated=$(get /v1/instances/out-c 'd["updated"]')
"$G" show out-c >"$TD/show"; ok $? "show"
grep -qx "created: $(rfc "$created")" "$TD/show"; ok $? "show: created: $(rfc "$created") (epoch $created; got '$(grep '^created' "$TD/show")')"
grep -qx "updated: $(rfc "$updated")" "$TD/show"; ok $? "show: updated in the same form"
grep -qx "location: $HOST" "$TD/show"; ok $? "show: location: $HOST"
! grep -q "^host:" "$TD/show"; ok $? "show: no 'host:' line"
! grep -Eq "$EPOCH_RE" "$TD/show"; ok $? "show: no epoch number left"
"$G" show out-c --format yaml | cmp -s - "$TD/show"; ok $? "show --format yaml is the default show output"
python3 -c 'import sys,yaml; d=yaml.safe_load(open(sys.argv[1])); assert d["name"]=="out-c" and d["location"]==sys.argv[2], d' "$TD/show" "$HOST"
ok $? "show output parses as YAML"
same_json "show" /v1/instances/out-c 'd' "$G" show out-c --format json
[ "$("$G" show out-c --format json | python3 -c 'import sys,json; d=json.load(sys.stdin); print(d["host"], type(d["created"]).__name__)')" = "$HOST int" ]
ok $? "show --format json keeps the API's host and integer created"

"$G" list >"$TD/list"; ok $? "list"
head -n1 "$TD/list" | grep -Eq '^NAME +TYPE +STATE +IMAGE +CPU +MEMORY +RESTART +PID +HOST'; ok $? "list: a HOST column: $(head -n1 "$TD/list")"
awk '$1=="out-c"{print $9}' "$TD/list" | grep -qx "$HOST"; ok $? "list: out-c's location is $HOST"
awk '$1=="out-d"{print $9}' "$TD/list" | grep -qx -- "-"; ok $? "list: a defined instance has no location yet (-)"
same_json "list" /v1/instances 'd["instances"]' "$G" list --format json
"$G" list --format yaml >"$TD/list.yaml"
grep -q "^  created: $(rfc "$created")$" "$TD/list.yaml" && grep -q "^  location: $HOST$" "$TD/list.yaml"; ok $? "list --format yaml: readable times and location"
"$G" launch busybox out-j --format json >"$TD/launch.json"; ok $? "launch --format json"
python3 -c 'import sys,json; d=json.load(open(sys.argv[1])); assert d["name"]=="out-j" and d["state"]=="running" and isinstance(d["created"], int), d' "$TD/launch.json"
ok $? "launch --format json prints the instance document"
"$G" create busybox out-k --format json | python3 -c 'import sys,json; d=json.load(sys.stdin); assert d["name"]=="out-k" and d["state"]=="defined", d'
ok $? "create --format json prints the instance document"
[ "$("$G" launch busybox out-l)" = "out-l running" ]; ok $? "launch without --format: 'NAME STATE' as before"

# ---- images ----
icreated=$(get /v1/images/busybox 'd["created"]')
"$G" image list >"$TD/images"
head -n1 "$TD/images" | grep -q "CREATED"; ok $? "image list: a CREATED column: $(head -n1 "$TD/images")"
grep "^busybox " "$TD/images" | grep -qF "$(rfc "$icreated")"; ok $? "image list: busybox created $(rfc "$icreated")"
"$G" image show busybox >"$TD/image"
grep -qx "created: $(rfc "$icreated")" "$TD/image"; ok $? "image show: created in the same form"
same_json "image list" /v1/images 'd["images"]' "$G" image list --format json
same_json "image show" /v1/images/busybox 'd' "$G" image show busybox --format json
printf 'this is no tarball\n' >"$TD/garbage.tar"
"$G" image import "$TD/garbage.tar" out-bad >/dev/null 2>&1; ok $([ $? -eq 1 ] && echo 0 || echo 1) "importing garbage fails (a failed operation)"
sh "$GR_SRC/scripts/mk-busybox-rootfs.sh" "$TD/src" >/dev/null
"$G" image import "$TD/src" out-img --no-wait --format json >"$TD/op.json"; ok $? "image import --no-wait --format json"
opid=$(python3 -c 'import sys,json; d=json.load(open(sys.argv[1])); assert d["kind"]=="image-import" and d["status"]=="running"; print(d["id"])' "$TD/op.json")
ok $? "it prints the running operation ($opid)"
"$G" operation wait "$opid" --format json | python3 -c 'import sys,json; d=json.load(sys.stdin); assert d["id"]==sys.argv[1] and d["status"]=="success", d' "$opid"
ok $? "operation wait --format json prints the finished operation"
"$G" image import "$TD/src" out-img2 --format json | python3 -c 'import sys,json; d=json.load(sys.stdin); assert d["status"]=="success" and d["target"]=="out-img2", d'
ok $? "image import --format json (waiting) prints the finished operation"

# ---- snapshots ----
run_ok "snapshot create" "$G" snapshot create out-d s1
screated=$(get /v1/instances/out-d/snapshots/s1 'd["created"]')
"$G" snapshot list out-d | grep "^s1 " | grep -qF "$(rfc "$screated")"; ok $? "snapshot list: created $(rfc "$screated")"
"$G" snapshot show out-d s1 | grep -qx "created: $(rfc "$screated")"; ok $? "snapshot show: created in the same form"
same_json "snapshot list" /v1/instances/out-d/snapshots 'd["snapshots"]' "$G" snapshot list out-d --format json
same_json "snapshot show" /v1/instances/out-d/snapshots/s1 'd' "$G" snapshot show out-d s1 --format json
"$G" snapshot create out-d s2 --format json | python3 -c 'import sys,json; d=json.load(sys.stdin); assert d["kind"]=="snapshot-create" and d["status"]=="success", d'
ok $? "snapshot create --format json prints the finished operation"

# ---- operations ----
"$G" operation list >"$TD/ops"; ok $? "operation list"
head -n1 "$TD/ops" | grep -Eq '^ID +KIND +TARGET +STATUS +PROGRESS +STARTED +ERROR$'; ok $? "operation list: table header: $(head -n1 "$TD/ops")"
! grep -Eq '^ *-? ?[a-z_]+: ' "$TD/ops"; ok $? "operation list: not YAML"
api GET /v1/operations | head -n -1 >"$TD/ops.json"
python3 - "$TD/ops.json" "$TD/ops" <<'EOF'
import datetime, json, sys
ops = json.load(open(sys.argv[1]))["operations"]
rows = open(sys.argv[2]).read().splitlines()[1:]
assert len(rows) == len(ops), (len(rows), len(ops))
for op in ops:
    row = [r for r in rows if r.split()[0] == op["id"]]
    assert len(row) == 1, op["id"]
    cols = row[0].split()
    assert cols[1] == op["kind"] and cols[2] == op["target"] and cols[3] == op["status"], (row, op)
    started = datetime.datetime.fromtimestamp(int(op["created"])).astimezone().isoformat()
    assert started in row[0], (started, row)
    if op["status"] == "failure":
        assert op["error"]["message"][:30] in row[0], (row, op["error"])
print("# %d operations, %d failed" % (len(ops), sum(o["status"] == "failure" for o in ops)))
assert any(o["status"] == "failure" for o in ops)
EOF
ok $? "operation list: one row per operation with id, kind, target, status, start time, error"
"$G" operation list --format table | cmp -s - "$TD/ops"; ok $? "operation list --format table is that table"
same_json "operation list" /v1/operations 'd["operations"]' "$G" operation list --format json
ocreated=$(get "/v1/operations/$opid" 'd["created"]')
"$G" operation show "$opid" | grep -qx "created: $(rfc "$ocreated")"; ok $? "operation show: created $(rfc "$ocreated")"
same_json "operation show" "/v1/operations/$opid" 'd' "$G" operation show "$opid" --format json

# ---- events ----
same_json "events --no-follow" "/v1/events?follow=0" 'd' \
	sh -c "\"$G\" events --no-follow --format json | python3 -c 'import sys,json; print(json.dumps([json.loads(l) for l in sys.stdin]))'"
"$G" events --no-follow >"$TD/ev.default"
"$G" events --no-follow --format json | cmp -s - "$TD/ev.default"; ok $? "events: JSON lines by default, as before"
t0=$(get "/v1/events?follow=0" 'd[0]["time"]')
"$G" events --no-follow --format table >"$TD/ev.table"
head -n1 "$TD/ev.table" | grep -Eq '^TIME +SEQ +KIND +NAME +STATE +DETAIL'; ok $? "events --format table: header $(head -n1 "$TD/ev.table")"
sed -n 2p "$TD/ev.table" | grep -q "^$(rfc "$t0") "; ok $? "events --format table: readable time $(rfc "$t0")"

# ---- no epoch number in any human output ----
with_epoch=""
for f in show list.yaml images image ops ev.table; do
	grep -v checksum "$TD/$f" | grep -Eq "$EPOCH_RE" && with_epoch="$with_epoch $f"
done
[ -z "$with_epoch" ]; ok $? "no epoch in show, list --format yaml, image list/show, operation list, events table (found in:${with_epoch:- none})"
tap_done
