"""A tiny float Conv → GlobalAveragePool → Flatten model, quantized to int8 QDQ by
onnxruntime's quantize_static (the settings of the zoo's `*_qdq` models), with 10 seeded
inputs and onnxruntime's outputs for them.

Float model: input 1×3×7×7 → Conv 3→8 (3×3, no padding, bias) → 1×8×5×5 →
GlobalAveragePool (HW = 25) → Flatten → output 1×8. No Relu, so the pooled tensor's zero
point is not the int8 minimum. quantize_static writes the QDQ group
DequantizeLinear → GlobalAveragePool → QuantizeLinear, which onnxruntime's default session
fuses into com.microsoft QLinearGlobalAveragePool (recorded in `meta.json`).

Weights, calibration data (32 samples) and test inputs are seeded numpy draws (no
third-party data). Inputs 0–7 are uniform in [-1, 1] like the calibration data; input 8 is
three times larger; input 9 is uniform in [2, 3], so that the pooled codes saturate.

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
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                      QuantType, quantize_static)

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPE = [1, 3, 7, 7]
rng = np.random.default_rng(20240611)

w = (rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32)
b = (rng.standard_normal(8) * 0.2).astype(np.float32)
nodes = [
    helper.make_node("Conv", ["input", "w", "b"], ["conv"], name="conv", kernel_shape=[3, 3]),
    helper.make_node("GlobalAveragePool", ["conv"], ["gap"], name="gap"),
    helper.make_node("Flatten", ["gap"], ["output"], name="flat", axis=1),
]
graph = helper.make_graph(
    nodes, "conv_gap",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, SHAPE)],
    [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 8])],
    initializer=[numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
)
float_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
float_model.ir_version = 8
onnx.checker.check_model(float_model, full_check=True)

calibration = [rng.uniform(-1, 1, SHAPE).astype(np.float32) for _ in range(32)]
inputs = [rng.uniform(-1, 1, SHAPE).astype(np.float32) for _ in range(8)]
inputs.append((rng.uniform(-1, 1, SHAPE) * 3).astype(np.float32))
inputs.append(rng.uniform(2, 3, SHAPE).astype(np.float32))


class Reader(CalibrationDataReader):
    def __init__(self):
        self.it = iter([{"input": x} for x in calibration])

    def get_next(self):
        return next(self.it, None)


KWARGS = dict(quant_format=QuantFormat.QDQ, op_types_to_quantize=None, per_channel=False,
              reduce_range=False, activation_type=QuantType.QInt8,
              weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
              calibration_providers=["CPUExecutionProvider"],
              extra_options={"ActivationSymmetric": False, "WeightSymmetric": True})
with tempfile.TemporaryDirectory() as tmp:
    fin, fout = os.path.join(tmp, "float.onnx"), os.path.join(tmp, "int8.onnx")
    onnx.save(float_model, fin)
    quantize_static(fin, fout, Reader(), **KWARGS)
    q = onnx.load(fout)
del q.graph.value_info[:]
onnx.checker.check_model(q, full_check=True)
model_path = os.path.join(HERE, "model.onnx")
onnx.save(q, model_path)
ops = [n.op_type for n in q.graph.node]
gap = next(n for n in q.graph.node if n.op_type == "GlobalAveragePool")
assert [n.op_type for n in q.graph.node if gap.output[0] in n.input] == ["QuantizeLinear"], ops


def session(level, optimized=None):
    so = ort.SessionOptions()
    so.graph_optimization_level = level
    so.intra_op_num_threads = so.inter_op_num_threads = 1
    if optimized:
        so.optimized_model_filepath = optimized
    return ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])


with tempfile.TemporaryDirectory() as tmp:
    opt_path = os.path.join(tmp, "opt.onnx")
    default = session(ort.GraphOptimizationLevel.ORT_ENABLE_ALL, opt_path)
    optimized_ops = [f"{n.domain}::{n.op_type}" if n.domain else n.op_type
                     for n in onnx.load(opt_path).graph.node]
assert "com.microsoft::QLinearGlobalAveragePool" in optimized_ops, optimized_ops
unfused = session(ort.GraphOptimizationLevel.ORT_DISABLE_ALL)

os.makedirs(os.path.join(HERE, "inputs"), exist_ok=True)
os.makedirs(os.path.join(HERE, "ref_outputs"), exist_ok=True)
differ = 0
for i, x in enumerate(inputs):
    y = default.run(None, {"input": x})[0]
    differ += int((unfused.run(None, {"input": x})[0] != y).sum())
    with open(os.path.join(HERE, f"inputs/input_{i:02d}.json"), "w") as fh:
        json.dump({"input": x.ravel().tolist(), "shape": SHAPE}, fh)
    with open(os.path.join(HERE, f"ref_outputs/output_{i:02d}.json"), "w") as fh:
        json.dump({"output": y.ravel().tolist(), "shape": list(y.shape)}, fh)

inits = {t.name: numpy_helper.to_array(t) for t in q.graph.initializer}
params = {n: {"scale": float(inits[n + "_scale"]), "zero_point": int(inits[n + "_zero_point"])}
          for n in ("input", "conv", "gap", "output") if n + "_scale" in inits}
meta = {
    "name": "conv_gap_qdq",
    "what": __doc__.strip().split("\n\n")[0].replace("\n", " "),
    "float_model": "built by make.py: Conv(3->8, 3x3) - GlobalAveragePool - Flatten",
    "quant_format": "QDQ",
    "quantization": {
        "tool": "onnxruntime.quantization.quantize_static",
        "quantize_static_kwargs": {k: str(v) if not isinstance(v, (dict, list, bool)) or
                                   k == "quant_format" else v for k, v in KWARGS.items()},
        "calibration_data": "32 seeded uniform [-1, 1] samples, batch 1",
        "tensor_params": params,
    },
    "ops": ops,
    "ort_optimized_graph": optimized_ops,
    "ort_disable_all": {
        "elements_differing": differ,
        "output_elements": 8 * len(inputs),
        "what": "ref_outputs come from the default session (ORT_ENABLE_ALL, which fuses "
                "DQ -> GlobalAveragePool -> Q into QLinearGlobalAveragePool); this counts "
                "the outputs where ORT_DISABLE_ALL (float GlobalAveragePool) differs",
    },
    "model_sha256": hashlib.sha256(open(model_path, "rb").read()).hexdigest(),
    "generated_with": {"onnxruntime": ort.__version__, "onnx": onnx.__version__,
                       "numpy": np.__version__},
}
with open(os.path.join(HERE, "meta.json"), "w") as fh:
    json.dump(meta, fh, indent=1)
    fh.write("\n")
print(json.dumps({k: meta[k] for k in ("ops", "ort_optimized_graph", "ort_disable_all")},
                 indent=1))
print(params)
