#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ for a while, starting from the corpus
# checked in under fuzz/corpus/<target>/, and fails on the first crash.
#
#   scripts/fuzz.sh [SECONDS]     seconds per target: $1, else $FUZZ_SECONDS, else 60
#
# New corpus entries go to a temporary folder, never into the repository.
# A crash leaves its input under fuzz/artifacts/<target>/ (git-ignored) and
# the script prints that path: turn it into a regression test.
# Installs the nightly toolchain and cargo-fuzz when they are missing.
# FUZZ_JOBS targets run at the same time (default: the number of cores);
# FUZZ_TARGET_DIR is where the sanitizer builds go (kept between runs).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-${FUZZ_SECONDS:-60}}"
jobs="${FUZZ_JOBS:-$(nproc)}"
targets=(manifest manifest_fast_path manifest_json quantity image_reference)
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-/var/tmp/peapod-fuzz-target}"

if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

cd fuzz
echo "fuzz: building ${targets[*]}"
cargo +nightly fuzz build

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# One target: its new corpus entries into $work, the checked-in corpus
# read only; the log kept for the summary.
run() {
    local target="$1"
    mkdir -p "$work/$target" "artifacts/$target"
    if cargo +nightly fuzz run "$target" "$work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$work/$target.log" 2>&1; then
        echo "fuzz: $target: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$work/$target.log" | grep -o '[0-9]*$') runs in ${seconds}s, no crash"
    else
        echo "fuzz: $target FAILED; the end of its log:"
        tail -n 40 "$work/$target.log"
        local artifact
        artifact="$(grep -o 'Test unit written to [^ ]*' "$work/$target.log" | tail -n1 | cut -d' ' -f5-)"
        echo "fuzz: $target: crash input: ${artifact:-under fuzz/artifacts/$target/ (see the log above)}"
        return 1
    fi
}

failed=0
running=0
for target in "${targets[@]}"; do
    run "$target" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || failed=1
        running=$((running - 1))
    fi
done
while [ "$running" -gt 0 ]; do
    wait -n || failed=1
    running=$((running - 1))
done
exit "$failed"
