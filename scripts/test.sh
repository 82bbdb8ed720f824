#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, unit/property/soundness/end-to-end
# tests (release build: proofs are real), doc tests, and a compile check of the benches.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --release --workspace
cargo bench --workspace --no-run
