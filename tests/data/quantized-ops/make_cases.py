#!/usr/bin/env python3
"""Generate quantized-op test vectors for zkinfer from onnxruntime (CPU EP).

For every case this script
  * builds a tiny ONNX model (ai.onnx opset 21, plus com.microsoft opset 1 for
    contrib ops), written to <case>/model.onnx;
  * runs 3 deterministic input samples through onnxruntime's
    CPUExecutionProvider with the default ORT_ENABLE_ALL optimisation level and
    again with ORT_DISABLE_ALL, recording whether the two differ;
  * checks a bit-exact numpy emulation (emulate.py) against the ORT_ENABLE_ALL
    outputs on those samples plus a larger deterministic random stress set;
  * writes <case>/case.json, index.json and verification.json.

Usage (from the repository root):
    python3 -m venv /work/venv-ort && /work/venv-ort/bin/pip install onnx onnxruntime numpy
    /work/venv-ort/bin/python tests/data/quantized-ops/make_cases.py [--stress N] [--only NAME,...]

Everything is seeded; re-running with the same onnxruntime/onnx/numpy
versions reproduces the files byte for byte.
"""

import argparse
import json
import os
import sys
import tempfile
import zlib

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import emulate as E  # noqa: E402

F32 = np.float32
OPSET = 21
MS_OPSET = 1
IR_VERSION = 10

NP2ONNX = {np.int8: TensorProto.INT8, np.uint8: TensorProto.UINT8, np.int32: TensorProto.INT32,
           np.float32: TensorProto.FLOAT}
DTNAME = {np.int8: "int8", np.uint8: "uint8", np.int32: "int32", np.float32: "float32"}


def T(dt):
    return np.dtype(dt).type


# ---------------------------------------------------------------------------
# model building helpers
# ---------------------------------------------------------------------------
def vi(name, dtype, shape):
    return helper.make_tensor_value_info(name, NP2ONNX[T(dtype)], list(shape))


def init(name, value, dtype):
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def make_model(name, nodes, inputs, outputs, inits, ms=False):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=inits)
    opsets = [helper.make_opsetid("", OPSET)]
    if ms:
        opsets.append(helper.make_opsetid("com.microsoft", MS_OPSET))
    m = helper.make_model(graph, opset_imports=opsets, producer_name="zkinfer-make_cases")
    m.ir_version = IR_VERSION
    if not ms:
        onnx.checker.check_model(m, full_check=True)
    return m


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def spec(name, op, description, model, inputs, outputs, emulate, gen=None, notes=None, all_codes=False):
    """inputs: list of (name, dtype, shape); outputs: list of (name, dtype)."""
    return dict(name=name, op=op, description=description, model=model, inputs=inputs,
                outputs=outputs, emulate=emulate, gen=gen, notes=notes, all_codes=all_codes)


def rand_q(rng, dtype, shape, kind):
    lo, hi = E.qrange(dtype)
    if kind == "extreme":
        return rng.choice(np.array([lo, lo + 1, hi - 1, hi]), size=shape).astype(dtype)
    return rng.integers(lo, hi + 1, size=shape).astype(dtype)


# Parameters: zero points are non-zero, scales are not powers of two.
# ---------------------------------------------------------------------------
# QuantizeLinear / DequantizeLinear
# ---------------------------------------------------------------------------
def quantize_inputs(rng, kind, scale, zp, dtype, n):
    lo, hi = E.qrange(dtype)
    s = F32(scale)
    vals = []
    # exact .5 ties: x such that fl32(x / s) == k + 0.5 exactly
    k = rng.integers(lo - zp - 3, hi - zp + 3, size=400)
    for kk in k:
        x = F32((float(kk) + 0.5) * float(s))
        if float(x / s) == float(kk) + 0.5:
            vals.append(x)
        if len(vals) >= n // 3:
            break
    # saturating values at both ends
    vals += [F32(-1e6), F32(1e6), F32((lo - zp - 0.6) * float(s)), F32((hi - zp + 0.6) * float(s)),
             F32(-3.0e38), F32(3.0e38), F32(0.0), F32(-0.0)]
    if kind == "extreme":
        extra = rng.uniform((lo - zp - 40) * float(s), (hi - zp + 40) * float(s), size=n)
    else:
        extra = rng.normal(0, 60 * float(s), size=n)
    vals += [F32(v) for v in extra]
    return np.array(vals[:n], dtype=np.float32)


def make_quantize_case(name, dtype, scale, zp):
    shape = [3, 16]
    nodes = [helper.make_node("QuantizeLinear", ["x", "y_scale", "y_zp"], ["y"])]
    m = make_model(name, nodes, [vi("x", F32, shape)], [vi("y", dtype, shape)],
                   [init("y_scale", scale, F32), init("y_zp", zp, dtype)])

    def gen(rng, kind):
        x = quantize_inputs(rng, kind, scale, zp, dtype, 48)
        rng.shuffle(x)
        return {"x": x.reshape(shape)}

    return spec(name, "QuantizeLinear",
                f"QuantizeLinear float32 -> {DTNAME[T(dtype)]}, per-tensor scale={scale} zp={zp}; "
                "inputs include exact .5 ties (fl32(x/scale) == k+0.5), values saturating at both ends, "
                "+-3e38, +-0.", m, [("x", F32, shape)], [("y", dtype)],
                lambda f: [E.quantize_linear(f["x"], scale, zp, dtype)], gen=gen)


@case
def quantize_linear_int8():
    return make_quantize_case("quantize_linear_f32_int8", np.int8, 0.0371, -3)


@case
def quantize_linear_uint8():
    return make_quantize_case("quantize_linear_f32_uint8", np.uint8, 0.0213, 128)


@case
def dequantize_linear_int8():
    shape = [2, 24]
    s, zp = 0.0457, -3
    nodes = [helper.make_node("DequantizeLinear", ["x", "s", "zp"], ["y"])]
    m = make_model("dq", nodes, [vi("x", np.int8, shape)], [vi("y", F32, shape)],
                   [init("s", s, F32), init("zp", zp, np.int8)])
    return spec("dequantize_linear_int8", "DequantizeLinear",
                f"DequantizeLinear int8 -> float32 per-tensor scale={s} zp={zp}: y = float(x - zp) * scale.",
                m, [("x", np.int8, shape)], [("y", F32)],
                lambda f: [E.dequantize_linear(f["x"], s, zp)])


@case
def dequantize_linear_int8_per_channel():
    shape = [4, 6]
    s = np.array([0.0123, 0.0371, 0.1, 0.00731], dtype=np.float32)
    zp = np.array([-3, 5, 0, 17], dtype=np.int8)
    nodes = [helper.make_node("DequantizeLinear", ["x", "s", "zp"], ["y"], axis=0)]
    m = make_model("dqpc", nodes, [vi("x", np.int8, shape)], [vi("y", F32, shape)],
                   [init("s", s, F32), init("zp", zp, np.int8)])
    return spec("dequantize_linear_int8_per_channel", "DequantizeLinear",
                "DequantizeLinear int8 -> float32 per-channel (axis=0, 4 channels) with per-channel zero points.",
                m, [("x", np.int8, shape)], [("y", F32)],
                lambda f: [E.dequantize_linear(f["x"], s.reshape(4, 1), zp.reshape(4, 1))])


# ---------------------------------------------------------------------------
# QLinearConv
# ---------------------------------------------------------------------------
def make_qlinearconv(name, desc, xdt, xshape, xs, xzp, w, ws, wzp, ys, yzp, bias=None,
                     pads=(0, 0, 0, 0), strides=(1, 1), group=1):
    w = np.asarray(w, dtype=np.int8)
    ws = np.asarray(ws, dtype=np.float32)
    wzp = np.asarray(wzp, dtype=np.int8)
    acc_shape = E.conv_acc(np.zeros(xshape, np.int64), 0, w, 0, pads, strides, group).shape
    inputs = ["x", "x_scale", "x_zp", "w", "w_scale", "w_zp", "y_scale", "y_zp"]
    inits = [init("x_scale", xs, F32), init("x_zp", xzp, xdt), init("w", w, np.int8),
             init("w_scale", ws, F32), init("w_zp", wzp, np.int8), init("y_scale", ys, F32),
             init("y_zp", yzp, xdt)]
    if bias is not None:
        inputs.append("b")
        inits.append(init("b", bias, np.int32))
    kh, kw = w.shape[2:]
    nodes = [helper.make_node("QLinearConv", inputs, ["y"], pads=list(pads[:2]) + list(pads[2:]),
                              strides=list(strides), group=group, kernel_shape=[kh, kw])]
    m = make_model(name, nodes, [vi("x", xdt, xshape)], [vi("y", xdt, acc_shape)], inits)

    def emu(f):
        acc = E.conv_acc(f["x"], xzp, w, wzp, pads, strides, group)
        if bias is not None:
            acc = acc + np.asarray(bias, np.int64).reshape(1, -1, 1, 1)
        mult = E.output_multiplier(xs, ws, ys)
        if mult.size > 1:
            mult = mult.reshape(1, -1, 1, 1)
        return [E.requantize(acc, mult, yzp, xdt)]

    return spec(name, "QLinearConv", desc, m, [("x", xdt, xshape)], [("y", xdt)], emu)


def wrng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


@case
def qlinearconv_s8s8():
    r = wrng("qlinearconv_s8s8")
    w = r.integers(-127, 128, size=(4, 3, 3, 3))
    b = r.integers(-3000, 3000, size=4)
    return make_qlinearconv("qlinearconv_s8s8_per_tensor_bias_pad",
                            "QLinearConv int8 x int8 (per-tensor w_scale, w_zp=0), int32 bias, pads=1, stride 1; int8 out.",
                            np.int8, [1, 3, 6, 6], 0.0235, -3, w, 0.0117, 0, 0.0621, 5, bias=b,
                            pads=(1, 1, 1, 1))


@case
def qlinearconv_u8s8_stride2():
    r = wrng("qlinearconv_u8s8")
    w = r.integers(-127, 128, size=(5, 3, 3, 3))
    b = r.integers(-3000, 3000, size=5)
    return make_qlinearconv("qlinearconv_u8s8_stride2",
                            "QLinearConv uint8 activations (zp=128) x int8 weights (per-tensor), int32 bias, pads=1, stride 2; uint8 out (zp=131).",
                            np.uint8, [1, 3, 7, 7], 0.0219, 128, w, 0.0093, 0, 0.0517, 131, bias=b,
                            pads=(1, 1, 1, 1), strides=(2, 2))


@case
def qlinearconv_s8s8_per_channel():
    r = wrng("qlinearconv_pc")
    w = r.integers(-127, 128, size=(4, 3, 2, 2))
    b = r.integers(-2000, 2000, size=4)
    ws = [0.0117, 0.0231, 0.0063, 0.0191]
    return make_qlinearconv("qlinearconv_s8s8_per_channel_asym_pad",
                            "QLinearConv int8 x int8 per-channel weights (axis 0, 4 scales, zp 0), bias, asymmetric pads [t=1,l=0,b=0,r=1], 2x2 kernel.",
                            np.int8, [1, 3, 5, 5], 0.0235, -3, w, ws, [0, 0, 0, 0], 0.0421, 5, bias=b,
                            pads=(1, 0, 0, 1))


@case
def qlinearconv_group2():
    r = wrng("qlinearconv_group2")
    w = r.integers(-127, 128, size=(4, 2, 3, 3))
    return make_qlinearconv("qlinearconv_s8s8_group2",
                            "QLinearConv int8, group=2 (4 in / 4 out channels), pads=1, no bias.",
                            np.int8, [1, 4, 5, 5], 0.0235, 7, w, 0.0117, 0, 0.0271, -5, pads=(1, 1, 1, 1), group=2)


@case
def qlinearconv_u8s8_wzp():
    r = wrng("qlinearconv_u8s8_wzp")
    w = r.integers(-100, 100, size=(3, 2, 3, 3))
    return make_qlinearconv("qlinearconv_u8s8_nonzero_wzp",
                            "QLinearConv uint8 x int8 with a NON-zero per-tensor weight zero point (w_zp=3), no pads.",
                            np.uint8, [1, 2, 5, 5], 0.0219, 120, w, 0.0093, 3, 0.0231, 128)


# ---------------------------------------------------------------------------
# ConvInteger / MatMulInteger
# ---------------------------------------------------------------------------
@case
def convinteger_u8u8():
    r = wrng("convinteger_u8u8")
    w = r.integers(0, 256, size=(3, 2, 3, 3)).astype(np.uint8)
    xzp, wzp = 128, 5
    xshape = [1, 2, 5, 5]
    nodes = [helper.make_node("ConvInteger", ["x", "w", "x_zp", "w_zp"], ["y"], pads=[1, 1, 1, 1],
                              kernel_shape=[3, 3])]
    m = make_model("ci", nodes, [vi("x", np.uint8, xshape)], [vi("y", np.int32, [1, 3, 5, 5])],
                   [init("w", w, np.uint8), init("x_zp", xzp, np.uint8), init("w_zp", wzp, np.uint8)])
    return spec("convinteger_u8u8_pad", "ConvInteger",
                "ConvInteger uint8 x uint8, x_zp=128, w_zp=5, pads=1 (padding contributes 0, i.e. pads with x_zp) -> int32.",
                m, [("x", np.uint8, xshape)], [("y", np.int32)],
                lambda f: [E.conv_acc(f["x"], xzp, w, wzp, (1, 1, 1, 1)).astype(np.int32)])


def make_matmulinteger(name, desc, adt, ashape, azp, bdt, b, bzp):
    b = np.asarray(b, dtype=bdt)
    bzp_arr = np.asarray(bzp, dtype=bdt)
    oshape = list(ashape[:-1]) + [b.shape[1]]
    nodes = [helper.make_node("MatMulInteger", ["a", "b", "a_zp", "b_zp"], ["y"])]
    m = make_model(name, nodes, [vi("a", adt, ashape)], [vi("y", np.int32, oshape)],
                   [init("b", b, bdt), init("a_zp", azp, adt), init("b_zp", bzp_arr, bdt)])
    return spec(name, "MatMulInteger", desc, m, [("a", adt, ashape)], [("y", np.int32)],
                lambda f: [E.matmul_acc(f["a"], azp, b, bzp_arr).astype(np.int32)])


@case
def matmulinteger_s8s8():
    b = wrng("mmi_s8s8").integers(-128, 128, size=(8, 5))
    return make_matmulinteger("matmulinteger_s8s8", "MatMulInteger int8 x int8 (3-D A [2,3,8] @ B[8,5]), a_zp=-3, b_zp=2 -> int32.",
                              np.int8, [2, 3, 8], -3, np.int8, b, 2)


@case
def matmulinteger_u8s8_per_column():
    b = wrng("mmi_u8s8").integers(-128, 128, size=(8, 6))
    return make_matmulinteger("matmulinteger_u8s8_per_column_zp",
                              "MatMulInteger uint8 x int8, a_zp=128, per-column b_zp [6] -> int32.",
                              np.uint8, [4, 8], 128, np.int8, b, [1, -2, 3, 0, -5, 7])


@case
def matmulinteger_u8u8():
    b = wrng("mmi_u8u8").integers(0, 256, size=(16, 4))
    return make_matmulinteger("matmulinteger_u8u8", "MatMulInteger uint8 x uint8, a_zp=131, b_zp=5 -> int32.",
                              np.uint8, [3, 16], 131, np.uint8, b, 5)


# ---------------------------------------------------------------------------
# QLinearMatMul
# ---------------------------------------------------------------------------
def make_qlinearmatmul(name, desc, adt, ashape, as_, azp, bdt, b, bs, bzp, ys, yzp):
    b = np.asarray(b, dtype=bdt)
    bs = np.asarray(bs, dtype=np.float32)
    bzp = np.asarray(bzp, dtype=bdt)
    oshape = list(ashape[:-1]) + [b.shape[1]]
    nodes = [helper.make_node("QLinearMatMul", ["a", "a_s", "a_zp", "b", "b_s", "b_zp", "y_s", "y_zp"], ["y"])]
    m = make_model(name, nodes, [vi("a", adt, ashape)], [vi("y", adt, oshape)],
                   [init("a_s", as_, F32), init("a_zp", azp, adt), init("b", b, bdt), init("b_s", bs, F32),
                    init("b_zp", bzp, bdt), init("y_s", ys, F32), init("y_zp", yzp, adt)])

    def emu(f):
        acc = E.matmul_acc(f["a"], azp, b, bzp)
        return [E.requantize(acc, E.output_multiplier(as_, bs, ys), yzp, adt)]

    return spec(name, "QLinearMatMul", desc, m, [("a", adt, ashape)], [("y", adt)], emu)


@case
def qlinearmatmul_s8s8():
    b = wrng("qlmm_s8").integers(-127, 128, size=(16, 8))
    return make_qlinearmatmul("qlinearmatmul_s8s8", "QLinearMatMul int8 x int8 -> int8, A [2,4,16], B const [16,8].",
                              np.int8, [2, 4, 16], 0.0235, -3, np.int8, b, 0.0117, 0, 0.0313, 5)


@case
def qlinearmatmul_u8u8():
    b = wrng("qlmm_u8").integers(0, 256, size=(16, 8))
    return make_qlinearmatmul("qlinearmatmul_u8u8", "QLinearMatMul uint8 x uint8 -> uint8, a_zp=128, b_zp=131, y_zp=120.",
                              np.uint8, [4, 16], 0.0219, 128, np.uint8, b, 0.0093, 131, 0.0271, 120)


@case
def qlinearmatmul_u8s8_per_column():
    b = wrng("qlmm_u8s8pc").integers(-127, 128, size=(16, 6))
    return make_qlinearmatmul("qlinearmatmul_u8s8_per_column",
                              "QLinearMatMul uint8 x int8 with per-column b_scale [6] (b_zp 0) -> uint8.",
                              np.uint8, [4, 16], 0.0219, 128, np.int8, b,
                              [0.0117, 0.0093, 0.0231, 0.0051, 0.0177, 0.0311], [0] * 6, 0.0393, 128)


# ---------------------------------------------------------------------------
# com.microsoft QGemm
# ---------------------------------------------------------------------------
def make_qgemm(name, desc, adt, M, K, N, as_, azp, b, bs, bzp, bias, ys, yzp, alpha=1.0):
    b = np.asarray(b, dtype=np.int8)  # [N, K], transB=1
    bs = np.asarray(bs, dtype=np.float32)
    bzp = np.asarray(bzp, dtype=np.int8)
    bias = np.asarray(bias, dtype=np.int32)
    nodes = [helper.make_node("QGemm", ["a", "a_s", "a_zp", "b", "b_s", "b_zp", "c", "y_s", "y_zp"], ["y"],
                              domain="com.microsoft", transB=1, alpha=float(alpha))]
    m = make_model(name, nodes, [vi("a", adt, [M, K])], [vi("y", adt, [M, N])],
                   [init("a_s", as_, F32), init("a_zp", azp, adt), init("b", b, np.int8), init("b_s", bs, F32),
                    init("b_zp", bzp, np.int8), init("c", bias, np.int32), init("y_s", ys, F32),
                    init("y_zp", yzp, adt)], ms=True)

    def emu(f):
        acc = E.matmul_acc(f["a"], azp, b.T, bzp) + bias.astype(np.int64)
        return [E.requantize(acc, E.output_multiplier(as_, bs, ys, alpha=alpha), yzp, adt)]

    return spec(name, "QGemm", desc, m, [("a", adt, [M, K])], [("y", adt)], emu)


@case
def qgemm_s8():
    r = wrng("qgemm_s8")
    return make_qgemm("qgemm_s8s8_bias_transb", "com.microsoft QGemm int8 A [4,16] x int8 B const [8,16] transB=1, int32 bias C [8], int8 out.",
                      np.int8, 4, 16, 8, 0.0235, -3, r.integers(-127, 128, (8, 16)), 0.0117, 0,
                      r.integers(-4000, 4000, 8), 0.0313, 5)


@case
def qgemm_s8_per_channel():
    r = wrng("qgemm_s8_pc")
    return make_qgemm("qgemm_s8s8_per_channel_b_scale",
                      "com.microsoft QGemm int8 with per-output-channel b_scale [8] and b_zp [8] (zeros), transB=1, bias, int8 out.",
                      np.int8, 4, 16, 8, 0.0235, -3, r.integers(-127, 128, (8, 16)),
                      [0.0117, 0.0093, 0.0231, 0.0051, 0.0177, 0.0311, 0.0071, 0.0143], [0] * 8,
                      r.integers(-4000, 4000, 8), 0.0313, 5)


@case
def qgemm_u8s8_alpha():
    r = wrng("qgemm_u8")
    return make_qgemm("qgemm_u8s8_alpha",
                      "com.microsoft QGemm uint8 A x int8 B transB=1, alpha=0.7, bias, uint8 out: multiplier=((alpha*a_s)*b_s)/y_s.",
                      np.uint8, 3, 16, 8, 0.0219, 128, r.integers(-127, 128, (8, 16)), 0.0093, 0,
                      r.integers(-4000, 4000, 8), 0.0271, 131, alpha=0.7)


# ---------------------------------------------------------------------------
# com.microsoft elementwise ops
# ---------------------------------------------------------------------------
def make_binary(name, op, desc, dt, shape, a, b, c, emu_fn):
    (sa, za), (sb, zb), (sc, zc) = a, b, c
    nodes = [helper.make_node(op, ["a", "a_s", "a_zp", "b", "b_s", "b_zp", "c_s", "c_zp"], ["c"], domain="com.microsoft")]
    m = make_model(name, nodes, [vi("a", dt, shape), vi("b", dt, shape)], [vi("c", dt, shape)],
                   [init("a_s", sa, F32), init("a_zp", za, dt), init("b_s", sb, F32), init("b_zp", zb, dt),
                    init("c_s", sc, F32), init("c_zp", zc, dt)], ms=True)
    return spec(name, op, desc, m, [("a", dt, shape), ("b", dt, shape)], [("c", dt)],
                lambda f: [emu_fn(f["a"], sa, za, f["b"], sb, zb, sc, zc, dt)])


@case
def qlinearadd_s8():
    return make_binary("qlinearadd_s8", "QLinearAdd", "com.microsoft QLinearAdd int8, same shapes [2,3,40] (240 elems: full 32-lane blocks + tail).",
                       np.int8, [2, 3, 40], (0.0235, -3), (0.0371, 5), (0.0413, 7), E.qlinear_add)


@case
def qlinearadd_u8():
    return make_binary("qlinearadd_u8", "QLinearAdd", "com.microsoft QLinearAdd uint8, same shapes [2,3,40].",
                       np.uint8, [2, 3, 40], (0.0219, 128), (0.0313, 120), (0.0297, 131), E.qlinear_add)


@case
def qlinearmul_s8():
    return make_binary("qlinearmul_s8", "QLinearMul", "com.microsoft QLinearMul int8, same shapes [2,3,40].",
                       np.int8, [2, 3, 40], (0.0235, -3), (0.0371, 5), (0.0413, 7), E.qlinear_mul)


@case
def qlinearmul_u8():
    return make_binary("qlinearmul_u8", "QLinearMul", "com.microsoft QLinearMul uint8, same shapes [2,3,40].",
                       np.uint8, [2, 3, 40], (0.0219, 128), (0.0313, 120), (0.0297, 131), E.qlinear_mul)


def make_unary_lut(name, op, desc, dt, shape, xs, xzp, ys, yzp, emu_fn, attrs=None):
    nodes = [helper.make_node(op, ["x", "x_s", "x_zp", "y_s", "y_zp"], ["y"], domain="com.microsoft", **(attrs or {}))]
    m = make_model(name, nodes, [vi("x", dt, shape)], [vi("y", dt, shape)],
                   [init("x_s", xs, F32), init("x_zp", xzp, dt), init("y_s", ys, F32), init("y_zp", yzp, dt)], ms=True)
    return spec(name, op, desc, m, [("x", dt, shape)], [("y", dt)],
                lambda f: [emu_fn(f["x"], xs, xzp, ys, yzp, dt)], all_codes=True)


@case
def qlinearsigmoid_s8():
    return make_unary_lut("qlinearsigmoid_s8", "QLinearSigmoid",
                          "com.microsoft QLinearSigmoid int8 [4,64] (one stress sample = all 256 codes). y_scale chosen so outputs saturate at 127.",
                          np.int8, [4, 64], 0.0625 * 1.37, -3, 0.0039 * 0.93, -128, E.qlinear_sigmoid)


@case
def qlinearsigmoid_u8():
    return make_unary_lut("qlinearsigmoid_u8", "QLinearSigmoid", "com.microsoft QLinearSigmoid uint8 [4,64], x_zp=128, y_zp=5.",
                          np.uint8, [4, 64], 0.0471, 128, 0.00413, 5, E.qlinear_sigmoid)


@case
def qlinearleakyrelu_s8():
    return make_unary_lut("qlinearleakyrelu_s8", "QLinearLeakyRelu", "com.microsoft QLinearLeakyRelu int8, alpha=0.1, [4,64].",
                          np.int8, [4, 64], 0.0235, -3, 0.0173, 7,
                          lambda x, a, b, c, d, e: E.qlinear_leaky_relu(x, a, b, c, d, e, alpha=0.1),
                          attrs={"alpha": 0.1})


@case
def qlinearleakyrelu_u8():
    return make_unary_lut("qlinearleakyrelu_u8", "QLinearLeakyRelu", "com.microsoft QLinearLeakyRelu uint8, alpha=0.1, [4,64].",
                          np.uint8, [4, 64], 0.0219, 128, 0.0011, 100,
                          lambda x, a, b, c, d, e: E.qlinear_leaky_relu(x, a, b, c, d, e, alpha=0.1),
                          attrs={"alpha": 0.1})


def make_gap(name, dt, shape, xs, xzp, ys, yzp):
    nodes = [helper.make_node("QLinearGlobalAveragePool", ["x", "x_s", "x_zp", "y_s", "y_zp"], ["y"],
                              domain="com.microsoft", channels_last=0)]
    oshape = shape[:2] + [1, 1]
    m = make_model(name, nodes, [vi("x", dt, shape)], [vi("y", dt, oshape)],
                   [init("x_s", xs, F32), init("x_zp", xzp, dt), init("y_s", ys, F32), init("y_zp", yzp, dt)], ms=True)
    return spec(name, "QLinearGlobalAveragePool",
                f"com.microsoft QLinearGlobalAveragePool NCHW {DTNAME[T(dt)]} {shape}.", m, [("x", dt, shape)], [("y", dt)],
                lambda f: [E.qlinear_global_avg_pool(f["x"], xs, xzp, ys, yzp, dt)])


@case
def qlinearglobalavgpool_u8():
    return make_gap("qlinearglobalaveragepool_u8", np.uint8, [2, 8, 5, 5], 0.0219, 128, 0.0071, 131)


@case
def qlinearglobalavgpool_s8():
    return make_gap("qlinearglobalaveragepool_s8", np.int8, [2, 8, 5, 5], 0.0235, -3, 0.0061, 5)


def make_avgpool(name, dt, shape, xs, xzp, ys, yzp):
    nodes = [helper.make_node("QLinearAveragePool", ["x", "x_s", "x_zp", "y_s", "y_zp"], ["y"],
                              domain="com.microsoft", kernel_shape=[2, 2], strides=[2, 2])]
    oshape = shape[:2] + [shape[2] // 2, shape[3] // 2]
    m = make_model(name, nodes, [vi("x", dt, shape)], [vi("y", dt, oshape)],
                   [init("x_s", xs, F32), init("x_zp", xzp, dt), init("y_s", ys, F32), init("y_zp", yzp, dt)], ms=True)
    return spec(name, "QLinearAveragePool",
                f"com.microsoft QLinearAveragePool NCHW {DTNAME[T(dt)]} {shape}, kernel 2x2, stride 2, no pads.",
                m, [("x", dt, shape)], [("y", dt)],
                lambda f: [E.qlinear_avg_pool2d(f["x"], xs, xzp, ys, yzp, dt)])


@case
def qlinearavgpool_s8():
    return make_avgpool("qlinearaveragepool_s8_k2s2", np.int8, [1, 3, 6, 6], 0.0235, -3, 0.0171, 5)


@case
def qlinearavgpool_u8():
    return make_avgpool("qlinearaveragepool_u8_k2s2", np.uint8, [1, 3, 6, 6], 0.0219, 128, 0.0133, 131)


def make_softmax(name, dt, shape, xs, xzp, ys, yzp, desc):
    nodes = [helper.make_node("QLinearSoftmax", ["x", "x_s", "x_zp", "y_s", "y_zp"], ["y"],
                              domain="com.microsoft", axis=-1, opset=13)]
    m = make_model(name, nodes, [vi("x", dt, shape)], [vi("y", dt, shape)],
                   [init("x_s", xs, F32), init("x_zp", xzp, dt), init("y_s", ys, F32), init("y_zp", yzp, dt)], ms=True)
    return spec(name, "QLinearSoftmax", desc, m, [("x", dt, shape)], [("y", dt)],
                lambda f: [E.qlinear_softmax_lastaxis(f["x"], xs, ys, yzp, dt)])


@case
def qlinearsoftmax_u8():
    return make_softmax("qlinearsoftmax_u8", np.uint8, [4, 10], 0.0471, 128, 1.0 / 300.0, 3,
                        "com.microsoft QLinearSoftmax uint8, attrs opset=13 axis=-1, [4,10]. x_zp is ignored by ORT (softmax is shift invariant).")


@case
def qlinearsoftmax_s8():
    return make_softmax("qlinearsoftmax_s8", np.int8, [4, 10], 0.0471, -3, 1.0 / 256.0, -128,
                        "com.microsoft QLinearSoftmax int8, opset=13 axis=-1, y_scale=1/256, y_zp=-128. "
                        "A probability ~1 gives vq = 256-128 = 128, which ORT " + ort.__version__ + " saturates to 127 (a source revision of qlinear_softmax.cc read during development cast without clamping; 1.31.1 clamps).")


# ---------------------------------------------------------------------------
# QDQ groups (fused by ORT's QDQ transformers at ORT_ENABLE_ALL)
# ---------------------------------------------------------------------------
def dq(inp, s, zp, out, axis=None):
    kw = {} if axis is None else {"axis": axis}
    return helper.make_node("DequantizeLinear", [inp, s, zp], [out], **kw)


def q(inp, s, zp, out):
    return helper.make_node("QuantizeLinear", [inp, s, zp], [out])


def make_qdq_conv(name, desc, xdt, xshape, xs, xzp, w, ws, ys, yzp, bias, pads, strides=(1, 1)):
    w = np.asarray(w, dtype=np.int8)
    ws = np.asarray(ws, dtype=np.float32)
    per_channel = ws.size > 1
    wzp = np.zeros(ws.shape, dtype=np.int8)
    bs = (F32(xs) * ws).astype(np.float32)
    bias = np.asarray(bias, dtype=np.int32)
    oshape = E.conv_acc(np.zeros(xshape, np.int64), 0, w, 0, pads, strides).shape
    nodes = [dq("x", "x_s", "x_zp", "xf"),
             dq("w", "w_s", "w_zp", "wf", axis=0 if per_channel else None),
             dq("b", "b_s", "b_zp", "bf", axis=0 if per_channel else None),
             helper.make_node("Conv", ["xf", "wf", "bf"], ["yf"], pads=list(pads), strides=list(strides),
                              kernel_shape=list(w.shape[2:])),
             q("yf", "y_s", "y_zp", "y")]
    inits = [init("x_s", xs, F32), init("x_zp", xzp, xdt), init("w", w, np.int8), init("w_s", ws, F32),
             init("w_zp", wzp, np.int8), init("b", bias, np.int32), init("b_s", bs, F32),
             init("b_zp", np.zeros(bs.shape, np.int32), np.int32), init("y_s", ys, F32), init("y_zp", yzp, xdt)]
    m = make_model(name, nodes, [vi("x", xdt, xshape)], [vi("y", xdt, oshape)], inits)

    def emu(f):
        acc = E.conv_acc(f["x"], xzp, w, 0, pads, strides) + bias.astype(np.int64).reshape(1, -1, 1, 1)
        mult = E.output_multiplier(xs, ws, ys)
        if mult.size > 1:
            mult = mult.reshape(1, -1, 1, 1)
        return [E.requantize(acc, mult, yzp, xdt)]

    return spec(name, "QDQ:Conv", desc, m, [("x", xdt, xshape)], [("y", xdt)], emu)


@case
def qdq_conv_s8():
    r = wrng("qdq_conv_s8")
    return make_qdq_conv("qdq_conv_s8", "DQ(int8 x) -> Conv(DQ(int8 W, per-tensor, zp 0), DQ(int32 bias, scale=x_s*w_s)) -> Q(int8); pads=1.",
                         np.int8, [1, 3, 6, 6], 0.0235, -3, r.integers(-127, 128, (4, 3, 3, 3)), 0.0117, 0.0621, 5,
                         r.integers(-3000, 3000, 4), (1, 1, 1, 1))


@case
def qdq_conv_u8():
    r = wrng("qdq_conv_u8")
    return make_qdq_conv("qdq_conv_u8_stride2", "DQ(uint8 x, zp 128) -> Conv(DQ(int8 W), DQ(int32 bias)) -> Q(uint8, zp 131); pads=1 stride 2.",
                         np.uint8, [1, 3, 7, 7], 0.0219, 128, r.integers(-127, 128, (5, 3, 3, 3)), 0.0093, 0.0517, 131,
                         r.integers(-3000, 3000, 5), (1, 1, 1, 1), (2, 2))


@case
def qdq_conv_s8_per_channel():
    r = wrng("qdq_conv_pc")
    return make_qdq_conv("qdq_conv_s8_per_channel", "DQ(int8 x) -> Conv(DQ(int8 W per-channel axis 0), DQ(int32 bias per-channel scale x_s*w_s[c])) -> Q(int8).",
                         np.int8, [1, 3, 5, 5], 0.0235, -3, r.integers(-127, 128, (4, 3, 3, 3)),
                         [0.0117, 0.0231, 0.0063, 0.0191], 0.0421, 5, r.integers(-2000, 2000, 4), (1, 1, 1, 1))


@case
def qdq_gemm_s8():
    r = wrng("qdq_gemm_s8")
    M, K, N = 4, 16, 8
    xs, xzp, ws, ys, yzp = 0.0235, -3, 0.0117, 0.0313, 5
    w = r.integers(-127, 128, (N, K)).astype(np.int8)
    bias = r.integers(-4000, 4000, N).astype(np.int32)
    bs = F32(xs) * F32(ws)
    nodes = [dq("a", "a_s", "a_zp", "af"), dq("w", "w_s", "w_zp", "wf"), dq("b", "b_s", "b_zp", "bf"),
             helper.make_node("Gemm", ["af", "wf", "bf"], ["yf"], transB=1), q("yf", "y_s", "y_zp", "y")]
    inits = [init("a_s", xs, F32), init("a_zp", xzp, np.int8), init("w", w, np.int8), init("w_s", ws, F32),
             init("w_zp", 0, np.int8), init("b", bias, np.int32), init("b_s", bs, F32), init("b_zp", 0, np.int32),
             init("y_s", ys, F32), init("y_zp", yzp, np.int8)]
    m = make_model("qdq_gemm", nodes, [vi("a", np.int8, [M, K])], [vi("y", np.int8, [M, N])], inits)

    def emu(f):
        acc = E.matmul_acc(f["a"], xzp, w.T, 0) + bias.astype(np.int64)
        return [E.requantize(acc, E.output_multiplier(xs, ws, ys), yzp, np.int8)]

    return spec("qdq_gemm_s8", "QDQ:Gemm", "DQ(int8 A) -> Gemm(transB=1, DQ(int8 B), DQ(int32 bias, scale=a_s*b_s)) -> Q(int8).",
                m, [("a", np.int8, [M, K])], [("y", np.int8)], emu)


def make_qdq_matmul(name, dt, ashape, xs, xzp, w, ws, wzp, wdt, ys, yzp):
    w = np.asarray(w, dtype=wdt)
    oshape = list(ashape[:-1]) + [w.shape[1]]
    nodes = [dq("a", "a_s", "a_zp", "af"), dq("w", "w_s", "w_zp", "wf"),
             helper.make_node("MatMul", ["af", "wf"], ["yf"]), q("yf", "y_s", "y_zp", "y")]
    inits = [init("a_s", xs, F32), init("a_zp", xzp, dt), init("w", w, wdt), init("w_s", ws, F32),
             init("w_zp", wzp, wdt), init("y_s", ys, F32), init("y_zp", yzp, dt)]
    m = make_model(name, nodes, [vi("a", dt, ashape)], [vi("y", dt, oshape)], inits)

    def emu(f):
        acc = E.matmul_acc(f["a"], xzp, w, wzp)
        return [E.requantize(acc, E.output_multiplier(xs, ws, ys), yzp, dt)]

    return spec(name, "QDQ:MatMul", f"DQ({DTNAME[T(dt)]} A) -> MatMul(DQ({DTNAME[T(wdt)]} const B)) -> Q({DTNAME[T(dt)]}).",
                m, [("a", dt, ashape)], [("y", dt)], emu)


@case
def qdq_matmul_s8():
    return make_qdq_matmul("qdq_matmul_s8", np.int8, [2, 4, 16], 0.0235, -3,
                           wrng("qdq_mm_s8").integers(-127, 128, (16, 8)), 0.0117, 0, np.int8, 0.0313, 5)


@case
def qdq_matmul_u8():
    return make_qdq_matmul("qdq_matmul_u8", np.uint8, [4, 16], 0.0219, 128,
                           wrng("qdq_mm_u8").integers(0, 256, (16, 8)), 0.0093, 131, np.uint8, 0.0271, 120)


@case
def qdq_sigmoid_s8():
    xs, xzp, ys, yzp = 0.0471, -3, 1.0 / 256.0 * 0.97, -128
    shape = [4, 64]
    nodes = [dq("x", "x_s", "x_zp", "xf"), helper.make_node("Sigmoid", ["xf"], ["yf"]), q("yf", "y_s", "y_zp", "y")]
    m = make_model("qdq_sigmoid", nodes, [vi("x", np.int8, shape)], [vi("y", np.int8, shape)],
                   [init("x_s", xs, F32), init("x_zp", xzp, np.int8), init("y_s", ys, F32), init("y_zp", yzp, np.int8)])
    return spec("qdq_sigmoid_s8", "QDQ:Sigmoid", "DQ(int8) -> Sigmoid -> Q(int8, y_zp=-128).",
                m, [("x", np.int8, shape)], [("y", np.int8)],
                lambda f: [E.qlinear_sigmoid(f["x"], xs, xzp, ys, yzp, np.int8)], all_codes=True)


@case
def qdq_maxpool_s8():
    xs, xzp = 0.0235, -3
    shape = [1, 3, 6, 6]
    nodes = [dq("x", "x_s", "x_zp", "xf"), helper.make_node("MaxPool", ["xf"], ["yf"], kernel_shape=[2, 2], strides=[2, 2]),
             q("yf", "x_s", "x_zp", "y")]
    m = make_model("qdq_maxpool", nodes, [vi("x", np.int8, shape)], [vi("y", np.int8, [1, 3, 3, 3])],
                   [init("x_s", xs, F32), init("x_zp", xzp, np.int8)])
    return spec("qdq_maxpool_s8", "QDQ:MaxPool", "DQ(int8) -> MaxPool(k2,s2) -> Q(same scale/zp): ORT drops the Q/DQ pair and runs MaxPool on int8.",
                m, [("x", np.int8, shape)], [("y", np.int8)], lambda f: [E.max_pool2d(f["x"])])


def make_qdq_add(name, dt, shape, a, b, c):
    (sa, za), (sb, zb), (sc, zc) = a, b, c
    nodes = [dq("a", "a_s", "a_zp", "af"), dq("b", "b_s", "b_zp", "bf"), helper.make_node("Add", ["af", "bf"], ["cf"]),
             q("cf", "c_s", "c_zp", "c")]
    m = make_model(name, nodes, [vi("a", dt, shape), vi("b", dt, shape)], [vi("c", dt, shape)],
                   [init("a_s", sa, F32), init("a_zp", za, dt), init("b_s", sb, F32), init("b_zp", zb, dt),
                    init("c_s", sc, F32), init("c_zp", zc, dt)])
    return spec(name, "QDQ:Add", f"DQ({DTNAME[T(dt)]} a), DQ(b) -> Add -> Q: fused into com.microsoft QLinearAdd.",
                m, [("a", dt, shape), ("b", dt, shape)], [("c", dt)],
                lambda f: [E.qlinear_add(f["a"], sa, za, f["b"], sb, zb, sc, zc, dt)])


@case
def qdq_add_s8():
    return make_qdq_add("qdq_add_s8", np.int8, [2, 3, 40], (0.0235, -3), (0.0371, 5), (0.0413, 7))


@case
def qdq_add_u8():
    return make_qdq_add("qdq_add_u8", np.uint8, [2, 3, 40], (0.0219, 128), (0.0313, 120), (0.0297, 131))


# ---------------------------------------------------------------------------
# runner
# ---------------------------------------------------------------------------
def session(model_bytes, level, opt_path=None):
    so = ort.SessionOptions()
    so.graph_optimization_level = level
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    if opt_path:
        so.optimized_model_filepath = opt_path
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


def optimized_ops(model_bytes):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "opt.onnx")
        try:
            session(model_bytes, ort.GraphOptimizationLevel.ORT_ENABLE_ALL, p)
            m = onnx.load(p)
            return [(n.domain + "::" if n.domain else "") + n.op_type for n in m.graph.node]
        except Exception as e:  # pragma: no cover
            return [f"<could not save optimized model: {e}>"]


def tensor_json(name, arr):
    arr = np.asarray(arr)
    dt = DTNAME[arr.dtype.type]
    data = [float(v) for v in arr.reshape(-1)] if arr.dtype == np.float32 else [int(v) for v in arr.reshape(-1)]
    return {"name": name, "dtype": dt, "shape": list(arr.shape), "data": data}


def gen_inputs(c, rng, kind):
    if c["gen"] is not None:
        return c["gen"](rng, kind)
    feeds = {}
    for (n, dt, shape) in c["inputs"]:
        if kind == "all_codes":
            codes = np.arange(256).astype(np.uint8)
            if T(dt) == np.int8:
                codes = codes.view(np.int8)
            size = int(np.prod(shape))
            feeds[n] = np.resize(codes, size).reshape(shape).astype(dt)
        else:
            feeds[n] = rand_q(rng, dt, shape, kind)
    return feeds


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype == np.float32:
        return a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))
    return a.shape == b.shape and np.array_equal(a, b)


def process(c, n_stress, write=True):
    name = c["name"]
    mb = c["model"].SerializeToString()
    s_all = session(mb, ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
    s_none = session(mb, ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    out_names = [o[0] for o in c["outputs"]]
    rng = np.random.default_rng(zlib.crc32(name.encode()) ^ 0x5EED)
    samples, any_diff = [], False
    kinds = ["random", "extreme", "random"]
    emu_total = emu_bad = 0
    sat_lo = sat_hi = False
    for kind in kinds:
        feeds = gen_inputs(c, rng, kind)
        ya = s_all.run(out_names, feeds)
        yn = s_none.run(out_names, feeds)
        diff = not all(same(a, b) for a, b in zip(ya, yn))
        any_diff |= diff
        ye = c["emulate"](feeds)
        for a, e in zip(ya, ye):
            emu_total += a.size
            emu_bad += int(np.sum(np.asarray(a) != np.asarray(e)))
            if a.dtype in (np.int8, np.uint8):
                lo, hi = E.qrange(a.dtype)
                sat_lo |= bool(np.any(a == lo))
                sat_hi |= bool(np.any(a == hi))
        s = {"kind": kind,
             "inputs": [tensor_json(n, feeds[n]) for (n, _, _) in c["inputs"]],
             "outputs": [tensor_json(n, y) for n, y in zip(out_names, ya)],
             "ort_disable_all_differs": diff}
        if diff:
            s["outputs_ort_disable_all"] = [tensor_json(n, y) for n, y in zip(out_names, yn)]
        samples.append(s)
    sample_bad = emu_bad
    # stress
    st_total = st_bad = 0
    st_diff_none = 0
    stress_kinds = ["random"] * (n_stress * 3 // 4) + ["extreme"] * (n_stress - n_stress * 3 // 4)
    if c["all_codes"]:
        stress_kinds.append("all_codes")
    for kind in stress_kinds:
        feeds = gen_inputs(c, rng, kind)
        ya = s_all.run(out_names, feeds)
        yn = s_none.run(out_names, feeds)
        ye = c["emulate"](feeds)
        for a, e, b in zip(ya, ye, yn):
            st_total += a.size
            st_bad += int(np.sum(np.asarray(a) != np.asarray(e)))
            st_diff_none += int(np.sum(np.asarray(a) != np.asarray(b)))
            if a.dtype in (np.int8, np.uint8):
                lo, hi = E.qrange(a.dtype)
                sat_lo |= bool(np.any(a == lo))
                sat_hi |= bool(np.any(a == hi))
    opt = optimized_ops(mb)
    ver = {"case": name, "op": c["op"], "emulation_exact": sample_bad == 0 and st_bad == 0,
           "sample_elements": emu_total, "sample_mismatches": sample_bad,
           "stress_samples": len(stress_kinds), "stress_elements": st_total, "stress_mismatches": st_bad,
           "stress_enable_all_vs_disable_all_mismatches": st_diff_none,
           "output_hits_min": sat_lo, "output_hits_max": sat_hi, "ort_optimized_graph": opt}
    if write:
        d = os.path.join(HERE, name)
        os.makedirs(d, exist_ok=True)
        onnx.save(c["model"], os.path.join(d, "model.onnx"))
        domains = {o.domain or "ai.onnx": o.version for o in c["model"].opset_import}
        cj = {"op": c["op"], "description": c["description"], "opset_imports": domains,
              "execution_provider": "CPUExecutionProvider",
              "onnxruntime_version": ort.__version__,
              "ort_disable_all_differs": any_diff,
              "ort_optimized_graph": opt,
              "emulation_exact": ver["emulation_exact"],
              "samples": samples}
        if c["notes"]:
            cj["notes"] = c["notes"]
        with open(os.path.join(d, "case.json"), "w") as fh:
            json.dump(cj, fh, indent=1)
            fh.write("\n")
    return ver


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stress", type=int, default=500, help="random stress samples per case (not written)")
    ap.add_argument("--only", default="", help="comma separated case names")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    only = set(x for x in args.only.split(",") if x)
    results, index, skipped = [], [], []
    for fn in CASES:
        try:
            c = fn()
        except Exception as e:
            skipped.append({"builder": fn.__name__, "reason": f"model build failed: {e}"})
            continue
        if only and c["name"] not in only:
            continue
        try:
            v = process(c, args.stress, write=not args.no_write)
        except Exception as e:
            msg = str(e).splitlines()[0][:300]
            print(f"SKIP {c['name']}: {msg}")
            skipped.append({"case": c["name"], "op": c["op"], "reason": msg})
            continue
        results.append(v)
        index.append({"name": c["name"], "op": c["op"], "description": c["description"],
                      "path": c["name"] + "/"})
        print(f"{v['case']:45s} exact={v['emulation_exact']!s:5s} sample_mm={v['sample_mismatches']} "
              f"stress_mm={v['stress_mismatches']}/{v['stress_elements']} min={v['output_hits_min']} "
              f"max={v['output_hits_max']} ea!=da={v['stress_enable_all_vs_disable_all_mismatches']} "
              f"opt={v['ort_optimized_graph']}")
    if not args.no_write and not only:
        meta = {"generator": "make_cases.py", "onnxruntime": ort.__version__, "onnx": onnx.__version__,
                "numpy": np.__version__, "opset": {"ai.onnx": OPSET, "com.microsoft": MS_OPSET},
                "ir_version": IR_VERSION}
        with open(os.path.join(HERE, "index.json"), "w") as fh:
            json.dump({"meta": meta, "cases": index, "skipped": skipped}, fh, indent=1)
            fh.write("\n")
        with open(os.path.join(HERE, "verification.json"), "w") as fh:
            json.dump({"meta": meta, "stress_samples_per_case": args.stress, "results": results,
                       "skipped": skipped}, fh, indent=1)
            fh.write("\n")
    bad = [r["case"] for r in results if not r["emulation_exact"]]
    print("skipped:", skipped)
    print("emulation mismatches in:", bad)


if __name__ == "__main__":
    main()
