#!/usr/bin/env bash
# cli_help.sh - every `gureum` command and subcommand answers --help (and -h,
# and `gureum help CMD`) with its usage on stdout and exit 0, without asking
# the daemon (GUREUM_SOCKET points nowhere here); the command list printed by
# `gureum --help` holds every command a user looks for.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
TD=$(mktemp -d /tmp/gr-test-clihelp.XXXXXX)
trap 'rm -rf "$TD"' EXIT
export GUREUM_SOCKET=$TD/nowhere.sock
unset GUREUM_URL

"$GUREUM" --help >"$TD/top" 2>"$TD/top.err"; ok $? "gureum --help: exit 0"
[ ! -s "$TD/top.err" ]; ok $? "gureum --help: nothing on stderr"
cmds=$(awk '/^commands:/{on=1; next} on && /^  [a-z]/{print $1} on && /^$/{on=0}' "$TD/top")
diag "commands listed: $(echo $cmds)"
missing=""
for want in launch create start stop restart delete list show exec console logs config image \
	snapshot operation events sim version; do
	echo "$cmds" | grep -qx "$want" || missing="$missing $want"
done
[ -z "$missing" ]; ok $? "gureum --help lists every command (missing:${missing:- none})"

# help_ok LABEL EXPECT_IN_USAGE CMD...: exit 0, usage on stdout, nothing on stderr
help_ok() {
	local label=$1 want=$2; shift 2
	local out errf=$TD/err rc
	out=$("$GUREUM" "$@" 2>"$errf"); rc=$?
	if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q '^usage: ' &&
	   printf '%s\n' "$out" | grep -qF -- "$want" && [ ! -s "$errf" ]; then
		return 0
	fi
	diag "$label: exit $rc, stdout: $(printf '%s' "$out" | head -n 2 | tr '\n' '|') stderr: $(head -c 200 "$errf")"
	return 1
}

fails=0
for c in $cmds; do
	help_ok "$c --help" "gureum $c" "$c" --help || fails=$((fails + 1))
	help_ok "$c -h" "gureum $c" "$c" -h || fails=$((fails + 1))
	help_ok "help $c" "gureum $c" help "$c" || fails=$((fails + 1))
done
ok $fails "every listed command answers --help, -h and 'gureum help CMD' ($fails failed)"

# subcommands: the usage names the subcommand, whatever follows it
fails=0
for s in "image import" "image build" "image list" "image show" "image delete" \
	"snapshot create" "snapshot list" "snapshot show" "snapshot restore" "snapshot delete" \
	"operation list" "operation show" "operation wait" \
	"config set" "config get" "config show"; do
	# shellcheck disable=SC2086
	help_ok "$s --help" "gureum $s" $s --help || fails=$((fails + 1))
	# shellcheck disable=SC2086
	help_ok "$s NAME --help" "gureum $s" $s somename --help || fails=$((fails + 1))
done
ok $fails "every subcommand answers --help, also after its arguments ($fails failed)"

# --help wins over bad arguments and never reaches the daemon
help_ok "show with a bad flag" "gureum show" show --bogus --help; ok $? "show --bogus --help: still the usage, exit 0"
help_ok "config set" "--option" config set x --help; ok $? "config set --help describes --option"
help_ok "config set" "--env" config set x --help; ok $? "config set --help describes --env"
# after --, --help belongs to the command run inside the instance
"$GUREUM" exec x -- prog --help >/dev/null 2>"$TD/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'gureumd is not running' "$TD/err"; ok $? "exec NAME -- CMD --help is the command's flag (exit $rc: $(head -c 200 "$TD/err"))"
"$GUREUM" help nosuch >/dev/null 2>&1; ok $([ $? -eq 2 ] && echo 0 || echo 1) "help of an unknown command: exit 2"
tap_done
