"""The zoo's mlp_iris with one non-finite weight, for tests/cli_messages.rs: element 5 of its
first float initializer set to NaN (`nan_weight.onnx`) or +Inf (`inf_weight.onnx`)
(onnx 1.23.2). Run from this folder."""
import numpy as np
import onnx
from onnx import numpy_helper

for value, dst in [(np.nan, "nan_weight.onnx"), (np.inf, "inf_weight.onnx")]:
    m = onnx.load("../../zoo/mlp_iris/model.onnx")
    init = next(i for i in m.graph.initializer if i.data_type == onnx.TensorProto.FLOAT)
    w = numpy_helper.to_array(init).copy()
    w.flat[5] = value
    init.CopyFrom(numpy_helper.from_array(w, init.name))
    onnx.save(m, dst)
    print(dst, init.name)
