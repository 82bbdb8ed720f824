#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, unit/property/soundness/end-to-end
# tests (release build: proofs are real), doc tests, a compile check of the benches, and
# clippy on the CUDA prover with its `cuda` feature (CUDA from pinned PyPI wheels, no GPU:
# scripts/build-cuda.sh; about 2.5 minutes cold, including the download).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --release --workspace
cargo bench --workspace --no-run
scripts/build-cuda.sh clippy
