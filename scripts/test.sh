#!/usr/bin/env bash
# The whole test suite, as root on a Debian/Ubuntu host: installs what it
# needs, runs every crate's unit and integration tests (the root ones for
# real), then checks that nothing of peapod is left on the host.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export PEAPOD_REQUIRE_ROOT="${PEAPOD_REQUIRE_ROOT:-1}"
cargo test --workspace --locked
bash scripts/check-host-clean.sh
