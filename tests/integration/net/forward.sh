#!/usr/bin/env bash
# forward.sh - port forwards end to end, in network namespaces of the test's
# own (lib.sh): a container runs a listener (busybox nc), a forward sends a
# host port of the daemon's namespace to it, and a client in a second
# namespace the test made (wired to the daemon's by a veth pair) reaches it
# through that port, as does the daemon's namespace itself (locally made
# traffic, to its own address); the DNAT rules follow the store across a
# daemon restart, go with a forward's delete and with the instance; each
# bad input is refused naming the field.  Traffic only between addresses
# inside those namespaces.
GR_SRC=${GR_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
. "$GR_SRC/tests/integration/net/lib.sh"
need_root_and_bins
command -v nft >/dev/null || { skip "nft is not installed (deps/net.txt: nftables)"; tap_done; }
command -v unshare >/dev/null && command -v nsenter >/dev/null || { skip "needs unshare and nsenter"; tap_done; }
command -v busybox >/dev/null || { skip "needs busybox (nc) on the host for the client"; tap_done; }

CLF=""
fw_cleanup() {
	local rc=$?
	[ -n "$CLF" ] && umount "$CLF" 2>/dev/null
	(exit $rc)
	net_cleanup
}

start_net_daemon net-forward
ok $? "daemon up in the test's network namespace"
trap fw_cleanup EXIT
ensure_busybox

# the client: a namespace of its own, 10.250.0.2, wired to the daemon's
# namespace (10.250.0.1) by a veth pair made inside them
CLF=$NSD/client
touch "$CLF"
unshare --net="$CLF" true
in_ns ip link add grfwtest0 type veth peer name eth0 netns "$CLF"
in_ns ip addr add 10.250.0.1/24 dev grfwtest0
in_ns ip link set grfwtest0 up
nsenter --net="$CLF" ip addr add 10.250.0.2/24 dev eth0
nsenter --net="$CLF" ip link set eth0 up
nsenter --net="$CLF" ip link set lo up
# fetch HOST PORT [NS-FILE]: what a connection to HOST:PORT receives (from NS, default the client's)
fetch() { timeout 15 nsenter --net="${3:-$CLF}" busybox nc -w 3 "$1" "$2" </dev/null 2>/dev/null; }

"$G" network create nf --subnet 10.205.0.0/24 >/dev/null 2>&1; ok $? "network nf (no NAT)"
"$G" network create ng --subnet 10.206.0.0/24 >/dev/null 2>&1; ok $? "network ng"
"$G" launch busybox web --network nf -- nc -ll -p 8000 -e echo hello-from-web >/dev/null 2>&1
ok $? "web runs a listener on port 8000"
"$G" launch busybox other --network ng -- sleep 1000 >/dev/null 2>&1; ok $? "other on ng"
ipw=$(nic ip web)
wait_until 50 sh -c "nsenter --net='$NSF' busybox nc -w 2 $ipw 8000 </dev/null | grep -q hello-from-web"
ok $? "the listener answers at its own address ($ipw)"

# --- bad input, each naming its field
out=$("$G" network forward add nope 8080 web:8000 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"network: no network named 'nope'"* ]]; ok $? "unknown network refused ($out)"
out=$("$G" network forward add nf 8080 ghost:8000 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"instance: no instance named 'ghost'"* ]]; ok $? "unknown instance refused ($out)"
out=$("$G" network forward add nf 8080 other:8000 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"instance: 'other' has no address on network 'nf'"* ]]
ok $? "an instance not on the network refused ($out)"
out=$("$G" network forward add nf 0 web:8000 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"HOSTPORT: '0' is not a port"* ]]; ok $? "port 0 refused by the CLI ($out)"
out=$("$G" network forward add nf 8080 web:70000 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"'web:70000' is not INSTANCE:PORT"* ]]; ok $? "port 70000 refused by the CLI ($out)"
out=$("$G" network forward add nf 8080 web:8000 --proto sctp 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"--proto: 'sctp' is not tcp or udp"* ]]; ok $? "a bad --proto refused ($out)"
r=$(api POST /v1/networks/nf/forwards '{"hostport":70000,"instance":"web","port":8000}')
[ "$(echo "$r" | tail -1)" = 400 ] && [[ "$r" == *"hostport: expected a port number from 1 to 65535"* ]]
ok $? "API: hostport out of range is 400 naming it"
r=$(api POST /v1/networks/nf/forwards '{"hostport":8080,"instance":"web","port":8000,"proto":"icmp"}')
[ "$(echo "$r" | tail -1)" = 400 ] && [[ "$r" == *"proto: expected"* ]]; ok $? "API: a bad proto is 400 naming it"
r=$(api POST /v1/networks/nf/forwards '{"hostport":8080,"instance":"web","port":8000,"x":1}')
[ "$(echo "$r" | tail -1)" = 400 ] && [[ "$r" == *"x: unknown field"* ]]; ok $? "API: an unknown field is 400"
r=$(api POST /v1/networks/nf/forwards '[1,2]')
[ "$(echo "$r" | tail -1)" = 400 ]; ok $? "API: a body that is not an object is 400"
is "$("$G" network forward list nf --json)" "[]" "no forward was kept by the refusals"

# --- a forward, reached from the client's namespace and from the daemon's
out=$("$G" network forward add nf 8080 web:8000 --json 2>&1); ok $? "forward add nf 8080 web:8000"
is "$(echo "$out" | python3 -c 'import sys,json; d=json.load(sys.stdin); print(d["proto"], d["hostport"], d["instance"], d["port"], d["ip"])' 2>&1)" \
	"tcp 8080 web 8000 $ipw" "its JSON names proto, ports, instance and the address"
t=$(in_ns nft list table inet gureum 2>&1)
[[ "$t" == *"tcp dport 8080 dnat ip to $ipw:8000"* ]]; ok $? "a DNAT rule in the gureum table"
is "$(fetch 10.250.0.1 8080)" "hello-from-web" "the client's namespace reaches web through the host port"
is "$(fetch 10.250.0.1 8080 "$NSF")" "hello-from-web" "the daemon's namespace reaches it too (output chain)"
out=$("$G" network forward add ng 8080 other:9000 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"hostport: tcp 8080 is taken by the forward of network 'nf' to web:8000"* ]]
ok $? "the same host port on another network refused ($out)"
r=$(api POST /v1/networks/nf/forwards '{"hostport":8080,"instance":"web","port":9}')
is "$(echo "$r" | tail -1)" 409 "taken host port: 409 from the API"
"$G" network forward add nf 8080 web:8000 --proto udp >/dev/null 2>&1; ok $? "udp on the same port is another forward"
out=$("$G" network forward list nf)
[[ "$out" == *PROTO*HOSTPORT* && "$out" == *"tcp "*"8080"*"web"*"8000"*"$ipw"* && "$out" == *"udp "* ]]
ok $? "forward list prints both"
in_ns nft list table inet gureum 2>/dev/null | grep -q "udp dport 8080 dnat ip to $ipw:8000"; ok $? "and the udp rule"
"$G" network forward delete nf 8080 --proto udp >/dev/null 2>&1; ok $? "forward delete --proto udp"
in_ns nft list table inet gureum 2>/dev/null | grep -q "udp dport 8080"; [ $? -ne 0 ]; ok $? "its rule is gone"
is "$(fetch 10.250.0.1 8080)" "hello-from-web" "the tcp forward still works"
out=$("$G" network forward delete nf 9999 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"hostport: network 'nf' has no tcp or udp forward on port 9999"* ]]
ok $? "deleting an absent forward refused ($out)"

# --- a daemon restart rebuilds the rules from the store
in_ns nft delete table inet gureum
stop_daemon
start_net_daemon net-forward; ok $? "daemon restarted"
trap fw_cleanup EXIT
in_ns nft list table inet gureum 2>/dev/null | grep -q "tcp dport 8080 dnat ip to $ipw:8000"
ok $? "the DNAT rule is rebuilt at start"
is "$(fetch 10.250.0.1 8080)" "hello-from-web" "and the forward works again"

# --- delete, then the instance takes its forwards along
"$G" network forward delete nf 8080 >/dev/null 2>&1; ok $? "forward delete nf 8080"
in_ns nft list table inet gureum >/dev/null 2>&1; [ $? -ne 0 ]; ok $? "no forward and no NAT network: no table"
is "$(fetch 10.250.0.1 8080)" "" "the host port no longer reaches web"
"$G" network forward add nf 8081 web:8000 >/dev/null 2>&1; ok $? "forward 8081 added"
is "$(fetch 10.250.0.1 8081)" "hello-from-web" "8081 reaches web"
"$G" delete --force web >/dev/null 2>&1; ok $? "web deleted"
is "$("$G" network forward list nf --json)" "[]" "its forward went with it"
in_ns nft list table inet gureum >/dev/null 2>&1; [ $? -ne 0 ]; ok $? "and its rule"
"$G" network forward list nf --format yaml >/dev/null 2>&1; ok $? "list --format yaml"
"$G" network --help 2>&1 | grep -q "network forward add NET HOSTPORT INSTANCE:PORT"; ok $? "--help names forward"
"$G" delete --force other >/dev/null 2>&1
"$G" network delete nf >/dev/null 2>&1 && "$G" network delete ng >/dev/null 2>&1; ok $? "networks deleted"
tap_done
