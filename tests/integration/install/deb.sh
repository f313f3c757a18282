#!/usr/bin/env bash
# deb.sh - the Debian package, installed and run: `make deb` builds it from build/, then
# in a scratch root (an overlay over this machine's root in a private mount namespace,
# so the host's own dpkg database, users and /etc stay as they are) dpkg installs it,
# the files and the systemd unit are checked (systemd-analyze verify), the postinst's
# gureum-qemu user exists, and gureumd started from /usr/bin tells a NOTIFY_SOCKET
# listener READY=1 (Type=notify) and serves the installed CLI: build an image, launch a
# container, exec in it, complete its name with the installed bash completion.
GR_SRC=${GR_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
. "$GR_SRC/tests/tap.sh"
[ "$(id -u)" -eq 0 ] || { skip "needs root"; tap_done; }
for p in dpkg-buildpackage help2man systemd-analyze python3; do
	command -v "$p" >/dev/null || { echo "not ok 1 - $p missing (scripts/deps.sh installs it)"; exit 1; }
done

if [ "${1-}" != inside ]; then
	TD=$(mktemp -d /tmp/gr-test-install.XXXXXX)
	chmod 711 "$TD" # unprivileged containers reach their root folder through it
	out=$(make -s -C "$GR_SRC" deb 2>&1)
	rc=$?
	ok $rc "make deb builds the package"
	[ $rc -eq 0 ] || { printf '%s\n' "$out" | tail -n 20 | sed 's/^/#   /'; rm -rf "$TD"; tap_done; }
	deb=$(ls "$GR_SRC"/build/deb/gureum_*_amd64.deb 2>/dev/null | head -n 1)
	[ -f "$deb" ]; ok $? "the .deb is in build/deb/ ($(basename "$deb"))"
	cp "$deb" "$TD/gureum.deb"
	host_user=$(getent passwd gureum-qemu >/dev/null && echo yes || echo no)
	# everything else runs in a private mount namespace; its mounts go when it ends
	unshare -m --propagation private bash "$0" inside "$TD" "$TAP_N"
	rc=$?
	TAP_N=$(cat "$TD/tap_n" 2>/dev/null || echo "$TAP_N")
	TAP_FAILED=$((TAP_FAILED + $(cat "$TD/tap_failed" 2>/dev/null || echo 1)))
	# the host is as it was: no package, no new user
	dpkg-query -W gureum >/dev/null 2>&1; [ $? -ne 0 ]; ok $? "the host's dpkg database has no gureum package"
	[ "$(getent passwd gureum-qemu >/dev/null && echo yes || echo no)" = "$host_user" ]
	ok $? "the host's users are unchanged (gureum-qemu: $host_user)"
	for r in $(cg_roots); do
		for d in "$r"/gr-test-install-*; do
			[ -d "$d" ] && find "$d" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null && rmdir "$d" 2>/dev/null
		done
	done
	rm -rf "$TD"
	tap_done
fi

# ---- inside the private mount namespace -----------------------------------------------
TD=$2
TAP_N=$3
M=$TD/root
mkdir -p "$TD/layer"
mount -t tmpfs tmpfs "$TD/layer"
mkdir -p "$TD/layer/upper" "$TD/layer/work" "$M"
mount -t overlay overlay -o "lowerdir=/,upperdir=$TD/layer/upper,workdir=$TD/layer/work" "$M"
for d in proc sys dev; do mount --rbind "/$d" "$M/$d"; mount --make-rslave "$M/$d"; done
# no service is started from a maintainer script in here
printf '#!/bin/sh\nexit 101\n' >"$M/usr/sbin/policy-rc.d"
chmod 755 "$M/usr/sbin/policy-rc.d"
cp "$TD/gureum.deb" "$M/tmp/gureum.deb"
# the scratch root becomes this namespace's root (pivot_root, not chroot: a chrooted
# process may not make the user namespaces containers use); $TD stays reachable
mkdir -p "$M$TD" "$M/.oldroot"
mount --bind "$TD" "$M$TD"
cd "$M" && pivot_root . .oldroot && cd / && umount -l /.oldroot && rmdir /.oldroot
ok $? "the scratch root is this namespace's root"
M=""
CGP="gr-test-install-$$"
DPID=""
finish() {
	if [ -n "$DPID" ]; then
		/usr/bin/gureum --socket /run/gureum-t/gureum.sock delete --force c1 >/dev/null 2>&1
		kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null
	fi
	[ -f "$TD/state/lxcfs.pid" ] && kill "$(cat "$TD/state/lxcfs.pid")" 2>/dev/null
	echo "$TAP_N" >"$TD/tap_n"
	echo "$TAP_FAILED" >"$TD/tap_failed"
}
trap finish EXIT
in_root() { "$@"; }

run_ok "dpkg -i installs the package in the scratch root" in_root dpkg -i /tmp/gureum.deb
files=$(in_root dpkg -L gureum)
for f in /usr/bin/gureum /usr/bin/gureumd /usr/bin/gureum-oci /usr/libexec/gureum/gureum-guest-agent \
	/lib/systemd/system/gureumd.service /usr/lib/sysusers.d/gureum.conf /usr/lib/tmpfiles.d/gureum.conf \
	/usr/share/man/man1/gureum.1.gz /usr/share/man/man8/gureumd.8.gz /usr/share/man/man1/gureum-oci.1.gz \
	/usr/share/bash-completion/completions/gureum /usr/share/doc/gureum/ARCHITECTURE.md.gz \
	/usr/share/gureum/web/index.html; do
	grep -qx "$f" <<<"$files" && [ -e "$M$f" ]; ok $? "installed: $f"
done
in_root getent passwd gureum-qemu >/dev/null; ok $? "the postinst made the gureum-qemu user (sysusers)"
[ -d "$M/var/lib/gureum" ]; ok $? "the postinst made /var/lib/gureum (tmpfiles)"
zcat "$M/usr/share/man/man1/gureum.1.gz" | grep -q '^\.SS launch'; ok $? "gureum(1) describes each command (launch)"
out=$(in_root systemd-analyze verify /lib/systemd/system/gureumd.service 2>&1)
rc=$?
ok $rc "systemd-analyze verify gureumd.service"
[ $rc -eq 0 ] || printf '%s\n' "$out" | sed 's/^/#   /'
grep -q '^Type=notify$' "$M/lib/systemd/system/gureumd.service" && grep -q '^KillMode=process$' "$M/lib/systemd/system/gureumd.service"
ok $? "the unit is Type=notify and stops only the daemon (KillMode=process)"

# gureumd from the installed paths, with a service manager's NOTIFY_SOCKET listening
NS="gr-test-install-notify-$$"
python3 - "$NS" "$TD/notified" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1])
open(sys.argv[2] + ".bound", "w").write("1")
s.settimeout(120)
try:
    msg = s.recv(4096).decode()
except socket.timeout:
    msg = "timeout"
open(sys.argv[2], "w").write(msg)
EOF
LPID=$!
for _ in $(seq 1 100); do [ -f "$TD/notified.bound" ] && break; sleep 0.1; done
NOTIFY_SOCKET="@$NS" /usr/bin/gureumd --state-dir "$TD/state" --run-dir /run/gureum-t \
	--cgroup-prefix "$CGP" --log "$TD/gureumd.log" </dev/null >/dev/null 2>&1 &
DPID=$!
wait "$LPID"
grep -q '^READY=1' "$TD/notified"; ok $? "gureumd sent READY=1 to NOTIFY_SOCKET ($(head -c 40 "$TD/notified" | tr '\n' ' '))"
g() { env GUREUM_SOCKET=/run/gureum-t/gureum.sock /usr/bin/gureum "$@"; }
run_ok "the installed CLI reaches the installed daemon (gureum version)" g version
run_ok "image build busybox" g image build busybox
run_ok "launch a container" g launch busybox c1 --network none
[ "$(g exec c1 -- echo hello 2>&1)" = hello ]; ok $? "exec in it answers"
comp=$(env GUREUM_SOCKET=/run/gureum-t/gureum.sock bash -c \
	'. /usr/share/bash-completion/completions/gureum; COMP_WORDS=(gureum la); COMP_CWORD=1; _gureum; echo "${COMPREPLY[*]}"; COMP_WORDS=(gureum show c); COMP_CWORD=2; _gureum; echo "${COMPREPLY[*]}"; COMP_WORDS=(gureum image b); COMP_CWORD=2; _gureum; echo "${COMPREPLY[*]}"')
[ "$(sed -n 1p <<<"$comp")" = launch ]; ok $? "completion: 'gureum la' -> launch"
[ "$(sed -n 2p <<<"$comp")" = c1 ]; ok $? "completion: 'gureum show c' -> c1 (names from the daemon)"
[ "$(sed -n 3p <<<"$comp")" = build ]; ok $? "completion: 'gureum image b' -> build"
run_ok "delete the container" g delete --force c1
kill "$DPID"; wait "$DPID"; ok $? "gureumd stops cleanly on SIGTERM"
DPID=""
exit 0
