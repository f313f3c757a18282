#!/usr/bin/env bash
# run.sh - runs every test and prints "N passed, N failed, N skipped" last.
#
# Unit tests: every binary under build/tests/ (and build-asan/tests/ when built).
# Integration tests: tests/integration/**/*.sh and tests/cluster/*.sh (several daemons on a
# private etcd; lib.sh is the shared bed, not a test), as root, with GR_BUILD pointing at the
# binaries (build/bin), GR_SRC at the source tree.  Each test prints TAP lines; a test
# that exits non-zero without a "not ok" line counts as one failure.
# Sanitized: the integration tests run a second time on build-asan/bin (all but the
# conformance comparison, the package test (it packs build/) and tests/cluster/spread.sh).
# Fuzzers: every build-fuzz/fuzz/* for GR_FUZZ_SECONDS (default 20) each.
# Each test is stopped after GR_TEST_TIMEOUT seconds (default 1200) and counted failed.
# Options: --unit-only, --filter REGEX (run only tests whose path matches).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
unit_only=0
filter=.
while [ $# -gt 0 ]; do
	case $1 in
	--unit-only) unit_only=1 ;;
	--filter) filter=$2; shift ;;
	*) echo "usage: tests/run.sh [--unit-only] [--filter REGEX]" >&2; exit 2 ;;
	esac
	shift
done
logdir=$top/build/test-logs
mkdir -p "$logdir"
passed=0 failed=0 skipped=0
failures=()

run_one() { # name, command...
	local name=$1; shift
	local log=$logdir/$(echo "$name" | tr '/ ' '__').log
	local start=$(date +%s)
	# a test that hangs is stopped (TERM, its EXIT trap cleans up; KILL 30 s
	# later) and counted as failed, so the rest still runs
	timeout -k 30 "${GR_TEST_TIMEOUT:-1200}" "$@" >"$log" 2>&1 </dev/null
	local rc=$?
	[ "$rc" -eq 124 ] && echo "not ok - $name: stopped after ${GR_TEST_TIMEOUT:-1200} s" >>"$log"
	local p f s
	p=$(grep -cE '^ok [0-9]+' "$log" | head -1)
	s=$(grep -cE '^ok [0-9]+.*# SKIP' "$log" | head -1)
	f=$(grep -cE '^not ok [0-9]+' "$log" | head -1)
	p=$((p - s))
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name exited $rc" >>"$log"; fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	local took=$(( $(date +%s) - start ))
	if [ "$f" -gt 0 ]; then
		failures+=("$name")
		printf 'FAIL %-55s %3d ok %3d failed (%ds)\n' "$name" "$p" "$f" "$took"
		grep -E '^not ok|^#' "$log" | head -n 30 | sed 's/^/    /'
	else
		printf 'pass %-55s %3d ok %3d skipped (%ds)\n' "$name" "$p" "$s" "$took"
	fi
}

for dir in build build-asan; do
	[ -d "$dir/tests" ] || continue
	while IFS= read -r t; do
		[[ "$t" =~ $filter ]] || continue
		run_one "$t" "$t"
	done < <(find "$dir/tests" -type f -executable | sort)
done

if [ "$unit_only" -eq 0 ]; then
	export GR_SRC=$top GR_BUILD=$top/build
	while IFS= read -r t; do
		[[ "$t" =~ $filter ]] || continue
		run_one "$t" bash "$t"
	done < <({ find tests/integration -name '*.sh' ! -name lib.sh; find tests/cluster -name '*.sh' ! -name lib.sh; } | sort)
	# The same integration tests once more on the ASan+UBSan binaries (the conformance
	# comparison with crun and the ~95 launches of the placement spread are left to the
	# plain build: the spread drives no code the other cluster tests and the sanitized
	# unit tests of placement do not).
	if [ -d build-asan/bin ]; then
		export GR_BUILD=$top/build-asan ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
		while IFS= read -r t; do
			[[ "asan:$t" =~ $filter ]] || continue
			run_one "asan:$t" bash "$t"
		done < <({ find tests/integration -name '*.sh' ! -name lib.sh ! -path '*/conformance/*' ! -path '*/install/*'
			   find tests/cluster -name '*.sh' ! -name lib.sh ! -name spread.sh; } | sort)
		export GR_BUILD=$top/build
	fi
	if [ -d build-fuzz/fuzz ]; then
		while IFS= read -r fz; do
			[[ "$fz" =~ $filter ]] || continue
			name=$(basename "$fz")
			corpus=fuzz/corpus/$name
			dict=
			[ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
			mkdir -p "$corpus" build/fuzz-corpus/$name build/fuzz-artifacts
			run_one "$fz" bash -c "'$fz' -max_total_time=${GR_FUZZ_SECONDS:-20} -timeout=10 -rss_limit_mb=2048 -artifact_prefix=build/fuzz-artifacts/ $dict build/fuzz-corpus/$name $corpus && echo 'ok 1 - $name: no crash in ${GR_FUZZ_SECONDS:-20}s'"
		done < <(find build-fuzz/fuzz -type f -executable | sort)
	fi
fi

echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed tests (logs in $logdir):"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
