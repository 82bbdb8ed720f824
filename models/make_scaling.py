#!/usr/bin/env python3
"""Generate the seeded model families of the scaling curve (issue 14, docs/scaling.md):
MLPs of growing width and CNNs of growing channel count, float ONNX, zoo format.

Writes, under --out DIR (default target/scaling/models; regenerated, not committed):

  DIR/NAME/model.onnx                  float model, opset 17
  DIR/NAME/inputs/input_NN.json        --inputs seeded inputs (default 4),
                                       {"input": [flat floats], "shape": [...]}
  DIR/NAME/ref_outputs/output_NN.json  onnxruntime outputs (default session options),
                                       {"output": [...], "shape": [...]}
  DIR/NAME/meta.json                   family, size, MACs, parameters, shapes, seed, layers
  DIR/index.json                       {NAME: meta} of the models written by this run

mlp_wWWWW: Gemm(64->W)-ReLU - Gemm(W->W)-ReLU - Gemm(W->10); input 1x64.
           MACs = 64W + W^2 + 10W.
cnn_cCC:   Conv3x3(Cin->C, pad 1)-ReLU - MaxPool2 - Conv3x3(C->2C, pad 1)-ReLU -
           GlobalAveragePool - Flatten - Gemm(2C->10); input 1x3x16x16 (default) or
           1x1x28x28 (--cnn-input 1x28x28). MACs = 9*Cin*C*H*W + 9*2C*C*(H/2)*(W/2) + 20C.
           Strides, dilations and pads are written out explicitly (EZKL rejects defaults).

MACs count the multiply-accumulates of Gemm and Conv only (ReLU, pooling: none), one
per weight use: the figure the scaling curve is plotted against. Default sizes go from
~10^4 to ~3*10^6 MACs (the project's real CNN, models/make_real.py cnn_cifar, has 2.8 M):

  mlp  W = 64, 128, 256, 512, 1024, 1700      8.8 k ... 3.0 M MACs
  cnn  C = 2, 4, 8, 16, 32, 48 (3x16x16)     18 k ... 3.0 M MACs
  cnn  C = 2, 4, 8, 16, 28     (1x28x28)      28 k ... 2.8 M MACs

--sizes small keeps the smallest few (mlp_w0064, mlp_w0128, cnn_c02) for a quick check.

Weights are random (seeded) with He scales for layers followed by ReLU and Xavier-like
scales for the last layer, so activations stay O(1); inputs are standard normal. Every
model draws from its own generator, np.random.default_rng([seed, family, size]), so a
model does not depend on which others are generated in the same run.

Usage: python3 models/make_scaling.py [--out DIR] [--seed N] [--sizes all|small]
           [--only NAME[,NAME...]] [--inputs N] [--cnn-input 3x16x16|1x28x28]
Needs numpy, onnx, onnxruntime (made with numpy 2.4.6, onnx 1.22.0, onnxruntime 1.31.1).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_real  # noqa: E402  (the shared writers: write_json, build_model)
from make_real import write_json  # noqa: E402

OPSET = 17
N_INPUTS = 4
MLP_IN, N_OUT = 64, 10
MLP_WIDTHS = [64, 128, 256, 512, 1024, 1700]
CNN_CHANNELS = {"3x16x16": [2, 4, 8, 16, 32, 48], "1x28x28": [2, 4, 8, 16, 28]}
CNN_INPUTS = {"3x16x16": (3, 16, 16), "1x28x28": (1, 28, 28)}
SMALL = ["mlp_w0064", "mlp_w0128", "cnn_c02"]
FAMILY_ID = {"mlp": 1, "cnn": 2}
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mlp_name(w):
    return f"mlp_w{w:04d}"


def cnn_name(c):
    return f"cnn_c{c:02d}"


def all_names(cnn_input="3x16x16"):
    return [mlp_name(w) for w in MLP_WIDTHS] + [cnn_name(c) for c in CNN_CHANNELS[cnn_input]]


def parse_name(name):
    """'mlp_w0256' -> ('mlp', 256); 'cnn_c08' -> ('cnn', 8)."""
    fam, _, rest = name.partition("_")
    if fam not in FAMILY_ID or not rest[1:].isdigit() or rest[0] != {"mlp": "w", "cnn": "c"}[fam]:
        raise ValueError(f"not a scaling model name: {name!r} (mlp_wNNNN or cnn_cNN)")
    return fam, int(rest[1:])


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


# ---------------------------------------------------------------- MLP 64 -> W -> W -> 10
def one_io_graph(nodes, name, inits, in_shape, out_shape):
    """A graph with one float input `input` and one float output `output`."""
    return helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_shape)],
        inits)


def make_mlp(rng, w):
    nodes, inits, layers = [], [], []
    macs = 0
    dims = [MLP_IN, w, w, N_OUT]
    x = "input"
    for i in range(3):
        din, dout = dims[i], dims[i + 1]
        last = i == 2
        std = math.sqrt((1.0 if last else 2.0) / din)
        inits += [init(f"fc{i}.w", rng.normal(0.0, std, size=(dout, din))),
                  init(f"fc{i}.b", rng.normal(0.0, 0.05, size=(dout,)))]
        out = "output" if last else f"fc{i}"
        nodes.append(helper.make_node("Gemm", [x, f"fc{i}.w", f"fc{i}.b"], [out],
                                      name=f"fc{i}", transB=1))
        macs += din * dout
        layers.append(f"Gemm({din}->{dout})" + ("" if last else "-ReLU"))
        if not last:
            nodes.append(helper.make_node("Relu", [out], [f"relu{i}"], name=f"relu{i}"))
            x = f"relu{i}"
    in_shape, out_shape = [1, MLP_IN], [1, N_OUT]
    graph = one_io_graph(nodes, mlp_name(w), inits, in_shape, out_shape)
    return graph, macs, in_shape, out_shape, layers


# ---------------------------------------------------------------- CNN, C and 2C channels
def make_cnn(rng, c, cin, h, w):
    nodes, inits, layers = [], [], []
    conv = dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1], dilations=[1, 1])
    w0 = rng.normal(0.0, math.sqrt(2.0 / (cin * 9)), size=(c, cin, 3, 3))
    w1 = rng.normal(0.0, math.sqrt(2.0 / (c * 9)), size=(2 * c, c, 3, 3))
    wf = rng.normal(0.0, math.sqrt(1.0 / (2 * c)), size=(N_OUT, 2 * c))
    inits += [init("conv0.w", w0), init("conv0.b", rng.normal(0.0, 0.05, size=(c,))),
              init("conv1.w", w1), init("conv1.b", rng.normal(0.0, 0.05, size=(2 * c,))),
              init("fc.w", wf), init("fc.b", rng.normal(0.0, 0.05, size=(N_OUT,)))]
    nodes += [
        helper.make_node("Conv", ["input", "conv0.w", "conv0.b"], ["conv0"], name="conv0", **conv),
        helper.make_node("Relu", ["conv0"], ["relu0"], name="relu0"),
        helper.make_node("MaxPool", ["relu0"], ["pool0"], name="pool0", kernel_shape=[2, 2],
                         strides=[2, 2], pads=[0, 0, 0, 0], dilations=[1, 1]),
        helper.make_node("Conv", ["pool0", "conv1.w", "conv1.b"], ["conv1"], name="conv1", **conv),
        helper.make_node("Relu", ["conv1"], ["relu1"], name="relu1"),
        helper.make_node("GlobalAveragePool", ["relu1"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flat", axis=1),
        helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["output"], name="fc", transB=1),
    ]
    macs = c * cin * 9 * h * w + 2 * c * c * 9 * (h // 2) * (w // 2) + 2 * c * N_OUT
    layers = [f"Conv3x3({cin}->{c},pad1)@{h}x{w}-ReLU-MaxPool2",
              f"Conv3x3({c}->{2 * c},pad1)@{h // 2}x{w // 2}-ReLU",
              "GlobalAveragePool-Flatten", f"Gemm({2 * c}->{N_OUT})"]
    in_shape, out_shape = [1, cin, h, w], [1, N_OUT]
    graph = one_io_graph(nodes, cnn_name(c), inits, in_shape, out_shape)
    return graph, macs, in_shape, out_shape, layers


# ---------------------------------------------------------------- output
def build_model(graph):
    return make_real.build_model(graph, producer="zkinfer/models/make_scaling.py")


def generate(name, out_dir, seed=14, n_inputs=N_INPUTS, cnn_input="3x16x16", quiet=False):
    """Write model directory out_dir/name; return its meta dict (also in meta.json)."""
    import onnxruntime as ort

    fam, size = parse_name(name)
    rng = np.random.default_rng([seed, FAMILY_ID[fam], size])
    if fam == "mlp":
        graph, macs, in_shape, out_shape, layers = make_mlp(rng, size)
    else:
        graph, macs, in_shape, out_shape, layers = make_cnn(rng, size, *CNN_INPUTS[cnn_input])
    model = build_model(graph)
    inputs = [rng.normal(0.0, 1.0, size=in_shape) for _ in range(n_inputs)]

    d = os.path.join(out_dir, name)
    os.makedirs(os.path.join(d, "inputs"), exist_ok=True)
    os.makedirs(os.path.join(d, "ref_outputs"), exist_ok=True)
    for sub in ("inputs", "ref_outputs"):  # drop files of an earlier run with more inputs
        for f in os.listdir(os.path.join(d, sub)):
            os.remove(os.path.join(d, sub, f))
    path = os.path.join(d, "model.onnx")
    onnx.save(model, path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    in_name = sess.get_inputs()[0].name
    ymax = 0.0
    for i, x in enumerate(inputs):
        x = np.asarray(x, dtype=np.float32)
        write_json(os.path.join(d, "inputs", f"input_{i:02d}.json"), "input", x)
        (y,) = sess.run(None, {in_name: x})
        write_json(os.path.join(d, "ref_outputs", f"output_{i:02d}.json"), "output", y)
        ymax = max(ymax, float(np.abs(y).max()))
    params = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    meta = {
        "name": name, "family": fam, "size_param": "width" if fam == "mlp" else "channels",
        "size": size, "macs": macs, "params": params, "input_shape": in_shape,
        "output_shape": out_shape, "layers": layers, "n_inputs": n_inputs, "seed": seed,
        "rng": f"np.random.default_rng([{seed}, {FAMILY_ID[fam]}, {size}])",
        "cnn_input": cnn_input if fam == "cnn" else None, "opset": OPSET,
        "ref_output_max_abs": round(ymax, 4), "generator": "models/make_scaling.py",
    }
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    if not quiet:
        print(f"{name}: {path}  MACs {macs:,}  params {params:,}  max|y| {ymax:.3f}")
    return meta


def select(sizes="all", only=None, cnn_input="3x16x16"):
    if only:
        names = [n.strip() for n in only.split(",") if n.strip()]
        for n in names:
            parse_name(n)
        return names
    return list(SMALL) if sizes == "small" else all_names(cnn_input)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "scaling", "models"))
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--sizes", choices=["all", "small"], default="all")
    ap.add_argument("--only", help="comma-separated model names (mlp_wNNNN, cnn_cNN); any size")
    ap.add_argument("--inputs", type=int, default=N_INPUTS, help="inputs per model (default 4)")
    ap.add_argument("--cnn-input", choices=sorted(CNN_INPUTS), default="3x16x16")
    a = ap.parse_args()
    if a.inputs < 1:
        ap.error("--inputs must be >= 1")
    index = {}
    for name in select(a.sizes, a.only, a.cnn_input):
        index[name] = generate(name, a.out, a.seed, a.inputs, a.cnn_input)
    with open(os.path.join(a.out, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
