#!/usr/bin/env bash
# logcap.sh - console.log stays bounded (src/agent/logcap.c, 8 MiB): a log
# over the limit is rotated to console.log.1 when the instance starts; while a
# container runs and floods its output, the daemon cuts the oldest part in
# place and the newest lines (and later output) are kept, readable by
# `gureum logs`.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
R=gr-test-logcap-r
F=gr-test-logcap-f
daemon_failed() { sed 's/^/#   /' "$TD/daemon.err" | tail -n 20; tap_done; }
start_daemon logcap; rc=$?; ok $rc "gureumd starts"; [ $rc -eq 0 ] || daemon_failed
ensure_busybox
size() { stat -c %s "$1" 2>/dev/null || echo -1; }

# rotation at start
run_ok "create $R" "$G" create busybox "$R" -- sh -c 'echo fresh-start; sleep 3600'
L=$TD/state/instances/$R/console.log
head -c $((9 << 20)) /dev/zero | tr '\0' 'o' >"$L"; echo old-run-end >>"$L"
run_ok "start it with a 9 MiB log" "$G" start "$R"
for _ in $(seq 1 100); do grep -q fresh-start "$L" 2>/dev/null && break; sleep 0.1; done
[ -f "$L.1" ] && tail -n1 "$L.1" | grep -q old-run-end; ok $? "the old log became console.log.1"
[ "$(size "$L")" -lt 4096 ] && grep -q fresh-start "$L"; ok $? "the new run writes a fresh console.log ($(size "$L") bytes)"
run_ok "restart it (log under the limit)" "$G" restart "$R"
tail -n1 "$L.1" | grep -q old-run-end && [ "$(grep -c fresh-start "$L")" -ge 1 ]; ok $? "a small log is not rotated"

# the cap while running (needs FALLOC_FL_COLLAPSE_RANGE where the state folder lives)
probe=$TD/collapse-probe
head -c 65536 /dev/zero >"$probe"
if ! fallocate -c -o 0 -l 4096 "$probe" 2>/dev/null; then
	skip "cut while running: the file system of $TD cannot collapse ranges (rotation at start still applies)"
else
	run_ok "launch $F flooding 20 MB of output" "$G" launch busybox "$F" -- sh -c \
		'head -c 20000000 /dev/zero | tr "\0" x; echo; echo flood-end; while sleep 0.2; do echo tick; done'
	L=$TD/state/instances/$F/console.log
	cut=1
	for _ in $(seq 1 600); do # the daemon checks every 10 s
		if grep -q flood-end "$L" 2>/dev/null && [ "$(size "$L")" -le $((8 << 20)) ]; then cut=0; break; fi
		sleep 0.1
	done
	ok $cut "the running container's log is cut to the limit ($(size "$L") bytes)"
	grep -q "console.log cut" "$TD/daemon.log"; ok $? "the daemon logged the cut"
	n=$(grep -c tick "$L"); sleep 1
	[ "$(grep -c tick "$L")" -gt "$n" ]; ok $? "output goes on being appended after the cut"
	"$G" logs "$F" | tail -n 3 | grep -q tick; ok $? "gureum logs shows the newest lines"
	run_ok "delete $F" "$G" delete --force "$F"
fi
run_ok "delete $R" "$G" delete --force "$R"
[ -z "$(leftovers)" ]; ok $? "no mounts or cgroups left"
tap_done
