//! Integer matrix products and convolutions of pre-quantized models: QDQ Gemm/MatMul/Conv,
//! QGemm, QLinearMatMul, QLinearConv, MatMulInteger, ConvInteger.
//!
//! The int32 accumulator `Σ (x − x_zp)(w − w_zp) + bias` is one [`Linear`] node (constant
//! weights `w − w_zp`, the zero-point terms folded into each output's constant); padding taps
//! contribute `x_zp − x_zp = 0` and are left out. A following requantization divides the
//! accumulator's real scale `x_scale·w_scale` by the output scale in float32, in that order,
//! as onnxruntime does.

use super::pointwise::kind;
use super::{attr_f, attr_i, scalar, unsupported, Importer, Val};
use crate::error::Result;
use tract_onnx::pb::NodeProto;
use zkinfer_circuits::ops::{AffineRow, Linear, Op, Requant};
use zkinfer_circuits::{Affine, TensorId};

/// A constant integer operand: shape, values, per-channel scales and zero points.
struct Weights {
    /// Axis of the per-channel scales (`None`: per tensor or implied by the op).
    axis: Option<usize>,
    shape: Vec<usize>,
    q: Vec<i64>,
    scales: Vec<f32>,
    zero_points: Vec<i64>,
}

impl Weights {
    /// Zero point of output channel `c` (per tensor or per channel).
    fn zp(&self, c: usize) -> i64 {
        self.zero_points[if self.zero_points.len() == 1 { 0 } else { c }]
    }

    fn scale(&self, c: usize) -> f32 {
        self.scales[if self.scales.len() == 1 { 0 } else { c }]
    }
}

/// The accumulator's left operand.
struct Activation {
    id: TensorId,
    zp: i64,
    scale: f32,
}

/// The accumulator's rows and output layout: channel `c` covers runs of `inner` elements.
struct AccLayout {
    rows: Vec<AffineRow>,
    shape: Vec<usize>,
    channels: usize,
    inner: usize,
}

/// Where the accumulator goes.
enum Output {
    /// Requantized to these parameters (QLinear*, QGemm).
    Requant(Affine),
    /// Kept as an accumulator for the following QuantizeLinear (QDQ).
    Pending,
    /// Kept as int32 (MatMulInteger, ConvInteger).
    Int32,
}

impl Importer {
    fn weights(&self, node: &NodeProto, i: usize, scale: Option<usize>) -> Result<Weights> {
        match self.val(node, i)? {
            Val::DeqConst {
                shape,
                q,
                scales,
                zero_points,
                axis,
            } => Ok(Weights {
                axis: (scales.len() > 1).then_some(axis),
                shape,
                q,
                scales,
                zero_points,
            }),
            Val::Const {
                shape,
                data,
                int: true,
            } => {
                let list = |j: Option<usize>, default: f64| -> Result<Vec<f64>> {
                    match j.map(|j| self.opt_val(node, j)).transpose()?.flatten() {
                        None => Ok(vec![default]),
                        Some(Val::Const { data, .. }) => Ok(data),
                        Some(other) => Err(unsupported(node, "weight parameter", kind(&other))),
                    }
                };
                let (s, z) = match scale {
                    Some(s) => (list(Some(s), 1.0)?, list(Some(s + 1), 0.0)?),
                    // MatMulInteger/ConvInteger: B's zero point is input 3.
                    None => (vec![1.0], list(Some(3), 0.0)?),
                };
                Ok(Weights {
                    axis: None,
                    shape,
                    q: data.iter().map(|v| *v as i64).collect(),
                    scales: s.iter().map(|v| *v as f32).collect(),
                    zero_points: z.iter().map(|v| *v as i64).collect(),
                })
            }
            other => Err(unsupported(node, "weights", kind(&other))),
        }
    }

    /// The int32 bias of `n` outputs, checked against the accumulator's scale when it is a
    /// DequantizeLinear'd constant.
    fn bias(&self, node: &NodeProto, i: usize, n: usize, acc_scale: &[f32]) -> Result<Vec<i64>> {
        let (q, scales) = match self.opt_val(node, i)? {
            None => return Ok(vec![0; n]),
            Some(Val::Const {
                data, int: true, ..
            }) => (data.iter().map(|v| *v as i64).collect::<Vec<_>>(), None),
            Some(Val::DeqConst {
                q,
                scales,
                zero_points,
                ..
            }) => {
                if zero_points.iter().any(|z| *z != 0) {
                    return Err(unsupported(node, "bias zero point", zero_points));
                }
                (q, Some(scales))
            }
            Some(other) => return Err(unsupported(node, "bias", kind(&other))),
        };
        if q.len() != n && q.len() != 1 {
            return Err(unsupported(node, "bias length", q.len()));
        }
        if let Some(s) = scales {
            for c in 0..n {
                let (bs, acc) = (s[if s.len() == 1 { 0 } else { c }], acc_scale[c]);
                if ((bs - acc) / acc).abs() > 1e-5 {
                    return Err(unsupported(
                        node,
                        "bias scale",
                        format!("{bs} is not input scale × weight scale ({acc})"),
                    ));
                }
            }
        }
        Ok((0..n)
            .map(|c| q[if q.len() == 1 { 0 } else { c }])
            .collect())
    }

    fn activation(&self, node: &NodeProto, i: usize, params: Option<usize>) -> Result<Activation> {
        match params {
            Some(p) => {
                let q = self.affine_at(node, p)?;
                Ok(Activation {
                    id: self.int_operand(node, i, q)?,
                    zp: i64::from(q.zero_point),
                    scale: q.scale,
                })
            }
            None => match self.val(node, i)? {
                Val::Deq { id, q } => Ok(Activation {
                    id,
                    zp: i64::from(q.zero_point),
                    scale: q.scale,
                }),
                // MatMulInteger/ConvInteger: A's zero point is input 2.
                Val::Int { id, .. } => Ok(Activation {
                    id,
                    zp: self
                        .opt_val(node, 2)?
                        .as_ref()
                        .and_then(scalar)
                        .unwrap_or(0.0) as i64,
                    scale: 1.0,
                }),
                other => Err(unsupported(node, "input", kind(&other))),
            },
        }
    }

    /// Emits the accumulator and what follows it; `inner` is the run length of one output
    /// channel in the output layout.
    fn finish_acc(
        &mut self,
        node: &NodeProto,
        layout: AccLayout,
        x: &Activation,
        w: &Weights,
        output: Output,
    ) -> Result<()> {
        let AccLayout {
            rows,
            shape,
            channels,
            inner,
        } = layout;
        let acc = self.emit(
            node,
            Op::Linear(Linear { rows }),
            vec![x.id],
            shape.clone(),
            None,
        );
        let scales: Vec<f32> = (0..channels).map(|c| x.scale * w.scale(c)).collect();
        let val = match output {
            Output::Int32 => Val::Int { id: acc, q: None },
            Output::Pending => Val::Acc {
                id: acc,
                scales,
                inner: inner as u32,
                count: 1,
            },
            Output::Requant(q) => self.requantize(node, acc, &scales, inner as u32, 1, q),
        };
        self.set(node, val);
        Ok(())
    }

    /// Requantizes `acc`, whose real value is `acc·scales[c] / count` (channel `c` of runs of
    /// `inner` elements), to `q` with onnxruntime's float32 multiplier
    /// `scales[c] / (y_scale·count)`: `(x_s·w_s)/y_s` for a product (`count` 1, exact in
    /// float32), `x_s / (y_s·HW)` for QLinearGlobalAveragePool (`qlgavgpool.cpp`).
    pub(crate) fn requantize(
        &mut self,
        node: &NodeProto,
        acc: TensorId,
        scales: &[f32],
        inner: u32,
        count: u32,
        q: Affine,
    ) -> Val {
        let op = Op::Requant(Requant {
            multipliers: scales
                .iter()
                .map(|s| s / (q.scale * count as f32))
                .collect(),
            inner,
            zero_point: q.zero_point,
            qmin: q.min,
            qmax: q.max,
            float_zero_point: false,
        });
        let shape = self.shape(acc);
        let id = self.emit(node, op, vec![acc], shape, Some(q));
        Val::Int { id, q: Some(q) }
    }

    /// Gemm, MatMul (QDQ), QGemm, QLinearMatMul, MatMulInteger.
    pub(crate) fn matmul(&mut self, node: &NodeProto) -> Result<()> {
        let op = node.op_type.as_str();
        let (a_params, b_at, b_params, bias_at, output) = match op {
            "Gemm" | "MatMul" => (None, 1, Some(1), Some(2), Output::Pending),
            "QLinearMatMul" => (
                Some(1),
                3,
                Some(4),
                None,
                Output::Requant(self.affine_at(node, 6)?),
            ),
            "MatMulInteger" => (None, 1, None, None, Output::Int32),
            _ => {
                let out = match node.input.get(7).filter(|n| !n.is_empty()) {
                    Some(_) => Output::Requant(self.affine_at(node, 7)?),
                    None => return Err(unsupported(node, "y_scale", "absent (float output)")),
                };
                (Some(1), 3, Some(4), Some(6), out)
            }
        };
        if attr_i(node, "transA", 0) != 0 {
            return Err(unsupported(node, "transA", 1));
        }
        // QGemm's alpha enters only its multiplier: `((alpha·a_scale)·b_scale) / y_scale`.
        let alpha = attr_f(node, "alpha", 1.0);
        let fixed_alpha = if op == "QGemm" { 1.0 } else { alpha };
        for (name, v) in [("alpha", fixed_alpha), ("beta", attr_f(node, "beta", 1.0))] {
            if v != 1.0 {
                return Err(unsupported(node, name, v));
            }
        }
        let mut x = self.activation(node, 0, a_params)?;
        if op == "QGemm" {
            x.scale *= alpha;
        }
        let mut w = self.weights(node, b_at, b_params)?;
        if matches!(op, "Gemm" | "MatMul") && !matches!(self.val(node, b_at)?, Val::DeqConst { .. })
        {
            return Err(unsupported(
                node,
                "weights",
                "not DequantizeLinear of a constant",
            ));
        }
        if w.shape.len() != 2 {
            return Err(unsupported(node, "weight rank", w.shape.len()));
        }
        let trans_b = attr_i(node, "transB", 0) != 0;
        if w.axis.is_some_and(|a| a != usize::from(!trans_b)) {
            return Err(unsupported(node, "weight scale axis", w.axis));
        }
        if trans_b {
            let (n, k) = (w.shape[0], w.shape[1]);
            w.q = (0..k * n).map(|i| w.q[(i % n) * k + i / n]).collect();
            w.shape = vec![k, n];
        }
        let (k, n) = (w.shape[0], w.shape[1]);
        if w.scales.len() != 1 && w.scales.len() != n {
            return Err(unsupported(node, "weight scales", w.scales.len()));
        }
        let xs = self.shape(x.id);
        if xs.last() != Some(&k) {
            return Err(unsupported(node, "shapes", format!("{xs:?} × [{k}, {n}]")));
        }
        let scales: Vec<f32> = (0..n).map(|c| x.scale * w.scale(c)).collect();
        let bias = match bias_at {
            Some(i) => self.bias(node, i, n, &scales)?,
            None => vec![0; n],
        };
        let m = xs.iter().product::<usize>() / k;
        let mut rows = Vec::with_capacity(m * n);
        for r in 0..m {
            for (c, b) in bias.iter().enumerate() {
                let terms: Vec<(u32, i64)> = (0..k)
                    .map(|j| ((r * k + j) as u32, w.q[j * n + c] - w.zp(c)))
                    .collect();
                let wsum: i64 = terms.iter().map(|t| t.1).sum();
                rows.push(AffineRow {
                    bias: b - x.zp * wsum,
                    terms,
                });
            }
        }
        let mut shape = xs.clone();
        *shape.last_mut().expect("rank ≥ 1") = n;
        let layout = AccLayout {
            rows,
            shape,
            channels: n,
            inner: 1,
        };
        self.finish_acc(node, layout, &x, &w, output)
    }

    /// GlobalAveragePool (NCHW) between DequantizeLinear and QuantizeLinear, and the
    /// com.microsoft QLinearGlobalAveragePool onnxruntime fuses that group into:
    /// `acc = Σ x − x_zp·HW` per channel, requantized by `x_scale / (y_scale·HW)`.
    pub(crate) fn global_average_pool(&mut self, node: &NodeProto) -> Result<()> {
        let qdq = node.op_type == "GlobalAveragePool";
        let (id, q_in) = if qdq {
            let q_node = self.sole_quantize(node)?;
            let out_range = self.range_at(q_node, 2);
            let (id, q_in) = match self.val(node, 0)? {
                Val::Deq { id, q } => (id, q),
                other => return Err(unsupported(node, "input", kind(&other))),
            };
            // onnxruntime fuses the group only when Q's output type is DQ's input type.
            if out_range != (q_in.min, q_in.max) {
                return Err(unsupported(
                    node,
                    "output type",
                    format!(
                        "quantized to [{}, {}] from [{}, {}]",
                        out_range.0, out_range.1, q_in.min, q_in.max
                    ),
                ));
            }
            (id, q_in)
        } else {
            if attr_i(node, "channels_last", 0) != 0 {
                return Err(unsupported(node, "channels_last", 1));
            }
            let q_in = self.affine_at(node, 1)?;
            (self.int_operand(node, 0, q_in)?, q_in)
        };
        let xs = self.shape(id);
        if xs.len() < 3 {
            return Err(unsupported(node, "rank", xs.len()));
        }
        let hw: usize = xs[2..].iter().product();
        let rows = (0..xs[0] * xs[1])
            .map(|nc| AffineRow {
                bias: -i64::from(q_in.zero_point) * hw as i64,
                terms: (0..hw).map(|i| ((nc * hw + i) as u32, 1)).collect(),
            })
            .collect();
        let mut shape = xs.clone();
        shape[2..].iter_mut().for_each(|d| *d = 1);
        let acc = self.emit(node, Op::Linear(Linear { rows }), vec![id], shape, None);
        let (scales, count) = (vec![q_in.scale], hw as u32);
        let val = if qdq {
            Val::Acc {
                id: acc,
                scales,
                inner: 1,
                count,
            }
        } else {
            let q = self.affine_at(node, 3)?;
            self.requantize(node, acc, &scales, 1, count, q)
        };
        self.set(node, val);
        Ok(())
    }

    /// Conv (QDQ), QLinearConv, ConvInteger: 2-D NCHW, any group.
    pub(crate) fn conv(&mut self, node: &NodeProto) -> Result<()> {
        let (x_params, w_at, w_params, bias_at, output) = match node.op_type.as_str() {
            "Conv" => (None, 1, Some(1), Some(2), Output::Pending),
            "QLinearConv" => (
                Some(1),
                3,
                Some(4),
                Some(8),
                Output::Requant(self.affine_at(node, 6)?),
            ),
            _ => (None, 1, None, None, Output::Int32),
        };
        let x = self.activation(node, 0, x_params)?;
        let w = self.weights(node, w_at, w_params)?;
        if w.axis.is_some_and(|a| a != 0) {
            return Err(unsupported(node, "weight scale axis", w.axis));
        }
        let xs = self.shape(x.id);
        let g = self.geometry(node, &xs)?;
        let group = attr_i(node, "group", 1).max(1) as usize;
        let (o_n, c_per) = (w.shape[0], w.shape.get(1).copied().unwrap_or(0));
        if w.shape.len() != 4 || c_per * group != xs[1] || o_n % group != 0 {
            return Err(unsupported(node, "weight shape", &w.shape));
        }
        let scales: Vec<f32> = (0..o_n).map(|c| x.scale * w.scale(c)).collect();
        let bias = match bias_at {
            Some(i) => self.bias(node, i, o_n, &scales)?,
            None => vec![0; o_n],
        };
        let taps = g.taps();
        let (plane, ktaps) = (xs[2] * xs[3], g.kernel[0] * g.kernel[1]);
        let mut rows = Vec::new();
        for b in 0..xs[0] {
            for (o, bo) in bias.iter().enumerate() {
                let gi = o / (o_n / group);
                for t in &taps {
                    let mut terms = Vec::with_capacity(t.len() * c_per);
                    for ci in 0..c_per {
                        let c = gi * c_per + ci;
                        for (tap, off) in t {
                            let wv = w.q[(o * c_per + ci) * ktaps + tap] - w.zp(o);
                            terms.push((((b * xs[1] + c) * plane + off) as u32, wv));
                        }
                    }
                    let wsum: i64 = terms.iter().map(|t| t.1).sum();
                    rows.push(AffineRow {
                        bias: bo - x.zp * wsum,
                        terms,
                    });
                }
            }
        }
        let shape = vec![xs[0], o_n, g.out_hw[0], g.out_hw[1]];
        let inner = g.out_hw[0] * g.out_hw[1];
        let layout = AccLayout {
            rows,
            shape,
            channels: o_n,
            inner,
        };
        self.finish_acc(node, layout, &x, &w, output)
    }
}

#[cfg(test)]
mod tests {
    use crate::error::ImportError;
    use crate::qmodel::QuantModel;
    use tract_onnx::pb::{ModelProto, NodeProto, TensorProto, ValueInfoProto};
    use zkinfer_circuits::ops::Op;

    /// onnxruntime's QDQ Conv → GlobalAveragePool (`tests/data/quantized/conv_gap_qdq`).
    fn conv_gap() -> ModelProto {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/data/quantized/conv_gap_qdq/model.onnx"
        );
        crate::proto::parse(&std::fs::read(path).unwrap()).unwrap()
    }

    fn import(mut proto: ModelProto) -> crate::error::Result<QuantModel> {
        crate::proto::prepare(&mut proto, &Default::default())?;
        QuantModel::from_prepared(&proto)
    }

    /// The error's node and attribute, for an `UnsupportedAttribute`.
    fn refused(proto: ModelProto) -> (String, String, String) {
        match import(proto) {
            Err(ImportError::UnsupportedAttribute {
                node,
                attribute,
                value,
                ..
            }) => (node, attribute, value),
            other => panic!("expected UnsupportedAttribute, got {other:?}"),
        }
    }

    #[test]
    fn qdq_global_average_pool_is_qlinear_global_average_pool() {
        let graph = import(conv_gap()).unwrap().graph;
        let node = |name: &str| graph.nodes.iter().find(|n| n.name == name).unwrap();
        let x = node("conv_QuantizeLinear").affine.unwrap();
        let requant = node("gap_QuantizeLinear");
        let (Op::Requant(r), Some(q)) = (&requant.op, requant.affine) else {
            panic!("{:?}", requant.op);
        };
        // 1×8×5×5 pooled: MLAS's `x_scale / (y_scale·HW)`.
        assert_eq!(r.multipliers, vec![x.scale / (q.scale * 25.0)]);
        assert_eq!((q.zero_point, r.zero_point), (-13, -13));
    }

    #[test]
    fn global_average_pool_read_by_more_than_its_quantize_linear_is_refused() {
        let mut proto = conv_gap();
        let g = proto.graph.as_mut().unwrap();
        g.output.push(ValueInfoProto {
            name: "gap".into(),
            ..Default::default()
        });
        let (node, attribute, value) = refused(proto);
        assert_eq!((node.as_str(), attribute.as_str()), ("gap", "output"));
        assert!(value.contains("the graph output"), "{value}");

        // GAP → Relu → Q: onnxruntime would run the pool in float.
        let mut proto = conv_gap();
        let g = proto.graph.as_mut().unwrap();
        let at = g.node.iter().position(|n| n.name == "gap").unwrap();
        g.node[at + 1].input[0] = "gap_relu".into();
        g.node.insert(
            at + 1,
            NodeProto {
                name: "relu".into(),
                op_type: "Relu".into(),
                input: vec!["gap".into()],
                output: vec!["gap_relu".into()],
                ..Default::default()
            },
        );
        let (node, attribute, value) = refused(proto);
        assert_eq!((node.as_str(), attribute.as_str()), ("gap", "output"));
        assert!(value.contains("`relu` (Relu)"), "{value}");
    }

    #[test]
    fn global_average_pool_quantized_to_another_type_is_refused() {
        let mut proto = conv_gap();
        let g = proto.graph.as_mut().unwrap();
        let zp = g
            .initializer
            .iter_mut()
            .find(|t| t.name == "gap_zero_point")
            .unwrap();
        *zp = TensorProto {
            name: zp.name.clone(),
            data_type: 2, // uint8
            int32_data: vec![89],
            ..Default::default()
        };
        let (node, attribute, _) = refused(proto);
        assert_eq!((node.as_str(), attribute.as_str()), ("gap", "output type"));
    }
}
