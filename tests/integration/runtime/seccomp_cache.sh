#!/usr/bin/env bash
# seccomp_cache.sh - the compiled-seccomp cache (<root>/.cache) is keyed by the runtime's
# build: a binary with another build id compiles its own filter instead of loading the
# one an other build cached, and a cache entry names the build that wrote it.
. "$GR_SRC/tests/integration/runtime/lib/common.bash"
for tool in readelf python3; do command -v $tool >/dev/null || { skip "$tool missing (binutils, python3)"; tap_done; }; done
id_of() { readelf -n "$1" | sed -n 's/.*Build ID: *//p' | head -1; }
A=$BIN B=$WORK/gureum-oci-other
ida=$(id_of "$A")
[ -n "$ida" ]; ok $? "the runtime has a GNU build id ($ida)"
# the same program with one byte of its build id changed: another build of the runtime
python3 - "$A" "$B" "$ida" <<'PY'
import sys
data = bytearray(open(sys.argv[1], 'rb').read())
bid = bytes.fromhex(sys.argv[3])
i = data.find(bid)
data[i] ^= 0xff
open(sys.argv[2], 'wb').write(data)
PY
chmod 755 "$B"
idb=$(id_of "$B")
[ -n "$idb" ] && [ "$idb" != "$ida" ]; ok $? "the copy has another build id ($idb)"
mk_bundle "$WORK/b" '.process.args = ["true"]' || ok 1 bundle
cache=$STATE/.cache
run_with() { # binary id
	"$1" --root "$STATE" run -b "$WORK/b" "$2" </dev/null >/dev/null 2>&1
}
run_with "$A" gr-test-rt-sc1; ok $? "run with the default seccomp profile (build A)"
n1=$(ls "$cache" | grep -c '^seccomp-')
[ "$n1" = 1 ]; ok $? "one compiled filter cached ($n1)"
grep -q "build-id:$ida" "$cache"/seccomp-*; ok $? "the entry is keyed by build A's id"
run_with "$A" gr-test-rt-sc2; ok $? "run again with build A"
[ "$(ls "$cache" | grep -c '^seccomp-')" = 1 ]; ok $? "build A reuses its entry"
run_with "$B" gr-test-rt-sc3; ok $? "run with build B"
[ "$(ls "$cache" | grep -c '^seccomp-')" = 2 ]; ok $? "build B compiled its own filter, not A's"
grep -l "build-id:$idb" "$cache"/seccomp-* >/dev/null; ok $? "the new entry is keyed by build B's id"
tap_done
