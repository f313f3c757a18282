#!/usr/bin/env bash
# limit.sh - network rate limits (config set NAME net.limit=RATE) end to end,
# in a network namespace of the test's own (lib.sh): a container serves a
# download (busybox nc + dd) and takes an upload; the daemon's namespace
# moves the same bytes with and without a limit, and the limited throughput
# must be under half the unlimited one (a ratio measured in this run, no
# wall-clock threshold).  The buckets (tc tbf) sit on the veth's host end
# (towards the instance) and on eth0 inside (from it), are back after a
# restart of the instance, and go with "none".  Traffic only between the
# daemon's namespace and the container's.
GR_SRC=${GR_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
. "$GR_SRC/tests/integration/net/lib.sh"
need_root_and_bins
command -v tc >/dev/null || { skip "tc is not installed (iproute2)"; tap_done; }
command -v unshare >/dev/null && command -v nsenter >/dev/null || { skip "needs unshare and nsenter"; tap_done; }

start_net_daemon net-limit
ok $? "daemon up in the test's network namespace"
ensure_busybox

"$G" network create nl --subnet 10.207.0.0/24 >/dev/null 2>&1; ok $? "network nl"
srv="nc -ll -p 9000 -e sh -c 'dd if=/dev/zero bs=64k count=32 2>/dev/null' & exec nc -ll -p 9001 -e sh -c 'cat >/dev/null; echo done'"
"$G" launch busybox lim --network nl -- sh -c "$srv" >/dev/null 2>&1; ok $? "lim serves a download (9000) and takes an upload (9001)"
ip=$(nic ip lim)
hostif=$(in_ns ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^grv' | head -1)

# speed DIR: bytes per second of 2 MiB down from / up to lim (from the daemon's namespace)
cat >"$NSD/speed.py" <<'PY'
import socket, sys, time
ip, d = sys.argv[1], sys.argv[2]
t = time.monotonic()
if d == "down":
    s = socket.create_connection((ip, 9000), timeout=60); n = 0
    while True:
        b = s.recv(65536)
        if not b: break
        n += len(b)
else:
    s = socket.create_connection((ip, 9001), timeout=60); n = 2 << 20
    s.sendall(b"\0" * n); s.shutdown(socket.SHUT_WR)
    if s.recv(16) != b"done\n": n = 0
print(int(n / (time.monotonic() - t)) if n == 2 << 20 else 0)
PY
speed() { timeout 120 nsenter --net="$NSF" python3 "$NSD/speed.py" "$ip" "$1" 2>/dev/null || echo 0; }
wait_until 50 sh -c "[ \$(timeout 20 nsenter --net='$NSF' python3 '$NSD/speed.py' $ip down 2>/dev/null) -gt 0 ]"
ok $? "the download answers at $ip"
down0=$(speed down); up0=$(speed up)
[ "$down0" -gt 0 ] && [ "$up0" -gt 0 ]; ok $? "unlimited: down ${down0} B/s, up ${up0} B/s"

# --- per-NIC counters in /metrics (the instance's view): at least the bytes moved so far
metric() { api GET /metrics | awk -v k="$1{name=\"lim\",nic=\"eth0\",network=\"nl\"}" '$1 == k {print $2}'; }
tx=$(metric gureum_nic_transmit_bytes_total); rx=$(metric gureum_nic_receive_bytes_total)
[ -n "$tx" ] && [ "$tx" -ge $((2 * 2097152)) ]; ok $? "/metrics: lim's eth0 sent at least the two downloads ($tx bytes)"
[ -n "$rx" ] && [ "$rx" -ge 2097152 ] && [ "$rx" -lt "$tx" ]; ok $? "and received the upload ($rx bytes)"
[ "$(metric gureum_nic_transmit_packets_total)" -gt 0 ] && [ "$(metric gureum_nic_receive_packets_total)" -gt 0 ]
ok $? "packets counted both ways"
host_tx=$(in_ns ip -s -j link show "$hostif" | python3 -c 'import sys,json; print(json.load(sys.stdin)[0]["stats64"]["tx"]["bytes"])')
[ "$host_tx" -ge "$rx" ]; ok $? "receive bytes are the host end's transmitted ones ($host_tx >= $rx)"
api GET /metrics | grep -q '^# TYPE gureum_nic_receive_bytes_total counter'; ok $? "typed as counters"

# --- bad input
out=$("$G" config set lim net.limit=fast 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"net.limit: 'fast' is not a rate"* ]]; ok $? "a rate that does not parse refused ($out)"
out=$("$G" config set lim net.limit.out=10bit 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"net.limit.out: '10bit' is out of range"* ]]; ok $? "a rate out of range refused ($out)"
r=$(api PUT /v1/instances/lim/net-limit '{"rate":"1mbit"}')
[ "$(echo "$r" | tail -1)" = 400 ] && [[ "$r" == *"rate: unknown field"* ]]; ok $? "API: an unknown field is 400"
r=$(api PUT /v1/instances/ghost/net-limit '{"limit":"1mbit"}')
is "$(echo "$r" | tail -1)" 404 "API: an unknown instance is 404"
in_ns tc qdisc show dev "$hostif" | grep -q tbf; [ $? -ne 0 ]; ok $? "no bucket was put by the refusals"

# --- a limit, live
"$G" config set lim net.limit=16mbit >/dev/null 2>&1; ok $? "config set lim net.limit=16mbit"
in_ns tc qdisc show dev "$hostif" | grep -q "tbf.*rate 16Mbit"; ok $? "a 16 Mbit bucket on the host end ($hostif)"
nsenter --net="$TD/run/netns/lim" tc qdisc show dev eth0 | grep -q "tbf.*rate 16Mbit"; ok $? "and on eth0 inside"
out=$("$G" config get lim net.limit --format json 2>&1)
[[ "$out" == *'"in": "16mbit"'* && "$out" == *'"out": "16mbit"'* ]]; ok $? "config get net.limit ($out)"
is "$("$G" config get lim net.limit.in 2>&1)" "16mbit" "config get net.limit.in"
down1=$(speed down); up1=$(speed up)
[ "$down1" -gt 0 ] && [ $((down1 * 2)) -lt "$down0" ]; ok $? "limited download under half the unlimited ($down1 vs $down0 B/s)"
[ "$up1" -gt 0 ] && [ $((up1 * 2)) -lt "$up0" ]; ok $? "limited upload under half the unlimited ($up1 vs $up0 B/s)"

# --- restored at a restart of the instance
"$G" stop lim >/dev/null 2>&1 && "$G" start lim >/dev/null 2>&1; ok $? "lim restarted"
hostif=$(in_ns ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^grv' | head -1)
wait_until 100 sh -c "nsenter --net='$NSF' tc qdisc show dev $hostif | grep -q 'tbf.*rate 16Mbit'"
ok $? "the bucket is back on the new host end"
wait_until 100 sh -c "nsenter --net='$TD/run/netns/lim' tc qdisc show dev eth0 | grep -q 'tbf.*rate 16Mbit'"
ok $? "and inside"
wait_until 50 sh -c "[ \$(timeout 20 nsenter --net='$NSF' python3 '$NSD/speed.py' $ip down 2>/dev/null) -gt 0 ]"
down2=$(speed down)
[ "$down2" -gt 0 ] && [ $((down2 * 2)) -lt "$down0" ]; ok $? "still limited after the restart ($down2 vs $down0 B/s)"

# --- one direction, then none
"$G" config set lim net.limit.in=none >/dev/null 2>&1; ok $? "net.limit.in=none"
in_ns tc qdisc show dev "$hostif" | grep -q tbf; [ $? -ne 0 ]; ok $? "the host end's bucket is gone"
nsenter --net="$TD/run/netns/lim" tc qdisc show dev eth0 | grep -q "tbf"; ok $? "eth0's stays"
"$G" config set lim net.limit=0 >/dev/null 2>&1; ok $? "net.limit=0"
nsenter --net="$TD/run/netns/lim" tc qdisc show dev eth0 | grep -q "tbf"; [ $? -ne 0 ]; ok $? "no bucket left"
is "$("$G" config get lim net.limit --format json | tr -d ' \n')" '{"in":null,"out":null}' "no limit recorded"
"$G" config set lim net.limit=16mbit >/dev/null 2>&1
"$G" delete --force lim >/dev/null 2>&1; ok $? "lim deleted (with a limit)"
"$G" launch busybox lim --network nl -- sleep 1000 >/dev/null 2>&1
is "$("$G" config get lim net.limit --format json | tr -d ' \n')" '{"in":null,"out":null}' "a new instance of that name has no limit"
"$G" delete --force lim >/dev/null 2>&1
"$G" network delete nl >/dev/null 2>&1; ok $? "network deleted"
tap_done
