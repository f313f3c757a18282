# lib.sh - shared by the network tests (sourced, not run).
#
# start_net_daemon NAME [gureumd flags...]: the daemon of tests/integration/daemon/lib.sh,
# but inside a network namespace this test makes (a file bound by `unshare --net=FILE`,
# entered with `nsenter --net`), so its bridges, veth pairs and nftables table live
# there and the host's namespace is never touched.  Traffic goes only between
# addresses inside that namespace and the containers' own.  The EXIT trap runs the
# daemon lib's cleanup, then unbinds the namespace (its links and tables go with it).
. "$GR_SRC/tests/integration/daemon/lib.sh"
NSD=""
NSF=""

# is GOT WANT "what": ok when equal, the values printed when not
is() {
	[ "$1" = "$2" ]; ok $? "$3"
	[ "$1" = "$2" ] || echo "#   got '$1', want '$2'"
}

in_ns() { nsenter --net="$NSF" "$@"; }

# ns_pids: processes in the test's namespace (dnsmasq, QEMU outlive a killed daemon)
ns_pids() {
	local want p
	want=$(in_ns readlink /proc/self/ns/net 2>/dev/null) || return 0
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/net" 2>/dev/null)" = "$want" ] && echo "${p#/proc/}"
	done
}

net_cleanup() {
	local rc=$? p
	(cleanup) # the daemon lib's: instances, daemon, mounts, cgroups, folder
	if [ -n "$NSD" ]; then
		# whatever the daemon left running inside the test's own namespace
		for p in $(ns_pids); do kill -9 "$p" 2>/dev/null; done
		umount "$NSF" 2>/dev/null
		rm -rf "$NSD"
	fi
	exit $rc
}

start_net_daemon() {
	local name=$1; shift
	if [ -z "$NSD" ]; then
		NSD=$(mktemp -d "/tmp/gr-test-net-$name.XXXXXX")
		NSF=$NSD/netns
		touch "$NSF"
		unshare --net="$NSF" true || { echo "not ok 1 - cannot make a network namespace"; exit 1; }
		in_ns ip link set lo up
		local real=$GUREUMD
		printf '#!/bin/sh\nexec nsenter --net="%s" "%s" "$@"\n' "$NSF" "$real" >"$NSD/gureumd"
		chmod 755 "$NSD/gureumd"
		GUREUMD=$NSD/gureumd
	fi
	start_daemon "$name" --no-lxcfs "$@"
	local r=$?
	trap net_cleanup EXIT
	return $r
}

# veths NAME...: host ends (grv*) in the test namespace, one per line
veths() { in_ns ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^grv' || true; }

# nic FIELD INSTANCE: a field of the instance's first NIC
nic() {
	"$G" show "$2" --format json | python3 -c "import sys,json; n=json.load(sys.stdin).get('nics') or [{}]; print(n[0].get('$1',''))"
}

# wait_until TRIES CMD...: CMD every 0.1 s until it succeeds (bounded)
wait_until() {
	local n=$1; shift
	for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}

# dnsmasq_pid NET: the live dnsmasq of network NET in the daemon's state (empty if none)
dnsmasq_pid() {
	local p
	p=$(cat "$TD/state/networks/$1/dnsmasq.pid" 2>/dev/null) || return 0
	[ -n "$p" ] && grep -qa "networks/$1/dnsmasq.conf" "/proc/$p/cmdline" 2>/dev/null &&
		! grep -q '^[0-9]* ([^)]*) Z' "/proc/$p/stat" 2>/dev/null && echo "$p"
}
# dnsmasq_count NET: dnsmasq processes running with NET's config
dnsmasq_count() {
	local n=0 p
	for p in $(pgrep -x dnsmasq); do
		grep -qa "$TD/state/networks/$1/dnsmasq.conf" "/proc/$p/cmdline" 2>/dev/null && n=$((n + 1))
	done
	echo $n
}
