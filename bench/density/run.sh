#!/usr/bin/env bash
# bench/density - density of thin clones through the daemon:
#   * launch 200 containers from one master (busybox), total wall time;
#   * disk used per clone: its layers plus its instance folder (du -x, median over the 200);
#   * clone (define = user layer) time for a 100 MB master vs a 2 GB master, median of 5 each
#     (goal: equal within noise, the clone is O(1) in the master's size), and where a clone's
#     time goes: the CLI's own start and round trip (`gureum version` against the daemon),
#     the daemon's work from the request to the recorded `defined` (its log's timestamps:
#     accepted -> defining record written -> layer and folder made, record `defined`).
# Last line: clone_kib_median=<k> clone_ms_100m=<a> clone_ms_2g=<b> launch_200_s=<t>
set -u
GR_SRC=${GR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
GR_BUILD=${GR_BUILD:-$GR_SRC/build}
COUNT=${COUNT:-200}
[ "$(id -u)" -eq 0 ] || { echo "bench/density: needs root" >&2; exit 1; }
TD=$(mktemp -d /tmp/gr-bench-density.XXXXXX)
chmod 711 "$TD" # an unprivileged container's root must reach its root folder
CGP=gr-bench-density-$$
DPID=""
G=$GR_BUILD/bin/gureum
cleanup() {
	if [ -n "$DPID" ]; then
		for n in $("$G" list --format json 2>/dev/null | python3 -c 'import sys,json; [print(i["name"]) for i in json.load(sys.stdin)]'); do
			"$G" delete --force "$n" >/dev/null 2>&1
		done
		kill "$DPID"; wait "$DPID" 2>/dev/null
	fi
	grep " $TD/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
	for d in /sys/fs/cgroup/*/"$CGP"; do [ -d "$d" ] && rmdir "$d"/* "$d" 2>/dev/null; done
	rm -rf "$TD"
}
trap cleanup EXIT
now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.3f\n", (a[NR/2]+a[NR/2+1])/2}'; }

export GUREUM_SOCKET=$TD/run/gureum.sock
"$GR_BUILD/bin/gureumd" --state-dir "$TD/state" --run-dir "$TD/run" --cgroup-prefix "$CGP" \
	--log "$TD/daemon.log" --debug &
DPID=$!
for _ in $(seq 1 100); do "$G" list >/dev/null 2>&1 && break; sleep 0.1; done
"$G" image build busybox >/dev/null || exit 1

# masters of 100 MB and 2 GB: busybox plus one big file
for m in 100m:100 2g:2048; do
	name=${m%%:*}; mb=${m##*:}
	sh "$GR_SRC/scripts/mk-busybox-rootfs.sh" "$TD/src-$name" >/dev/null
	dd if=/dev/urandom of="$TD/src-$name/blob" bs=1M count="$mb" status=none
	"$G" image import "$TD/src-$name" "big-$name" >/dev/null 2>&1 || { echo "import big-$name failed" >&2; exit 1; }
	rm -rf "$TD/src-$name"
done
for name in 100m 2g; do
	: >"$TD/clone-$name.ms"
	for i in 1 2 3 4 5; do
		t0=$(now_ns)
		"$G" create "big-$name" "bd-$name-$i" >/dev/null || exit 1
		t1=$(now_ns)
		echo "scale=3; ($t1 - $t0) / 1000000" | bc >>"$TD/clone-$name.ms"
	done
	for i in 1 2 3 4 5; do "$G" delete "bd-$name-$i" >/dev/null; done
done
c100=$(median <"$TD/clone-100m.ms"); c2g=$(median <"$TD/clone-2g.ms")
echo "clone (define) of a 100 MB master: median $c100 ms; of a 2 GB master: median $c2g ms"
# the breakdown: the CLI alone, and the daemon's steps from its log
: >"$TD/cli.ms"
for i in 1 2 3 4 5; do
	t0=$(now_ns); "$G" version >/dev/null; t1=$(now_ns)
	echo "scale=3; ($t1 - $t0) / 1000000" | bc >>"$TD/cli.ms"
done
python3 - "$TD/daemon.log" >"$TD/phases" <<'PY'
import re, sys, datetime
def t(line):
    return datetime.datetime.strptime(line[:26], "%Y-%m-%dT%H:%M:%S.%f").timestamp() * 1000
op, dfn, rec, done = {}, {}, [], []
for line in open(sys.argv[1]):
    m = re.search(r"operation \S+: create (bd-\S+)", line)
    if m: op[m.group(1)] = t(line)
    m = re.search(r"state (bd-\S+) -> defining", line)
    if m and m.group(1) in op: dfn[m.group(1)] = t(line)
    m = re.search(r"state (bd-\S+) -> defined", line)
    if m and m.group(1) in dfn:
        n = m.group(1); rec.append(dfn[n] - op[n]); done.append(t(line) - dfn[n])
med = lambda v: sorted(v)[len(v) // 2] if v else 0
print("%.3f %.3f" % (med(rec), med(done)))
PY
read -r d_rec d_layer <"$TD/phases"
cli=$(median <"$TD/cli.ms")
echo "clone breakdown (medians): CLI start + round trip ${cli} ms; in the daemon: request -> defining record ${d_rec} ms, user layer + folder + defined record ${d_layer} ms"

t0=$(now_ns)
for i in $(seq 1 "$COUNT"); do
	"$G" launch busybox "bd-$i" >/dev/null || { echo "launch bd-$i failed" >&2; exit 1; }
done
t1=$(now_ns)
secs=$(echo "scale=2; ($t1 - $t0) / 1000000000" | bc)
running=$("$G" list --format json | python3 -c 'import sys,json; print(sum(1 for i in json.load(sys.stdin) if i["state"]=="running"))')
echo "launched $COUNT containers in $secs s; $running running"
: >"$TD/kib"
for i in $(seq 1 "$COUNT"); do
	du -skx "$TD/state/layers/bd-$i" "$TD/state/instances/bd-$i" | awk '{s+=$1} END {print s}' >>"$TD/kib"
done
k=$(median <"$TD/kib")
echo "disk per clone (layers + instance folder, du -x): median $k KiB, max $(sort -n "$TD/kib" | tail -1) KiB"
echo "clone_kib_median=$k clone_ms_100m=$c100 clone_ms_2g=$c2g clone_daemon_ms=$(echo "$d_rec + $d_layer" | bc) cli_roundtrip_ms=$cli launch_${COUNT}_s=$secs"
