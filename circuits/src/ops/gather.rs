//! Data movement: Transpose, Slice, Concat, Gather with constant indices, Expand, constant
//! Pad. Each output element is an input cell or a constant cell; no rows (a constant costs
//! one row per distinct value, shared by the whole circuit).

use super::{check_outputs, moved_bound, Cand, OpImpl};
use crate::chip::{Ctx, Wire};
use crate::error::Result;
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// `y[o] = items[o]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gather {
    /// Source of each output element.
    pub items: Vec<Cand>,
}

impl OpImpl for Gather {
    fn bound(&self, inputs: &[f64]) -> f64 {
        moved_bound(inputs, &self.items)
    }

    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        check_outputs(node, self.items.len(), out_shape)?;
        let data = self
            .items
            .iter()
            .map(|c| c.value(node, inputs))
            .collect::<Result<_>>()?;
        Ok(Tensor::new(out_shape.to_vec(), data))
    }

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], _out: &Tensor) -> Vec<Wire> {
        self.items.iter().map(|c| c.wire(ctx, inputs)).collect()
    }
}
