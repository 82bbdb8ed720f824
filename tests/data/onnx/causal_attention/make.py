"""A causally masked single-head attention, for tests/calibration.rs: q, k, v = x·W (x of
1×8×16), softmax(q·kᵀ/4 + mask)·v with the mask a constant −1e4 above the diagonal (as GPT
exports write it), and 8 seeded inputs x ~ N(0, 1) (onnx 1.23.2, numpy). Run from this
folder."""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(8)
SEQ, D = 8, 16
w = {n: (rng.standard_normal((D, D)) / np.sqrt(D)).astype(np.float32) for n in "qkv"}
mask = np.triu(np.full((SEQ, SEQ), -1e4, dtype=np.float32), k=1).reshape(1, SEQ, SEQ)
nodes = [helper.make_node("MatMul", ["x", f"w{n}"], [n], name=f"{n}.mm") for n in "qkv"]
nodes += [
    helper.make_node("Transpose", ["k"], ["kt"], name="k.t", perm=[0, 2, 1]),
    helper.make_node("MatMul", ["q", "kt"], ["scores"], name="qk"),
    helper.make_node("Mul", ["scores", "quarter"], ["scaled"], name="scale"),
    helper.make_node("Add", ["scaled", "mask"], ["masked"], name="mask_add"),
    helper.make_node("Softmax", ["masked"], ["p"], name="softmax", axis=-1),
    helper.make_node("MatMul", ["p", "v"], ["y"], name="ctx"),
]
inits = [numpy_helper.from_array(w[n], f"w{n}") for n in "qkv"]
inits += [
    numpy_helper.from_array(np.array(0.25, dtype=np.float32), "quarter"),
    numpy_helper.from_array(mask, "mask"),
]
graph = helper.make_graph(
    nodes,
    "causal_attention",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, SEQ, D])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, SEQ, D])],
    inits,
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, "model.onnx")
os.makedirs("inputs", exist_ok=True)
for i in range(8):
    x = rng.standard_normal((1, SEQ, D)).astype(np.float32)
    with open(f"inputs/input_{i:02}.json", "w") as f:
        json.dump({"input": [float(v) for v in x.ravel()], "shape": [1, SEQ, D]}, f)
