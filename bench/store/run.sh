#!/usr/bin/env bash
# bench/store: store operations per second on the SQLite back-end (puts with the
# default synchronous=full and with normal, against bare SQLite; gets; ranges; CAS).
# Last line: store_puts_per_s=<n> store_gets_per_s=<m> (puts at the default,
# durable setting).  Uses GR_BUILD's libraries (builds them if missing).
set -eu
src=${GR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${GR_BUILD:-$src/build}
if [ ! -f "$build/lib/libgr_store.a" ] || [ ! -f "$build/lib/libgr_util.a" ]; then
	make -C "$src" --no-print-directory BUILD="$build" module-store module-util >/dev/null
fi
work=$(mktemp -d /var/tmp/gr-bench-store-XXXXXX)
trap 'rm -rf "$work"' EXIT
cc -std=gnu11 -O2 -D_GNU_SOURCE -I"$src/src" -o "$work/bench" "$src/bench/store/bench.c" \
	"$build/lib/libgr_store.a" "$build/lib/libgr_util.a" -lsqlite3 -ljansson -lpthread
"$work/bench" "$work"
