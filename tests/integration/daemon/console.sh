#!/usr/bin/env bash
# console.sh - `gureum console`: a container's console output streamed
# read-only until it stops; a VM's serial console interactive over the
# websocket (input reaches the guest's shell, its answer comes back).
. "$(dirname "$0")/lib.sh"
need_root_and_bins
start_daemon co; ok $? "gureumd starts"
ensure_busybox
run_ok "launch a talking container" "$G" launch busybox co-talk -- sh -c 'sleep 0.5; echo line-one; sleep 0.5; echo line-two'
out=$(timeout 20 "$G" console co-talk); rc=$?
[ $rc -eq 0 ] && echo "$out" | grep -q line-one && echo "$out" | grep -q line-two; ok $? "console follows a container's output until it stops (rc $rc)"
out=$(curl -s --unix-socket "$GUREUM_SOCKET" -H 'Upgrade: websocket' -H 'Connection: Upgrade' \
	-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H 'Sec-WebSocket-Version: 13' \
	-w '\n%{http_code}' http://localhost/v1/instances/co-talk/console)
[ "$(echo "$out" | tail -n1)" = 501 ]; ok $? "a container has no console input: 501 naming exec -t"
"$G" console co-nope 2>/dev/null; ok $([ $? -eq 1 ] && echo 0 || echo 1) "console of a missing instance: exit 1"

out=$("$G" image build debian-vm 2>&1)
if [ $? -ne 0 ]; then
	skip "debian-vm image cannot be built here: $(echo "$out" | tail -n1)"
	tap_done
fi
run_ok "launch a VM" "$G" launch debian-vm co-vm --vm --memory 256M
for _ in $(seq 1 300); do grep -q "gureum-guest: ready" "$TD/state/instances/co-vm/console.log" 2>/dev/null && break; sleep 0.5; done
grep -q "gureum-guest: ready" "$TD/state/instances/co-vm/console.log"; ok $? "the guest is ready"
out=$( (sleep 1; printf 'echo console-$((6*7))\n'; sleep 3) | timeout 20 "$G" console co-vm)
echo "$out" | grep -q console-42; ok $? "VM console: input reaches the guest, its answer comes back"
run_ok "delete the VM" "$G" delete --force co-vm
tap_done
