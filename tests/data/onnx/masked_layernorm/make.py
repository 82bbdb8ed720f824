"""A LayerNormalization beside a −1e4 causal mask, for tests/calibration.rs: the masked scores
make the model's default activation scale coarse (2^8), which the LayerNorm's internal
squares, variance and reciprocal square root must not inherit. Graph: x (1×16×64) →
LayerNormalization(axis −1, seeded gamma/beta) → y; and s = x[:, :, :16] · mask-add →
Softmax → p, both outputs. 8 seeded inputs ~ N(0, 1) (onnx 1.23.2, numpy). Run from this
folder."""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(14)
shape = [1, 16, 64]
mask = np.triu(np.full((16, 16), -1e4, dtype=np.float32), k=1).reshape(1, 16, 16)
gamma = (1 + 0.1 * rng.standard_normal(64)).astype(np.float32)
beta = (0.1 * rng.standard_normal(64)).astype(np.float32)
graph = helper.make_graph(
    [
        helper.make_node("LayerNormalization", ["x", "gamma", "beta"], ["y"], name="ln", axis=-1,
                         epsilon=1e-5),
        helper.make_node("Slice", ["x", "starts", "ends", "axes"], ["s"], name="scores"),
        helper.make_node("Add", ["s", "mask"], ["masked"], name="mask_add"),
        helper.make_node("Softmax", ["masked"], ["p"], name="softmax", axis=-1),
    ],
    "masked_layernorm",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
    [
        helper.make_tensor_value_info("y", TensorProto.FLOAT, shape),
        helper.make_tensor_value_info("p", TensorProto.FLOAT, [1, 16, 16]),
    ],
    [
        numpy_helper.from_array(mask, "mask"),
        numpy_helper.from_array(gamma, "gamma"),
        numpy_helper.from_array(beta, "beta"),
        numpy_helper.from_array(np.array([0], dtype=np.int64), "starts"),
        numpy_helper.from_array(np.array([16], dtype=np.int64), "ends"),
        numpy_helper.from_array(np.array([2], dtype=np.int64), "axes"),
    ],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, "model.onnx")
os.makedirs("inputs", exist_ok=True)
for i in range(8):
    x = rng.standard_normal(shape).astype(np.float32)
    with open(f"inputs/input_{i:02}.json", "w") as f:
        json.dump({"input": [float(v) for v in x.ravel()], "shape": shape}, f)
