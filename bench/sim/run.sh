#!/usr/bin/env bash
# bench/sim: the consolidation benchmark of Beloglazov & Buyya (2012) on the
# three PlanetLab days.  Runs the published policies (our CloudSim 3.0.3
# model) and ours (peak) with `gureum sim`, prints how close the model is to
# the published CloudSim figures, then compares ours with the best published
# figure of each day in each column (the worst day counts), checks ours on
# variants nobody tuned for (shifted day, VM subsets, shuffled VM types)
# against the best reproduced published policy, and reports the wall time of
# one simulated day.  Last line:
#   esv_ratio_vs_best=<x> energy_ratio_vs_best=<y> migrations_ratio_vs_best=<z>
# Env: GR_BUILD (default build), GR_SRC, SIM_DATA (default: the copies shipped in
# data/planetlab; a folder holding <day>.tar.xz archives or <day>/ folders).
set -u
src=${GR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${GR_BUILD:-$src/build}
data=${SIM_DATA:-$src/data/planetlab}
g=$build/bin/gureum
out=$src/bench/out
mkdir -p "$out"
days="20110303 20110306 20110309"
pub="npa,dvfs,thr-mmt-1.0,thr-mmt-0.8,iqr-mmt-1.5,mad-mmt-2.5,lr-mmt-1.2,lrr-mmt-1.2"
ours=peak
day_trace() { # day -> the archive or folder holding it
	if [ -f "$data/$1.tar.xz" ]; then echo "$data/$1.tar.xz"; else echo "$data/$1"; fi
}
for d in $days; do
	[ -e "$(day_trace $d)" ] || { echo "bench/sim: $(day_trace $d) missing"; echo "esv_ratio_vs_best=nan energy_ratio_vs_best=nan migrations_ratio_vs_best=nan"; exit 1; }
done
csv=$out/sim.csv
: >"$csv"
for d in $days; do
	"$g" sim --trace "$(day_trace $d)" --policy "$pub,$ours" --format csv >"$out/sim-$d.csv" || exit 1
	if [ ! -s "$csv" ]; then cat "$out/sim-$d.csv" >"$csv"; else tail -n +2 "$out/sim-$d.csv" >>"$csv"; fi
done
"$g" sim --trace "$(for d in $days; do day_trace $d; done | paste -sd,)" \
	--policy thr-mmt-0.8,lr-mmt-1.2,$ours --plot "$out/sim.svg" >/dev/null || exit 1

echo "== our model vs published CloudSim 3.0.3 (energy kWh / migrations; model/published)"
# published figures: day policy energy migrations slatah pdm esv
cat >"$out/sim-published.txt" <<'PUB'
20110303 npa 2410.8 0 0 0 0
20110303 dvfs 765.0 0 0 0 0
20110303 thr-mmt-1.0 168.7 47987 15.68 0.19 0.04918
20110303 thr-mmt-0.8 198.1 27728 5.00 0.07 0.00707
20110303 iqr-mmt-1.5 193.6 27592 5.02 0.07 0.00662
20110303 mad-mmt-2.5 189.8 27781 5.09 0.07 0.00678
20110303 lr-mmt-1.2 167.8 27649 5.72 0.08 0.00725
20110306 npa 2410.8 0 0 0 0
20110306 dvfs 618.3 0 0 0 0
20110306 thr-mmt-1.0 128.0 35613 15.87 0.19 0.03805
20110306 thr-mmt-0.8 150.7 21575 5.21 0.08 0.00600
20110306 iqr-mmt-1.5 147.9 21748 5.31 0.08 0.00593
20110306 mad-mmt-2.5 145.8 22129 5.40 0.08 0.00639
20110306 lr-mmt-1.2 128.0 21661 5.99 0.08 0.00636
20110309 npa 2410.8 0 0 0 0
20110309 dvfs 679.0 0 0 0 0
20110309 thr-mmt-1.0 138.8 37280 14.15 0.18 0.03603
20110309 thr-mmt-0.8 162.2 23376 5.26 0.07 0.00641
20110309 iqr-mmt-1.5 161.2 23642 5.21 0.07 0.00600
20110309 mad-mmt-2.5 159.3 23353 5.09 0.07 0.00575
20110309 lr-mmt-1.2 139.4 24239 6.31 0.08 0.00735
PUB
awk -F, 'NR==FNR { split($0, a, " "); e[a[1] " " a[2]] = a[3]; m[a[1] " " a[2]] = a[4]; next }
	FNR > 1 { k = $1 " " $2; if (k in e) printf "%-9s %-13s %8.1f / %-6d vs %7.1f / %-6d  energy %+5.1f %%  migrations %s\n", $1, $2, $5, $10, e[k], m[k], ($5 / e[k] - 1) * 100, (m[k] > 0 ? sprintf("%+5.1f %%", ($10 / m[k] - 1) * 100) : "n/a") }' \
	"$out/sim-published.txt" "$csv"

echo "== all runs"
column -s, -t <"$csv" 2>/dev/null || cat "$csv"

echo "== ours ($ours) vs the best published figure of the day"
awk -F, -v ours="$ours" 'NR==FNR { split($0, a, " "); d = a[1]; if (a[2] == "npa" || a[2] == "dvfs") next;
		if (!(d in be) || a[3] < be[d]) be[d] = a[3]; if (!(d in bm) || a[4] < bm[d]) bm[d] = a[4];
		if (!(d in bs) || a[7] < bs[d]) bs[d] = a[7]; next }
	FNR > 1 && index($2, ours) == 1 { d = $1; xe = $5 / be[d]; xm = $10 / bm[d]; xs = $9 / bs[d];
		printf "%s: energy %.1f kWh (best %.1f) ratio %.3f; ESV %.3g (best %.3g) ratio %.4f; migrations %d (best %d) ratio %.4f\n", d, $5, be[d], xe, $9, bs[d], xs, $10, bm[d], xm;
		if (xe > we) we = xe; if (xm > wm) wm = xm; if (xs > ws) ws = xs }
	END { printf "worst day: esv %.4f energy %.3f migrations %.4f\n", ws, we, wm;
		printf "%.4f %.3f %.4f\n", ws, we, wm > "'"$out"'/sim-ratios.txt" }' "$out/sim-published.txt" "$csv"

echo "== variants nobody tuned for: ours / best reproduced published policy on the same variant"
for d in $days; do
	for v in "--shift 144" "--vms 0:400 --hosts 300" "--vms 400:400 --hosts 300" "--shuffle 11"; do
		"$g" sim --trace "$(day_trace $d)" --policy thr-mmt-0.8,iqr-mmt-1.5,mad-mmt-2.5,lr-mmt-1.2,$ours $v --format csv |
		awk -F, -v ours="$ours" -v tag="$d $v" 'NR > 1 { if (index($2, ours) == 1) { oe = $5; os = $9; om = $10; next }
				if (!be || $5 < be) be = $5; if (!bs || $9 < bs) bs = $9; if (!bm || $10 < bm) bm = $10 }
			END { printf "%-36s energy %.3f  esv %.4f  migrations %.4f\n", tag, oe / be, os / bs, om / bm }'
	done
done

echo "== wall time of one simulated day (1,052 VMs of 20110303, 800 hosts)"
awk -F, 'NR > 1 { if ($14 > m) { m = $14; p = $2 " " $1 } } END { printf "slowest run: %.3f s (%s)\n", m, p }' "$csv"
read -r ws we wm <"$out/sim-ratios.txt"
echo "esv_ratio_vs_best=$ws energy_ratio_vs_best=$we migrations_ratio_vs_best=$wm"
