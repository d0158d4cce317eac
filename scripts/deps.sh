#!/usr/bin/env bash
# Install the Debian packages tcpmig needs; idempotent and silent when everything is there.
set -euo pipefail

PKGS=(
	build-essential clang llvm lld libclang-rt-dev pkg-config
	libsodium-dev libjson-c-dev libnetfilter-queue-dev libmnl-dev libbpf-dev bpftool linux-libc-dev gcc-multilib
	libhyperscan-dev libpcre2-dev
	iproute2 nftables iptables ethtool procps
	iperf3 socat haproxy tcpdump python3
)

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ "$st" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
	echo "deps: missing packages (${missing[*]}) and not root: cannot install" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
