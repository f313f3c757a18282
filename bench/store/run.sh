#!/usr/bin/env bash
# bench/store: store operations on the SQLite back-end (puts with the default
# synchronous=full and with normal, against bare SQLite; gets; ranges; CAS), then
# the etcd column: put/get/txn p50 and p99 through our etcd back-end against
# etcdctl's own put/get/txn on the same private 3-member etcd cluster on
# 127.0.0.1, side by side (bench_etcd.c says how etcdctl's process start is
# accounted for).
# Last line: store_puts_per_s=<n> store_gets_per_s=<m> (puts at the default,
# durable setting) etcd_txn_p50_ms=<x> ratio_vs_etcdctl=<our txn p50 / etcdctl txn p50>.
# Uses GR_BUILD's libraries (builds them if missing).
set -eu
src=${GR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${GR_BUILD:-$src/build}
if [ ! -f "$build/lib/libgr_store.a" ] || [ ! -f "$build/lib/libgr_util.a" ]; then
	make -C "$src" --no-print-directory BUILD="$build" module-store module-util >/dev/null
fi
work=$(mktemp -d /var/tmp/gr-bench-store-XXXXXX)
trap 'rm -rf "$work"' EXIT
cc -std=gnu11 -O2 -D_GNU_SOURCE -I"$src/src" -I"$src/tests/unit/store" -o "$work/bench" \
	"$src/bench/store/bench.c" "$src/bench/store/bench_etcd.c" \
	"$build/lib/libgr_store.a" "$build/lib/libgr_util.a" -lsqlite3 -ljansson -lcurl -lpthread
"$work/bench" "$work"
