"""Concat of int8 tensors of different quantizations, written by hand in both pre-quantized
forms, with 10 seeded inputs and onnxruntime's outputs for them.

concat_qdq (this directory): input 1x2x3x3 float -> QuantizeLinear (x, scale 0.02, zero
point 3), then three branches: DQ -> Relu -> Q (scale 0.015, zp -128); DQ -> Sigmoid -> Q
(scale 1/256, zp -128); DQ -> Q (scale 0.03, zp -5, a plain requantization). The three
branches and x itself go through DequantizeLinear into one Concat (axis 1) and a
QuantizeLinear (scale 0.03, zp -5) -> DequantizeLinear -> output 1x8x3x3. Onnxruntime 1.31.1
does not fuse this DQ... -> Concat -> Q group into com.microsoft QLinearConcat (its optimized
graph is recorded in meta.json): it dequantizes each input in float32, concatenates and
quantizes, which is element by element what QLinearConcat's tables compute (dequantize in
float32, QuantizeLinear), a table per input quantized otherwise than the output, the one
quantized like it (the third branch) copied.

concat_qop (../concat_qop): the same computation in QOperator form: QLinearSigmoid,
QLinearLeakyRelu (alpha 0) for the Relu, a QuantizeLinear of the dequantized input for the
requantization, and com.microsoft QLinearConcat itself.

Inputs are seeded numpy draws (no third-party data): 0-7 uniform in [-3, 3], 8 in [-10, 10]
(saturating x), 9 in [2, 3] (saturating the concatenated codes of x).

Regenerate (from this directory): python3 make.py (onnxruntime 1.31.1, onnx 1.22.0,
numpy 2.x); with the same versions the files are identical.
"""
import hashlib
import json
import os
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPE = [1, 2, 3, 3]
OUT_SHAPE = [1, 8, 3, 3]
rng = np.random.default_rng(20261206)
inputs = [rng.uniform(-3, 3, SHAPE).astype(np.float32) for _ in range(8)]
inputs.append(rng.uniform(-10, 10, SHAPE).astype(np.float32))
inputs.append(rng.uniform(2, 3, SHAPE).astype(np.float32))

# (scale, zero point) per tensor, all int8.
Q = {"x": (0.02, 3), "relu": (0.015, -128), "sig": (1 / 256, -128), "y": (0.03, -5)}


def qparams(name):
    s, z = Q[name]
    return [numpy_helper.from_array(np.array(s, np.float32), f"{name}_s"),
            numpy_helper.from_array(np.array(z, np.int8), f"{name}_z")]


def q(src, dst, p):
    return helper.make_node("QuantizeLinear", [src, f"{p}_s", f"{p}_z"], [dst], name=f"q_{dst}")


def dq(src, dst, p):
    return helper.make_node("DequantizeLinear", [src, f"{p}_s", f"{p}_z"], [dst], name=f"dq_{dst}")


def qdq_model():
    nodes = [
        q("input", "x", "x"),
        # One DequantizeLinear per reader, as quantize_static writes them (onnxruntime fuses
        # a DQ -> op -> Q group only when the DQ feeds that op alone).
        dq("x", "x_f1", "x"),
        helper.make_node("Relu", ["x_f1"], ["relu_f"], name="relu"),
        q("relu_f", "relu", "relu"),
        dq("x", "x_f2", "x"),
        helper.make_node("Sigmoid", ["x_f2"], ["sig_f"], name="sigmoid"),
        q("sig_f", "sig", "sig"),
        dq("x", "x_f3", "x"),
        q("x_f3", "same", "y"),
        dq("relu", "relu_d", "relu"),
        dq("sig", "sig_d", "sig"),
        dq("same", "same_d", "y"),
        dq("x", "x_d", "x"),
        helper.make_node("Concat", ["relu_d", "sig_d", "same_d", "x_d"], ["cat_f"], name="concat",
                         axis=1),
        q("cat_f", "cat", "y"),
        dq("cat", "output", "y"),
    ]
    return nodes


def qop_model():
    ms = "com.microsoft"
    nodes = [
        q("input", "x", "x"),
        helper.make_node("QLinearLeakyRelu", ["x", "x_s", "x_z", "relu_s", "relu_z"], ["relu"],
                         name="relu", domain=ms, alpha=0.0),
        helper.make_node("QLinearSigmoid", ["x", "x_s", "x_z", "sig_s", "sig_z"], ["sig"],
                         name="sigmoid", domain=ms),
        dq("x", "x_f", "x"),
        q("x_f", "same", "y"),
        helper.make_node("QLinearConcat",
                         ["y_s", "y_z", "relu", "relu_s", "relu_z", "sig", "sig_s", "sig_z",
                          "same", "y_s", "y_z", "x", "x_s", "x_z"],
                         ["cat"], name="concat", domain=ms, axis=1),
        dq("cat", "output", "y"),
    ]
    return nodes


def build(nodes, name, extra_opsets):
    inits = [t for n in Q for t in qparams(n)]
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, SHAPE)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, OUT_SHAPE)],
        initializer=inits,
    )
    opsets = [helper.make_opsetid("", 17)] + [helper.make_opsetid(d, 1) for d in extra_opsets]
    m = helper.make_model(graph, opset_imports=opsets)
    m.ir_version = 8
    if not extra_opsets:
        onnx.checker.check_model(m, full_check=True)
    return m


def session(path, level, optimized=None):
    so = ort.SessionOptions()
    so.graph_optimization_level = level
    so.intra_op_num_threads = so.inter_op_num_threads = 1
    if optimized:
        so.optimized_model_filepath = optimized
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def write(dirname, model, fmt, what, expect=None):
    out = os.path.join(os.path.dirname(HERE), dirname)
    os.makedirs(os.path.join(out, "inputs"), exist_ok=True)
    os.makedirs(os.path.join(out, "ref_outputs"), exist_ok=True)
    path = os.path.join(out, "model.onnx")
    onnx.save(model, path)
    with tempfile.TemporaryDirectory() as tmp:
        opt = os.path.join(tmp, "opt.onnx")
        default = session(path, ort.GraphOptimizationLevel.ORT_ENABLE_ALL, opt)
        optimized = [f"{n.domain}::{n.op_type}" if n.domain else n.op_type
                     for n in onnx.load(opt).graph.node]
    assert expect is None or expect in optimized, optimized
    unfused = session(path, ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    differ = 0
    for i, x in enumerate(inputs):
        y = default.run(None, {"input": x})[0]
        differ += int((unfused.run(None, {"input": x})[0] != y).sum())
        with open(os.path.join(out, f"inputs/input_{i:02d}.json"), "w") as fh:
            json.dump({"input": x.ravel().tolist(), "shape": SHAPE}, fh)
        with open(os.path.join(out, f"ref_outputs/output_{i:02d}.json"), "w") as fh:
            json.dump({"output": y.ravel().tolist(), "shape": list(y.shape)}, fh)
    meta = {
        "name": dirname,
        "what": what,
        "made_by": "tests/data/quantized/concat_qdq/make.py",
        "quant_format": fmt,
        "tensor_params": {k: {"scale": float(np.float32(s)), "zero_point": z}
                          for k, (s, z) in Q.items()},
        "ops": [f"{n.domain}::{n.op_type}" if n.domain else n.op_type for n in model.graph.node],
        "ort_optimized_graph": optimized,
        "ort_disable_all": {
            "elements_differing": differ,
            "output_elements": int(np.prod(OUT_SHAPE)) * len(inputs),
            "what": "ref_outputs come from the default session (ORT_ENABLE_ALL); this counts "
                    "the outputs where ORT_DISABLE_ALL differs",
        },
        "model_sha256": hashlib.sha256(open(path, "rb").read()).hexdigest(),
        "generated_with": {"onnxruntime": ort.__version__, "onnx": onnx.__version__,
                           "numpy": np.__version__},
    }
    with open(os.path.join(out, "meta.json"), "w") as fh:
        json.dump(meta, fh, indent=1)
        fh.write("\n")
    print(dirname, json.dumps({k: meta[k] for k in ("ort_optimized_graph", "ort_disable_all")}))


write("concat_qdq", build(qdq_model(), "concat_qdq", []), "QDQ",
      "DQ -> Concat -> Q over four int8 tensors, three quantized otherwise than the output")
write("concat_qop", build(qop_model(), "concat_qop", ["com.microsoft"]), "QOperator",
      "com.microsoft QLinearConcat over four int8 tensors, three quantized otherwise than the "
      "output", expect="com.microsoft::QLinearConcat")
