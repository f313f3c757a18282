# common.bash - shared by the runtime's integration tests (sourced; not a test itself).
# Gives: $OCI (gureum-oci with a private --root), $WORK (scratch), $ROOTFS (busybox),
# mk_bundle DIR [JQ-FILTER] (default config + filter), cg_count, and a trap that
# deletes every container of this test, removes the scratch folders and disables at the
# cgroup2 root the controllers the test's containers made the runtime enable there.
. "$GR_SRC/tests/tap.sh"
. "$GR_SRC/tests/integration/runtime/lib/cgroup_v1_move.bash"
GR_BUILD=${GR_BUILD:-$GR_SRC/build}
BIN=$GR_BUILD/bin/gureum-oci
[ -x "$BIN" ] || { echo "not ok 1 - $BIN missing (build it first)"; exit 1; }
for tool in jq busybox; do
	command -v $tool >/dev/null || { skip "$tool not installed (deps/runtime.txt)"; tap_done; }
done
[ "$(id -u)" = 0 ] || { skip "needs root"; tap_done; }
STATE=$(mktemp -d /run/gr-test-rt-state.XXXXXX)
WORK=$(mktemp -d /tmp/gr-test-rt.XXXXXX)
chmod 755 "$WORK" # the rootfs must be reachable from a user namespace too
OCI="$BIN --root $STATE"
cg2_snapshot
ROOTFS=$WORK/rootfs
rt_cleanup() {
	for id in $(ls "$STATE" 2>/dev/null); do $OCI delete --force "$id" >/dev/null 2>&1; done
	rm -rf "$STATE" "$WORK"
	cg2_restore
}
trap rt_cleanup EXIT
"$GR_SRC/scripts/mk-busybox-rootfs.sh" "$ROOTFS" >/dev/null || { echo "not ok 1 - rootfs"; exit 1; }

# mk_bundle DIR [JQ-FILTER]: a bundle whose config is `gureum-oci spec` (terminal off,
# root at $ROOTFS, a tmpfs on /tmp) with the filter applied.
mk_bundle() {
	local dir=$1 filter=${2:-.}
	mkdir -p "$dir"
	rm -f "$dir/config.json"
	$OCI spec -b "$dir" || return 1
	jq --arg root "$ROOTFS" '.process.terminal = false | .root.path = $root
		| .mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]}]' \
		"$dir/config.json" | jq "$filter" >"$dir/c.json" && mv "$dir/c.json" "$dir/config.json"
}

# Note: a created container's init keeps the create command's stdio, so never
# capture `create` or `run -d` with $(...) (it would wait for the container).

# cg_count: how many cgroup folders of these tests exist in any hierarchy.
cg_count() {
	find /sys/fs/cgroup -maxdepth 4 -type d -name 'gr-test-rt-*' 2>/dev/null | wc -l
}

# wait_stopped ID: until the container is stopped (at most ~10 s; status, not time, decides).
wait_stopped() {
	local i
	for i in $(seq 200); do
		$OCI state "$1" 2>/dev/null | grep -q '"status":"stopped"' && return 0
		sleep 0.05
	done
	return 1
}
