#!/bin/sh
# mk-busybox-rootfs.sh DIR - a minimal container root file system: the static
# busybox in DIR/bin plus one symlink per applet, and the usual empty folders.
# Idempotent; reused by the runtime's tests, the benchmark, `make run` and the daemon.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
case "${1:-}" in -h|--help) echo "usage: $0 DIR  (needs busybox-static)"; exit 0 ;; esac
dir=$1
bb=/bin/busybox
[ -x "$bb" ] || { echo "$0: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
if ! file -L "$bb" 2>/dev/null | grep -q 'statically linked' && ldd "$bb" >/dev/null 2>&1; then
	echo "$0: $bb is not statically linked (install busybox-static)" >&2; exit 1
fi
mkdir -p "$dir/bin" "$dir/sbin" "$dir/usr/bin" "$dir/usr/sbin" "$dir/proc" "$dir/sys" "$dir/dev" \
	"$dir/etc" "$dir/tmp" "$dir/root" "$dir/var" "$dir/run"
chmod 1777 "$dir/tmp"
cp "$bb" "$dir/bin/busybox.new" && mv -f "$dir/bin/busybox.new" "$dir/bin/busybox"
for a in $("$dir/bin/busybox" --list); do
	[ "$a" = busybox ] && continue
	[ -e "$dir/bin/$a" ] || ln -s busybox "$dir/bin/$a"
done
[ -e "$dir/etc/passwd" ] || printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/etc/passwd"
[ -e "$dir/etc/group" ] || printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
[ -e "$dir/etc/hostname" ] || echo gureum >"$dir/etc/hostname"
