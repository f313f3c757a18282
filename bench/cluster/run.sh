#!/usr/bin/env bash
# bench/cluster - `gureum launch` through the API of one host of a 3-host pool (etcd store, the
# pool's default placement policy least-instances, so about two launches in three are placed on
# another host and forwarded there over the peer channel, a create carried out by that host;
# with GR_CLUSTER_PEER=0 through a request record in etcd instead) against the same launch on one
# host alone with its SQLite store, side by side: the pool is tests/cluster/lib.sh's bed (three
# daemons in network namespaces on a private 3-member etcd) and the single host a fourth daemon
# of the same build started standalone in the same bed; launches alternate between the two.
# Each figure is the CLI's wall time from the command to its exit, the container running.
# Last line:
#     cluster_launch_ms_median=<x> ratio_vs_single=<x / single median> single_launch_ms_median=<s>
# Env: N (launches each, default 30), GR_BUILD, GR_SRC.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
export GR_SRC=${GR_SRC:-$top} GR_BUILD=${GR_BUILD:-$top/build}
N=${N:-30}
case $N in '' | *[!0-9]*) echo "bench/cluster: N: '$N' is not a count" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "bench/cluster: needs root" >&2; exit 1; }
command -v etcd >/dev/null || { echo "bench/cluster: needs etcd (make deps)" >&2; exit 1; }
HOST_TTL=10
. "$GR_SRC/tests/cluster/lib.sh"
now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

cluster_start 3 >/dev/null || { echo "bench/cluster: the pool did not start" >&2; exit 1; }
host_start 4 --standalone || { echo "bench/cluster: the single host did not start" >&2; exit 1; }
for i in 1 2 3 4; do
	gh "$i" image build busybox >/dev/null || { echo "bench/cluster: image build on h$i failed" >&2; exit 1; }
done
# one warm-up launch on each (page cache, first cgroups)
for i in 1 2 3; do gh 1 launch busybox "bw-$i" --target "h$i" >/dev/null && gh 1 delete --force "bw-$i" >/dev/null; done
gh 4 launch busybox bw-4 >/dev/null && gh 4 delete --force bw-4 >/dev/null
: >"$TD/pool.ms"; : >"$TD/single.ms"
for k in $(seq 1 "$N"); do
	t0=$(now_ns)
	gh 1 launch busybox "bc-$k" >/dev/null || { echo "bench/cluster: pool launch bc-$k failed" >&2; exit 1; }
	t1=$(now_ns)
	gh 4 launch busybox "bs-$k" >/dev/null || { echo "bench/cluster: single launch bs-$k failed" >&2; exit 1; }
	t2=$(now_ns)
	echo "scale=3; ($t1 - $t0) / 1000000" | bc >>"$TD/pool.ms"
	echo "scale=3; ($t2 - $t1) / 1000000" | bc >>"$TD/single.ms"
done
spread=$(gh 1 list --format json | python3 -c "
import sys, json, collections
c = collections.Counter(i.get('host') or '-' for i in json.load(sys.stdin) if i['name'].startswith('bc-'))
print(' '.join('%s=%d' % kv for kv in sorted(c.items())))")
for k in $(seq 1 "$N"); do gh 1 delete --force "bc-$k" >/dev/null; gh 4 delete --force "bs-$k" >/dev/null; done
p=$(median <"$TD/pool.ms"); s=$(median <"$TD/single.ms")
echo "pool (3 hosts, etcd, launched through h1): median ${p} ms over $N (min $(sort -n "$TD/pool.ms" | head -1), max $(sort -n "$TD/pool.ms" | tail -1)); placed: $spread"
echo "single host (SQLite):                      median ${s} ms over $N (min $(sort -n "$TD/single.ms" | head -1), max $(sort -n "$TD/single.ms" | tail -1))"
echo "cluster_launch_ms_median=$p ratio_vs_single=$(echo "scale=4; $p / $s" | bc | awk '{printf "%.2f", $1}') single_launch_ms_median=$s"
