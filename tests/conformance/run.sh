#!/usr/bin/env bash
# run.sh - OCI runtime conformance: builds (offline, cached) the validation
# driver and runtimetest from tests/conformance/ against Debian's Go packages
# (deps/conformance.txt), a busybox rootfs tarball, then runs every
# validation test, one at a time with a timeout, against one or more runtimes
# and prints TAP per runtime plus a comparison table.
#
#   tests/conformance/run.sh                      crun vs gureum-oci ($GR_BUILD/bin)
#   tests/conformance/run.sh --runtime /path/rt   one runtime (repeatable)
#   RUNTIME=/path/rt tests/conformance/run.sh     same as one --runtime
#   --filter REGEX   only tests whose name matches
#   --build-only     build the binaries and rootfs, run nothing
#   --table FILE     also write the comparison table (markdown) to FILE
#
# Env: GR_SRC (tree), GR_BUILD (build folder holding bin/gureum-oci, default
# $GR_SRC/build), GR_CONF_CACHE (default $GR_SRC/build/conformance),
# GR_CONF_TIMEOUT (seconds per test, default 120), GR_CONF_NO_DEFAULT_SECCOMP=1
# (diagnostic: drop runtime-tools' default seccomp profile from every config). Output per test is kept in
# $GR_CONF_CACHE/out/<runtime>/<test>.tap, results (runtime, test, pass|fail|skip)
# in $GR_CONF_CACHE/results.tsv, the table in $GR_CONF_CACHE/table.md. Exit 0 when every test passes for
# every runtime, 1 otherwise, 2 on usage errors.
set -u
here=$(cd "$(dirname "$0")" && pwd)
GR_SRC=${GR_SRC:-$(cd "$here/../.." && pwd)}
GR_BUILD=${GR_BUILD:-$GR_SRC/build}
cache=${GR_CONF_CACHE:-$GR_SRC/build/conformance}
per_test=${GR_CONF_TIMEOUT:-120}
filter=.
build_only=0
table_file=
runtimes=()

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case $1 in
	-h|--help) usage; exit 0 ;;
	--runtime) [ $# -ge 2 ] || { echo "run.sh: --runtime needs a path" >&2; exit 2; }; runtimes+=("$2"); shift 2 ;;
	--filter) [ $# -ge 2 ] || { echo "run.sh: --filter needs a regex" >&2; exit 2; }; filter=$2; shift 2 ;;
	--table) [ $# -ge 2 ] || { echo "run.sh: --table needs a file" >&2; exit 2; }; table_file=$2; shift 2 ;;
	--build-only) build_only=1; shift ;;
	*) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
if [ ${#runtimes[@]} -eq 0 ]; then
	if [ -n "${RUNTIME:-}" ]; then runtimes=("$RUNTIME")
	else runtimes=("$(command -v crun || echo crun)" "$GR_BUILD/bin/gureum-oci"); fi
fi
[ "$(id -u)" -eq 0 ] || { echo "run.sh: must run as root (creates containers, cgroups, mounts)" >&2; exit 1; }

# --- build (offline: GOPATH mode over Debian's /usr/share/gocode) ---
build() {
	command -v go >/dev/null || { echo "run.sh: go missing (apt-get install golang-go; see deps/conformance.txt)" >&2; return 1; }
	[ -d /usr/share/gocode/src/github.com/opencontainers/runtime-tools/generate ] ||
		{ echo "run.sh: golang-github-opencontainers-runtime-tools-dev missing (deps/conformance.txt)" >&2; return 1; }
	mkdir -p "$cache"
	export GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$cache/gocache" GOFLAGS='' GOPROXY=off
	(cd "$here/runtimetest" && CGO_ENABLED=0 go build -o "$cache/runtimetest.new" .) &&
		mv -f "$cache/runtimetest.new" "$cache/runtimetest" || return 1
	(cd "$here/validation" && go build -o "$cache/validation.new" .) &&
		mv -f "$cache/validation.new" "$cache/validation" || return 1
	if [ ! -s "$cache/rootfs-amd64.tar.gz" ]; then
		local d
		d=$(mktemp -d) || return 1
		sh "$GR_SRC/scripts/mk-busybox-rootfs.sh" "$d/rootfs" >/dev/null &&
			tar -C "$d/rootfs" -czf "$cache/rootfs-amd64.tar.gz.new" . &&
			mv -f "$cache/rootfs-amd64.tar.gz.new" "$cache/rootfs-amd64.tar.gz"
		local rc=$?
		rm -rf "$d"
		[ $rc -eq 0 ] || return 1
	fi
}
build || { echo "run.sh: build failed" >&2; exit 1; }
[ $build_only = 1 ] && { echo "built $cache/validation, $cache/runtimetest, $cache/rootfs-amd64.tar.gz"; exit 0; }

# crun refuses a hybrid cgroup layout whose cgroup2 holds a controller
# (hugetlb here). Moving hugetlb to a v1 hierarchy works while no cgroup2
# group uses it; it goes back to cgroup2 when the run ends, also on failure
# (tests/integration/runtime/lib/cgroup_v1_move.bash; bench/container-start
# does the same).
. "$GR_SRC/tests/integration/runtime/lib/cgroup_v1_move.bash"
restore_host() { cgv1_restore_report; }
trap restore_host EXIT
trap 'exit 130' INT TERM HUP
cgv1_hugetlb_for_crun || true

# bundles live in a private folder, away from other tests' /tmp cleanups
export TMPDIR="$cache/tmp"
mkdir -p "$TMPDIR" && chmod 755 "$cache" "$TMPDIR"

mapfile -t tests < <("$cache/validation" list | grep -E -- "$filter")
[ ${#tests[@]} -gt 0 ] || { echo "run.sh: no test matches '$filter'" >&2; exit 2; }

# leftovers of a test killed by the timeout
sweep() {
	local rt=$1 id
	for id in $("$rt" list 2>/dev/null | awk 'NR>1 {print $1}' | grep '^gr-test-conf-'); do
		"$rt" kill "$id" KILL >/dev/null 2>&1
		"$rt" delete --force "$id" >/dev/null 2>&1 || "$rt" delete "$id" >/dev/null 2>&1
	done
	local m
	for m in $(awk '{print $5}' /proc/self/mountinfo | grep "^$TMPDIR/gr-test-conf-" | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	rm -rf --one-file-system "$TMPDIR"/gr-test-conf-* 2>/dev/null
}

declare -A result
failed_any=0
: >"$cache/results.tsv"
for rt in "${runtimes[@]}"; do
	rtname=$(basename "$rt")
	case $rt in
	*/*) [ -x "$rt" ] && rt=$(realpath "$rt") ;;
	*) rt=$(command -v "$rt") ;;
	esac
	[ -n "$rt" ] && [ -x "$rt" ] || { echo "run.sh: runtime $rtname not found or not executable" >&2; exit 1; }
	out="$cache/out/$rtname"
	rm -rf "$out"; mkdir -p "$out"
	echo "# runtime $rt ($("$rt" --version 2>/dev/null | head -1))"
	echo "1..${#tests[@]}"
	n=0; pass=0; fail=0; skip=0
	for t in "${tests[@]}"; do
		n=$((n + 1))
		RUNTIME=$rt GR_CONF_ROOTFS="$cache/rootfs-amd64.tar.gz" GR_CONF_RUNTIMETEST="$cache/runtimetest" \
			timeout -k 5 "$per_test" "$cache/validation" run "$t" >"$out/$t.tap" 2>&1
		rc=$?
		[ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "# timed out after ${per_test}s" >>"$out/$t.tap"
		if [ $rc -eq 0 ] && ! grep -q '^not ok' "$out/$t.tap"; then
			if grep -q '^ok [0-9]* # skip' "$out/$t.tap"; then
				r=skip; skip=$((skip + 1))
				echo "ok $n - $t # skip $(grep -m1 '# skip' "$out/$t.tap" | sed 's/.*# skip //')"
			else
				r=pass; pass=$((pass + 1)); echo "ok $n - $t"
			fi
		else
			r=fail; fail=$((fail + 1)); failed_any=1
			echo "not ok $n - $t"
			grep -E '^not ok|^#' "$out/$t.tap" | head -8 | sed 's/^/#   /'
			sweep "$rt"
		fi
		result[$rtname/$t]=$r
		printf '%s\t%s\t%s\n' "$rtname" "$t" "$r" >>"$cache/results.tsv"
	done
	echo "# $rtname: $pass passed, $fail failed, $skip skipped (details: $out)"
done

# comparison table
names=()
for rt in "${runtimes[@]}"; do names+=("$(basename "$rt")"); done
{
	printf '| test |'; for nm in "${names[@]}"; do printf ' %s |' "$nm"; done; echo
	printf '|---|'; for _ in "${names[@]}"; do printf -- '---|'; done; echo
	for t in "${tests[@]}"; do
		printf '| %s |' "$t"
		for nm in "${names[@]}"; do printf ' %s |' "${result[$nm/$t]}"; done
		echo
	done
} >"$cache/table.md"
echo "# comparison table ($cache/table.md):"
sed 's/^/# /' "$cache/table.md"
[ -n "$table_file" ] && cp "$cache/table.md" "$table_file"
if [ ${#names[@]} -ge 2 ]; then
	worse=0
	for t in "${tests[@]}"; do
		[ "${result[${names[0]}/$t]}" = pass ] && [ "${result[${names[1]}/$t]}" = fail ] &&
			{ echo "# ${names[1]} fails where ${names[0]} passes: $t"; worse=$((worse + 1)); }
	done
	echo "# ${names[1]} fails $worse test(s) that ${names[0]} passes"
fi
exit $failed_any
