#!/usr/bin/env bash
# Installs what building and testing peapod needs on a Debian/Ubuntu host,
# as root. Idempotent: quick when everything is already there.
set -euo pipefail
packages=(
  busybox-static   # the test images: tests/fixtures/busybox-rootfs.sh
  musl-tools       # C parts of dependencies, for the static musl build
  file             # checks that the release binary is static
  iproute2         # tests compare what netlink did with `ip`
  nftables         # masquerade and host ports
  wrk              # netns: hostPort DNAT vs direct, connections/s and latency
  docker-registry  # image pull tests: a real registry on 127.0.0.1
  skopeo           # pushes the test images into that registry
  apache2-utils    # htpasswd: the registry's basic-auth test login
  zsh fish         # `peapod completion zsh|fish` loaded in the real shells
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The toolchain pinned in rust-toolchain.toml, with the musl target.
if command -v rustup >/dev/null; then
  rustup show active-toolchain >/dev/null 2>&1 || rustup toolchain install
  rustup target list --installed | grep -qx x86_64-unknown-linux-musl ||
    rustup target add x86_64-unknown-linux-musl
fi
