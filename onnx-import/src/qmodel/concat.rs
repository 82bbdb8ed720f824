//! Concat of pre-quantized tensors: onnxruntime's `com.microsoft` QLinearConcat, and the QDQ
//! group DequantizeLinear… → Concat → QuantizeLinear that its default session fuses into it
//! (`qlinear_concat.cc`). An input quantized like the output is copied; any other goes
//! through the 256-entry table that requantizes it (`QlinearBuildLookupTable` of the
//! identity: dequantize in float32, then QuantizeLinear, what a DQ → Q pair with other
//! parameters is here too); then the integers are concatenated, which moves them and proves
//! nothing new.

use super::pointwise::{kind, Function};
use super::{attr_i, malformed, node_name, unsupported, Importer, Val};
use crate::error::Result;
use tract_onnx::pb::NodeProto;
use zkinfer_circuits::ops::{Cand, Gather, Op};
use zkinfer_circuits::{Affine, TensorId};

/// Whether two quantizations give the same integers the same real values.
fn same(a: &Affine, b: &Affine) -> bool {
    (a.scale, a.zero_point, a.min, a.max) == (b.scale, b.zero_point, b.min, b.max)
}

impl Importer {
    /// Concat (of dequantized tensors in a QDQ group, or of integer tensors) and
    /// QLinearConcat.
    pub(crate) fn concat(&mut self, node: &NodeProto) -> Result<()> {
        let val = if node.op_type == "QLinearConcat" {
            // Inputs: Y_scale, Y_zero_point, then X, X_scale, X_zero_point per input.
            let n = node.input.len();
            if n < 5 || !(n - 2).is_multiple_of(3) {
                return Err(unsupported(node, "inputs", n));
            }
            let q = self.affine_at(node, 0)?;
            let parts = (2..n)
                .step_by(3)
                .map(|i| {
                    let q_in = self.affine_at(node, i + 1)?;
                    Ok((self.int_operand(node, i, q_in)?, q_in))
                })
                .collect::<Result<Vec<_>>>()?;
            let axis = self.concat_axis(node, parts[0].0)?;
            self.requantized_concat(node, &parts, axis, q)?
        } else {
            let vals = (0..node.input.len())
                .map(|i| self.val(node, i))
                .collect::<Result<Vec<_>>>()?;
            let axis = match vals.first() {
                Some(Val::Deq { id, .. } | Val::Int { id, .. }) => self.concat_axis(node, *id)?,
                Some(other) => return Err(unsupported(node, "input", kind(other))),
                None => return Err(unsupported(node, "inputs", 0)),
            };
            match vals.as_slice() {
                [Val::Deq { .. }, ..] => {
                    let parts = vals
                        .iter()
                        .map(|v| match v {
                            Val::Deq { id, q } => Ok((*id, *q)),
                            other => Err(unsupported(node, "input", kind(other))),
                        })
                        .collect::<Result<Vec<_>>>()?;
                    let q = parts[0].1;
                    if parts.iter().all(|(_, p)| same(p, &q)) {
                        // Dequantizing commutes with moving the integers.
                        let ids: Vec<TensorId> = parts.iter().map(|(id, _)| *id).collect();
                        let id = self.concatenate(node, &ids, axis, Some(q))?;
                        Val::Deq { id, q }
                    } else {
                        // Each part is requantized to the output's quantization, which its
                        // QuantizeLinear gives.
                        Val::DeqConcat { parts, axis }
                    }
                }
                _ => {
                    let mut ids = Vec::with_capacity(vals.len());
                    let mut qs = Vec::with_capacity(vals.len());
                    for v in &vals {
                        match v {
                            Val::Int { id, q } => {
                                ids.push(*id);
                                qs.push(*q);
                            }
                            other => return Err(unsupported(node, "input", kind(other))),
                        }
                    }
                    // Integers concatenated as they are; their quantization, if they share it.
                    let q = qs[0].filter(|q| qs.iter().all(|p| p.is_some_and(|p| same(&p, q))));
                    let id = self.concatenate(node, &ids, axis, q)?;
                    Val::Int { id, q }
                }
            }
        };
        self.set(node, val);
        Ok(())
    }

    /// Each part requantized to `q` where its quantization differs, then concatenated along
    /// `axis`: QLinearConcat, and the QuantizeLinear (`node`) of a [`Val::DeqConcat`].
    pub(crate) fn requantized_concat(
        &mut self,
        node: &NodeProto,
        parts: &[(TensorId, Affine)],
        axis: usize,
        q: Affine,
    ) -> Result<Val> {
        let ids: Vec<TensorId> = parts
            .iter()
            .map(|(id, q_in)| {
                if same(q_in, &q) {
                    *id
                } else {
                    match self.tabulate(node, *id, Function::Identity, *q_in, q) {
                        Val::Int { id, .. } => id,
                        _ => unreachable!("tabulate gives an integer tensor"),
                    }
                }
            })
            .collect();
        let id = self.concatenate(node, &ids, axis, Some(q))?;
        Ok(Val::Int { id, q: Some(q) })
    }

    /// The `axis` attribute of `node` (required), normalized against the rank of `first`.
    fn concat_axis(&self, node: &NodeProto, first: TensorId) -> Result<usize> {
        let rank = self.shape(first).len();
        let axis = attr_i(node, "axis", i64::MAX);
        let norm = if axis < 0 { axis + rank as i64 } else { axis };
        if !(0..rank as i64).contains(&norm) {
            return Err(unsupported(node, "axis", axis));
        }
        Ok(norm as usize)
    }

    /// The tensors `ids` concatenated along `axis`: one gather node.
    fn concatenate(
        &mut self,
        node: &NodeProto,
        ids: &[TensorId],
        axis: usize,
        q: Option<Affine>,
    ) -> Result<TensorId> {
        let shapes: Vec<Vec<usize>> = ids.iter().map(|id| self.shape(*id)).collect();
        let first = &shapes[0];
        for s in &shapes {
            let other_dims_agree =
                s.len() == first.len() && (0..s.len()).all(|d| d == axis || s[d] == first[d]);
            if !other_dims_agree {
                return Err(malformed(format!(
                    "node `{}` concatenates shapes {shapes:?} along axis {axis}",
                    node_name(node)
                )));
            }
        }
        let outer: usize = first[..axis].iter().product();
        let inner: usize = first[axis + 1..].iter().product();
        let mut items = Vec::new();
        for o in 0..outer {
            for (k, s) in shapes.iter().enumerate() {
                let run = s[axis] * inner;
                items.extend((o * run..(o + 1) * run).map(|index| Cand::Elem {
                    input: k as u32,
                    index: index as u32,
                }));
            }
        }
        let mut shape = first.clone();
        shape[axis] = shapes.iter().map(|s| s[axis]).sum();
        Ok(self.emit(node, Op::Gather(Gather { items }), ids.to_vec(), shape, q))
    }
}
