# cgroup_v1_move.bash - mount a cgroup controller as a new v1 hierarchy and put the host back
# as it was (sourced by tests and benchmarks that change the host's cgroup layout).
#
#   cgv1_free CTRL...       print the first CTRL no v1 hierarchy carries (/proc/cgroups column 2
#                           is 0) and the kernel has enabled; status 1 when none is free
#   cgv1_mount CTRL DIR     mount CTRL (or CTRL,CTRL...) as one v1 hierarchy at DIR (made when missing); retried a few
#                           times (a cgroup2 group that just released CTRL may hold it a moment);
#                           remembered for cgv1_restore; status 1 when the kernel refuses
#   cgv1_restore            undo every cgv1_mount of this shell, newest first: wait until the
#                           hierarchy holds only its root cgroup, unmount, wait until the kernel
#                           has destroyed the hierarchy (the controller returns to cgroup2, or to
#                           no hierarchy), remove DIR if cgv1_mount made it.  A hierarchy that
#                           still holds cgroups someone else made stays mounted (unmounting it
#                           would leave it alive and invisible, the controller lost to cgroup2
#                           until reboot); status 1 and a "#" line saying so.
#   cgv1_hugetlb_for_crun   crun refuses a hybrid layout whose cgroup2 holds a controller (hugetlb
#                           on this host's stock layout): move hugetlb to a v1 hierarchy at
#                           /sys/fs/cgroup/hugetlb when cgroup2 has it, saying so
#   cgv1_restore_report     cgv1_restore when something was moved, saying how it went
#   cg2_snapshot            remember which controllers the cgroup2 root enables for its children
#                           (cgroup.subtree_control): a container with, say, hugepage limits makes
#                           the runtime enable hugetlb there, and while it is enabled the kernel
#                           refuses to mount hugetlb as a v1 hierarchy (EBUSY), for every later
#                           user of the host
#   cg2_restore             disable at the cgroup2 root what was enabled since cg2_snapshot (call
#                           it after the containers are gone); status 1 and a "#" line when the
#                           kernel refuses (a cgroup still uses the controller)
#
# The kernel destroys a v1 hierarchy when its last mount goes and it has no child cgroup, also
# none still dying (an rmdir'ed cgroup lingers until RCU releases it); unmounting earlier leaves
# the hierarchy alive without a mount.  cgv1_restore therefore waits on /proc/cgroups
# (num_cgroups back to 1) before the umount, and mounts once more and unmounts when the kernel
# kept the hierarchy anyway.  Waits are bounded by a count of /proc reads, not by time.
CGV1_MOUNTS=()

cgv1__field() { # CTRL[,CTRL...] COLUMN -> that column of /proc/cgroups for the first CTRL
	awk -v c="${1%%,*}" -v k="$2" '$1 == c {print $k}' /proc/cgroups     # (2 hierarchy, 3 num_cgroups, 4 enabled)
}

cgv1_free() {
	local c root
	root=$(cg2__root)
	for c in "$@"; do
		[ "$(cgv1__field "$c" 4)" = 1 ] && [ "$(cgv1__field "$c" 2)" = 0 ] || continue
		# enabled for cgroup2 children: the kernel will not move it to a v1 hierarchy
		[ -n "$root" ] && grep -qw "$c" "$root/cgroup.subtree_control" 2>/dev/null && continue
		echo "$c"
		return 0
	done
	return 1
}

cgv1_hugetlb_for_crun() {
	grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null || return 0
	grep -q ' - cgroup .*hugetlb' /proc/self/mountinfo && return 0
	if cgv1_mount hugetlb /sys/fs/cgroup/hugetlb; then
		echo "# moved hugetlb from cgroup2 to v1 at /sys/fs/cgroup/hugetlb for this run"
	else
		echo "# could not move hugetlb to v1; crun will refuse to run"
		return 1
	fi
}

cgv1_restore_report() {
	[ ${#CGV1_MOUNTS[@]} -gt 0 ] || return 0
	if cgv1_restore; then echo "# hugetlb is back on cgroup2 (the host as found)"
	else echo "# hugetlb could not be put back on cgroup2 (see above)"; return 1; fi
}

cg2__root() { # the host's cgroup2 mount point (pure v2 or the hybrid layout's unified tree)
	awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo
}

cg2_snapshot() {
	local root
	root=$(cg2__root)
	CG2_SNAPSHOT=$([ -n "$root" ] && cat "$root/cgroup.subtree_control" 2>/dev/null)
	CG2_SNAPSHOT_TAKEN=1
}

cg2_restore() {
	[ "${CG2_SNAPSHOT_TAKEN:-0}" = 1 ] || return 0
	local root c rc=0 try
	root=$(cg2__root)
	[ -n "$root" ] || return 0
	for c in $(cat "$root/cgroup.subtree_control" 2>/dev/null); do
		[[ " $CG2_SNAPSHOT " == *" $c "* ]] && continue
		# a removed cgroup lingers a moment while the kernel releases it
		for try in 1 2 3 4 5 6 7 8 9 10; do
			echo "-$c" >"$root/cgroup.subtree_control" 2>/dev/null && break
			sleep 0.2
		done
		if grep -qw "$c" "$root/cgroup.subtree_control"; then
			echo "# $c stays enabled at the cgroup2 root $root (a cgroup still uses it)"
			rc=1
		fi
	done
	return $rc
}

cgv1_mount() {
	local ctrl=$1 dir=$2 made=0 try
	if [ ! -d "$dir" ]; then mkdir -p "$dir" || return 1; made=1; fi
	for try in 1 2 3 4 5; do
		if mount -t cgroup -o "$ctrl" none "$dir" 2>/dev/null; then
			CGV1_MOUNTS+=("$ctrl|$dir|$made")
			return 0
		fi
		sleep 1
	done
	[ $made = 1 ] && rmdir "$dir"
	return 1
}

# cgv1__wait CTRL COLUMN VALUE: until /proc/cgroups shows VALUE (at most ~10 s of polling)
cgv1__wait() {
	local i
	for i in $(seq 200); do
		[ "$(cgv1__field "$1" "$2")" = "$3" ] && return 0
		sleep 0.05
	done
	return 1
}

cgv1_restore() {
	local rc=0 k ctrl dir made rest tmp try
	for ((k = ${#CGV1_MOUNTS[@]} - 1; k >= 0; k--)); do
		IFS='|' read -r ctrl dir made <<<"${CGV1_MOUNTS[$k]}"
		unset 'CGV1_MOUNTS[k]'
		grep -q " $dir .* - cgroup " /proc/self/mountinfo || continue
		if ! cgv1__wait "$ctrl" 3 1; then
			rest=$(find "$dir" -mindepth 1 -type d 2>/dev/null | head -5 | tr '\n' ' ')
			echo "# $ctrl stays mounted at $dir: cgroups made there remain ($rest)"
			rc=1
			continue
		fi
		umount "$dir" || { rc=1; continue; }
		[ "$made" = 1 ] && rmdir "$dir" 2>/dev/null
		# another mount of the same hierarchy keeps it alive: that one is not ours to undo
		awk '$0 ~ / - cgroup / {print $NF}' /proc/self/mountinfo | tr ',' '\n' | grep -qx "${ctrl%%,*}" && continue
		for try in 1 2 3; do
			cgv1__wait "$ctrl" 2 0 && break
			tmp=$(mktemp -d /run/gr-cgv1-restore.XXXXXX)
			if mount -t cgroup -o "$ctrl" none "$tmp" 2>/dev/null; then
				cgv1__wait "$ctrl" 3 1
				umount "$tmp"
			fi
			rmdir "$tmp"
		done
		if [ "$(cgv1__field "$ctrl" 2)" != 0 ]; then
			echo "# $ctrl: the kernel keeps its v1 hierarchy $(cgv1__field "$ctrl" 2) after the unmount"
			rc=1
		fi
	done
	return $rc
}
