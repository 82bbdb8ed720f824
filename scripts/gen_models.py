#!/usr/bin/env python3
"""Seeded float CNNs of growing size for the GPU check (scripts/gpu-check.sh).

Each model is x[1,1,S,S] -> Conv 3x3 (1->C) -> Relu -> Conv 3x3 (C->C) -> Relu ->
GlobalAveragePool -> Flatten -> Gemm (C->10): the convolutions reuse their few weights at every
position, so the circuit grows with S*S while the ONNX file stays a few kilobytes, and the ten
outputs keep the public instances (and the EVM verifier's calldata) small. The side S of each
size was chosen by compiling with zkinfer (`zkinfer compile MODEL --calibration INPUT`, then
settings.json's logrows); `--check ZKINFER` compiles them again and fails if a logrows moved.

    python3 scripts/gen_models.py --out DIR [--seed 0] [--logrows 16,18,20,22] [--check zkinfer]

writes DIR/gen_k{K}/model.onnx and DIR/gen_k{K}/inputs/input_00.json (zkinfer's
{"input": [flat floats], "shape": [...]}). Needs numpy and onnx.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CHANNELS = 8
# logrows -> image side, measured with `zkinfer compile` (docs/gpu.md lists the rows).
SIDES = {16: 7, 18: 13, 20: 25, 22: 52}


def build(side, channels, rng):
    def weight(name, shape, fan_in):
        w = rng.standard_normal(shape).astype(np.float32) * np.float32(np.sqrt(2.0 / fan_in))
        return numpy_helper.from_array(w, name)

    def bias(name, n):
        return numpy_helper.from_array((rng.standard_normal(n) * 0.05).astype(np.float32), name)

    inits = [
        weight("w1", (channels, 1, 3, 3), 9),
        bias("b1", channels),
        weight("w2", (channels, channels, 3, 3), 9 * channels),
        bias("b2", channels),
        weight("w3", (10, channels), channels),
        bias("b3", 10),
    ]
    conv = dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", **conv),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="conv2", **conv),
        helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"], name="pool"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        f"gen_cnn_s{side}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, side, side])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="zkinfer gen_models.py"
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    x = rng.random((1, 1, side, side)).astype(np.float32)
    return model, x


def write(out, k, side, seed):
    rng = np.random.default_rng([seed, k])
    model, x = build(side, CHANNELS, rng)
    d = os.path.join(out, f"gen_k{k}")
    os.makedirs(os.path.join(d, "inputs"), exist_ok=True)
    onnx.save(model, os.path.join(d, "model.onnx"))
    sample = {"input": [float(v) for v in x.reshape(-1)], "shape": list(x.shape)}
    with open(os.path.join(d, "inputs", "input_00.json"), "w") as f:
        json.dump(sample, f)
    return d


def compiled_logrows(zkinfer, d):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [zkinfer, "compile", os.path.join(d, "model.onnx"), "--calibration",
             os.path.join(d, "inputs", "input_00.json"), "--out", tmp, "--json"],
            check=True, stdout=subprocess.DEVNULL,
        )
        with open(os.path.join(tmp, "settings.json")) as f:
            s = json.load(f)
    return s["logrows"], s["rows"], s["circuit_rows"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--logrows", default=",".join(str(k) for k in SIDES))
    ap.add_argument("--side", type=int, help="one model of this side (sizing), as gen_k0")
    ap.add_argument("--check", metavar="ZKINFER", help="compile each with this zkinfer binary")
    a = ap.parse_args()
    jobs = [(0, a.side)] if a.side else [(int(k), SIDES[int(k)]) for k in a.logrows.split(",")]
    failed = False
    for k, side in jobs:
        d = write(a.out, k, side, a.seed)
        line = f"{d}: side {side}, {os.path.getsize(os.path.join(d, 'model.onnx'))} bytes"
        if a.check:
            got, rows, circuit_rows = compiled_logrows(a.check, d)
            line += f", logrows {got} ({rows} rows, {circuit_rows} circuit rows)"
            if k and got != k:
                line += f"  MISMATCH: expected {k}"
                failed = True
        print(line, flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
