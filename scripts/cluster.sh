#!/usr/bin/env bash
# cluster.sh - `make cluster`: a pool of N gureumd hosts (default 3) on a private 3-member etcd,
# on this machine, to try the cluster commands by hand.  It is the test bed of tests/cluster
# (tests/cluster/lib.sh): etcd in a "switch" network namespace on a bridge (10.231.0.1), each
# host h1..hN in a network namespace of its own (10.231.0.(10+I)), its own state, run and
# image folders and cgroup prefix, and its peer channel (--peer-listen 10.231.0.(10+I):9443,
# mutual TLS).  The pool is initialized from h1 (its join token is printed), the busybox master
# is built on h1 (another host fetches it from h1 at its first launch of it), and a file of
# shell functions g1..gN (the CLI bound to each host) is written.  It runs until Ctrl-C, then stops every daemon and etcd member and
# removes the namespaces, cgroups and folder: nothing stays on the machine.
#   GR_CLUSTER_HOSTS   number of hosts (default 3)
#   GR_CLUSTER_CHECK=1 set up, print `host list` from every host, launch busybox on the last
#                      host (fetching the master from h1), tear down and exit (used by
#                      tests/cluster/make_cluster.sh)
#   GR_BUILD           build folder (default ./build)
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export GR_SRC=$top
export GR_BUILD=${GR_BUILD:-$top/build}
n=${GR_CLUSTER_HOSTS:-3}
case $n in [1-9]) ;; *) echo "cluster.sh: GR_CLUSTER_HOSTS: '$n' is not a number of hosts from 1 to 9" >&2; exit 2 ;; esac
if [ "$(id -u)" -ne 0 ]; then
	echo "cluster.sh: the daemons run containers and need root (sudo make cluster)" >&2
	exit 1
fi
for f in "$GR_BUILD/bin/gureumd" "$GR_BUILD/bin/gureum"; do
	[ -x "$f" ] || { echo "cluster.sh: $f is not built (make all)" >&2; exit 1; }
done
for p in etcd nsenter setpriv; do
	command -v "$p" >/dev/null || { echo "cluster.sh: $p is missing (make deps)" >&2; exit 1; }
done
HOST_TTL=${HOST_TTL:-10}
. "$top/tests/cluster/lib.sh"

echo "== starting a 3-member etcd and $n hosts"
cluster_start "$n" || { echo "cluster.sh: the pool did not start (see above)" >&2; exit 1; }
echo "== gureum cluster init (on h1)"
gh 1 cluster init || { echo "cluster.sh: cluster init failed" >&2; exit 1; }
echo "== building the busybox master on h1 (the other hosts fetch it from h1 when they need it)"
gh 1 image build busybox >/dev/null || { echo "cluster.sh: image build on h1 failed" >&2; exit 1; }
envf=$TD/env.sh
{
	echo "# source this file: g1..g$n run the gureum CLI against host h1..h$n"
	for i in $(seq 1 "$n"); do echo "g$i() { GUREUM_SOCKET=$(hsock "$i") $GUREUM \"\$@\"; }"; done
} >"$envf"
echo
gh 1 host list
echo
for i in $(seq 1 "$n"); do
	echo "h$i: GUREUM_SOCKET=$(hsock "$i") $GUREUM ...   (log $TD/h$i/daemon.log)"
done
echo "etcd: $STORE"
echo "in another shell: . $envf; g1 launch busybox web1; g2 list; g3 host list"
if [ "${GR_CLUSTER_CHECK:-0}" = 1 ]; then
	for i in $(seq 1 "$n"); do
		echo "== host list as h$i sees it"
		gh "$i" host list || exit 1
	done
	if [ "$n" -gt 1 ]; then
		echo "== launch busybox on h$n through h1 (h$n fetches the master from h1)"
		gh 1 launch busybox check1 --target "h$n" >/dev/null || exit 1
		gh "$n" image show busybox --format json | grep -q '"source": *"fetch:h1"' || exit 1
		echo "busybox fetched by h$n from h1"
		gh 1 delete --force check1 >/dev/null || exit 1
	fi
	exit 0
fi
echo "== the pool runs until Ctrl-C (everything is removed then)"
while :; do
	for i in $(seq 1 "$n"); do
		if [ -n "${HPID[$i]:-}" ] && ! kill -0 "${HPID[$i]}" 2>/dev/null; then
			echo "== h$i's daemon exited; restart it by hand or Ctrl-C (see $TD/h$i/daemon.err)"
			HPID[$i]=""
		fi
	done
	sleep 5
done
