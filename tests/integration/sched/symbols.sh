#!/usr/bin/env bash
# symbols.sh - every symbol libgr_sched.a exports carries the module's prefix:
# gr_sched_ (placement), gr_sim_ (the simulator's public API, sim.h) or gr__
# (internals shared between the module's files).  Anything else could clash
# with another module or a program linking the library.
set -u
src=${GR_SRC:-$(cd "$(dirname "$0")/../../.." && pwd)}
build=${GR_BUILD:-$src/build}
. "$src/tests/tap.sh"
lib=$build/lib/libgr_sched.a

[ -f "$lib" ]
ok $? "$lib is built"
if ! command -v nm >/dev/null; then
	skip "nm (binutils) is not installed"
	tap_done
fi
# (the sanitizers add their own __odr_asan.*/__asan_* symbols to a SAN=1 build)
all=$(nm -g --defined-only "$lib" | awk 'NF == 3 { print $3 }' | grep -vE '^__(odr_asan|asan|ubsan|sancov)' | sort -u)
[ -n "$all" ]
ok $? "nm lists the exported symbols ($(echo "$all" | wc -l))"
bad=$(echo "$all" | grep -vE '^(gr_sched_|gr_sim_|gr__)')
[ -z "$bad" ]
ok $? "every exported symbol starts with gr_sched_, gr_sim_ or gr__${bad:+: $(echo $bad)}"
tap_done
