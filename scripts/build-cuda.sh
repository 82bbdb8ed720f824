#!/usr/bin/env bash
# Builds the CUDA prover `zkinfer-cuda` (crate cuda/, feature `cuda`, halo2-axiom-gpu) on a
# machine with or without a GPU, with CUDA from Python wheels only, and prints the binary's
# path as its last line. It never runs the binary: a binary linking halo2-axiom-gpu aborts
# before `main` where no GPU is usable.
#
#   scripts/build-cuda.sh            # release build in target/cuda (its own target dir, so
#                                    # the test suite's feature-less zkinfer-cuda never
#                                    # overwrites it, nor it theirs)
#   scripts/build-cuda.sh clippy     # clippy -D warnings on the crate with the feature instead
#
# What it sets up, in $ZKINFER_CACHE/cuda (default ~/.cache/zkinfer/cuda):
# - wheels-13.0/: nvcc 13.0 and the CUDA runtime (pinned wheels, `pip install --target`);
# - lib/: `libcudart_static.a` under both names `libcudart.a` and `libcudart_static.a` (cudart
#   links statically) and a link-time-only stub `libcuda.so` (SONAME `libcuda.so.1`) exporting
#   the driver API's names: the binary then needs only the driver's own libcuda.so.1 at run
#   time. The stub must never be on LD_LIBRARY_PATH at run time.
# Environment: CUDA_ARCH (default 90: H100/H200), PYTHON (default python3), CUDA_TARGET_DIR
# (default target/cuda).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${ZKINFER_CACHE:-$HOME/.cache/zkinfer}/cuda
WHEELS=$CACHE/wheels-13.0
LIB=$CACHE/lib
PYTHON=${PYTHON:-python3}
export CUDA_ARCH=${CUDA_ARCH:-90}
TARGET=${CUDA_TARGET_DIR:-$ROOT/target/cuda}

say() { echo "build-cuda: $*" >&2; }

if [ ! -f "$WHEELS/.complete" ]; then
    say "installing the CUDA 13.0 wheels into $WHEELS"
    rm -rf "$WHEELS"
    "$PYTHON" -m pip install --quiet --disable-pip-version-check --target "$WHEELS" \
        nvidia-cuda-nvcc==13.0.88 nvidia-cuda-runtime==13.0.96 nvidia-cuda-crt==13.0.88 \
        nvidia-nvvm==13.0.88 nvidia-cuda-cccl==13.0.85 >&2
    touch "$WHEELS/.complete"
fi
CU=$WHEELS/nvidia/cu13
export PATH=$CU/bin:$PATH
nvcc --version | tail -1 >&2

mkdir -p "$LIB"
cp -f "$CU/lib/libcudart_static.a" "$LIB/libcudart_static.a"
cp -f "$CU/lib/libcudart_static.a" "$LIB/libcudart.a"
if [ ! -f "$LIB/libcuda.so" ] || [ "$CU/include/cuda.h" -nt "$LIB/libcuda.so" ]; then
    say "making the link-time stub $LIB/libcuda.so"
    # The bindings' sources must be on disk (a fresh machine has not unpacked them yet).
    cargo fetch --quiet --manifest-path "$(dirname "$0")/../Cargo.toml"
    # Every driver-API name cuda.h declares or #defines to (cuMemAlloc -> cuMemAlloc_v2, …),
    # and those of the Rust bindings halo2-axiom-gpu uses (cuda-driver-sys): extra names cost
    # nothing, a missing one fails the link.
    {
        grep -ohE '\bcu[A-Z][A-Za-z0-9_]*[[:space:]]*\(' "$CU/include/cuda.h" | tr -d '( \t'
        grep -ohE '#define[[:space:]]+cu[A-Z][A-Za-z0-9_]*[[:space:]]+cu[A-Z][A-Za-z0-9_]*' \
            "$CU/include/cuda.h" | awk '{print $2; print $3}'
        for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cuda-driver-sys-*; do
            if [ -d "$d" ]; then
                grep -rohE 'pub fn cu[A-Z][A-Za-z0-9_]*' "$d" | awk '{print $3}'
            fi
        done
    } | sort -u | awk '{printf "int %s(void) { return 999; }\n", $1}' > "$LIB/libcuda_stub.c"
    cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$LIB/libcuda.so" "$LIB/libcuda_stub.c"
fi
export CUDA_LIB_DIR=$LIB
export CUDA_PATH=$CU

if [ "${1:-}" = clippy ]; then
    CARGO_TARGET_DIR=$TARGET cargo clippy --release -p zkinfer-cuda --features cuda \
        --all-targets -- -D warnings
    exit
fi
say "cargo build --release -p zkinfer-cuda --features cuda (CUDA_ARCH=$CUDA_ARCH, $TARGET)"
CARGO_TARGET_DIR=$TARGET cargo build --release -p zkinfer-cuda --features cuda >&2
BIN=$TARGET/release/zkinfer-cuda
# The binary must load the driver's libcuda.so.1, not the stub.
if readelf -d "$BIN" | grep -q "RUNPATH\|RPATH"; then
    readelf -d "$BIN" | grep "RUNPATH\|RPATH" >&2
    say "warning: the binary carries a run path; check it does not point at $LIB"
fi
echo "$BIN"
