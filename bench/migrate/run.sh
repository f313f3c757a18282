#!/usr/bin/env bash
# migrate - an idle TCG VM (MEM, default 512M) moved between two hosts (daemons in their
# own network namespaces on a private etcd, tests/cluster/lib.sh) by `gureum move`, against
# a hand-written raw QEMU live migration of the very same QEMU command over the same link:
# the VM's argv copied from /proc/<pid>/cmdline, paths moved to a scratch folder (a fresh
# qcow2 overlay of the same master), a second QEMU with the same argv plus
# `-incoming tcp:` in the other namespace, QMP `migrate`, `cont` on the destination.  The
# raw pair shares the disk file (same machine), so it copies RAM only; `gureum move` also
# defines the target, mirrors the instance's own layer and switches the record.
# Total = from the call to the guest running on the destination (gureum: the CLI's wall
# time, which waits for the operation; raw: starting the destination QEMU to `cont`
# answered); downtime = QMP query-migrate "downtime" on the source.  RUNS (default 5) each,
# alternating which side goes first, medians.  Last line:
# The raw VM's balloon is set to MEM after its boot, as gureumd does for its VMs.
#   downtime_ms_median=X total_s_median=Y ratio_vs_raw_qemu=Z   (gureum's, and the ratio
#   of gureum's total median to raw's).
set -u
RUNS=${RUNS:-5}
MEM=${MEM:-512M}
. "$(dirname "$0")/../../tests/cluster/lib.sh" >/dev/null
[ "$(id -u)" -eq 0 ] || { echo "migrate: needs root" >&2; exit 1; }
[ -x "$GUREUMD" ] && [ -x "$GUREUM" ] || { echo "migrate: build first ($GR_BUILD/bin)" >&2; exit 1; }
command -v etcd >/dev/null || { echo "migrate: needs etcd" >&2; exit 1; }
RAWPIDS=()
bench_cleanup() {
	for p in "${RAWPIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
	cluster_cleanup
}
cluster_start 2 >/dev/null || { echo "migrate: the pool did not start" >&2; exit 1; }
trap bench_cleanup EXIT
[ "$NETNS_ON" = 1 ] || { echo "migrate: needs network namespaces" >&2; exit 1; }

qmp() { # SOCK CMD [ARGS-JSON]: run one QMP command, print its "return" as JSON
	python3 - "$@" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
f.readline()
def run(cmd, args=None):
    m = {"execute": cmd}
    if args: m["arguments"] = args
    f.write(json.dumps(m) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r: return r["return"]
        if "error" in r: sys.exit("QMP %s: %s" % (cmd, r["error"]["desc"]))
run("qmp_capabilities")
print(json.dumps(run(sys.argv[2], json.loads(sys.argv[3]) if len(sys.argv) > 3 else None)))
PY
}
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
field() { python3 -c "import sys,json; print(json.load(sys.stdin)$1)"; }

gh 1 image build debian-vm >/dev/null || exit 1
gh 1 launch debian-vm mv1 --vm --memory "$MEM" --network none --target h1 >/dev/null || exit 1
gh 1 exec mv1 -- true || exit 1

gureum_round() {
	local from to t0 t1 op
	from=$(gh 1 show mv1 --format json | field "['host']")
	to=$((3 - ${from#h}))
	t0=$(now)
	op=$(gh 1 move mv1 --target "h$to" --json) || { echo "gureum move failed" >&2; return 1; }
	t1=$(now)
	echo "$t0 $t1 $(echo "$op" | field "['result']['downtime_ms']")"
}

# the raw pair: the VM's own argv, moved to $TD/raw
pid=$(gh 1 show mv1 --format json | field "['pid']")
tr '\0' '\n' <"/proc/$pid/cmdline" >"$TD/argv.src"
master=$(gh 1 image show debian-vm --format json | field "['path']")
raw_round() {
	local R=$TD/raw A B t0 t1 dt
	rm -rf "$R"; mkdir -p "$R/a" "$R/b"
	qemu-img create -q -f qcow2 -b "$master" -F qcow2 "$R/disk.qcow2" || return 1
	python3 - "$TD" "$R" "$TD/argv.src" >"$R/argv.a" <<'PY'
import sys, re, json
td, r = sys.argv[1], sys.argv[2]
out = []
for a in open(sys.argv[3]).read().split("\n"):
    if not a: continue
    if a.startswith("{") and '"node-name":"root"' in a.replace(" ", ""):
        j = json.loads(a); j["file"]["filename"] = r + "/disk.qcow2"; a = json.dumps(j)
    a = re.sub(re.escape(td) + r"/h[0-9]/(run/vm|state/instances)/mv1", r + "/a", a)
    out.append(a)
print("\n".join(out))
PY
	sed "s|$R/a|$R/b|g" "$R/argv.a" >"$R/argv.b"
	cp "$TD"/h*/state/instances/mv1/seed.img "$R/a/" 2>/dev/null
	cp "$R/a/seed.img" "$R/b/" 2>/dev/null
	mapfile -t A <"$R/argv.a"; mapfile -t B <"$R/argv.b"
	in_ns "$(hns 1)" "${A[@]}" || return 1
	RAWPIDS+=("$(cat "$R/a/qemu.pid")")
	for _ in $(seq 1 600); do grep -q "gureum-guest: ready" "$R/a/console.log" 2>/dev/null && break; sleep 0.1; done
	# as the daemon does after a start: the balloon holds the guest to its size
	local want; want=$(numfmt --from=iec "$MEM")
	qmp "$R/a/qmp.sock" balloon "{\"value\": $want}" >/dev/null || return 1
	for _ in $(seq 1 600); do # until the guest handed the pages over
		[ "$(qmp "$R/a/qmp.sock" query-balloon | field "['actual']")" -le "$want" ] && break
		sleep 0.1
	done
	sleep 1
	t0=$(now)
	in_ns "$(hns 2)" "${B[@]}" -incoming tcp:10.231.0.12:4444 || return 1
	RAWPIDS+=("$(cat "$R/b/qemu.pid")")
	qmp "$R/a/qmp.sock" migrate '{"uri":"tcp:10.231.0.12:4444"}' >/dev/null || return 1
	while :; do
		st=$(qmp "$R/a/qmp.sock" query-migrate)
		case $(echo "$st" | field "['status']") in
		completed) break ;;
		failed|cancelled) echo "raw migration failed: $st" >&2; return 1 ;;
		esac
		sleep 0.05
	done
	qmp "$R/b/qmp.sock" cont >/dev/null || return 1
	t1=$(now)
	dt=$(echo "$st" | field "['downtime']")
	kill -9 "$(cat "$R/a/qemu.pid")" "$(cat "$R/b/qemu.pid")" 2>/dev/null
	sleep 0.5
	echo "$t0 $t1 $dt"
}

gureum_round >/dev/null || exit 1 # warm-up (the target fetches the master once)
: >"$TD/g"; : >"$TD/r"
for i in $(seq 1 "$RUNS"); do
	if [ $((i % 2)) = 1 ]; then g=$(gureum_round) && r=$(raw_round) || exit 1
	else r=$(raw_round) && g=$(gureum_round) || exit 1; fi
	read -r g0 g1 gd <<<"$g"; read -r r0 r1 rd <<<"$r"
	gt=$(echo "$g1 - $g0" | bc -l); rt=$(echo "$r1 - $r0" | bc -l)
	printf 'round %d: gureum move %.2f s (downtime %s ms)   raw QEMU %.2f s (downtime %s ms)\n' "$i" "$gt" "$gd" "$rt" "$rd"
	echo "$gt $gd" >>"$TD/g"; echo "$rt $rd" >>"$TD/r"
done
gtm=$(awk '{print $1}' "$TD/g" | median); gdm=$(awk '{print $2}' "$TD/g" | median)
rtm=$(awk '{print $1}' "$TD/r" | median); rdm=$(awk '{print $2}' "$TD/r" | median)
printf 'medians over %d rounds, %s idle TCG VM: gureum move %.2f s (downtime %s ms), raw QEMU %.2f s (downtime %s ms)\n' \
	"$RUNS" "$MEM" "$gtm" "$gdm" "$rtm" "$rdm"
printf 'downtime_ms_median=%s total_s_median=%.2f ratio_vs_raw_qemu=%.2f\n' "$gdm" "$gtm" "$(echo "$gtm / $rtm" | bc -l)"
