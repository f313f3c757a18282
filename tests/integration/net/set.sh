#!/usr/bin/env bash
# set.sh - `gureum network set` in a network namespace of the test's own
# (lib.sh): nat and dhcp switched on and off on a live network with an
# instance on it (the NAT table and the dnsmasq follow at once, the instance
# keeps its address and reaches its gateway), the fields that cannot change
# refused naming them, bad values refused.
GR_SRC=${GR_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
. "$GR_SRC/tests/integration/net/lib.sh"
need_root_and_bins
command -v nft >/dev/null || { skip "nft is not installed (deps/net.txt: nftables)"; tap_done; }
command -v dnsmasq >/dev/null || { skip "dnsmasq is not installed (deps/net.txt: dnsmasq-base)"; tap_done; }
command -v unshare >/dev/null && command -v nsenter >/dev/null || { skip "needs unshare and nsenter"; tap_done; }

start_net_daemon net-set
ok $? "daemon up in the test's network namespace"
ensure_busybox

"$G" network create ns1 --subnet 10.208.0.0/24 >/dev/null 2>&1; ok $? "network ns1 (no NAT, no DHCP)"
"$G" launch busybox s1 --privileged --network ns1 >/dev/null 2>&1; ok $? "s1 on ns1"
ip1=$(nic ip s1)

out=$("$G" network set ns1 nat=true --format json 2>&1); ok $? "network set ns1 nat=true"
is "$(echo "$out" | python3 -c 'import sys,json; d=json.load(sys.stdin); print(d["nat"], d["dhcp"])' 2>&1)" "True False" "the answer shows nat on, dhcp off"
in_ns nft list table inet gureum 2>/dev/null | grep -q "ip saddr 10.208.0.0/24 ip daddr != 10.208.0.0/24 masquerade"
ok $? "the NAT table masquerades ns1 at once"
"$G" network set ns1 dhcp=on >/dev/null 2>&1; ok $? "network set ns1 dhcp=on"
wait_until 50 sh -c "[ -n \"\$(cat '$TD/state/networks/ns1/dnsmasq.pid' 2>/dev/null)\" ]"
[ -n "$(dnsmasq_pid ns1)" ]; ok $? "ns1's dnsmasq runs"
grep -q "$ip1" "$TD/state/networks/ns1/dhcp-hosts" 2>/dev/null; ok $? "with s1's reservation"
is "$(dnsmasq_count ns1)" 1 "one dnsmasq for ns1"
is "$(nic ip s1)" "$ip1" "s1 keeps its address"
"$G" exec s1 -- ping -c 1 -W 5 10.208.0.1 >/dev/null 2>&1; ok $? "s1 reaches its gateway"

# --- what cannot change, and bad values
out=$("$G" network set ns1 subnet=10.209.0.0/24 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"subnet: cannot change after creation"* ]]; ok $? "subnet refused ($out)"
out=$("$G" network set ns1 type=vxlan 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"type: cannot change after creation"* ]]; ok $? "type refused ($out)"
out=$("$G" network set ns1 nat=maybe 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"nat: expected true or false"* ]]; ok $? "nat=maybe refused ($out)"
out=$("$G" network set ns1 colour=blue 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"colour: unknown field (nat and dhcp can change)"* ]]; ok $? "an unknown key refused ($out)"
out=$("$G" network set nope nat=true 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"no network named 'nope'"* ]]; ok $? "an unknown network refused ($out)"
r=$(api PATCH /v1/networks/ns1 '{}')
is "$(echo "$r" | tail -1)" 400 "API: an empty change is 400"
r=$(api PATCH /v1/networks/ns1 '{"subnet":"10.1.0.0/24"}')
is "$(echo "$r" | tail -1)" 400 "API: subnet is 400"
out=$("$G" network set ns1 2>&1); [ $? -eq 2 ]; ok $? "no KEY=VALUE: usage error"
out=$("$G" network show ns1 --format json)
is "$(echo "$out" | python3 -c 'import sys,json; d=json.load(sys.stdin); print(d["subnet"], d["nat"], d["dhcp"])')" "10.208.0.0/24 True True" "the refusals changed nothing"

# --- and off again
"$G" network set ns1 dhcp=false nat=false >/dev/null 2>&1; ok $? "network set ns1 dhcp=false nat=false"
wait_until 50 sh -c "[ \$(pgrep -x dnsmasq | while read p; do grep -qa '$TD/state/networks/ns1/' /proc/\$p/cmdline && echo \$p; done | wc -l) -eq 0 ]"
ok $? "ns1's dnsmasq is stopped"
in_ns nft list table inet gureum >/dev/null 2>&1; [ $? -ne 0 ]; ok $? "no NAT network left: no table"
"$G" exec s1 -- ping -c 1 -W 5 10.208.0.1 >/dev/null 2>&1; ok $? "s1 still reaches its gateway"
"$G" network --help | grep -q "network set NAME KEY=VALUE"; ok $? "--help names set"
"$G" delete --force s1 >/dev/null 2>&1
"$G" network delete ns1 >/dev/null 2>&1; ok $? "network deleted"
tap_done
