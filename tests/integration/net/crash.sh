#!/usr/bin/env bash
# crash.sh - kill -9 of the daemon while launches with NICs are under way
# (at a few points: before, during and after the NIC setup), then a restart:
# the start-up recovery and sweep leave no leaked veth host end, no
# namespace file and no address key of an instance that does not hold it.
# A veth and a namespace file of an instance with no record, made by hand,
# are swept too.  In a network namespace of the test's own (lib.sh).
GR_SRC=${GR_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
. "$GR_SRC/tests/integration/net/lib.sh"
need_root_and_bins
command -v nft >/dev/null || { skip "nft is not installed (deps/net.txt: nftables)"; tap_done; }

start_net_daemon net-crash
ok $? "daemon up in the test's network namespace"
ensure_busybox
"$G" network create nc --subnet 10.211.0.0/24 >/dev/null 2>&1; ok $? "network nc"

# running instances with a NIC: its host end; anything else: none
check_clean() { # round
	local running n want
	running=$("$G" list --format json | python3 -c "import sys,json; print(' '.join(i['name'] for i in json.load(sys.stdin) if i['state']=='running'))")
	want=$(echo $running | wc -w)
	n=$(veths | wc -l)
	is "$n" "$want" "round $1: host ends = running instances ($want: $running)"
	n=$(ls "$TD/run/netns" 2>/dev/null | wc -l)
	is "$n" "$want" "round $1: namespace files = running instances"
	# every address key belongs to an instance that has it in its record
	"$G" network show nc --format json | python3 -c "
import sys, json, subprocess
net = json.load(sys.stdin)
bad = []
for ip, inst in net.get('addresses', {}).items():
    r = subprocess.run([sys.argv[1], 'show', inst, '--format', 'json'], capture_output=True, text=True)
    if r.returncode != 0 or ip not in [n['ip'] for n in json.loads(r.stdout).get('nics', [])]:
        bad.append(ip + '=' + inst)
if bad: print(' '.join(bad))
sys.exit(1 if bad else 0)" "$G"
	ok $? "round $1: no orphaned address key"
}

round=0
for delay in 0.02 0.1 0.3 0.6 1.2; do
	round=$((round + 1))
	"$G" launch busybox k$round --network nc >/dev/null 2>&1 &
	lp=$!
	sleep "$delay"
	stop_daemon KILL
	wait $lp 2>/dev/null
	start_net_daemon net-crash; ok $? "round $round: restarted after kill -9 at ${delay}s into a launch"
	check_clean $round
done

# leftovers of an instance with no record, made by hand
in_ns ip link add grvdeadbeef type veth peer name grvdeadbee2
in_ns ip link set grvdeadbeef alias "gureum:ghost"
mkdir -p "$TD/run/netns"; touch "$TD/run/netns/ghost"
unshare --net="$TD/run/netns/ghost" true
stop_daemon KILL
start_net_daemon net-crash; ok $? "restarted with a ghost's veth and namespace file"
in_ns ip link show grvdeadbeef >/dev/null 2>&1; [ $? -ne 0 ]; ok $? "the ghost's veth was swept"
[ ! -e "$TD/run/netns/ghost" ]; ok $? "the ghost's namespace file was swept"
grep -q " $TD/run/netns/ghost " /proc/self/mounts; [ $? -ne 0 ]; ok $? "and unmounted"

for i in $(seq 1 $round); do "$G" delete --force k$i >/dev/null 2>&1; done
"$G" network delete nc >/dev/null 2>&1; ok $? "network deleted: every address was released"
is "$(veths | wc -l)" 0 "no host end left"
tap_done
