#!/usr/bin/env bash
# bench/container-start: create+start+wait+delete of /bin/true in a busybox
# rootfs, gureum-oci vs crun vs runc vs `unshare -pfmuin true`, alternating
# runs in one driver process (driver.c).  Last line: ratio_vs_crun_median=<x>.
#
# crun refuses this machine's hybrid layout while cgroup2 holds a controller
# (hugetlb).  hugetlb can be moved to a v1 hierarchy when no v2 cgroup has it
# enabled (gureum only enables the v2 controllers its containers use), so we
# mount it at /sys/fs/cgroup/hugetlb for the run and put it back on cgroup2 at
# the end, also on failure (tests/integration/runtime/lib/cgroup_v1_move.bash:
# the kernel returns it once the hierarchy holds no cgroup and is unmounted; if
# cgroups others made meanwhile remain in it, it stays mounted and we say so).
# If the mount fails, crun is reported as not runnable and the ratio is
# against runc.
# Env: ROUNDS (default 50), GR_BUILD (default build), GR_SRC.
# See below for the cgroup2 favordynmods host tuning it measures with and without.
set -u
src=${GR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${GR_BUILD:-$src/build}
rounds=${ROUNDS:-50}
. "$src/tests/integration/runtime/lib/cgroup_v1_move.bash"
work=$(mktemp -d /tmp/gr-bench-cs.XXXXXX)
cleanup() {
	for r in /run/gr-bench-cs /run/gr-bench-cs-crun /run/gr-bench-cs-runc; do
		for id in $(ls "$r" 2>/dev/null); do
			case $r in
			*crun) crun --root "$r" delete -f "$id" >/dev/null 2>&1 ;;
			*runc) runc --root "$r" delete -f "$id" >/dev/null 2>&1 ;;
			*) "$build/bin/gureum-oci" --root "$r" delete -f "$id" >/dev/null 2>&1 ;;
			esac
		done
	done
	rm -rf "$work"
	cgv1_restore_report >&2 # after the last line, which is the figure
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

[ -x "$build/bin/gureum-oci" ] || { echo "no $build/bin/gureum-oci (make first)"; echo "ratio_vs_crun_median=nan"; exit 1; }
"$src/scripts/mk-busybox-rootfs.sh" "$work/bundle/rootfs" >/dev/null
"$build/bin/gureum-oci" spec -b "$work/bundle"
jq '.process.terminal = false | .process.args = ["/bin/true"]' "$work/bundle/config.json" >"$work/c.json" &&
	mv "$work/c.json" "$work/bundle/config.json"
cc -std=gnu11 -O2 -D_GNU_SOURCE -I"$src/src" -o "$work/driver" "$src/bench/container-start/driver.c" \
	"$build/lib/libgr_runtime.a" "$build/lib/libgr_util.a" -ljansson -lseccomp -lcap || {
	echo "driver does not build"; echo "ratio_vs_crun_median=nan"; exit 1; }

contenders="unshare"
command -v runc >/dev/null && contenders="runc $contenders"
if command -v crun >/dev/null; then
	cgv1_hugetlb_for_crun || true
	contenders="crun $contenders"
fi
echo "# $rounds rounds; kernel $(uname -r); $(nproc) cpus; cgroup2 controllers: '$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)'"
# gureumd remounts cgroup2 with favordynmods at start (src/runtime/host_tune.c): without it
# the first cgroup.procs write after a quiet spell waits for an RCU grace period, for every
# runtime.  The host is measured as found first (when it lacks the option), then with the
# option, both runtimes alike; the kernel keeps the option until reboot.
cg2=$(awk '$0 ~ / - cgroup2 / {print $5; exit}' /proc/self/mountinfo)
if [ -n "$cg2" ] && ! grep -q ' - cgroup2 .*favordynmods' /proc/self/mountinfo; then
	echo "# host as found (cgroup2 at $cg2 without favordynmods):"
	"$work/driver" "$work/bundle" "$(( (rounds + 1) / 2 ))" "$build/bin/gureum-oci" $contenders | sed 's/^/#   as found: /'
	if mount -o remount,favordynmods "$cg2"; then
		echo "# remounted $cg2 with favordynmods, as gureumd does at start"
	else
		echo "# this kernel refuses favordynmods; the host stays as found"
	fi
elif [ -n "$cg2" ]; then
	echo "# cgroup2 at $cg2 already has favordynmods (gureumd's host tuning)"
fi
"$work/driver" "$work/bundle" "$rounds" "$build/bin/gureum-oci" $contenders
