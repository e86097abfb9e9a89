#!/usr/bin/env bash
# Installs the Debian packages that servin's build and tests need, and only
# those that are missing: with everything present it changes nothing and
# needs no network. Go itself comes preinstalled in /usr/local/go.
set -euo pipefail

packages=(libseccomp-dev libc6-dev busybox-static iptables iproute2 pkg-config gcc)

missing=()
for pkg in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
	[[ $status == installed ]] || missing+=("$pkg")
done

if ((${#missing[@]})); then
	sudo=()
	[[ $(id -u) == 0 ]] || sudo=(sudo)
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v go >/dev/null && [[ ! -x /usr/local/go/bin/go ]]; then
	echo "deps: Go is missing (expected in /usr/local/go)" >&2
	exit 1
fi
