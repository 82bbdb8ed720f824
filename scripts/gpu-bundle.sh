#!/usr/bin/env bash
# Prepares the GPU check's folder (.gpu-bundle/, git-ignored), carried to the GPU machine as it
# is: stripped and gzipped `zkinfer` and `zkinfer-cuda` binaries, the models (model.onnx,
# input.json; the zoo and scripts/gen_models.py's CNNs of logrows 16-22; they are compiled
# again there, as a compiled CNN of logrows 22 takes 137 MB), what compiling and setting them
# up here gave (logrows, the settings file's SHA-256 and, up to VK_MAX_LOGROWS, the verifying
# key's hash: compile and keygen are deterministic, the development SRS is seeded), the solc
# output of their Solidity verifier (it depends on the circuit's shape only, so the GPU
# machine needs no Node.js), gpu-check.sh and its helper.
# Prints the folder's size last; it must stay under 60 MiB.
#
#   scripts/gpu-bundle.sh              # .gpu-bundle/ with the CUDA binary (scripts/build-cuda.sh)
#   scripts/gpu-bundle.sh --cpu-test   # .gpu-bundle-cpu/ with the feature-less child, to run
#                                      # `NO_GPU=1 bash .gpu-bundle-cpu/gpu-check.sh` anywhere
#
# Environment: VK_MAX_LOGROWS (default 20: set up here, for the expected vk hashes, the models
# up to this size), PYTHON (with numpy and onnx; else a venv is made in $ZKINFER_CACHE),
# ZKINFER_NODE_MODULES (solc-js; default verifier-contracts/node_modules).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODE=gpu
DEST=$ROOT/.gpu-bundle
if [ "${1:-}" = --cpu-test ]; then
    MODE=cpu
    DEST=$ROOT/.gpu-bundle-cpu
fi
VK_MAX=${VK_MAX_LOGROWS:-20}
CACHE=${ZKINFER_CACHE:-$HOME/.cache/zkinfer}
say() { echo "gpu-bundle: $*" >&2; }

PY=${PYTHON:-python3}
if ! "$PY" -c 'import numpy, onnx' 2>/dev/null; then
    if [ ! -x "$CACHE/gen-venv/bin/python" ]; then
        say "making a venv with numpy and onnx in $CACHE/gen-venv"
        python3 -m venv "$CACHE/gen-venv"
        "$CACHE/gen-venv/bin/pip" install --quiet --disable-pip-version-check numpy onnx >&2
    fi
    PY=$CACHE/gen-venv/bin/python
fi

say "building zkinfer and the feature-less zkinfer-cuda (target/release)"
cargo build --release -p zkinfer -p zkinfer-cuda >&2
ZK=$ROOT/target/release/zkinfer
if [ "$MODE" = gpu ]; then
    CUDA_BIN=$(scripts/build-cuda.sh | tail -1)
else
    CUDA_BIN=$ROOT/target/release/zkinfer-cuda
fi

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
rm -rf "$DEST"
mkdir -p "$DEST/bin" "$DEST/models" "$DEST/cache/solc"

say "generating the CNNs"
"$PY" scripts/gen_models.py --out "$TMP/gen" >&2

# The generated models first, by size (the acceptance figures are theirs), then the zoo (small):
# if the budget runs out, what is skipped is the least needed.
ORDER=()
add_model() { # NAME ONNX INPUT
    local name=$1 onnx=$2 input=$3 m=$DEST/models/$1
    mkdir -p "$m"
    cp "$onnx" "$m/model.onnx"
    cp "$input" "$m/input.json"
    "$ZK" compile "$m/model.onnx" --calibration "$m/input.json" --out "$TMP/c/$name" >/dev/null
    local k vk= sha
    k=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["logrows"])' "$TMP/c/$name/settings.json")
    sha=$(sha256sum "$TMP/c/$name/settings.json" | cut -d' ' -f1)
    if ((k <= VK_MAX)); then
        vk=$(ZKINFER_CACHE=$TMP/cache "$ZK" --json setup "$TMP/c/$name" |
            "$PY" -c 'import json,sys; print(json.load(sys.stdin)["vk_hash"])')
        ZKINFER_CACHE=$TMP/cache "$ZK" create-verifier "$TMP/c/$name" >/dev/null
        rm -f "$TMP/c/$name/pk.bin"
    fi
    "$PY" -c 'import json,sys; json.dump({"name": sys.argv[1], "logrows": int(sys.argv[2]), "settings_sha256_here": sys.argv[3], "vk_hash_here": sys.argv[4] or None}, open(sys.argv[5], "w"))' \
        "$name" "$k" "$sha" "$vk" "$m/expected.json"
    say "$name: logrows $k${vk:+, vk $vk}"
    ORDER+=("$name")
}
if [ -z "${ZKINFER_NODE_MODULES:-}" ] && [ ! -d verifier-contracts/node_modules/solc ]; then
    say "installing solc-js (npm ci in verifier-contracts/, as CI does)"
    (cd verifier-contracts && npm ci --no-audit --no-fund >&2)
fi
mkdir -p "$TMP/c"
for k in 16 18 20 22; do
    add_model "gen_k$k" "$TMP/gen/gen_k$k/model.onnx" "$TMP/gen/gen_k$k/inputs/input_00.json"
done
for z in tests/data/zoo/*/; do
    add_model "$(basename "$z")" "$z/model.onnx" "$z/inputs/input_00.json"
done
printf '%s\n' "${ORDER[@]}" >"$DEST/models/ORDER"
cp "$TMP"/cache/solc/*.json "$DEST/cache/solc/"
say "solc outputs carried: $(ls "$DEST/cache/solc" | wc -l) (one per verifier shape)"

for b in "$ZK:zkinfer" "$CUDA_BIN:zkinfer-cuda"; do
    src=${b%%:*} name=${b##*:}
    strip -o "$TMP/$name" "$src"
    gzip -9 -c "$TMP/$name" >"$DEST/bin/$name.gz"
done
cp scripts/gpu-check.sh scripts/gpu_check_util.py "$DEST/"
{
    echo "bundle: $MODE, commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo '+dirty'), made $(date -u +%FT%TZ) on $(uname -n)"
    echo "binaries: $(cd "$DEST/bin" && for f in *.gz; do printf '%s %s B; ' "$f" "$(stat -c %s "$f")"; done)"
} >"$DEST/BUILD.txt"
cat "$DEST/BUILD.txt" >&2
size=$(du -sb "$DEST" | cut -f1)
say "$DEST: $((size / 1024 / 1024)) MiB ($size bytes)"
if ((size > 60 * 1024 * 1024)); then
    say "too big: over 60 MiB"
    exit 1
fi
echo "$DEST"
