#!/usr/bin/env bash
# images.sh - `gureum image import|build|list|show|delete` through the daemon:
# imports are operations (wait or --no-wait + operation wait), an imported
# image launches, an image in use cannot be deleted, bad sources are refused.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
start_daemon im; ok $? "gureumd starts"
sh "$GR_SRC/scripts/mk-busybox-rootfs.sh" "$TD/src" >/dev/null
echo "made for the images test" >"$TD/src/etc/motd"
dd if=/dev/urandom of="$TD/src/blob" bs=1M count=8 status=none
run_ok "image import (waits for the operation)" "$G" image import "$TD/src" im-one
"$G" image list | grep -q '^im-one '; ok $? "image list shows it"
"$G" image list --format json | python3 -c 'import sys,json; assert [i for i in json.load(sys.stdin) if i["name"]=="im-one"]'; ok $? "image list --format json"
"$G" image show im-one --format json | python3 -c 'import sys,json; i=json.load(sys.stdin); assert i["checksum"].startswith("sha256:") and i["kind"]=="rootfs"'; ok $? "image show: kind and checksum"
id=$("$G" image import "$TD/src" im-two --no-wait); ok $? "image import --no-wait prints an operation id ($id)"
run_ok "operation wait ID" "$G" operation wait "$id"
"$G" operation show "$id" | grep -q 'status: success'; ok $? "the operation succeeded"
"$G" events --no-follow | grep -q '"kind":"image-ready","name":"im-two"'; ok $? "an image-ready event was sent"
run_ok "launch from the imported image" "$G" launch im-one im-inst
[ "$("$G" exec im-inst -- cat /etc/motd)" = "made for the images test" ]; ok $? "the container sees the image's files"
"$G" image delete im-one 2>"$TD/err"; ok $([ $? -eq 1 ] && echo 0 || echo 1) "an image in use cannot be deleted"
grep -qi "im-inst\|use" "$TD/err"; ok $? "and the error says who uses it: $(cat "$TD/err")"
"$G" image import "$TD/src" im-one 2>"$TD/err"; ok $([ $? -eq 1 ] && echo 0 || echo 1) "importing an existing name fails"
grep -q "already exists" "$TD/err"; ok $? "naming the conflict"
"$G" image import "$TD/nothing-here" im-x 2>/dev/null; ok $([ $? -eq 1 ] && echo 0 || echo 1) "a missing source fails"
"$G" image import "$TD/src" "Bad/Name" 2>"$TD/err"; ok $([ $? -ne 0 ] && echo 0 || echo 1) "a bad image name is refused"
run_ok "delete the instance" "$G" delete --force im-inst
run_ok "then the image deletes" "$G" image delete im-one
run_ok "delete the second image" "$G" image delete im-two
"$G" image show im-one >/dev/null 2>&1; ok $([ $? -eq 1 ] && echo 0 || echo 1) "it is gone"
tap_done
