//! Inner products of two computed tensors: `y[o] = Σ_k x[l[o,k]]·u[r[o,k]]` (MatMul and
//! EinSum with no constant operand, as attention's `Q·Kᵀ` and `softmax(·)·V`). Two products
//! per row on the linear gate's pair term (`Ctx::bilinear`; a missing pair is a copy of zero);
//! the output carries both operands' scales.

use super::{check_indices, check_outputs, checked_sum, OpImpl};
use crate::chip::{Ctx, Wire};
use crate::error::Result;
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// `y[o] = Σ_{(l, r) ∈ rows[o]} x[l]·u[r]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bilinear {
    /// For each output element, its `(left index, right index)` pairs.
    pub rows: Vec<Vec<(u32, u32)>>,
}

impl OpImpl for Bilinear {
    fn bound(&self, inputs: &[f64]) -> f64 {
        let terms = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        terms as f64 * inputs[0] * inputs[1]
    }

    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        let (x, u) = (inputs[0], inputs[1]);
        check_outputs(node, self.rows.len(), out_shape)?;
        let mut data = Vec::with_capacity(self.rows.len());
        for (o, row) in self.rows.iter().enumerate() {
            let (l, r): (Vec<u32>, Vec<u32>) = row.iter().copied().unzip();
            check_indices(node, "lhs", &l, x.len())?;
            check_indices(node, "rhs", &r, u.len())?;
            let terms = row
                .iter()
                .map(|(a, b)| (x.data[*a as usize], u.data[*b as usize]));
            data.push(checked_sum(node, o, 0, terms)?);
        }
        Ok(Tensor::new(out_shape.to_vec(), data))
    }

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], _out: &Tensor) -> Vec<Wire> {
        self.rows
            .iter()
            .map(|row| {
                let pairs: Vec<(&Wire, &Wire)> = row
                    .iter()
                    .map(|(a, b)| (&inputs[0][*a as usize], &inputs[1][*b as usize]))
                    .collect();
                ctx.bilinear(&pairs)
            })
            .collect()
    }
}
