#!/usr/bin/env bash
# Prints `model settings_hash vk_hash` for every zoo and quantized model of tests/data, each
# compiled on its input_00 (what `zkinfer run` does) and set up with the development SRS: a
# refactoring must leave this list unchanged (`diff` two runs). Uses target/release/zkinfer.
set -euo pipefail
cd "$(dirname "$0")/.."
z=target/release/zkinfer
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for m in tests/data/zoo/* tests/data/quantized/*; do
  name=$(basename "$m")
  $z --json compile "$m/model.onnx" --calibration "$m/inputs/input_00.json" --out "$tmp/$name" >/dev/null
  vk=$($z --json setup "$tmp/$name" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["vk_hash"])')
  settings=$(sha256sum "$tmp/$name/settings.json" | cut -c1-16)
  echo "$name $settings $vk"
done
