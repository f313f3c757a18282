# lib.sh - shared by the daemon integration tests (sourced, not run).
#
# start_daemon NAME [gureumd flags...] starts a private gureumd: its own state
# folder, run folder (socket, runtime root) and cgroup prefix "gr-test-d-NAME-$$",
# and sets $G (the gureum CLI bound to that daemon via GUREUM_SOCKET).  The
# EXIT trap deletes every instance, stops the daemon, unmounts what is left
# under the test folder, removes the cgroups and the folder.
GR_SRC=${GR_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
GR_BUILD=${GR_BUILD:-$GR_SRC/build}
. "$GR_SRC/tests/tap.sh"
GUREUMD=$GR_BUILD/bin/gureumd
GUREUM=$GR_BUILD/bin/gureum
TD=""
DPID=""
CGP=""

need_root_and_bins() {
	if [ "$(id -u)" -ne 0 ]; then skip "needs root"; tap_done; fi
	if [ ! -x "$GUREUMD" ] || [ ! -x "$GUREUM" ]; then
		echo "not ok 1 - gureumd/gureum not built in $GR_BUILD"; exit 1
	fi
}

daemon_up() { # waits for the socket to answer
	for _ in $(seq 1 100); do
		"$GUREUM" list >/dev/null 2>&1 && return 0
		kill -0 "$DPID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

start_daemon() { # name, extra flags
	local name=$1; shift
	if [ -z "$TD" ]; then
		TD=$(mktemp -d "/tmp/gr-test-d-$name.XXXXXX")
		chmod 711 "$TD" # unprivileged containers' root must reach their root folder
		CGP="gr-test-d-$name-$$"
		trap cleanup EXIT
		trap 'exit 143' TERM INT
	fi
	export GUREUM_SOCKET=$TD/run/gureum.sock
	"$GUREUMD" --state-dir "$TD/state" --run-dir "$TD/run" --cgroup-prefix "$CGP" \
		--log "$TD/daemon.log" --debug "$@" 2>>"$TD/daemon.err" &
	DPID=$!
	G="$GUREUM"
	daemon_up
}

stop_daemon() { # SIGTERM (default) or the signal given
	[ -n "$DPID" ] || return 0
	kill -"${1:-TERM}" "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=""
}

ensure_busybox() {
	"$G" image show busybox >/dev/null 2>&1 || "$G" image build busybox >/dev/null
}

# field NAME KEY: one field of `gureum show NAME --format json`
field() {
	"$G" show "$1" --format json 2>/dev/null | python3 -c "import sys,json; v=json.load(sys.stdin).get('$2'); print('' if v is None else v)"
}

wait_state() { # name state [tries of 0.1 s]
	for _ in $(seq 1 "${3:-100}"); do
		[ "$(field "$1" state)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

cleanup() {
	local rc=$? r d f
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		for n in $("$G" list --format json 2>/dev/null | python3 -c "import sys,json; [print(i['name']) for i in json.load(sys.stdin)]" 2>/dev/null); do
			"$G" delete --force "$n" >/dev/null 2>&1
		done
		stop_daemon
	fi
	if [ -n "$TD" ]; then
		# containers left behind (a failing test): kill them via their cgroups
		for r in $(cg_roots); do
			for f in "$r/$CGP"/*/cgroup.procs; do
				[ -f "$f" ] && xargs -r kill -9 <"$f" 2>/dev/null
			done
		done
		sleep 0.2
		# the daemon's lxcfs outlives a killed daemon (running containers read through it)
		[ -f "$TD/state/lxcfs.pid" ] && kill "$(cat "$TD/state/lxcfs.pid")" 2>/dev/null
		grep " $TD/" /proc/self/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
		for r in $(cg_roots); do
			d=$r/$CGP
			[ -d "$d" ] || continue
			find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
			rmdir "$d" 2>/dev/null
		done
		if [ "${GR_KEEP_TEST_DIR:-0}" = 1 ]; then echo "# kept $TD"; else rm -rf "$TD"; fi
	fi
	exit $rc
}

# leftovers: prints mounts under TD and cgroups under the prefix (empty = clean); the
# daemon's own lxcfs mount is not an instance's leftover (lxcfs.sh checks it)
leftovers() {
	grep " $TD/" /proc/self/mounts | grep -v " $TD/state/lxcfs fuse.lxcfs " | awk '{print "mount " $2}'
	local r d
	for r in $(cg_roots); do
		for d in "$r/$CGP"/*; do
			[ -d "$d" ] && echo "cgroup $d"
		done
	done
}

# api METHOD PATH [BODY]: prints "STATUS BODY" using curl on the unix socket
api() {
	local m=$1 p=$2 b=${3-}
	if [ -n "$b" ]; then
		curl -s --unix-socket "$GUREUM_SOCKET" -X "$m" -H 'Content-Type: application/json' \
			--data-binary "$b" -w '\n%{http_code}' "http://localhost$p"
	else
		curl -s --unix-socket "$GUREUM_SOCKET" -X "$m" -w '\n%{http_code}' "http://localhost$p"
	fi
}

# dead PID: the process is gone (or a zombie nobody reaped yet: after a
# daemon restart its parent is pid 1, which may not reap in a sandbox)
# proc_start PID: the process's start time (field 22 of /proc/PID/stat)
proc_start() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	set -- ${st##*) }
	echo "${20:-0}"
}

dead() {
	[ ! -e "/proc/$1/stat" ] && return 0
	[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

# ---- for the crash tests: the daemon's logged steps ----
json_list() { "$G" list --format json 2>/dev/null; }

# steps: state changes and operations the daemon logged so far
steps() { local n; n=$(grep -c -e ' -> ' -e ' operation ' "$TD/daemon.log" 2>/dev/null); echo "${n:-0}"; }

# wait_steps N: until the daemon logged N steps (bounded: a daemon that makes
# no progress for 120 s fails the round rather than hanging the test)
wait_steps() {
	local i
	for i in $(seq 1 12000); do
		[ "$(steps)" -ge "$1" ] && return 0
		sleep 0.01
	done
	return 1
}
