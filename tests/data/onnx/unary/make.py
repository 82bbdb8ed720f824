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

# Cast float -> int64 -> float around integral values: y = float(int64(4·x)) + 1.
nodes = [
    helper.make_node("Mul", ["x", "four"], ["m"], name="scale"),
    helper.make_node("Cast", ["m"], ["i"], to=TensorProto.INT64, name="to_int"),
    helper.make_node("Cast", ["i"], ["f"], to=TensorProto.FLOAT, name="to_float"),
    helper.make_node("Add", ["f", "one"], ["y"], name="plus_one"),
]
graph = helper.make_graph(
    nodes, "cast_int",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [6])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [6])],
    initializer=[helper.make_tensor("four", TensorProto.FLOAT, [], [4.0]),
                 helper.make_tensor("one", TensorProto.FLOAT, [], [1.0])],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, "cast_int.onnx")
xi = np.array([0.25, -0.5, 1.75, 3.0, 0.0, -2.25], dtype=np.float32)
with open("cast_int.json", "w") as fh:
    json.dump({"input": xi.tolist(), "shape": [6],
               "expected": (np.floor(4 * xi) + 1).tolist()}, fh)
