//! Elementwise binary ops of pre-quantized models: QLinearAdd and QLinearMul
//! (`com.microsoft`), and the DQ→Add→Q / DQ→Mul→Q groups onnxruntime fuses into them.
//!
//! * **QLinearMul** computes `round(f32(f32((a − za)(b − zb))·m) + zc)` with
//!   `m = (sa·sb)/sc`: the integer product is proven by the linear gate's product term and
//!   requantized by [`Requant`] with the zero point added in float (still monotone in the
//!   product).
//! * **QLinearAdd** computes `round(fma(a, sa/sc, fma(b, sb/sc, fixed)))` on the raw codes,
//!   with `fixed = zc − fma(sb/sc, zb, (sa/sc)·za)`: float arithmetic over two codes that no
//!   single integer accumulator reproduces, so the circuit looks up `(256·a + b) → y` in a
//!   65,536-entry table built by that exact arithmetic. Exact, at the price of a 2^16-row
//!   table (logrows ≥ 17) in a model that uses it.

use super::pointwise::kind;
use super::{unsupported, Importer, Val};
use crate::error::Result;
use crate::ops::broadcast_index;
use tract_onnx::pb::NodeProto;
use zkinfer_circuits::ops::{Add, AffineRow, FnTable, Linear, Lookup, Mul, Op, Requant};
use zkinfer_circuits::{Affine, TensorId};

/// Which elementwise op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Binary {
    Add,
    Mul,
}

/// onnxruntime's QLinearAdd of two codes (MLAS, FMA kernel).
fn qlinear_add(a: i64, b: i64, qa: Affine, qb: Affine, qc: Affine) -> i64 {
    let (ra, rb) = (qa.scale / qc.scale, qb.scale / qc.scale);
    let inner = rb.mul_add(qb.zero_point as f32, ra * qa.zero_point as f32);
    let fixed = qc.zero_point as f32 - inner;
    let t = (a as f32).mul_add(ra, (b as f32).mul_add(rb, fixed));
    t.round_ties_even().clamp(qc.min as f32, qc.max as f32) as i64
}

/// The numpy-broadcast shape of two shapes.
fn broadcast_shape(x: &[usize], y: &[usize]) -> Option<Vec<usize>> {
    let n = x.len().max(y.len());
    let dim = |s: &[usize], i: usize| (i + s.len()).checked_sub(n).map_or(1, |j| s[j]);
    (0..n)
        .map(|i| match (dim(x, i), dim(y, i)) {
            (a, b) if a == b || b == 1 => Some(a),
            (1, b) => Some(b),
            _ => None,
        })
        .collect()
}

impl Importer {
    /// com.microsoft QLinearAdd / QLinearMul: A, A_scale, A_zp, B, B_scale, B_zp, C_scale,
    /// C_zp.
    pub(crate) fn qlinear_binary(&mut self, node: &NodeProto) -> Result<()> {
        let op = if node.op_type == "QLinearAdd" {
            Binary::Add
        } else {
            Binary::Mul
        };
        let (qa, qb, qc) = (
            self.affine_at(node, 1)?,
            self.affine_at(node, 4)?,
            self.affine_at(node, 6)?,
        );
        let a = self.int_operand(node, 0, qa)?;
        let b = self.int_operand(node, 3, qb)?;
        let val = self.binary(node, op, (a, qa), (b, qb), qc)?;
        self.set(node, val);
        Ok(())
    }

    /// Add or Mul of two dequantized tensors, awaiting its QuantizeLinear.
    pub(crate) fn float_binary(&mut self, node: &NodeProto) -> Result<()> {
        let op = if node.op_type == "Add" {
            Binary::Add
        } else {
            Binary::Mul
        };
        let (Val::Deq { id: a, q: qa }, Val::Deq { id: b, q: qb }) =
            (self.val(node, 0)?, self.val(node, 1)?)
        else {
            let (x, y) = (self.val(node, 0)?, self.val(node, 1)?);
            return Err(unsupported(
                node,
                "operands",
                format!("{} and {}", kind(&x), kind(&y)),
            ));
        };
        self.set(node, Val::Binary { op, a, qa, b, qb });
        Ok(())
    }

    /// Emits `op(a, b)` requantized to `qc`, exactly as onnxruntime computes it.
    pub(crate) fn binary(
        &mut self,
        node: &NodeProto,
        op: Binary,
        (a, qa): (TensorId, Affine),
        (b, qb): (TensorId, Affine),
        qc: Affine,
    ) -> Result<Val> {
        let (sa, sb) = (self.shape(a), self.shape(b));
        let out = broadcast_shape(&sa, &sb)
            .ok_or_else(|| unsupported(node, "broadcast", format!("{sa:?} and {sb:?}")))?;
        let ia = broadcast_index(&out, &sa).expect("broadcasts");
        let ib = broadcast_index(&out, &sb).expect("broadcasts");
        let id = match op {
            Binary::Add => {
                if (qa.min, qa.max) != (qb.min, qb.max) || qa.max - qa.min != 255 {
                    return Err(unsupported(
                        node,
                        "types",
                        "A and B must both be int8 or uint8",
                    ));
                }
                // Codes a, b as one table input 256·a + b (a bijection onto 2^16 integers).
                let index = Op::Add(Add {
                    lhs_mul: 256,
                    rhs_mul: 1,
                    lhs: ia,
                    rhs: ib,
                });
                let ab = self.emit(node, index, vec![a, b], out.clone(), None);
                let min = 256 * i64::from(qa.min) + i64::from(qb.min);
                let values = (qa.min..=qa.max)
                    .flat_map(|x| (qb.min..=qb.max).map(move |y| (x, y)))
                    .map(|(x, y)| qlinear_add(i64::from(x), i64::from(y), qa, qb, qc))
                    .collect();
                let table = FnTable {
                    function: format!(
                        "qlinear_add(({}, {}), ({}, {}) → ({}, {}))",
                        qa.scale, qa.zero_point, qb.scale, qb.zero_point, qc.scale, qc.zero_point
                    ),
                    in_min: min,
                    values,
                    second: vec![],
                };
                self.emit(node, Op::Lookup(Lookup { table }), vec![ab], out, Some(qc))
            }
            Binary::Mul => {
                let centered = |imp: &mut Self, t: TensorId, zp: i32| {
                    let n: usize = imp.shape(t).iter().product();
                    let rows = (0..n)
                        .map(|i| AffineRow {
                            bias: -i64::from(zp),
                            terms: vec![(i as u32, 1)],
                        })
                        .collect();
                    let shape = imp.shape(t);
                    imp.emit(node, Op::Linear(Linear { rows }), vec![t], shape, None)
                };
                let a0 = centered(self, a, qa.zero_point);
                let b0 = centered(self, b, qb.zero_point);
                let p = Op::Mul(Mul { lhs: ia, rhs: ib });
                let p = self.emit(node, p, vec![a0, b0], out.clone(), None);
                let op = Op::Requant(Requant {
                    multipliers: vec![(qa.scale * qb.scale) / qc.scale],
                    inner: 1,
                    zero_point: qc.zero_point,
                    qmin: qc.min,
                    qmax: qc.max,
                    float_zero_point: true,
                });
                self.emit(node, op, vec![p], out, Some(qc))
            }
        };
        Ok(Val::Int { id, q: Some(qc) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasts_like_numpy() {
        assert_eq!(broadcast_shape(&[2, 3], &[3]), Some(vec![2, 3]));
        assert_eq!(broadcast_shape(&[1, 3], &[2, 1]), Some(vec![2, 3]));
        assert_eq!(broadcast_shape(&[2, 3], &[2]), None);
    }
}
