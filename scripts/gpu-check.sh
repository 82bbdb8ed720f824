#!/usr/bin/env bash
# The GPU check: runs on the GPU machine from the folder scripts/gpu-bundle.sh made (no cargo,
# no network; python3 and, for device memory, nvidia-smi), within GPU_CHECK_BUDGET_S seconds
# (default 285), and prints a Markdown table last. Per model (the generated CNNs of logrows
# 16-22, then the zoo): compile (checked against the bundle's record), the development SRS, setup
# (keygen and key files), the GPU proof (`zkinfer prove --backend cuda --cuda-runs 2`: the
# first proof of the process, then a second with the device warm; the key upload timed apart
# in the child), its verification natively and in revm against the generated Solidity verifier
# (compiled when the bundle was made: it depends on the circuit's shape only), the same after
# one flipped byte, and last the 16-core CPU proof. Logs and JSON go to $OUT (default
# ./gpu-check-out), keys to $GPU_CHECK_WORK (default /tmp/zkinfer-gpu-check).
#
#   bash .gpu-bundle/gpu-check.sh                 # on the GPU machine
#   NO_GPU=1 bash .gpu-bundle-cpu/gpu-check.sh    # anywhere: the child proves on the CPU
#   MODELS="gen_k20 gen_k22" bash .gpu-bundle/gpu-check.sh   # a subset, in this order
#
# One model's failure is reported in the table and the next model runs; steps past the
# budget are skipped (and said so).
set -euo pipefail
B=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:-$PWD/gpu-check-out}
WORK=${GPU_CHECK_WORK:-${TMPDIR:-/tmp}/zkinfer-gpu-check}
BUDGET=${GPU_CHECK_BUDGET_S:-285}
NO_GPU=${NO_GPU:-0}
START=$(date +%s)
U=(python3 "$B/gpu_check_util.py")

mkdir -p "$OUT" "$WORK/bin" "$WORK/cache" "$WORK/m"
for b in zkinfer zkinfer-cuda; do
    if [ -f "$B/bin/$b.gz" ]; then
        python3 -c 'import gzip,shutil,sys; shutil.copyfileobj(gzip.open(sys.argv[1]), open(sys.argv[2],"wb"))' \
            "$B/bin/$b.gz" "$WORK/bin/$b"
    else
        cp "$B/bin/$b" "$WORK/bin/$b"
    fi
    chmod +x "$WORK/bin/$b"
done
ZK=$WORK/bin/zkinfer
export ZKINFER_CUDA_BIN=$WORK/bin/zkinfer-cuda
export ZKINFER_CACHE=$WORK/cache
if [ -d "$B/cache/solc" ]; then
    mkdir -p "$ZKINFER_CACHE/solc" && cp "$B"/cache/solc/* "$ZKINFER_CACHE/solc/"
fi
if [ "$NO_GPU" = 1 ]; then
    export ZKINFER_CUDA_DEVICE=cpu
fi

{
    echo "# gpu-check $(date -u +%FT%TZ), budget ${BUDGET}s, NO_GPU=$NO_GPU"
    cat "$B/BUILD.txt" 2>/dev/null || true
    echo "host: $(uname -srm), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
    echo "glibc: $(ldd --version 2>&1 | head -1)"
    if [ "$NO_GPU" != 1 ]; then
        nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,compute_cap \
            --format=csv 2>&1 || echo "nvidia-smi failed"
        nvidia-smi 2>&1 | head -20 || true
    fi
} | tee "$OUT/machine.txt" >&2

remaining() { echo $((START + BUDGET - $(date +%s))); }

# step MODEL NAME CAP_S [--gpu-mem] -- CMD...: measured, capped by the budget left.
step() {
    local model=$1 name=$2 cap=$3
    shift 3
    local left
    left=$(remaining)
    if ((left < 5)); then
        echo "  $name: skipped (budget spent)" >&2
        return 125
    fi
    local t=$((left - 3 < cap ? left - 3 : cap))
    local rc=0
    "${U[@]}" measure --out "$OUT/$model/$name.json" --timeout "$t" "$@" || rc=$?
    echo "  $name: rc $rc, $(python3 -c 'import json,sys; print("%.2f s" % json.load(open(sys.argv[1]))["wall_s"])' "$OUT/$model/$name.json")" >&2
    return $rc
}

declare -A SRS_DONE=()

run_model() {
    local name=$1 src=$B/models/$1 d=$WORK/m/$1 o=$OUT/$1
    mkdir -p "$o" "$d"
    cp "$src/expected.json" "$o/model.json"
    local k in=$src/input.json
    k=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["logrows"])' "$src/expected.json")
    echo "== $name (logrows $k), $(remaining) s left" >&2
    step "$name" compile 60 -- "$ZK" --json compile "$src/model.onnx" --calibration "$in" \
        --out "$d" || return 0
    sha256sum "$d/settings.json" | cut -d' ' -f1 >"$o/settings.sha256"
    if [ -n "$SRS_BIN" ] && [ -z "${SRS_DONE[$k]:-}" ]; then
        step "$name" srs 120 -- "$SRS_BIN" srs --logrows "$k" || return 0
        SRS_DONE[$k]=1
    fi
    step "$name" setup 240 -- "$ZK" --json setup "$d" || return 0
    if step "$name" prove_gpu 240 --gpu-mem -- "$ZK" --json prove "$d" --input "$in" \
        --proof "$d/gpu.json" --backend cuda --cuda-runs 2; then
        step "$name" verify 60 -- "$ZK" --json verify "$d" --proof "$d/gpu.json" || true
        step "$name" verify_evm 60 -- "$ZK" --json verify-evm "$d" --proof "$d/gpu.json" || true
        "${U[@]}" flip "$d/gpu.json" "$d/bad.json"
        step "$name" bad_verify 60 -- "$ZK" --json verify "$d" --proof "$d/bad.json" || true
        step "$name" bad_evm 60 -- "$ZK" --json verify-evm "$d" --proof "$d/bad.json" || true
    fi
    step "$name" prove_cpu 240 -- "$ZK" --json prove "$d" --input "$in" --proof "$d/cpu.json" || true
    rm -f "$d/pk.bin" "$d/srs.params"
}

# The development SRS of each size is generated (and cached) first by the CUDA binary's
# helper, to time it apart from keygen; where that binary cannot start (no usable GPU),
# `zkinfer setup` generates it inside its own time.
SRS_BIN=$ZKINFER_CUDA_BIN
if ! "$ZKINFER_CUDA_BIN" --version >"$OUT/cuda-version.txt" 2>&1; then
    echo "zkinfer-cuda does not start here (no usable GPU?): $(tail -2 "$OUT/cuda-version.txt")" >&2
    SRS_BIN=
fi

MODELS=${MODELS:-$(cat "$B/models/ORDER")}
for m in $MODELS; do
    run_model "$m" || echo "  $m: failed (continuing)" >&2
done

"${U[@]}" table "$OUT" "$B/models/ORDER" >"$OUT/table.md" || echo "table failed" >"$OUT/table.md"
echo "gpu-check: $(($(date +%s) - START)) s; logs in $OUT" >&2
echo
cat "$OUT/table.md"
