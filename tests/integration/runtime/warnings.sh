#!/usr/bin/env bash
# warnings.sh - the runtime's warnings (here: failing poststart and poststop hooks, which the
# spec says must be warnings) go to the process's log, never straight to stderr: in-process
# (as gureumd uses the library, whose stderr is an instance's console.log) they land in the
# file given to gr_log_open; gureum-oci writes them to --log (text or JSON) or, without it,
# to its stderr as log lines.
. "$GR_SRC/tests/integration/runtime/lib/common.bash"
hooks='.hooks = {"poststart": [{"path": "/bin/false"}], "poststop": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 4"]}]}'
mk_bundle "$WORK/b" ".process.args = [\"true\"] | $hooks" || ok 1 bundle

# in-process
san=""
strings "$GR_BUILD/lib/libgr_runtime.a" 2>/dev/null | grep -q __asan_init && san="-fsanitize=address,undefined"
cc -std=gnu11 -O1 -D_GNU_SOURCE $san -I"$GR_SRC/src" -I"$GR_SRC/tests" -o "$WORK/rt-log-check" \
	"$GR_SRC/tests/integration/runtime/lib/rt-log-check.c" "$GR_BUILD/lib/libgr_runtime.a" \
	"$GR_BUILD/lib/libgr_util.a" -ljansson -lseccomp -lcap || { ok 1 "rt-log-check builds"; tap_done; }
"$WORK/rt-log-check" "$STATE" "$WORK/b" "$WORK/lib.log" >"$WORK/lib.tap" 2>"$WORK/lib.stderr"
ok $? "library: create, start, delete with failing poststart and poststop hooks"
grep -v '^ok' "$WORK/lib.tap" | sed 's/^/#   /'
[ ! -s "$WORK/lib.stderr" ]; ok $? "library: nothing written to stderr ($(head -c 300 "$WORK/lib.stderr"))"
grep -q '"level":"warning".*gr-test-rt-logcheck.*hooks.poststart\[0\]: /bin/false exited with status 1' "$WORK/lib.log"
ok $? "library: the poststart warning is in the log"
grep -q '"level":"warning".*hooks.poststop\[0\]: /bin/sh exited with status 4' "$WORK/lib.log"
ok $? "library: the poststop warning is in the log ($(cat "$WORK/lib.log"))"

# gureum-oci --log FILE --log-format json
$BIN --root "$STATE" --log "$WORK/cli.log" --log-format json run -b "$WORK/b" gr-test-rt-warn1 >"$WORK/cli.out" 2>&1 </dev/null
ok $? "gureum-oci run succeeds although the hooks fail"
! grep -q warning "$WORK/cli.out"; ok $? "with --log: no warning on stdout/stderr ($(cat "$WORK/cli.out"))"
[ "$(grep -c '"level":"warning"' "$WORK/cli.log")" = 2 ] && jq -e .msg "$WORK/cli.log" >/dev/null
ok $? "with --log: both warnings in the log file, as JSON lines"

# gureum-oci without --log: log lines on stderr
$OCI run -b "$WORK/b" gr-test-rt-warn2 >/dev/null 2>"$WORK/cli.err" </dev/null; ok $? "gureum-oci run without --log"
grep -q "warning: container 'gr-test-rt-warn2': hooks.poststart\[0\]" "$WORK/cli.err" &&
	grep -q "warning: container 'gr-test-rt-warn2': hooks.poststop\[0\]" "$WORK/cli.err"
ok $? "without --log: the warnings on stderr ($(cat "$WORK/cli.err"))"
tap_done
