#!/usr/bin/env python3
"""Parameter sweeps that discriminate between candidate arithmetic orders.

Scales / zero points are fed as *graph inputs*, so onnxruntime recomputes its
multipliers / lookup tables for every configuration.  For each op several
candidate emulations are compared against onnxruntime; the winning one is the
one implemented in emulate.py.  Results are written to sweep_results.json and
summarised in SEMANTICS.md.  Deterministic (seeded).

    /work/venv-ort/bin/python tests/data/quantized-ops/sweep.py
"""
import json
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import emulate as E  # noqa: E402
import make_cases as M  # noqa: E402

F32 = np.float32
rng = np.random.default_rng(20240607)


def sess(model):
    return M.session(model.SerializeToString(), ort.GraphOptimizationLevel.ORT_ENABLE_ALL)


def rand_scale(lo=1e-3, hi=0.2):
    return F32(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def rand_zp(dt):
    lo, hi = E.qrange(dt)
    return int(rng.integers(lo + 20, hi - 20))


def model(name, op, ins, outs, domain=None, **attrs):
    kw = {"domain": domain} if domain else {}
    nodes = [helper.make_node(op, [n for n, _, _ in ins], [n for n, _, _ in outs], **kw, **attrs)]
    return M.make_model(name, nodes, [M.vi(n, d, s) for n, d, s in ins], [M.vi(n, d, s) for n, d, s in outs], [],
                        ms=domain is not None)


def sc(v):
    return np.array(v, dtype=np.float32)


def zpv(v, dt):
    return np.array(v, dtype=dt)


results = {}


def record(name, counts, total, configs):
    results[name] = {"configs": configs, "elements": total, "mismatches_by_candidate": counts}
    print(name, configs, total, counts)


# 1. QLinearAdd / QLinearMul: exhaustive (a, b) pairs per config
def sweep_binary(op, dt, nconf):
    lo, hi = E.qrange(dt)
    A, B = np.meshgrid(np.arange(lo, hi + 1), np.arange(lo, hi + 1))
    A = A.ravel().astype(dt)
    B = B.ravel().astype(dt)
    n = A.size
    ins = [("a", dt, [n]), ("a_s", F32, []), ("a_zp", dt, []), ("b", dt, [n]), ("b_s", F32, []), ("b_zp", dt, []),
           ("c_s", F32, []), ("c_zp", dt, [])]
    s = sess(model("sw", op, ins, [("c", dt, [n])], domain="com.microsoft"))
    cands = {"add": ["fma_b_first", "fma_a_first", "plain", "sse2_no_fma", "float_reference"],
             "mul": ["emulate", "float_reference"]}["add" if op == "QLinearAdd" else "mul"]
    counts = {k: 0 for k in cands}
    for i in range(nconf):
        sa, sb, scl = rand_scale(), rand_scale(), rand_scale()
        if i % 2 == 0:  # ratios close to simple rationals -> many near-ties
            p, q, r = rng.integers(1, 7, 3)
            sa, sb = F32(scl * p / q), F32(scl * r / q)
        za, zb, zc = rand_zp(dt), rand_zp(dt), rand_zp(dt)
        Y = s.run(None, {"a": A, "a_s": sc(sa), "a_zp": zpv(za, dt), "b": B, "b_s": sc(sb), "b_zp": zpv(zb, dt),
                         "c_s": sc(scl), "c_zp": zpv(zc, dt)})[0]
        for k in cands:
            if op == "QLinearAdd" and k in ("fma_b_first", "fma_a_first", "plain"):
                e = E.qlinear_add(A, sa, za, B, sb, zb, scl, zc, dt, fixed_mode=k)
            elif op == "QLinearAdd" and k == "sse2_no_fma":
                rac, rbc = F32(sa) / F32(scl), F32(sb) / F32(scl)
                fixed = F32(zc) - (rac * F32(za) + rbc * F32(zb))
                t = (fixed + A.astype(np.float32) * rac) + B.astype(np.float32) * rbc
                e = np.clip(np.rint(t), lo, hi).astype(dt)
            elif op == "QLinearMul" and k == "emulate":
                e = E.qlinear_mul(A, sa, za, B, sb, zb, scl, zc, dt)
            else:
                da = (A.astype(np.int64) - za).astype(np.float32) * F32(sa)
                db = (B.astype(np.int64) - zb).astype(np.float32) * F32(sb)
                v = (da + db) if op == "QLinearAdd" else (da * db)
                e = np.clip(np.rint((v / F32(scl)) + F32(zc)), lo, hi).astype(dt)
            counts[k] += int(np.sum(e != Y))
    record(f"{op}_{M.DTNAME[dt]}", counts, nconf * n, nconf)


# 2. LUT ops: all 256 codes per config
def sweep_lut(op, dt, nconf, attrs):
    x = np.arange(256).astype(np.uint8).view(dt) if dt == np.int8 else np.arange(256).astype(np.uint8)
    ins = [("x", dt, [256]), ("x_s", F32, []), ("x_zp", dt, []), ("y_s", F32, []), ("y_zp", dt, [])]
    s = sess(model("sw", op, ins, [("y", dt, [256])], domain="com.microsoft", **attrs))
    if op == "QLinearSigmoid":
        cands = {"mlas_logistic_fma": lambda v: E.mlas_logistic(v, True),
                 "mlas_logistic_no_fma": lambda v: E.mlas_logistic(v, False),
                 "exact_sigmoid_f64": lambda v: (1 / (1 + np.exp(-v.astype(np.float64)))).astype(np.float32)}
    else:
        al = F32(attrs["alpha"])
        cands = {"leaky_f32": lambda v: np.where(v >= 0, v, (al * v).astype(np.float32)).astype(np.float32),
                 "leaky_f64_alpha": lambda v: np.where(v >= 0, v, v.astype(np.float64) * 0.1).astype(np.float32)}
    counts = {k: 0 for k in cands}
    for _ in range(nconf):
        xs = rand_scale(0.005, 0.15)
        ys = rand_scale(0.5 / 255, 2.0 / 255) if op == "QLinearSigmoid" else rand_scale(0.002, 0.1)
        xzp, yzp = rand_zp(dt), rand_zp(dt)
        Y = s.run(None, {"x": x, "x_s": sc(xs), "x_zp": zpv(xzp, dt), "y_s": sc(ys), "y_zp": zpv(yzp, dt)})[0]
        for k, fn in cands.items():
            counts[k] += int(np.sum(E.lut_apply(E.lut_table(fn, xs, xzp, ys, yzp, dt), x) != Y))
    record(f"{op}_{M.DTNAME[dt]}", counts, nconf * 256, nconf)


# 3. QLinearMatMul: multiplier evaluation order
def sweep_matmul(dt, nconf):
    Mm, K, N = 64, 16, 8
    ins = [("a", dt, [Mm, K]), ("a_s", F32, []), ("a_zp", dt, []), ("b", dt, [K, N]), ("b_s", F32, []),
           ("b_zp", dt, []), ("y_s", F32, []), ("y_zp", dt, [])]
    s = sess(model("sw", "QLinearMatMul", ins, [("y", dt, [Mm, N])]))
    orders = {"(a_s*b_s)/y_s": lambda a, b, y: (F32(a) * F32(b)) / F32(y),
              "a_s*(b_s/y_s)": lambda a, b, y: F32(a) * (F32(b) / F32(y)),
              "(a_s/y_s)*b_s": lambda a, b, y: (F32(a) / F32(y)) * F32(b),
              "f64 then f32": lambda a, b, y: F32(float(F32(a)) * float(F32(b)) / float(F32(y))),
              "float_reference (dequant, f64 dot, /y_s)": None}
    counts = {k: 0 for k in orders}
    for _ in range(nconf):
        a_s, b_s, y_s = rand_scale(), rand_scale(), rand_scale()
        y_s = F32(a_s * b_s * rng.uniform(20, 200))
        za, zb, zy = rand_zp(dt), rand_zp(dt), rand_zp(dt)
        A, B = M.rand_q(rng, dt, [Mm, K], "random"), M.rand_q(rng, dt, [K, N], "random")
        Y = s.run(None, {"a": A, "a_s": sc(a_s), "a_zp": zpv(za, dt), "b": B, "b_s": sc(b_s), "b_zp": zpv(zb, dt),
                         "y_s": sc(y_s), "y_zp": zpv(zy, dt)})[0]
        acc = E.matmul_acc(A, za, B, zb)
        for k, fn in orders.items():
            if fn is None:
                v = acc.astype(np.float64) * float(F32(a_s)) * float(F32(b_s)) / float(F32(y_s))
                lo, hi = E.qrange(dt)
                e = np.clip(np.rint(v) + zy, lo, hi).astype(dt)
            else:
                e = E.requantize(acc, fn(a_s, b_s, y_s), zy, dt)
            counts[k] += int(np.sum(e != Y))
    record(f"QLinearMatMul_{M.DTNAME[dt]}_multiplier_order", counts, nconf * Mm * N, nconf)


# 4. QuantizeLinear: division vs reciprocal multiply
def sweep_quantize(dt, nconf):
    n = 4096
    ins = [("x", F32, [n]), ("s", F32, []), ("zp", dt, [])]
    s = sess(model("sw", "QuantizeLinear", ins, [("y", dt, [n])]))
    counts = {"rne(x / s)": 0, "rne(x * (1/s))": 0, "round_half_away(x / s)": 0}
    lo, hi = E.qrange(dt)
    for _ in range(nconf):
        scl, zp = rand_scale(), rand_zp(dt)
        k = rng.integers(lo - zp - 5, hi - zp + 5, n)
        x = np.where(rng.random(n) < 0.5, ((k + 0.5) * scl).astype(np.float32),
                     rng.normal(0, 80 * scl, n).astype(np.float32)).astype(np.float32)
        Y = s.run(None, {"x": x, "s": sc(scl), "zp": zpv(zp, dt)})[0]
        counts["rne(x / s)"] += int(np.sum(E.quantize_linear(x, scl, zp, dt) != Y))
        r = x * (F32(1) / F32(scl))
        counts["rne(x * (1/s))"] += int(np.sum(np.clip(np.rint(r) + zp, lo, hi).astype(dt) != Y))
        v = x / F32(scl)
        ha = np.sign(v) * np.floor(np.abs(v) + 0.5)
        counts["round_half_away(x / s)"] += int(np.sum(np.clip(ha + zp, lo, hi).astype(dt) != Y))
    record(f"QuantizeLinear_{M.DTNAME[dt]}", counts, nconf * n, nconf)


# 5. QLinearGlobalAveragePool: scale formula
def sweep_gap(dt, nconf):
    shape = [4, 16, 7, 7]
    ins = [("x", dt, shape), ("x_s", F32, []), ("x_zp", dt, []), ("y_s", F32, []), ("y_zp", dt, [])]
    s = sess(model("sw", "QLinearGlobalAveragePool", ins, [("y", dt, [4, 16, 1, 1])], domain="com.microsoft",
                   channels_last=0))
    hw = 49
    forms = {"x_s/(y_s*HW)": lambda a, y: F32(a) / (F32(y) * F32(hw)),
             "(x_s/y_s)/HW": lambda a, y: (F32(a) / F32(y)) / F32(hw),
             "float mean": None}
    counts = {k: 0 for k in forms}
    lo, hi = E.qrange(dt)
    for _ in range(nconf):
        xs, ys = rand_scale(), rand_scale()
        xzp, yzp = rand_zp(dt), rand_zp(dt)
        x = M.rand_q(rng, dt, shape, "random")
        Y = s.run(None, {"x": x, "x_s": sc(xs), "x_zp": zpv(xzp, dt), "y_s": sc(ys), "y_zp": zpv(yzp, dt)})[0]
        acc = x.astype(np.int64).reshape(4, 16, hw).sum(-1) - xzp * hw
        for k, fn in forms.items():
            if fn is None:
                v = np.rint(acc.astype(np.float64) * float(xs) / hw / float(ys)) + yzp
                e = np.clip(v, lo, hi).astype(dt)
            else:
                e = E.requantize(acc, fn(xs, ys), yzp, dt)
            counts[k] += int(np.sum(e.reshape(4, 16, 1, 1) != Y))
    record(f"QLinearGlobalAveragePool_{M.DTNAME[dt]}", counts, nconf * 64, nconf)


if __name__ == "__main__":
    for dt in (np.int8, np.uint8):
        sweep_binary("QLinearAdd", dt, 60)
        sweep_binary("QLinearMul", dt, 60)
        sweep_lut("QLinearSigmoid", dt, 400, {})
        sweep_lut("QLinearLeakyRelu", dt, 200, {"alpha": 0.1})
        sweep_matmul(dt, 300)
        sweep_quantize(dt, 200)
        sweep_gap(dt, 300)
    with open(os.path.join(HERE, "sweep_results.json"), "w") as fh:
        json.dump({"onnxruntime": ort.__version__, "results": results}, fh, indent=1)
        fh.write("\n")


# 6. Targeted: configs where the candidate multiplier orders give different
#    float32 values, with an accumulator crafted to expose the difference.
def sweep_matmul_targeted(nwant=60):
    dt = np.int8
    K, N = 16, 1
    ins = [("a", dt, [1, K]), ("a_s", F32, []), ("a_zp", dt, []), ("b", dt, [K, N]), ("b_s", F32, []),
           ("b_zp", dt, []), ("y_s", F32, []), ("y_zp", dt, [])]
    s = sess(model("sw", "QLinearMatMul", ins, [("y", dt, [1, N])]))
    cands = {"(a_s*b_s)/y_s": lambda a, b, y: (F32(a) * F32(b)) / F32(y),
             "a_s*(b_s/y_s)": lambda a, b, y: F32(a) * (F32(b) / F32(y)),
             "(a_s/y_s)*b_s": lambda a, b, y: (F32(a) / F32(y)) * F32(b)}
    counts = {k: 0 for k in cands}
    found = 0
    accs = np.arange(1, 2033, dtype=np.int64)
    tries = 0
    while found < nwant and tries < 200000:
        tries += 1
        a_s, b_s = rand_scale(), rand_scale()
        y_s = F32(a_s * b_s * rng.uniform(17, 200))
        ms = {k: fn(a_s, b_s, y_s) for k, fn in cands.items()}
        outs = {k: E.requantize(accs, m, 0, dt) for k, m in ms.items()}
        keys = list(cands)
        diff = np.zeros(accs.size, bool)
        for k in keys[1:]:
            diff |= outs[k] != outs[keys[0]]
        if not diff.any():
            continue
        acc = int(accs[np.argmax(diff)])
        a = np.zeros((1, K), dtype=np.int8)
        rem = acc
        for i in range(K):
            v = min(127, rem)
            a[0, i] = v
            rem -= v
        b = np.ones((K, N), dtype=np.int8)
        Y = s.run(None, {"a": a, "a_s": sc(a_s), "a_zp": zpv(0, dt), "b": b, "b_s": sc(b_s), "b_zp": zpv(0, dt),
                         "y_s": sc(y_s), "y_zp": zpv(0, dt)})[0]
        for k in keys:
            counts[k] += int(E.requantize(np.array([acc]), ms[k], 0, dt)[0] != Y[0, 0])
        found += 1
    record("QLinearMatMul_int8_multiplier_order_targeted", counts, found, found)


if __name__ == "__main__":
    sweep_matmul_targeted()
    with open(os.path.join(HERE, "sweep_results.json"), "w") as fh:
        json.dump({"onnxruntime": ort.__version__, "results": results}, fh, indent=1)
        fh.write("\n")
