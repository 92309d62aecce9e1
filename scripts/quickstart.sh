#!/usr/bin/env bash
# The quick start, as root on a Debian/Ubuntu host: installs what peapod
# needs, builds the release binary, imports busybox test images made from
# Debian's busybox-static, runs the seed 000 example pod and shows it from
# inside. Safe to run again: it replaces the example pod.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo build --release --locked -p peapod
bin="${CARGO_TARGET_DIR:-target}/release/peapod"
rootfs="${CARGO_TARGET_DIR:-target}/fixtures/busybox"
[ -x "$rootfs/bin/busybox" ] || bash tests/fixtures/busybox-rootfs.sh "$rootfs"
for tag in busybox:1.30.1 busybox:1.31.1; do
  "$bin" image inspect "$tag" >/dev/null 2>&1 || "$bin" image import -c 'CMD ["sh"]' "$rootfs" "$tag"
done
"$bin" delete -f examples/myapp.yaml >/dev/null 2>&1 || true
set -x
"$bin" apply -f examples/myapp.yaml
"$bin" get pods
"$bin" exec myapp -c myapp1 -- ps
{ set +x; } 2>/dev/null
echo
echo "The pod keeps running. Remove it with: $bin delete -f examples/myapp.yaml"
