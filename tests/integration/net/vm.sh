#!/usr/bin/env bash
# vm.sh - a VM's NIC on a network (real QEMU under TCG, real dnsmasq), in a network
# namespace of the test's own (lib.sh): the VM gets a tap grtXXXXXXXX on the bridge
# (alias naming it), a virtio-net NIC with its MAC, and its reserved address by DHCP
# (the lease in dnsmasq's lease file, the address seen from inside through the guest
# agent); two containers and the VM ping each other by address; stop removes the tap,
# start makes it again; kill -9 of the daemon during a VM's NIC setup leaves no leaked
# tap, no orphaned address and one dnsmasq.  Bounded polls only.
GR_SRC=${GR_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
. "$GR_SRC/tests/integration/net/lib.sh"
need_root_and_bins
command -v dnsmasq >/dev/null || { skip "dnsmasq is not installed (deps/net.txt: dnsmasq-base)"; tap_done; }
command -v qemu-system-x86_64 >/dev/null || { skip "QEMU is not installed (deps/vm.txt)"; tap_done; }
[ -c /dev/net/tun ] || { skip "no /dev/net/tun"; tap_done; }
command -v unshare >/dev/null && command -v nsenter >/dev/null || { skip "needs unshare and nsenter"; tap_done; }

start_net_daemon net-vm
ok $? "daemon up in the test's network namespace"
ensure_busybox
"$G" network create nv --subnet 10.207.0.0/24 --dhcp >/dev/null 2>&1; ok $? "network create nv --dhcp"
"$G" launch busybox c1 --privileged --network nv >/dev/null 2>&1; ok $? "c1 launched on nv"
"$G" launch busybox c2 --privileged --network nv >/dev/null 2>&1; ok $? "c2 launched on nv"
out=$("$G" image build debian-vm 2>&1); ok $? "gureum image build debian-vm"
out=$("$G" launch debian-vm vm1 --vm --cpu 1 --memory 256M --network nv 2>&1); rc=$?
ok $rc "vm1 launched on nv"
[ $rc -eq 0 ] || printf '%s\n' "$out" | sed 's/^/#   /'
ipv=$(nic ip vm1); macv=$(nic mac vm1); ip1=$(nic ip c1); ip2=$(nic ip c2)

# taps NAME: the grt links whose alias names instance NAME, one per line
taps() { in_ns ip -o link show 2>/dev/null | awk -v a="alias gureum:$1" 'index($0, a) {print $2}' | sed 's/[:@].*//' | grep '^grt' || true; }
tap=$(taps vm1)
[ -n "$tap" ] && in_ns ip -o link show "$tap" | grep -q "master gr-nv"; ok $? "vm1 has a tap on gr-nv ($tap)"
grep -q "mac=$macv" "$TD/state/instances/vm1/qemu.log" 2>/dev/null || pgrep -af qemu-system | grep -q "mac=$macv"
ok $? "QEMU's virtio-net has vm1's MAC ($macv)"

ready() { grep -q "gureum-guest: ready hostname=vm1" "$TD/state/instances/vm1/console.log" 2>/dev/null; }
wait_until 1800 ready; ok $? "guest ready"
lease() { grep -qi " $macv $ipv " "$TD/state/networks/nv/leases" 2>/dev/null; }
wait_until 900 lease; ok $? "dnsmasq leased vm1 its reserved address $ipv ($(cat "$TD/state/networks/nv/leases" 2>/dev/null | tr '\n' ' '))"
out=$(timeout 120 "$G" exec vm1 -- ip -4 addr show eth0 2>&1)
echo "$out" | grep -q "inet $ipv/24"; ok $? "inside the guest: eth0 has $ipv/24 ($(echo "$out" | grep inet | tr -s ' '))"
out=$(timeout 60 "$G" exec vm1 -- cat /run/udhcpc.log 2>&1)
echo "$out" | grep -qi "lease of $ipv obtained"; ok $? "the guest's DHCP client got $ipv ($(echo "$out" | tail -1))"

vping() { timeout 60 "$G" exec vm1 -- ping -c 1 -W 3 "$1" >/dev/null 2>&1; }
cping() { "$G" exec "$1" -- ping -c 1 -W 3 "$2" >/dev/null 2>&1; }
wait_until 20 cping c1 "$ipv"; ok $? "c1 pings vm1 ($ipv)"
cping c2 "$ipv"; ok $? "c2 pings vm1"
vping "$ip1"; ok $? "vm1 pings c1 ($ip1)"
vping "$ip2"; ok $? "vm1 pings c2 ($ip2)"
cping c1 "$ip2"; ok $? "c1 pings c2"

"$G" stop vm1 >/dev/null 2>&1; ok $? "vm1 stopped"
[ -z "$(taps vm1)" ]; ok $? "its tap is removed"
"$G" start vm1 >/dev/null 2>&1; ok $? "vm1 started again"
[ "$(taps vm1)" = "$tap" ]; ok $? "the same tap is made again"
is "$(nic ip vm1)/$(nic mac vm1)" "$ipv/$macv" "same address and MAC"
"$G" delete --force vm1 >/dev/null 2>&1; ok $? "vm1 deleted"
[ -z "$(taps vm1)" ]; ok $? "its tap is removed"
in_ns ip -o link show | grep -q "gureum:vm1"; [ $? -ne 0 ]; ok $? "no link of vm1 is left"

# --- kill -9 of the daemon while a VM's NIC is set up
"$G" launch debian-vm vm2 --vm --cpu 1 --memory 256M --network nv >/dev/null 2>&1 &
LP=$!
has_tap() { [ -n "$(taps vm2)" ]; }
wait_until 1200 has_tap; ok $? "vm2's tap appears"
stop_daemon KILL
wait "$LP" 2>/dev/null
# a tap left by a start cut short before its record (as a kill between tap and record
# would leave): the start-up sweep removes it by its alias
in_ns ip tuntap add grtdeadbeef mode tap && in_ns ip link set grtdeadbeef alias gureum:ghost
ok $? "a ghost's tap made (alias gureum:ghost)"
start_net_daemon net-vm; ok $? "daemon restarted after kill -9 during vm2's start"
ghost_gone() { ! in_ns ip link show grtdeadbeef >/dev/null 2>&1; }
wait_until 100 ghost_gone; ok $? "the ghost's tap is swept"
settled() { case "$(field vm2 state)" in running|stopped|"") return 0 ;; *) return 1 ;; esac; }
wait_until 1200 settled; ok $? "vm2 settled ($(field vm2 state))"
st=$(field vm2 state)
if [ "$st" = running ]; then
	[ -n "$(taps vm2)" ]; ok $? "vm2 runs: its tap is there"
else
	[ -z "$(taps vm2)" ]; ok $? "vm2 is $st: no tap of it is left"
fi
# every tap belongs to a running instance, every address key to a record
leaks=""
for t in $(in_ns ip -o link show | awk '/alias gureum:/ {for (i=1;i<=NF;i++) if ($i=="alias") print $(i+1)}'); do
	n=${t#gureum:}; [ "$(field "$n" state)" = running ] || leaks="$leaks $n"
done
[ -z "$leaks" ]; ok $? "no leaked tap or veth ($leaks)"
orphans=$("$G" network show nv --format json | python3 -c "
import sys, json, subprocess
a = json.load(sys.stdin).get('addresses', {})
print(' '.join(ip for ip, n in a.items() if subprocess.run(['$G', 'show', n], capture_output=True).returncode))")
[ -z "$orphans" ]; ok $? "no orphaned address ($orphans)"
is "$(dnsmasq_count nv)" 1 "one dnsmasq for nv"
"$G" delete --force vm2 >/dev/null 2>&1; ok $? "vm2 deleted"
[ -z "$(taps vm2)" ]; ok $? "no tap of vm2 is left"
tap_done
