#!/usr/bin/env bash
# layers.sh - the dependency rule of docs/ARCHITECTURE.md, checked on the
# built objects (nm): every gr_/gr__ symbol a module uses must come from
# itself or from a module it may depend on, and inside the control layer a
# file may only call files listed below it in control-internal.h (no call
# cycle).  A failure names the module or file and the symbol.
GR_SRC=${GR_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
GR_BUILD=${GR_BUILD:-$GR_SRC/build}
. "$GR_SRC/tests/tap.sh"
OBJ=$GR_BUILD/obj
if ! command -v nm >/dev/null; then skip "nm is not installed"; tap_done; fi
[ -d "$OBJ/control" ] || { echo "not ok 1 - no objects in $OBJ (build first)"; exit 1; }

# The rule: cli/web -> api -> control -> {sched, store, image, agent} -> {runtime, vm, net} -> util.
# control also calls net directly for its pure address management and the NAT table.
# (agent uses image for the instances' layers; image depends on util only.)
declare -A ALLOWED=(
	[util]=""
	[runtime]="util"
	[vm]="util"
	[net]="util"
	[image]="util"
	[store]="util"
	[sched]="util"
	[agent]="image runtime vm net util"
	[control]="agent image sched store net util"
	[api]="control util"
)

# symbol -> module that defines it
declare -A DEF
for m in "$OBJ"/*/; do
	mod=$(basename "$m")
	[ "$mod" = cmd ] && continue
	while read -r sym; do DEF[$sym]=$mod; done < <(nm --defined-only -g "$m"*.o 2>/dev/null | awk '$3 ~ /^gr_/ {print $3}')
done

for m in "$OBJ"/*/; do
	mod=$(basename "$m")
	[ "$mod" = cmd ] && continue
	if [ -z "${ALLOWED[$mod]+x}" ]; then ok 1 "module $mod has a place in the rule (add it to layers.sh and ARCHITECTURE.md)"; continue; fi
	bad=""
	while read -r sym; do
		dm=${DEF[$sym]:-}
		[ -z "$dm" ] || [ "$dm" = "$mod" ] && continue
		case " ${ALLOWED[$mod]} " in *" $dm "*) ;; *) bad="$bad $sym($dm)" ;; esac
	done < <(nm -u "$m"*.o 2>/dev/null | awk '$2 ~ /^gr_/ {print $2}' | sort -u)
	[ -z "$bad" ]; ok $? "module $mod uses only ${ALLOWED[$mod]:-nothing}${bad:+: not$bad}"
done

# module.mk declares no more than the rule allows
for mk in "$GR_SRC"/src/*/module.mk; do
	mod=$(basename "$(dirname "$mk")")
	deps=$(sed -n "s/^${mod}_DEPS *:= *//p" "$mk")
	bad=""
	for d in $deps; do
		case " ${ALLOWED[$mod]-} " in *" $d "*) ;; *)
			# a transitive dependency of an allowed one is fine (link order)
			ok_t=0
			for a in ${ALLOWED[$mod]-}; do case " ${ALLOWED[$a]-} " in *" $d "*) ok_t=1 ;; esac; done
			for a in ${ALLOWED[$mod]-}; do for b in ${ALLOWED[$a]-}; do case " ${ALLOWED[$b]-} " in *" $d "*) ok_t=1 ;; esac; done; done
			[ $ok_t = 1 ] || bad="$bad $d" ;;
		esac
	done
	[ -z "$bad" ]; ok $? "src/$mod/module.mk links what the rule allows${bad:+: not$bad}"
done

# control: files call only files below them in control-internal.h's list
order=$(sed -n '/^ \*   [a-z_]*\.c /s/^ \*   \([a-z_]*\)\.c.*/\1/p' "$GR_SRC/src/control/control-internal.h")
declare -A RANK
i=0
for f in $order; do RANK[$f]=$i; i=$((i + 1)); done
declare -A FDEF
for o in "$OBJ"/control/*.o; do
	f=$(basename "$o" .o)
	[ -n "${RANK[$f]+x}" ] || { ok 1 "src/control/$f.c is listed in control-internal.h"; continue; }
	while read -r sym; do FDEF[$sym]=$f; done < <(nm --defined-only -g "$o" | awk '$3 ~ /^gr_/ {print $3}')
done
for o in "$OBJ"/control/*.o; do
	f=$(basename "$o" .o)
	[ -n "${RANK[$f]+x}" ] || continue
	bad=""
	while read -r sym; do
		df=${FDEF[$sym]:-}
		[ -z "$df" ] || [ "$df" = "$f" ] && continue
		[ "${RANK[$df]}" -gt "${RANK[$f]}" ] || bad="$bad $sym($df.c)"
	done < <(nm -u "$o" | awk '$2 ~ /^gr_/ {print $2}' | sort -u)
	[ -z "$bad" ]; ok $? "control/$f.c calls only files below it${bad:+: not$bad}"
done
tap_done
