#!/usr/bin/env bash
# deps.sh - installs the Debian packages listed in deps/*.txt that are missing.
# Idempotent: when everything is installed it only runs dpkg-query.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
want=$(cat "$top"/deps/*.txt | sed 's/#.*//' | tr -s ' \t' '\n' | grep -v '^$' | sort -u)
missing=()
for p in $want; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done
# npm (the web console's build) comes with NodeSource's nodejs; on Debian's nodejs it is
# the separate npm package (the two conflict, so it is asked for only when missing)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run 'make deps' as root" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || true
apt-get install -y -qq --no-install-recommends "${missing[@]}"
