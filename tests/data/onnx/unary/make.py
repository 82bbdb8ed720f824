"""Single-op ONNX models for ops the conformance suite lacks a suitable case for (Log,
Reciprocal, Pow with a fractional constant exponent); each with one positive input sample.
Regenerate: python3 make.py (onnx 1.23.2, opset 17)."""
import json
import numpy as np
import onnx
from onnx import TensorProto, helper

x = np.linspace(0.1, 4.0, 12).astype(np.float32).reshape(3, 4)
cases = {
    "log": ("Log", [], lambda v: np.log(v)),
    "reciprocal": ("Reciprocal", [], lambda v: 1.0 / v),
    "pow_frac": ("Pow", [helper.make_tensor("e", TensorProto.FLOAT, [], [1.5])], lambda v: v ** 1.5),
}
for name, (op, inits, f) in cases.items():
    inputs = ["x"] + [t.name for t in inits]
    node = helper.make_node(op, inputs, ["y"], name=name)
    graph = helper.make_graph(
        [node], name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4])],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, f"{name}.onnx")
    with open(f"{name}.json", "w") as fh:
        json.dump({"input": x.flatten().tolist(), "shape": [3, 4],
                   "expected": f(x).astype(np.float32).flatten().tolist()}, fh)
