#!/usr/bin/env bash
# tls.sh - the API on TCP: TLS (GnuTLS via libmicrohttpd) and bearer tokens
# with roles.  No token -> 401, unknown token -> 401, viewer may read but not
# change (403), admin may do everything; the CLI works over HTTPS.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
command -v openssl >/dev/null || { skip "openssl not installed"; tap_done; }
TD=$(mktemp -d /tmp/gr-test-d-tls.XXXXXX); chmod 711 "$TD"; CGP="gr-test-d-tls-$$"; trap cleanup EXIT; trap 'exit 143' TERM INT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TD/key.pem" -out "$TD/cert.pem" -days 2 \
	-subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1
ok $? "self-signed certificate made"
ADMIN=admin-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
VIEWER=viewer-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '# test tokens\n%s admin\n%s viewer\n' "$ADMIN" "$VIEWER" >"$TD/tokens"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
start_daemon tls --listen 127.0.0.1:$PORT --tls-cert "$TD/cert.pem" --tls-key "$TD/key.pem" --tokens "$TD/tokens"
ok $? "gureumd serves HTTPS on 127.0.0.1:$PORT"
ensure_busybox
U=https://127.0.0.1:$PORT
st() { curl -s -o /dev/null -w '%{http_code}' --cacert "$TD/cert.pem" "$@"; }
[ "$(st $U/v1/instances)" = 401 ]; ok $? "no token -> 401"
[ "$(st -H "Authorization: Bearer nottherighttoken0000" $U/v1/instances)" = 401 ]; ok $? "unknown token -> 401"
[ "$(st -H "Authorization: Bearer $VIEWER" $U/v1/instances)" = 200 ]; ok $? "viewer can list -> 200"
[ "$(st -H "Authorization: Bearer $VIEWER" $U/metrics)" = 200 ]; ok $? "viewer can read metrics"
[ "$(st -X POST -H "Authorization: Bearer $VIEWER" --data '{"name":"tls-a","image":"busybox","start":true}' $U/v1/instances)" = 403 ]; ok $? "viewer cannot launch -> 403"
[ "$(st -X POST -H "Authorization: Bearer $ADMIN" --data '{"name":"tls-a","image":"busybox","start":true}' $U/v1/instances)" = 201 ]; ok $? "admin can launch -> 201"
[ "$(st -X DELETE -H "Authorization: Bearer $VIEWER" "$U/v1/instances/tls-a?force=1")" = 403 ]; ok $? "viewer cannot delete -> 403"
curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$PORT/v1/instances"; ok $([ $? -ne 0 ] && echo 0 || echo 1) "plain HTTP is not served on the TLS port"
curl -s -o /dev/null --max-time 5 "$U/v1/instances" 2>/dev/null; ok $([ $? -eq 60 ] && echo 0 || echo 1) "an unknown CA is refused by the client"
out=$(printf 'echo via-$((40+2))\nexit 4\n' | GUREUM_URL=$U GUREUM_TOKEN=$ADMIN GUREUM_CACERT=$TD/cert.pem timeout 20 "$G" exec -t tls-a -- sh); rc=$?
[ $rc -eq 4 ] && echo "$out" | grep -q via-42; ok $? "interactive exec (websocket) over HTTPS (rc $rc)"
GUREUM_URL=$U GUREUM_TOKEN=$VIEWER GUREUM_CACERT=$TD/cert.pem timeout 20 "$G" exec -t tls-a -- sh </dev/null >/dev/null 2>&1
ok $([ $? -eq 1 ] && echo 0 || echo 1) "a viewer cannot open an interactive exec"
out=$(GUREUM_URL=$U GUREUM_TOKEN=$VIEWER GUREUM_CACERT=$TD/cert.pem "$G" list); echo "$out" | grep -q '^tls-a .*running'; ok $? "CLI over HTTPS with a viewer token lists"
GUREUM_URL=$U GUREUM_TOKEN=$VIEWER GUREUM_CACERT=$TD/cert.pem "$G" stop tls-a 2>"$TD/err"; ok $([ $? -eq 1 ] && echo 0 || echo 1) "CLI: viewer cannot stop (exit 1)"
grep -q "viewer" "$TD/err"; ok $? "the error says why: $(cat "$TD/err")"
run_ok "CLI: admin deletes over HTTPS" env GUREUM_URL=$U GUREUM_TOKEN=$ADMIN GUREUM_CACERT=$TD/cert.pem "$G" delete --force tls-a
stop_daemon
"$GUREUMD" --state-dir "$TD/state2" --run-dir "$TD/run2" --listen 127.0.0.1:$PORT --tls-cert "$TD/cert.pem" --tls-key "$TD/key.pem" 2>"$TD/err"
ok $([ $? -eq 1 ] && echo 0 || echo 1) "--listen without --tokens is refused"
grep -q -- "--tokens" "$TD/err"; ok $? "naming --tokens: $(head -n1 "$TD/err")"
tap_done
