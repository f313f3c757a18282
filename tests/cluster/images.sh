#!/usr/bin/env bash
# images.sh - masters are distributed across the pool over the peer channel (mutual TLS):
# every host publishes its peer certificate in its record (key mode 0600); busybox built on
# h1 only is published pool-wide; `launch --target h2` fetches it to h2 first (h2 lists it,
# the pool record lists h1 and h2), a second launch does not fetch again, two concurrent
# launches on h3 fetch once; the peer port refuses a client without certificate, with a
# throwaway certificate and a non-peer route, and serves a pool host's certificate; an
# image whose only holder is offline is refused naming that host, nothing created.
# (A cut or corrupted stream leaving nothing: tests/unit/image/test_export.c.)
. "$(dirname "$0")/lib.sh"
need_root_and_bins
command -v curl >/dev/null && command -v openssl >/dev/null || { skip "needs curl and openssl"; tap_done; }
cluster_start 3; ok $? "etcd and 3 daemons with --peer-listen (own network namespaces: $NETNS_ON)"
pyget() { python3 -c "import sys,json; d=json.load(sys.stdin); $1" 2>/dev/null; }
etcd_get() { in_ns "$SW" env ETCDCTL_API=3 etcdctl --endpoints="$ETCD_IP:${ETCD_CPORT[0]}" get --print-value-only "$1"; }
fetches() { grep -c "image $2: fetching it from host" "$TD/h$1/daemon.log"; }

# identities
for i in 1 2 3; do
	fp=$(gh 1 host show "h$i" --format json | pyget "print(d['peer']['fingerprint'])")
	want=$(openssl x509 -in "$TD/h$i/state/peer.crt" -outform DER | sha256sum | cut -d' ' -f1)
	[ "$fp" = "sha256:$want" ]; ok $? "h$i's record carries its certificate's fingerprint ($fp)"
done
[ "$(stat -c %a "$TD/h1/state/peer.key")" = 600 ]; ok $? "the private key is mode 0600"
addr1=$(gh 2 host show h1 --format json | pyget "print(d['peer']['address'])")
[ "$addr1" = "$(hpeer 1)" ]; ok $? "h1's record names its peer address ($addr1)"

run_ok "image build busybox on h1 only" gh 1 image build busybox
! gh 2 image show busybox >/dev/null 2>&1; ok $? "h2 does not have busybox"
etcd_get /gureum/images/busybox >"$TD/rec"
pyget "assert d['hosts']==['h1'] and d['format']=='rootfs' and len(d['sha256'])==64 and d['size']>0" <"$TD/rec"
ok $? "the pool lists busybox on h1: $(cat "$TD/rec")"

t0=$(date +%s.%N)
gh 1 launch busybox f1 --target h2 >/dev/null 2>"$TD/err"; ok $? "launch --target h2 through h1: $(cat "$TD/err")"
t1=$(date +%s.%N)
diag "launch with fetch took $(python3 -c "print(round($t1 - $t0, 2))") s"
[ "$(gh 2 show f1 --format json | pyget "print(d['host'], d['state'])")" = "h2 running" ]
ok $? "f1 runs on h2"
gh 2 image show busybox --format json >"$TD/img2" 2>&1 && pyget "assert d['source']=='fetch:h1'" <"$TD/img2"
ok $? "h2 lists busybox, fetched from h1"
[ "$(gh 2 image show busybox --format json | pyget "print(d['checksum'])")" = \
  "$(gh 1 image show busybox --format json | pyget "print(d['checksum'])")" ]; ok $? "same checksum on h1 and h2"
etcd_get /gureum/images/busybox | pyget "assert sorted(d['hosts'])==['h1','h2']"; ok $? "the pool lists busybox on h1 and h2"
grep -q "image busybox: fetched from host h1 in" "$TD/h2/daemon.log"; ok $? "h2's log reports the fetch"
grep -q "peer: sending image busybox" "$TD/h1/daemon.log"; ok $? "h1's log reports the sending"
diag "$(grep "image busybox: fetched" "$TD/h2/daemon.log")"

gh 3 launch busybox f2 --target h2 >/dev/null 2>"$TD/err"; ok $? "a second launch on h2 (through h3): $(cat "$TD/err")"
[ "$(fetches 2 busybox)" = 1 ]; ok $? "no second fetch on h2 ($(fetches 2 busybox))"

gh 1 launch busybox f3 --target h3 >/dev/null 2>"$TD/err3a" & pa=$!
gh 2 launch busybox f4 --target h3 >/dev/null 2>"$TD/err3b" & pb=$!
wait $pa; ra=$?; wait $pb; rb=$?
[ $ra = 0 ] && [ $rb = 0 ]; ok $? "two concurrent launches on h3: $(cat "$TD/err3a" "$TD/err3b")"
[ "$(fetches 3 busybox)" = 1 ]; ok $? "h3 fetched busybox once ($(fetches 3 busybox))"

# the peer port, from the switch namespace (or loopback)
url="https://$(hpeer 1)/v1/peer"
code() { in_ns "$SW" curl -sk -o "$TD/body" -w '%{http_code}' --max-time 20 "$@"; }
[ "$(code "$url/images/busybox")" = 403 ]; ok $? "no client certificate: 403 ($(cat "$TD/body"))"
in_ns "" openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=gureum-peer -days 1 \
	-keyout "$TD/rogue.key" -out "$TD/rogue.crt" >/dev/null 2>&1
[ "$(code --cert "$TD/rogue.crt" --key "$TD/rogue.key" "$url/images/busybox")" = 403 ]
ok $? "a certificate of no pool host: 403 ($(cat "$TD/body"))"
grep -q "certificate sha256:.* is no pool host's" "$TD/h1/daemon.log"; ok $? "h1 logs the refusal"
c2=(--cert "$TD/h2/state/peer.crt" --key "$TD/h2/state/peer.key")
[ "$(code "${c2[@]}" "$url/ping")" = 200 ] && grep -q '"host":"h1"' "$TD/body"; ok $? "h2's certificate: ping served"
[ "$(code "${c2[@]}" "https://$(hpeer 1)/v1/instances")" = 403 ]; ok $? "a non-peer route: 403"
[ "$(code "${c2[@]}" "$url/images/nosuch")" = 404 ]; ok $? "an unknown image: 404"
pin1=$(gh 1 host show h1 --format json | pyget "print(d['peer']['pin'])")
[ "$(code "${c2[@]}" --pinnedpubkey "$pin1" "$url/ping")" = 200 ]; ok $? "h1 presents the key its record pins"

# the only holder offline
mkdir -p "$TD/tiny/bin" && cp "$TD/h1/state/images/busybox/rootfs/bin/busybox" "$TD/tiny/bin/" && ln -s busybox "$TD/tiny/bin/sh"
run_ok "image import tiny on h3 only" gh 3 image import "$TD/tiny" tiny
host_kill 3
wait_for 100 sh -c "[ \"\$(GUREUM_SOCKET=$(hsock 1) $GUREUM host show h3 --format json | python3 -c 'import sys,json; print(json.load(sys.stdin)[\"state\"])')\" = offline ]"
ok $? "h3 offline"
! gh 1 launch tiny t1 --target h2 2>"$TD/err" && grep -q "image 'tiny' is not on this host and no host holding it is online (h3 is offline" "$TD/err"
ok $? "its only holder offline: refused naming it: $(cat "$TD/err")"
! gh 1 show t1 >/dev/null 2>&1 && ! gh 2 image show tiny >/dev/null 2>&1; ok $? "nothing created"
! ls -A "$TD/h2/state/images" | grep -q '^\.'; ok $? "no staging or fetch file left on h2"
tap_done
