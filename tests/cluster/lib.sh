# lib.sh - a test bed of several gureumd hosts on one etcd (sourced, not run).
#
# cluster_start [N]   a private 3-member etcd 3.4 (Debian's etcd-server) on
#                     127.0.0.1, ports picked free by binding port 0, data under
#                     the test folder (as tests/unit/store/etcd_cluster.h does),
#                     then N gureumd (default 3) named h1..hN, each with its own
#                     state and run folders, cgroup prefix and host name, all on
#                     --store etcd://... (STORE).
# host_start I [flags] / host_kill I [SIG] / gh I ARGS...  (gureum bound to host I)
#                     Each daemon serves the peer channel (--peer-listen, hpeer I:
#                     10.231.0.(10+I):9443 in its namespace, or a free loopback port),
#                     so masters are fetched between hosts; GR_CLUSTER_PEER=0 leaves it off.
# Network: with GR_CLUSTER_NETNS=1 (the default when `ip netns` works) etcd runs
# in a "switch" network namespace made by the test, on a bridge there
# (10.231.0.1), and each daemon in a namespace of its own, joined to that
# bridge by a veth pair (hI = 10.231.0.(10+I)); nothing is added to the host's
# own namespace.  With GR_CLUSTER_NETNS=0 everything is on 127.0.0.1.  The CLI
# reaches each daemon over its unix socket either way.
# Teardown (EXIT trap): every daemon and etcd member this test started (by
# pid; each also dies with the test shell through setpriv --pdeathsig), their
# cgroups, the namespaces, the folder.
GR_SRC=${GR_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
GR_BUILD=${GR_BUILD:-$GR_SRC/build}
. "$GR_SRC/tests/tap.sh"
GUREUMD=$GR_BUILD/bin/gureumd
GUREUM=$GR_BUILD/bin/gureum
TD=""
STORE=""
HOST_TTL=${HOST_TTL:-5}
declare -a ETCD_PID=() ETCD_CPORT=() ETCD_PPORT=() HPID=() NETNS=() HPEER=()
NETNS_ON=${GR_CLUSTER_NETNS:-auto}
ETCD_IP=127.0.0.1
SW=""

# in_ns NS CMD...: run CMD in network namespace NS (only the network: no
# `ip netns exec`, which would remount /sys and hide the cgroup mounts)
in_ns() { local ns=$1; shift; if [ -n "$ns" ]; then nsenter --net="/run/netns/$ns" "$@"; else "$@"; fi; }
# ns_pre NS: that prefix as words, for background jobs (so $! is the program's
# own pid, not a subshell's): pre=($(ns_pre NS)); "${pre[@]}" prog &
ns_pre() { [ -n "$1" ] && echo nsenter "--net=/run/netns/$1"; }

# the switch namespace with the bridge, where etcd listens
net_start() {
	if [ "$NETNS_ON" = auto ]; then
		NETNS_ON=0
		command -v nsenter >/dev/null && ip netns list >/dev/null 2>&1 && NETNS_ON=1
	fi
	[ "$NETNS_ON" = 1 ] || return 0
	SW=gr-t-sw-$$
	ip netns add "$SW" || return 1
	NETNS+=("$SW")
	ip -n "$SW" link set lo up &&
		ip -n "$SW" link add br0 type bridge &&
		ip -n "$SW" addr add 10.231.0.1/24 dev br0 &&
		ip -n "$SW" link set br0 up || return 1
	ETCD_IP=10.231.0.1
}

# host_ns I: hI's namespace, joined to the bridge (made once)
host_ns() {
	[ "$NETNS_ON" = 1 ] || return 0
	local ns=gr-t-h$1-$$
	[ -e "/run/netns/$ns" ] && return 0
	ip netns add "$ns" || return 1
	NETNS+=("$ns")
	ip -n "$SW" link add "vh$1" type veth peer name eth0 netns "$ns" &&
		ip -n "$SW" link set "vh$1" master br0 up &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" addr add "10.231.0.$((10 + $1))/24" dev eth0 &&
		ip -n "$ns" link set eth0 up
}
hns() { [ "$NETNS_ON" = 1 ] && echo "gr-t-h$1-$$"; }

need_root_and_bins() {
	if [ "$(id -u)" -ne 0 ]; then skip "needs root"; tap_done; fi
	if [ ! -x "$GUREUMD" ] || [ ! -x "$GUREUM" ]; then
		echo "not ok 1 - gureumd/gureum not built in $GR_BUILD"; exit 1
	fi
	if ! command -v etcd >/dev/null; then skip "needs etcd (Debian etcd-server)"; tap_done; fi
}

# free_ports N: N distinct free loopback TCP ports (held open together)
free_ports() {
	python3 - "$1" <<'PY'
import socket, sys
ss = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ss.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ss))
PY
}

etcd_spawn() { # member index, new|existing
	local i=$1 cluster="" j
	for j in 0 1 2; do cluster+="${cluster:+,}m$j=http://$ETCD_IP:${ETCD_PPORT[$j]}"; done
	local pre; read -ra pre <<<"$(ns_pre "$SW")"
	"${pre[@]}" setpriv --pdeathsig KILL etcd --name "m$i" --data-dir "$TD/etcd/m$i" \
		--listen-client-urls "http://$ETCD_IP:${ETCD_CPORT[$i]}" \
		--advertise-client-urls "http://$ETCD_IP:${ETCD_CPORT[$i]}" \
		--listen-peer-urls "http://$ETCD_IP:${ETCD_PPORT[$i]}" \
		--initial-advertise-peer-urls "http://$ETCD_IP:${ETCD_PPORT[$i]}" \
		--initial-cluster "$cluster" --initial-cluster-state "$2" \
		--initial-cluster-token "gr-test-cluster-$$" --logger=zap --log-level=warn \
		--log-outputs=stderr --heartbeat-interval=250 --election-timeout=2500 \
		>>"$TD/etcd/m$i.log" 2>&1 &
	ETCD_PID[$i]=$!
}

etcd_ready() { # member index: it answers a linearizable read
	in_ns "$SW" env ETCDCTL_API=3 etcdctl --endpoints="$ETCD_IP:${ETCD_CPORT[$1]}" --command-timeout=2s \
		get /gureum/probe >/dev/null 2>&1
}

etcd_start() {
	mkdir -p "$TD/etcd"
	local attempt p i ok
	for attempt in 1 2 3; do
		if [ -n "$SW" ]; then p=(23791 23801 23792 23802 23793 23803) # the namespace is ours
		else read -ra p <<<"$(free_ports 6)"; fi
		for i in 0 1 2; do ETCD_CPORT[$i]=${p[$((2 * i))]}; ETCD_PPORT[$i]=${p[$((2 * i + 1))]}; done
		rm -rf "$TD"/etcd/m?
		for i in 0 1 2; do etcd_spawn "$i" new; done
		ok=0
		for i in 0 1 2; do
			for _ in $(seq 1 900); do # 90 s bound for a loaded machine
				etcd_ready "$i" && { ok=$((ok + 1)); break; }
				kill -0 "${ETCD_PID[$i]}" 2>/dev/null || break
				sleep 0.1
			done
		done
		if [ "$ok" -eq 3 ]; then
			STORE="etcd://$ETCD_IP:${ETCD_CPORT[0]},$ETCD_IP:${ETCD_CPORT[1]},$ETCD_IP:${ETCD_CPORT[2]}"
			return 0
		fi
		diag "etcd attempt $attempt failed:"; tail -n 5 "$TD"/etcd/m?.log | sed 's/^/#   /'
		for i in 0 1 2; do kill -9 "${ETCD_PID[$i]}" 2>/dev/null; wait "${ETCD_PID[$i]}" 2>/dev/null; done
	done
	return 1
}

hsock() { echo "$TD/h$1/run/gureum.sock"; }
# hpeer I: hI's peer channel address (kept across restarts: its host record names it)
hpeer() {
	if [ -z "${HPEER[$1]:-}" ]; then
		if [ "$NETNS_ON" = 1 ]; then HPEER[$1]="10.231.0.$((10 + $1)):9443"
		else HPEER[$1]="127.0.0.1:$(free_ports 1)"; fi
	fi
	echo "${HPEER[$1]}"
}
gh() { local i=$1; shift; GUREUM_SOCKET=$(hsock "$i") "$GUREUM" "$@"; }
hcgp() { echo "gr-test-c-$$-h$1"; }

# host_start I [--standalone] [extra gureumd flags]: start daemon hI (with
# --standalone: without --store, i.e. on its own SQLite store or the pool it
# joined); 0 once it answers
host_start() {
	local i=$1 store=(--store "$STORE") peer=(); shift
	[ "${1:-}" = --standalone ] && { store=(); shift; }
	mkdir -p "$TD/h$i"
	host_ns "$i" || return 1
	[ "${GR_CLUSTER_PEER:-1}" = 1 ] && hpeer "$i" >/dev/null && peer=(--peer-listen "${HPEER[$i]}")
	local pre; read -ra pre <<<"$(ns_pre "$(hns "$i")")"
	"${pre[@]}" setpriv --pdeathsig KILL "$GUREUMD" --state-dir "$TD/h$i/state" --run-dir "$TD/h$i/run" \
		--cgroup-prefix "$(hcgp "$i")" "${store[@]}" --host-name "h$i" --host-ttl "$HOST_TTL" \
		--log "$TD/h$i/daemon.log" --debug "${peer[@]}" "$@" 2>>"$TD/h$i/daemon.err" &
	HPID[$i]=$!
	for _ in $(seq 1 300); do
		gh "$i" list >/dev/null 2>&1 && return 0
		kill -0 "${HPID[$i]}" 2>/dev/null || { wait "${HPID[$i]}" 2>/dev/null; HPID[$i]=""; return 1; }
		sleep 0.1
	done
	return 1
}

host_kill() { # I [signal, default KILL]
	local i=$1
	[ -n "${HPID[$i]:-}" ] || return 0
	kill -"${2:-KILL}" "${HPID[$i]}" 2>/dev/null
	wait "${HPID[$i]}" 2>/dev/null
	HPID[$i]=""
}

# cluster_start [N]: etcd, then N daemons
cluster_start() {
	local n=${1:-3} i
	TD=$(mktemp -d /tmp/gr-test-cluster.XXXXXX)
	chmod 711 "$TD" # unprivileged containers' root must reach their root folder
	trap cluster_cleanup EXIT
	trap 'exit 143' TERM INT
	net_start || { diag "cannot make the test's network namespaces"; return 1; }
	etcd_start || return 1
	for i in $(seq 1 "$n"); do host_start "$i" || { diag "h$i did not start"; tail -n 5 "$TD/h$i/daemon.err" | sed 's/^/#   /'; return 1; }; done
}

# host_json I NAME: `gureum host show NAME --format json` through host I
# field I NAME KEY: one top-level field of it
hfield() {
	gh "$1" host show "$2" --format json 2>/dev/null |
		python3 -c "import sys,json; v=json.load(sys.stdin).get('$3'); print('' if v is None else str(v).lower() if isinstance(v,bool) else v)" 2>/dev/null
}
# leader I: the leader's name as host I sees it ("" when none)
leader() {
	gh "$1" host list --format json 2>/dev/null |
		python3 -c "import sys,json; print(' '.join(h['name'] for h in json.load(sys.stdin) if h['leader']))" 2>/dev/null
}
# wait_for TRIES CMD...: poll every 0.2 s, at most TRIES times (a bound, not a timing assert)
wait_for() {
	local tries=$1; shift
	for _ in $(seq 1 "$tries"); do "$@" && return 0; sleep 0.2; done
	return 1
}

cluster_cleanup() {
	local rc=$? i
	for i in "${!HPID[@]}"; do host_kill "$i" TERM; done
	for i in "${!ETCD_PID[@]}"; do kill -TERM "${ETCD_PID[$i]}" 2>/dev/null; done
	for i in "${!ETCD_PID[@]}"; do
		for _ in $(seq 1 100); do kill -0 "${ETCD_PID[$i]}" 2>/dev/null || break; sleep 0.1; done
		kill -9 "${ETCD_PID[$i]}" 2>/dev/null; wait "${ETCD_PID[$i]}" 2>/dev/null
	done
	for r in $(cg_roots); do
		for f in "$r"/gr-test-c-$$-h*/*/cgroup.procs; do
			[ -f "$f" ] && xargs -r kill -9 <"$f" 2>/dev/null
		done
	done
	[ -n "$TD" ] && grep " $TD/" /proc/self/mounts | awk '{print $2}' | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	for i in "${NETNS[@]}"; do ip netns del "$i" 2>/dev/null; done
	if [ -n "$TD" ]; then
		for d in $(for r in $(cg_roots); do echo "$r"/gr-test-c-$$-h*; done); do
			[ -d "$d" ] || continue
			find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
			rmdir "$d" 2>/dev/null
		done
		if [ "${GR_KEEP_TEST_DIR:-0}" = 1 ]; then echo "# kept $TD"; else rm -rf "$TD"; fi
	fi
	exit $rc
}
