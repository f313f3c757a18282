#!/usr/bin/env bash
# agent.sh - a VM's exec goes through the guest agent (virtio-serial port
# org.gureum.agent.0), not the serial console, and a running VM resizes live:
# - with a `gureum console` attached, exec still returns stdout, stderr and the exit code;
# - a second console attach is refused with a clear "in use" message (no silent hang);
# - `exec -t` gets a terminal in the guest;
# - a second exec while one runs is refused "busy";
# - `config set memory=512M cpu=2` on the running VM: QMP query-balloon says 512 MiB, the
#   guest sees 2 vCPUs online and more RAM; beyond the maximum: an error naming max_memory;
#   back down to 256M/1;
# - the agent dies during an exec: the exec fails ("stopped answering"), not hangs;
# - a guest whose agent is gone: exec fails with an error naming gureum-guest-agent.
# A private gureumd (own state/run folders, cgroup prefix gr-test-vm-agent-$$); the EXIT
# trap kills what is left.
GR_SRC=${GR_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
GR_BUILD=${GR_BUILD:-$GR_SRC/build}
. "$GR_SRC/tests/tap.sh"
GUREUMD=$GR_BUILD/bin/gureumd
G=$GR_BUILD/bin/gureum

if [ "$(id -u)" -ne 0 ]; then skip "needs root"; tap_done; fi
if [ ! -x "$GUREUMD" ] || [ ! -x "$G" ]; then echo "not ok 1 - gureumd/gureum not built in $GR_BUILD"; exit 1; fi
if ! command -v script >/dev/null; then skip "script(1) (util-linux) is needed to give the CLI a terminal"; tap_done; fi

TD=$(mktemp -d /tmp/gr-test-vm-agent.XXXXXX)
CGP="gr-test-vm-agent-$$"
DPID=""
CON1=""
BG=""
export GUREUM_SOCKET=$TD/run/gureum.sock
VM=gr-test-vm-agent-$$

start_daemon() {
	"$GUREUMD" --state-dir "$TD/state" --run-dir "$TD/run" --cgroup-prefix "$CGP" \
		--log "$TD/daemon.log" 2>>"$TD/daemon.err" &
	DPID=$!
	for _ in $(seq 1 100); do
		"$G" list >/dev/null 2>&1 && return 0
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

cleanup() {
	exec 7>&- 2>/dev/null
	[ -n "$CON1" ] && kill "$CON1" 2>/dev/null
	[ -n "$BG" ] && kill "$BG" 2>/dev/null
	if [ -n "$DPID" ]; then
		"$G" delete --force "$VM" >/dev/null 2>&1
		kill "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	for p in "$TD"/state/instances/*/qemu.pid; do
		[ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null
	done
	sleep 0.3
	for c in cpu cpuacct memory pids ""; do
		for d in /sys/fs/cgroup/$c/$CGP/*/ /sys/fs/cgroup/$c/$CGP/; do
			[ -d "$d" ] && rmdir "$d" 2>/dev/null
		done
	done
	rm -rf "$TD"
}
trap cleanup EXIT

# qmp CMD [ARGS-JSON]: the "return" of one QMP command on the VM's socket, as JSON
qmp() {
	python3 - "$TD/run/vm/$VM/qmp.sock" "$1" "${2:-}" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()
def cmd(c, a=None):
    m = {"execute": c}
    if a:
        m["arguments"] = json.loads(a)
    f.write(json.dumps(m) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "event" not in r:
            return r
cmd("qmp_capabilities")
print(json.dumps(cmd(sys.argv[2], sys.argv[3] or None).get("return")))
EOF
}
chardev() { # LABEL KEY: filename or frontend-open of a chardev
	qmp query-chardev | python3 -c "import sys,json
for c in json.load(sys.stdin):
    if c['label'] == '$1': print(c['$2'])"
}
balloon_is() { [ "$(balloon_mib)" = "$1" ]; }
balloon_mib() { qmp query-balloon | python3 -c "import sys,json; print(json.load(sys.stdin)['actual'] >> 20)"; }
wait_for() { # TRIES(0.1 s) CMD...: until CMD succeeds
	local n=$1; shift
	for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}
console_busy() { case "$(chardev console filename)" in disconnected:*|"") return 1 ;; esac; }
lock_held() { # the daemon holds the VM's agent.lock (read from /proc/locks, never taken here)
	local ino
	ino=$(stat -c %i "$TD/state/instances/$VM/agent.lock" 2>/dev/null) || return 1
	grep -q ":$ino " /proc/locks
}
ready() { grep -q "gureum-guest: ready hostname=$VM" "$TD/state/instances/$VM/console.log" 2>/dev/null; }

start_daemon; ok $? "private gureumd is up"
out=$("$G" image build debian-vm 2>&1); ok $? "gureum image build debian-vm"
out=$("$G" launch debian-vm "$VM" --vm --cpu 1 --memory 256M 2>&1); rc=$?
ok $rc "launch $VM --vm --cpu 1 --memory 256M"
[ $rc -eq 0 ] || { printf '%s\n' "$out" | sed 's/^/#   /'; tap_done; }
wait_for 1200 ready; ok $? "guest ready"

# ---- a console attached (held open by script(1) with a terminal) ----
# its input is a fifo we hold open (fd 7): no helper process to leave behind
mkfifo "$TD/con1.in"
exec 7<>"$TD/con1.in"
script -qfec "$G console $VM" /dev/null <"$TD/con1.in" >"$TD/con1.out" 2>&1 &
CON1=$!
wait_for 300 console_busy; ok $? "first console attached (QEMU's console chardev has a client)"

out=$(timeout 120 "$G" exec "$VM" -- sh -c 'echo to-stdout; echo to-stderr >&2; exit 3' 2>"$TD/err"); rc=$?
ok $([ $rc -eq 3 ]; echo $?) "exec while the console is attached: exit code 3 (got $rc)"
[ "$out" = to-stdout ]; ok $? "exec stdout is exactly the command's stdout ($out)"
grep -qx to-stderr "$TD/err"; ok $? "exec stderr carries the command's stderr ($(tr '\n' ' ' <"$TD/err"))"
out=$(printf 'line1\nline2\n' | timeout 120 "$G" exec "$VM" -- wc -l 2>&1)
[ "$(echo "$out" | tr -d ' ')" = 2 ]; ok $? "exec stdin reaches the command ($out)"

out=$(timeout 30 script -qfec "$G console $VM" /dev/null </dev/null 2>&1); rc=$?
ok $([ $rc -ne 0 ] && [ $rc -ne 124 ]; echo $?) "a second console is refused, not left hanging (rc $rc)"
echo "$out" | grep -q "in use by another session"; ok $? "the refusal says the console is in use ($out)"
console_busy; ok $? "the first console is still attached"

# ---- exec -t ----
out=$(timeout 120 script -qfec "$G exec -t $VM -- sh -c 'tty; echo term=\$TERM'" /dev/null </dev/null 2>&1 | tr -d '\r')
echo "$out" | grep -q "/dev/pts/"; ok $? "exec -t runs on a terminal in the guest ($(echo "$out" | head -2 | tr '\n' ' '))"
echo "$out" | grep -q "^term=xterm"; ok $? "exec -t sets TERM"

# ---- one session at a time ----
timeout 120 "$G" exec "$VM" -- sleep 6 >/dev/null 2>&1 &
BG=$!
wait_for 300 lock_held; ok $? "a long exec holds the agent session"
out=$(timeout 60 "$G" exec "$VM" -- true 2>&1); rc=$?
ok $([ $rc -ne 0 ] && [ $rc -ne 124 ]; echo $?) "a second exec meanwhile is refused at once (rc $rc)"
echo "$out" | grep -q "busy"; ok $? "the refusal says busy ($out)"
wait "$BG"; ok $? "the first exec completes"
BG=""

# ---- live resize ----
[ "$(balloon_mib)" = 256 ]; ok $? "balloon holds the guest at 256 MiB at start ($(balloon_mib))"
out=$("$G" config set "$VM" memory=512M cpu=2 2>&1); rc=$?
ok $rc "config set memory=512M cpu=2 on the running VM"
[ $rc -eq 0 ] || printf '%s\n' "$out" | sed 's/^/#   /'
wait_for 600 balloon_is 512; ok $? "QMP query-balloon: 512 MiB ($(balloon_mib))"
out=$(timeout 120 "$G" exec "$VM" -- sh -c 'cat /sys/devices/system/cpu/online; sed -n "s/MemTotal: *\([0-9]*\).*/\1/p" /proc/meminfo' 2>&1)
[ "$(echo "$out" | head -1)" = 0-1 ]; ok $? "the guest has vCPUs 0-1 online ($(echo "$out" | head -1))"
[ "$(echo "$out" | tail -1)" -gt 400000 ] 2>/dev/null; ok $? "the guest sees more than 400 MB ($(echo "$out" | tail -1) kB)"
[ "$(qmp query-cpus-fast | python3 -c 'import sys,json; print(len(json.load(sys.stdin)))')" -ge 2 ]
ok $? "QMP query-cpus-fast: QEMU has the vCPUs"
mem=$("$G" show "$VM" --format json | python3 -c "import sys,json; print(json.load(sys.stdin)['memory'])")
[ "$mem" = $((512 << 20)) ]; ok $? "the record says 512 MiB ($mem)"
out=$("$G" config set "$VM" memory=2G 2>&1); rc=$?
ok $([ $rc -ne 0 ]; echo $?) "beyond the maximum is refused"
echo "$out" | grep -q "max_memory 512 MiB"; ok $? "the refusal names the limit ($out)"
out=$("$G" config set "$VM" memory=256M cpu=1 2>&1); ok $? "config set memory=256M cpu=1 (shrink)"
wait_for 600 balloon_is 256; ok $? "QMP query-balloon: back to 256 MiB ($(balloon_mib))"
out=$(timeout 120 "$G" exec "$VM" -- cat /sys/devices/system/cpu/online 2>&1)
[ "$out" = 0 ]; ok $? "the guest has vCPU 0 only ($out)"

# ---- the agent dies during an exec, then no agent at all: clear errors, no hang ----
# a killer outside the exec's process group takes the agent and its respawn loop away
# while the exec waits for its command (QEMU keeps our socket open: only the unanswered
# PING tells)
out=$(timeout 120 "$G" exec "$VM" -- sh -c 'setsid sh -c "sleep 1; a=\$(pidof gureum-guest-agent); kill -9 \$(cut -d\" \" -f4 /proc/\$a/stat) \$a" </dev/null >/dev/null 2>&1 & sleep 100' 2>&1); rc=$?
ok $([ $rc -ne 0 ] && [ $rc -ne 124 ]; echo $?) "an exec whose agent dies fails (rc $rc)"
echo "$out" | grep -q "stopped answering"; ok $? "the error says the agent stopped answering ($out)"
agent_closed() { [ "$(chardev agent frontend-open)" = False ]; }
wait_for 300 agent_closed; ok $? "the guest closed the agent's port"
out=$(timeout 60 "$G" exec "$VM" -- true 2>&1); rc=$?
ok $([ $rc -ne 0 ] && [ $rc -ne 124 ]; echo $?) "exec without an agent fails (rc $rc)"
echo "$out" | grep -q "gureum-guest-agent"; ok $? "the error names the missing agent ($out)"

exec 7>&-
kill "$CON1" 2>/dev/null; CON1=""
"$G" delete --force "$VM" >/dev/null 2>&1; ok $? "delete"
[ ! -e "$TD/state/instances/$VM" ]; ok $? "nothing left of $VM"
tap_done
