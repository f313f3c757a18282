#!/usr/bin/env bash
# bench/net - container-to-container TCP throughput over gureum networks against
# the same pair of namespaces wired by hand, side by side in one run:
#   bridge: two containers on one host on a gureum bridge network, against two
#           namespaces on a bridge made with `ip link` (veth + bridge) in the
#           same host namespace;
#   vxlan:  a container on h1 and one on h2 on a gureum vxlan network, against
#           two namespaces behind a vxlan device + bridge made by hand on each
#           host (`ip link add ... type vxlan ... nolearning`, static entries
#           with `bridge fdb`), over the same underlay.
# The hosts are tests/cluster/lib.sh's bed (two daemons in network namespaces
# on a private etcd, joined by veths to a bridge in a "switch" namespace); the
# traffic stays between addresses inside the bench's namespaces.  The
# throughput tool is bench/net/tput.c (one TCP connection, one way, T
# seconds), run in each container's network namespace.  The four set-ups
# are measured in turn (gureum's and the manual one of a pair in alternating
# order), R rounds; each figure is the median of its rounds.
# Last line:
#     bridge_gbps=X vxlan_gbps=Y ratio_vs_manual=Z
# (X, Y gureum's medians; Z = min(gureum/manual) over the two).  Everything is
# removed at exit (the bed's EXIT trap: daemons, etcd, namespaces, folder).
# Env: R (rounds, default 5), T (seconds per measure, default 5), GR_BUILD, GR_SRC.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export GR_SRC=${GR_SRC:-$top} GR_BUILD=${GR_BUILD:-$top/build}
R=${R:-5} T=${T:-5}
case "$R$T" in *[!0-9]*) echo "bench/net: R and T must be counts" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "bench/net: needs root" >&2; exit 1; }
command -v etcd >/dev/null || { echo "bench/net: needs etcd (make deps)" >&2; exit 1; }
GR_CLUSTER_NETNS=1
. "$GR_SRC/tests/cluster/lib.sh"
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }
die() { echo "bench/net: $*" >&2; exit 1; }

cluster_start 2 >/dev/null || die "the bed did not start"
TPUT=$TD/tput
cc -O2 -Wall -o "$TPUT" "$GR_SRC/bench/net/tput.c" || die "building tput"
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
H1=$(hns 1) H2=$(hns 2)
hip() { echo "10.231.0.$((10 + $1))"; }

# --- gureum's
gh 1 image build busybox >/dev/null || die "image build"
gh 1 network create nbb --subnet 10.250.0.0/24 >/dev/null || die "bridge network"
gh 1 network create nbv --type vxlan --subnet 10.251.0.0/24 >/dev/null || die "vxlan network"
gh 1 launch busybox gb1 --target h1 --network nbb >/dev/null &&
	gh 1 launch busybox gb2 --target h1 --network nbb >/dev/null &&
	gh 1 launch busybox gv1 --target h1 --network nbv >/dev/null &&
	gh 1 launch busybox gv2 --target h2 --network nbv >/dev/null || die "launching the containers"
ipof() { gh 1 show "$1" --format json | python3 -c "import sys,json; print(json.load(sys.stdin)['nics'][0]['ip'])"; }
GB1=$TD/h1/run/netns/gb1 GB2=$TD/h1/run/netns/gb2 GV1=$TD/h1/run/netns/gv1 GV2=$TD/h2/run/netns/gv2
GB2_IP=$(ipof gb2) GV2_IP=$(ipof gv2)
fdb_ready() { in_ns "$H1" bridge fdb show dev "grx$1" 2>/dev/null | grep -q "dst $(hip 2) self"; }
vni=$(gh 1 network show nbv --format json | python3 -c "import sys,json; print(json.load(sys.stdin)['vni'])")
wait_for 100 fdb_ready "$vni" || die "h1 has no forwarding entry to h2"

# --- by hand, the same shapes
mk_ns() { ip netns add "$1" && NETNS+=("$1") && ip -n "$1" link set lo up; }
MB1=gr-t-mb1-$$ MB2=gr-t-mb2-$$ MV1=gr-t-mv1-$$ MV2=gr-t-mv2-$$
{
	mk_ns "$MB1" && mk_ns "$MB2" && mk_ns "$MV1" && mk_ns "$MV2" &&
	in_ns "$H1" ip link add mbr0 type bridge && in_ns "$H1" ip addr add 10.252.0.1/24 dev mbr0 &&
	in_ns "$H1" ip link set mbr0 up &&
	for k in 1 2; do
		ns=gr-t-mb$k-$$
		in_ns "$H1" ip link add "mbv$k" type veth peer name eth0 netns "$ns" &&
		in_ns "$H1" ip link set "mbv$k" master mbr0 up &&
		ip -n "$ns" addr add "10.252.0.$((k + 1))/24" dev eth0 && ip -n "$ns" link set eth0 up || exit 1
	done &&
	for i in 1 2; do
		h=$(hns "$i") o=$((3 - i)) ns=gr-t-mv$i-$$
		in_ns "$h" ip link add mvx0 type vxlan id 777 local "$(hip "$i")" dstport 4789 nolearning dev eth0 &&
		in_ns "$h" ip link add mbrx type bridge && in_ns "$h" ip link set mbrx mtu 1450 &&
		in_ns "$h" ip link set mvx0 mtu 1450 master mbrx up &&
		in_ns "$h" ip addr add 10.253.0.1/24 dev mbrx && in_ns "$h" ip link set mbrx up &&
		in_ns "$h" ip link add "mvv$i" mtu 1450 type veth peer name eth0 netns "$ns" &&
		in_ns "$h" ip link set "mvv$i" master mbrx up &&
		ip -n "$ns" link set eth0 address "02:00:00:00:07:0$i" &&
		ip -n "$ns" addr add "10.253.0.$((i + 1))/24" dev eth0 && ip -n "$ns" link set eth0 up &&
		in_ns "$h" bridge fdb append 00:00:00:00:00:00 dev mvx0 dst "$(hip "$o")" &&
		in_ns "$h" bridge fdb add "02:00:00:00:07:0$o" dev mvx0 dst "$(hip "$o")" self permanent || exit 1
	done
} || die "wiring the manual pairs"

PORT=5200
# measure FROM_NSFILE TO_NSFILE TO_IP: Gbit/s of one T-second transfer
measure() {
	PORT=$((PORT + 1))
	nsenter --net="$2" "$TPUT" recv "$PORT" &
	local rp=$! g
	g=$(nsenter --net="$1" "$TPUT" send "$3" "$PORT" "$T") || g=0
	wait "$rp" 2>/dev/null
	echo "$g"
}
: >"$TD/gb"; : >"$TD/mb"; : >"$TD/gv"; : >"$TD/mv"
for r in $(seq 1 "$R"); do
	# gureum first in odd rounds, the manual pair first in even ones (no order bias)
	if [ $((r % 2)) = 1 ]; then
		gb=$(measure "$GB1" "$GB2" "$GB2_IP"); mb=$(measure "/run/netns/$MB1" "/run/netns/$MB2" 10.252.0.3)
		gv=$(measure "$GV1" "$GV2" "$GV2_IP"); mv=$(measure "/run/netns/$MV1" "/run/netns/$MV2" 10.253.0.3)
	else
		mb=$(measure "/run/netns/$MB1" "/run/netns/$MB2" 10.252.0.3); gb=$(measure "$GB1" "$GB2" "$GB2_IP")
		mv=$(measure "/run/netns/$MV1" "/run/netns/$MV2" 10.253.0.3); gv=$(measure "$GV1" "$GV2" "$GV2_IP")
	fi
	echo "$gb" >>"$TD/gb"; echo "$mb" >>"$TD/mb"; echo "$gv" >>"$TD/gv"; echo "$mv" >>"$TD/mv"
	echo "# round $r: bridge gureum $gb manual $mb Gbit/s; vxlan gureum $gv manual $mv Gbit/s"
done
GB=$(median <"$TD/gb") MB=$(median <"$TD/mb") GV=$(median <"$TD/gv") MV=$(median <"$TD/mv")
echo "# medians over $R rounds of ${T}s: bridge gureum $GB manual $MB; vxlan gureum $GV manual $MV"
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in gv2 gv1 gb2 gb1; do gh 1 delete --force "$n" >/dev/null 2>&1; done
awk -v gb="$GB" -v mb="$MB" -v gv="$GV" -v mv="$MV" 'BEGIN {
	rb = mb > 0 ? gb / mb : 0; rv = mv > 0 ? gv / mv : 0
	printf "bridge_gbps=%.2f vxlan_gbps=%.2f ratio_vs_manual=%.3f\n", gb, gv, (rb < rv ? rb : rv) }'
