//! Reshape, Flatten, Identity: the same cells under a new shape. Costs no rows.

use super::{Elements, OpImpl};
use crate::chip::{Ctx, Wire};
use crate::error::Result;
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// Reinterprets the input under the node's output shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reshape {}

impl OpImpl for Reshape {
    fn bound(&self, inputs: &[f64]) -> f64 {
        inputs[0]
    }

    fn bounds_input(&self, elements: Elements, output_checked: Option<u32>) -> Option<u32> {
        // The same cells.
        output_checked.and_then(|b| elements.elementwise(b))
    }

    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        let x = inputs[0];
        if x.len() != out_shape.iter().product::<usize>() {
            return Err(crate::CircuitError::MalformedGraph {
                node: node.into(),
                reason: format!("cannot reshape {:?} to {out_shape:?}", x.shape),
            });
        }
        Ok(Tensor::new(out_shape.to_vec(), x.data.clone()))
    }

    fn assign(&self, _ctx: &mut Ctx, inputs: &[&[Wire]], _out: &Tensor) -> Vec<Wire> {
        inputs[0].to_vec()
    }
}
