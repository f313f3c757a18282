#!/usr/bin/env bash
# vlan.sh - VLAN networks (--type vlan --vlan ID --parent IF), in a network
# namespace of the test's own (lib.sh): the fields checked whatever the
# kernel, then the kernel's support probed by the daemon.  Where the kernel
# lacks 802.1Q or bridge VLAN filtering the create is refused saying which,
# the probe leaves no link behind, and the isolation test (VLAN 10 and 20
# instances on one bridge) skips with that reason.
GR_SRC=${GR_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
. "$GR_SRC/tests/integration/net/lib.sh"
need_root_and_bins
command -v unshare >/dev/null && command -v nsenter >/dev/null || { skip "needs unshare and nsenter"; tap_done; }

start_net_daemon net-vlan
ok $? "daemon up in the test's network namespace"
in_ns ip link add grvltest0 type bridge && in_ns ip link set grvltest0 up
ok $? "a parent link for the tagged frames (in the test's namespace)"

out=$("$G" network create v10 --subnet 10.211.0.0/24 --type vlan --parent grvltest0 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"vlan: required for a network of type \"vlan\""* ]]; ok $? "vlan ID required ($out)"
out=$("$G" network create v10 --subnet 10.211.0.0/24 --type vlan --vlan 4095 --parent grvltest0 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"vlan: expected a VLAN ID from 1 to 4094"* ]]; ok $? "vlan 4095 refused ($out)"
out=$("$G" network create v10 --subnet 10.211.0.0/24 --type vlan --vlan 10 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"parent: required"* ]]; ok $? "parent required ($out)"
out=$("$G" network create v10 --subnet 10.211.0.0/24 --vlan 10 --parent grvltest0 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"vlan: only for a network of type \"vlan\""* ]]; ok $? "--vlan on a bridge network refused ($out)"
out=$("$G" network create v10 --subnet 10.211.0.0/24 --type vlan --vlan x 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"--vlan: 'x' is not a number"* ]]; ok $? "--vlan x refused by the CLI ($out)"

out=$("$G" network create v10 --subnet 10.211.0.0/24 --type vlan --vlan 10 --parent grvltest0 2>&1)
rc=$?
[ $rc -ne 0 ]; ok $? "a vlan network is refused ($out)"
in_ns ip -o link show | grep -q 'grvl[pq]'; [ $? -ne 0 ]; ok $? "the support probe left no link"
is "$("$G" network list --format json)" "[]" "no network was kept"
r=$(api POST /v1/networks '{"name":"v10","subnet":"10.211.0.0/24","type":"vlan","vlan":10,"parent":"grvltest0"}')
if [[ "$out" == *"this host's kernel has no"* ]]; then
	[[ "$out" == *"type: vlan networks need 802.1Q and bridge VLAN filtering: this host's kernel has no"* ]]
	ok $? "the refusal names what the kernel lacks"
	is "$(echo "$r" | tail -1)" 501 "API: 501 (not supported here)"
	skip "VLAN 10 and VLAN 20 isolation: ${out#gureum: }"
else
	[[ "$out" == *"vlan networks are not built yet"* ]]; ok $? "a kernel with VLAN support: refused as not built yet"
	is "$(echo "$r" | tail -1)" 501 "API: 501"
	skip "VLAN 10 and VLAN 20 isolation: the host wiring of vlan networks is not built yet"
fi
in_ns ip link del grvltest0
tap_done
