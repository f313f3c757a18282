# tap.sh - TAP helpers for shell integration tests; source it.
#   ok COND_EXIT "what"   -> e.g. `[ -f x ]; ok $? "x exists"`
#   run_ok "what" cmd...  -> passes when the command exits 0
#   skip "why"; tap_done  -> prints the plan and exits 0/1
#   cg_roots              -> every cgroup hierarchy's mount point (v1 and v2, wherever mounted:
#                            another test may mount one under /run while daemons run)
TAP_N=0
TAP_FAILED=0
ok() {
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then echo "ok $TAP_N - $2"; else echo "not ok $TAP_N - $2"; TAP_FAILED=$((TAP_FAILED + 1)); fi
}
run_ok() {
	local what=$1; shift
	local out
	out=$("$@" 2>&1); local rc=$?
	ok $rc "$what"
	[ $rc -eq 0 ] || printf '%s\n' "$out" | sed 's/^/#   /' | tail -n 20
	return $rc
}
skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N # SKIP $*"; }
diag() { echo "# $*"; }
cg_roots() { awk '$9 == "cgroup" || $9 == "cgroup2" {print $5}' /proc/self/mountinfo; }
tap_done() { echo "1..$TAP_N"; [ "$TAP_FAILED" -eq 0 ]; exit $?; }
