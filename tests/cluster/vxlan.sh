#!/usr/bin/env bash
# vxlan.sh - a vxlan network across the netns cluster bed (docs/NETWORK.md,
# "VXLAN overlay"): bad input refused naming the field (unknown type, VNI out
# of range, taken VNI); each host builds the bridge and the vxlan device
# (VNI, underlay address, port 4789, learning off, MTU underlay - 50); a
# container on h1 and one on h2 exchange TCP traffic at their own addresses;
# a third on h3 reaches both; deleting it removes its FDB entry on the other
# hosts; h1 killed with SIGKILL keeps the traffic flowing and its restart
# rebuilds an entry removed meanwhile; a leaked device is swept; the network's
# delete removes the devices on every host.  Traffic only between addresses
# inside the test's namespaces.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
[ "$NETNS_ON" = 0 ] && { skip "needs the network namespace bed (GR_CLUSTER_NETNS=1)"; tap_done; }
command -v busybox >/dev/null || { skip "needs busybox (its nc is the listener)"; tap_done; }
HOST_TTL=5
cluster_start 3; ok $? "etcd and 3 daemons (own network namespaces: $NETNS_ON)"
[ "$NETNS_ON" = 1 ] || { skip "the bed has no network namespaces here"; tap_done; }

is() { [ "$1" = "$2" ]; ok $? "$3 (got '$1')"; }
hip() { echo "10.231.0.$((10 + $1))"; }
# in host I's namespace
hn() { local i=$1; shift; in_ns "$(hns "$i")" "$@"; }
nic() { # I INSTANCE KEY
	gh "$1" show "$2" --format json 2>/dev/null |
		python3 -c "import sys,json; print(json.load(sys.stdin)['nics'][0]['$3'])" 2>/dev/null
}
insns() { echo "$TD/h$1/run/netns/$2"; } # host, instance: its namespace file
fdb() { hn "$1" bridge fdb show dev "$2" 2>/dev/null; }

# --- bad input
out=$(gh 1 network create bad --type ovs --subnet 10.240.9.0/24 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"type: unknown type 'ovs' (bridge, vxlan, vlan)"* ]]; ok $? "unknown --type refused ($out)"
out=$(gh 1 network create bad --type vxlan --vni 0 --subnet 10.240.9.0/24 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"vni: 0 is out of range (1..16777215)"* ]]; ok $? "VNI 0 refused ($out)"
out=$(gh 1 network create bad --type vxlan --vni 16777216 --subnet 10.240.9.0/24 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"vni: 16777216 is out of range"* ]]; ok $? "VNI 2^24 refused ($out)"
out=$(gh 1 network create bad --vni 5 --subnet 10.240.9.0/24 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"vni: only for a network of type \"vxlan\""* ]]; ok $? "--vni on a bridge network refused ($out)"
out=$(gh 1 network create bad --type vxlan --vni x --subnet 10.240.9.0/24 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"--vni: 'x' is not a number"* ]]; ok $? "a VNI that does not parse refused ($out)"

run_ok "network create vx (vxlan, VNI 4242) on h1" gh 1 network create vx --type vxlan --vni 4242 --subnet 10.240.0.0/24
out=$(gh 2 network create vy --type vxlan --vni 4242 --subnet 10.241.0.0/24 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"vni: 4242 is taken by network 'vx'"* ]]; ok $? "a taken VNI refused on another host ($out)"
run_ok "network create vz (vxlan, VNI picked) on h2" gh 2 network create vz --type vxlan --subnet 10.242.0.0/24
vni=$(gh 3 network show vz --format json | python3 -c "import sys,json; print(json.load(sys.stdin)['vni'])" 2>/dev/null)
is "$vni" 1 "the lowest free VNI was picked (as h3 reads it)"
run_ok "network delete vz" gh 2 network delete vz
gh 1 network show vx >/dev/null 2>&1; ok $? "h1 still answers after the refusals"

# --- every host builds the devices
dev_ok() { # I: grx4242 on gr-vx with the right settings, MTU 1450 everywhere
	local d; d=$(hn "$1" ip -d link show grx4242 2>/dev/null) || return 1
	[[ "$d" == *"vxlan id 4242 local $(hip "$1") "* && "$d" == *"dstport 4789"* &&
		"$d" == *"nolearning"* && "$d" == *"master gr-vx"* && "$d" == *"mtu 1450"* ]] &&
		hn "$1" ip link show gr-vx 2>/dev/null | grep -q "mtu 1450"
}
for i in 1 2 3; do wait_for 100 dev_ok "$i"; ok $? "h$i: grx4242 (VNI 4242, local $(hip "$i"), port 4789, learning off) on gr-vx, MTU 1450"; done
flood_ok() { # I: all-zero entries to the other hosts
	local f; f=$(fdb "$1" grx4242)
	for j in 1 2 3; do
		[ "$j" = "$1" ] && continue
		grep -q "00:00:00:00:00:00 dst $(hip "$j") self permanent" <<<"$f" || return 1
	done
}
for i in 1 2 3; do wait_for 100 flood_ok "$i"; ok $? "h$i: flood entries to the two other hosts"; done

# --- containers on two hosts
run_ok "image build busybox on h1" gh 1 image build busybox
run_ok "launch c1 on h1 (vx)" gh 1 launch busybox c1 --target h1 --network vx
run_ok "launch c2 on h2 (vx)" gh 1 launch busybox c2 --target h2 --network vx
ip1=$(nic 1 c1 ip); ip2=$(nic 1 c2 ip); mac1=$(nic 1 c1 mac); mac2=$(nic 1 c2 mac)
diag "c1 $ip1 $mac1, c2 $ip2 $mac2"
has_entry() { fdb "$1" grx4242 | grep -q "^$2 dst $3 self permanent"; }
wait_for 100 has_entry 1 "$mac2" "$(hip 2)"; ok $? "h1: c2's MAC -> h2"
wait_for 100 has_entry 2 "$mac1" "$(hip 1)"; ok $? "h2: c1's MAC -> h1"
wait_for 100 has_entry 3 "$mac1" "$(hip 1)" && has_entry 3 "$mac2" "$(hip 2)"; ok $? "h3: both MACs, to their hosts"
in_ns_file() { local f=$1; shift; nsenter --net="$f" "$@"; }
mtu_in=$(in_ns_file "$(insns 1 c1)" ip -o link show eth0 2>/dev/null | grep -o 'mtu [0-9]*' | cut -d' ' -f2)
is "$mtu_in" 1450 "c1's eth0 has the overlay MTU"

printf '#!/bin/sh\nread l\necho "pong $l"\n' >"$TD/pong.sh"; chmod +x "$TD/pong.sh"
PORT=5100
# tcp FROM_HOST FROM_INST TO_HOST TO_INST TO_IP: a listener in TO's namespace
# answers one line from FROM's namespace (busybox nc; bash /dev/tcp)
tcp() {
	PORT=$((PORT + 1))
	local lns; lns=$(insns "$3" "$4")
	nsenter --net="$lns" timeout 30 busybox nc -l -p "$PORT" -e "$TD/pong.sh" >/dev/null 2>&1 &
	local lp=$! got=""
	for _ in $(seq 1 50); do nsenter --net="$lns" ss -ltn 2>/dev/null | grep -q ":$PORT " && break; sleep 0.1; done
	got=$(nsenter --net="$(insns "$1" "$2")" timeout 10 bash -c \
		"exec 3<>/dev/tcp/$5/$PORT && echo ping-$2 >&3 && read -r l <&3 && echo \"\$l\"" 2>/dev/null)
	kill "$lp" 2>/dev/null; wait "$lp" 2>/dev/null
	[ "$got" = "pong ping-$2" ]
}
tcp 1 c1 2 c2 "$ip2"; ok $? "TCP c1 (h1) -> c2 (h2) at $ip2"
tcp 2 c2 1 c1 "$ip1"; ok $? "TCP c2 (h2) -> c1 (h1) at $ip1"

# --- a third host's instance joins
run_ok "launch c3 on h3 (vx)" gh 3 launch busybox c3 --target h3 --network vx
ip3=$(nic 3 c3 ip); mac3=$(nic 3 c3 mac)
wait_for 100 has_entry 1 "$mac3" "$(hip 3)" && wait_for 100 has_entry 2 "$mac3" "$(hip 3)"
ok $? "h1 and h2: c3's MAC -> h3"
tcp 3 c3 1 c1 "$ip1"; ok $? "TCP c3 (h3) -> c1 (h1)"
tcp 3 c3 2 c2 "$ip2"; ok $? "TCP c3 (h3) -> c2 (h2)"
tcp 1 c1 3 c3 "$ip3"; ok $? "TCP c1 (h1) -> c3 (h3)"
run_ok "delete c3" gh 3 delete --force c3
gone() { ! has_entry "$1" "$mac3" "$(hip 3)"; }
wait_for 100 gone 1 && wait_for 100 gone 2; ok $? "c3's entry removed on h1 and h2"
flood_ok 1 && flood_ok 2; ok $? "the flood entries stay"

# --- kill -9 and restart
host_kill 1
tcp 2 c2 1 c1 "$ip1"; ok $? "TCP c2 -> c1 while h1's daemon is dead"
hn 1 bridge fdb del "$mac2" dev grx4242 dst "$(hip 2)" self 2>/dev/null
! has_entry 1 "$mac2" "$(hip 2)"; ok $? "c2's entry on h1 removed by hand while the daemon is down"
host_start 1; ok $? "h1 restarted after SIGKILL"
wait_for 100 has_entry 1 "$mac2" "$(hip 2)"; ok $? "h1's restart wrote the entry again"
n=$(fdb 1 grx4242 | grep -c 'self permanent')
is "$n" 3 "h1's grx4242 has exactly 3 entries (2 flood + c2) after the restart"
dev_ok 1; ok $? "h1's devices as before"
tcp 1 c1 2 c2 "$ip2"; ok $? "TCP c1 -> c2 after the restart"

# --- a leaked device is swept
hn 2 ip link add grx999 type vxlan id 999 dstport 4789 nolearning local "$(hip 2)" &&
	hn 2 ip link set grx999 alias "gureum-vxlan:ghost"
ok $? "a vxlan device of no network made by hand on h2"
swept() { ! hn 2 ip link show grx999 >/dev/null 2>&1; }
wait_for 150 swept; ok $? "h2 removed it (no vxlan network of VNI 999)"

# --- network delete
run_ok "delete c1" gh 1 delete --force c1
run_ok "delete c2" gh 1 delete --force c2
run_ok "network delete vx" gh 1 network delete vx
nodev() { ! hn "$1" ip link show grx4242 >/dev/null 2>&1 && ! hn "$1" ip link show gr-vx >/dev/null 2>&1; }
for i in 1 2 3; do wait_for 100 nodev "$i"; ok $? "h$i: grx4242 and gr-vx removed"; done
run_ok "VNI 4242 free again" gh 2 network create vy --type vxlan --vni 4242 --subnet 10.241.0.0/24
run_ok "network delete vy" gh 2 network delete vy
tap_done
