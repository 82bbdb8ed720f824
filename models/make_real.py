#!/usr/bin/env python3
"""Generate two "real-size" float ONNX models for zkinfer (issue 14), seeded, plus the
CNN quantized to int8 by onnxruntime in two formats.

Writes, under --out DIR (default models/real; regenerated, not committed):

  DIR/cnn_cifar/model.onnx            CIFAR-sized CNN, input 1x3x32x32, 10 logits
  DIR/gpt_tiny/model.onnx             GPT-style decoder, input 1x16x64, 1x16x128 logits
  DIR/cnn_cifar_qdq/model.onnx        cnn_cifar quantized to int8, QuantFormat.QDQ
  DIR/cnn_cifar_qop/model.onnx        cnn_cifar quantized to int8, QuantFormat.QOperator
  DIR/NAME/inputs/input_NN.json       8 seeded inputs, {"input": [...], "shape": [...]}
  DIR/NAME/ref_outputs/output_NN.json onnxruntime outputs (default session options),
                                      {"output": [...], "shape": [...]}

cnn_cifar: Conv3x3(3->16,pad 1)-ReLU-MaxPool2 - Conv3x3(16->32)-ReLU-MaxPool2 -
           Conv3x3(32->64)-ReLU - GlobalAveragePool - Flatten - Gemm(64->10).

gpt_tiny:  token ids (Gather over an embedding table) are awkward for a circuit, so
           the model's input is the *already embedded* sequence x (token embedding +
           position embedding), float, shape 1x16x64. Then 2 pre-LN decoder blocks
           (d_model 64, 4 heads of 16, seq 16, MLP 64->256->64 with exact GELU written
           as 0.5*x*(1+Erf(x/sqrt 2)) using Mul/Div/Erf/Add), causal attention by adding
           a constant upper-triangular mask (an initializer, default -1e4, see --mask)
           to the scores before Softmax(axis=-1), residual connections, a final
           LayerNormalization and a vocabulary head MatMul to 128 logits.

Weights are random (seeded) with He (ReLU layers) / Xavier-like (linear layers)
scales so that activations stay O(1). Multiply-accumulate counts are printed.

cnn_cifar_qdq / cnn_cifar_qop: the float cnn_cifar graph (same seed, so the same weights)
           quantized by onnxruntime.quantization.quantize_static, with the same settings as
           the shared zoo's quantized models (../shared/models/quantized, index.json):
           calibrate_method MinMax, per_channel False (per-tensor), reduce_range False,
           activation_type QInt8 and weight_type QInt8 (onnxruntime's defaults; they work),
           extra_options ActivationSymmetric False (asymmetric activations) / WeightSymmetric
           True (weight zero point 0), op_types_to_quantize None (every op onnxruntime can
           quantize), no quant_pre_process step (the graph is quantized as written, like the
           zoo's). Calibration data: the model's own 8 inputs (below), fed one per run
           (batch 1) by a CalibrationDataReader. The inputs are the float model's 8 inputs;
           the reference outputs come from onnxruntime running the *quantized* model with
           default session options (which fuse QDQ groups into integer kernels), exactly as
           the float references are made. Like the zoo, value_info (static shape, dtype) is
           stored for every intermediate tensor (onnx strict shape inference).
           Resulting ops -- QDQ: QuantizeLinear/DequantizeLinear around Conv, MaxPool,
           GlobalAveragePool, Flatten, Gemm; QOperator: QLinearConv, MaxPool,
           com.microsoft QLinearGlobalAveragePool, Flatten, com.microsoft QGemm. Relu is
           folded away (the asymmetric activation range clamps at zero). onnxruntime's
           default session runs both as the same fused integer graph (QLinearConv,
           NhwcMaxPool, QLinearGlobalAveragePool, QGemm); its "consider pre-processing"
           warnings are expected.

Usage: python3 models/make_real.py [--out DIR] [--seed N] [--mask VALUE] [--only NAME]
NAME: cnn_cifar, gpt_tiny, cnn_cifar_qdq, cnn_cifar_qop (default: all four).
Needs numpy, onnx, onnxruntime (made with numpy 2.4.6, onnx 1.22.0, onnxruntime 1.31.1).
"""
import argparse
import json
import math
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
N_INPUTS = 8


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def init_i64(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.int64), name)


# ---------------------------------------------------------------- cnn_cifar
def make_cnn(rng):
    nodes, inits = [], []
    macs = 0
    chans = [3, 16, 32, 64]
    hw = 32
    x = "input"
    for i in range(3):
        cin, cout = chans[i], chans[i + 1]
        fan_in = cin * 9
        w = rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(cout, cin, 3, 3))
        b = rng.normal(0.0, 0.05, size=(cout,))
        inits += [init(f"conv{i}.w", w), init(f"conv{i}.b", b)]
        nodes.append(helper.make_node("Conv", [x, f"conv{i}.w", f"conv{i}.b"], [f"conv{i}"],
                                      name=f"conv{i}", kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                      strides=[1, 1]))
        macs += cout * cin * 9 * hw * hw
        nodes.append(helper.make_node("Relu", [f"conv{i}"], [f"relu{i}"], name=f"relu{i}"))
        x = f"relu{i}"
        if i < 2:
            nodes.append(helper.make_node("MaxPool", [x], [f"pool{i}"], name=f"pool{i}",
                                          kernel_shape=[2, 2], strides=[2, 2]))
            x = f"pool{i}"
            hw //= 2
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], name="flat", axis=1))
    w = rng.normal(0.0, math.sqrt(1.0 / 64), size=(10, 64))
    b = rng.normal(0.0, 0.05, size=(10,))
    inits += [init("fc.w", w), init("fc.b", b)]
    nodes.append(helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["output"], name="fc",
                                  transB=1))
    macs += 64 * 10
    graph = helper.make_graph(
        nodes, "cnn_cifar",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 10])],
        inits)
    inputs = [rng.normal(0.0, 1.0, size=(1, 3, 32, 32)) for _ in range(N_INPUTS)]
    return graph, macs, inputs


# ---------------------------------------------------------------- gpt_tiny
SEQ, D, HEADS, DFF, VOCAB, LAYERS = 16, 64, 4, 256, 128, 2
DH = D // HEADS


def make_gpt(rng, mask_value):
    nodes, inits = [], []
    macs = 0

    def linear(x, name, din, dout, out):
        nonlocal macs
        w = rng.normal(0.0, math.sqrt(1.0 / din), size=(din, dout))
        b = rng.normal(0.0, 0.02, size=(dout,))
        inits.extend([init(f"{name}.w", w), init(f"{name}.b", b)])
        nodes.append(helper.make_node("MatMul", [x, f"{name}.w"], [f"{name}.mm"], name=f"{name}.mm"))
        nodes.append(helper.make_node("Add", [f"{name}.mm", f"{name}.b"], [out], name=f"{name}.add"))
        macs += SEQ * din * dout

    def layernorm(x, name, out):
        g = 1.0 + rng.normal(0.0, 0.05, size=(D,))
        b = rng.normal(0.0, 0.02, size=(D,))
        inits.extend([init(f"{name}.g", g), init(f"{name}.b", b)])
        nodes.append(helper.make_node("LayerNormalization", [x, f"{name}.g", f"{name}.b"], [out],
                                      name=name, axis=-1, epsilon=1e-5))

    mask = np.triu(np.full((SEQ, SEQ), mask_value, dtype=np.float32), k=1)
    inits += [
        init("causal_mask", mask.reshape(1, 1, SEQ, SEQ)),
        init("inv_sqrt_dh", np.array(1.0 / math.sqrt(DH))),
        init("sqrt2", np.array(math.sqrt(2.0))),
        init("one", np.array(1.0)),
        init("half", np.array(0.5)),
        init_i64("shape_heads", [1, SEQ, HEADS, DH]),
        init_i64("shape_model", [1, SEQ, D]),
    ]

    x = "input"
    for l in range(LAYERS):
        p = f"l{l}"
        # attention
        layernorm(x, f"{p}.ln1", f"{p}.ln1.out")
        for m in "qkv":
            linear(f"{p}.ln1.out", f"{p}.{m}", D, D, f"{p}.{m}.out")
            nodes.append(helper.make_node("Reshape", [f"{p}.{m}.out", "shape_heads"], [f"{p}.{m}.r"],
                                          name=f"{p}.{m}.reshape"))
            perm = [0, 2, 3, 1] if m == "k" else [0, 2, 1, 3]  # k: 1xHxDHxS, q/v: 1xHxSxDH
            nodes.append(helper.make_node("Transpose", [f"{p}.{m}.r"], [f"{p}.{m}.t"],
                                          name=f"{p}.{m}.transpose", perm=perm))
        nodes.append(helper.make_node("MatMul", [f"{p}.q.t", f"{p}.k.t"], [f"{p}.qk"], name=f"{p}.qk"))
        macs += HEADS * SEQ * SEQ * DH
        nodes.append(helper.make_node("Mul", [f"{p}.qk", "inv_sqrt_dh"], [f"{p}.scaled"],
                                      name=f"{p}.scale"))
        nodes.append(helper.make_node("Add", [f"{p}.scaled", "causal_mask"], [f"{p}.scores"],
                                      name=f"{p}.mask"))
        nodes.append(helper.make_node("Softmax", [f"{p}.scores"], [f"{p}.attn"], name=f"{p}.softmax",
                                      axis=-1))
        nodes.append(helper.make_node("MatMul", [f"{p}.attn", f"{p}.v.t"], [f"{p}.ctx"], name=f"{p}.ctx"))
        macs += HEADS * SEQ * SEQ * DH
        nodes.append(helper.make_node("Transpose", [f"{p}.ctx"], [f"{p}.ctx.t"], name=f"{p}.ctx.transpose",
                                      perm=[0, 2, 1, 3]))
        nodes.append(helper.make_node("Reshape", [f"{p}.ctx.t", "shape_model"], [f"{p}.ctx.r"],
                                      name=f"{p}.ctx.reshape"))
        linear(f"{p}.ctx.r", f"{p}.o", D, D, f"{p}.o.out")
        nodes.append(helper.make_node("Add", [x, f"{p}.o.out"], [f"{p}.res1"], name=f"{p}.res1"))
        # MLP
        layernorm(f"{p}.res1", f"{p}.ln2", f"{p}.ln2.out")
        linear(f"{p}.ln2.out", f"{p}.fc1", D, DFF, f"{p}.fc1.out")
        h = f"{p}.fc1.out"
        nodes += [
            helper.make_node("Div", [h, "sqrt2"], [f"{p}.gelu.div"], name=f"{p}.gelu.div"),
            helper.make_node("Erf", [f"{p}.gelu.div"], [f"{p}.gelu.erf"], name=f"{p}.gelu.erf"),
            helper.make_node("Add", [f"{p}.gelu.erf", "one"], [f"{p}.gelu.add"], name=f"{p}.gelu.add"),
            helper.make_node("Mul", [h, f"{p}.gelu.add"], [f"{p}.gelu.mul"], name=f"{p}.gelu.mul"),
            helper.make_node("Mul", [f"{p}.gelu.mul", "half"], [f"{p}.gelu"], name=f"{p}.gelu"),
        ]
        linear(f"{p}.gelu", f"{p}.fc2", DFF, D, f"{p}.fc2.out")
        nodes.append(helper.make_node("Add", [f"{p}.res1", f"{p}.fc2.out"], [f"{p}.res2"], name=f"{p}.res2"))
        x = f"{p}.res2"
    layernorm(x, "ln_f", "ln_f.out")
    w = rng.normal(0.0, math.sqrt(1.0 / D), size=(D, VOCAB))
    inits.append(init("head.w", w))
    nodes.append(helper.make_node("MatMul", ["ln_f.out", "head.w"], ["output"], name="head"))
    macs += SEQ * D * VOCAB

    graph = helper.make_graph(
        nodes, "gpt_tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, SEQ, D])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, SEQ, VOCAB])],
        inits)
    # Inputs: an embedded token sequence = token embedding (std 1) + position embedding
    # (std 0.5), like a GPT's wte[ids] + wpe[0..16].
    wte = rng.normal(0.0, 1.0, size=(VOCAB, D))
    wpe = rng.normal(0.0, 0.5, size=(SEQ, D))
    inputs = []
    for _ in range(N_INPUTS):
        ids = rng.integers(0, VOCAB, size=SEQ)
        inputs.append((wte[ids] + wpe)[None, :, :])
    return graph, macs, inputs


# ---------------------------------------------------------------- output
def write_json(path, key, arr):
    arr = np.asarray(arr, dtype=np.float32)
    with open(path, "w") as f:
        json.dump({key: [float(v) for v in arr.reshape(-1)], "shape": list(arr.shape)}, f)


def build_model(graph, producer="zkinfer/models/make_real.py"):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name=producer)
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def emit(out_dir, name, graph, macs, inputs, model=None):
    import onnxruntime as ort

    if model is None:
        model = build_model(graph)
    d = os.path.join(out_dir, name)
    os.makedirs(os.path.join(d, "inputs"), exist_ok=True)
    os.makedirs(os.path.join(d, "ref_outputs"), exist_ok=True)
    path = os.path.join(d, "model.onnx")
    onnx.save(model, path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    in_name = sess.get_inputs()[0].name
    stats = []
    for i, x in enumerate(inputs):
        x = np.asarray(x, dtype=np.float32)
        write_json(os.path.join(d, "inputs", f"input_{i:02d}.json"), "input", x)
        (y,) = sess.run(None, {in_name: x})
        write_json(os.path.join(d, "ref_outputs", f"output_{i:02d}.json"), "output", y)
        stats.append((float(np.abs(y).max()), float(y.std())))
    params = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    ops = list(dict.fromkeys(n.op_type for n in model.graph.node))
    print(f"{name}: {path}  MACs {macs:,}  params {params:,}  "
          f"output max|y| {max(s[0] for s in stats):.3f} std {np.mean([s[1] for s in stats]):.3f}"
          f"\n    ops {ops}")


# ---------------------------------------------------------------- int8 (onnxruntime quantize_static)
QUANT_FORMATS = {"cnn_cifar_qdq": "QDQ", "cnn_cifar_qop": "QOperator"}


def quantize(float_model, inputs, fmt):
    """Quantize float_model (ModelProto) with onnxruntime's quantize_static in format fmt
    ("QDQ" or "QOperator"), calibrated on inputs; returns the int8 ModelProto."""
    import tempfile

    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_static)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{"input": np.asarray(x, dtype=np.float32)} for x in inputs])

        def get_next(self):
            return next(self.it, None)

    with tempfile.TemporaryDirectory() as tmp:
        fin, fout = os.path.join(tmp, "float.onnx"), os.path.join(tmp, "int8.onnx")
        onnx.save(float_model, fin)
        quantize_static(fin, fout, Reader(),
                        quant_format=getattr(QuantFormat, fmt),
                        op_types_to_quantize=None, per_channel=False, reduce_range=False,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax,
                        calibration_providers=["CPUExecutionProvider"],
                        extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})
        q = onnx.load(fout)
    # Store the static shape and dtype of every intermediate tensor, like the zoo does:
    # quantize_static leaves stale value_info of the float graph's tensors; drop it, run onnx
    # shape inference, and type what it cannot (outputs of com.microsoft ops such as
    # QLinearGlobalAveragePool / QGemm and what follows them) from an onnxruntime run.
    del q.graph.value_info[:]
    q = onnx.shape_inference.infer_shapes(q, check_type=True, strict_mode=True, data_prop=True)
    outs = {o.name for o in q.graph.output}
    typed = {v.name for v in q.graph.value_info}
    missing = [o for nd in q.graph.node for o in nd.output if o not in outs and o not in typed]
    if missing:
        import onnxruntime as ort

        probe = onnx.ModelProto()
        probe.CopyFrom(q)
        probe.graph.output.extend([onnx.ValueInfoProto(name=n) for n in missing])
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        sess = ort.InferenceSession(probe.SerializeToString(), so, providers=["CPUExecutionProvider"])
        vals = sess.run(missing, {"input": np.asarray(inputs[0], dtype=np.float32)})
        for n, v in zip(missing, vals):
            q.graph.value_info.append(helper.make_tensor_value_info(
                n, helper.np_dtype_to_tensor_dtype(v.dtype), list(v.shape)))
    onnx.checker.check_model(q, full_check=True)
    inter = {o for nd in q.graph.node for o in nd.output} - outs
    assert {v.name for v in q.graph.value_info} >= inter, "value_info incomplete"
    for v in q.graph.value_info:
        assert all(x.HasField("dim_value") for x in v.type.tensor_type.shape.dim), v.name
    return q


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "real"))
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--mask", type=float, default=-1e4,
                    help="value of the causal mask above the diagonal (default -1e4)")
    ap.add_argument("--only", choices=["cnn_cifar", "gpt_tiny", *QUANT_FORMATS])
    a = ap.parse_args()
    if a.only in (None, "cnn_cifar", *QUANT_FORMATS):
        g, macs, xs = make_cnn(np.random.default_rng(a.seed))
        assert macs >= 2_500_000, macs
        float_model = build_model(g)
        if a.only in (None, "cnn_cifar"):
            emit(a.out, "cnn_cifar", g, macs, xs, float_model)
        for name, fmt in QUANT_FORMATS.items():
            if a.only in (None, name):
                emit(a.out, name, g, macs, xs, quantize(float_model, xs, fmt))
    if a.only in (None, "gpt_tiny"):
        g, macs, xs = make_gpt(np.random.default_rng(a.seed + 1), a.mask)
        assert macs >= 1_500_000, macs
        emit(a.out, "gpt_tiny", g, macs, xs)


if __name__ == "__main__":
    main()
