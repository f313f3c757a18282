#!/usr/bin/env bash
# library.sh - the runtime used in-process like gureumd does (lib/rt-lib-check.c).
. "$GR_SRC/tests/integration/runtime/lib/common.bash"
B=$WORK/b
mk_bundle "$B" '.process.args = ["sh", "-c", "echo init-out; exec sleep 1000"] | .linux.resources.pids = {"limit": 50}'
[ -f "$GR_BUILD/lib/libgr_runtime.a" ] || { ok 1 "$GR_BUILD/lib/libgr_runtime.a missing"; tap_done; }
san=""
strings "$GR_BUILD/lib/libgr_runtime.a" 2>/dev/null | grep -q __asan_init && san="-fsanitize=address,undefined"
cc -std=gnu11 -O1 -D_GNU_SOURCE $san -I"$GR_SRC/src" -I"$GR_SRC/tests" -o "$WORK/rt-lib-check" \
	"$GR_SRC/tests/integration/runtime/lib/rt-lib-check.c" "$GR_BUILD/lib/libgr_runtime.a" \
	"$GR_BUILD/lib/libgr_util.a" -ljansson -lseccomp -lcap || { ok 1 "rt-lib-check builds"; tap_done; }
"$WORK/rt-lib-check" "$STATE" "$B" "$WORK"
