#!/usr/bin/env bash
# exec_tty_hooks.sh - exec joins the container (namespaces, cgroup, process settings),
# terminal mode hands the pty over --console-socket, hooks run in the spec's order
# with the state on stdin, and CVE-2019-5736: the container cannot open the
# runtime's /proc/<init>/exe.
. "$GR_SRC/tests/integration/runtime/lib/common.bash"
B=$WORK/b
mk_bundle "$B" '.process.args = ["sleep", "1000"] | .hostname = "gr-test-exec"'
$OCI create -b "$B" gr-test-rt-ex >"$WORK/out" 2>&1; ok $? "create"

# CVE-2019-5736: while init still runs runtime code (created), the container must not
# be able to open /proc/1/exe (the gureum-oci binary) at all, let alone for writing.
sum_before=$(sha256sum "$BIN" | cut -d' ' -f1)
out=$($OCI exec gr-test-rt-ex sh -c 'readlink /proc/1/exe || echo link-denied; (exec 3>>/proc/1/exe) 2>/dev/null && echo WRITE-OPENED || echo write-denied; (cat /proc/1/exe >/dev/null) 2>/dev/null && echo READ-OPENED || echo read-denied' 2>&1)
echo "$out" | grep -q write-denied && ! echo "$out" | grep -q WRITE-OPENED; ok $? "container cannot open the runtime's /proc/1/exe for writing ($(echo $out))"
echo "$out" | grep -q read-denied; ok $? "nor read it (init is not dumpable)"
[ "$(sha256sum "$BIN" | cut -d' ' -f1)" = "$sum_before" ]; ok $? "the runtime binary is unchanged"

run_ok "start" $OCI start gr-test-rt-ex
pid=$($OCI state gr-test-rt-ex | jq .pid)
same=1
for ns in pid mnt uts ipc net cgroup; do
	inside=$($OCI exec gr-test-rt-ex readlink /proc/self/ns/$ns)
	[ "$inside" = "$(readlink /proc/$pid/ns/$ns)" ] || { same=0; diag "$ns: $inside vs $(readlink /proc/$pid/ns/$ns)"; }
done
ok $(( same != 1 )) "exec joins the init's pid, mnt, uts, ipc, net and cgroup namespaces"
[ "$($OCI exec gr-test-rt-ex hostname)" = gr-test-exec ]; ok $? "exec sees the container's hostname"
$OCI exec gr-test-rt-ex sh -c 'exit 5'; ok $(( $? != 5 )) "exec returns the process's exit status"
out=$($OCI exec gr-test-rt-ex sh -c 'cat /proc/self/cgroup; echo ==; cat /proc/1/cgroup')
[ "$(echo "$out" | sed -n '1,/==/p' | grep -v ==)" = "$(echo "$out" | sed -n '/==/,$p' | grep -v ==)" ]
ok $? "exec'd process sees the init's cgroups through the container's cgroup namespace"
echo "$out" | grep -q '^[0-9]*:memory:/$'; ok $? "the cgroup namespace is rooted at the container's cgroup ($(echo $out))"
[ "$($OCI exec --cwd /proc --env FOO=bar gr-test-rt-ex sh -c 'echo $(pwd) $FOO')" = "/proc bar" ]; ok $? "exec --cwd and --env"
[ "$($OCI exec --user 1000:1000 gr-test-rt-ex id -u)" = 1000 ]; ok $? "exec --user"
$OCI exec gr-test-rt-ex grep -q 'CapEff:.*00000000a80425fb' /proc/self/status; ok $? "exec applies the container's capabilities"
echo '{"args": ["sh", "-c", "echo from-process-json $X"], "env": ["X=1", "PATH=/bin"], "cwd": "/", "user": {"uid": 0, "gid": 0}}' >"$WORK/p.json"
[ "$($OCI exec --process "$WORK/p.json" gr-test-rt-ex)" = "from-process-json 1" ]; ok $? "exec --process file.json"
$OCI exec --detach --pid-file "$WORK/epid" gr-test-rt-ex sleep 30 >/dev/null 2>&1; ok $? "exec --detach"
[ -n "$(cat "$WORK/epid" 2>/dev/null)" ] && grep -q sleep /proc/$(cat "$WORK/epid")/cmdline; ok $? "detached process runs with the pid written"
grep -q 'memory:/gureum/gr-test-rt-ex$' /proc/$(cat "$WORK/epid")/cgroup; ok $? "exec'd process is in the container's cgroup (host view)"
$OCI exec gr-test-rt-ex /no/such >/dev/null 2>"$WORK/err"; ok $(( $? == 0 )) "exec of a missing program fails"
grep -q "not found" "$WORK/err"; ok $? "with a clear error ($(cat "$WORK/err"))"
$OCI delete --force gr-test-rt-ex

# terminal: the pty master arrives over the console socket
cc -O1 -o "$WORK/console-recv" "$GR_SRC/tests/integration/runtime/lib/console-recv.c" || { ok 1 "console-recv builds"; 
# a failing poststart hook is a warning; a hook that exits without reading its stdin is fine
big=$(head -c 50000 /dev/zero | tr '\0' a)
mk_bundle "$B" '.process.args = ["true"] | .annotations = {"big": "'"$big"'"}
	| .hooks = {"prestart": [{"path": "/bin/true"}], "poststart": [{"path": "/bin/false"}, {"path": "/bin/sh", "args": ["sh", "-c", "echo second >> '"$H"'/post"]}]}'
$OCI run -b "$B" gr-test-rt-hk2 >"$WORK/hk2.out" 2>&1; rc=$?
ok $rc "run succeeds although a poststart hook fails and hooks ignore a 50 kB state ($(tail -c 300 "$WORK/hk2.out"))"
grep -q 'warning: .*hooks.poststart\[0\]' "$WORK/hk2.out"; ok $? "the failing poststart hook is reported as a warning"
grep -q second "$H/post"; ok $? "the next poststart hook still ran"
tap_done; }
mk_bundle "$B" '.process.terminal = true | .process.args = ["sh", "-c", "tty; [ -t 0 ] && echo stdin-is-tty; echo done"]'
"$WORK/console-recv" "$WORK/console.sock" "$WORK/console.out" &
recv=$!
for i in $(seq 100); do [ -S "$WORK/console.sock" ] && break; sleep 0.02; done
$OCI run -b "$B" --console-socket "$WORK/console.sock" gr-test-rt-tty >"$WORK/tty.out" 2>&1; rc=$?
ok $rc "run with a terminal ($(cat "$WORK/tty.out"))"
[ $rc = 0 ] || kill $recv 2>/dev/null # it would wait for a connection forever
wait $recv
grep -q got-fd "$WORK/console.out"; ok $? "console socket received the pty master"
grep -q '/dev/pts/0' "$WORK/console.out"; ok $? "the program's tty is /dev/pts/0 in the container"
grep -q stdin-is-tty "$WORK/console.out" && grep -q done "$WORK/console.out"; ok $? "output arrives through the pty ($(tr '\r\n' '  ' <"$WORK/console.out"))"

# exec --tty
mk_bundle "$B" '.process.args = ["sleep", "1000"]'
$OCI create -b "$B" gr-test-rt-ext >"$WORK/out" 2>&1 && $OCI start gr-test-rt-ext
"$WORK/console-recv" "$WORK/console2.sock" "$WORK/console2.out" &
recv=$!
for i in $(seq 100); do [ -S "$WORK/console2.sock" ] && break; sleep 0.02; done
$OCI exec --tty --console-socket "$WORK/console2.sock" gr-test-rt-ext sh -c 'tty' >"$WORK/tty2.out" 2>&1; rc=$?
ok $rc "exec --tty ($(cat "$WORK/tty2.out"))"
[ $rc = 0 ] || kill $recv 2>/dev/null
wait $recv
grep -q '/dev/pts/' "$WORK/console2.out"; ok $? "exec'd process has a pty ($(tr '\r\n' '  ' <"$WORK/console2.out"))"
$OCI delete --force gr-test-rt-ext

# hooks in the spec's order; createContainer/startContainer run in the container's namespaces
H=$WORK/hooklog
mkdir -p "$H"
hook() { # name, log path as the hook sees it
	printf '{"path": "/bin/sh", "args": ["sh", "-c", "read -r s; echo %s $(echo \\"$s\\" | grep -o \\"\\\\\\"status\\\\\\":\\\\\\"[a-z]*\\") $(hostname) >> %s/log"]}' "$1" "$2"
}
mk_bundle "$B" '.process.args = ["sh", "-c", "echo program >> /hooklog/log"] | .hostname = "gr-test-hooks"
	| .mounts += [{"destination": "/hooklog", "type": "bind", "source": "'"$H"'", "options": ["rbind", "rw"]}]
	| .hooks = {"prestart": ['"$(hook prestart "$H")"'], "createRuntime": ['"$(hook createRuntime "$H")"'],
		"createContainer": ['"$(hook createContainer "$H")"'], "startContainer": ['"$(hook startContainer /hooklog)"'],
		"poststart": ['"$(hook poststart "$H")"'], "poststop": ['"$(hook poststop "$H")"']}'
ok $? "hook bundle"
$OCI create -b "$B" gr-test-rt-hk >"$WORK/out" 2>&1; ok $? "create with hooks ($(cat "$WORK/out"))"
$OCI start gr-test-rt-hk; ok $? "start"
wait_stopped gr-test-rt-hk
$OCI delete gr-test-rt-hk; ok $? "delete"
order=$(awk '{print $1}' "$H/log" | tr '\n' ' ')
diag "hook log: $(tr '\n' '|' <"$H/log")"
[ "$order" = "prestart createRuntime createContainer startContainer poststart program poststop " ] ||
[ "$order" = "prestart createRuntime createContainer startContainer program poststart poststop " ]
ok $? "hooks ran in order ($order)"
grep -q '^prestart "status":"created ' "$H/log"; ok $? "prestart got the state JSON on stdin (created, as the upstream validation suite expects)"
grep -q '^poststop "status":"stopped ' "$H/log"; ok $? "poststop got status stopped"
grep -q '^createContainer .* gr-test-hooks$' "$H/log"; ok $? "createContainer ran in the container's uts namespace"
grep -q '^prestart .* gr-test-hooks$' "$H/log"; ok $(( $? == 0 )) "prestart ran in the runtime's namespace"

# a failing poststart hook is a warning; a hook that exits without reading its stdin is fine
big=$(head -c 50000 /dev/zero | tr '\0' a)
mk_bundle "$B" '.process.args = ["true"] | .annotations = {"big": "'"$big"'"}
	| .hooks = {"prestart": [{"path": "/bin/true"}], "poststart": [{"path": "/bin/false"}, {"path": "/bin/sh", "args": ["sh", "-c", "echo second >> '"$H"'/post"]}]}'
$OCI run -b "$B" gr-test-rt-hk2 >"$WORK/hk2.out" 2>&1; rc=$?
ok $rc "run succeeds although a poststart hook fails and hooks ignore a 50 kB state ($(tail -c 300 "$WORK/hk2.out"))"
grep -q 'warning: .*hooks.poststart\[0\]' "$WORK/hk2.out"; ok $? "the failing poststart hook is reported as a warning"
grep -q second "$H/post"; ok $? "the next poststart hook still ran"
tap_done
