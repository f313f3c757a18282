#!/usr/bin/env bash
# bench/api - `GET /v1/instances` with 1,000 instances defined, over HTTPS on loopback with
# bearer-token auth, driven by wrk (2 threads, 16 connections, 10 s).  The answer is the full
# list (every instance document, read from the store per request).
# Last line: rps=<requests per second> p99_ms=<99th percentile latency>
set -u
GR_SRC=${GR_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
GR_BUILD=${GR_BUILD:-$GR_SRC/build}
COUNT=${COUNT:-1000}
DURATION=${DURATION:-10s}
[ "$(id -u)" -eq 0 ] || { echo "bench/api: needs root" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench/api: wrk missing (apt-get install wrk)" >&2; exit 1; }
TD=$(mktemp -d /tmp/gr-bench-api.XXXXXX)
chmod 711 "$TD" # an unprivileged container's root must reach its root folder
CGP=gr-bench-api-$$
DPID=""
G=$GR_BUILD/bin/gureum
cleanup() {
	[ -n "$DPID" ] && { kill "$DPID"; wait "$DPID" 2>/dev/null; }
	grep " $TD/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$TD"
}
trap cleanup EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TD/key.pem" -out "$TD/cert.pem" -days 2 \
	-subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
TOKEN=bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$TOKEN viewer" >"$TD/tokens"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export GUREUM_SOCKET=$TD/run/gureum.sock
"$GR_BUILD/bin/gureumd" --state-dir "$TD/state" --run-dir "$TD/run" --cgroup-prefix "$CGP" \
	--log "$TD/daemon.log" --listen "127.0.0.1:$PORT" --tls-cert "$TD/cert.pem" \
	--tls-key "$TD/key.pem" --tokens "$TD/tokens" &
DPID=$!
for _ in $(seq 1 100); do "$G" list >/dev/null 2>&1 && break; sleep 0.1; done
"$G" image build busybox >/dev/null || exit 1
t0=$(date +%s)
WP=""
for w in 0 1 2 3; do
	( for i in $(seq "$w" 4 $((COUNT - 1))); do "$G" create busybox "ba-$i" >/dev/null || exit 1; done ) &
	WP="$WP $!"
done
for p in $WP; do wait "$p"; done
n=$("$G" list --format json | python3 -c 'import sys,json; print(len(json.load(sys.stdin)))')
echo "defined $n instances in $(( $(date +%s) - t0 )) s"
[ "$n" -ge "$COUNT" ] || { echo "bench/api: only $n instances" >&2; exit 1; }
bytes=$(curl -s --cacert "$TD/cert.pem" -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$PORT/v1/instances" | wc -c)
echo "one answer is $bytes bytes"
wrk -t2 -c16 -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" \
	"https://127.0.0.1:$PORT/v1/instances" | tee "$TD/wrk.txt"
rps=$(awk '/^Requests\/sec:/ {print $2}' "$TD/wrk.txt")
p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$TD/wrk.txt")
errs=$(awk '/Non-2xx/ {print $5}' "$TD/wrk.txt")
[ -z "$errs" ] || { echo "bench/api: $errs non-2xx answers" >&2; exit 1; }
echo "rps=$rps p99_ms=$p99"
