#!/usr/bin/env bash
# bench/image-clone - thin clone (user layer) of a master vs the full copy a user would make
# instead (cp -a of the rootfs).  Master: the busybox tree plus a 256 MiB file.  Prints the
# time per clone, the disk per clone, and last the speed-up of a clone over a full copy.
set -eu
GR_SRC=${GR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
GR_BUILD=${GR_BUILD:-$GR_SRC/build}
N=${N:-50}
work=$(mktemp -d /var/tmp/gr-bench-image-XXXXXX)
cleanup() { chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cc -std=gnu11 -O2 -D_GNU_SOURCE -I"$GR_SRC/src" -o "$work/driver" "$GR_SRC/bench/image-clone/driver.c" \
	"$GR_BUILD/lib/libgr_image.a" "$GR_BUILD/lib/libgr_util.a" -larchive -lcrypto -ljansson
mkdir -p "$work/src/bin" "$work/src/data"
cp /bin/busybox "$work/src/bin/"
for a in $(/bin/busybox --list); do ln -sf busybox "$work/src/bin/$a"; done
head -c $((256 << 20)) /dev/urandom > "$work/src/data/blob"
out=$("$work/driver" "$work/images" "$work/layers" "$work/src" "$N")
echo "$out"
clone_ms=$(echo "$out" | awk '/^clone_ms/ {print $2}')
sync
start=$(date +%s.%N)
cp -a --reflink=never "$work/images/bench-master/rootfs" "$work/copy"
sync
end=$(date +%s.%N)
copy_ms=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", (b - a) * 1000}')
printf 'full_copy_ms %.1f\n' "$copy_ms"
echo "clone_disk_bytes vs copy: $(echo "$out" | awk '/^clone_disk_bytes/ {print $2}') vs $(du -sb "$work/copy" | cut -f1)"
printf 'thin clone is %.0fx faster than a full copy (%.2f ms vs %.0f ms, %d clones, 256 MiB master)\n' \
	"$(awk -v c="$copy_ms" -v t="$clone_ms" 'BEGIN {print c / t}')" "$clone_ms" "$copy_ms" "$N"
