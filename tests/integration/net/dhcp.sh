#!/usr/bin/env bash
# dhcp.sh - dnsmasq per network (DHCP + DNS), in a network namespace of the test's own
# (lib.sh): a network made with --dhcp gets one dnsmasq bound to its bridge, whose
# reservations are exactly the instances' IPAM addresses and MACs; two containers ping
# each other and resolve each other's names on the gateway; a killed dnsmasq is
# started again; a daemon restart (SIGTERM and kill -9) keeps the one that runs (never
# two per network); a network without --dhcp has none; deleting the network stops it.
GR_SRC=${GR_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
. "$GR_SRC/tests/integration/net/lib.sh"
need_root_and_bins
command -v nft >/dev/null || { skip "nft is not installed (deps/net.txt: nftables)"; tap_done; }
command -v dnsmasq >/dev/null || { skip "dnsmasq is not installed (deps/net.txt: dnsmasq-base)"; tap_done; }
command -v unshare >/dev/null && command -v nsenter >/dev/null || { skip "needs unshare and nsenter"; tap_done; }

start_net_daemon net-dhcp
ok $? "daemon up in the test's network namespace"
ensure_busybox

out=$("$G" network create nd --subnet 10.204.0.0/24 --dhcp --format json 2>&1)
ok $? "network create nd --dhcp"
is "$(echo "$out" | python3 -c "import sys,json; print(json.load(sys.stdin)['dhcp'])" 2>/dev/null)" "True" "the record says dhcp"
"$G" network create nn --subnet 10.205.0.0/24 >/dev/null 2>&1; ok $? "network create nn (no --dhcp)"
out=$("$G" network create nx --subnet 10.206.0.0/24 --dhcp=yes 2>&1); [ $? -ne 0 ]
ok $? "an unknown flag form refused ($out)"
r=$(api POST /v1/networks '{"name":"nx","subnet":"10.206.0.0/24","dhcp":"yes"}')
[ "$(echo "$r" | tail -1)" = 400 ] && [[ "$r" == *"dhcp: expected true or false"* ]]
ok $? "dhcp that is not a boolean: 400 naming the field"

has_dns() { [ -n "$(dnsmasq_pid nd)" ]; }
wait_until 100 has_dns; ok $? "a dnsmasq runs for nd"
D1=$(dnsmasq_pid nd)
conf=$TD/state/networks/nd/dnsmasq.conf
grep -qx "interface=gr-nd" "$conf" && grep -qx "bind-interfaces" "$conf" && grep -qx "no-resolv" "$conf" &&
	grep -qx "no-hosts" "$conf"
ok $? "bound to the bridge only, reads neither resolv.conf nor the host's hosts"
grep -q "dhcp-range=10.204.0.0,static," "$conf"; ok $? "DHCP range is static: reservations only"
in_ns ss -lnup 2>/dev/null | grep -q "10.204.0.1:53 "; ok $? "DNS listens on the gateway address"
[ ! -e "$TD/state/networks/nn" ] && [ "$(dnsmasq_count nn)" = 0 ]; ok $? "no dnsmasq for nn (no --dhcp)"

"$G" launch busybox c1 --privileged --network nd >/dev/null 2>&1; ok $? "c1 launched on nd"
"$G" launch busybox c2 --privileged --network nd --ip 10.204.0.50 >/dev/null 2>&1; ok $? "c2 launched on nd (--ip)"
ip1=$(nic ip c1); ip2=$(nic ip c2); mac1=$(nic mac c1); mac2=$(nic mac c2)
res() { grep -qix "$mac1,$ip1,c1" "$TD/state/networks/nd/dhcp-hosts" && grep -qix "$mac2,$ip2,c2" "$TD/state/networks/nd/dhcp-hosts"; }
wait_until 100 res; ok $? "reservations: MAC,IP,name of c1 and c2 ($(tr '\n' ' ' <"$TD/state/networks/nd/dhcp-hosts"))"
"$G" exec c1 -- ping -c 1 -W 5 "$ip2" >/dev/null 2>&1; ok $? "c1 pings c2 by address"
"$G" exec c2 -- ping -c 1 -W 5 "$ip1" >/dev/null 2>&1; ok $? "c2 pings c1 by address"
lookup() { "$G" exec c1 -- nslookup "$1" 10.204.0.1 2>/dev/null | grep -q "$2"; }
wait_until 50 lookup c2 "$ip2"; ok $? "c1 resolves c2 on the gateway (dnsmasq DNS)"
lookup c1.gureum "$ip1"; ok $? "c1 resolves c1.gureum"
out=$("$G" exec c1 -- nslookup no-such-instance 10.204.0.1 2>&1); echo "$out" | grep -q "$ip1\|$ip2"; [ $? -ne 0 ]
ok $? "a name that is not an instance gets no instance's address"

# --- a dnsmasq that dies is started again, the reservations with it
kill -9 "$D1"
restarted() { local p; p=$(dnsmasq_pid nd); [ -n "$p" ] && [ "$p" != "$D1" ]; }
wait_until 100 restarted; ok $? "dnsmasq killed -9: started again ($D1 -> $(dnsmasq_pid nd))"
is "$(dnsmasq_count nd)" 1 "one dnsmasq for nd"
wait_until 50 lookup c2 "$ip2"; ok $? "the new one answers c2's name"

# --- daemon restarts keep it (never two)
D2=$(dnsmasq_pid nd)
stop_daemon TERM
start_net_daemon net-dhcp; ok $? "daemon restarted (SIGTERM)"
is "$(dnsmasq_pid nd)" "$D2" "the same dnsmasq is kept"
stop_daemon KILL
start_net_daemon net-dhcp; ok $? "daemon restarted after kill -9"
sleep 2.5 # two ticks of the reconciler
is "$(dnsmasq_pid nd)" "$D2" "the same dnsmasq is kept after kill -9"
is "$(dnsmasq_count nd)" 1 "still one dnsmasq for nd"

# --- a reservation goes with its instance; the network's dnsmasq with the network
"$G" delete --force c2 >/dev/null 2>&1; ok $? "c2 deleted"
gone() { ! grep -qi "$mac2" "$TD/state/networks/nd/dhcp-hosts"; }
wait_until 100 gone; ok $? "c2's reservation removed"
"$G" delete --force c1 >/dev/null 2>&1
"$G" network delete nd >/dev/null 2>&1; ok $? "network nd deleted"
is "$(dnsmasq_count nd)" 0 "its dnsmasq is stopped"
[ ! -e "$TD/state/networks/nd" ]; ok $? "its folder is removed"
in_ns ip link show gr-nd >/dev/null 2>&1; [ $? -ne 0 ]; ok $? "its bridge is removed"

# --- the default network (in the test's namespace only): gr0 with NAT and DHCP, joined
# by an instance launched without --network
stop_daemon TERM
start_net_daemon net-dhcp --default-network 10.208.0.0/24; ok $? "daemon restarted with --default-network"
out=$("$G" network show gr0 --format json 2>&1)
echo "$out" | python3 -c "import sys,json; d=json.load(sys.stdin); sys.exit(not (d['nat'] and d['dhcp'] and d['subnet']=='10.208.0.0/24'))"
ok $? "gr0 exists with NAT and DHCP on 10.208.0.0/24"
has_gr0() { [ -n "$(dnsmasq_pid gr0)" ]; }
wait_until 100 has_gr0; ok $? "a dnsmasq runs for gr0"
"$G" launch busybox d1 --privileged >/dev/null 2>&1; ok $? "d1 launched without --network"
is "$(nic network d1)/$(nic ip d1)" "gr0/10.208.0.2" "d1 joined gr0"
"$G" exec d1 -- ping -c 1 -W 5 10.208.0.1 >/dev/null 2>&1; ok $? "d1 reaches gr0's gateway"
"$G" launch busybox d2 --network none >/dev/null 2>&1; ok $? "d2 launched with --network none"
is "$(nic network d2)" "" "d2 has no NIC"
"$G" delete --force d1 >/dev/null 2>&1; "$G" delete --force d2 >/dev/null 2>&1
"$G" network delete gr0 >/dev/null 2>&1; ok $? "gr0 deleted"
is "$(dnsmasq_count gr0)" 0 "its dnsmasq is stopped"
tap_done
