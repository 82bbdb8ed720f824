//! `y = max(x, 0)`, proven by the max gadget over `{x, 0}`: `y − x` and `y` are
//! range-checked non-negative and `(y − x)·y = 0`. Two rows per element.

use super::{check_range, Elements, OpImpl};
use crate::chip::{Ctx, Wire, RANGE_BITS};
use crate::error::Result;
use crate::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// Rectified linear unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relu {}

impl OpImpl for Relu {
    fn bound(&self, inputs: &[f64]) -> f64 {
        inputs[0]
    }

    fn bounds_input(&self, elements: Elements, _output_checked: Option<u32>) -> Option<u32> {
        // `y ∈ [0, 2^24)` and `y − x ∈ [0, 2^24)`: `x ∈ (-2^24, 2^24)`.
        elements.elementwise(RANGE_BITS)
    }

    fn eval(&self, node: &str, inputs: &[&Tensor], out_shape: &[usize]) -> Result<Tensor> {
        let bound = (1i128 << RANGE_BITS) - 1;
        check_range(node, inputs[0], -bound, bound)?;
        let data = inputs[0].data.iter().map(|x| (*x).max(0)).collect();
        Ok(Tensor::new(out_shape.to_vec(), data))
    }

    fn assign(&self, ctx: &mut Ctx, inputs: &[&[Wire]], out: &Tensor) -> Vec<Wire> {
        let zero = ctx.zero();
        inputs[0]
            .iter()
            .zip(&out.data)
            .map(|(x, y)| ctx.max(&[x, &zero], *y, false))
            .collect()
    }
}
