#!/usr/bin/env bash
# sim_cli.sh - `gureum sim` end to end: formats, plot, subsets, and the exit
# codes and messages for bad trace files and bad usage.  Uses only the small
# fixture (8 VMs) so it takes well under a second.
set -u
src=${GR_SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
build=${GR_BUILD:-$src/build}
. "$src/tests/tap.sh"
g=$build/bin/gureum
fx=$src/tests/fixtures/sched
tmp=$(mktemp -d /tmp/gr-test-sim.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

"$g" sim --help >"$tmp/help" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q -- --policy "$tmp/help" && grep -q -- --plot "$tmp/help"
ok $? "sim --help exits 0 and documents --policy and --plot"

"$g" sim --trace "$fx/small" --hosts 6 --policy npa,thr-mmt-0.8,peak >"$tmp/table" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l <"$tmp/table")" -eq 4 ] && grep -q '^small *npa *18.08 ' "$tmp/table"
ok $? "table: header + 3 policies, NPA 18.08 kWh (rc=$rc)"

"$g" sim --trace "$fx/small" --hosts 6 --policy thr-mmt-0.8,iqr-mu-1.5 --format csv >"$tmp/csv"; rc=$?
[ $rc -eq 0 ] && head -1 "$tmp/csv" | grep -q '^trace,policy,vms,hosts,energy_kwh' && [ "$(wc -l <"$tmp/csv")" -eq 3 ]
ok $? "csv: header + 2 rows"

# small SLAV/ESV stay readable in the table: three significant digits, equal to the JSON figure
"$g" sim --trace "$fx/small" --hosts 6 --policy thr-mmt-1.0,peak >"$tmp/tab2" 2>/dev/null &&
"$g" sim --trace "$fx/small" --hosts 6 --policy thr-mmt-1.0,peak --format json >"$tmp/json2"; rc=$?
if [ $rc -eq 0 ] && command -v python3 >/dev/null; then
	python3 - "$tmp/tab2" "$tmp/json2" <<'PY'
import json, sys
rows = [l.split() for l in open(sys.argv[1]).read().splitlines()]
hdr, rows = rows[0], rows[1:]
js = json.load(open(sys.argv[2]))
assert len(rows) == len(js) == 2, rows
for row, j in zip(rows, js):
    esv = float(row[hdr.index("ESV")])
    assert j["esv"] > 0 and abs(esv / j["esv"] - 1) < 2e-3, (row, j["esv"])
PY
	rc=$?
fi
[ $rc -eq 0 ] && awk 'NR > 1 && $7 ~ /^0\.0+$/ { exit 1 }' "$tmp/tab2"
ok $? "table: ESV of peak and thr-mmt-1.0 printed to 3 significant digits, as in JSON (rc=$rc)"

grep -q '^small *thr-mmt-1.0 ' "$tmp/tab2" && grep -q '"policy": "thr-mmt-1.0"' "$tmp/json2" &&
	"$g" sim --trace "$fx/small" --hosts 6 --policy THR-MMT,peak-0.90 --format csv | cut -d, -f2 | tail -n +2 | tr '\n' ' ' | grep -qx 'thr-mmt-0.8 peak-0.90 '
ok $? "policy names keep the parameter as given (thr-mmt-1.0, peak-0.90; thr-mmt gets its default 0.8)"

# too few hosts: the VMs that never ran are in the CSV and in the table
"$g" sim --trace "$fx/small" --hosts 2 --policy thr-mmt-0.8 --format csv >"$tmp/few" 2>"$tmp/few.err"; rc=$?
[ $rc -eq 0 ] && head -1 "$tmp/few" | grep -q ',vms_not_created$' && tail -1 "$tmp/few" | grep -q ',2$' &&
	grep -q '2 of 8 VMs fit on no host' "$tmp/few.err"
ok $? "csv: vms_not_created column shows the 2 VMs 2 hosts cannot take (rc=$rc)"
"$g" sim --trace "$fx/small" --hosts 2 --policy thr-mmt-0.8 >"$tmp/few.tab" 2>/dev/null
head -1 "$tmp/few.tab" | grep -q 'not_created$' && awk 'NR == 2 { exit !($NF == 2) }' "$tmp/few.tab" &&
	! head -1 "$tmp/tab2" | grep -q not_created
ok $? "table: a not_created column appears when VMs were dropped, and only then"

"$g" sim --trace "$fx/small" --hosts 6 --policy peak,dvfs --format json >"$tmp/json"; rc=$?
if command -v python3 >/dev/null; then
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert len(r)==2 and r[0]["policy"].startswith("peak") and r[1]["migrations"]==0' "$tmp/json"
else
	grep -q '"policy": "dvfs"' "$tmp/json"
fi
ok $? "json: 2 records, dvfs has no migrations (rc=$rc)"

"$g" sim --trace "$fx/small,$fx/small" --hosts 6 --policy thr-mmt-0.8,peak --plot "$tmp/p.svg" >/dev/null; rc=$?
[ $rc -eq 0 ] && grep -q '<svg' "$tmp/p.svg" && [ "$(grep -c '<polyline' "$tmp/p.svg")" -ge 4 ]
ok $? "--plot writes an SVG with a line per policy and panel"

"$g" sim --trace "$fx/small" --hosts 6 --vms 2:4 --shift 144 --shuffle 3 --policy lr-mmt-1.2 --format csv >"$tmp/sub"; rc=$?
[ $rc -eq 0 ] && grep -q '^small,lr-mmt-1.2,4,6,' "$tmp/sub"
ok $? "--vms/--shift/--shuffle: 4 VMs run"

# a day packed as a tar archive runs in place and prints the same figures under the same name
"$g" sim --trace "$fx/small.tar.xz" --hosts 6 --policy npa,thr-mmt-0.8,peak >"$tmp/arch" 2>"$tmp/err"; rc=$?
[ $rc -eq 0 ] && diff <(awk '{ $NF = ""; print }' "$tmp/table") <(awk '{ $NF = ""; print }' "$tmp/arch") >/dev/null
ok $? "--trace small.tar.xz: same table as the folder, trace named 'small' (rc=$rc)"

check_bad() { # name expect-in-stderr
	"$g" sim --trace "$fx/bad/$1" --policy thr-mmt-0.8 >/dev/null 2>"$tmp/err"; local rc=$?
	[ $rc -eq 1 ] && grep -q -- "$2" "$tmp/err"
	ok $? "bad trace $1: exit 1, message names '$2': $(head -c 160 "$tmp/err")"
}
check_bad nonnumeric "bad/nonnumeric/vm0:6"
check_bad range "bad/range/vm0:8"
check_bad short "only 100 samples"
check_bad does-not-exist "bad/does-not-exist"
check_bad nonnumeric.tar.gz "bad/nonnumeric.tar.gz:nonnumeric/vm0:6"
check_bad truncated.tar.xz "truncated.tar.xz: damaged"

usage() { # what expect-in-stderr args...
	local what=$1 want=$2; shift 2
	"$g" sim "$@" >/dev/null 2>"$tmp/err"; local rc=$?
	[ $rc -eq 2 ] && grep -q -- "$want" "$tmp/err"
	ok $? "usage: $what exits 2 naming '$want' (rc=$rc)"
}
usage "no --trace" "--trace DIR is required"
usage "bad policy" "unknown detector 'xyz'" --trace "$fx/small" --policy xyz-mmt
usage "bad format" "'yaml'" --trace "$fx/small" --format yaml
usage "bad --hosts" "--hosts" --trace "$fx/small" --hosts zero
usage "unknown option" "--frobnicate" --trace "$fx/small" --frobnicate
tap_done
