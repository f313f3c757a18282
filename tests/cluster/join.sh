#!/usr/bin/env bash
# join.sh - forming a pool: `cluster init` on a daemon of the etcd pool makes
# the pool record and prints a join token once (a second init is refused; on
# SQLite init is refused); a standalone daemon (own SQLite store) joining with
# a wrong token, an etcd address where nothing listens (a port of the test's
# switch namespace) or the name of a host online in the pool (a standalone
# daemon called h1) gets a clear error and nothing changes, neither in its
# state folder (no pool.url) nor in the pool (no key of the joiner; h1
# registered with the same start and lease as before); with the right token
# it records the pool and, after a restart without --store, is online in the
# pool; `cluster leave` takes it out (gone from the pool's list) and its next
# start is standalone again.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
cluster_start 2; ok $? "etcd and 2 pool daemons (own network namespaces: $NETNS_ON)"
ADDR=${STORE#etcd://}
# pool_keys PREFIX [etcdctl flags]: the pool's keys under PREFIX (etcdctl in the switch namespace)
pool_keys() {
	local p=$1; shift
	in_ns "$SW" env ETCDCTL_API=3 etcdctl --endpoints="$ETCD_IP:${ETCD_CPORT[0]},$ETCD_IP:${ETCD_CPORT[1]}" \
		--command-timeout=10s get --prefix "$p" --keys-only "$@"
}
hosts_of() { gh "$1" host list --format json 2>/dev/null | python3 -c "import sys,json; print(' '.join(h['name']+':'+h['state'] for h in json.load(sys.stdin)))"; }

err=$(gh 1 cluster show 2>&1); [ $? -eq 1 ] && echo "$err" | grep -q "no pool"; ok $? "no pool yet: $err"
out=$(gh 1 cluster init); ok $? "cluster init"
TOKEN=$(echo "$out" | sed -n 's/^join token (shown once): //p')
[ ${#TOKEN} = 64 ]; ok $? "a 64-hex-digit join token printed once"
gh 2 cluster show | grep -q '^created_by: h1'; ok $? "h2 sees the pool h1 made"
! gh 2 cluster show --format json | grep -q "$TOKEN\|token_sha256"; ok $? "the token (and its hash) are not shown again"
err=$(gh 2 cluster init 2>&1); [ $? -eq 1 ] && echo "$err" | grep -q "initialized already"; ok $? "second init refused: $err"

host_start 3 --standalone; ok $? "h3 starts standalone (SQLite)"
err=$(gh 3 cluster init 2>&1); [ $? -eq 1 ] && echo "$err" | grep -q "SQLite store"; ok $? "init on SQLite refused: $err"
[ "$(hosts_of 3)" = "h3:online" ]; ok $? "h3 alone: $(hosts_of 3)"
err=$(gh 3 cluster join "$ADDR" --token "$(printf '%064d' 0)" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "refused the join token"; ok $? "wrong token refused: $err"
[ ! -e "$TD/h3/state/pool.url" ] && [ "$(hosts_of 1)" = "h1:online h2:online" ]; ok $? "nothing half-joined: no pool.url, the pool has h1 h2"
[ -z "$(pool_keys /gureum/hosts/h3)" ]; ok $? "no key of h3 in the pool: $(pool_keys /gureum/hosts/h3)"

# an etcd that does not answer: a port of the switch namespace with nothing on it
if [ -n "$SW" ]; then DEAD=$ETCD_IP:23799; else DEAD=127.0.0.1:$(free_ports 1); fi
err=$(gh 3 cluster join "$DEAD" --token "$TOKEN" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "reaching the pool at $DEAD\|the pool at $DEAD" && echo "$err" | grep -q "no etcd member answered"
ok $? "unreachable etcd refused, naming it: $err"
[ ! -e "$TD/h3/state/pool.url" ] && [ "$(hosts_of 3)" = "h3:online" ]; ok $? "nothing half-joined: no pool.url, h3 still standalone"
[ -z "$(pool_keys /gureum/hosts/h3)" ] && [ "$(hosts_of 1)" = "h1:online h2:online" ]; ok $? "the pool unchanged"

# a name online in the pool: a standalone daemon called h1
host_start 4 --standalone --host-name h1; ok $? "a standalone daemon named h1 (SQLite)"
# h1's registration as the pool has it: its start and the alive key's lease
h1_reg() {
	echo "$(hfield 2 h1 started)" "$(pool_keys /gureum/hosts/h1/alive -w json |
		python3 -c "import sys,json; print([k['lease'] for k in json.load(sys.stdin)['kvs']])")"
}
before=$(h1_reg)
err=$(gh 4 cluster join "$ADDR" --token "$TOKEN" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$err" | grep -q "host name 'h1' is online in the pool already"; ok $? "duplicate name refused: $err"
after=$(h1_reg)
[ ! -e "$TD/h4/state/pool.url" ] && [ -n "$before" ] && [ "$before" = "$after" ] && [ "$(hosts_of 1)" = "h1:online h2:online" ]
ok $? "nothing half-joined: no pool.url, h1's registration untouched ($after), the pool has h1 h2"
[ "$(hfield 2 h1 state)" = online ] && gh 1 list >/dev/null; ok $? "the pool's h1 still online and answering"
host_kill 4 TERM
out=$(gh 3 cluster join "$ADDR" --token "$TOKEN"); ok $? "join with the token: $out"
[ -s "$TD/h3/state/pool.url" ]; ok $? "pool.url recorded"
host_kill 3 TERM
host_start 3 --standalone; ok $? "h3 restarted without --store"
wait_for 100 eval '[ "$(hosts_of 1)" = "h1:online h2:online h3:online" ]'; ok $? "h3 online in the pool: $(hosts_of 1)"
[ "$(hosts_of 3)" = "h1:online h2:online h3:online" ]; ok $? "h3 sees the pool"
err=$(gh 3 cluster join "$ADDR" --token "$TOKEN" 2>&1); [ $? -eq 1 ] && echo "$err" | grep -q "in a pool already"; ok $? "join again refused: $err"
err=$(gh 1 cluster leave 2>&1); [ $? -eq 1 ] && echo "$err" | grep -q "started with --store"; ok $? "leave on a --store daemon explains: $err"

out=$(gh 3 cluster leave); ok $? "cluster leave: $out"
[ ! -e "$TD/h3/state/pool.url" ]; ok $? "pool.url removed"
wait_for 50 eval '[ "$(hosts_of 1)" = "h1:online h2:online" ]'; ok $? "h3 gone from the pool's list: $(hosts_of 1)"
host_kill 3 TERM
host_start 3 --standalone; ok $? "h3 restarted"
[ "$(hosts_of 3)" = "h3:online" ] && [ "$(hosts_of 1)" = "h1:online h2:online" ]; ok $? "h3 standalone again, the pool h1 h2"
tap_done
