#!/usr/bin/env bash
# bench.sh - runs bench/<name>/run.sh for every benchmark (or BENCH=name only).
# Each benchmark prints its figure as its last line; this collects them in bench/out/summary.txt.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mkdir -p bench/out
: >bench/out/summary.txt
export GR_SRC=$top GR_BUILD=$top/build
for b in bench/*/run.sh; do
	name=$(basename "$(dirname "$b")")
	[ -n "${BENCH:-}" ] && [ "$BENCH" != "$name" ] && continue
	echo "== bench/$name"
	bash "$b" 2>&1 | tee "bench/out/$name.txt"
	echo "$name: $(tail -n 1 "bench/out/$name.txt")" >>bench/out/summary.txt
done
echo "== summary"
cat bench/out/summary.txt
