#!/usr/bin/env bash
# cli_version.sh - GET /v1 describes the server (API and gureum versions, host
# name, kernel, which back-ends this host can run) and `gureum version` prints
# the CLI's and the daemon's versions; without a daemon it still prints its own.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
start_daemon ver; ok $? "gureumd starts"

out=$(api GET /v1); st=$(echo "$out" | tail -n1); echo "$out" | head -n -1 >"$TD/v1.json"
[ "$st" = 200 ]; ok $? "GET /v1 -> $st"
python3 - "$TD/v1.json" "$(hostname)" "$(uname -r)" "$(uname -m)" <<'EOF'
import json, os, shutil, sys
d = json.load(open(sys.argv[1]))
host, rel, arch = sys.argv[2:5]
def check(cond, what):
    print(("ok" if cond else "FAIL") + " " + what + ": " + json.dumps(d)[:300])
    if not cond:
        sys.exit(1)
check(d["api_version"] == "v1", "api_version v1")
check(d["server"] == "gureumd" and isinstance(d["server_version"], str) and d["server_version"], "server and version")
env = d["environment"]
check(env["server_name"] == host, "server_name is the host name")
check(env["kernel"] == "Linux" and env["kernel_version"] == rel and env["kernel_architecture"] == arch, "kernel")
b = env["backends"]
check(b["container"]["available"] is True and b["container"]["cgroup"] in ("v1", "v2", "hybrid"), "containers")
qemu = shutil.which(os.environ.get("GR_QEMU") or "qemu-system-x86_64")
check(b["vm"]["available"] == bool(qemu), "vm available iff QEMU is installed")
if qemu:
    virt = any(" vmx" in l or " svm" in l for l in open("/proc/cpuinfo") if l.startswith("flags"))
    want = ("kvm", "tcg") if os.path.exists("/dev/kvm") and virt else ("tcg",)
    check(b["vm"]["accel"] in want, "vm accel %s" % (want,))
    check(b["vm"]["accel"] == "kvm" or b["vm"]["reason"], "tcg says why there is no kvm")
EOF
ok $? "GET /v1: versions, host name, kernel and back-ends"
sv=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["server_version"])' "$TD/v1.json")
out=$(api POST /v1 '{}'); st=$(echo "$out" | tail -n1)
[ "$st" = 400 ] && echo "$out" | grep -q "method not allowed"; ok $? "POST /v1 -> $st"

"$G" version >"$TD/ver" 2>"$TD/ver.err"; ok $? "gureum version: exit 0"
grep -qx "client version: $sv" "$TD/ver"; ok $? "client version printed ($(head -n1 "$TD/ver"))"
grep -qx "server version: $sv" "$TD/ver"; ok $? "server version printed"
grep -qx "api version:    v1" "$TD/ver"; ok $? "api version printed"
grep -q "^location:       $(hostname)$" "$TD/ver"; ok $? "the daemon's host printed as location"
grep -q "^containers:     yes" "$TD/ver"; ok $? "containers: yes"
grep -Eq "^vms:            (yes \((kvm|tcg)|no)" "$TD/ver"; ok $? "$(grep '^vms' "$TD/ver")"
"$G" version --format json | python3 -c '
import json,sys
v = json.load(sys.stdin); api = json.load(open(sys.argv[1]))
assert v["client_version"] == api["server_version"], v
assert v["server"] == api, v' "$TD/v1.json"
ok $? "version --format json: client_version and the server's GET /v1 document"
"$G" version --format yaml | grep -q '^client_version: '; ok $? "version --format yaml"

GUREUM_SOCKET=$TD/nowhere.sock "$G" version >"$TD/ver2" 2>"$TD/ver2.err"; rc=$?
[ $rc -eq 1 ]; ok $? "version without a daemon: exit 1 (got $rc)"
grep -qx "client version: $sv" "$TD/ver2"; ok $? "and still prints the client version"
grep -q "gureumd is not running" "$TD/ver2.err"; ok $? "and says why: $(cat "$TD/ver2.err")"
"$G" version extra >/dev/null 2>&1; ok $([ $? -eq 2 ] && echo 0 || echo 1) "version with an argument: exit 2"
tap_done
