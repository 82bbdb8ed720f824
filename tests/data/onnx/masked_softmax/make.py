"""Causally masked attention probabilities, for tests/calibration.rs: softmax(x + mask) over
the last axis of a 1×4×16×16 score tensor, the mask a constant with −1e4 above the diagonal
(as GPT exports write it), and 8 seeded inputs of scores ~ N(0, 3²) (onnx 1.23.2, numpy).
`model_mask100.onnx` is the same with −100: a mask the inputs' range (±128) can outweigh.
Run from this folder."""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(16)
shape = [1, 4, 16, 16]
for value, path in [(-1e4, "model.onnx"), (-100.0, "model_mask100.onnx")]:
    mask = np.triu(np.full((16, 16), value, dtype=np.float32), k=1).reshape(1, 1, 16, 16)
    graph = helper.make_graph(
        [
            helper.make_node("Add", ["x", "mask"], ["masked"], name="mask_add"),
            helper.make_node("Softmax", ["masked"], ["y"], name="softmax", axis=-1),
        ],
        "masked_softmax",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        [numpy_helper.from_array(mask, "mask")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
os.makedirs("inputs", exist_ok=True)
for i in range(8):
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    with open(f"inputs/input_{i:02}.json", "w") as f:
        json.dump({"input": [float(v) for v in x.ravel()], "shape": shape}, f)
