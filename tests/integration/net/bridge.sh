#!/usr/bin/env bash
# bridge.sh - networks end to end, in a network namespace of the test's own
# (lib.sh): two containers on one network ping each other by address, a
# container on a second (NAT) network cannot reach the first, the NAT table
# in nftables, NICs in `gureum show`, host ends removed on stop and made
# again on start, the table removed with the last NAT network, and each bad
# input refused with an error naming the field.
GR_SRC=${GR_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
. "$GR_SRC/tests/integration/net/lib.sh"
need_root_and_bins
command -v nft >/dev/null || { skip "nft is not installed (deps/net.txt: nftables)"; tap_done; }
command -v unshare >/dev/null && command -v nsenter >/dev/null || { skip "needs unshare and nsenter"; tap_done; }

start_net_daemon net-bridge
ok $? "daemon up in the test's network namespace"
ensure_busybox

out=$("$G" network create na --subnet 10.201.0.0/24 --format json 2>&1)
ok $? "network create na"
gw=$(echo "$out" | python3 -c "import sys,json; print(json.load(sys.stdin)['gateway'])" 2>/dev/null)
is "$gw" "10.201.0.1" "gateway is the first address"

# --- bad input, each naming its field
out=$("$G" network create nb --subnet 10.201.0.128/25 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"subnet: 10.201.0.128/25 overlaps 10.201.0.0/24 of network 'na'"* ]]
ok $? "overlapping subnet refused, naming the field ($out)"
out=$("$G" network create nb --subnet 10.300.0.0/24 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"subnet: '10.300.0.0/24' is not a subnet"* ]]
ok $? "a CIDR that does not parse refused ($out)"
out=$("$G" network create nb --subnet 10.202.0.1/24 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"subnet:"*"host bits"* ]]
ok $? "host bits set refused ($out)"
out=$("$G" network create na --subnet 10.209.0.0/24 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"name: a network named 'na' exists"* ]]
ok $? "a taken name refused ($out)"
out=$("$G" network create a-very-long-net --subnet 10.209.0.0/24 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"name:"*"12 characters"* ]]
ok $? "a name too long for a bridge refused ($out)"
out=$("$G" create busybox bad1 --network na --ip 10.99.0.5 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"ip: 10.99.0.5 is outside the subnet 10.201.0.0/24"* ]]
ok $? "a static --ip outside the subnet refused ($out)"
out=$("$G" create busybox bad1 --network na --ip 10.201.0.1 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"ip: 10.201.0.1 is the gateway"* ]]
ok $? "the gateway as --ip refused ($out)"
out=$("$G" create busybox bad1 --network na --ip 10.201.0.x 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"ip: '10.201.0.x' is not an IPv4 address"* ]]
ok $? "an --ip that does not parse refused ($out)"
out=$("$G" create busybox bad1 --network nope 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"no network named 'nope'"* ]]
ok $? "an unknown network refused ($out)"
"$G" show bad1 >/dev/null 2>&1; [ $? -ne 0 ]; ok $? "no instance was left by the refusals"
"$G" network create tiny --subnet 10.203.0.0/30 >/dev/null 2>&1
"$G" create busybox t1 --network tiny >/dev/null 2>&1
ok $? "the one address of a /30 is given"
is "$(nic ip t1)" "10.203.0.2" "and it is .2"
out=$("$G" create busybox t2 --network tiny 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"subnet: 10.203.0.0/30 is exhausted"* ]]
ok $? "an exhausted subnet refused ($out)"
r=$(api POST /v1/instances '{"name":"t2","image":"busybox","nics":[{"network":"tiny"}]}')
is "$(echo "$r" | tail -1)" 409 "exhausted: 409 from the API"
r=$(api DELETE /v1/networks/tiny)
[ "$(echo "$r" | tail -1)" = 409 ] && [[ "$r" == *"in use by t1 (10.203.0.2)"* ]]
ok $? "a network in use cannot be deleted: 409 naming the instance"
"$G" delete t1 >/dev/null 2>&1
"$G" network delete tiny >/dev/null 2>&1
ok $? "deleted once its instance is gone (the address was released)"

# --- two containers on one network reach each other
# privileged: busybox's ping uses raw sockets only, and an unprivileged
# container's root has no CAP_NET_RAW in a namespace the daemon owns (its
# ICMP datagram sockets are allowed: ping_group_range, for iputils' ping)
"$G" launch busybox c1 --privileged --network na >/dev/null 2>&1; ok $? "c1 launched on na"
"$G" launch busybox c2 --privileged --network na --ip 10.201.0.50 >/dev/null 2>&1; ok $? "c2 launched on na with a static address"
ip1=$(nic ip c1); ip2=$(nic ip c2); mac1=$(nic mac c1)
is "$ip1" "10.201.0.2" "c1 got the lowest free address"
is "$ip2" "10.201.0.50" "c2 got the address asked for"
[[ "$mac1" =~ ^[0-9a-f][26ae](:[0-9a-f]{2}){5}$ ]]; ok $? "c1 has a locally administered unicast MAC ($mac1)"
out=$("$G" show c1 2>&1)
[[ "$out" == *"network: na"* && "$out" == *"$mac1"* && "$out" == *"10.201.0.2"* ]]
ok $? "show prints the NIC's network, MAC and address"
out=$("$G" exec c1 -- ip -o addr show eth0 2>&1)
[[ "$out" == *"10.201.0.2/24"* ]]; ok $? "eth0 inside c1 has its address"
out=$("$G" exec c1 -- ip -o link show eth0 2>&1)
[[ "$out" == *"link/ether $mac1 "* ]]; ok $? "eth0 inside c1 has the recorded MAC"
out=$("$G" exec c1 -- ip route 2>&1)
[[ "$out" == *"default via 10.201.0.1"* ]]; ok $? "default route via the gateway"
out=$("$G" exec c1 -- cat /etc/resolv.conf 2>&1)
[[ "$out" == *"nameserver 10.201.0.1"* ]]; ok $? "resolv.conf names the gateway"
"$G" exec c1 -- ping -c 1 -W 5 "$ip2" >/dev/null 2>&1; ok $? "c1 pings c2 by address"
"$G" exec c2 -- ping -c 1 -W 5 "$ip1" >/dev/null 2>&1; ok $? "c2 pings c1 by address"
is "$(veths | wc -l)" 2 "two host ends in the namespace"
"$G" launch busybox u1 --network na >/dev/null 2>&1; ok $? "an unprivileged container u1 on na"
out=$("$G" exec u1 -- ip -o addr show eth0 2>&1)
[[ "$out" == *"10.201.0.3/24"* ]]; ok $? "u1's eth0 has its address (exec enters its namespace)"
"$G" delete --force u1 >/dev/null 2>&1; ok $? "u1 deleted"

# --- a second network, with NAT, cannot reach the first
"$G" network create nb --subnet 10.202.0.0/24 --nat >/dev/null 2>&1; ok $? "network nb with --nat"
t=$(in_ns nft list table inet gureum 2>&1)
[[ "$t" == *"ip saddr 10.202.0.0/24 ip daddr != 10.202.0.0/24 masquerade"* ]]
ok $? "the NAT table masquerades nb's subnet"
[[ "$t" != *"10.201.0.0/24"* ]]; ok $? "and not na's (no NAT)"
"$G" network create nd --subnet 10.204.0.0/24 >/dev/null 2>&1
in_ns nft list table inet gureum 2>/dev/null | grep -q 'iifname "gr-nd"'
ok $? "a network created after the NAT one is isolated too (the table names its bridge)"
"$G" network delete nd >/dev/null 2>&1
in_ns nft list table inet gureum 2>/dev/null | grep -q 'gr-nd'; [ $? -ne 0 ]; ok $? "and leaves the table with it"
"$G" launch busybox c3 --privileged --network nb >/dev/null 2>&1; ok $? "c3 launched on nb"
ip3=$(nic ip c3)
"$G" exec c3 -- ping -c 1 -W 5 "10.202.0.1" >/dev/null 2>&1; ok $? "c3 reaches its gateway"
"$G" exec c3 -- ping -c 1 -W 2 "$ip1" >/dev/null 2>&1; [ $? -ne 0 ]; ok $? "c3 on nb cannot reach c1 on na"
"$G" exec c1 -- ping -c 1 -W 2 "$ip3" >/dev/null 2>&1; [ $? -ne 0 ]; ok $? "nor c1 c3"

# --- stop removes the host end; start makes it again
"$G" stop c2 >/dev/null 2>&1
is "$(veths | wc -l)" 2 "stopped c2: its host end is gone (c1's and c3's left)"
[ ! -e "$TD/run/netns/c2" ]; ok $? "and its namespace file"
"$G" start c2 >/dev/null 2>&1; ok $? "c2 started again"
is "$(nic ip c2)" "10.201.0.50" "with the same address"
"$G" exec c1 -- ping -c 1 -W 5 "$ip2" >/dev/null 2>&1; ok $? "c1 pings c2 again"

# --- restart of the daemon rebuilds the table (idempotent) and keeps the wiring
in_ns nft delete table inet gureum
stop_daemon
start_net_daemon net-bridge; ok $? "daemon restarted"
in_ns nft list table inet gureum 2>/dev/null | grep -q "10.202.0.0/24"; ok $? "NAT table rebuilt from the store at start"
"$G" exec c1 -- ping -c 1 -W 5 "$ip2" >/dev/null 2>&1; ok $? "running containers keep their network across a daemon restart"

# --- deletes release everything
for n in c1 c2 c3; do "$G" delete --force "$n" >/dev/null 2>&1; done
is "$(veths | wc -l)" 0 "no host end left after the deletes"
ls "$TD/run/netns" 2>/dev/null | grep -q .; [ $? -ne 0 ]; ok $? "no namespace file left"
"$G" network delete nb >/dev/null 2>&1; ok $? "network nb deleted"
in_ns nft list table inet gureum >/dev/null 2>&1; [ $? -ne 0 ]; ok $? "the NAT table went with the last NAT network"
"$G" network delete na >/dev/null 2>&1; ok $? "network na deleted"
out=$("$G" network list --format json)
is "$(echo "$out" | python3 -c 'import sys,json; print(len(json.load(sys.stdin)))')" 0 "no network left"
tap_done
