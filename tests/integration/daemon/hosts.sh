#!/usr/bin/env bash
# hosts.sh - membership on the SQLite store (one host): the daemon registers
# its host record and lease at start, `gureum host list|show` and GET
# /v1/hosts[/NAME] show it online and leader; evacuate/restore answer 501; a
# second daemon on the same store with the same --host-name refuses to start
# while the first is online; a daemon killed with SIGKILL and restarted takes
# its own name back (the lease it saved), and a clean stop makes it offline at
# once.  The cluster (etcd) side is tests/cluster/membership.sh.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
start_daemon hosts --host-name alpha --host-ttl 4; ok $? "gureumd --host-name alpha starts"

out=$("$G" host list); ok $? "gureum host list"
echo "$out" | grep -Eq '^alpha +online +\* '; ok $? "alpha is online and the leader: $(echo "$out" | tail -n1)"
"$G" host list --format json >"$TD/hosts.json"
python3 - "$TD/hosts.json" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))
assert len(h) == 1, h
a = h[0]
assert a["name"] == "alpha" and a["state"] == "online" and a["leader"] is True, a
assert a["capacity"]["cores"] >= 1 and a["capacity"]["memory"] > 0, a
assert a["load"]["instances_running"] == 0 and a["instances"] == 0, a
assert a["lease"]["ttl"] >= 4 and a["lease"]["age"] >= 0 and a["version"], a
PY
ok $? "--format json: state, leader, capacity, load, lease, version"
"$G" host show alpha | grep -q '^state: online'; ok $? "gureum host show alpha"
out=$(api GET /v1/hosts/alpha); [ "$(echo "$out" | tail -n1)" = 200 ]; ok $? "GET /v1/hosts/alpha -> 200"
out=$(api GET /v1/hosts/nope); [ "$(echo "$out" | tail -n1)" = 404 ]; ok $? "GET /v1/hosts/nope -> 404"
out=$(api POST /v1/hosts/alpha/evacuate); [ "$(echo "$out" | tail -n1)" = 501 ] &&
	echo "$out" | grep -q "not implemented yet (migration)"; ok $? "POST evacuate -> 501 not implemented yet"
err=$("$G" host restore alpha 2>&1); [ $? -eq 1 ] && echo "$err" | grep -q "not implemented yet"; ok $? "gureum host restore: $err"

# the same name from a second daemon on the same store file
err=$("$GUREUMD" --state-dir "$TD/state2" --run-dir "$TD/run2" --cgroup-prefix "$CGP-2" \
	--store "sqlite://$TD/state/state.db" --host-name alpha 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$err" | grep -q "host name 'alpha' is already online"; ok $? "duplicate name refused: $err"
"$G" host list | grep -Eq '^alpha +online'; ok $? "alpha still online"

# SIGKILL and restart: the saved lease lets it take its own name back at once
stop_daemon KILL
start_daemon hosts --host-name alpha --host-ttl 4; ok $? "restarted after SIGKILL"
"$G" host list | grep -Eq '^alpha +online +\*'; ok $? "alpha online and leader again"

# a second name on the same store: one leader, two hosts; a clean stop of
# the second makes it offline at once (its lease is revoked)
"$GUREUMD" --state-dir "$TD/state2" --run-dir "$TD/run2" --cgroup-prefix "$CGP-2" \
	--store "sqlite://$TD/state/state.db" --host-name beta --log "$TD/beta.log" & BPID=$!
up=1; for _ in $(seq 1 100); do GUREUM_SOCKET=$TD/run2/gureum.sock "$G" list >/dev/null 2>&1 && { up=0; break; }; sleep 0.1; done
ok $up "beta starts on the same store"
out=$("$G" host list)
[ "$(echo "$out" | grep -c ' online ')" = 2 ] && [ "$(echo "$out" | grep -Ec '^[a-z]+ +online +\*')" = 1 ]; ok $? "two hosts online, one leader"
kill -TERM $BPID; wait $BPID
"$G" host list | grep -Eq '^beta +offline +-'; ok $? "beta offline after a clean stop: $("$G" host list | grep beta)"
rmdir /sys/fs/cgroup/*/"$CGP-2" /sys/fs/cgroup/unified/"$CGP-2" 2>/dev/null
tap_done
