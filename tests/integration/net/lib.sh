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

net_cleanup() {
	local rc=$?
	(cleanup) # the daemon lib's: instances, daemon, mounts, cgroups, folder
	if [ -n "$NSD" ]; then
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
