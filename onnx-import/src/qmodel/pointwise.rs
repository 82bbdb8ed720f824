//! QuantizeLinear, DequantizeLinear, functions of one int8 tensor (lookup tables), max
//! pooling and reshapes of pre-quantized models.

use super::{
    attr_f, attr_i, attr_ints, attr_s, int_range, malformed, node_name, scalar, unsupported,
    Importer, Val,
};
use crate::error::Result;
use crate::ops::conv::WindowGeometry;
use tract_onnx::pb::NodeProto;
use zkinfer_circuits::ops::{Cand, FnTable, Lookup, Max, Op, Reshape};
use zkinfer_circuits::{Affine, TensorId};

/// A float function applied between a DequantizeLinear and a QuantizeLinear.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Function {
    /// The identity (a QuantizeLinear to other parameters than the DequantizeLinear's).
    Identity,
    /// `1 / (1 + e^-x)`, as MLAS computes it.
    Sigmoid,
    /// `max(x, 0)`.
    Relu,
    /// `x` if `x ≥ 0`, else `alpha·x`.
    LeakyRelu(f32),
}

impl Function {
    fn apply(self, x: f32) -> f32 {
        match self {
            Function::Identity => x,
            Function::Sigmoid => mlas_logistic(x),
            Function::Relu => x.max(0.0),
            Function::LeakyRelu(alpha) => {
                if x >= 0.0 {
                    x
                } else {
                    x * alpha
                }
            }
        }
    }

    fn name(self) -> String {
        match self {
            Function::Identity => "requantize".into(),
            Function::Sigmoid => "sigmoid".into(),
            Function::Relu => "relu".into(),
            Function::LeakyRelu(a) => format!("leaky_relu({a})"),
        }
    }
}

/// MLAS's logistic function (`MlasComputeLogistic`): Eigen's rational approximation on
/// `[-18, 18]`, evaluated with fused multiply-adds as the x86-64 FMA kernel does.
#[allow(clippy::excessive_precision)] // MLAS's literals, as written there
fn mlas_logistic(x: f32) -> f32 {
    const ALPHA: [f32; 5] = [
        4.37031012579801e-11,
        1.15627324459942e-07,
        6.08574864600143e-05,
        8.51377133304701e-03,
        2.48287947061529e-01,
    ];
    const BETA: [f32; 6] = [
        6.10247389755681e-13,
        5.76102136993427e-09,
        6.29106785017040e-06,
        1.70198817374094e-03,
        1.16817656904453e-01,
        9.93151921023180e-01,
    ];
    let v = x.clamp(-18.0, 18.0);
    let v2 = v * v;
    let mut p = v2.mul_add(ALPHA[0], ALPHA[1]);
    for a in &ALPHA[2..] {
        p = p.mul_add(v2, *a);
    }
    p *= v;
    let mut q = v2.mul_add(BETA[0], BETA[1]);
    for b in &BETA[2..] {
        q = q.mul_add(v2, *b);
    }
    (p / q + 0.5).clamp(0.0, 1.0)
}

/// The table `q_out(f(dq_in(x)))` over every integer `x` of the input's range, as
/// onnxruntime builds QLinearSigmoid's (dequantize, apply in float32, QuantizeLinear).
fn table(f: Function, q_in: Affine, q_out: Affine) -> FnTable {
    FnTable {
        function: format!(
            "{}(x·{:e} − {}) → /{:e} + {}",
            f.name(),
            q_in.scale,
            q_in.zero_point,
            q_out.scale,
            q_out.zero_point
        ),
        in_min: i64::from(q_in.min),
        values: (q_in.min..=q_in.max)
            .map(|x| q_out.quantize(f.apply(q_in.dequantize(i64::from(x)))))
            .collect(),
        second: vec![],
    }
}

impl Importer {
    /// The `(scale, zero point)` operands `i`, `i + 1` of a node as an [`Affine`] (the zero
    /// point's type gives the range; absent, uint8 with zero point 0).
    pub(crate) fn affine_at(&self, node: &NodeProto, i: usize) -> Result<Affine> {
        let scale = scalar(&self.val(node, i)?)
            .ok_or_else(|| unsupported(node, "scale", "not a constant scalar"))?;
        let zp = match node.input.get(i + 1).filter(|n| !n.is_empty()) {
            None => 0.0,
            Some(_) => scalar(&self.val(node, i + 1)?)
                .ok_or_else(|| unsupported(node, "zero point", "not a constant scalar"))?,
        };
        let (min, max) = self.range_at(node, i + 1);
        if !(scale > 0.0 && scale.is_finite()) {
            return Err(unsupported(node, "scale", scale));
        }
        Ok(Affine {
            scale: scale as f32,
            zero_point: zp as i32,
            min,
            max,
            exact: false,
        })
    }

    /// The integer range given by the type of zero point operand `i` (absent, uint8; not an
    /// initializer, int8).
    pub(crate) fn range_at(&self, node: &NodeProto, i: usize) -> (i32, i32) {
        match node.input.get(i).filter(|n| !n.is_empty()) {
            None => (0, 255),
            Some(name) => self
                .zero_point_types
                .get(name)
                .and_then(|t| int_range(*t))
                .unwrap_or((-128, 127)),
        }
    }

    /// An integer operand read with the quantization `q` a node gives it.
    pub(crate) fn int_operand(&self, node: &NodeProto, i: usize, q: Affine) -> Result<TensorId> {
        match self.val(node, i)? {
            Val::Int { id, q: known } => {
                if let Some(k) = known {
                    if !k.exact && (k.scale, k.zero_point) != (q.scale, q.zero_point) {
                        return Err(unsupported(
                            node,
                            "input quantization",
                            format!(
                                "reads a tensor quantized with ({}, {}) as ({}, {})",
                                k.scale, k.zero_point, q.scale, q.zero_point
                            ),
                        ));
                    }
                }
                Ok(id)
            }
            other => Err(unsupported(node, "input", kind(&other))),
        }
    }

    pub(crate) fn quantize_linear(&mut self, node: &NodeProto) -> Result<()> {
        if attr_i(node, "axis", 1) != 1
            && !matches!(self.val(node, 1)?, Val::Const { ref data, .. } if data.len() == 1)
        {
            return Err(unsupported(
                node,
                "axis",
                "per-axis activation quantization",
            ));
        }
        let q = self.affine_at(node, 1)?;
        let val = match self.val(node, 0)? {
            Val::FloatIn(i) => {
                let a = self.graph.inputs[i]
                    .affine
                    .expect("float inputs are quantized");
                Val::Int { id: i, q: Some(a) }
            }
            Val::Deq { id, q: q_in }
                if (q_in.scale, q_in.zero_point, q_in.min) == (q.scale, q.zero_point, q.min) =>
            {
                Val::Int { id, q: Some(q) }
            }
            Val::Deq { id, q: q_in } => self.tabulate(node, id, Function::Identity, q_in, q),
            Val::Unary { id, q: q_in, f } => self.tabulate(node, id, f, q_in, q),
            Val::DeqConcat { parts, axis } => self.requantized_concat(node, &parts, axis, q)?,
            Val::Binary { op, a, qa, b, qb } => self.binary(node, op, (a, qa), (b, qb), q)?,
            Val::Acc {
                id,
                scales,
                inner,
                count,
            } => self.requantize(node, id, &scales, inner, count, q),
            other => return Err(unsupported(node, "input", kind(&other))),
        };
        self.set(node, val);
        Ok(())
    }

    pub(crate) fn dequantize_linear(&mut self, node: &NodeProto) -> Result<()> {
        let val = match self.val(node, 0)? {
            Val::Int { id, q: known } => {
                let mut q = self.affine_at(node, 1)?;
                if let Some(k) = known {
                    (q.min, q.max) = (k.min, k.max);
                }
                self.int_operand(node, 0, q)?;
                Val::Deq { id, q }
            }
            Val::Const {
                shape,
                data,
                int: true,
            } => {
                let per = |i: usize| -> Result<Vec<f64>> {
                    match self.opt_val(node, i)? {
                        None => Ok(vec![0.0]),
                        Some(Val::Const { data, .. }) => Ok(data),
                        Some(other) => Err(unsupported(node, "parameter", kind(&other))),
                    }
                };
                let scales: Vec<f32> = per(1)?.iter().map(|s| *s as f32).collect();
                let zero_points: Vec<i64> = per(2)?.iter().map(|z| *z as i64).collect();
                let axis = attr_i(node, "axis", 1);
                let axis = if axis < 0 {
                    axis + shape.len() as i64
                } else {
                    axis
                } as usize;
                if scales.len() > 1 && shape.get(axis) != Some(&scales.len()) {
                    return Err(unsupported(node, "axis", axis));
                }
                Val::DeqConst {
                    shape,
                    q: data.iter().map(|v| *v as i64).collect(),
                    scales,
                    zero_points,
                    axis,
                }
            }
            other => return Err(unsupported(node, "input", kind(&other))),
        };
        self.set(node, val);
        Ok(())
    }

    pub(crate) fn tabulate(
        &mut self,
        node: &NodeProto,
        id: TensorId,
        f: Function,
        q_in: Affine,
        q: Affine,
    ) -> Val {
        let op = Op::Lookup(Lookup {
            table: table(f, q_in, q),
        });
        let shape = self.shape(id);
        let out = self.emit(node, op, vec![id], shape, Some(q));
        Val::Int {
            id: out,
            q: Some(q),
        }
    }

    /// Sigmoid, Relu, LeakyRelu between DQ and Q; QLinearSigmoid, QLinearLeakyRelu.
    pub(crate) fn unary(&mut self, node: &NodeProto) -> Result<()> {
        let f = match node.op_type.as_str() {
            "Sigmoid" | "QLinearSigmoid" => Function::Sigmoid,
            "Relu" => Function::Relu,
            "LeakyRelu" | "QLinearLeakyRelu" => Function::LeakyRelu(attr_f(node, "alpha", 0.01)),
            other => return Err(unsupported(node, "function", other)),
        };
        let val = if node.op_type.starts_with("QLinear") {
            let q_in = self.affine_at(node, 1)?;
            let q_out = self.affine_at(node, 3)?;
            let id = self.int_operand(node, 0, q_in)?;
            self.tabulate(node, id, f, q_in, q_out)
        } else {
            match self.val(node, 0)? {
                Val::Deq { id, q } => Val::Unary { id, q, f },
                other => return Err(unsupported(node, "input", kind(&other))),
            }
        };
        self.set(node, val);
        Ok(())
    }

    /// MaxPool (2-D, NCHW) over integers: max commutes with the monotone dequantization.
    pub(crate) fn max_pool(&mut self, node: &NodeProto) -> Result<()> {
        if node.output.len() > 1 && !node.output[1].is_empty() {
            return Err(unsupported(node, "outputs", "indices"));
        }
        let val = self.val(node, 0)?;
        let id = match val {
            Val::Int { id, .. } | Val::Deq { id, .. } => id,
            ref other => return Err(unsupported(node, "input", kind(other))),
        };
        let xs = self.shape(id);
        let g = self.geometry(node, &xs)?;
        let plane = xs[2] * xs[3];
        let taps = g.taps();
        let windows = (0..xs[0] * xs[1])
            .flat_map(|nc| {
                taps.iter().map(move |t| {
                    t.iter()
                        .map(|(_, off)| Cand::of((nc * plane + off) as u32))
                        .collect()
                })
            })
            .collect();
        let shape = vec![xs[0], xs[1], g.out_hw[0], g.out_hw[1]];
        let q = match val {
            Val::Int { q, .. } => q,
            Val::Deq { q, .. } => Some(q),
            _ => None,
        };
        let out = self.emit(
            node,
            Op::Max(Max {
                min: false,
                windows,
            }),
            vec![id],
            shape,
            q,
        );
        let out_val = match val {
            Val::Deq { q, .. } => Val::Deq { id: out, q },
            _ => Val::Int { id: out, q },
        };
        self.set(node, out_val);
        Ok(())
    }

    /// The window geometry of a 2-D NCHW Conv or pool from its attributes.
    pub(crate) fn geometry(&self, node: &NodeProto, xs: &[usize]) -> Result<WindowGeometry> {
        if xs.len() != 4 {
            return Err(unsupported(node, "rank", xs.len()));
        }
        if let Some(p) = attr_s(node, "auto_pad").filter(|p| p != "NOTSET") {
            return Err(unsupported(node, "auto_pad", p));
        }
        if attr_i(node, "ceil_mode", 0) != 0 {
            return Err(unsupported(node, "ceil_mode", 1));
        }
        let kernel = match attr_ints(node, "kernel_shape") {
            Some(k) => k,
            None => match self.val(node, if node.op_type == "QLinearConv" { 3 } else { 1 })? {
                Val::Const { shape, .. } | Val::DeqConst { shape, .. } => {
                    shape[2..].iter().map(|d| *d as i64).collect()
                }
                other => return Err(unsupported(node, "kernel", kind(&other))),
            },
        };
        let two = |name: &str, default: i64| -> Result<[usize; 2]> {
            let v = attr_ints(node, name).unwrap_or(vec![default; 2]);
            match v.as_slice() {
                [a, b] if *a >= 0 && *b >= 0 => Ok([*a as usize, *b as usize]),
                _ => Err(unsupported(node, name, v)),
            }
        };
        let (k, s, d) = (
            match kernel.as_slice() {
                [a, b] => [*a as usize, *b as usize],
                _ => return Err(unsupported(node, "kernel_shape", kernel)),
            },
            two("strides", 1)?,
            two("dilations", 1)?,
        );
        let pads = attr_ints(node, "pads").unwrap_or(vec![0; 4]);
        let [pt, pl, pb, pr] = match pads.as_slice() {
            [a, b, c, e] => [*a, *b, *c, *e].map(|p| p as usize),
            _ => return Err(unsupported(node, "pads", pads)),
        };
        let out = |i: usize, before: usize, after: usize| {
            let span = (k[i] - 1) * d[i] + 1;
            (xs[2 + i] + before + after)
                .checked_sub(span)
                .map(|n| n / s[i] + 1)
        };
        let (Some(oh), Some(ow)) = (out(0, pt, pb), out(1, pl, pr)) else {
            return Err(unsupported(
                node,
                "kernel_shape",
                "larger than the padded input",
            ));
        };
        Ok(WindowGeometry {
            in_hw: [xs[2], xs[3]],
            kernel: k,
            strides: s,
            dilations: d,
            pad_before: [pt, pl],
            out_hw: [oh, ow],
        })
    }

    /// Flatten, Reshape, Squeeze, Unsqueeze: same integers, new shape.
    pub(crate) fn reshape(&mut self, node: &NodeProto) -> Result<()> {
        let val = self.val(node, 0)?;
        let (id, q) = match val {
            Val::Int { id, q } => (id, q),
            Val::Deq { id, q } => (id, Some(q)),
            ref other => return Err(unsupported(node, "input", kind(other))),
        };
        let xs = self.shape(id);
        let n: usize = xs.iter().product();
        let axes = |i: usize| -> Result<Vec<i64>> {
            match attr_ints(node, "axes") {
                Some(a) => Ok(a),
                None => match self.opt_val(node, i)? {
                    Some(Val::Const { data, .. }) => Ok(data.iter().map(|v| *v as i64).collect()),
                    None => Ok(vec![]),
                    Some(other) => Err(unsupported(node, "axes", kind(&other))),
                },
            }
        };
        let norm = |a: i64, rank: usize| {
            if a < 0 {
                (a + rank as i64) as usize
            } else {
                a as usize
            }
        };
        let shape: Vec<usize> = match node.op_type.as_str() {
            "Flatten" => {
                let axis = norm(attr_i(node, "axis", 1), xs.len());
                let lead: usize = xs[..axis.min(xs.len())].iter().product();
                vec![lead, n / lead.max(1)]
            }
            "Reshape" => {
                let Some(Val::Const { data, .. }) = self.opt_val(node, 1)? else {
                    return Err(unsupported(node, "shape", "not a constant"));
                };
                let mut dims: Vec<i64> = data.iter().map(|v| *v as i64).collect();
                for (i, d) in dims.iter_mut().enumerate() {
                    if *d == 0 {
                        *d = *xs.get(i).ok_or_else(|| unsupported(node, "shape", 0))? as i64;
                    }
                }
                let known: i64 = dims.iter().filter(|d| **d > 0).product();
                dims.iter()
                    .map(|d| {
                        if *d < 0 {
                            n / known.max(1) as usize
                        } else {
                            *d as usize
                        }
                    })
                    .collect()
            }
            "Squeeze" => {
                let a: Vec<usize> = axes(1)?.iter().map(|a| norm(*a, xs.len())).collect();
                xs.iter()
                    .enumerate()
                    .filter(|(i, d)| {
                        !(if a.is_empty() {
                            **d == 1
                        } else {
                            a.contains(i)
                        })
                    })
                    .map(|(_, d)| *d)
                    .collect()
            }
            _ => {
                let rank = xs.len() + axes(1)?.len();
                let a: Vec<usize> = axes(1)?.iter().map(|a| norm(*a, rank)).collect();
                let mut it = xs.iter();
                (0..rank)
                    .map(|i| {
                        if a.contains(&i) {
                            1
                        } else {
                            *it.next().unwrap_or(&1)
                        }
                    })
                    .collect()
            }
        };
        if shape.iter().product::<usize>() != n {
            return Err(malformed(format!(
                "node `{}`: cannot reshape {xs:?} to {shape:?}",
                node_name(node)
            )));
        }
        let out = self.emit(node, Op::Reshape(Reshape {}), vec![id], shape, q);
        let out_val = match val {
            Val::Deq { q, .. } => Val::Deq { id: out, q },
            _ => Val::Int { id: out, q },
        };
        self.set(node, out_val);
        Ok(())
    }
}

/// What a value is, for errors.
pub(crate) fn kind(v: &Val) -> &'static str {
    match v {
        Val::Int { .. } => "an integer tensor",
        Val::Const { .. } => "a constant",
        Val::FloatIn(_) => "an unquantized float input",
        Val::Deq { .. } => "a dequantized tensor",
        Val::DeqConst { .. } => "a dequantized constant",
        Val::Acc { .. } => "a float accumulator without QuantizeLinear",
        Val::Unary { .. } => "a float function without QuantizeLinear",
        Val::Binary { .. } => "a float sum or product without QuantizeLinear",
        Val::DeqConcat { .. } => {
            "a concatenation of differently quantized tensors without QuantizeLinear"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logistic_is_close_to_the_exact_function() {
        for i in -200..=200 {
            let x = i as f32 / 10.0;
            let exact = 1.0 / (1.0 + (-f64::from(x)).exp());
            assert!((f64::from(mlas_logistic(x)) - exact).abs() < 2e-6, "x {x}");
        }
    }

    #[test]
    fn identity_table_requantizes() {
        let a = |scale, zero_point| Affine {
            scale,
            zero_point,
            min: -128,
            max: 127,
            exact: false,
        };
        let t = table(Function::Identity, a(0.5, 0), a(1.0, 10));
        assert_eq!(t.values[128], 10); // 0 → 0 → zp
        assert_eq!(t.values[128 + 3], 12); // 1.5 → round half to even 2
        assert_eq!(t.values[255], 74); // 63.5 → 64
    }
}
