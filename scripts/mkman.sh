#!/usr/bin/env bash
# mkman.sh PROGRAM SECTION OUT - the man page of a gureum program, made by help2man
# from the program's own --help (the tables the CLI prints its help from), with one
# subsection per command for programs that have commands (gureum, gureum-oci).
set -eu
prog=$1 section=$2 out=$3
top=$(cd "$(dirname "$0")/.." && pwd)
name=$(basename "$prog")
version=$(sed -n 's/^#define GR_VERSION "\([^"]*\)".*/\1/p' "$top/src/api/api.h")
inc=$(mktemp)
trap 'rm -f "$inc"' EXIT
case $name in
gureum) desc="command-line client of the gureum virtualization platform" ;;
gureumd) desc="the gureum daemon: REST API, this host's containers and VMs" ;;
gureum-oci) desc="gureum's OCI container runtime" ;;
*) desc="$name" ;;
esac
cmds=$("$prog" --help 2>&1 | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\)  .*/\1/p')
if [ -n "$cmds" ]; then
	echo "[COMMANDS]" >>"$inc"
	for c in $cmds; do
		printf '.SS %s\n.nf\n' "$c" >>"$inc"
		"$prog" "$c" --help 2>&1 | sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' -e "s/^'/\\\\\&'/" >>"$inc" || true
		printf '.fi\n' >>"$inc"
	done
fi
cat >>"$inc" <<EOT
[SEE ALSO]
gureum(1), gureumd(8), gureum-oci(1); /usr/share/doc/gureum/ (ARCHITECTURE.md, API.md,
CLUSTER.md, NETWORK.md, VM.md).
EOT
mkdir -p "$(dirname "$out")"
help2man --no-info --no-discard-stderr --section="$section" --name="$desc" \
	--version-string="$version" --include="$inc" --output="$out.tmp" "$prog"
mv "$out.tmp" "$out"
