#!/usr/bin/env bash
# bench/launch - `gureum launch` until the container's process runs, median of N (default 50)
# launches through the real daemon (API over the unix socket, store, overlay user layer,
# our runtime), against the same start done by crun directly (`crun run --detach` on a plain
# busybox bundle: no daemon, no layers).  The daemon's debug counter of instance records
# parsed from JSON (/metrics) is read before and after the N launches.  Last line:
#     launch_ms_median=<x> ratio_vs_crun=<gureum median / crun median> records_parsed_per_launch=<n>
#   LAUNCH_FLAGS: extra `gureum launch` flags, e.g. --privileged (containers are unprivileged by
#   default: a user namespace and an idmapped lower layer per instance)
set -u
GR_SRC=${GR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
GR_BUILD=${GR_BUILD:-$GR_SRC/build}
N=${N:-50}
[ "$(id -u)" -eq 0 ] || { echo "bench/launch: needs root" >&2; exit 1; }
command -v crun >/dev/null || { echo "bench/launch: crun missing (apt-get install crun)" >&2; exit 1; }
TD=$(mktemp -d /tmp/gr-bench-launch.XXXXXX)
chmod 711 "$TD" # an unprivileged container's root must reach its root folder
CGP=gr-bench-launch-$$
DPID=""
cleanup() {
	for i in $(seq 1 "$N"); do crun --root "$TD/crun" delete -f "bl-crun-$i" >/dev/null 2>&1; done
	if [ -n "$DPID" ]; then
		for i in $(seq 1 "$N"); do "$GR_BUILD/bin/gureum" delete --force "bl-$i" >/dev/null 2>&1; done
		kill "$DPID"; wait "$DPID" 2>/dev/null
	fi
	grep " $TD/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
	for d in /sys/fs/cgroup/*/"$CGP" /sys/fs/cgroup/*/bl-crun-*; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
	rm -rf "$TD"
	cgv1_restore_report >&2 # after the last line, which is the figure
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
# crun refuses a hybrid layout whose cgroup2 holds a controller (hugetlb on this host's stock
# layout): hugetlb goes to a v1 hierarchy for the whole run, so both contenders run on the
# same layout, and back to cgroup2 at the end (as bench/container-start does)
. "$GR_SRC/tests/integration/runtime/lib/cgroup_v1_move.bash"
cgv1_hugetlb_for_crun || true
now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

export GUREUM_SOCKET=$TD/run/gureum.sock
"$GR_BUILD/bin/gureumd" --state-dir "$TD/state" --run-dir "$TD/run" --cgroup-prefix "$CGP" \
	--log "$TD/daemon.log" &
DPID=$!
for _ in $(seq 1 100); do "$GR_BUILD/bin/gureum" list >/dev/null 2>&1 && break; sleep 0.1; done
"$GR_BUILD/bin/gureum" image build busybox >/dev/null || exit 1
# one warm-up launch (page cache, first cgroup creation)
"$GR_BUILD/bin/gureum" launch busybox bl-warm >/dev/null && "$GR_BUILD/bin/gureum" delete --force bl-warm >/dev/null
parsed() { curl -s --unix-socket "$GUREUM_SOCKET" http://localhost/metrics | awk '/^gureum_instance_records_parsed_total / {print $2}'; }
p0=$(parsed)
: >"$TD/gureum.ms"
for i in $(seq 1 "$N"); do
	t0=$(now_ns)
	"$GR_BUILD/bin/gureum" launch ${LAUNCH_FLAGS:-} busybox "bl-$i" >/dev/null || { echo "launch bl-$i failed" >&2; exit 1; }
	t1=$(now_ns)
	echo "scale=3; ($t1 - $t0) / 1000000" | bc >>"$TD/gureum.ms"
	"$GR_BUILD/bin/gureum" delete --force "bl-$i" >/dev/null
done
p1=$(parsed)

# crun on a plain bundle with the same idle main process
mkdir -p "$TD/bundle" "$TD/crun"
sh "$GR_SRC/scripts/mk-busybox-rootfs.sh" "$TD/bundle/rootfs" >/dev/null
(cd "$TD/bundle" && crun spec >/dev/null)
python3 - "$TD/bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 1000 & wait $!; done"]
c["root"]["readonly"] = False
json.dump(c, open(p, "w"))
PY
: >"$TD/crun.ms"
crun --root "$TD/crun" run --detach --bundle "$TD/bundle" bl-crun-warm </dev/null >/dev/null 2>&1
crun --root "$TD/crun" delete -f bl-crun-warm >/dev/null 2>&1
for i in $(seq 1 "$N"); do
	t0=$(now_ns)
	crun --root "$TD/crun" run --detach --bundle "$TD/bundle" "bl-crun-$i" </dev/null >/dev/null 2>&1 || { echo "crun run failed" >&2; exit 1; }
	t1=$(now_ns)
	echo "scale=3; ($t1 - $t0) / 1000000" | bc >>"$TD/crun.ms"
	crun --root "$TD/crun" delete -f "bl-crun-$i" >/dev/null 2>&1
done
g=$(median <"$TD/gureum.ms"); c=$(median <"$TD/crun.ms")
echo "gureum launch: median ${g} ms over $N (min $(sort -n "$TD/gureum.ms" | head -1), max $(sort -n "$TD/gureum.ms" | tail -1))"
echo "crun run -d:   median ${c} ms over $N (min $(sort -n "$TD/crun.ms" | head -1), max $(sort -n "$TD/crun.ms" | tail -1))"
echo "records parsed: $((p1 - p0)) over $N launches and deletes"
echo "launch_ms_median=$g ratio_vs_crun=$(echo "scale=4; $g / $c" | bc | awk '{printf "%.2f", $1}') records_parsed_per_launch=$(echo "scale=2; ($p1 - $p0) / $N" | bc | awk '{printf "%.2f", $1}')"
