#!/bin/sh
# bench/place: placement decisions per second of every scheduler policy on a
# 1,000-host, 10,000-instance snapshot and on a 10,000-host, 100,000-instance
# one with anti-affinity groups and zone/rack/SSD/GPU labels (place + apply +
# remove per decision, the snapshot kept for the whole run as the daemon
# keeps it).  Goal: >= 100,000 for each policy.  Last line:
#   placements_per_s_min=<n> placements_per_s_min_10k=<n>
#   kube_sched_threshold_pods_per_s=1100 ratio_vs_kube_sched_threshold=<x>
# Env: GR_BUILD (build folder, default build), GR_SRC (tree, default .),
#      PLACE_STEPS (decisions per policy, 1k case, default 200000),
#      PLACE_STEPS_10K (decisions per policy, 10k case, default 50000),
#      PLACE_POLICY (run one policy only, e.g. to profile it).
set -eu
SRC=${GR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${GR_BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$SRC/$BUILD ;; esac
make -s -C "$SRC" BUILD="$BUILD" module-sched module-util >&2
OUT=$BUILD/bench/place_bench
mkdir -p "$(dirname "$OUT")"
${CC:-cc} -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -I"$SRC/src" \
	-o "$OUT" "$SRC/bench/place/place_bench.c" "$BUILD/lib/libgr_sched.a" "$BUILD/lib/libgr_util.a" -lm
"$OUT" "${PLACE_STEPS:-200000}" 42 "${PLACE_STEPS_10K:-50000}"
