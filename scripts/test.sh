#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, unit/property/soundness/end-to-end
# tests (release build: proofs are real), doc tests, the `embed` example (the library path, EVM
# included), a compile check of the benches, clippy on the CUDA prover with its `cuda` feature
# (CUDA from pinned PyPI wheels, no GPU: scripts/build-cuda.sh; about 2.5 minutes cold,
# including the download), and the packaging of every crate as `cargo publish` would upload it.
#
# Needs the Rust toolchain (cargo, rustfmt, clippy) and Node.js with npm: the JavaScript tools
# pinned in verifier-contracts/package-lock.json (solc-js compiles the generated verifiers,
# snarkjs makes the .ptau files of the ceremony-SRS tests, anvil is the local node of the
# deployment tests) are installed here with `npm ci` whenever node_modules is missing or older
# than the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm writes node_modules/.package-lock.json on every install: older than the lock file means
# the lock changed since (`npm ci` itself refuses a package.json the lock does not match).
marker=verifier-contracts/node_modules/.package-lock.json
if [ ! -f "$marker" ] || [ verifier-contracts/package-lock.json -nt "$marker" ]; then
    command -v npm >/dev/null || {
        echo "test.sh: npm not found; the suite needs Node.js and npm (see README.md)" >&2
        exit 1
    }
    (cd verifier-contracts && npm ci --no-audit --no-fund)
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --release --workspace
cargo run --release --example embed
cargo bench --workspace --no-run
scripts/build-cuda.sh clippy
# Packages every crate and checks its manifest against the registry, without building the
# packages: the verifying run (each package built from its .crate, in the dev profile) takes
# about 9 minutes cold on 2 cores. --allow-dirty: what is checked is the packaging, not
# whether the working tree is committed.
cargo publish --workspace --dry-run --no-verify --allow-dirty
