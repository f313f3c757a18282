#!/usr/bin/env bash
# run.sh - `make run`: the gureum daemon with a demo container.
#
# Starts gureumd (unless one already answers on the socket), builds the busybox master
# image if it is missing, launches the container "demo" (or starts it again), prints
# `gureum list` and how to use the CLI, then keeps the daemon running until Ctrl-C.
# Stopping the daemon leaves instances running; the next start finds them again.
#   GUREUM_STATE_DIR (default /var/lib/gureum), GUREUM_RUN_DIR (default /run/gureum)
#   GR_BUILD         build folder with bin/gureumd and bin/gureum (default ./build)
#   GUREUM_RUN_ONCE=1  set up, print, and return at once (the daemon keeps running)
#   GUREUM_DEFAULT_NETWORK  the default network gr0's subnet (bridge, NAT, DHCP made at
#                    the first start; default 10.210.0.0/16; "none" for no network)
#   GUREUM_CONSOLE   where the API and the web console (docs/WEB.md) listen on TCP with
#                    TLS (default 127.0.0.1:8443; "none": the unix socket only). A self-signed
#                    certificate and an admin and a viewer token are made once under
#                    $GUREUM_STATE_DIR/console/; the console's URL and token are printed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${GR_BUILD:-$top/build}
STATE=${GUREUM_STATE_DIR:-/var/lib/gureum}
RUN=${GUREUM_RUN_DIR:-/run/gureum}
export GUREUM_SOCKET=$RUN/gureum.sock
G=$B/bin/gureum
if [ "$(id -u)" -ne 0 ]; then
	echo "run.sh: gureumd runs containers and needs root (sudo make run)" >&2
	exit 1
fi
for f in "$B/bin/gureumd" "$G"; do
	[ -x "$f" ] || { echo "run.sh: $f is not built (make all)" >&2; exit 1; }
done

CONSOLE=${GUREUM_CONSOLE:-127.0.0.1:8443}
CDIR=$STATE/console
listen=()
if [ "$CONSOLE" != none ]; then
	mkdir -p "$CDIR" && chmod 700 "$CDIR"
	if [ ! -s "$CDIR/cert.pem" ] || [ ! -s "$CDIR/key.pem" ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -keyout "$CDIR/key.pem" -out "$CDIR/cert.pem" \
			-days 825 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:${CONSOLE%:*}" \
			>/dev/null 2>&1 || { echo "run.sh: cannot make a certificate with openssl" >&2; exit 1; }
	fi
	if [ ! -s "$CDIR/tokens" ]; then
		( umask 077
		  printf '# gureumd --tokens file made by scripts/run.sh: <token> <role>\n%s admin\n%s viewer\n' \
			"$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
			"$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$CDIR/tokens" )
	fi
	listen=(--listen "$CONSOLE" --tls-cert "$CDIR/cert.pem" --tls-key "$CDIR/key.pem" --tokens "$CDIR/tokens")
fi

DPID=""
if "$G" list >/dev/null 2>&1; then
	echo "== gureumd is already running on $GUREUM_SOCKET; using it"
else
	mkdir -p "$STATE"
	echo "== starting gureumd (state $STATE, socket $GUREUM_SOCKET, log $STATE/gureumd.log)"
	"$B/bin/gureumd" --state-dir "$STATE" --run-dir "$RUN" --log "$STATE/gureumd.log" \
		--pid-file "$RUN/gureumd.pid" --default-network "${GUREUM_DEFAULT_NETWORK:-10.210.0.0/16}" "${listen[@]}" </dev/null >>"$STATE/gureumd.log" 2>&1 &
	DPID=$!
	for _ in $(seq 1 100); do
		"$G" list >/dev/null 2>&1 && break
		kill -0 "$DPID" 2>/dev/null || { echo "run.sh: gureumd exited; see $STATE/gureumd.log" >&2; exit 1; }
		sleep 0.1
	done
fi

if ! "$G" image show busybox >/dev/null 2>&1; then
	echo "== building the busybox master image"
	"$G" image build busybox || exit 1
fi
state=$("$G" show demo --format json 2>/dev/null | python3 -c 'import sys,json; print(json.load(sys.stdin)["state"])' 2>/dev/null)
case "$state" in
running) echo "== the demo container is already running" ;;
"") echo "== launching the demo container"
    net=()
    "$G" network show gr0 >/dev/null 2>&1 && net=(--network gr0) # the default network
    "$G" launch busybox demo --memory 64M --cpu 0.5 --env GREETING=hello "${net[@]}" || exit 1 ;;
*) echo "== starting the demo container ($state)"; "$G" start demo || exit 1 ;;
esac
echo
"$G" list
echo
echo "== the demo container says:"
"$G" exec demo -- sh -c 'echo "$GREETING from $(hostname), pid 1 is: $(cat /proc/1/comm)"; uname -sr'
cat <<EOT

Try (as root):
  export GUREUM_SOCKET=$GUREUM_SOCKET; alias gureum=$G
  gureum list                         # instances (--format json|yaml)
  gureum exec -t demo -- sh           # a shell inside the container
  gureum launch busybox web2 --memory 128M --restart always
  gureum config set demo memory=96M   # applied live
  gureum stop demo; gureum start demo; gureum delete --force web2
  gureum logs demo; gureum events; gureum image list; gureum --help
  curl --unix-socket $GUREUM_SOCKET http://localhost/metrics
The REST API is described in docs/API.md.
EOT
if [ "$CONSOLE" != none ]; then
	cat <<EOT

Web console (docs/WEB.md): https://$CONSOLE/ui/
  log in with the admin token $(awk '$2 == "admin" {print $1; exit}' "$CDIR/tokens")
  (viewer: $(awk '$2 == "viewer" {print $1; exit}' "$CDIR/tokens"); tokens in $CDIR/tokens)
  the certificate is self-signed: $CDIR/cert.pem (curl --cacert; the browser asks once)
EOT
fi
if [ -z "$DPID" ]; then
	exit 0
fi
if [ "${GUREUM_RUN_ONCE:-0}" = 1 ]; then
	echo "gureumd keeps running (pid $DPID); stop it with: kill \$(cat $RUN/gureumd.pid)"
	exit 0
fi
echo "gureumd runs in the foreground of this command; Ctrl-C stops it (instances keep running;"
echo "the next 'make run' reattaches to them)."
trap 'kill "$DPID" 2>/dev/null' INT TERM
wait "$DPID"
echo "gureumd stopped."
