#!/usr/bin/env bash
# bench_vs_ezkl.sh MODEL_DIR...: zkinfer and EZKL side by side on zoo-format model directories.
#
# For each model: zkinfer calibrate on the 10 inputs (target $TARGET, default balanced;
# nonlinear functions as $NONLINEAR: auto (default), table or interp; its max abs error against
# float inference is reported; a pre-quantized model is compiled as it is), compile + setup,
# then `zkinfer prove` of input_00 three times under /usr/bin/time (prove seconds = best wall
# time, peak RSS = max); then
# ../shared/peer/ezkl_bench.sh on the same directory (skipped with NO_EZKL=1). Prints one JSON
# line per model.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
peer="${EZKL_BENCH:-$here/../shared/peer/ezkl_bench.sh}"
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/zkinfer"
for dir in "$@"; do
  name="$(basename "$dir")"
  work="$(mktemp -d)"
  if "$bin" calibrate "$dir/model.onnx" --data "$dir/inputs" --target "${TARGET:-balanced}" \
    --nonlinear "${NONLINEAR:-auto}" --out "$work/cal.json" --json >"$work/calibrate.json"; then
    err=$(python3 -c "import json;print(json.load(open('$work/calibrate.json'))['expected_max_abs_error'])")
    "$bin" compile "$dir/model.onnx" --calibrated "$work/cal.json" --out "$work/c" --json >"$work/compile.json"
  elif grep -q "pre-quantized" "$work/calibrate.json"; then
    # A pre-quantized model carries its scales: compiled as it is, exact to onnxruntime
    # (tests/quantized.rs), so no error is reported.
    err=null
    "$bin" compile "$dir/model.onnx" --out "$work/c" --json >"$work/compile.json"
  else
    echo "$name: $(cat "$work/calibrate.json")" >&2
    exit 1
  fi
  "$bin" setup "$work/c" --json >/dev/null
  best=""; rss=0
  for _ in 1 2 3; do
    /usr/bin/time -f '%e %M' -o "$work/time" "$bin" prove "$work/c" --input "$dir/inputs/input_00.json" --proof "$work/proof.json" --json >/dev/null
    read -r secs kb <"$work/time"
    if [[ -z "$best" ]] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; fi
    (( kb > rss )) && rss=$kb
  done
  "$bin" verify "$work/c" --proof "$work/proof.json" --json >/dev/null
  pk=$(stat -c %s "$work/c/pk.bin")
  proof=$(python3 -c "import json;print(len(json.load(open('$work/proof.json'))['proof'])//2)")
  logrows=$(python3 -c "import json;d=json.load(open('$work/compile.json'));print(d['logrows'])")
  rows=$(python3 -c "import json;d=json.load(open('$work/compile.json'));print(d['rows'])")
  crows=$(python3 -c "import json;d=json.load(open('$work/compile.json'));print(d['circuit_rows'])")
  ezkl="null"
  if [[ -x "$peer" || -f "$peer" ]] && [[ -z "${NO_EZKL:-}" ]]; then
    ezkl="$(bash "$peer" "$dir" 2>"$work/ezkl.log" || echo null)"
  fi
  echo "{\"model\":\"$name\",\"zkinfer\":{\"logrows\":$logrows,\"rows\":$rows,\"circuit_rows\":$crows,\"prove_wall_seconds\":$best,\"peak_rss_kb\":$rss,\"pk_bytes\":$pk,\"proof_bytes\":$proof,\"max_abs_error\":$err},\"ezkl\":$ezkl}"
  rm -rf "$work"
done
