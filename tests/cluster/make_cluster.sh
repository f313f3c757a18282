#!/usr/bin/env bash
# make_cluster.sh - `make cluster` (scripts/cluster.sh) in its check mode: the pool it makes has
# every host online with one leader as each host sees it, the pool is initialized, busybox
# built on h1 is fetched by h3 for a launch there (peer channel); when it ends, nothing of it stays (namespaces, daemons, etcd members,
# cgroups, folder).
. "$(dirname "$0")/lib.sh"
need_root_and_bins
out=$(GR_CLUSTER_CHECK=1 "$GR_SRC/scripts/cluster.sh" 2>&1 </dev/null & pid=$!; echo "pid $pid"; wait $pid; echo "rc $?")
pid=$(echo "$out" | sed -n 's/^pid //p')
echo "$out" | grep -q '^rc 0$'; r=$?
ok $r "scripts/cluster.sh set up a pool and ended cleanly"
[ $r -eq 0 ] || echo "$out" | tail -n 20 | sed 's/^/#   /'
echo "$out" | grep -q 'pool .* initialized'; ok $? "the pool was initialized from h1"
for i in 1 2 3; do
	list=$(echo "$out" | sed -n "/^== host list as h$i sees it/,/^==/p")
	[ "$(echo "$list" | grep -cE '^h[1-3] +online')" = 3 ] && [ "$(echo "$list" | grep -cE '^h[1-3] +online +\*')" = 1 ]
	ok $? "h$i sees 3 hosts online and one leader"
done
echo "$out" | grep -q '^busybox fetched by h3 from h1$'; ok $? "a launch on h3 fetched the busybox master from h1"
echo "$out" | grep -q '^in another shell: \. .*/env.sh'; ok $? "it tells how to reach each host"
[ -z "$(ip netns list 2>/dev/null | grep -- "-$pid\b")" ]; ok $? "its network namespaces are gone"
btd=$(echo "$out" | sed -n 's|^h1: .*(log \(.*\)/h1/daemon.log)$|\1|p')
[ -n "$btd" ] && ! pgrep -f "$btd" >/dev/null; ok $? "no daemon or etcd member of it runs ($btd)"
[ -n "$btd" ] && [ ! -e "$btd" ]; ok $? "its folder is removed"
left=""
for r in $(cg_roots); do for d in "$r"/gr-test-c-"$pid"-h*; do [ -d "$d" ] && left="$left $d"; done; done
[ -z "$left" ]; ok $? "no cgroup of it is left ($left)"
tap_done
