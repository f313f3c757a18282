#!/usr/bin/env bash
# console.sh - the web console in a real browser: gureumd serves /ui/ on its TLS listener
# (no token for the page, caching headers, a CSP without inline script), and headless
# chromium (puppeteer-core, console.mjs) logs in, sees a container launched through the API
# appear without a reload, runs `echo hello` in its shell (xterm.js over the exec
# websocket), stops it with the button; a viewer's buttons are disabled and the API refuses
# a forced one; a wrong token shows the API's error; a restart of gureumd under the open
# page: it reconnects and shows what changed, no reload. Screenshots: build/test-logs/web/.
. "$(dirname "$0")/../daemon/lib.sh"
need_root_and_bins
UI=$GR_BUILD/web
[ -f "$UI/index.html" ]; ok $? "the console is built ($UI/index.html; make web)"
[ -d "$GR_SRC/web/node_modules/puppeteer-core" ]; ok $? "puppeteer-core is installed (make web runs npm ci)"
CHROMIUM=$(command -v chromium || true)
[ -n "$CHROMIUM" ] || { skip "no chromium (deps/web.txt)"; tap_done; }
command -v openssl >/dev/null || { skip "openssl not installed"; tap_done; }

TD=$(mktemp -d /tmp/gr-test-d-web.XXXXXX); chmod 711 "$TD"; CGP="gr-test-d-web-$$"; trap cleanup EXIT; trap 'exit 143' TERM INT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TD/key.pem" -out "$TD/cert.pem" -days 2 \
	-subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1
ok $? "self-signed certificate made"
ADMIN=admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
VIEWER=viewer-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s admin\n%s viewer\n' "$ADMIN" "$VIEWER" >"$TD/tokens"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DFLAGS=(--listen 127.0.0.1:$PORT --tls-cert "$TD/cert.pem" --tls-key "$TD/key.pem" --tokens "$TD/tokens")
start_daemon web "${DFLAGS[@]}"
ok $? "gureumd serves HTTPS on 127.0.0.1:$PORT"
ensure_busybox
U=https://127.0.0.1:$PORT
hdr() { curl -s -D - -o /dev/null --cacert "$TD/cert.pem" "$@" | tr -d '\r'; }

h=$(hdr "$U/ui/")
echo "$h" | grep -q '^HTTP/[0-9.]* 200'; ok $? "GET /ui/ without a token: 200"
echo "$h" | grep -qi '^cache-control: no-cache$'; ok $? "index.html: Cache-Control no-cache"
csp=$(echo "$h" | grep -i '^content-security-policy:')
echo "$csp" | grep -q "script-src 'self';" && ! echo "$csp" | grep -q "script-src[^;]*unsafe"
ok $? "a CSP with scripts from the page's origin only: $csp"
js=$(curl -s --cacert "$TD/cert.pem" "$U/ui/" | grep -o 'app-[A-Z0-9]*\.js' | head -n1)
h=$(hdr "$U/ui/$js")
echo "$h" | grep -q '^HTTP/[0-9.]* 200' && echo "$h" | grep -qi '^cache-control: .*immutable'
ok $? "the hashed bundle $js: 200, Cache-Control immutable"
echo "$h" | grep -qi '^content-type: text/javascript'; ok $? "the bundle is served as JavaScript"
[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TD/cert.pem" "$U/ui")" = 301 ]; ok $? "/ui redirects to /ui/"
out=$(curl -s -w '\n%{http_code}' --cacert "$TD/cert.pem" --path-as-is "$U/ui/../v1/instances")
[ "$(echo "$out" | tail -n1)" = 404 ] && ! echo "$out" | grep -q '"instances":'
ok $? "/ui/../v1/... is not a way around the token (404, no data)"
[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TD/cert.pem" --path-as-is "$U/ui/..%2fstate")" = 404 ]
ok $? "no file outside the console's folder (404)"
[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TD/cert.pem" -X POST "$U/ui/")" = 400 ]; ok $? "POST /ui/: 400"
out=$(curl -s --cacert "$TD/cert.pem" -H "Authorization: Bearer $VIEWER" "$U/v1/token")
[ "$out" = '{"role":"viewer"}' ]; ok $? "GET /v1/token names the role: $out"
[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TD/cert.pem" "$U/v1/token")" = 401 ]; ok $? "GET /v1/token without a token: 401"

# a websocket offering the token as a subprotocol (what a browser does)
wsk() { # token -> HTTP status and the selected subprotocol of an exec upgrade
	local b64; b64=$(printf %s "$1" | base64 -w0 | tr '+/' '-_' | tr -d '=')
	curl -s -D - -o /dev/null --max-time 5 --cacert "$TD/cert.pem" -H 'Upgrade: websocket' -H 'Connection: Upgrade' \
		-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' -H 'Sec-WebSocket-Version: 13' \
		-H "Sec-WebSocket-Protocol: gureum.v1, bearer.gureum.$b64" "$U/v1/instances/web-none/exec" | tr -d '\r' |
		awk '/^HTTP/ {s=$2} tolower($1)=="sec-websocket-protocol:" {p=$2} END {print s, p}'
}
out=$(wsk "$VIEWER"); [ "${out%% *}" = 403 ]; ok $? "websocket with a viewer's token as subprotocol: 403 ($out)"
out=$(wsk "not-a-token-0123456789"); [ "${out%% *}" = 401 ]; ok $? "websocket with a wrong token as subprotocol: 401 ($out)"
out=$(wsk "$ADMIN"); [ "${out%% *}" = 404 ]; ok $? "websocket with the admin's token reaches the route (404 no such instance: $out)"

SHOTS=$GR_SRC/build/test-logs/web/$(basename "$GR_BUILD")
mkdir -p "$SHOTS"
mkdir -p "$TD/chromium"
rc=0
while IFS= read -r line; do
	case "$line" in
	PASS\ *) ok 0 "${line#PASS }" ;;
	FAIL\ *) ok 1 "${line#FAIL }" ;;
	SKIPLINE\ *) skip "${line#SKIPLINE }" ;;
	SKIP\ *) skip "${line#SKIP }"; tap_done ;;
	\#*) echo "$line" ;;
	RESTART) stop_daemon; start_daemon web "${DFLAGS[@]}"; ok $? "gureumd restarted"; touch "$TD/restarted" ;;
	*) echo "# $line" ;;
	esac
done < <(cd "$TD" && GR_SRC=$GR_SRC GR_UI_URL=$U GR_ADMIN=$ADMIN GR_VIEWER=$VIEWER GR_SHOTS=$SHOTS \
	GR_CHROMIUM=$CHROMIUM GR_PROFILE=$TD/chromium GR_NAME=web-c1 GR_RESTARTED=$TD/restarted NODE_EXTRA_CA_CERTS=$TD/cert.pem \
	timeout 600 node "$GR_SRC/tests/integration/web/console.mjs" 2>&1; echo "node exited $?")
ls "$SHOTS"/dashboard.png >/dev/null 2>&1; ok $? "screenshots saved in $SHOTS"
! grep -q 'AddressSanitizer\|runtime error' "$TD/daemon.err"; ok $? "no sanitizer report from gureumd so far"
tap_done
