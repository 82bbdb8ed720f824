//! Elementwise weighted sum of two tensors: `y[i] = a·x[l[i]] + b·u[r[i]]`.
//!
//! Broadcasting and scale alignment are resolved by the importer into the index maps and the
//! integer multipliers `a`, `b`. One linear row per element.

use super::{check_indices, checked_sum, OpImpl};
use crate::chip::{Ctx, Wire};
use crate::error::Result;
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// `y[i] = lhs_mul·x[lhs[i]] + rhs_mul·u[rhs[i]]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Add {
    /// Multiplier of the left operand.
    pub lhs_mul: i64,
    /// Multiplier of the right operand.
    pub rhs_mul: i64,
    /// For each output element, the flat index into the left operand.
    pub lhs: Vec<u32>,
    /// For each output element, the flat index into the right operand.
    pub rhs: Vec<u32>,
}

impl OpImpl for Add {
    fn bound(&self, inputs: &[f64]) -> f64 {
        (self.lhs_mul as f64).abs() * inputs[0] + (self.rhs_mul as f64).abs() * inputs[1]
    }

    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        let (x, u) = (inputs[0], inputs[1]);
        check_indices(node, "lhs", &self.lhs, x.len())?;
        check_indices(node, "rhs", &self.rhs, u.len())?;
        let (a, b) = (i128::from(self.lhs_mul), i128::from(self.rhs_mul));
        let data = self
            .lhs
            .iter()
            .zip(&self.rhs)
            .enumerate()
            .map(|(o, (l, r))| {
                let terms = [(a, x.data[*l as usize]), (b, u.data[*r as usize])];
                checked_sum(node, o, 0, terms)
            })
            .collect::<Result<_>>()?;
        Ok(Tensor::new(out_shape.to_vec(), data))
    }

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], _out: &Tensor) -> Vec<Wire> {
        let (a, b) = (i128::from(self.lhs_mul), i128::from(self.rhs_mul));
        self.lhs
            .iter()
            .zip(&self.rhs)
            .map(|(l, r)| {
                ctx.dot(
                    0,
                    &[(&inputs[0][*l as usize], a), (&inputs[1][*r as usize], b)],
                )
            })
            .collect()
    }
}
