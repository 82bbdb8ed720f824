"""Bit-exact numpy emulations of onnxruntime's (CPU, x86-64) quantized int8 kernels.

Every function here mirrors the integer / float32 arithmetic of the MLAS and
contrib kernels used by onnxruntime on an x86-64 CPU with AVX2/FMA (see
SEMANTICS.md for the derivation and source references).  They are checked
against onnxruntime by make_cases.py.

All float arithmetic is done in numpy float32 (each numpy float32 op is one
IEEE-754 binary32 operation, round-to-nearest-even), except where a fused
multiply-add is emulated explicitly with `fma32`.
"""

import numpy as np

F32 = np.float32

QRANGE = {np.int8: (-128, 127), np.uint8: (0, 255)}


def qrange(dtype):
    return QRANGE[np.dtype(dtype).type]


def rne(x):
    """Round half to even (what cvtps2dq / nearbyintf do under the default MXCSR)."""
    return np.rint(x)


# ---------------------------------------------------------------------------
# Exact binary32 fused multiply-add: fl32(a*b + c) with a single rounding.
# ---------------------------------------------------------------------------
def fma32(a, b, c):
    a = np.asarray(a, dtype=np.float32).astype(np.float64)
    b = np.asarray(b, dtype=np.float32).astype(np.float64)
    c = np.asarray(c, dtype=np.float32).astype(np.float64)
    a, b, c = np.broadcast_arrays(a, b, c)
    p = a * b  # exact: 24+24 bit significands fit in 53 bits
    s = p + c  # rounded to double
    bb = s - p  # TwoSum: s + e == p + c exactly
    e = (p - (s - bb)) + (c - bb)
    r = s.astype(np.float32)
    # Double rounding (exact -> f64 -> f32) can only go wrong when s is exactly a
    # binary32 midpoint (those are representable in binary64) and e != 0.
    r64 = r.astype(np.float64)
    toward = np.where(s > r64, np.float32(np.inf), np.float32(-np.inf)).astype(np.float32)
    other = np.nextafter(r, toward)
    mid = (r64 + other.astype(np.float64)) / 2.0
    tie = (s == mid) & (s != r64) & (e != 0)
    if np.any(tie):
        hi = np.maximum(r, other)
        lo = np.minimum(r, other)
        r = np.where(tie & (e > 0), hi, np.where(tie & (e < 0), lo, r))
    return r.astype(np.float32)


# ---------------------------------------------------------------------------
# QuantizeLinear / DequantizeLinear
# ---------------------------------------------------------------------------
def quantize_linear(x, scale, zp, dtype):
    """MlasQuantizeLinear: y = sat(rne(x / scale) + zp); x/scale is a binary32 division."""
    lo, hi = qrange(dtype)
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(over="ignore"):
        v = x / F32(scale)
    v = np.minimum(np.maximum(v, F32(lo - int(zp))), F32(hi - int(zp)))
    return (rne(v).astype(np.int64) + int(zp)).astype(dtype)


def dequantize_linear(x, scale, zp):
    """y = float(x - zp) * scale (binary32 multiply); scale/zp broadcastable."""
    d = (np.asarray(x).astype(np.int64) - np.asarray(zp).astype(np.int64)).astype(np.float32)
    return (d * np.asarray(scale, dtype=np.float32)).astype(np.float32)


# ---------------------------------------------------------------------------
# Requantization used by QLinearConv / QLinearMatMul / QGemm / fused QDQ
# (MlasRequantizeOutput and the ConvSym kernels' post-processing).
# ---------------------------------------------------------------------------
def output_multiplier(x_scale, w_scale, y_scale, alpha=None):
    """float32: (x_scale * w_scale) / y_scale, evaluated left to right in binary32.

    QGemm computes ((alpha * a_scale) * b_scale) / y_scale.
    """
    w_scale = np.asarray(w_scale, dtype=np.float32)
    a = F32(x_scale)
    if alpha is not None:
        a = F32(alpha) * a
    return ((a * w_scale) / F32(y_scale)).astype(np.float32)


def requantize(acc, multiplier, y_zp, dtype):
    """y = sat(rne(clamp(float32(acc) * m, lo - zp, hi - zp)) + zp)."""
    lo, hi = qrange(dtype)
    f = np.asarray(acc, dtype=np.int64).astype(np.float32) * np.asarray(multiplier, dtype=np.float32)
    f = np.minimum(np.maximum(f, F32(lo - int(y_zp))), F32(hi - int(y_zp)))
    return (rne(f).astype(np.int64) + int(y_zp)).astype(dtype)


# ---------------------------------------------------------------------------
# Integer convolution / matmul (exact int64 accumulation; ORT uses int32 which
# is exact for these sizes).
# ---------------------------------------------------------------------------
def conv_acc(x, x_zp, w, w_zp, pads=(0, 0, 0, 0), strides=(1, 1), group=1):
    """sum((x - x_zp) * (w - w_zp)); padding contributes 0 (padded with x_zp).

    x: [N, C, H, W]; w: [M, C/group, kh, kw]; w_zp scalar or [M].
    pads: (top, left, bottom, right).
    """
    x = np.asarray(x, dtype=np.int64) - int(x_zp)
    w = np.asarray(w, dtype=np.int64)
    wz = np.asarray(w_zp, dtype=np.int64).reshape(-1)
    if wz.size == 1:
        w = w - wz[0]
    else:
        w = w - wz.reshape(-1, 1, 1, 1)
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    pt, pl, pb, pr = pads
    xp = np.zeros((n, c, h + pt + pb, wd + pl + pr), dtype=np.int64)
    xp[:, :, pt:pt + h, pl:pl + wd] = x
    sh, sw = strides
    oh = (h + pt + pb - kh) // sh + 1
    ow = (wd + pl + pr - kw) // sw + 1
    out = np.zeros((n, m, oh, ow), dtype=np.int64)
    mg = m // group
    for g in range(group):
        xs = xp[:, g * cg:(g + 1) * cg]
        ws = w[g * mg:(g + 1) * mg]
        for i in range(oh):
            for j in range(ow):
                patch = xs[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
                out[:, g * mg:(g + 1) * mg, i, j] = np.einsum("nckl,mckl->nm", patch, ws)
    return out


def matmul_acc(a, a_zp, b, b_zp):
    """(a - a_zp) @ (b - b_zp); b_zp scalar or per-column [N]."""
    a = np.asarray(a, dtype=np.int64) - np.asarray(a_zp, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64) - np.asarray(b_zp, dtype=np.int64).reshape(-1)
    return a @ b


# ---------------------------------------------------------------------------
# com.microsoft QLinearAdd (MlasQLinearAddKernelAvx2Helper, x86-64 AVX2+FMA)
# ---------------------------------------------------------------------------
def qlinear_add(a, sa, za, b, sb, zb, sc, zc, dtype, fixed_mode="fma_b_first"):
    lo, hi = qrange(dtype)
    r_ac = F32(sa) / F32(sc)
    r_bc = F32(sb) / F32(sc)
    fza, fzb = F32(int(za)), F32(int(zb))
    if fixed_mode == "plain":  # no contraction
        inner = r_ac * fza + r_bc * fzb
    elif fixed_mode == "fma_a_first":  # fma(r_ac, za, r_bc*zb)
        inner = fma32(r_ac, fza, r_bc * fzb)
    else:  # "fma_b_first": fma(r_bc, zb, r_ac*za)
        inner = fma32(r_bc, fzb, r_ac * fza)
    fixed = F32(F32(int(zc)) - F32(inner))
    va = np.asarray(a).astype(np.int64).astype(np.float32)
    vb = np.asarray(b).astype(np.int64).astype(np.float32)
    t = fma32(vb, r_bc, fixed)          # b * r_bc + fixed
    t = fma32(va, r_ac, t)              # a * r_ac + (...)
    return np.clip(rne(t).astype(np.int64), lo, hi).astype(dtype)


# ---------------------------------------------------------------------------
# com.microsoft QLinearMul (qlmul.cpp, SSE2 path: no FMA)
# ---------------------------------------------------------------------------
def qlinear_mul(a, sa, za, b, sb, zb, sc, zc, dtype):
    lo, hi = qrange(dtype)
    ratio = (F32(sa) * F32(sb)) / F32(sc)
    prod = (np.asarray(a).astype(np.int64) - int(za)) * (np.asarray(b).astype(np.int64) - int(zb))
    t = prod.astype(np.float32) * ratio + F32(int(zc))
    return np.clip(rne(t).astype(np.int64), lo, hi).astype(dtype)


# ---------------------------------------------------------------------------
# Lookup-table ops: QLinearSigmoid / QLinearLeakyRelu
# ---------------------------------------------------------------------------
_LOG = dict(lower=F32(-18.0), upper=F32(18.0),
            a9=F32(4.37031012579801e-11), a7=F32(1.15627324459942e-07),
            a5=F32(6.08574864600143e-05), a3=F32(8.51377133304701e-03),
            a1=F32(2.48287947061529e-01), b10=F32(6.10247389755681e-13),
            b8=F32(5.76102136993427e-09), b6=F32(6.29106785017040e-06),
            b4=F32(1.70198817374094e-03), b2=F32(1.16817656904453e-01),
            b0=F32(9.93151921023180e-01))


def mlas_logistic(x, use_fma=True):
    """MlasComputeLogistic (Eigen rational approximation), FMA3 kernel on x86-64."""
    c = _LOG
    v = np.asarray(x, dtype=np.float32)
    v = np.minimum(np.maximum(v, c["lower"]), c["upper"])
    v2 = v * v
    if use_fma:
        mad = fma32
    else:
        def mad(p, q, r):
            return (np.float32(p) * np.float32(q) + np.float32(r)).astype(np.float32)
    p = mad(v2, c["a9"], c["a7"])
    p = mad(p, v2, c["a5"])
    p = mad(p, v2, c["a3"])
    p = mad(p, v2, c["a1"])
    p = p * v
    q = mad(v2, c["b10"], c["b8"])
    q = mad(q, v2, c["b6"])
    q = mad(q, v2, c["b4"])
    q = mad(q, v2, c["b2"])
    q = mad(q, v2, c["b0"])
    r = (p / q + F32(0.5)).astype(np.float32)
    return np.minimum(np.maximum(r, F32(0.0)), F32(1.0))


def lut_table(fn, xs, xzp, ys, yzp, dtype):
    """QlinearBuildLookupTable: table[i] = Q(fn(xs * float(int(T(i)) - xzp)))."""
    codes = np.arange(256, dtype=np.int64)
    vals = codes.astype(np.uint8).view(np.int8).astype(np.int64) if np.dtype(dtype) == np.int8 else codes
    deq = F32(xs) * (vals - int(xzp)).astype(np.float32)
    out = fn(deq.astype(np.float32))
    return quantize_linear(out, ys, yzp, dtype)  # indexed by the raw byte of x


def lut_apply(table, x):
    x = np.asarray(x)
    idx = x.view(np.uint8).astype(np.int64) if x.dtype == np.int8 else x.astype(np.int64)
    return table[idx]


def qlinear_sigmoid(x, xs, xzp, ys, yzp, dtype, use_fma=True):
    return lut_apply(lut_table(lambda v: mlas_logistic(v, use_fma), xs, xzp, ys, yzp, dtype), x)


def qlinear_leaky_relu(x, xs, xzp, ys, yzp, dtype, alpha=0.1):
    al = F32(alpha)
    return lut_apply(lut_table(lambda v: np.where(v >= 0, v, (al * v).astype(np.float32)).astype(np.float32),
                               xs, xzp, ys, yzp, dtype), x)


# ---------------------------------------------------------------------------
# Pooling
# ---------------------------------------------------------------------------
def qlinear_global_avg_pool(x, xs, xzp, ys, yzp, dtype):
    """NCHW: acc = sum(x) - xzp*HW (int); m = xs / (ys * float(HW)); requantize."""
    x = np.asarray(x).astype(np.int64)
    n, c = x.shape[:2]
    hw = int(np.prod(x.shape[2:]))
    acc = x.reshape(n, c, hw).sum(-1) - int(xzp) * hw
    m = F32(xs) / (F32(ys) * F32(hw))
    return requantize(acc, m, yzp, dtype).reshape((n, c) + (1,) * (x.ndim - 2))


def qlinear_avg_pool2d(x, xs, xzp, ys, yzp, dtype, k=(2, 2), s=(2, 2)):
    """Float path: dequantize (xs * float(x - zp)), sum in float32 in (h, w) order,
    divide by count (float32), quantize as rne(y / ys + float(yzp)) then clamp."""
    lo, hi = qrange(dtype)
    xf = F32(xs) * (np.asarray(x).astype(np.int64) - int(xzp)).astype(np.float32)
    n, c, h, w = xf.shape
    oh, ow = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    out = np.zeros((n, c, oh, ow), dtype=np.int64)
    for i in range(oh):
        for j in range(ow):
            acc = np.zeros((n, c), dtype=np.float32)
            for hh in range(i * s[0], i * s[0] + k[0]):
                for ww in range(j * s[1], j * s[1] + k[1]):
                    acc = (acc + xf[:, :, hh, ww]).astype(np.float32)
            acc = (acc / F32(k[0] * k[1])).astype(np.float32)
            v = (acc / F32(ys) + F32(int(yzp))).astype(np.float32)
            out[:, :, i, j] = np.clip(rne(v).astype(np.int64), lo, hi)
    return out.astype(dtype)


def max_pool2d(x, k=(2, 2), s=(2, 2)):
    x = np.asarray(x)
    n, c, h, w = x.shape
    oh, ow = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1
    out = np.empty((n, c, oh, ow), dtype=x.dtype)
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = x[:, :, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]].max(axis=(2, 3))
    return out


# ---------------------------------------------------------------------------
# com.microsoft QLinearSoftmax (qlinear_softmax.cc)
# ---------------------------------------------------------------------------
def softmax_table(x_scale, reduce_len, is_signed, logf=False):
    fmax = float(np.finfo(np.float32).max)
    q = float(F32(fmax) / F32(reduce_len))  # float / size_t -> float division
    if logf:
        bit_shift = float(np.log(F32(q)))
    else:
        bit_shift = float(np.log(np.float64(q)))
    bit_shift = max(0.0, bit_shift - 5.0) / float(F32(x_scale))
    table = np.zeros(256, dtype=np.float32)
    for i in range(256):
        v = np.exp((float(i) - 255.0 + bit_shift) * float(F32(x_scale)))
        idx = (i - 128) & 0xFF if is_signed else i
        table[idx] = F32(v)
    return table


def qlinear_softmax_lastaxis(x, x_scale, y_scale, y_zp, dtype, logf=False):
    """Softmax over the last axis (opset-13 semantics; D = last dim)."""
    x = np.asarray(x)
    d = x.shape[-1]
    is_signed = np.dtype(dtype) == np.int8
    table = softmax_table(x_scale, d, is_signed, logf)
    ysc = F32(np.floor(F32(1.0) / F32(y_scale)))
    rows = x.reshape(-1, d)
    out = np.zeros(rows.shape, dtype=np.int64)
    for r, row in enumerate(rows):
        xi = row.astype(np.int64)
        xmax = xi.max()
        if is_signed:
            idx = ((127 - xmax) + xi) & 0xFF
        else:
            idx = 255 - xmax + xi
        vals = table[idx]
        vsum = F32(0.0)
        for v in vals:  # sequential binary32 accumulation
            vsum = F32(vsum + v)
        q = rne(((vals * ysc).astype(np.float32) / vsum).astype(np.float32)).astype(np.int64) + int(y_zp)
        # onnxruntime 1.31.1 saturates the upper end (int8: 127, uint8: 255); the
        # lower end cannot be crossed because vq >= y_zp.
        out[r] = np.minimum(q, 127 if is_signed else 255)
    return out.reshape(x.shape).astype(dtype)
