#!/usr/bin/env bash
# vm-boot - time from "launch" to guest userspace ready (the guest's readiness line on
# the serial console), through gureum (`gureum launch IMAGE NAME --vm` on a private
# gureumd) against the very same QEMU command started by hand (argv copied from the
# daemon's QEMU via /proc/<pid>/cmdline, paths moved to a scratch folder, a fresh qcow2
# overlay of the same master), after one warm-up, alternating which goes first, RUNS
# (default 7) each; medians.
# Also prints QEMU's resident memory outside guest RAM per VM (smaps: RSS minus the guest
# RAM mapping; the kernel/initrd file mappings in it are page cache shared between VMs
# of one image).  Last line: ratio_vs_raw_qemu=<median gureum / median raw>.
set -u
GR_SRC=${GR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
GR_BUILD=${GR_BUILD:-$GR_SRC/build}
RUNS=${RUNS:-7}
GUREUMD=$GR_BUILD/bin/gureumd
G=$GR_BUILD/bin/gureum
[ -x "$GUREUMD" ] && [ -x "$G" ] || { echo "vm-boot: build gureumd and gureum first ($GR_BUILD/bin)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "vm-boot: needs root" >&2; exit 1; }

TD=$(mktemp -d /tmp/gr-bench-vm.XXXXXX)
chmod 711 "$TD" # an unprivileged container's root must reach its root folder
CGP=gr-bench-vm-$$
DPID=""
export GUREUM_SOCKET=$TD/run/gureum.sock
cleanup() {
	for n in $(seq 0 "$RUNS"); do "$G" delete --force "gr-bench-vm-$n" >/dev/null 2>&1; done
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	for p in "$TD"/raw*/qemu.pid "$TD"/state/instances/*/qemu.pid; do
		[ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null
	done
	sleep 0.3
	for c in cpu cpuacct memory ""; do
		for d in /sys/fs/cgroup/$c/$CGP/*/ /sys/fs/cgroup/$c/$CGP/; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
	done
	rm -rf "$TD"
}
trap cleanup EXIT

"$GUREUMD" --state-dir "$TD/state" --run-dir "$TD/run" --cgroup-prefix "$CGP" --log "$TD/daemon.log" &
DPID=$!
for _ in $(seq 1 100); do "$G" list >/dev/null 2>&1 && break; sleep 0.1; done
"$G" image build debian-vm >/dev/null || { echo "vm-boot: gureum image build debian-vm failed" >&2; exit 1; }

now_ms() { date +%s%3N; }
wait_ready() { # console log, name
	for _ in $(seq 1 6000); do
		grep -q "gureum-guest: ready hostname=$2" "$1" 2>/dev/null && return 0
		sleep 0.01
	done
	return 1
}

# QEMU RSS outside the guest RAM mapping (kB), guest RAM size in MiB
overhead_kb() { # pid mem_mb
	python3 - "$1" "$2" <<'EOF'
import sys
pid, mem_kb = sys.argv[1], int(sys.argv[2]) * 1024
rss = ram = img = 0
size = 0
path = ""
for line in open(f"/proc/{pid}/smaps"):
    f = line.split()
    if "-" in f[0] and len(f) >= 5 and not f[0].endswith(":"):
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        size = (hi - lo) // 1024
        path = f[5] if len(f) > 5 else ""
    elif f[0] == "Rss:":
        rss += int(f[1])
        if mem_kb <= size <= mem_kb + 8192 and not path:
            ram = max(ram, int(f[1]))
        if "/images/" in path:
            img += int(f[1])
print(rss - ram, img)
EOF
}

gureum_ms=() raw_ms=() over_kb=() raw_over_kb=()
master=$TD/state/images/debian-vm/disk.qcow2
img_kb=0

run_gureum() { # name
	local n=$1 t0 t1 pid o
	t0=$(now_ms)
	"$G" launch debian-vm "$n" --vm --memory 256M >/dev/null || { echo "vm-boot: launch failed" >&2; exit 1; }
	wait_ready "$TD/state/instances/$n/console.log" "$n" || { echo "vm-boot: $n never ready" >&2; exit 1; }
	t1=$(now_ms)
	gureum_ms+=($((t1 - t0)))
	pid=$(cat "$TD/state/instances/$n/qemu.pid")
	read -r o img_kb < <(overhead_kb "$pid" 256)
	over_kb+=("$o")
	"$G" delete --force "$n" >/dev/null # nothing of ours runs while the other side boots
}

run_raw() { # folder
	local raw=$1 t0 t1 rpid o argv
	rm -rf "$raw"
	mkdir -p "$raw"
	qemu-img create -q -f qcow2 -F qcow2 -b "$master" "$raw/user.qcow2"
	cp "$TD/template/seed.img" "$raw/seed.img"
	mapfile -t argv < <(sed "s|@RAW@|$raw|g" "$TD/template/argv")
	t0=$(now_ms)
	"${argv[@]}" || { echo "vm-boot: raw QEMU failed" >&2; exit 1; }
	wait_ready "$raw/console.log" gr-bench-vm-0 || { echo "vm-boot: raw QEMU never ready" >&2; exit 1; }
	t1=$(now_ms)
	raw_ms+=($((t1 - t0)))
	rpid=$(cat "$raw/qemu.pid")
	read -r o _ < <(overhead_kb "$rpid" 256)
	raw_over_kb+=("$o")
	kill -9 "$rpid"
	# like `gureum delete`, wait until it is really gone before the next boot
	while [ -e "/proc/$rpid" ] && ! awk '{exit !($3 == "Z")}' "/proc/$rpid/stat" 2>/dev/null; do sleep 0.01; done
}

# warm-up (not counted): caches, the daemon's first host probe, and the argv template
n=gr-bench-vm-0
"$G" launch debian-vm "$n" --vm --memory 256M >/dev/null || { echo "vm-boot: launch failed" >&2; exit 1; }
wait_ready "$TD/state/instances/$n/console.log" "$n" || { echo "vm-boot: $n never ready" >&2; exit 1; }
mkdir -p "$TD/template"
cp "$TD/state/instances/$n/seed.img" "$TD/template/seed.img"
python3 -c '
import sys
pid, inst, sock, layer = sys.argv[1:5]
for a in open("/proc/%s/cmdline" % pid, "rb").read().split(b"\0")[:-1]:
    s = a.decode()
    for old in (inst, sock, layer):
        s = s.replace(old, "@RAW@")
    print(s)
' "$(cat "$TD/state/instances/$n/qemu.pid")" "$TD/state/instances/$n" "$TD/run/vm/$n" "$TD/state/layers/$n" \
	>"$TD/template/argv"
"$G" delete --force "$n" >/dev/null

# alternate which goes first, so neither always gets the warmer machine
for i in $(seq 1 "$RUNS"); do
	if [ $((i % 2)) -eq 1 ]; then
		run_gureum "gr-bench-vm-$i"
		run_raw "$TD/raw$i"
	else
		run_raw "$TD/raw$i"
		run_gureum "gr-bench-vm-$i"
	fi
	echo "run $i: gureum ${gureum_ms[-1]} ms, raw qemu ${raw_ms[-1]} ms; QEMU outside guest RAM ${over_kb[-1]} kB (raw ${raw_over_kb[-1]} kB)"
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mg=$(median "${gureum_ms[@]}")
mr=$(median "${raw_ms[@]}")
mo=$(median "${over_kb[@]}")
echo "accel: $(grep -qx kvm "$TD/template/argv" && echo kvm || echo tcg)"
echo "median launch->ready: gureum ${mg} ms, raw qemu ${mr} ms (${RUNS} runs each, alternating)"
echo "median QEMU resident memory outside guest RAM per VM: ${mo} kB (of which ${img_kb} kB are the image's kernel/initrd file pages, shared by VMs of one image)"
awk -v a="$mg" -v b="$mr" 'BEGIN {printf "ratio_vs_raw_qemu=%.3f\n", a / b}'
