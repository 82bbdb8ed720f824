//! Elementwise product of two tensors: `y[i] = x[l[i]]·u[r[i]]`, one mul-gate row each.
//! The product carries the sum of the operands' scales; the importer rescales after it.

use super::{check_indices, checked_sum, OpImpl};
use crate::chip::{Ctx, Wire};
use crate::error::Result;
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// `y[i] = x[lhs[i]]·u[rhs[i]]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mul {
    /// For each output element, the flat index into the left operand.
    pub lhs: Vec<u32>,
    /// For each output element, the flat index into the right operand.
    pub rhs: Vec<u32>,
}

impl OpImpl for Mul {
    fn bound(&self, inputs: &[f64]) -> f64 {
        inputs[0] * inputs[1]
    }

    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        let (x, u) = (inputs[0], inputs[1]);
        check_indices(node, "lhs", &self.lhs, x.len())?;
        check_indices(node, "rhs", &self.rhs, u.len())?;
        let data = self
            .lhs
            .iter()
            .zip(&self.rhs)
            .enumerate()
            .map(|(o, (l, r))| {
                checked_sum(node, o, 0, [(x.data[*l as usize], u.data[*r as usize])])
            })
            .collect::<Result<_>>()?;
        Ok(Tensor::new(out_shape.to_vec(), data))
    }

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], _out: &Tensor) -> Vec<Wire> {
        self.lhs
            .iter()
            .zip(&self.rhs)
            .map(|(l, r)| ctx.mul(&inputs[0][*l as usize], &inputs[1][*r as usize]))
            .collect()
    }
}
