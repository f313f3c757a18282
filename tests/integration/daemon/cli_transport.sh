#!/usr/bin/env bash
# cli_transport.sh - when no answer comes, the CLI says why in plain words,
# names the socket (or URL), and exits 1: no socket, permission denied, a
# stale socket nobody listens on, a daemon that closes the connection before
# answering (a real gureumd killed with SIGKILL mid-request, and a listener
# that hangs up at once), an answer cut in the middle, a timeout.  libcurl's
# own words ("Server returned nothing", "Couldn't connect") never reach the user.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
start_daemon tr; ok $? "gureumd starts"
ensure_busybox
SOCK=$GUREUM_SOCKET

# expect_fail LABEL REGEX CMD...: exit 1, stderr matches REGEX (extended) and has no curl words
expect_fail() {
	local label=$1 re=$2; shift 2
	"$@" >/dev/null 2>"$TD/err"; local rc=$?
	local msg; msg=$(cat "$TD/err")
	if [ $rc -eq 1 ] && grep -Eq -- "$re" "$TD/err" &&
	   ! grep -Eqi "server returned nothing|couldn't connect|failure when receiving|transfer closed|recv failure|curl" "$TD/err"; then
		ok 0 "$label: $msg"
	else
		ok 1 "$label: exit $rc, want /$re/: $msg"
	fi
}

expect_fail "no socket" "gureumd is not running.*no socket $TD/nowhere.sock" \
	env GUREUM_SOCKET="$TD/nowhere.sock" "$G" list
expect_fail "no socket (--socket)" "no socket $TD/other.sock" "$G" --socket "$TD/other.sock" show x
: >"$TD/plain-file"
expect_fail "a file that is not a socket" "$TD/plain-file.*not a socket" env GUREUM_SOCKET="$TD/plain-file" "$G" list
expect_fail "permission denied (an unprivileged user)" "permission denied.*$SOCK" \
	setpriv --reuid=65534 --regid=65534 --clear-groups env GUREUM_SOCKET="$SOCK" "$G" list

# a listener that reads the request and hangs up without a word, one that
# sends half an answer, one that never answers
cat >"$TD/srv.py" <<'EOF'
import os, socket, sys, time
path, mode, ready = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(8)
open(ready, "w").close()
while True:
    c, _ = s.accept()
    data = b""
    while b"\r\n\r\n" not in data:
        got = c.recv(65536)
        if not got:
            break
        data += got
    if mode == "half":
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"instances\": [")
    elif mode == "silent":
        time.sleep(3600)
    c.close()
EOF
SRV=""
serve() { # mode: starts the listener on $TD/fake-MODE.sock, waits until it listens
	rm -f "$TD/ready-$1"
	python3 "$TD/srv.py" "$TD/fake-$1.sock" "$1" "$TD/ready-$1" &
	SRV="$SRV $!"
	for _ in $(seq 1 300); do [ -e "$TD/ready-$1" ] && return 0; sleep 0.1; done
	return 1
}
serve hangup; ok $? "a listener that hangs up is ready"
expect_fail "connection closed before answering" \
	"gureumd closed the connection on $TD/fake-hangup.sock before answering.*log" \
	env GUREUM_SOCKET="$TD/fake-hangup.sock" "$G" list
serve half; ok $? "a listener that sends half an answer is ready"
expect_fail "answer cut in the middle" "connection to gureumd on $TD/fake-half.sock broke.*log" \
	env GUREUM_SOCKET="$TD/fake-half.sock" "$G" list
serve silent; ok $? "a listener that never answers is ready"
expect_fail "--timeout" "timed out after 1 s waiting for gureumd on $TD/fake-silent.sock" \
	timeout 120 env GUREUM_SOCKET="$TD/fake-silent.sock" "$G" --timeout 1 list
expect_fail "GUREUM_TIMEOUT" "timed out after 1 s" \
	timeout 120 env GUREUM_SOCKET="$TD/fake-silent.sock" GUREUM_TIMEOUT=1 "$G" list
"$G" --timeout soon list >/dev/null 2>&1; ok $([ $? -eq 2 ] && echo 0 || echo 1) "--timeout soon: usage error (exit 2)"
# shellcheck disable=SC2086
kill $SRV 2>/dev/null; wait $SRV 2>/dev/null

# a real daemon killed with SIGKILL while the CLI waits for its answer
run_ok "launch a container" "$G" launch busybox tr-c -- sh -c 'echo started; exec sleep 100000'
"$G" exec tr-c -- sleep 4242 >/dev/null 2>"$TD/exec.err" &
EXEC=$!
in_container() { # the exec'd sleep is running in the container's cgroup
	local p
	for p in $(pgrep -x sleep); do
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q '^sleep 4242 $' &&
			grep -q "$CGP" "/proc/$p/cgroup" 2>/dev/null && return 0
	done
	return 1
}
for _ in $(seq 1 600); do in_container && break; sleep 0.1; done
in_container; ok $? "exec's command runs; the CLI is waiting for the answer"
"$G" logs -f tr-c >"$TD/logs.out" 2>"$TD/logs.err" &
LOGS=$!
for _ in $(seq 1 600); do grep -q started "$TD/logs.out" && break; sleep 0.1; done
grep -q started "$TD/logs.out"; ok $? "logs -f is following"
stop_daemon KILL
wait $EXEC; rc=$?
msg=$(cat "$TD/exec.err")
[ $rc -eq 1 ] && echo "$msg" | grep -Eq "gureumd closed the connection on $SOCK before answering POST /v1/instances/tr-c/exec.*log" &&
	! echo "$msg" | grep -qi "server returned nothing"
ok $? "exec while gureumd is killed: exit $rc, $msg"
wait $LOGS; rc=$?
msg=$(cat "$TD/logs.err")
[ $rc -eq 1 ] && echo "$msg" | grep -Eq "connection to gureumd on $SOCK broke.*log" && ! echo "$msg" | grep -qi curl
ok $? "logs -f while gureumd is killed: exit $rc, $msg"
[ -S "$SOCK" ]; ok $? "the dead daemon left its socket file"
expect_fail "stale socket" "gureumd is not running.*nothing listens on $SOCK" "$G" list

# back up: the instance is still there, and the cleanup can delete it
start_daemon tr; ok $? "gureumd starts again"
run_ok "list works again" "$G" list
run_ok "delete the container" "$G" delete --force tr-c
tap_done
