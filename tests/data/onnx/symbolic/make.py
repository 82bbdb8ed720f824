"""Models with a symbolic batch dimension `N`, for the `--dim` tests of tests/cli_dims.rs:
the zoo's mlp_iris (float) and the quantized mlp_digits QDQ, with the first dimension of
their inputs and outputs renamed to `N` (onnx 1.23.2). Run from this folder."""
import onnx

for src, dst in [
    ("../../zoo/mlp_iris/model.onnx", "mlp_iris_n.onnx"),
    ("../../quantized/mlp_digits_qdq/model.onnx", "mlp_digits_qdq_n.onnx"),
]:
    m = onnx.load(src)
    for v in list(m.graph.input) + list(m.graph.output):
        dim = v.type.tensor_type.shape.dim[0]
        dim.Clear()
        dim.dim_param = "N"
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    print(dst, [d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim])
