#!/usr/bin/env bash
# oci.sh - the OCI runtime conformance suite (tests/conformance) against
# gureum-oci, with crun as the reference: one TAP line per validation test;
# "not ok" when crun passes it and gureum-oci fails it, skip when crun fails
# it too (or skips it), ok when gureum-oci passes. One more skip: gureum-oci's only
# failure is a create refused because the host cannot apply a field (AppArmor or
# SELinux disabled, no net_cls, a kernel that ignores memory.kernel), which crun
# accepts and drops: that refusal is by design (docs/RUNTIME.md, "Fields a host may
# not support"). Needs root, crun and the Go packages of deps/conformance.txt
# (skips, saying which, when they are absent).
. "$GR_SRC/tests/tap.sh"
GR_BUILD=${GR_BUILD:-$GR_SRC/build}
oci=$GR_BUILD/bin/gureum-oci
crun=$(command -v crun)
cache=$GR_BUILD/conformance
if [ -z "$crun" ]; then skip "crun is not installed (apt-get install crun)"; tap_done; fi
if ! command -v go >/dev/null || [ ! -d /usr/share/gocode/src/github.com/opencontainers/runtime-tools/generate ]; then
	skip "golang-go / golang-github-opencontainers-runtime-tools-dev missing (deps/conformance.txt)"; tap_done
fi
[ -x "$oci" ]; ok $? "gureum-oci is built ($oci)" || tap_done
mkdir -p "$cache"
log=$cache/oci.log
GR_CONF_CACHE=$cache GR_CONF_TIMEOUT=90 "$GR_SRC/tests/conformance/run.sh" --runtime "$crun" --runtime "$oci" >"$log" 2>&1
rc=$?
[ $rc -le 1 ] && [ -s "$cache/results.tsv" ]; ok $? "the suite ran (run.sh exit $rc)" || { tail -20 "$log" | sed 's/^/#   /'; tap_done; }
declare -A crun_r
while IFS=$'\t' read -r rt t r; do [ "$rt" = crun ] && crun_r[$t]=$r; done <"$cache/results.tsv"
while IFS=$'\t' read -r rt t r; do
	[ "$rt" = gureum-oci ] || continue
	c=${crun_r[$t]:-missing}
	if [ "$r" = pass ]; then
		ok 0 "$t"
	elif [ "$r" = skip ]; then
		skip "$t: $(grep -m1 '# skip' "$cache/out/gureum-oci/$t.tap" | sed 's/.*# skip //')"
	elif [ "$(grep -c '^not ok' "$cache/out/gureum-oci/$t.tap")" = 1 ] &&
		grep -q 'org.gureum.ignore-unsupported\\*"\\*\] may list it' "$cache/out/gureum-oci/$t.tap"; then
		why=$(grep -o -m1 -E '(process|linux)\.[A-Za-z.]+: [^(]*' "$cache/out/gureum-oci/$t.tap" | head -1 | sed 's/ *$//')
		skip "$t: gureum-oci refuses, by design, what this host cannot apply ($why); crun: $c"
	elif [ "$c" != pass ]; then
		skip "$t: crun $(crun --version | head -1 | awk '{print $3}') does not pass it either (crun: $c, gureum-oci: $r)"
	else
		ok 1 "$t (crun passes, gureum-oci: $r)"
		grep -E '^not ok' "$cache/out/gureum-oci/$t.tap" | head -3 | sed 's/^/#   /'
		grep -E '^#' "$cache/out/gureum-oci/$t.tap" | head -4 | cut -c1-300 | sed 's/^/#   /'
	fi
done <"$cache/results.tsv"
tap_done
