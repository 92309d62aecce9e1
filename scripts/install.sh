#!/usr/bin/env bash
# Installs peapod: builds the static binary (x86_64-unknown-linux-musl),
# copies it to $PREFIX/bin and writes its man pages (`peapod man`, from
# the same clap definition `--help` prints) to $PREFIX/share/man/man1.
#   PREFIX=/usr/local (default)   BIN=path/to/peapod: install that binary
#   instead of building one
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${PREFIX:-/usr/local}"
bin="${BIN:-}"
if [ -z "$bin" ]; then
  target=x86_64-unknown-linux-musl
  cargo build --release --locked --target "$target" -p peapod
  bin="${CARGO_TARGET_DIR:-target}/$target/release/peapod"
fi
install -d "$prefix/bin" "$prefix/share/man/man1"
install -m 0755 "$bin" "$prefix/bin/peapod"
"$prefix/bin/peapod" man "$prefix/share/man/man1" >/dev/null
echo "installed $prefix/bin/peapod and its man pages (man peapod, man peapod-apply, ...)"
