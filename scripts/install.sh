#!/usr/bin/env bash
# Installs peapod: builds the static binary (x86_64-unknown-linux-musl),
# copies it to $PREFIX/bin and writes its man pages (`peapod man`, from
# the same clap definition `--help` prints) to $PREFIX/share/man/man1, and
# its completion scripts (`peapod completion`) where bash-completion, zsh
# and fish look under $PREFIX/share.
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
share="$prefix/share"
install -d "$prefix/bin" "$share/man/man1" "$share/bash-completion/completions" \
  "$share/zsh/site-functions" "$share/fish/vendor_completions.d"
install -m 0755 "$bin" "$prefix/bin/peapod"
"$prefix/bin/peapod" man "$share/man/man1" >/dev/null
"$prefix/bin/peapod" completion bash >"$share/bash-completion/completions/peapod"
"$prefix/bin/peapod" completion zsh >"$share/zsh/site-functions/_peapod"
"$prefix/bin/peapod" completion fish >"$share/fish/vendor_completions.d/peapod.fish"
echo "installed $prefix/bin/peapod, its man pages (man peapod, man peapod-apply, ...) and its bash, zsh and fish completion"
