#!/usr/bin/env bash
# oci_import.sh - `gureum image import` of OCI image layouts and `docker save` archives,
# built here offline by hand (tar, sha256sum, python3 for the JSON): three layers (the
# second with a whiteout and an opaque folder, the third gzip-compressed), a config with
# Env/Entrypoint/Cmd/WorkingDir/User.  The master is checked file by file, as a folder, as
# a tarball and as a docker-save archive; a container launched without a command runs the
# image's entrypoint with its env, folder and user; bad archives fail with the reason and
# leave no image.
. "$(dirname "$0")/lib.sh"
need_root_and_bins
start_daemon ociimp || { echo "not ok 1 - daemon did not start"; exit 1; }

W=$TD/work
mkdir -p "$W/l1/tmp" "$W/l1/bin" "$W/l1/etc" "$W/l1/data/keep" "$W/l1/data/gone" "$W/l1/opq/old" "$W/l2/data" "$W/l2/opq" "$W/l3/app"
chmod 1777 "$W/l1/tmp"
cp /bin/busybox "$W/l1/bin/busybox"
for t in sh echo cat id pwd sleep ls; do ln -s busybox "$W/l1/bin/$t"; done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/app:/bin/sh\n' >"$W/l1/etc/passwd"
printf 'root:x:0:\napp:x:1001:\n' >"$W/l1/etc/group"
echo one >"$W/l1/data/keep/a"
echo one >"$W/l1/data/gone/b"
echo one >"$W/l1/data/file-gone"
echo old >"$W/l1/opq/old/x"
echo old >"$W/l1/opq/y"
# layer 2: deletes data/file-gone and data/gone/, empties opq/ (its own file stays)
touch "$W/l2/data/.wh.file-gone" "$W/l2/data/.wh.gone" "$W/l2/opq/.wh..wh..opq"
echo new >"$W/l2/opq/z"
echo two >"$W/l2/data/added"
# layer 3: the program, gzip
printf '#!/bin/sh\necho "$GREETING from $(pwd) as $(id -u):$(id -g) args $*" >/tmp/out\nexec sleep 1000\n' >"$W/l3/app/run.sh"
chmod 755 "$W/l3/app/run.sh"
(cd "$W/l1" && tar --numeric-owner --owner=0 --group=0 -cf "$W/l1.tar" .)
(cd "$W/l2" && tar --numeric-owner --owner=0 --group=0 -cf "$W/l2.tar" .)
(cd "$W/l3" && tar --numeric-owner --owner=0 --group=0 -czf "$W/l3.tar.gz" .)

python3 - "$W" <<'EOF'
import hashlib, json, os, shutil, sys
w = sys.argv[1]
def blob(root, data):
    d = hashlib.sha256(data).hexdigest()
    os.makedirs(f"{root}/blobs/sha256", exist_ok=True)
    open(f"{root}/blobs/sha256/{d}", "wb").write(data)
    return "sha256:" + d, len(data)
config = {"architecture": "amd64", "os": "linux",
          "config": {"Env": ["PATH=/bin", "GREETING=hello"], "Entrypoint": ["/app/run.sh"],
                     "Cmd": ["first", "second"], "WorkingDir": "/data", "User": "app"},
          "rootfs": {"type": "layers", "diff_ids": []}}
layers = [("l1.tar", "application/vnd.oci.image.layer.v1.tar"),
          ("l2.tar", "application/vnd.oci.image.layer.v1.tar"),
          ("l3.tar.gz", "application/vnd.oci.image.layer.v1.tar+gzip")]
# OCI layout
oci = f"{w}/oci"
os.makedirs(oci)
json.dump({"imageLayoutVersion": "1.0.0"}, open(f"{oci}/oci-layout", "w"))
cd, cs = blob(oci, json.dumps(config).encode())
ls = []
for f, mt in layers:
    d, s = blob(oci, open(f"{w}/{f}", "rb").read())
    ls.append({"mediaType": mt, "digest": d, "size": s})
man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
       "layers": ls}
md, ms = blob(oci, json.dumps(man).encode())
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
          "digest": md, "size": ms, "platform": {"architecture": "amd64", "os": "linux"}}]},
          open(f"{oci}/index.json", "w"))
# docker save
dk = f"{w}/docker"
os.makedirs(dk)
names = []
for i, (f, _) in enumerate(layers):
    lid = hashlib.sha256(f.encode()).hexdigest()
    os.makedirs(f"{dk}/{lid}")
    shutil.copy(f"{w}/{f}", f"{dk}/{lid}/layer.tar")
    names.append(f"{lid}/layer.tar")
cid = hashlib.sha256(json.dumps(config).encode()).hexdigest()
json.dump(config, open(f"{dk}/{cid}.json", "w"))
json.dump([{"Config": f"{cid}.json", "RepoTags": ["app:latest"], "Layers": names}], open(f"{dk}/manifest.json", "w"))
# a layout whose layer blob was changed after the manifest was written
bad = f"{w}/bad"
shutil.copytree(oci, bad)
l3 = ls[2]["digest"][7:]
open(f"{bad}/blobs/sha256/{l3}", "ab").write(b"tampered")
# a layer whose whiteout reaches through a symlink to outside the image
esc = f"{w}/escape"
shutil.copytree(oci, esc)
EOF
(cd "$W/oci" && tar -cf "$W/oci.tar" .)
(cd "$W/docker" && tar -cf "$W/docker.tar" .)

check_master() { # image name
	local root
	root=$("$G" image show "$1" --format json | python3 -c 'import sys,json; print(json.load(sys.stdin)["path"])')
	[ -x "$root/bin/busybox" ] && [ "$(cat "$root/data/keep/a")" = one ] && [ "$(cat "$root/data/added")" = two ]
	ok $? "$1: files of layers 1 and 2 are there"
	[ ! -e "$root/data/file-gone" ] && [ ! -e "$root/data/gone" ]
	ok $? "$1: whiteouts removed a file and a folder of layer 1"
	[ ! -e "$root/opq/old" ] && [ ! -e "$root/opq/y" ] && [ "$(cat "$root/opq/z")" = new ]
	ok $? "$1: the opaque folder hides layer 1's entries and keeps layer 2's"
	[ -z "$(find "$root" -name '.wh.*' | head -n 1)" ]; ok $? "$1: no whiteout file is left in the master"
	[ -x "$root/app/run.sh" ]; ok $? "$1: layer 3 (gzip) applied"
	"$G" image show "$1" --format json | python3 -c '
import sys, json
d = json.load(sys.stdin)["defaults"]
assert d == {"env": ["PATH=/bin", "GREETING=hello"], "entrypoint": ["/app/run.sh"], "cmd": ["first", "second"],
             "working_dir": "/data", "user": "app"}, d'
	ok $? "$1: the config's Env/Entrypoint/Cmd/WorkingDir/User are the image's defaults"
}

run_ok "import an OCI layout folder" "$G" image import "$W/oci" oci-dir && check_master oci-dir
run_ok "import an OCI layout tarball" "$G" image import "$W/oci.tar" oci-tar && check_master oci-tar
run_ok "import a docker save tarball" "$G" image import "$W/docker.tar" docker-tar && check_master docker-tar
a=$("$G" image show oci-dir --format json | python3 -c 'import sys,json; print(json.load(sys.stdin)["checksum"])')
b=$("$G" image show docker-tar --format json | python3 -c 'import sys,json; print(json.load(sys.stdin)["checksum"])')
[ "$a" = "$b" ]; ok $? "the OCI layout and the docker archive give the same master ($a)"

# a container without its own command runs the image's entrypoint + cmd as its user, in its folder
run_ok "launch from the OCI image without a command" "$G" launch oci-dir app1 --network none
for _ in $(seq 1 50); do out=$("$G" exec app1 -- cat /tmp/out 2>/dev/null) && [ -n "$out" ] && break; sleep 0.1; done
[ "$out" = "hello from /data as 1000:1001 args first second" ]; ok $? "entrypoint ran with env, folder, user and cmd ($out)"
run_ok "launch with an env override and a command" "$G" launch oci-dir app2 --network none --env GREETING=hi -- /bin/sh -c 'echo "$GREETING $(pwd)" >/tmp/o2; exec sleep 1000'
for _ in $(seq 1 50); do out=$("$G" exec app2 -- cat /tmp/o2 2>/dev/null) && [ -n "$out" ] && break; sleep 0.1; done
[ "$out" = "hi /data" ]; ok $? "the instance's env wins over the image's; its command replaces entrypoint + cmd ($out)"

# bad input: a tampered blob, a missing blob, a bad manifest -> clear error, no image left
"$G" image import "$W/bad" bad1 2>"$TD/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'does not match its digest' "$TD/err"; ok $? "a tampered layer is refused: $(head -c 160 "$TD/err")"
"$G" image show bad1 >/dev/null 2>&1; [ $? -ne 0 ]; ok $? "no image is left after the failed import"
rm "$W/bad/blobs/sha256/$(ls "$W/bad/blobs/sha256" | head -n 1)"
"$G" image import "$W/bad" bad2 2>"$TD/err"; [ $? -eq 1 ] && grep -qiE 'blob|no such file' "$TD/err"
ok $? "a missing blob is refused: $(head -c 160 "$TD/err")"
echo '[{"Config": "../../etc/passwd", "Layers": []}]' >"$W/docker/manifest.json"
"$G" image import "$W/docker" bad3 2>"$TD/err"; [ $? -eq 1 ] && grep -q 'relative path inside' "$TD/err"
ok $? "a manifest path outside the archive is refused: $(head -c 160 "$TD/err")"
# a whiteout through a symlink a lower layer planted (link -> /tmp on the host) is refused
mkdir -p "$W/e1" "$W/e2/link"
ln -s "$TD/victim" "$W/e1/link"
mkdir -p "$TD/victim" && echo precious >"$TD/victim/file"
touch "$W/e2/link/.wh.file"
(cd "$W/e1" && tar -cf "$W/e1.tar" .) && (cd "$W/e2" && tar -cf "$W/e2.tar" .)
python3 - "$W" <<'EOF'
import hashlib, json, os, sys
w = sys.argv[1]; esc = f"{w}/escape"
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open(f"{esc}/blobs/sha256/{d}", "wb").write(data)
    return {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + d, "size": len(data)}
idx = json.load(open(f"{esc}/index.json"))
man = json.load(open(f"{esc}/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
man["layers"] = [blob(open(f"{w}/e1.tar", "rb").read()), blob(open(f"{w}/e2.tar", "rb").read())]
data = json.dumps(man).encode()
d = hashlib.sha256(data).hexdigest()
open(f"{esc}/blobs/sha256/{d}", "wb").write(data)
idx["manifests"][0]["digest"] = "sha256:" + d
idx["manifests"][0]["size"] = len(data)
json.dump(idx, open(f"{esc}/index.json", "w"))
EOF
"$G" image import "$W/escape" bad4 2>"$TD/err"; [ $? -eq 1 ] && grep -q 'crosses a symlink' "$TD/err"
ok $? "a whiteout through a planted symlink is refused: $(head -c 160 "$TD/err")"
[ "$(cat "$TD/victim/file")" = precious ]; ok $? "the symlink's target outside the image is untouched"
"$G" image list --format json | python3 -c 'import sys,json; n=[i["name"] for i in json.load(sys.stdin)]; assert not [x for x in n if x.startswith("bad")], n'
ok $? "no failed import left an image"
"$G" list >/dev/null; ok $? "the daemon still answers"
tap_done
